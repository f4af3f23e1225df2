//! Zone boot against `runc run` (Debian's runc, a busybox bundle): time
//! from nothing to the container's first process running, interleaved
//! runs, printed with the ratio. `cargo bench --bench zone_vs_runc`, as
//! root, with `runc` and `busybox-static` installed.
//!
//! Lumen: `vmadm create` of a manifest with `"autoboot": true` (SmartOS's
//! default: create boots the zone, and returns once the zone's init has
//! exec'd, as `start` does), then `stop -F` and `delete` outside the
//! timing. The zone has runc's namespaces (pid, ipc, uts, mount, network,
//! cgroup) and more (a sparse root of the host's system directories,
//! private /etc, /dev, /tmp, /run), the same memory and pids limits, a cpu
//! group and a cgroup2 group.
//! runc: `runc run --detach` of a bundle (busybox as the rootfs's only
//! program, `sleep 100` as the process; it returns once the process has
//! started), then `runc delete -f` outside the timing.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 10;

fn run(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn bundle(dir: &Path) {
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).expect("rootfs");
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).expect("busybox-static");
    std::os::unix::fs::symlink("busybox", rootfs.join("bin/sleep")).expect("link");
    let spec = r#"{
  "ociVersion": "1.0.2",
  "process": {"terminal": false, "user": {"uid": 0, "gid": 0},
              "args": ["/bin/sleep", "100"], "env": ["PATH=/bin"], "cwd": "/"},
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "bench",
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
  "linux": {"namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"},
                           {"type": "mount"}, {"type": "network"}, {"type": "cgroup"}],
            "resources": {"memory": {"limit": 268435456}, "pids": {"limit": 100}}}
}"#;
    std::fs::write(dir.join("config.json"), spec).expect("config.json");
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let lumen = env!("CARGO_BIN_EXE_lumen");
    if Command::new("runc").arg("--version").output().is_err() {
        eprintln!("runc is not installed (apt-get install runc busybox-static)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("lumen-zone-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let root = dir.join("lumen-root");
    let runc_bundle = dir.join("bundle");
    bundle(&runc_bundle);
    let manifest = dir.join("zone.json");
    let mut lumen_times = Vec::new();
    let mut runc_times = Vec::new();
    for i in 0..RUNS {
        let uuid = format!("be000000-0000-4000-8000-{i:012}");
        std::fs::write(
            &manifest,
            format!(
                r#"{{"uuid": "{uuid}", "max_physical_memory": 256, "max_lwps": 100,
                    "autoboot": true, "init": ["/bin/sleep", "100"]}}"#
            ),
        )
        .expect("manifest");
        let t = Instant::now();
        let ok = run(Command::new(lumen)
            .env("LUMEN_ROOT", &root)
            .args(["vmadm", "create", "-f"])
            .arg(&manifest));
        let took = t.elapsed();
        assert!(ok, "lumen zone {uuid} did not boot");
        // Outside the timing: the zone did boot, not merely get created.
        let state = Command::new(lumen)
            .env("LUMEN_ROOT", &root)
            .args(["vmadm", "list", "-H", "-o", "uuid,state"])
            .output()
            .expect("vmadm list");
        assert!(
            String::from_utf8_lossy(&state.stdout).contains(&format!("{uuid}  running")),
            "zone {uuid} is not running after create"
        );
        lumen_times.push(took);
        run(Command::new(lumen)
            .env("LUMEN_ROOT", &root)
            .args(["vmadm", "stop", "-F", &uuid]));
        run(Command::new(lumen)
            .env("LUMEN_ROOT", &root)
            .args(["vmadm", "delete", &uuid]));

        let id = format!("lumen-bench-{i}");
        let t = Instant::now();
        let ok = run(Command::new("runc")
            .args(["run", "--detach", "--bundle"])
            .arg(&runc_bundle)
            .arg(&id));
        let took = t.elapsed();
        assert!(ok, "runc run {id} failed");
        runc_times.push(took);
        run(Command::new("runc").args(["delete", "-f", &id]));
    }
    let (l, r) = (median(lumen_times.clone()), median(runc_times.clone()));
    println!("zone create (autoboot) vs runc run --detach, {RUNS} interleaved runs each");
    println!(
        "  lumen ms: {:?}",
        lumen_times
            .iter()
            .map(|d| d.as_secs_f64() * 1e3)
            .map(|x| (x * 10.0).round() / 10.0)
            .collect::<Vec<_>>()
    );
    println!(
        "  runc  ms: {:?}",
        runc_times
            .iter()
            .map(|d| d.as_secs_f64() * 1e3)
            .map(|x| (x * 10.0).round() / 10.0)
            .collect::<Vec<_>>()
    );
    println!(
        "  median: lumen {:.1} ms, runc {:.1} ms, ratio {:.3}x (target <= 0.5x)",
        l.as_secs_f64() * 1e3,
        r.as_secs_f64() * 1e3,
        l.as_secs_f64() / r.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
