//! Datasets, snapshots, clones, rollback, promote, rename and quotas on a
//! file-backed pool each test makes and destroys.

mod common;

use common::{can_make_pools, tree_digest, TestPool};
use storage::dataset::{CreateOptions, Kind};
use storage::name::{AnyName, DatasetName, SnapshotName};

fn ds(n: &str) -> DatasetName {
    DatasetName::parse(n).expect("name")
}

fn snap(n: &str) -> SnapshotName {
    SnapshotName::parse(n).expect("name")
}

fn names(t: &TestPool) -> Vec<String> {
    t.pool()
        .entries()
        .expect("entries")
        .iter()
        .map(|e| e.name.to_string())
        .collect()
}

#[test]
fn create_snapshot_clone_rollback_destroy() {
    if !can_make_pools("create_snapshot_clone_rollback_destroy") {
        return;
    }
    let t = TestPool::new("tank", 512 << 20);
    let p = t.pool();
    p.create(&ds("tank/a"), &CreateOptions::default())
        .expect("create");
    p.create(&ds("tank/a/b"), &CreateOptions::default())
        .expect("create child");
    let a = t.mnt().join("a");
    std::fs::write(a.join("f"), b"one").expect("write");
    std::fs::create_dir(a.join("d")).expect("mkdir");
    std::fs::write(a.join("d/g"), vec![7u8; 100_000]).expect("write");
    let before = tree_digest(&a);
    p.snapshot(&snap("tank/a@one"), false).expect("snapshot");
    assert!(a.join(".zfs/snapshot/one/f").exists());
    // A change, then a rollback undoes it and keeps the child and snapshot.
    std::fs::write(a.join("f"), b"two").expect("write");
    std::fs::remove_file(a.join("d/g")).expect("rm");
    p.rollback(&snap("tank/a@one"), false).expect("rollback");
    assert_eq!(tree_digest(&a), before);
    assert_eq!(
        names(&t),
        ["tank", "tank/a", "tank/a@one", "tank/a/b"],
        "the child and the snapshot stay the dataset's"
    );
    // A clone shares the snapshot's files and then goes its own way.
    p.clone_snapshot(&snap("tank/a@one"), &ds("tank/c"))
        .expect("clone");
    let c = t.mnt().join("c");
    assert_eq!(tree_digest(&c), before);
    std::fs::write(c.join("f"), b"clone").expect("write");
    assert_eq!(std::fs::read(a.join("f")).expect("read"), b"one");
    let entries = p.entries().expect("entries");
    let ce = entries
        .iter()
        .find(|e| e.name.to_string() == "tank/c")
        .expect("clone listed");
    assert_eq!(
        p.origin_of(&entries, ce).map(|o| o.to_string()).as_deref(),
        Some("tank/a@one")
    );
    // The origin's snapshot cannot go while its clone lives.
    let e = p
        .destroy(&AnyName::parse("tank/a@one").expect("n"), false)
        .expect_err("has a clone");
    assert!(e.to_string().contains("dependent clones"), "{e}");
    // A dataset with children needs -r.
    let e = p
        .destroy(&AnyName::parse("tank/c").expect("n"), false)
        .map(|_| ())
        .and_then(|_| {
            p.destroy(&AnyName::parse("tank/a").expect("n"), false)
                .map(|_| ())
        })
        .expect_err("children");
    assert!(e.to_string().contains("use '-r'"), "{e}");
    p.destroy(&AnyName::parse("tank/a").expect("n"), true)
        .expect("destroy -r");
    assert_eq!(names(&t), ["tank"]);
}

#[test]
fn rollback_past_later_snapshots_needs_r() {
    if !can_make_pools("rollback_past_later_snapshots_needs_r") {
        return;
    }
    let t = TestPool::new("tank", 512 << 20);
    let p = t.pool();
    p.create(&ds("tank/a"), &CreateOptions::default())
        .expect("create");
    let a = t.mnt().join("a");
    for (i, s) in ["s1", "s2", "s3"].iter().enumerate() {
        std::fs::write(a.join("f"), format!("{i}")).expect("write");
        p.snapshot(&snap(&format!("tank/a@{s}")), false)
            .expect("snap");
    }
    let e = p
        .rollback(&snap("tank/a@s1"), false)
        .expect_err("later ones");
    assert!(e.to_string().contains("tank/a@s2 tank/a@s3"), "{e}");
    p.rollback(&snap("tank/a@s1"), true).expect("rollback -r");
    assert_eq!(std::fs::read_to_string(a.join("f")).expect("read"), "0");
    assert_eq!(names(&t), ["tank", "tank/a", "tank/a@s1"]);
}

#[test]
fn promote_moves_the_origin_snapshots_to_the_clone() {
    if !can_make_pools("promote_moves_the_origin_snapshots_to_the_clone") {
        return;
    }
    let t = TestPool::new("tank", 512 << 20);
    let p = t.pool();
    p.create(&ds("tank/img"), &CreateOptions::default())
        .expect("create");
    std::fs::write(t.mnt().join("img/os"), b"release 1").expect("write");
    p.snapshot(&snap("tank/img@base"), false).expect("snap");
    std::fs::write(t.mnt().join("img/os"), b"release 2").expect("write");
    p.snapshot(&snap("tank/img@later"), false).expect("snap");
    p.clone_snapshot(&snap("tank/img@base"), &ds("tank/web"))
        .expect("clone");
    p.promote(&ds("tank/web")).expect("promote");
    let entries = p.entries().expect("entries");
    let find = |n: &str| {
        entries
            .iter()
            .find(|e| e.name.to_string() == n)
            .unwrap_or_else(|| panic!("{n} not listed: {:?}", names(&t)))
    };
    // The origin snapshot (and earlier ones) now belong to the clone.
    assert_eq!(find("tank/web@base").kind, Kind::Snapshot);
    assert!(entries
        .iter()
        .all(|e| e.name.to_string() != "tank/img@base"));
    assert_eq!(p.origin_of(&entries, find("tank/web")), None);
    assert_eq!(
        p.origin_of(&entries, find("tank/img"))
            .map(|o| o.to_string())
            .as_deref(),
        Some("tank/web@base")
    );
    // And the former origin can be destroyed now that nothing depends on it.
    let e = p
        .destroy(&AnyName::parse("tank/web@base").expect("n"), false)
        .expect_err("img is its clone now");
    assert!(e.to_string().contains("tank/img"), "{e}");
    p.destroy(&AnyName::parse("tank/img").expect("n"), true)
        .expect("destroy origin");
    assert_eq!(
        std::fs::read(t.mnt().join("web/.zfs/snapshot/base/os")).expect("read"),
        b"release 1"
    );
}

