//! The VMM's costs against Firecracker's published bars (there is no
//! Firecracker in Debian to run beside it): `cargo bench --bench vmm`, as
//! root on a KVM host.
//!
//! (a) start: `lumen vmm` of a 128 MiB VM whose first instruction writes
//!     the exit port, from spawn to exit — an upper bound of "start to
//!     first guest instruction" (it includes tearing the VM down) — as wall
//!     time and as CPU time (Firecracker: API-ready in 8 CPU-ms).
//! (b) memory: resident memory of a running VMM that is not guest RAM
//!     (Firecracker: ≤ 5 MiB).
//! (c) a port-I/O exit handled in user space: a guest doing 20,000 `out`s
//!     against one doing none, the difference per exit.
//! (d) virtio-blk sequential 4 KiB reads, one in flight: the `blk` test
//!     guest doing 2,000 reads (`reads=N`) against one doing none, the
//!     difference per read (a notify exit, the device's request, the
//!     guest's poll) and the throughput it makes.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 15;

/// `mov $0xf4,%dx; xor %eax,%eax; out %eax,%dx`
const EXIT0: &[u8] = &[0x66, 0xba, 0xf4, 0x00, 0x31, 0xc0, 0xef];
/// `1: pause; jmp 1b`
const SPIN: &[u8] = &[0xf3, 0x90, 0xeb, 0xfc];

/// `mov $n,%ecx; mov $0x80,%dx; 1: out %al,%dx; dec %ecx; jnz 1b; exit 0`
/// (with n = 0 the loop is skipped).
fn pio_loop(n: u32) -> Vec<u8> {
    let mut code = vec![0xb9];
    code.extend_from_slice(&n.to_le_bytes());
    code.extend_from_slice(&[0x85, 0xc9, 0x74, 0x09]); // test %ecx,%ecx; jz over the loop
    code.extend_from_slice(&[0x66, 0xba, 0x80, 0x00, 0xee, 0xff, 0xc9, 0x75, 0xfb]);
    code.extend_from_slice(EXIT0);
    code
}

fn write(dir: &Path, name: &str, code: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(code))
        .expect("payload");
    path
}

/// Run `lumen vmm --payload image ARGS`; wall time and the child's CPU time.
// The child is reaped by wait4, which std's wait cannot replace: it also
// returns the child's resource usage.
#[allow(clippy::zombie_processes)]
fn run(lumen: &str, image: &Path, args: &[&str]) -> (Duration, Duration) {
    let start = Instant::now();
    let child = Command::new(lumen)
        .args(["vmm", "--ram", "128", "--payload"])
        .arg(image)
        .args(args)
        .stdout(Stdio::null())
        .spawn()
        .expect("lumen vmm");
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    // SAFETY: waiting for our own child, once.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert!(
        rc == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "lumen vmm failed"
    );
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (wall, tv(usage.ru_utime) + tv(usage.ru_stime))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Resident kB of a running VMM: (all, guest RAM's mapping).
fn resident(pid: u32, ram_kb: u64) -> (u64, u64) {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).expect("smaps");
    let (mut all, mut guest) = (0, 0);
    let mut size = 0;
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("Size:") => size = words.next().and_then(|w| w.parse().ok()).unwrap_or(0),
            Some("Rss:") => {
                let rss: u64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                all += rss;
                if size == ram_kb {
                    guest += rss;
                }
            }
            _ => {}
        }
    }
    (all, guest)
}

fn main() {
    let lumen = env!("CARGO_BIN_EXE_lumen");
    if std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_err()
    {
        eprintln!("vmm bench: /dev/kvm cannot be opened (run as root on a KVM host)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let exit0 = write(dir.path(), "exit0.bin", EXIT0);
    run(lumen, &exit0, &[]); // warm the page cache

    let (walls, cpus): (Vec<_>, Vec<_>) = (0..RUNS).map(|_| run(lumen, &exit0, &[])).unzip();
    println!(
        "(a) start → first instruction → exit: wall {:.2} ms, CPU {:.2} ms (median of {RUNS}; Firecracker: 8 CPU-ms to API-ready)",
        median(walls).as_secs_f64() * 1e3,
        median(cpus).as_secs_f64() * 1e3
    );

    let spin = write(dir.path(), "spin.bin", SPIN);
    let mut child = Command::new(lumen)
        .args(["vmm", "--ram", "128", "--payload"])
        .arg(&spin)
        .stdout(Stdio::null())
        .spawn()
        .expect("lumen vmm");
    std::thread::sleep(Duration::from_millis(300));
    let (all, guest) = resident(child.id(), 128 * 1024);
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "(b) resident memory: {:.2} MiB in all, {:.2} MiB of it guest RAM, overhead {:.2} MiB (Firecracker: ≤ 5 MiB)",
        all as f64 / 1024.0,
        guest as f64 / 1024.0,
        (all - guest) as f64 / 1024.0
    );

    const EXITS: u32 = 20_000;
    let none = write(dir.path(), "pio0.bin", &pio_loop(0));
    let many = write(dir.path(), "pioN.bin", &pio_loop(EXITS));
    let mut per_exit = Vec::new();
    for _ in 0..5 {
        let (base, _) = run(lumen, &none, &[]);
        let (with, _) = run(lumen, &many, &[]);
        per_exit.push(with.saturating_sub(base) / EXITS);
    }
    println!(
        "(c) port-I/O exit handled in user space: {:.2} µs per round trip (median of 5 pairs, {EXITS} exits each)",
        median(per_exit).as_secs_f64() * 1e6
    );

    const READS: u32 = 2_000;
    const BLOCK: f64 = 4096.0;
    let blk = write(
        dir.path(),
        "blk.bin",
        hypervisor::guests::by_name("blk").expect("the blk test guest"),
    );
    let disk = dir.path().join("disk.img");
    std::fs::write(&disk, vec![0u8; 1 << 20]).expect("disk image");
    let disk = disk.to_str().expect("a UTF-8 temporary path");
    let reads = format!("reads={READS}");
    let mut per_read = Vec::new();
    for _ in 0..5 {
        let (base, _) = run(lumen, &blk, &["--disk", disk]);
        let (with, _) = run(lumen, &blk, &["--disk", disk, "--boot-args", &reads]);
        per_read.push(with.saturating_sub(base) / READS);
    }
    let per_read = median(per_read);
    println!(
        "(d) virtio-blk sequential 4 KiB reads, one in flight: {:.2} µs per read, {:.1} MiB/s (median of 5 pairs, {READS} reads each)",
        per_read.as_secs_f64() * 1e6,
        BLOCK / per_read.as_secs_f64() / (1024.0 * 1024.0)
    );
}
