//! Real zones from manifests: isolation, caps, lifecycle and zlogin, on a
//! registry in a temporary LUMEN_ROOT. Needs root, namespaces and the
//! cgroup v1 cpu, memory and pids controllers. `vmadm create` boots a
//! zone unless its manifest says `"autoboot": false`, as SmartOS's does.

mod common;

use common::{root, text, LUMEN};
use std::path::Path;
use std::process::{Command, Stdio};

fn lumen(root_dir: &Path, args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    let out = common::lumen_in(root_dir, args, stdin);
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// A zone booted from a manifest, stopped and deleted on drop.
struct Zone<'a> {
    root: &'a Path,
    uuid: String,
}

impl<'a> Zone<'a> {
    /// Create (and so boot) a zone.
    fn boot(root: &'a Path, uuid: &str, extra: &str) -> Zone<'a> {
        let manifest = format!(
            r#"{{"uuid": "{uuid}", "alias": "z-{}", "hostname": "host-{}",
                "init": ["/bin/sh", "-c", "while true; do sleep 1; done"] {extra}}}"#,
            &uuid[..4],
            &uuid[..4]
        );
        let (code, _, err) = lumen(root, &["vmadm", "create"], &manifest);
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

/// A zone from a manifest in `examples/zones/`, created and so booted.
fn boot_example<'a>(root: &'a Path, file: &str) -> Zone<'a> {
    let text = std::fs::read_to_string(common::workspace().join("examples/zones").join(file))
        .expect("example manifest");
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let uuid = v["uuid"].as_str().expect("uuid").to_string();
    let (code, _, err) = lumen(
        root,
        &["vmadm", "create", "-f", &format!("examples/zones/{file}")],
        "",
    );
    assert_eq!(code, Some(0), "{err}");
    Zone { root, uuid }
}

#[test]
fn two_zones_are_isolated_and_capped() {
    if !root("two_zones_are_isolated_and_capped") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let a = boot_example(dir.path(), "web.json");
    let b = boot_example(dir.path(), "db.json");

    // Own hostname, own /etc, own /tmp.
    assert_eq!(a.sh("hostname").1, "web\n");
    assert_eq!(b.sh("cat /etc/hostname").1, "db\n");
    assert_eq!(
        a.sh("echo secret > /tmp/a-only; cat /tmp/a-only").1,
        "secret\n"
    );
    assert_eq!(
        b.sh("test -e /tmp/a-only && echo seen || echo unseen").1,
        "unseen\n"
    );
    // Only its own processes: zsched, init and its sleep, the shell and ls.
    let (_, pids) = a.sh("ls /proc | grep -c '^[0-9]'");
    let n: u32 = pids.trim().parse().expect("a count");
    assert!((4..=7).contains(&n), "{pids}");
    // Pid 1 is Lumen's zsched; the manifest's init is its child.
    assert_eq!(a.sh("cat /proc/1/comm").1, "zsched\n");
    assert_eq!(a.sh("cat /proc/2/comm").1, "sh\n");
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

/// A static program doing exactly N read(2)s of /dev/zero (no loader, so
/// no other reads).
fn readloop() -> std::path::PathBuf {
    static BIN: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        common::compile_c(
            "readloop",
            "#include <unistd.h>\n#include <fcntl.h>\n#include <stdlib.h>\n\
             int main(int c, char **v) { int n = atoi(v[1]); char b[8]; int fd = open(\"/dev/zero\", O_RDONLY);\n\
             for (int i = 0; i < n; i++) read(fd, b, 8); return 0; }\n",
            &["-O1", "-static"],
        )
    })
    .clone()
}

