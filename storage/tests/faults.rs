//! A btrfs call that fails half way (injected through `btrfs::Faulty`,
//! which stands in for the kernel) leaves no dataset, snapshot or hidden
//! subvolume behind, and the error names the call.

mod common;

use common::{can_make_pools, TestPool};
use std::sync::Arc;
use storage::btrfs::Faulty;
use storage::dataset::CreateOptions;
use storage::name::{DatasetName, SnapshotName};
use storage::pool::Pools;

fn ds(n: &str) -> DatasetName {
    DatasetName::parse(n).expect("name")
}

fn snap(n: &str) -> SnapshotName {
    SnapshotName::parse(n).expect("name")
}

/// Every subvolume path of the pool (hidden ones too), from the mount.
fn subvolumes(t: &TestPool) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![t.mnt()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().is_ok_and(|f| f.is_dir()) {
                let p = e.path();
                out.push(
                    p.strip_prefix(t.mnt())
                        .expect("inside")
                        .display()
                        .to_string(),
                );
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_failed_call_in_the_middle_leaves_nothing() {
    if !can_make_pools("a_failed_call_in_the_middle_leaves_nothing") {
        return;
    }
    let t = TestPool::new("tank", 512 << 20);
    t.pool()
        .create(&ds("tank/base"), &CreateOptions::default())
        .expect("create");
    std::fs::write(t.mnt().join("base/f"), b"data").expect("write");
    t.pool()
        .snapshot(&snap("tank/base@s"), false)
        .expect("snapshot");
    let before = subvolumes(&t);
    // (the call that fails, what is tried)
    let cases: &[(&str, &str)] = &[
        ("qgroup_create", "create"),
        ("qgroup_assign", "create"),
        ("subvol_id", "clone"),
        ("qgroup_create", "clone"),
        ("set_read_only", "snapshot"),
        ("snapshot", "rollback"),
        ("set_received", "receive"),
    ];
    let mut stream = Vec::new();
    t.pool()
        .send(&snap("tank/base@s"), &Default::default(), &mut stream)
        .expect("send");
    for (call, what) in cases {
        let pool = Pools::at(t.root())
            .expect("pools")
            .open("tank")
            .expect("open")
            .with_kernel(Arc::new(Faulty::new(call, 1, libc::EIO)));
        let got = match *what {
            "create" => pool.create(&ds("tank/new"), &CreateOptions::default()),
            "clone" => pool.clone_snapshot(&snap("tank/base@s"), &ds("tank/new")),
            "snapshot" => pool.snapshot(&snap("tank/base@new"), false).map(drop),
            "rollback" => pool.rollback(&snap("tank/base@s"), false),
            _ => pool
                .receive(&ds("tank/new"), &stream[..], &Default::default())
                .map(drop),
        };
        let e = got.expect_err("the injected failure");
        assert!(
            e.to_string().contains("Input/output error"),
            "{call} during {what}: {e}"
        );
        assert_eq!(
            subvolumes(&t),
            before,
            "{call} failing during {what} left something"
        );
        // And the dataset that was there is as it was.
        assert_eq!(
            std::fs::read(t.mnt().join("base/f")).expect("read"),
            b"data",
            "{call} during {what}"
        );
    }
}
