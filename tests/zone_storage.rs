//! Zones on the `zones` pool, end to end under a test's own LUMEN_ROOT
//! (its pool a sparse file on a loop device, destroyed at the end): a
//! zone cloned from an imported image, its quota failing a write with
//! EDQUOT, its delegated dataset, and `vmadm delete` destroying its
//! dataset so the image can go.

mod common;

use common::{lumen_in, text};
use std::path::Path;

const IMAGE: &str = "1b0dc3f0-0000-4000-8000-0000000000aa";
const ZONE: &str = "2b0dc3f0-0000-4000-8000-0000000000bb";
const PLAIN: &str = "2b0dc3f0-0000-4000-8000-0000000000cc";

fn ready(test: &str) -> bool {
    common::root(test)
        && common::installed(test, "mkfs.btrfs")
        && common::installed(test, "busybox")
}

fn ok(root: &Path, args: &[&str], stdin: &str) -> String {
    let out = lumen_in(root, args, stdin);
    assert!(
        out.status.success(),
        "lumen {args:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The test's state: zones deleted, then the pool destroyed, on drop.
struct Node(tempfile::TempDir);

impl Drop for Node {
    fn drop(&mut self) {
        let root = self.0.path();
        for z in [ZONE, PLAIN, VM, IO_ZONE] {
            let _ = lumen_in(root, &["vmadm", "delete", z], "");
        }
        for i in [IMAGE, DISK_IMAGE] {
            let _ = lumen_in(root, &["imgadm", "delete", i], "");
        }
        let _ = lumen_in(root, &["zpool", "destroy", "zones"], "");
    }
}

/// A busybox root file system and its manifest.
fn image(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).expect("mkdir");
    std::fs::create_dir_all(rootfs.join("etc")).expect("mkdir");
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).expect("busybox");
    for c in ["sh", "id", "sleep", "dd", "stat", "touch", "cat", "ls"] {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(c)).expect("link");
    }
    std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").expect("passwd");
    std::fs::write(rootfs.join("etc/motd"), "from the image\n").expect("motd");
    let manifest = dir.join("image.json");
    std::fs::write(
        &manifest,
        format!(r#"{{"uuid": "{IMAGE}", "name": "busybox", "version": "1.36", "type": "zone-dataset", "os": "linux"}}"#),
    )
    .expect("manifest");
    (rootfs, manifest)
}

#[test]
fn a_zone_from_an_image_with_quota_and_delegated_dataset() {
    if !ready("a_zone_from_an_image_with_quota_and_delegated_dataset") {
        return;
    }
    let node = Node(tempfile::tempdir().expect("dir"));
    let root = node.0.path();
    ok(root, &["zpool", "create", "-s", "3G"], "");
    let src = tempfile::tempdir().expect("dir");
    let (rootfs, manifest) = image(src.path());
    // A tarball, as images ship.
    let tarball = src.path().join("busybox.tar.gz");
    let st = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&tarball)
        .arg("-C")
        .arg(&rootfs)
        .arg(".")
        .status()
        .expect("tar");
    assert!(st.success());
    ok(
        root,
        &[
            "imgadm",
            "import",
            "-m",
            &manifest.to_string_lossy(),
            &tarball.to_string_lossy(),
        ],
        "",
    );
    let list = ok(root, &["imgadm", "list", "-H"], "");
    assert!(
        list.starts_with(&format!("{IMAGE}\tbusybox\t1.36\tlinux\tzone-dataset")),
        "{list}"
    );
    let snaps = ok(
        root,
        &["zfs", "list", "-H", "-t", "snapshot", "-o", "name"],
        "",
    );
    assert_eq!(snaps.trim(), format!("zones/{IMAGE}@final"));

    ok(
        root,
        &["vmadm", "create"],
        &format!(
            r#"{{"uuid": "{ZONE}", "alias": "bb", "image_uuid": "{IMAGE}", "quota": 1,
                "delegate_dataset": true, "init": ["/bin/sleep", "100000"]}}"#
        ),
    );
    // Its root is the dataset zones/UUID, a clone of the image.
    let out = ok(
        root,
        &[
            "zfs",
            "list",
            "-H",
            "-o",
            "name,quota,origin",
            "-p",
            "-r",
            &format!("zones/{ZONE}"),
        ],
        "",
    );
    let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(
        rows[0],
        [
            format!("zones/{ZONE}").as_str(),
            &(1u64 << 30).to_string(),
            &format!("zones/{IMAGE}@final")
        ]
    );
    assert_eq!(rows[1][0], format!("zones/{ZONE}/data"));
    // Inside, the image's files are root's, and the zone's root may write.
    let out = ok(
        root,
        &[
            "zlogin",
            ZONE,
            "/bin/sh",
            "-c",
            "id -u; cat /etc/motd; stat -c %u /etc/motd; touch /made && stat -c %u /made",
        ],
        "",
    );
    assert_eq!(out, "0\nfrom the image\n0\n0\n");
    // Its delegated dataset is there, and its own.
    let out = ok(
        root,
        &[
            "zlogin",
            ZONE,
            "/bin/sh",
            "-c",
            &format!("touch /zones/{ZONE}/data/x && stat -c %u /zones/{ZONE}/data/x"),
        ],
        "",
    );
    assert_eq!(out.trim(), "0");
    assert!(root.join(format!("zones/{ZONE}/data/x")).exists());
    // The quota (1 GiB) stops a write past it with EDQUOT.
    let out = lumen_in(
        root,
        &[
            "zlogin",
            ZONE,
            "/bin/sh",
            "-c",
            "dd if=/dev/zero of=/big bs=1M count=1200 conv=fsync",
        ],
        "",
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("Disk quota exceeded"),
        "{}",
        text(&out.stderr)
    );
    // The image cannot go while the zone is its clone; after delete it can.
    let out = lumen_in(root, &["imgadm", "delete", IMAGE], "");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("in use by"),
        "{}",
        text(&out.stderr)
    );
    ok(root, &["vmadm", "delete", ZONE], "");
    let left = ok(root, &["zfs", "list", "-H", "-o", "name"], "");
    assert!(!left.contains(ZONE), "{left}");
    ok(root, &["imgadm", "delete", IMAGE], "");
}

