//! The VMM end to end with the in-repo test guests (`hypervisor::guests`):
//! each guest runs to a clean exit, and what it does is seen exactly
//! through `lumen dtrace` on the `vmm` probes (and on the kernel's `kvm`
//! probes); disks are checked byte for byte, frames cross a real tap, and
//! guest faults or garbage in device registers give errors, not panics.

mod common;

use common::{kvm, text, LUMEN};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Write guest `name` to `dir`; its path.
fn guest(dir: &Path, name: &str) -> PathBuf {
    let bytes = hypervisor::guests::by_name(name).unwrap_or_else(|| panic!("no test guest {name}"));
    let path = dir.join(format!("{name}.bin"));
    std::fs::write(&path, bytes).expect("write guest");
    path
}

/// `lumen vmm --payload GUEST ARGS`.
fn vmm(image: &Path, args: &[&str]) -> Output {
    Command::new(LUMEN)
        .arg("vmm")
        .arg("--payload")
        .arg(image)
        .args(args)
        .output()
        .expect("run lumen vmm")
}

/// `lumen dtrace -q -n SCRIPT -c 'lumen vmm --payload GUEST ARGS'`.
fn traced(script: &str, image: &Path, args: &str) -> Output {
    let cmd = format!("{LUMEN} vmm --payload {} {args}", image.display());
    Command::new(LUMEN)
        .args(["dtrace", "-q", "-n", script, "-c", &cmd])
        .output()
        .expect("run lumen dtrace")
}

