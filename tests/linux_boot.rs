//! A real Linux kernel under `lumen vmm`: Debian's cloud kernel boots a
//! busybox initramfs whose /init prints a marker on the serial console and
//! resets the VM.
//!
//! Needs Debian's linux-image-cloud-amd64, busybox-static and cpio, and a
//! CPU that advertises vmx or svm: the one reason this test may skip under
//! CI (see [`hardware_virtualization`]). Root and /dev/kvm are required
//! there too; outside CI, their absence skips (`common::kvm`).

mod common;

use common::{kvm, text, LUMEN};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What /init prints once the kernel has booted and run it. Nothing else
/// prints it: it is in no boot argument the kernel echoes.
const MARKER: &str = "lumen-linux-ok";

/// Far beyond a boot on hardware virtualization (seconds), so only a hang
/// reaches it.
const TIMEOUT: Duration = Duration::from_secs(120);

/// /init: mount devtmpfs (so /dev/console exists whatever the kernel's
/// built-in initramfs holds), print the marker there, and reset. Not
/// `poweroff -f`: with no ACPI tables the kernel cannot power off, turns
/// it into a halt with interrupts off, and the in-kernel irqchip keeps
/// that vCPU asleep for ever; a reset (through the i8042, `reboot=k`)
/// ends the VM.
const INIT: &str = "#!/bin/sh
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec >/dev/console 2>&1
echo lumen-linux-ok
/bin/busybox reboot -f
";

/// The serial console, the panic-means-reset that turns a failed boot
/// into an exit instead of a hang, and the i8042 reset for /init's reboot.
const BOOT_ARGS: &str = "console=ttyS0 reboot=k panic=-1";

/// Whether the CPU advertises hardware virtualization. Without it, KVM
/// here is nested on PVM, which emulates a stock kernel far too slowly to
/// boot it.
fn hardware_virtualization() -> bool {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").expect("read /proc/cpuinfo");
    cpuinfo
        .lines()
        .filter(|line| line.starts_with("flags"))
        .any(|line| {
            line.split_whitespace()
                .any(|flag| flag == "vmx" || flag == "svm")
        })
}

/// The newest /boot/vmlinuz-*-cloud-amd64.
fn cloud_kernel() -> PathBuf {
    let version = |path: &Path| -> Vec<u64> {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        name.split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect()
    };
    std::fs::read_dir("/boot")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("vmlinuz-") && name.ends_with("-cloud-amd64")
        })
        .max_by_key(|path| version(path))
        .expect(
            "linux_boot: no /boot/vmlinuz-*-cloud-amd64: install Debian's linux-image-cloud-amd64",
        )
}

/// Whether the ELF at `path` has no interpreter (it runs alone in an
/// initramfs with no libc).
fn statically_linked(path: &Path) -> bool {
    const PT_INTERP: u32 = 3;
    let elf = std::fs::read(path).unwrap_or_default();
    let field = |at: usize, len: usize| -> u64 {
        elf.get(at..at + len)
            .map(|b| {
                b.iter()
                    .rev()
                    .fold(0, |n, &byte| (n << 8) | u64::from(byte))
            })
            .unwrap_or(0)
    };
    if !elf.starts_with(b"\x7fELF") {
        return false;
    }
    let (phoff, phentsize, phnum) = (
        field(32, 8) as usize,
        field(54, 2) as usize,
        field(56, 2) as usize,
    );
    (0..phnum).all(|i| field(phoff + i * phentsize, 4) as u32 != PT_INTERP)
}

/// A newc initramfs in `dir`: busybox as /bin/busybox and /bin/sh, [`INIT`]
/// as /init, and the mount points it uses.
fn initramfs(dir: &Path) -> PathBuf {
    let busybox = Path::new("/bin/busybox");
    assert!(
        statically_linked(busybox),
        "linux_boot: /bin/busybox is missing or dynamically linked: install Debian's busybox-static"
    );
    let root = dir.join("root");
    for sub in ["bin", "dev", "proc", "sys"] {
        std::fs::create_dir_all(root.join(sub)).expect("initramfs dirs");
    }
    std::fs::copy(busybox, root.join("bin/busybox")).expect("copy busybox");
    std::os::unix::fs::symlink("busybox", root.join("bin/sh")).expect("bin/sh");
    let init = root.join("init");
    std::fs::write(&init, INIT).expect("write init");
    std::fs::set_permissions(&init, std::fs::Permissions::from_mode(0o755)).expect("chmod init");

    let archive = dir.join("initramfs.cpio");
    let mut cpio = Command::new("cpio")
        .args(["-o", "-H", "newc", "-R", "0:0", "--quiet"])
        .current_dir(&root)
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&archive).expect("create initramfs"))
        .spawn()
        .expect("linux_boot: run cpio (install Debian's cpio)");
    let names = ". bin bin/busybox bin/sh dev proc sys init".replace(' ', "\n");
    cpio.stdin
        .take()
        .expect("cpio stdin")
        .write_all(names.as_bytes())
        .expect("feed cpio");
    assert!(cpio.wait().expect("wait for cpio").success(), "cpio failed");
    archive
}

/// Wait for `child` until [`TIMEOUT`]; its status, or `None` after
/// killing it.
fn wait_or_kill(child: &mut Child) -> Option<ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < TIMEOUT {
        if let Some(status) = child.try_wait().expect("wait for lumen vmm") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn debian_cloud_kernel_runs_a_busybox_init() {
    if !hardware_virtualization() {
        eprintln!(
            "linux_boot: skipped: this CPU advertises neither vmx nor svm \
             (nested KVM on PVM emulates a stock kernel at ~1M instructions/s)"
        );
        return;
    }
    // Past here nothing may skip under CI=true: `kvm` fails the test there.
    if !kvm("linux_boot") {
        return;
    }
    let kernel = cloud_kernel();
    let dir = tempfile::tempdir().expect("temp dir");
    let initrd = initramfs(dir.path());

    let mut child = Command::new(LUMEN)
        .arg("vmm")
        .arg("--kernel")
        .arg(&kernel)
        .arg("--initrd")
        .arg(&initrd)
        .args(["--boot-args", BOOT_ARGS, "--ram", "256", "--vcpus", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run lumen vmm");
    // Drain both pipes while the VM runs: a kernel log fills a pipe.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let status = wait_or_kill(&mut child);
    let console = text(&stdout.join().expect("stdout reader"));
    let errors = text(&stderr.join().expect("stderr reader"));

    let tail: String = {
        let chars: Vec<char> = console.chars().collect();
        chars[chars.len().saturating_sub(4000)..].iter().collect()
    };
    let context = format!(
        "kernel {}\n--- console (last 4000 chars) ---\n{tail}\n--- stderr ---\n{errors}",
        kernel.display()
    );
    let Some(status) = status else {
        panic!("lumen vmm still running after {TIMEOUT:?}; killed\n{context}");
    };
    assert!(
        console.contains(MARKER),
        "no {MARKER:?} on the console ({status})\n{context}"
    );
    assert!(status.success(), "lumen vmm: {status}\n{context}");
}