#[test]
fn per_zone_read_latency_histograms_count_each_zones_reads() {
    if !root("per_zone_read_latency_histograms_count_each_zones_reads") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let ids = [
        "dddddddd-0000-4000-8000-000000000004",
        "eeeeeeee-0000-4000-8000-000000000005",
    ];
    // The read loop goes into each zone's root before it boots.
    for id in ids {
        let manifest = format!(
            r#"{{"uuid": "{id}", "autoboot": false,
                "init": ["/bin/sh", "-c", "while true; do sleep 1; done"]}}"#
        );
        let (code, _, err) = lumen(dir.path(), &["vmadm", "create"], &manifest);
        assert_eq!(code, Some(0), "{err}");
        let opt = dir.path().join("zones").join(id).join("root/opt");
        std::fs::create_dir_all(&opt).expect("opt");
        std::fs::copy(readloop(), opt.join("readloop")).expect("copy");
    }
    // Trace first; the zones boot while tracing (the zone map follows).
    let tracer = Command::new(LUMEN)
        .args([
            "dtrace",
            "-q",
            "-n",
            "syscall::read:entry /execname == \"readloop\"/ { self->ts = timestamp; } \
             syscall::read:return /self->ts/ { @[zonename] = quantize(timestamp - self->ts); \
             self->ts = 0; } tick-4s { exit(0); }",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the tracer");
    std::thread::sleep(std::time::Duration::from_millis(700));
    let zones: Vec<Zone> = ids
        .iter()
        .map(|id| {
            let (code, _, err) = lumen(dir.path(), &["vmadm", "start", id], "");
            assert_eq!(code, Some(0), "{err}");
            Zone {
                root: dir.path(),
                uuid: id.to_string(),
            }
        })
        .collect();
    assert_eq!(zones[0].sh("/opt/readloop 300").0, Some(0));
    assert_eq!(zones[1].sh("/opt/readloop 500").0, Some(0));
    let status = Command::new(readloop()).arg("70").status().expect("run");
    assert!(status.success());
    let out = tracer.wait_with_output().expect("tracer");
    let s = text(&out.stdout);
    // One histogram per zone (keyed by the zone's UUID) and the global
    // zone's; each histogram's counts add up to that zone's reads.
    let total = |key: &str| -> u64 {
        let mut lines = s.lines().skip_while(|l| l.trim() != key);
        assert!(lines.next().is_some(), "no histogram for {key}:\n{s}");
        lines
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
            .sum()
    };
    assert_eq!(total(ids[0]), 300, "{s}");
    assert_eq!(total(ids[1]), 500, "{s}");
    assert_eq!(total("global"), 70, "{s}");
}

#[test]
fn update_changes_caps_live_and_reboot_boots_again() {
    if !root("update_changes_caps_live_and_reboot_boots_again") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let uuid = "f0f0f0f0-0000-4000-8000-0000000000f6";
    let z = Zone::boot(dir.path(), uuid, r#", "cpu_cap": 20, "max_lwps": 30"#);
    let read =
        |f: &str| std::fs::read_to_string(format!("/sys/fs/cgroup/{f}")).expect("cgroup file");
    assert_eq!(
        read(&format!("cpu/lumen/{uuid}/cpu.cfs_quota_us")),
        "20000\n"
    );
    let (code, _, err) = lumen(
        dir.path(),
        &["vmadm", "update", uuid, "cpu_cap=80", "max_lwps=64"],
        "",
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        read(&format!("cpu/lumen/{uuid}/cpu.cfs_quota_us")),
        "80000\n"
    );
    assert_eq!(read(&format!("pids/lumen/{uuid}/pids.max")), "64\n");
    let (_, out, _) = lumen(dir.path(), &["vmadm", "get", uuid], "");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["cpu_cap"], 80);
    // A bad update names the field and changes nothing.
    let (code, _, err) = lumen(dir.path(), &["vmadm", "update", uuid, "cpu_cap=lots"], "");
    assert_eq!(code, Some(1));
    assert!(
        err.contains("$.cpu_cap: expected a non-negative integer"),
        "{err}"
    );
    assert_eq!(
        read(&format!("cpu/lumen/{uuid}/cpu.cfs_quota_us")),
        "80000\n"
    );
    // Reboot: a new init, the same zone.
    let before = std::fs::read_to_string(dir.path().join("zones").join(uuid).join("init"))
        .expect("init pid");
    let (code, _, err) = lumen(dir.path(), &["vmadm", "reboot", uuid], "");
    assert_eq!(code, Some(0), "{err}");
    let after = std::fs::read_to_string(dir.path().join("zones").join(uuid).join("init"))
        .expect("init pid");
    assert_ne!(before, after);
    assert_eq!(z.sh("hostname").1, "host-f0f0\n");
}

#[test]
fn zone_probes_fire_from_vmadm() {
    if !root("zone_probes_fire_from_vmadm") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let uuid = "d1d1d1d1-0000-4000-8000-0000000000d7";
    let manifest = dir.path().join("m.json");
    std::fs::write(
        &manifest,
        format!(
            r#"{{"uuid": "{uuid}", "init": ["/bin/sh", "-c", "while true; do sleep 1; done"]}}"#
        ),
    )
    .expect("manifest");
    let trace = |verb: &str, args: &str| {
        let out = Command::new(LUMEN)
            .env("LUMEN_ROOT", dir.path())
            .args([
                "dtrace",
                "-q",
                "-n",
                "zone*:::create,zone*:::boot,zone*:::halt,zone*:::delete \
                 { printf(\"%s %s\\n\", probename, copyinstr(arg1)); }",
                "-c",
                &format!("{LUMEN} vmadm {verb} {args}"),
            ])
            .output()
            .expect("run lumen");
        text(&out.stdout)
    };
    // create boots the zone: both probes, in that order.
    assert!(trace("create -f", &manifest.display().to_string())
        .contains(&format!("create {uuid}\nboot {uuid}\n")));
    assert!(trace("stop -F", uuid).contains(&format!("halt {uuid}\n")));
    assert!(trace("start", uuid).contains(&format!("boot {uuid}\n")));
    assert!(trace("stop -F", uuid).contains(&format!("halt {uuid}\n")));
    assert!(trace("delete", uuid).contains(&format!("delete {uuid}\n")));
}

#[test]
fn create_boots_unless_autoboot_is_false() {
    if !root("create_boots_unless_autoboot_is_false") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let booted = "a1a1a1a1-0000-4000-8000-0000000000a8";
    let z = Zone::boot(dir.path(), booted, "");
    // Running at once: zlogin works and the zone is in its cgroups.
    assert_eq!(z.sh("hostname").1, "host-a1a1\n");
    let init = std::fs::read_to_string(dir.path().join("zones").join(booted).join("init"))
        .expect("init record");
    let pid = init.split_whitespace().next().expect("a pid");
    let groups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("cgroup");
    for controller in ["cpu", "memory", "pids", "devices", ""] {
        assert!(
            groups.contains(&format!(":{controller}:/lumen/{booted}\n")),
            "{controller}: {groups}"
        );
    }
    let parked = "a2a2a2a2-0000-4000-8000-0000000000a9";
    let (code, _, err) = lumen(
        dir.path(),
        &["vmadm", "create"],
        &format!(r#"{{"uuid": "{parked}", "autoboot": false, "init": ["/bin/sleep", "100"]}}"#),
    );
    assert_eq!(code, Some(0), "{err}");
    let (_, out, _) = lumen(
        dir.path(),
        &["vmadm", "list", "-H", "-o", "uuid,state,autoboot"],
        "",
    );
    assert_eq!(
        out,
        format!("{booted}  running  true\n{parked}  stopped  false\n")
    );
    assert!(!Path::new(&format!("/sys/fs/cgroup/pids/lumen/{parked}")).exists());
    let (code, _, err) = lumen(dir.path(), &["vmadm", "delete", parked], "");
    assert_eq!(code, Some(0), "{err}");
}

/// A create whose boot fails is undone: no zone, no cgroups, the error.
#[test]
fn create_whose_boot_fails_leaves_nothing() {
    if !root("create_whose_boot_fails_leaves_nothing") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let uuid = "a3a3a3a3-0000-4000-8000-0000000000aa";
    let (code, _, err) = lumen(
        dir.path(),
        &["vmadm", "create"],
        &format!(r#"{{"uuid": "{uuid}", "init": ["/no/such/init"]}}"#),
    );
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        "lumen: cannot boot the zone: exec /no/such/init: No such file or directory\n"
    );
    let (_, out, _) = lumen(dir.path(), &["vmadm", "list", "-H"], "");
    assert_eq!(out, "");
    for controller in ["cpu", "memory", "pids", "unified"] {
        let group = format!("/sys/fs/cgroup/{controller}/lumen/{uuid}");
        assert!(!Path::new(&group).exists(), "{group} is left");
    }
}

#[test]
fn zlogin_without_a_command_logs_in_on_the_zones_own_terminal() {
    if !root("zlogin_without_a_command_logs_in_on_the_zones_own_terminal") {
        return;
    }
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "tmux is needed under CI=true"
        );
        eprintln!("skipping: no tmux");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let zone = Zone::boot(dir.path(), "7a1e0000-0000-4000-8000-000000000001", "");
    let session = "lumen-zlogin-test";
    let _ = Command::new("tmux")
        .args(["kill-session", "-t", session])
        .output();
    let shell = format!(
        "LUMEN_ROOT={} {LUMEN} zlogin {}; echo ZLOGIN-STATUS=$?; sleep 30",
        dir.path().display(),
        zone.uuid
    );
    let started = Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "100",
            "-y",
            "20",
            &shell,
        ])
        .status()
        .expect("tmux");
    assert!(started.success());
    let screen = || {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", session])
            .output()
            .unwrap();
        text(&out.stdout)
    };
    let wait_for = |what: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let s = screen();
            if s.contains(what) || std::time::Instant::now() > deadline {
                return s;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    let keys = |k: &str| {
        let ok = Command::new("tmux")
            .args(["send-keys", "-t", session, k, "Enter"])
            .status()
            .unwrap();
        assert!(ok.success());
    };
    // The shell is on a pty of the zone's own devpts, in the zone.
    keys("echo T=$(tty) H=$(hostname) P=$$");
    let s = wait_for("T=/dev/pts/0 H=host-7a1e P=");
    assert!(s.contains("T=/dev/pts/0 H=host-7a1e P="), "{s}");
    // Job control works on a controlling terminal: a background job and fg.
    keys("sleep 0.2 & fg; echo FG=$?");
    let s = wait_for("FG=0");
    assert!(s.contains("FG=0"), "{s}");
    // The zone's terminal follows the caller's size.
    keys("echo SIZE=$(stty size)");
    let s = wait_for("SIZE=20 100");
    assert!(s.contains("SIZE=20 100"), "{s}");
    let resized = Command::new("tmux")
        .args(["resize-window", "-t", session, "-x", "90", "-y", "24"])
        .status()
        .unwrap();
    assert!(resized.success());
    keys("echo RESIZED=$(stty size)");
    let s = wait_for("RESIZED=24 90");
    assert!(s.contains("RESIZED=24 90"), "{s}");
    keys("exit 7");
    let s = wait_for("ZLOGIN-STATUS=");
    assert!(
        s.contains("ZLOGIN-STATUS=7"),
        "the shell's status comes back: {s}"
    );
    let _ = Command::new("tmux")
        .args(["kill-session", "-t", session])
        .output();
}

