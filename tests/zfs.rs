//! `lumen zpool` and `lumen zfs` end to end, on file-backed pools each
//! test makes and destroys under its own LUMEN_ROOT: ZFS's output formats
//! (`zfs list -H -p` parsed back), a stream through a shell pipe, bad
//! names refused by rule, and `kill -9` in the middle of clone, snapshot
//! and receive never leaving a half-made dataset visible.

mod common;

use common::{lumen_in, text};
use std::path::Path;
use std::process::{Command, Stdio};

fn btrfs_ok(test: &str) -> bool {
    common::root(test) && common::installed(test, "mkfs.btrfs")
}

fn ok(root: &Path, args: &[&str]) -> String {
    let out = lumen_in(root, args, "");
    assert!(
        out.status.success(),
        "lumen {args:?} failed: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// A pool that is destroyed (and its loop device released) when dropped.
struct Pool<'a>(&'a Path, &'a str);

impl Drop for Pool<'_> {
    fn drop(&mut self) {
        let _ = lumen_in(self.0, &["zpool", "destroy", self.1], "");
    }
}

fn loops_of(root: &Path) -> usize {
    let out = Command::new("losetup").arg("-a").output().expect("losetup");
    text(&out.stdout)
        .lines()
        .filter(|l| l.contains(&*root.to_string_lossy()))
        .count()
}

#[test]
fn zfs_list_parses_back_and_pools_leave_nothing() {
    if !btrfs_ok("zfs_list_parses_back_and_pools_leave_nothing") {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path();
    {
        ok(root, &["zpool", "create", "-s", "512M", "tank"]);
        let _pool = Pool(root, "tank");
        ok(root, &["zfs", "create", "-o", "quota=64M", "tank/web"]);
        ok(root, &["zfs", "create", "-p", "tank/web/logs/old"]);
        ok(root, &["zfs", "create", "-V", "16M", "tank/disk0"]);
        std::fs::write(root.join("tank/web/index.html"), vec![b'x'; 1 << 20]).expect("write");
        ok(root, &["zfs", "snapshot", "-r", "tank/web@first"]);
        let out = ok(
            root,
            &[
                "zfs",
                "list",
                "-H",
                "-p",
                "-t",
                "all",
                "-o",
                "name,type,used,avail,refer,quota,mountpoint",
            ],
        );
        let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split('\t').collect()).collect();
        let names: Vec<&str> = rows.iter().map(|r| r[0]).collect();
        assert_eq!(
            names,
            [
                "tank",
                "tank/disk0",
                "tank/web",
                "tank/web@first",
                "tank/web/logs",
                "tank/web/logs@first",
                "tank/web/logs/old",
                "tank/web/logs/old@first"
            ]
        );
        for r in &rows {
            assert_eq!(r.len(), 7, "{r:?}");
            // -p: exact numbers, never 1.5M.
            for (i, v) in r.iter().enumerate().skip(2).take(4) {
                assert!(*v == "-" || v.parse::<u64>().is_ok(), "column {i} of {r:?}");
            }
        }
        let web = rows.iter().find(|r| r[0] == "tank/web").expect("web");
        assert_eq!(web[1], "filesystem");
        assert_eq!(web[5], (64u64 << 20).to_string());
        assert!(web[3].parse::<u64>().expect("avail") <= 64 << 20);
        assert_eq!(web[6], root.join("tank/web").display().to_string());
        let vol = rows.iter().find(|r| r[0] == "tank/disk0").expect("volume");
        assert_eq!(vol[1], "volume");
        // The human form has ZFS's header and units.
        let out = ok(root, &["zfs", "list"]);
        assert!(out.starts_with("NAME"), "{out}");
        assert!(out
            .lines()
            .next()
            .is_some_and(|h| h.split_whitespace().collect::<Vec<_>>()
                == ["NAME", "USED", "AVAIL", "REFER", "MOUNTPOINT"]));
        let out = ok(
            root,
            &["zfs", "get", "-H", "-o", "value", "volsize", "tank/disk0"],
        );
        assert_eq!(out.trim(), "16M");
        let out = ok(
            root,
            &["zpool", "list", "-H", "-p", "-o", "name,size,health"],
        );
        let cols: Vec<&str> = out.trim().split('\t').collect();
        assert_eq!(cols[0], "tank");
        assert!(cols[1].parse::<u64>().expect("size") >= 500 << 20);
        assert_eq!(cols[2], "ONLINE");
        let out = ok(root, &["zpool", "status", "tank"]);
        assert!(
            out.contains("READ WRITE CKSUM") && out.contains("errors: No known data errors"),
            "{out}"
        );
        let out = ok(root, &["zpool", "scrub", "tank"]);
        assert!(out.contains("with 0 errors"), "{out}");
        let out = ok(root, &["zpool", "status", "tank"]);
        assert!(out.contains("scan: scrub repaired 0B"), "{out}");
        // Export, then import by name, and the data is there.
        ok(root, &["zpool", "export", "tank"]);
        assert_eq!(loops_of(root), 0, "an exported pool holds no loop device");
        ok(root, &["zpool", "import", "tank"]);
        assert_eq!(
            std::fs::read(root.join("tank/web/index.html"))
                .expect("read")
                .len(),
            1 << 20
        );
    }
    assert_eq!(loops_of(root), 0, "a destroyed pool holds no loop device");
    assert!(!root.join("pools/tank.img").exists());
}

#[test]
fn a_stream_through_a_pipe_and_bad_names() {
    if !btrfs_ok("a_stream_through_a_pipe_and_bad_names") {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path();
    ok(root, &["zpool", "create", "-s", "512M", "tank"]);
    let _a = Pool(root, "tank");
    ok(root, &["zpool", "create", "-s", "512M", "backup"]);
    let _b = Pool(root, "backup");
    ok(root, &["zfs", "create", "tank/home"]);
    std::fs::write(root.join("tank/home/notes"), b"keep me").expect("write");
    ok(root, &["zfs", "snapshot", "tank/home@monday"]);
    let sh = format!(
        "{0} zfs send tank/home@monday | {0} zfs receive backup/home",
        common::LUMEN
    );
    let st = Command::new("sh")
        .arg("-c")
        .arg(&sh)
        .env("LUMEN_ROOT", root)
        .status()
        .expect("sh");
    assert!(st.success());
    assert_eq!(
        std::fs::read(root.join("backup/home/notes")).expect("read"),
        b"keep me"
    );
    // A send to a terminal is refused, as zfs does; here stdout is a pipe.
    for (verb, name, rule) in [
        ("create", "tank/../etc", "'.' or '..'"),
        ("snapshot", "tank/a@b@c", "only once"),
        ("create", "tank/a@b", "'@' separates a snapshot's name"),
        ("create", "tank/a b", "not allowed"),
        ("create", "tank//a", "empty"),
    ] {
        let out = lumen_in(root, &["zfs", verb, name], "");
        assert!(!out.status.success(), "{name} accepted");
        assert!(
            text(&out.stderr).contains(rule),
            "{name}: {}",
            text(&out.stderr)
        );
    }
    let long = format!("tank/{}", "x".repeat(300));
    let out = lumen_in(root, &["zfs", "create", &long], "");
    assert!(
        text(&out.stderr).contains("at most 255"),
        "{}",
        text(&out.stderr)
    );
    // A full pool: the writer gets ENOSPC, the tool a clear error.
    let fill = Command::new("dd")
        .args(["if=/dev/zero", "bs=1M", "count=600", "conv=fsync"])
        .arg(format!("of={}", root.join("tank/home/fill").display()))
        .stderr(Stdio::piped())
        .output()
        .expect("dd");
    assert!(!fill.status.success());
    assert!(
        text(&fill.stderr).contains("No space left on device"),
        "{}",
        text(&fill.stderr)
    );
    let out = lumen_in(root, &["zfs", "create", "-V", "64M", "tank/more"], "");
    if !out.status.success() {
        assert!(
            text(&out.stderr).contains("out of space") || text(&out.stderr).contains("No space"),
            "{}",
            text(&out.stderr)
        );
    }
}

/// Kill `lumen ARGS` (fed `input`) after `delay`, then return.
fn kill_after(root: &Path, args: &[&str], input: Option<&Path>, delay: std::time::Duration) {
    let mut cmd = Command::new(common::LUMEN);
    cmd.env("LUMEN_ROOT", root)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(i) = input {
        cmd.stdin(std::fs::File::open(i).expect("stream"));
    }
    let mut child = cmd.spawn().expect("spawn");
    std::thread::sleep(delay);
    let _ = child.kill();
    let _ = child.wait();
}

fn hidden(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.join("tank")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with(".lumen-new-") {
                out.push(e.path().display().to_string());
            } else if e.file_type().is_ok_and(|t| t.is_dir()) && n != "payload" {
                stack.push(e.path());
            }
        }
    }
    out
}