#[test]
fn a_zone_without_an_image_is_a_dataset_too() {
    if !ready("a_zone_without_an_image_is_a_dataset_too") {
        return;
    }
    let node = Node(tempfile::tempdir().expect("dir"));
    let root = node.0.path();
    ok(root, &["zpool", "create", "-s", "1G"], "");
    ok(
        root,
        &["vmadm", "create"],
        &format!(r#"{{"uuid": "{PLAIN}", "init": ["/bin/sleep", "100000"]}}"#),
    );
    let out = ok(root, &["zfs", "list", "-H", "-o", "name"], "");
    assert!(out.lines().any(|l| l == format!("zones/{PLAIN}")), "{out}");
    // The sparse root, as before: the host's /usr, files the zone's range's.
    let out = ok(
        root,
        &[
            "zlogin",
            PLAIN,
            "/bin/sh",
            "-c",
            "touch /mine && id -u && ls /usr/bin | head -1",
        ],
        "",
    );
    assert!(out.starts_with("0\n"), "{out}");
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata(root.join(format!("zones/{PLAIN}/root/mine")))
        .expect("stat")
        .uid();
    assert!(
        uid >= 0x7000_0000,
        "a file the zone made is an unprivileged host id's: {uid}"
    );
    ok(root, &["vmadm", "delete", PLAIN], "");
    let out = ok(root, &["zfs", "list", "-H", "-o", "name"], "");
    assert_eq!(out.trim(), "zones");
}

#[test]
fn storage_fields_without_a_pool_are_refused_by_path() {
    if !common::root("storage_fields_without_a_pool_are_refused_by_path") {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let out = lumen_in(
        dir.path(),
        &["vmadm", "create"],
        &format!(r#"{{"image_uuid": "{IMAGE}", "quota": 5, "autoboot": false}}"#),
    );
    assert!(!out.status.success());
    let e = text(&out.stderr);
    assert!(
        e.contains("$.image_uuid: zones from images need the zones pool"),
        "{e}"
    );
    assert!(e.contains("$.quota: a quota needs the zones pool"), "{e}");
}

const DISK_IMAGE: &str = "1b0dc3f0-0000-4000-8000-0000000000dd";
const VM: &str = "2b0dc3f0-0000-4000-8000-0000000000ee";

#[test]
fn a_vm_disk_is_a_volume_cloned_from_a_zvol_image() {
    if !(ready("a_vm_disk_is_a_volume_cloned_from_a_zvol_image")
        && common::kvm("a_vm_disk_is_a_volume_cloned_from_a_zvol_image"))
    {
        return;
    }
    let node = Node(tempfile::tempdir().expect("dir"));
    let root = node.0.path();
    ok(root, &["zpool", "create", "-s", "1G"], "");
    // A 1 MiB disk image whose sector 0 is byte i = i & 0xff.
    let src = tempfile::tempdir().expect("dir");
    let mut disk = vec![0u8; 1 << 20];
    for (i, b) in disk.iter_mut().take(512).enumerate() {
        *b = (i & 0xff) as u8;
    }
    let raw = src.path().join("disk.raw");
    std::fs::write(&raw, &disk).expect("write");
    let manifest = src.path().join("disk.json");
    std::fs::write(
        &manifest,
        format!(r#"{{"uuid": "{DISK_IMAGE}", "name": "blank", "version": "1", "type": "zvol"}}"#),
    )
    .expect("manifest");
    ok(
        root,
        &[
            "imgadm",
            "import",
            "-m",
            &manifest.to_string_lossy(),
            &raw.to_string_lossy(),
        ],
        "",
    );
    let payload = src.path().join("blk.bin");
    std::fs::write(&payload, hypervisor::guests::BLK).expect("guest");
    ok(
        root,
        &["vmadm", "create"],
        &format!(
            r#"{{"uuid": "{VM}", "brand": "kvm", "ram": 32, "payload": "{}",
                "boot_args": "sector0=check", "disks": [{{"image_uuid": "{DISK_IMAGE}"}}]}}"#,
            payload.display()
        ),
    );
    let console = root.join(format!("zones/{VM}/vm/console.log"));
    let start = std::time::Instant::now();
    let mut log = String::new();
    while start.elapsed() < std::time::Duration::from_secs(20) && !log.contains("blk: ") {
        std::thread::sleep(std::time::Duration::from_millis(50));
        log = std::fs::read_to_string(&console).unwrap_or_default();
    }
    // The guest read the image's sector 0 through the volume and wrote 1-2.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !log.contains("blk: ok") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        log = std::fs::read_to_string(&console).unwrap_or_default();
    }
    assert!(log.contains("blk: ok"), "{log}");
    let volume = root.join(format!("zones/{VM}-disk0/volume"));
    let written = std::fs::read(&volume).expect("the disk is a volume");
    assert_eq!(&written[..512], &disk[..512]);
    for i in 0..512usize {
        assert_eq!(
            written[512 + i],
            ((i * 7 + 1) & 0xff) as u8,
            "byte {i} of sector 1"
        );
    }
    // The image itself is untouched: the volume is its clone.
    let image = std::fs::read(root.join(format!("zones/{DISK_IMAGE}/.zfs/snapshot/final/volume")))
        .expect("image");
    assert_eq!(image, disk);
    let listed = ok(root, &["zfs", "list", "-H", "-o", "name,type,origin"], "");
    assert!(
        listed.contains(&format!(
            "zones/{VM}-disk0\tvolume\tzones/{DISK_IMAGE}@final"
        )),
        "{listed}"
    );
    ok(root, &["vmadm", "delete", VM], "");
    let listed = ok(root, &["zfs", "list", "-H", "-o", "name"], "");
    assert!(
        !listed.contains(VM),
        "deleting the VM destroys its disks: {listed}"
    );
}

const IO_ZONE: &str = "2b0dc3f0-0000-4000-8000-0000000000ff";

#[test]
fn zoneiolat_attributes_a_zones_dd_to_that_zone() {
    if !(ready("zoneiolat_attributes_a_zones_dd_to_that_zone")
        && common::kernel_probes("zoneiolat_attributes_a_zones_dd_to_that_zone"))
    {
        return;
    }
    let node = Node(tempfile::tempdir().expect("dir"));
    let root = node.0.path();
    ok(root, &["zpool", "create", "-s", "1G"], "");
    ok(
        root,
        &["vmadm", "create"],
        &format!(r#"{{"uuid": "{IO_ZONE}", "init": ["/bin/sh", "-c", "sleep 100000"]}}"#),
    );
    let script = common::workspace().join("examples/zoneiolat.d");
    let tracer = std::process::Command::new(common::LUMEN)
        .env("LUMEN_ROOT", root)
        .args(["dtrace", "-q", "-s"])
        .arg(&script)
        .args(["-n", "tick-8s { exit(0); }"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("dtrace");
    std::thread::sleep(std::time::Duration::from_secs(3));
    // 200 direct 64 KiB writes: each a request of the zone's own thread.
    ok(
        root,
        &[
            "zlogin",
            IO_ZONE,
            "/bin/sh",
            "-c",
            "dd if=/dev/zero of=/f bs=64k count=200 oflag=direct",
        ],
        "",
    );
    let out = tracer.wait_with_output().expect("dtrace");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    // The histogram's key is the zone, and its count line says how many.
    assert!(stdout.contains(&format!("  {IO_ZONE}")), "{stdout}");
    let count: u64 = stdout
        .lines()
        .find(|l| l.trim_start().starts_with(IO_ZONE) && l.split_whitespace().count() == 2)
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or_else(|| panic!("no count line for the zone: {stdout}"));
    assert!(
        count >= 200,
        "{count} requests attributed to the zone: {stdout}"
    );
    ok(root, &["vmadm", "delete", IO_ZONE], "");
}
