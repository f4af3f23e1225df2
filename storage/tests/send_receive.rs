//! `zfs send | zfs receive` between two pools made by the test: full,
//! incremental and replicated streams round-trip byte for byte, and a
//! truncated or corrupted stream is refused with nothing left behind.

mod common;

use common::{can_make_pools, tree_digest, TestPool};
use std::io::Write;
use storage::dataset::CreateOptions;
use storage::name::{DatasetName, SnapshotName};
use storage::receive::ReceiveOptions;
use storage::send::SendOptions;

fn ds(n: &str) -> DatasetName {
    DatasetName::parse(n).expect("name")
}

fn snap(n: &str) -> SnapshotName {
    SnapshotName::parse(n).expect("name")
}

/// Files of every kind the stream carries.
fn populate(dir: &std::path::Path, round: u8) {
    use std::os::unix::fs::PermissionsExt;
    let mut seed = 0x1234_5678u64 + u64::from(round);
    let mut bytes = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect()
    };
    std::fs::create_dir_all(dir.join("etc/deep/er")).expect("mkdir");
    std::fs::write(dir.join("etc/deep/er/config"), bytes(300_000)).expect("write");
    std::fs::write(dir.join(format!("round{round}")), bytes(5000)).expect("write");
    std::fs::write(dir.join("small"), format!("round {round}\n")).expect("write");
    std::fs::set_permissions(dir.join("small"), std::fs::Permissions::from_mode(0o640))
        .expect("chmod");
    let _ = std::fs::remove_file(dir.join("link"));
    std::os::unix::fs::symlink(format!("etc/deep/er/config{round}"), dir.join("link"))
        .expect("symlink");
    let _ = std::fs::remove_file(dir.join("hard"));
    std::fs::hard_link(dir.join("small"), dir.join("hard")).expect("link");
    // A sparse file: a hole, then data.
    let f = std::fs::File::create(dir.join("sparse")).expect("create");
    f.set_len(8 << 20).expect("size");
    use std::os::unix::fs::FileExt;
    f.write_all_at(&bytes(4096), 6 << 20).expect("write");
    if round > 0 {
        let _ = std::fs::remove_file(dir.join(format!("round{}", round - 1)));
        let _ = std::fs::rename(dir.join("etc/deep"), dir.join("etc/moved"));
    }
}

fn hidden_left(t: &TestPool) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![t.mnt()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with(".lumen-new-") {
                out.push(e.path().display().to_string());
            }
            if e.file_type().is_ok_and(|f| f.is_dir()) && !e.path().starts_with(t.mnt().join("x")) {
                stack.push(e.path());
            }
        }
    }
    out
}

#[test]
fn full_and_incremental_streams_round_trip_byte_for_byte() {
    if !can_make_pools("full_and_incremental_streams_round_trip_byte_for_byte") {
        return;
    }
    let a = TestPool::new("src", 512 << 20);
    let b = TestPool::new("dst", 512 << 20);
    let (pa, pb) = (a.pool(), b.pool());
    pa.create(&ds("src/data"), &CreateOptions::default())
        .expect("create");
    let data = a.mnt().join("data");
    populate(&data, 0);
    pa.snapshot(&snap("src/data@one"), false).expect("snap");
    let mut full = Vec::new();
    pa.send(&snap("src/data@one"), &SendOptions::default(), &mut full)
        .expect("send");
    let got = pb
        .receive(&ds("dst/copy"), &full[..], &ReceiveOptions::default())
        .expect("receive");
    assert_eq!(got, [snap("dst/copy@one")]);
    assert_eq!(tree_digest(&b.mnt().join("copy")), tree_digest(&data));
    assert_eq!(
        tree_digest(&b.mnt().join("copy/.zfs/snapshot/one")),
        tree_digest(&data)
    );
    // Incremental: renames, deletions, new files, a changed link.
    populate(&data, 1);
    pa.snapshot(&snap("src/data@two"), false).expect("snap");
    let mut inc = Vec::new();
    pa.send(
        &snap("src/data@two"),
        &SendOptions {
            from: Some("@one".into()),
            replicate: false,
        },
        &mut inc,
    )
    .expect("send -i");
    assert!(
        inc.len() < full.len(),
        "an incremental stream carries only changes"
    );
    pb.receive(&ds("dst/copy"), &inc[..], &ReceiveOptions::default())
        .expect("receive -i");
    assert_eq!(tree_digest(&b.mnt().join("copy")), tree_digest(&data));
    // A stream can go through a pipe to another process (another node).
    let mut cat = std::process::Command::new("cat")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("cat");
    let mut sin = cat.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || sin.write_all(&full));
    let out = cat.stdout.take().expect("stdout");
    pb.receive(&ds("dst/again"), out, &ReceiveOptions::default())
        .expect("receive through a pipe");
    writer.join().expect("writer").expect("write");
    cat.wait().expect("cat");
    assert_eq!(
        tree_digest(&b.mnt().join("again/.zfs/snapshot/one")),
        tree_digest(&a.mnt().join("data/.zfs/snapshot/one"))
    );
    assert!(hidden_left(&b).is_empty(), "{:?}", hidden_left(&b));
}