/// The aggregation lines of dtrace's output, blanks squeezed.
fn rows(out: &Output) -> Vec<String> {
    text(&out.stdout)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn hello_prints_on_the_serial_console_and_exits_zero() {
    if !kvm("hello_prints_on_the_serial_console_and_exits_zero") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = vmm(&guest(dir.path(), "hello"), &[]);
    assert_eq!(text(&out.stdout), "hello from lumen guest\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn a_thousand_outs_are_a_thousand_pio_exits() {
    if !kvm("a_thousand_outs_are_a_thousand_pio_exits") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let image = guest(dir.path(), "pio_loop");
    let script = "vmm$target:::pio /arg2 == 0x80/ { @post[arg4] = count(); } \
                  vmm$target:::exit-entry { @reason[arg2] = count(); } \
                  vmm$target:::exit-return { @back[arg2] = count(); } \
                  kvm:::pio /pid == $target && args[1] == 0x80/ { @kernel = count(); }";
    let out = traced(script, &image, "--boot-args count=1000");
    assert!(out.status.success(), "{}", text(&out.stderr));
    // 1000 writes to port 0x80; IO exits: those and the exit port's; every
    // exit-entry has its exit-return; the kernel saw the same 1000.
    assert_eq!(
        rows(&out),
        ["1 1000", "2 1001", "2 1001", "1000"],
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn mmio_reads_and_writes_are_counted_apart() {
    if !kvm("mmio_reads_and_writes_are_counted_apart") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let image = guest(dir.path(), "mmio_loop");
    let script = "vmm$target:::mmio /arg2 == 0xc0000000/ { @[arg4 ? \"write\" : \"read\", arg3] = count(); }";
    let out = traced(script, &image, "--boot-args count=100");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(rows(&out), ["read 4 100", "write 4 100"]);
}

#[test]
fn hlt_with_interrupts_off_stops_the_vm_cleanly() {
    if !kvm("hlt_with_interrupts_off_stops_the_vm_cleanly") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let image = guest(dir.path(), "hlt");
    let out = traced("vmm$target:::exit-entry { @[arg2] = count(); }", &image, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(rows(&out), ["5 1"], "one HLT exit and nothing else");
}

/// The disk the block guest expects: sector 0 holds byte i = i & 0xff.
fn disk(dir: &Path) -> PathBuf {
    let path = dir.join("disk.img");
    let mut bytes = vec![0u8; 1 << 20];
    for (i, b) in bytes.iter_mut().take(512).enumerate() {
        *b = i as u8;
    }
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn virtio_blk_reads_and_writes_byte_for_byte() {
    if !kvm("virtio_blk_reads_and_writes_byte_for_byte") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let image = guest(dir.path(), "blk");
    let disk = disk(dir.path());
    let metrics = dir.path().join("metrics.json");
    let script = "vmm$target:::blk-start { @n[arg4 ? \"write\" : \"read\"] = count(); @b[arg4 ? \"write\" : \"read\"] = sum(arg3); } \
                  vmm$target:::blk-done /arg4 != 0/ { @err = count(); } \
                  vmm$target:::blk-done /arg3 == 1024 && arg5 > 0/ { @timed[\"1024\"] = count(); } \
                  vmm$target:::virtio-notify { @notify[arg1, arg2] = count(); }";
    let out = traced(
        script,
        &image,
        &format!(
            "--disk {} --boot-args sector0=check --metrics {}",
            disk.display(),
            metrics.display()
        ),
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    // The guest printed sector 0's first bytes as it read them.
    assert!(
        stdout.contains("00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f"),
        "{stdout}"
    );
    let written = std::fs::read(&disk).unwrap();
    for sector in 1..3usize {
        for i in 0..512usize {
            assert_eq!(
                written[sector * 512 + i],
                ((i * 7 + sector) & 0xff) as u8,
                "byte {i} of sector {sector}"
            );
        }
    }
    assert!(
        written[3 * 512..].iter().all(|&b| b == 0),
        "nothing written past sector 2"
    );
    let rows = rows(&out);
    // Two reads (sector 0, then 1-2 back: 1536 bytes), one write of 1024,
    // no errors; a notify of queue 0 of device 0 per request (4 with the flush).
    // Both 1024-byte requests (write, read back) came with their latency.
    for want in [
        "read 2",
        "write 1",
        "read 1536",
        "write 1024",
        "0 0 4",
        "1024 2",
    ] {
        assert!(
            rows.iter().any(|r| r == want),
            "missing {want:?} in {rows:?}"
        );
    }
    // The device's counters, written at the VM's end, say the same.
    let counters: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
    let blk = &counters[0];
    assert_eq!(blk["device"], "virtio-blk0", "{counters}");
    for (name, want) in [
        ("notifies", 4),
        ("reads", 2),
        ("read_bytes", 1536),
        ("writes", 1),
        ("write_bytes", 1024),
        ("flushes", 1),
        ("io_errors", 0),
        ("bad_chains", 0),
        ("guest_errors", 0),
    ] {
        assert_eq!(blk[name], want, "{name} in {counters}");
    }
}

#[test]
fn a_guest_fault_is_a_clear_error() {
    if !kvm("a_guest_fault_is_a_clear_error") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = vmm(&guest(dir.path(), "fault"), &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("guest fault on vCPU 0: triple fault"),
        "{stderr}"
    );
    assert!(stderr.contains(" at rip 0x"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn garbage_in_device_registers_is_reported_and_survived() {
    if !kvm("garbage_in_device_registers_is_reported_and_survived") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let image = guest(dir.path(), "garbage");
    let disk = disk(dir.path());
    for args in ["", "ring=bad"] {
        let out = vmm(
            &image,
            &["--disk", disk.to_str().unwrap(), "--boot-args", args],
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            stderr.contains("lumen vmm: virtio-blk0: "),
            "{args}: {stderr}"
        );
    }
}

/// A tap interface for one test, removed when dropped.
struct TapIf(String);

impl TapIf {
    fn new(name: &str) -> TapIf {
        let _ = Command::new("ip").args(["link", "del", name]).output();
        let ok = |args: &[&str]| {
            let out = Command::new("ip").args(args).output().expect("ip");
            assert!(out.status.success(), "ip {args:?}: {}", text(&out.stderr));
        };
        ok(&["tuntap", "add", "dev", name, "mode", "tap"]);
        // No IPv6 chatter (router solicitations) on the test's wire.
        let _ = std::fs::write(format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6"), "1");
        ok(&["link", "set", name, "up"]);
        TapIf(name.to_owned())
    }
}

impl Drop for TapIf {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.0]).output();
    }
}

/// A raw packet socket on interface `name` for ethertype 0x88b5.
struct PacketSocket {
    fd: i32,
    ifindex: i32,
}

const ETHERTYPE: u16 = 0x88b5;

impl PacketSocket {
    fn open(name: &str) -> PacketSocket {
        let cname = std::ffi::CString::new(name).unwrap();
        // SAFETY: plain socket calls on values owned here.
        unsafe {
            let ifindex = libc::if_nametoindex(cname.as_ptr()) as i32;
            assert!(ifindex > 0, "no interface {name}");
            let fd = libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW,
                i32::from(ETHERTYPE.to_be()),
            );
            assert!(
                fd >= 0,
                "packet socket: {}",
                std::io::Error::last_os_error()
            );
            let mut sll: libc::sockaddr_ll = std::mem::zeroed();
            sll.sll_family = libc::AF_PACKET as u16;
            sll.sll_protocol = ETHERTYPE.to_be();
            sll.sll_ifindex = ifindex;
            let rc = libc::bind(
                fd,
                &sll as *const _ as *const libc::sockaddr,
                std::mem::size_of_val(&sll) as u32,
            );
            assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
            let tv = libc::timeval {
                tv_sec: 20,
                tv_usec: 0,
            };
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                &tv as *const _ as *const libc::c_void,
                std::mem::size_of_val(&tv) as u32,
            );
            PacketSocket { fd, ifindex }
        }
    }

    /// The next frame received on the interface (not ones we sent).
    fn recv(&self) -> Vec<u8> {
        loop {
            let mut buf = vec![0u8; 2048];
            // SAFETY: sockaddr_ll is plain data filled by recvfrom.
            let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            let mut len = std::mem::size_of_val(&from) as u32;
            // SAFETY: buffers live across the call.
            let n = unsafe {
                libc::recvfrom(
                    self.fd,
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    0,
                    &mut from as *mut _ as *mut libc::sockaddr,
                    &mut len,
                )
            };
            assert!(
                n >= 0,
                "no frame from the guest: {}",
                std::io::Error::last_os_error()
            );
            if from.sll_pkttype == libc::PACKET_OUTGOING {
                continue;
            }
            buf.truncate(n as usize);
            return buf;
        }
    }

    fn send(&self, frame: &[u8]) {
        // SAFETY: as in open; the frame outlives the call.
        unsafe {
            let mut sll: libc::sockaddr_ll = std::mem::zeroed();
            sll.sll_family = libc::AF_PACKET as u16;
            sll.sll_protocol = ETHERTYPE.to_be();
            sll.sll_ifindex = self.ifindex;
            sll.sll_halen = 6;
            sll.sll_addr[..6].copy_from_slice(&frame[..6]);
            let n = libc::sendto(
                self.fd,
                frame.as_ptr() as *const libc::c_void,
                frame.len(),
                0,
                &sll as *const _ as *const libc::sockaddr,
                std::mem::size_of_val(&sll) as u32,
            );
            assert_eq!(
                n,
                frame.len() as isize,
                "send: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

impl Drop for PacketSocket {
    fn drop(&mut self) {
        // SAFETY: our own descriptor, closed once.
        unsafe { libc::close(self.fd) };
    }
}

#[test]
fn virtio_net_frames_cross_a_tap_both_ways() {
    if !kvm("virtio_net_frames_cross_a_tap_both_ways") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let image = guest(dir.path(), "net");
    let tap = TapIf::new("lmtest0");
    let socket = PacketSocket::open(&tap.0);
    let script = "vmm$target:::net-tx, vmm$target:::net-rx { @[probename, arg2] = count(); }";
    let cmd = format!(
        "{LUMEN} vmm --payload {} --tap {},mac=02:4c:00:00:00:01 --boot-args wait=3000000",
        image.display(),
        tap.0
    );
    let child = Command::new(LUMEN)
        .args(["dtrace", "-q", "-n", script, "-c", &cmd])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run lumen dtrace");
    let ping = socket.recv();
    assert_eq!(&ping[..6], &[0xff; 6], "broadcast");
    assert_eq!(&ping[6..12], &[0x02, 0x4c, 0, 0, 0, 1], "the guest's MAC");
    assert_eq!(&ping[12..14], &ETHERTYPE.to_be_bytes());
    assert!(ping[14..].starts_with(b"lumen-ping"), "{ping:?}");
    let mut pong = vec![0x02, 0x4c, 0, 0, 0, 1, 0x02, 0x4c, 0, 0, 0, 0x99];
    pong.extend_from_slice(&ETHERTYPE.to_be_bytes());
    pong.extend_from_slice(b"lumen-pong");
    pong.resize(60, 0);
    socket.send(&pong);
    let out = child.wait_with_output().expect("wait");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("net: rx ok"), "{stdout}");
    let rows = rows(&out);
    assert!(rows.iter().any(|r| r == "net-tx 60 1"), "{rows:?}");
    assert!(rows.iter().any(|r| r == "net-rx 60 1"), "{rows:?}");
}

#[test]
fn the_vmexits_example_counts_exits_and_ports() {
    if !kvm("the_vmexits_example_counts_exits_and_ports") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let image = guest(dir.path(), "pio_loop");
    let cmd = format!(
        "{LUMEN} vmm --payload {} --boot-args count=300",
        image.display()
    );
    let out = Command::new(LUMEN)
        .current_dir(common::workspace())
        .args(["dtrace", "-s", "examples/vmexits.d", "-c", &cmd])
        .output()
        .expect("run lumen dtrace");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows = rows(&out);
    for want in ["IO 301", "0x80 out 300", "0xf4 out 1"] {
        assert!(
            rows.iter().any(|r| r == want),
            "missing {want:?} in {rows:?}"
        );
    }
}

#[test]
fn every_vcpu_runs_on_its_own_thread() {
    if !kvm("every_vcpu_runs_on_its_own_thread") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let image = guest(dir.path(), "hlt");
    // Payload vCPUs all start at the entry; each halts once, and the VM
    // ends when the last one has.
    let script = "vmm$target:::exit-entry { @[arg1, arg2, tid != pid] = count(); }";
    let out = traced(script, &image, "--vcpus 3");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(rows(&out), ["0 5 1 1", "1 5 1 1", "2 5 1 1"]);
}
