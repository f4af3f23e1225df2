//! `kvm`-brand VMs through `lumen vmadm`: a zone whose init is the VMM.
//! Lifecycle (create boots, stop, start, reboot, delete), `info`,
//! `console`, `exitstat`, and D seeing the VM as its zone (`zonename` on
//! the kernel's `kvm` probes, `zoneid` equal to the `vmm` probes' VM id).
//! The guest is the in-repo `idle` payload (a real kernel cannot boot on
//! this CI's nested KVM).

mod common;

use common::{kvm, text, LUMEN};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn vmadm(root: &Path, args: &[&str]) -> Output {
    let args: Vec<&str> = std::iter::once("vmadm")
        .chain(args.iter().copied())
        .collect();
    common::lumen_in(root, &args, "")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Wait up to 10 s for `file` to contain `what`.
fn wait_for(file: &Path, what: &str) -> String {
    let start = Instant::now();
    loop {
        let s = std::fs::read_to_string(file).unwrap_or_default();
        if s.contains(what) || start.elapsed() > Duration::from_secs(10) {
            return s;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A VM zone for one test, deleted (forcibly) when dropped.
struct TestVm {
    root: tempfile::TempDir,
    uuid: String,
}

impl TestVm {
    fn create(boot_args: &str) -> TestVm {
        let root = tempfile::tempdir().unwrap();
        let payload = root.path().join("idle.bin");
        std::fs::write(&payload, hypervisor::guests::IDLE).unwrap();
        let manifest = root.path().join("vm.json");
        std::fs::write(
            &manifest,
            format!(
                r#"{{"brand": "kvm", "alias": "idle0", "ram": 32, "vcpus": 1, "payload": "{}",
                    "boot_args": "{boot_args}", "disks": [{{"size": 1}}],
                    "nics": [{{"mac": "02:4c:00:00:aa:01"}}]}}"#,
                payload.display()
            ),
        )
        .unwrap();
        let out = vmadm(root.path(), &["create", "-f", manifest.to_str().unwrap()]);
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let uuid = stderr
            .trim()
            .strip_prefix("Successfully created VM ")
            .unwrap_or_else(|| panic!("{stderr}"))
            .to_owned();
        TestVm { root, uuid }
    }

    fn vmadm(&self, args: &[&str]) -> Output {
        vmadm(self.root.path(), args)
    }

    fn console_log(&self) -> std::path::PathBuf {
        self.root
            .path()
            .join("zones")
            .join(&self.uuid)
            .join("vm/console.log")
    }
}

impl Drop for TestVm {
    fn drop(&mut self) {
        let _ = self.vmadm(&["stop", "-F", &self.uuid]);
        let _ = self.vmadm(&["delete", &self.uuid]);
    }
}

#[test]
fn a_kvm_vm_lives_through_vmadm() {
    if !kvm("a_kvm_vm_lives_through_vmadm") {
        return;
    }
    let vm = TestVm::create("every=20000");
    let u = vm.uuid.as_str();
    let list = ok(vm.vmadm(&["list", "-H", "-o", "uuid,type,ram,vcpus,state,alias"]));
    let row: Vec<&str> = list.split_whitespace().collect();
    assert_eq!(row, [u, "KVM", "32", "1", "running", "idle0"]);
    assert!(wait_for(&vm.console_log(), "idle: up").contains("idle: up"));

    let info: serde_json::Value = serde_json::from_str(&ok(vm.vmadm(&["info", u]))).unwrap();
    assert_eq!(info["vcpus"], 1);
    assert_eq!(info["vcpu_threads"].as_array().map(Vec::len), Some(1));
    assert_eq!(info["disks"][0]["device"], "virtio-blk0");
    // Each virtio device's counters, which the VMM keeps in its directory:
    // the idle guest has not touched its devices.
    let metrics = info["metrics"].as_array().expect("metrics");
    let devices: Vec<_> = metrics.iter().map(|d| d["device"].as_str()).collect();
    assert_eq!(
        devices,
        [Some("virtio-blk0"), Some("virtio-net0")],
        "{info}"
    );
    assert_eq!(metrics[0]["reads"], 0, "{info}");
    assert_eq!(metrics[1]["notifies"], 0, "{info}");
    let pid = info["vmm_pid"].as_u64().expect("vmm_pid");
    // The VMM runs in the zone: its init command (pid 2 under zsched), in
    // its own pid namespace, as the zone's root, which the host sees as
    // an unprivileged id, holding only CAP_NET_ADMIN (for its tap).
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    assert!(field("NSpid:").ends_with("\t2"), "{status}");
    let uid: u32 = field("Uid:")
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(uid >= 65536, "{status}");
    assert_eq!(
        field("CapEff:"), // CAP_NET_ADMIN is capability 12.
        format!("{:016x}", 1u64 << 12),
        "{status}"
    );
    assert_eq!(field("NoNewPrivs:"), "1", "{status}");
    assert_eq!(field("Seccomp:"), "2", "{status}");

    // The NIC is a tap the VMM made in the VM's zone (its own network
    // namespace), which zlogin sees.
    let out = Command::new(LUMEN)
        .env("LUMEN_ROOT", vm.root.path())
        .args(["zlogin", u, "ip -d -o link show net0"])
        .output()
        .unwrap();
    let link = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        link.contains("net0:") && link.contains("tun type tap"),
        "{link}"
    );

    // The sized disk was made for the VM, and get shows the VM's fields.
    let got: serde_json::Value = serde_json::from_str(&ok(vm.vmadm(&["get", u]))).unwrap();
    assert_eq!(
        (got["brand"].as_str(), got["ram"].as_u64()),
        (Some("kvm"), Some(32))
    );
    assert_eq!(got["max_physical_memory"], 32 + 256);

    // A running VM's RAM changes at its next boot, and vmadm says so.
    let out = vm.vmadm(&["update", u, "ram=48"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!(
            "vmadm: VM {u} runs with its old ram until it next boots"
        )),
        "{}",
        text(&out.stderr)
    );

    ok(vm.vmadm(&["stop", u]));
    assert!(ok(vm.vmadm(&["list", "-H", "-o", "state"])).contains("stopped"));
    assert!(
        vm.vmadm(&["info", u]).status.success(),
        "info of a stopped VM"
    );
    ok(vm.vmadm(&["start", u]));
    ok(vm.vmadm(&["reboot", u]));
    assert!(ok(vm.vmadm(&["list", "-H", "-o", "state"])).contains("running"));
    let info: serde_json::Value = serde_json::from_str(&ok(vm.vmadm(&["info", u]))).unwrap();
    assert_eq!(info["ram"], 48, "the new RAM after the reboot");
    let got: serde_json::Value = serde_json::from_str(&ok(vm.vmadm(&["get", u]))).unwrap();
    assert_eq!(
        got["max_physical_memory"],
        48 + 256,
        "the memory cap follows the RAM"
    );
    ok(vm.vmadm(&["stop", u]));
    ok(vm.vmadm(&["delete", u]));
    assert_eq!(ok(vm.vmadm(&["list", "-H"])), "");
    let left: Vec<_> = ["cpu", "memory", "pids", "unified"]
        .iter()
        .filter(|c| Path::new(&format!("/sys/fs/cgroup/{c}/lumen/{u}")).exists())
        .collect();
    assert!(left.is_empty(), "cgroups left: {left:?}");
}

#[test]
fn exitstat_and_d_see_the_vm_as_its_zone() {
    if !kvm("exitstat_and_d_see_the_vm_as_its_zone") {
        return;
    }
    let vm = TestVm::create("every=5000");
    let u = vm.uuid.as_str();
    wait_for(&vm.console_log(), "idle: up");

    // perf kvm stat's table, twice, one second apart.
    let out = ok(vm.vmadm(&["exitstat", u, "1", "2"]));
    assert_eq!(
        out.matches("Analyze events for pid(s) ").count(),
        2,
        "{out}"
    );
    let io = out
        .lines()
        .find(|l| l.trim_start().starts_with("IO "))
        .unwrap_or_else(|| panic!("no IO row: {out}"));
    assert!(io.contains("100.00%"), "only port I/O exits: {io}");
    assert!(out.contains("Total Samples:"), "{out}");

    // The kernel's view, by zone: the guest's POST-port writes.
    let script = format!(
        "kvm:::pio /zonename == \"{u}\" && args[1] == 0x80/ {{ @[zonename] = count(); }} tick-1s {{ exit(0); }}"
    );
    let out = Command::new(LUMEN)
        .args(["dtrace", "-q", "-n", &script])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.trim_start().starts_with(u), "{stdout}");

    // The VMM's probes carry the zone's id as the VM id.
    let info: serde_json::Value = serde_json::from_str(&ok(vm.vmadm(&["info", u]))).unwrap();
    let pid = info["vmm_pid"].as_u64().unwrap().to_string();
    let out = Command::new(LUMEN)
        .args([
            "dtrace",
            "-q",
            "-p",
            &pid,
            "-n",
            "vmm$target:::pio { printf(\"%d %d %s\\n\", arg0, zoneid, zonename); exit(0); }",
        ])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    let words: Vec<&str> = stdout.split_whitespace().collect();
    assert_eq!(words.len(), 3, "{stdout}{}", text(&out.stderr));
    assert_eq!(words[0], words[1], "vm id is the zone id");
    assert_eq!(words[2], u);
}

#[test]
fn the_console_attaches_to_a_running_vm() {
    if !kvm("the_console_attaches_to_a_running_vm") {
        return;
    }
    let vm = TestVm::create("every=5000 talk=1");
    let u = vm.uuid.as_str();
    wait_for(&vm.console_log(), "idle: up");
    // Input from a pipe: no escape key, so the session lasts until killed.
    let out = Command::new("timeout")
        .args(["3", LUMEN, "vmadm", "console", u])
        .env("LUMEN_ROOT", vm.root.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("idle: tick"),
        "{stdout}{}",
        text(&out.stderr)
    );
    // An OS zone has no console to attach to.
    let out = vm.vmadm(&["console", "00000000-0000-4000-8000-000000000000"]);
    assert!(!out.status.success());
}