#[test]
fn a_replicated_stream_carries_children_and_every_snapshot() {
    if !can_make_pools("a_replicated_stream_carries_children_and_every_snapshot") {
        return;
    }
    let a = TestPool::new("src", 512 << 20);
    let b = TestPool::new("dst", 512 << 20);
    let (pa, pb) = (a.pool(), b.pool());
    pa.create(
        &ds("src/app/db"),
        &CreateOptions {
            parents: true,
            ..Default::default()
        },
    )
    .expect("create");
    populate(&a.mnt().join("app"), 0);
    populate(&a.mnt().join("app/db"), 3);
    pa.snapshot(&snap("src/app@a"), true).expect("snap -r");
    populate(&a.mnt().join("app/db"), 4);
    pa.snapshot(&snap("src/app@b"), true).expect("snap -r");
    let mut s = Vec::new();
    pa.send(
        &snap("src/app@b"),
        &SendOptions {
            from: None,
            replicate: true,
        },
        &mut s,
    )
    .expect("send -R");
    pb.receive(&ds("dst/app"), &s[..], &ReceiveOptions::default())
        .expect("receive -R");
    let names: Vec<String> = pb
        .entries()
        .expect("entries")
        .iter()
        .map(|e| e.name.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "dst",
            "dst/app",
            "dst/app@a",
            "dst/app@b",
            "dst/app/db",
            "dst/app/db@a",
            "dst/app/db@b"
        ]
    );
    for p in ["app/db", "app/db/.zfs/snapshot/a", "app/.zfs/snapshot/b"] {
        assert_eq!(
            tree_digest(&b.mnt().join(p)),
            tree_digest(&a.mnt().join(p)),
            "{p}"
        );
    }
}

#[test]
fn truncated_and_corrupt_streams_are_refused_and_leave_nothing() {
    if !can_make_pools("truncated_and_corrupt_streams_are_refused_and_leave_nothing") {
        return;
    }
    let a = TestPool::new("src", 512 << 20);
    let b = TestPool::new("dst", 512 << 20);
    let (pa, pb) = (a.pool(), b.pool());
    pa.create(&ds("src/data"), &CreateOptions::default())
        .expect("create");
    populate(&a.mnt().join("data"), 0);
    pa.snapshot(&snap("src/data@one"), false).expect("snap");
    let mut full = Vec::new();
    pa.send(&snap("src/data@one"), &SendOptions::default(), &mut full)
        .expect("send");
    let before: Vec<String> = pb
        .entries()
        .expect("e")
        .iter()
        .map(|e| e.name.to_string())
        .collect();
    let cuts = [10, 17, 100, full.len() / 2, full.len() - 11, full.len() - 1];
    for cut in cuts {
        let e = pb
            .receive(&ds("dst/copy"), &full[..cut], &ReceiveOptions::default())
            .expect_err("truncated");
        assert!(
            e.to_string().contains("truncated") || e.to_string().contains("magic"),
            "{cut}: {e}"
        );
    }
    for at in [40, full.len() / 3, full.len() - 5] {
        let mut bad = full.clone();
        bad[at] ^= 0x40;
        let e = pb
            .receive(&ds("dst/copy"), &bad[..], &ReceiveOptions::default())
            .expect_err("corrupt");
        assert!(
            e.to_string().contains("checksum")
                || e.to_string().contains("truncated")
                || e.to_string().contains("runs past"),
            "{at}: {e}"
        );
    }
    let after: Vec<String> = pb
        .entries()
        .expect("e")
        .iter()
        .map(|e| e.name.to_string())
        .collect();
    assert_eq!(before, after);
    assert!(hidden_left(&b).is_empty(), "{:?}", hidden_left(&b));
    // And the whole stream still goes in afterwards.
    pb.receive(&ds("dst/copy"), &full[..], &ReceiveOptions::default())
        .expect("receive");
}
