//! Zones under faults and hostile use: `kill -9` of `vmadm create` at
//! random moments and of a zone's supervisor, an init that never reaps,
//! a full `/tmp`, bad names and manifests. Each shows the zone's claim
//! holds: every zone whole or absent, nothing left behind, caps kept,
//! the host side untouched. Needs root, namespaces and cgroups.

mod common;

use common::{root, text, LUMEN};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn lumen(root_dir: &Path, args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    let out = common::lumen_in(root_dir, args, stdin);
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// Every cgroup directory a zone or its supervisor could have.
fn cgroup_dirs(uuid: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = ["cpu", "memory", "pids", "devices", "unified"]
        .iter()
        .map(|c| Path::new("/sys/fs/cgroup").join(c).join("lumen").join(uuid))
        .collect();
    dirs.push(Path::new("/sys/fs/cgroup/unified/lumen-supervisors").join(uuid));
    dirs
}

/// What is left under a registry root, file by file (relative paths).
fn left_in(root_dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(base).unwrap_or(&p).display().to_string());
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&p, base, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root_dir, root_dir, &mut out);
    out.sort();
    out
}

/// Kills and removes the zones (and supervisors) of these UUIDs through
/// their cgroups when dropped: a failing assertion must not leave zones
/// running on the machine once the test's registry is gone.
struct Reaper(Vec<String>);

impl Drop for Reaper {
    fn drop(&mut self) {
        for uuid in &self.0 {
            for d in cgroup_dirs(uuid) {
                if d.starts_with("/sys/fs/cgroup/unified") {
                    let _ = std::fs::write(d.join("cgroup.kill"), "1");
                }
            }
        }
        std::thread::sleep(Duration::from_millis(200));
        for uuid in &self.0 {
            for d in cgroup_dirs(uuid) {
                let _ = std::fs::remove_dir(&d);
            }
        }
    }
}

/// A small, seeded pseudo-random sequence (the seed is printed, so a
/// failing run can be repeated).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

#[test]
fn kill_9_of_create_leaves_every_zone_whole_or_absent() {
    if !root("kill_9_of_create_leaves_every_zone_whole_or_absent") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let seed = std::env::var("LUMEN_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    println!("seed {seed} (LUMEN_FAULT_SEED repeats it)");
    let mut rng = Lcg(seed);
    // How long a whole create (with its boot) takes here, to spread the
    // kills over it.
    let started = Instant::now();
    let (code, _, err) = lumen(
        dir.path(),
        &["vmadm", "create"],
        r#"{"uuid": "f0000000-0000-4000-8000-000000000000",
            "init": ["/bin/sh", "-c", "while true; do sleep 1; done"]}"#,
    );
    assert_eq!(code, Some(0), "{err}");
    let span = started.elapsed().as_micros().max(1000) as u64 * 3 / 2;
    let (code, _, err) = lumen(
        dir.path(),
        &["vmadm", "delete", "f0000000-0000-4000-8000-000000000000"],
        "",
    );
    assert_eq!(code, Some(0), "{err}");

    let uuids: Vec<String> = (1..=30)
        .map(|i| format!("f0000000-0000-4000-8000-{i:012}"))
        .collect();
    // Whatever this test finds, no zone of it outlives it.
    let _reaper = Reaper(uuids.clone());
    let mut delays = Vec::new();
    for uuid in &uuids {
        let manifest = format!(
            r#"{{"uuid": "{uuid}", "max_lwps": 50,
                "init": ["/bin/sh", "-c", "while true; do sleep 1; done"]}}"#
        );
        let mut child = Command::new(LUMEN)
            .env("LUMEN_ROOT", dir.path())
            .args(["vmadm", "create"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run lumen");
        if let Some(mut i) = child.stdin.take() {
            use std::io::Write;
            let _ = i.write_all(manifest.as_bytes());
        }
        let delay = Duration::from_micros(rng.next(span));
        delays.push(delay.as_micros());
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
    }
    println!("kill delays (µs): {delays:?}");
    // The next command — any command — finds each zone whole or absent.
    let (code, listed, err) = lumen(dir.path(), &["vmadm", "list", "-p", "-o", "uuid,state"], "");
    assert_eq!(code, Some(0), "{err}");
    let whole: Vec<&str> = listed
        .lines()
        .map(|l| {
            let (uuid, state) = l.split_once(':').expect("uuid:state");
            // Whole: a manifest that reads back, booted as it asked.
            assert_eq!(state, "running", "{l}");
            uuid
        })
        .collect();
    println!(
        "{} of {} creates were whole when killed",
        whole.len(),
        uuids.len()
    );
    for uuid in &uuids {
        let dir_of = dir.path().join("zones").join(uuid);
        if whole.contains(&uuid.as_str()) {
            let (code, out, err) = lumen(dir.path(), &["zlogin", uuid, "echo alive"], "");
            assert_eq!((code, out.as_str()), (Some(0), "alive\n"), "{uuid}: {err}");
            let (code, _, err) = lumen(dir.path(), &["vmadm", "delete", uuid], "");
            assert_eq!(code, Some(0), "{uuid}: {err}");
        } else {
            assert!(!dir_of.exists(), "{uuid} is neither whole nor gone");
        }
    }
    // Nothing left: no zone, scratch or lock under LUMEN_ROOT, no cgroup,
    // no supervisor.
    assert_eq!(left_in(dir.path()), ["zones"]);
    for uuid in &uuids {
        for d in cgroup_dirs(uuid) {
            assert!(!d.exists(), "{} left", d.display());
        }
    }
}

