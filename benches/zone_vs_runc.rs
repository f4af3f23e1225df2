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
//!
//! Then what each of a zone's confinements costs, measured alone in this
//! process (median of 20): the user namespace (a clone into the zone's
//! namespaces with and without one, its id maps written and its root ids
//! taken), the seccomp policy (compiling it, and installing it with the
//! capability drop in a forked child against a bare fork), and the devices
//! allowlist (a devices cgroup with its rules, and the zone's own nodes).

use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use zones::clone::{clone_into, Cloned};

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
    components();
}

fn median_of(mut f: impl FnMut() -> Duration) -> Duration {
    median((0..20).map(|_| f()).collect())
}

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 writes two new fds into the array, owned below.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both fds were just created.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// A clone into a zone's namespaces until the child has exited: with a
/// user namespace, its maps are written and the child takes the zone's
/// root ids first, as a zone's init does.
fn clone_into_namespaces(user: bool) -> Duration {
    use nix::sched::CloneFlags;
    use std::io::{Read, Write};
    let mut flags = CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWNET;
    if user {
        flags |= CloneFlags::CLONE_NEWUSER;
    }
    let (sync_r, sync_w) = pipe();
    let t = Instant::now();
    // SAFETY: this bench is single-threaded here; the child only reads a
    // byte, sets its ids and exits.
    match unsafe { clone_into(flags, None, true) }.expect("clone3") {
        (Cloned::Child, _) => {
            if user {
                let mut b = [0u8; 1];
                let _ = std::fs::File::from(sync_r).read(&mut b);
                let _ = zones::supervisor::become_zone_root();
            }
            // SAFETY: leaving the child.
            unsafe { libc::_exit(0) }
        }
        (Cloned::Parent(pid), pidfd) => {
            if user {
                let ids = zones::ids::IdRange {
                    slot: zones::ids::SLOTS - 1,
                };
                ids.write_maps(pid.as_raw()).expect("maps");
                let _ = std::fs::File::from(sync_w).write_all(b"m");
            }
            pidfd.expect("pidfd").reap().expect("reap");
            t.elapsed()
        }
    }
}

/// A fork whose child takes up `privileges` (or nothing) and exits.
fn fork_entering(privileges: Option<&zones::privileges::Privileges>) -> Duration {
    let t = Instant::now();
    // SAFETY: this bench is single-threaded here; the child only installs
    // the policy and exits.
    match unsafe { clone_into(nix::sched::CloneFlags::empty(), None, true) }.expect("fork") {
        (Cloned::Child, _) => {
            let ok = privileges.is_none_or(|p| p.enter().is_ok());
            // SAFETY: leaving the child.
            unsafe { libc::_exit(i32::from(!ok)) }
        }
        (Cloned::Parent(_), pidfd) => {
            let status = pidfd.expect("pidfd").reap().expect("reap");
            assert_eq!(status.code(), 0, "taking up the privileges failed");
            t.elapsed()
        }
    }
}

/// The devices cgroup of a zone: made, denied everything, allowed its
/// devices; then removed (outside the timing).
fn devices_group(n: usize) -> Duration {
    use std::io::Write;
    let dir =
        Path::new("/sys/fs/cgroup/devices").join(format!("lumen-bench-{}-{n}", std::process::id()));
    let t = Instant::now();
    std::fs::create_dir(&dir).expect("devices group");
    std::fs::write(dir.join("devices.deny"), "a").expect("deny");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("devices.allow"))
        .expect("devices.allow");
    for d in zones::devices::allowed(false) {
        f.write_all(d.rule().as_bytes()).expect("allow");
    }
    let took = t.elapsed();
    drop(f);
    std::fs::remove_dir(&dir).expect("remove");
    took
}

/// The zone's own device nodes, made in a fresh directory.
fn device_nodes(base: &Path, n: usize) -> Duration {
    let dir = base.join(format!("dev-{n}"));
    std::fs::create_dir_all(&dir).expect("dir");
    let t = Instant::now();
    for d in zones::devices::allowed(false)
        .iter()
        .filter(|d| d.has_node())
    {
        let node =
            std::ffi::CString::new(dir.join(d.path).to_string_lossy().into_owned()).expect("path");
        // SAFETY: mknod of a path we own.
        assert_eq!(
            unsafe { libc::mknod(node.as_ptr(), libc::S_IFCHR | d.mode, d.dev_t()) },
            0
        );
        // SAFETY: chown of the node just made.
        unsafe { libc::chown(node.as_ptr(), 0x7000_0000, 0x7000_0000) };
    }
    t.elapsed()
}

fn components() {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("what each confinement costs (median of 20, in this process)");
    let plain = median_of(|| clone_into_namespaces(false));
    let user = median_of(|| clone_into_namespaces(true));
    println!(
        "  user namespace: clone into pid/mount/uts/ipc/net {:.3} ms, with a user namespace, maps and root ids {:.3} ms: +{:.3} ms",
        ms(plain),
        ms(user),
        ms(user.saturating_sub(plain))
    );
    let caps: caps::CapsHashSet = zones::privileges::DOCKER_DEFAULT.iter().copied().collect();
    let compile = median_of(|| {
        let t = Instant::now();
        let p = zones::privileges::Privileges::new(caps.clone()).expect("policy");
        let took = t.elapsed();
        drop(p);
        took
    });
    let privileges = zones::privileges::Privileges::new(caps.clone()).expect("policy");
    let bare = median_of(|| fork_entering(None));
    let entering = median_of(|| fork_entering(Some(&privileges)));
    let zsched = zones::privileges::Privileges::zsched().expect("zsched policy");
    let short = median_of(|| fork_entering(Some(&zsched)));
    println!(
        "  zsched's own 20-call filter instead: {:.3} ms: +{:.3} ms",
        ms(short),
        ms(short.saturating_sub(bare))
    );
    println!(
        "  seccomp and capabilities: compile {:.3} ms (before fork); fork+exit {:.3} ms, with the caps dropped and the filter installed {:.3} ms: +{:.3} ms",
        ms(compile),
        ms(bare),
        ms(entering),
        ms(entering.saturating_sub(bare))
    );
    let mut n = 0;
    let group = median_of(|| {
        n += 1;
        devices_group(n)
    });
    let base = std::env::temp_dir().join(format!("lumen-devnodes-{}", std::process::id()));
    let mut m = 0;
    let nodes = median_of(|| {
        m += 1;
        device_nodes(&base, m)
    });
    let _ = std::fs::remove_dir_all(&base);
    println!(
        "  devices: the cgroup and its {} rules {:.3} ms, the zone's {} nodes {:.3} ms",
        zones::devices::allowed(false).len(),
        ms(group),
        zones::devices::allowed(false)
            .iter()
            .filter(|d| d.has_node())
            .count(),
        ms(nodes)
    );
}
