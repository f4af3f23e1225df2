//! Storage benchmarks, printed with their ratios: `cargo bench --bench
//! storage`, as root, with btrfs-progs and busybox-static installed. Each
//! part makes its own file-backed pool under a temporary LUMEN_ROOT and
//! destroys it.
//!
//! 1. A zone from an image: `vmadm create` of a zone with `image_uuid`
//!    (clone of `zones/IMAGE@final`, idmapped root, boot until its init
//!    has exec'd), against `cp -a` of the same image's files on the same
//!    pool, for a small image (busybox) and a large one (20,000 files and
//!    256 MiB of data); and the clone alone, in this process.
//! 2. A VM's virtio-blk throughput on a volume, against the host reading
//!    and writing the same file: the `blkbench` guest streams the volume
//!    in 1 MiB requests (1, 4 or 8 in flight); its run less a run that
//!    boots and exits at once is the I/O's time. The host does `pread`/`pwrite` of
//!    the same sizes on the same file, cached as the VMM is: through the
//!    page cache (warm for both) with the disk's default `cache=writeback`,
//!    `O_DIRECT` with `cache=none`.
//! 3. `lumen zfs list` (and `-H -p`) of 1,000 datasets.

use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LUMEN: &str = env!("CARGO_BIN_EXE_lumen");

