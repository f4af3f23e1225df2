//! Real zones from manifests: isolation, caps, lifecycle and zlogin, on a
//! registry in a temporary LUMEN_ROOT. Needs root, namespaces and the
//! cgroup v1 cpu, memory and pids controllers.

mod common;

use common::{root, text, LUMEN};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn lumen(root_dir: &Path, args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    let mut child = Command::new(LUMEN)
        .env("LUMEN_ROOT", root_dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run lumen");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().expect("wait");
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// A zone booted from a manifest, stopped and deleted on drop.
struct Zone<'a> {
    root: &'a Path,
    uuid: String,
}

impl<'a> Zone<'a> {
    fn boot(root: &'a Path, uuid: &str, extra: &str) -> Zone<'a> {
        let manifest = format!(
            r#"{{"uuid": "{uuid}", "alias": "z-{}", "hostname": "host-{}",
                "init": ["/bin/sh", "-c", "while true; do sleep 1; done"] {extra}}}"#,
            &uuid[..4],
            &uuid[..4]
        );
        let (code, _, err) = lumen(root, &["vmadm", "create"], &manifest);
        assert_eq!(code, Some(0), "{err}");
        let (code, _, err) = lumen(root, &["vmadm", "start", uuid], "");
        assert_eq!(code, Some(0), "{err}");
        Zone {
            root,
            uuid: uuid.to_string(),
        }
    }

    fn sh(&self, script: &str) -> (Option<i32>, String) {
        let (code, out, err) = lumen(self.root, &["zlogin", &self.uuid, script], "");
        (code, format!("{out}{err}"))
    }
}

impl Drop for Zone<'_> {
    fn drop(&mut self) {
        let _ = lumen(self.root, &["vmadm", "stop", "-F", &self.uuid], "");
        let _ = lumen(self.root, &["vmadm", "delete", &self.uuid], "");
    }
}

#[test]
fn two_zones_are_isolated_and_capped() {
    if !root("two_zones_are_isolated_and_capped") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let a = Zone::boot(
        dir.path(),
        "aaaaaaaa-0000-4000-8000-000000000001",
        r#", "max_physical_memory": 64, "max_lwps": 20, "cpu_cap": 20"#,
    );
    let b = Zone::boot(dir.path(), "bbbbbbbb-0000-4000-8000-000000000002", "");

    // Own hostname, own /etc, own /tmp.
    assert_eq!(a.sh("hostname").1, "host-aaaa\n");
    assert_eq!(b.sh("cat /etc/hostname").1, "host-bbbb\n");
    assert_eq!(
        a.sh("echo secret > /tmp/a-only; cat /tmp/a-only").1,
        "secret\n"
    );
    assert_eq!(
        b.sh("test -e /tmp/a-only && echo seen || echo unseen").1,
        "unseen\n"
    );
    // Only its own processes: init and its sleep, the shell and ls.
    let (_, pids) = a.sh("ls /proc | grep -c '^[0-9]'");
    let n: u32 = pids.trim().parse().expect("a count");
    assert!((3..=6).contains(&n), "{pids}");
    assert_eq!(a.sh("cat /proc/1/comm").1, "sh\n");
    // The host's system directories are read-only.
    let (_, out) = a.sh("touch /usr/lumen-test 2>&1; echo $?");
    assert!(out.contains("Read-only file system"), "{out}");

    // max_lwps: 20 tasks at most; a 40-process burst is cut short, and the
    // refused forks are counted.
    // (The zone cannot fork while full, so what happened is read from the
    // host: the peak, and the forks refused.)
    let _ = a.sh("i=0; while [ $i -lt 40 ]; do sleep 1 & i=$((i+1)); done 2>/dev/null; wait");
    let peak: u64 =
        std::fs::read_to_string(format!("/sys/fs/cgroup/pids/lumen/{}/pids.peak", a.uuid))
            .expect("pids.peak")
            .trim()
            .parse()
            .expect("a number");
    assert!(peak <= 20, "peak {peak}");
    let events =
        std::fs::read_to_string(format!("/sys/fs/cgroup/pids/lumen/{}/pids.events", a.uuid))
            .expect("pids.events");
    let refused: u64 = events
        .lines()
        .find_map(|l| l.strip_prefix("max ")?.parse().ok())
        .unwrap_or(0);
    assert!(refused > 0, "{events}");
    // max_physical_memory: the hog is killed inside the zone; the zone lives.
    let (_, out) = a.sh("python3 -c 'b = b\"x\" * (256 << 20); print(len(b))'; echo status $?");
    assert!(out.contains("status 137"), "{out}");
    assert_eq!(a.sh("echo alive").1, "alive\n");
    // cpu_cap 20: a busy loop is throttled.
    let _ = a.sh("timeout 1 sh -c 'while :; do :; done'");
    let stat = std::fs::read_to_string(format!("/sys/fs/cgroup/cpu/lumen/{}/cpu.stat", a.uuid))
        .expect("cpu.stat");
    let throttled: u64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("nr_throttled ")?.parse().ok())
        .expect("nr_throttled");
    assert!(throttled > 0, "{stat}");
}

#[test]
fn lifecycle_create_start_stop_delete() {
    if !root("lifecycle_create_start_stop_delete") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let uuid = "cccccccc-0000-4000-8000-000000000003";
    let z = Zone::boot(dir.path(), uuid, "");
    let (_, out, _) = lumen(
        dir.path(),
        &["vmadm", "list", "-H", "-o", "alias,state"],
        "",
    );
    assert_eq!(out, "z-cccc  running\n");
    // A running zone cannot be started again or deleted.
    let (code, _, err) = lumen(dir.path(), &["vmadm", "start", uuid], "");
    assert_eq!(code, Some(1));
    assert!(err.contains("is running"), "{err}");
    let (code, _, err) = lumen(dir.path(), &["vmadm", "stop", "-F", uuid], "");
    assert_eq!(code, Some(0), "{err}");
    let (_, out, _) = lumen(dir.path(), &["vmadm", "list", "-H", "-o", "state"], "");
    assert_eq!(out, "stopped\n");
    // Its cgroups went with it.
    assert!(!Path::new(&format!("/sys/fs/cgroup/pids/lumen/{uuid}")).exists());
    let (code, _, err) = lumen(dir.path(), &["zlogin", uuid, "true"], "");
    assert_eq!(code, Some(1));
    assert!(err.contains("is stopped"), "{err}");
    // And boots again.
    let (code, _, err) = lumen(dir.path(), &["vmadm", "start", uuid], "");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(z.sh("echo again").1, "again\n");
}