/// A running zone with `extra` manifest fields, stopped and deleted on drop.
struct Zone<'a> {
    root: &'a Path,
    uuid: &'a str,
}

impl<'a> Zone<'a> {
    fn boot(root: &'a Path, uuid: &'a str, init: &str, extra: &str) -> Zone<'a> {
        let manifest = format!(r#"{{"uuid": "{uuid}", "init": {init} {extra}}}"#);
        let (code, _, err) = lumen(root, &["vmadm", "create"], &manifest);
        assert_eq!(code, Some(0), "{err}");
        Zone { root, uuid }
    }

    fn sh(&self, script: &str) -> std::process::Output {
        common::lumen_in(self.root, &["zlogin", self.uuid, script], "")
    }

    fn get(&self) -> serde_json::Value {
        let (code, out, err) = lumen(self.root, &["vmadm", "get", self.uuid], "");
        assert_eq!(code, Some(0), "{err}");
        serde_json::from_str(&out).expect("JSON")
    }
}

impl Drop for Zone<'_> {
    fn drop(&mut self) {
        let _ = lumen(self.root, &["vmadm", "delete", self.uuid], "");
    }
}

const SHELL_INIT: &str = r#"["/bin/sh", "-c", "while true; do sleep 1; done"]"#;

#[test]
fn a_zone_whose_supervisor_was_killed_stops_and_deletes_within_2_s() {
    if !root("a_zone_whose_supervisor_was_killed_stops_and_deletes_within_2_s") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let uuid = "f1000000-0000-4000-8000-000000000001";
    let z = Zone::boot(dir.path(), uuid, SHELL_INIT, "");
    let procs = std::fs::read_to_string(format!(
        "/sys/fs/cgroup/unified/lumen-supervisors/{uuid}/cgroup.procs"
    ))
    .expect("the supervisor's group");
    let supervisor: i32 = procs.trim().parse().expect("one supervisor");
    // SAFETY: kill with a pid and a signal number.
    assert_eq!(
        unsafe { libc::kill(supervisor, libc::SIGKILL) },
        0,
        "kill -9"
    );
    // The zone itself runs on, and says so.
    std::thread::sleep(Duration::from_millis(100));
    let (_, state, _) = lumen(dir.path(), &["vmadm", "list", "-H", "-o", "state"], "");
    assert_eq!(state, "running\n");
    assert_eq!(text(&z.sh("echo still").stdout), "still\n");
    // The 2 s is the issue's bound on a stop that cannot wait for a
    // supervisor: a hang, not a speed, is what it catches.
    let started = Instant::now();
    let (code, _, err) = lumen(dir.path(), &["vmadm", "stop", uuid], "");
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = lumen(dir.path(), &["vmadm", "delete", uuid], "");
    assert_eq!(code, Some(0), "{err}");
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "stop and delete took {took:?}"
    );
    for d in cgroup_dirs(uuid) {
        assert!(!d.exists(), "{} left", d.display());
    }
    assert!(!dir.path().join("zones").join(uuid).exists());
}