#[test]
fn autoboot_boots_what_should_run_and_stale_records_read_stopped() {
    if !root("autoboot_boots_what_should_run_and_stale_records_read_stopped") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root_dir = dir.path();
    let (a, b) = (
        "a0000000-0000-4000-8000-00000000000a",
        "b0000000-0000-4000-8000-00000000000b",
    );
    for uuid in [a, b] {
        let manifest = format!(
            r#"{{"uuid": "{uuid}", "autoboot": false, "init": ["/bin/sh", "-c", "while true; do sleep 1; done"]}}"#
        );
        let (code, _, err) = lumen(root_dir, &["vmadm", "create"], &manifest);
        assert_eq!(code, Some(0), "{err}");
    }
    let _cleanup = [
        Zone {
            root: root_dir,
            uuid: a.into(),
        },
        Zone {
            root: root_dir,
            uuid: b.into(),
        },
    ];
    let state = |uuid: &str| {
        let (_, out, _) = lumen(
            root_dir,
            &["vmadm", "list", "-H", "-p", "-o", "uuid,state,autoboot"],
            "",
        );
        out.lines()
            .find(|l| l.starts_with(uuid))
            .unwrap_or_default()
            .to_string()
    };
    // A wants to run at node boot; B's record says running, as after a
    // host crash, but nothing of it runs: it reads stopped.
    let (code, _, err) = lumen(root_dir, &["vmadm", "update", a, "autoboot=true"], "");
    assert_eq!(code, Some(0), "{err}");
    std::fs::write(root_dir.join("zones").join(b).join("state"), "running\n").unwrap();
    assert_eq!(state(b), format!("{b}:stopped:false"));
    let (code, _, err) = lumen(root_dir, &["vmadm", "autoboot"], "");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(err.trim(), format!("Successfully started VM {a}"));
    assert_eq!(state(a), format!("{a}:running:true"));
    assert_eq!(state(b), format!("{b}:stopped:false"));
    // As on SmartOS: stop clears autoboot, start sets it.
    let (code, _, err) = lumen(root_dir, &["vmadm", "stop", a], "");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(state(a), format!("{a}:stopped:false"));
    let (code, _, err) = lumen(root_dir, &["vmadm", "start", b], "");
    assert_eq!(code, Some(0), "a stale record does not stop a start: {err}");
    assert_eq!(state(b), format!("{b}:running:true"));
}