#[test]
fn kill_9_mid_clone_snapshot_or_receive_leaves_whole_or_nothing() {
    if !btrfs_ok("kill_9_mid_clone_snapshot_or_receive_leaves_whole_or_nothing") {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path();
    ok(root, &["zpool", "create", "-s", "1G", "tank"]);
    let _pool = Pool(root, "tank");
    ok(root, &["zfs", "create", "tank/src"]);
    std::fs::create_dir(root.join("tank/src/payload")).expect("mkdir");
    for i in 0..40 {
        std::fs::write(
            root.join(format!("tank/src/payload/f{i}")),
            vec![i as u8; 1 << 20],
        )
        .expect("write");
    }
    ok(root, &["zfs", "snapshot", "tank/src@s"]);
    let stream = root.join("stream");
    let out = Command::new(common::LUMEN)
        .env("LUMEN_ROOT", root)
        .args(["zfs", "send", "tank/src@s"])
        .stdout(std::fs::File::create(&stream).expect("stream file"))
        .status()
        .expect("send");
    assert!(out.success());
    let listed = |root: &Path| -> Vec<String> {
        ok(root, &["zfs", "list", "-H", "-t", "all", "-o", "name"])
            .lines()
            .map(String::from)
            .collect()
    };
    // Delays spread over each command's run, seeded so failures repeat.
    let mut seed = 0x9e37_79b9u64;
    let mut next = |max_us: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::time::Duration::from_micros(seed % max_us)
    };
    for i in 0..12 {
        let c = format!("tank/c{i}");
        kill_after(
            root,
            &["zfs", "clone", "tank/src@s", &c],
            None,
            next(40_000),
        );
        let s = format!("tank/src@k{i}");
        kill_after(root, &["zfs", "snapshot", &s], None, next(40_000));
        let r = format!("tank/r{i}");
        kill_after(root, &["zfs", "receive", &r], Some(&stream), next(400_000));
        let names = listed(root);
        for n in [&c, &s, &r] {
            if names.contains(n) {
                // Whole: every file there, every byte.
                let path = if let Some((d, snap)) = n.split_once('@') {
                    root.join(d).join(".zfs/snapshot").join(snap)
                } else {
                    root.join(n)
                };
                for f in 0..40 {
                    let p = path.join(format!("payload/f{f}"));
                    let got = std::fs::read(&p).unwrap_or_else(|e| {
                        panic!("{n} is visible but {} is not whole: {e}", p.display())
                    });
                    assert_eq!(got.len(), 1 << 20, "{}", p.display());
                    assert!(got.iter().all(|b| *b == f as u8), "{}", p.display());
                }
            }
        }
    }
    // The next command sweeps what the killed ones left.
    ok(root, &["zfs", "create", "tank/after"]);
    assert!(hidden(root).is_empty(), "{:?}", hidden(root));
}