#[test]
fn a_stop_after_the_supervisor_died_says_so_and_the_zone_boots_again() {
    if !root("a_stop_after_the_supervisor_died_says_so_and_the_zone_boots_again") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let uuid = "f1000000-0000-4000-8000-000000000002";
    let z = Zone::boot(dir.path(), uuid, SHELL_INIT, "");
    let group = format!("/sys/fs/cgroup/unified/lumen-supervisors/{uuid}");
    // cgroup.kill: the supervisor dies, as under the OOM killer.
    std::fs::write(format!("{group}/cgroup.kill"), "1").expect("kill the supervisor");
    let (code, _, err) = lumen(dir.path(), &["vmadm", "stop", uuid], "");
    assert_eq!(code, Some(0), "{err}");
    let got = z.get();
    assert_eq!(got["state"], "stopped");
    let reason = got["exit_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("supervisor had died"), "{got:#}");
    let (code, _, err) = lumen(dir.path(), &["vmadm", "start", uuid], "");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(text(&z.sh("echo back").stdout), "back\n");
}

#[test]
fn orphans_of_an_init_that_never_reaps_are_reaped() {
    if !root("orphans_of_an_init_that_never_reaps_are_reaped") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let uuid = "f1000000-0000-4000-8000-000000000003";
    // `sleep` as init never waits for anything.
    let z = Zone::boot(
        dir.path(),
        uuid,
        r#"["/bin/sleep", "100000"]"#,
        r#", "max_lwps": 40"#,
    );
    let current = || -> u64 {
        std::fs::read_to_string(format!("/sys/fs/cgroup/pids/lumen/{uuid}/pids.current"))
            .expect("pids.current")
            .trim()
            .parse()
            .expect("a number")
    };
    let baseline = current();
    // 60 orphans, more than max_lwps allows at once: each outlives its
    // parent, so it ends up on pid 1. Unreaped, 40 zombies would fill the
    // zone for good.
    let out = z.sh("i=0; while [ $i -lt 60 ]; do (sleep 0.05 &); i=$((i+1)); done; sleep 0.5");
    assert!(out.status.code().is_some(), "{}", text(&out.stderr));
    let deadline = Instant::now() + Duration::from_secs(5);
    while current() != baseline && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(current(), baseline, "pids.current back to its baseline");
    // And the zone can still fork.
    assert_eq!(text(&z.sh("echo forked").stdout), "forked\n");
}

#[test]
fn a_full_tmp_is_enospc_for_the_writer_alone() {
    if !root("a_full_tmp_is_enospc_for_the_writer_alone") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let uuid = "f1000000-0000-4000-8000-000000000004";
    let z = Zone::boot(
        dir.path(),
        uuid,
        SHELL_INIT,
        r#", "tmpfs": 16, "max_physical_memory": 256"#,
    );
    let out = z.sh("dd if=/dev/zero of=/tmp/fill bs=1M count=64 2>&1; echo status $?");
    let said = text(&out.stdout);
    assert!(said.contains("No space left on device"), "{said}");
    assert!(said.contains("status 1"), "{said}");
    // The writer alone: the zone, its other files and its logins are fine.
    let out = z.sh("echo fine > /root/other && cat /root/other && ls -s /tmp/fill");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("fine\n16384 /tmp/fill"),
        "{}",
        text(&out.stdout)
    );
    let (_, state, _) = lumen(dir.path(), &["vmadm", "list", "-H", "-o", "state"], "");
    assert_eq!(state, "running\n");
}

#[test]
fn a_zone_that_fills_its_memory_cap_never_takes_the_zlogin_relay() {
    if !root("a_zone_that_fills_its_memory_cap_never_takes_the_zlogin_relay") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let uuid = "f1000000-0000-4000-8000-000000000005";
    // /tmp as large as the memory cap (SmartOS's default): filling it
    // fills the cap, and the OOM killer acts in the zone.
    let z = Zone::boot(
        dir.path(),
        uuid,
        SHELL_INIT,
        r#", "max_physical_memory": 64"#,
    );
    let out = z.sh("dd if=/dev/zero of=/tmp/fill bs=1M count=128 2>/dev/null; echo status $?");
    // zlogin itself ended normally (an exit code, not a signal): only the
    // zone's processes were in the zone's memory cgroup.
    assert!(
        out.status.code().is_some(),
        "zlogin was killed: {:?} {}",
        out.status,
        text(&out.stderr)
    );
    let oom = std::fs::read_to_string(format!(
        "/sys/fs/cgroup/memory/lumen/{uuid}/memory.oom_control"
    ))
    .expect("oom_control");
    println!("{oom}");
    let _ = z.sh("rm -f /tmp/fill");
    assert_eq!(text(&z.sh("echo alive").stdout), "alive\n");
}

#[test]
fn a_zone_that_stops_by_itself_says_why() {
    if !root("a_zone_that_stops_by_itself_says_why") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let uuid = "f1000000-0000-4000-8000-000000000006";
    let z = Zone::boot(
        dir.path(),
        uuid,
        r#"["/bin/sh", "-c", "echo going down; sleep 0.3; exit 3"]"#,
        "",
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while z.get()["state"] == "running" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let got = z.get();
    assert_eq!(got["state"], "stopped");
    assert_eq!(got["exit_status"], 3);
    assert_eq!(got["exit_reason"], "its init exited with status 3");
    assert!(
        got["exit_timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{got:#}"
    );
    // Its output is kept, with the supervisor's notes.
    let log = std::fs::read_to_string(dir.path().join("zones").join(uuid).join("zone.log"))
        .expect("zone.log");
    assert!(log.contains("going down\n"), "{log}");
    assert!(
        log.contains("zone stopped: its init exited with status 3"),
        "{log}"
    );
    // An init that cannot even be run says so at create.
    let (code, _, err) = lumen(
        dir.path(),
        &["vmadm", "create"],
        r#"{"init": ["/no/such/init"]}"#,
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains("exec /no/such/init: No such file or directory"),
        "{err}"
    );
}

#[test]
fn nested_cgroups_go_with_the_zone() {
    if !root("nested_cgroups_go_with_the_zone") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let uuid = "f1000000-0000-4000-8000-000000000007";
    let _z = Zone::boot(dir.path(), uuid, SHELL_INIT, "");
    // What systemd as a zone's init makes inside its groups.
    for c in ["unified", "pids", "memory"] {
        std::fs::create_dir_all(format!("/sys/fs/cgroup/{c}/lumen/{uuid}/init.scope/sub"))
            .expect("a nested group");
    }
    let (code, _, err) = lumen(dir.path(), &["vmadm", "delete", uuid], "");
    assert_eq!(code, Some(0), "delete of a running zone: {err}");
    for d in cgroup_dirs(uuid) {
        assert!(!d.exists(), "{} left", d.display());
    }
}

#[test]
fn bad_names_and_manifests_are_refused_before_anything_is_made() {
    if !root("bad_names_and_manifests_are_refused_before_anything_is_made") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let outside = dir.path().join("x");
    let name = format!("../../../../{}", outside.display());
    for verb in ["delete", "stop", "start", "get"] {
        let (code, _, err) = lumen(dir.path(), &["vmadm", verb, &name], "");
        assert_eq!(code, Some(1), "{verb}: {err}");
        assert!(err.contains("no such zone"), "{verb}: {err}");
    }
    assert!(!outside.exists());
    assert!(!Path::new(&format!("{}.lock", outside.display())).exists());
    for (manifest, problem) in [
        (
            r#"{"max_physical_memory": 0}"#,
            "$.max_physical_memory: 0 would leave the zone nothing",
        ),
        (
            r#"{"max_lwps": 0}"#,
            "$.max_lwps: 0 would leave the zone nothing",
        ),
        (
            r#"{"cpu_cap": 0}"#,
            "$.cpu_cap: 0 would leave the zone nothing",
        ),
        (
            r#"{"alias": "two\nlines"}"#,
            "$.alias: \"two\\nlines\" is not an alias",
        ),
        (
            r#"{"hostname": "-bad-"}"#,
            "$.hostname: \"-bad-\" is not a valid hostname",
        ),
        (
            r#"{"brand": "kvm", "payload": "/p", "ram": 1048576}"#,
            "$.ram: 1048576 MiB is more than this host has",
        ),
        (
            r#"{"limit_priv": "default,root"}"#,
            "$.limit_priv: \"root\" is not a Linux capability",
        ),
    ] {
        let (code, _, err) = lumen(dir.path(), &["vmadm", "create"], manifest);
        assert_eq!(code, Some(1), "{manifest}");
        assert!(err.contains(problem), "{manifest}: {err}");
    }
    assert_eq!(left_in(dir.path()), ["zones"]);
}