fn lumen(root: &Path, args: &[&str], stdin: &str) -> Duration {
    use std::io::Write;
    let t = Instant::now();
    let mut child = Command::new(LUMEN)
        .env("LUMEN_ROOT", root)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lumen");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().expect("lumen");
    let took = t.elapsed();
    assert!(
        out.status.success(),
        "lumen {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// A busybox root file system at `dir`, with `files` extra files of
/// 16 KiB and `big_mib` MiB in four large files.
fn rootfs(dir: &Path, files: usize, big_mib: usize) {
    std::fs::create_dir_all(dir.join("bin")).expect("mkdir");
    std::fs::create_dir_all(dir.join("etc")).expect("mkdir");
    std::fs::copy("/bin/busybox", dir.join("bin/busybox")).expect("busybox-static");
    for c in ["sh", "sleep", "true"] {
        std::os::unix::fs::symlink("busybox", dir.join("bin").join(c)).expect("link");
    }
    std::fs::write(dir.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").expect("passwd");
    let small = vec![0x5au8; 16 << 10];
    for i in 0..files {
        let d = dir.join(format!("usr/share/data/{}", i / 500));
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(d.join(format!("f{i}")), &small).expect("write");
    }
    let chunk = vec![0xa5u8; 1 << 20];
    for b in 0..4 {
        if big_mib == 0 {
            break;
        }
        let f = std::fs::File::create(dir.join(format!("big{b}"))).expect("create");
        for i in 0..big_mib / 4 {
            f.write_all_at(&chunk, (i as u64) << 20).expect("write");
        }
    }
}

fn image_vs_cp(root: &Path, work: &Path) {
    println!("## A zone from an image against cp -a of the image\n");
    println!(
        "| image | zone ready (vmadm create, clone + boot) | clone alone | cp -a | cp -a / zone |"
    );
    println!("|---|---|---|---|---|");
    for (i, (label, files, big)) in [
        ("busybox, 2 MiB", 0usize, 0usize),
        ("20,000 files + 256 MiB", 20_000, 256),
    ]
    .into_iter()
    .enumerate()
    {
        let src = work.join(format!("image{i}"));
        rootfs(&src, files, big);
        let uuid = format!("1b0dc3f0-0000-4000-8000-00000000010{i}");
        let manifest = work.join(format!("image{i}.json"));
        std::fs::write(
            &manifest,
            format!(r#"{{"uuid": "{uuid}", "name": "bench{i}", "version": "1", "type": "zone-dataset"}}"#),
        )
        .expect("manifest");
        lumen(
            root,
            &[
                "imgadm",
                "import",
                "-m",
                &manifest.to_string_lossy(),
                &src.to_string_lossy(),
            ],
            "",
        );
        // Steady state: the import's writeback and the last delete's
        // cleanup done before each timed create.
        let settle = || {
            let _ = Command::new("sync")
                .arg("-f")
                .arg(root.join("zones"))
                .status();
            // Deleted subvolumes cleaned up (`btrfs subvolume sync`).
            let _ = Command::new("btrfs")
                .args(["subvolume", "sync"])
                .arg(root.join("zones"))
                .stdout(Stdio::null())
                .status();
        };
        let mut zone = Vec::new();
        for r in 0..7 {
            settle();
            let z = format!("3b0dc3f0-0000-4000-8000-0000000{i}{r:04}");
            let m = format!(
                r#"{{"uuid": "{z}", "image_uuid": "{uuid}", "init": ["/bin/sleep", "1000"]}}"#
            );
            zone.push(lumen(root, &["vmadm", "create"], &m));
            lumen(root, &["vmadm", "delete", &z], "");
        }
        let pools = storage::pool::Pools::at(root).expect("pools");
        let pool = pools.open("zones").expect("zones pool");
        let snap =
            storage::name::SnapshotName::parse(&format!("zones/{uuid}@final")).expect("name");
        let mut clone = Vec::new();
        for r in 0..7 {
            settle();
            let d =
                storage::name::DatasetName::parse(&format!("zones/bench-clone{r}")).expect("name");
            let t = Instant::now();
            pool.clone_snapshot(&snap, &d).expect("clone");
            clone.push(t.elapsed());
            pool.destroy(&storage::name::AnyName::Dataset(d), true)
                .expect("destroy");
        }
        let image_root = root.join(format!("zones/{uuid}/root"));
        let mut cp = Vec::new();
        for r in 0..3 {
            settle();
            let dest = root.join(format!("zones/cp{r}"));
            let t = Instant::now();
            let ok = Command::new("cp")
                .arg("-a")
                .arg(&image_root)
                .arg(&dest)
                .status()
                .expect("cp");
            // cp -a returns with the data in the page cache; a zone's clone
            // is on disk once made. Count the sync too.
            let _ = Command::new("sync").arg("-f").arg(&dest).status();
            cp.push(t.elapsed());
            assert!(ok.success());
            std::fs::remove_dir_all(&dest).expect("rm");
        }
        let worst = zone.iter().max().copied().unwrap_or_default();
        let (z, c, p) = (median(zone), median(clone), median(cp));
        println!(
            "| {label} | {} (max {}) | {} | {} | {:.1}x |",
            ms(z),
            ms(worst),
            ms(c),
            ms(p),
            p.as_secs_f64() / z.as_secs_f64()
        );
        lumen(root, &["imgadm", "delete", &uuid], "");
    }
    println!();
}

fn vmm_run(payload: &Path, disk: &Path, args: &str) -> Duration {
    let t = Instant::now();
    let out = Command::new(LUMEN)
        .args(["vmm", "--ram", "64", "--payload"])
        .arg(payload)
        .arg("--disk")
        .arg(disk)
        .args(["--boot-args", args])
        .output()
        .expect("vmm");
    let took = t.elapsed();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn vm_vs_host(root: &Path, work: &Path) {
    const MIB: u64 = 256;
    const PASSES: u64 = 4;
    lumen(
        root,
        &["zfs", "create", "-V", &format!("{MIB}M"), "zones/benchvol"],
        "",
    );
    let vol = root.join("zones/benchvol/volume");
    {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(&vol)
            .expect("volume");
        let chunk = vec![0x3cu8; 1 << 20];
        for i in 0..MIB {
            f.write_all_at(&chunk, i << 20).expect("fill");
        }
        f.sync_all().expect("sync");
    }
    let payload = work.join("blkbench.bin");
    std::fs::write(&payload, hypervisor::guests::BLKBENCH).expect("guest");
    let bytes = (MIB << 20) * PASSES;
    let gib_s = |d: Duration| bytes as f64 / d.as_secs_f64() / (1u64 << 30) as f64;
    println!("## A VM's virtio-blk on a volume against the host on the same file\n");
    println!("{MIB} MiB volume (NOCOW, on a file-backed pool), {PASSES} passes, 1 MiB requests.\n");
    println!(
        "| host cache | direction | requests in flight | VM (blkbench guest) | host pread/pwrite | VM / host |"
    );
    println!("|---|---|---|---|---|---|");
    for direct in [false, true] {
        for (write, depth) in [(false, 1usize), (false, 8), (true, 1), (true, 8)] {
            let disk = if direct {
                format!("{},cache=none", vol.display())
            } else {
                vol.display().to_string()
            };
            let fixed = median(
                (0..5)
                    .map(|_| vmm_run(&payload, Path::new(&disk), "passes=0"))
                    .collect(),
            );
            let args = format!(
                "passes={PASSES} size=1024 depth={depth} write={}",
                u8::from(write)
            );
            let vm: Vec<Duration> = (0..5)
                .map(|_| vmm_run(&payload, Path::new(&disk), &args).saturating_sub(fixed))
                .collect();
            let vm = median(vm);
            let host = median(
                (0..5)
                    .map(|_| host_stream(&vol, direct, write, depth, MIB, PASSES))
                    .collect(),
            );
            println!(
                "| {} | {} | {depth} | {:.2} GiB/s | {:.2} GiB/s | {:.2}x |",
                if direct {
                    "none (O_DIRECT)"
                } else {
                    "writeback (page cache)"
                },
                if write { "write" } else { "read" },
                gib_s(vm),
                gib_s(host),
                host.as_secs_f64() / vm.as_secs_f64()
            );
        }
    }
    // For reference: the host reading the file with O_DIRECT (no page cache).
    {
        use std::os::unix::fs::OpenOptionsExt;
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECT)
            .open(&vol)
            .expect("O_DIRECT");
        let layout = std::alloc::Layout::from_size_align(1 << 20, 4096).expect("layout");
        // SAFETY: a 1 MiB, 4 KiB-aligned allocation, freed below.
        let p = unsafe { std::alloc::alloc(layout) };
        // SAFETY: p points to 1 MiB we own.
        let buf = unsafe { std::slice::from_raw_parts_mut(p, 1 << 20) };
        let t = Instant::now();
        for i in 0..MIB {
            f.read_exact_at(buf, i << 20).expect("read");
        }
        let d = t.elapsed();
        // SAFETY: allocated above with this layout.
        unsafe { std::alloc::dealloc(p, layout) };
        println!(
            "\nHost O_DIRECT read of the same file: {:.2} GiB/s.\n",
            (MIB << 20) as f64 / d.as_secs_f64() / (1u64 << 30) as f64
        );
    }
    lumen(root, &["zfs", "destroy", "zones/benchvol"], "");
}

/// The host streaming `mib` MiB of `vol` `passes` times in 1 MiB
/// `pread`s or `pwrite`s, `O_DIRECT` if `direct`. Its buffers rotate over
/// as much memory as the guest's (`depth` MiB): one reused 1 MiB buffer
/// stays in the CPU's cache, which guest memory the VMM copies into does
/// not. They are page-aligned (an anonymous mapping), as `O_DIRECT` wants.
fn host_stream(
    vol: &Path,
    direct: bool,
    write: bool,
    depth: usize,
    mib: u64,
    passes: u64,
) -> Duration {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(if direct { libc::O_DIRECT } else { 0 })
        .open(vol)
        .expect("volume");
    let len = depth << 20;
    // SAFETY: a fresh private anonymous mapping, unmapped below.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
            -1,
            0,
        )
    };
    assert_ne!(p, libc::MAP_FAILED, "mmap");
    // SAFETY: the mapping is `len` bytes, ours until the munmap below.
    let mem = unsafe { std::slice::from_raw_parts_mut(p.cast::<u8>(), len) };
    let t = Instant::now();
    for _ in 0..passes {
        for i in 0..mib {
            let at = (i as usize % depth) << 20;
            let buf = &mut mem[at..at + (1 << 20)];
            if write {
                f.write_all_at(buf, i << 20).expect("pwrite");
            } else {
                f.read_exact_at(buf, i << 20).expect("pread");
            }
        }
    }
    let took = t.elapsed();
    // SAFETY: unmaps the mapping made above; `mem` is not used after.
    unsafe { libc::munmap(p, len) };
    took
}

fn list_1000(root: &Path) {
    let pools = storage::pool::Pools::at(root).expect("pools");
    let pool = pools.open("zones").expect("pool");
    let t = Instant::now();
    for i in 0..1000 {
        let d = storage::name::DatasetName::parse(&format!("zones/list/d{i:04}")).expect("name");
        pool.create(
            &d,
            &storage::dataset::CreateOptions {
                parents: true,
                ..Default::default()
            },
        )
        .expect("create");
    }
    let made = t.elapsed();
    let list = median((0..5).map(|_| lumen(root, &["zfs", "list"], "")).collect());
    let hp = median(
        (0..5)
            .map(|_| {
                lumen(
                    root,
                    &["zfs", "list", "-H", "-p", "-o", "name,used,avail,refer"],
                    "",
                )
            })
            .collect(),
    );
    let names = median(
        (0..5)
            .map(|_| lumen(root, &["zfs", "list", "-H", "-o", "name"], ""))
            .collect(),
    );
    println!("## zfs list of 1,000 datasets\n");
    println!("| command | time |");
    println!("|---|---|");
    println!("| `zfs list` (1,002 datasets) | {} |", ms(list));
    println!("| `zfs list -H -p -o name,used,avail,refer` | {} |", ms(hp));
    println!("| `zfs list -H -o name` | {} |", ms(names));
    println!(
        "| making the 1,000 (in one process) | {} ({:.2} ms each) |\n",
        ms(made),
        made.as_secs_f64()
    );
    lumen(root, &["zfs", "destroy", "-r", "zones/list"], "");
}

fn main() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("storage bench: needs root (pools, zones, KVM)");
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("lumen-bench-")
        .tempdir()
        .expect("dir");
    let root = dir.path().join("state");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).expect("mkdir");
    lumen(&root, &["zpool", "create", "-s", "8G"], "");
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let want = |part: &str| only.is_empty() || only.iter().any(|o| o == part);
    if want("image") {
        image_vs_cp(&root, &work);
    }
    if want("vm") && Path::new("/dev/kvm").exists() {
        vm_vs_host(&root, &work);
    }
    if want("list") {
        list_1000(&root);
    }
    lumen(&root, &["zpool", "destroy", "zones"], "");
}