#[test]
fn rename_moves_snapshots_and_children() {
    if !can_make_pools("rename_moves_snapshots_and_children") {
        return;
    }
    let t = TestPool::new("tank", 512 << 20);
    let p = t.pool();
    p.create(
        &ds("tank/a/b"),
        &CreateOptions {
            parents: true,
            ..Default::default()
        },
    )
    .expect("create -p");
    p.snapshot(&snap("tank/a@s"), true).expect("snapshot -r");
    p.create(&ds("tank/x"), &CreateOptions::default())
        .expect("create");
    p.rename(
        &AnyName::parse("tank/a").expect("n"),
        &AnyName::parse("tank/x/y").expect("n"),
    )
    .expect("rename");
    assert_eq!(
        names(&t),
        [
            "tank",
            "tank/x",
            "tank/x/y",
            "tank/x/y@s",
            "tank/x/y/b",
            "tank/x/y/b@s"
        ]
    );
    p.rename(
        &AnyName::parse("tank/x/y@s").expect("n"),
        &AnyName::parse("tank/x/y@t").expect("n"),
    )
    .expect("rename snapshot");
    assert!(names(&t).contains(&"tank/x/y@t".to_string()));
    let e = p
        .rename(
            &AnyName::parse("tank/x").expect("n"),
            &AnyName::parse("tank/x/y/z").expect("n"),
        )
        .expect_err("below itself");
    assert!(e.to_string().contains("below itself"), "{e}");
}

#[test]
fn quota_and_refquota_fail_writes_with_edquot() {
    if !can_make_pools("quota_and_refquota_fail_writes_with_edquot") {
        return;
    }
    let t = TestPool::new("tank", 1 << 30);
    let p = t.pool();
    p.create(
        &ds("tank/z"),
        &CreateOptions {
            properties: vec![("quota".into(), "20M".into())],
            ..Default::default()
        },
    )
    .expect("create with quota");
    p.create(&ds("tank/z/data"), &CreateOptions::default())
        .expect("child");
    // The child's writes count against its parent's quota.
    let write = |path: &std::path::Path, mib: usize| -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(path)?;
        let chunk = vec![0xa5u8; 1 << 20];
        for _ in 0..mib {
            f.write_all(&chunk)?;
        }
        f.sync_all()
    };
    write(&t.mnt().join("z/data/ok"), 8).expect("within the quota");
    let e = write(&t.mnt().join("z/data/big"), 40).expect_err("past the quota");
    assert_eq!(e.raw_os_error(), Some(libc::EDQUOT), "{e}");
    p.sync().expect("sync");
    let entries = p.entries().expect("entries");
    let z = entries
        .iter()
        .find(|e| e.name.to_string() == "tank/z")
        .expect("z");
    let props = p.properties(&entries, z).expect("props");
    let get = |n: &str| {
        props
            .iter()
            .find(|x| x.name == n)
            .expect("prop")
            .exact
            .clone()
    };
    assert_eq!(get("quota"), (20u64 << 20).to_string());
    let used: u64 = get("used").parse().expect("number");
    assert!((8 << 20..=21 << 20).contains(&used), "used {used}");
    let avail: u64 = get("available").parse().expect("number");
    assert!(avail <= (20 << 20) - (8 << 20), "avail {avail}");
    // refquota limits what the dataset itself holds.
    p.create(&ds("tank/r"), &CreateOptions::default())
        .expect("create");
    p.set_property(&ds("tank/r"), "refquota", "10M")
        .expect("set");
    let e = write(&t.mnt().join("r/big"), 30).expect_err("past the refquota");
    assert_eq!(e.raw_os_error(), Some(libc::EDQUOT), "{e}");
    // Lifting the quota lets the write through.
    p.set_property(&ds("tank/r"), "refquota", "none")
        .expect("set none");
    write(&t.mnt().join("r/big"), 30).expect("no quota");
}

#[test]
fn a_full_pool_is_enospc_for_the_writer() {
    if !can_make_pools("a_full_pool_is_enospc_for_the_writer") {
        return;
    }
    let t = TestPool::new("tank", 300 << 20);
    let p = t.pool();
    p.create(&ds("tank/fill"), &CreateOptions::default())
        .expect("create");
    use std::io::Write;
    let mut f = std::fs::File::create(t.mnt().join("fill/f")).expect("create");
    let chunk = vec![0x5au8; 1 << 20];
    let mut err = None;
    for _ in 0..400 {
        if let Err(e) = f.write_all(&chunk).and_then(|_| f.sync_data()) {
            err = Some(e);
            break;
        }
    }
    let e = err.expect("a 300M pool cannot take 400M");
    assert_eq!(e.raw_os_error(), Some(libc::ENOSPC), "{e}");
}