#[test]
fn a_d_one_liner_on_zfs_snapshot_sees_every_snapshot() {
    if !(btrfs_ok("a_d_one_liner_on_zfs_snapshot_sees_every_snapshot")
        && common::kernel_probes("a_d_one_liner_on_zfs_snapshot_sees_every_snapshot"))
    {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path();
    ok(root, &["zpool", "create", "-s", "512M", "tank"]);
    let _pool = Pool(root, "tank");
    for d in ["tank/a", "tank/a/b", "tank/a/b/c", "tank/z"] {
        ok(root, &["zfs", "create", d]);
    }
    let traced = |script: &str, cmd: &str| {
        let out = Command::new(common::LUMEN)
            .env("LUMEN_ROOT", root)
            .args(["dtrace", "-q", "-n", script, "-c", cmd])
            .output()
            .expect("dtrace");
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let out = traced(
        "zfs*:::snapshot { printf(\"%s %d\\n\", copyinstr(arg0), arg1 > 0); }",
        &format!("{} zfs snapshot -r tank/a@monday", common::LUMEN),
    );
    let mut seen: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            "tank/a/b/c@monday 1",
            "tank/a/b@monday 1",
            "tank/a@monday 1"
        ],
        "{out}"
    );
    // And the other lifecycle probes, with names.
    let out = traced(
        "zfs*:::clone { printf(\"clone %s %s\\n\", copyinstr(arg0), copyinstr(arg1)); } \
         zfs*:::dataset-create { printf(\"create %s\\n\", copyinstr(arg0)); }",
        &format!("{} zfs clone tank/a@monday tank/copy", common::LUMEN),
    );
    assert!(out.contains("clone tank/a@monday tank/copy"), "{out}");
    assert!(out.contains("create tank/copy"), "{out}");
}
