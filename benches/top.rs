//! `lumen top`'s own cost with the default panels on an idle machine:
//! CPU time (% of one core, from /proc/PID/stat utime+stime over wall
//! time) and refresh latency (the engine's thread reading every panel's
//! aggregations, then the UI applying them and drawing a frame), measured
//! inside and printed by the hidden `--report-timing`. Runs
//! `lumen top --headless SECONDS` (frames drawn into a 160×48 screen
//! written to /dev/null). `cargo bench --bench top`, as root;
//! LUMEN_TOP_BENCH_SECS sets the run's length (default 60).
//!
//! Two CPU figures: the whole run (start-up included: opening the probe
//! catalogue, compiling and attaching three programs) and the steady
//! state, from 5 s in to 1 s before the end.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// utime + stime of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command (which may hold blanks) in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5); `rest` starts at 3.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn main() {
    let lumen = env!("CARGO_BIN_EXE_lumen");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("bench top: needs root (BPF); skipped");
        return;
    }
    let secs: u64 = std::env::var("LUMEN_TOP_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&s| s >= 10)
        .unwrap_or(60);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let start = Instant::now();
    let mut child = Command::new(lumen)
        .args(["top", "--headless", &secs.to_string(), "--report-timing"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run lumen top");
    let pid = child.id();
    let warm = Duration::from_secs(5);
    std::thread::sleep(warm);
    let (t0, c0) = (Instant::now(), cpu_ticks(pid).expect("/proc/PID/stat"));
    std::thread::sleep(Duration::from_secs(secs) - warm - Duration::from_secs(1));
    let (t1, c1) = (Instant::now(), cpu_ticks(pid).expect("/proc/PID/stat"));
    let last = cpu_ticks(pid);
    let mut report = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut report);
    }
    let status = child.wait().expect("wait");
    let wall = start.elapsed();
    assert!(status.success(), "lumen top failed: {report}");
    let steady = (c1 - c0) as f64 / hz / (t1 - t0).as_secs_f64() * 100.0;
    // The last sample before exit: start-up plus (nearly) all the run.
    let whole = last.unwrap_or(c1) as f64 / hz / wall.as_secs_f64() * 100.0;
    println!("lumen top --headless {secs} (default panels, 1 s refresh)");
    println!(
        "cpu: steady state {steady:.2}% of one core ({} ticks over {:.1} s)",
        c1 - c0,
        (t1 - t0).as_secs_f64()
    );
    println!("cpu: whole run with start-up {whole:.2}% of one core");
    print!("{report}");
    if steady >= 2.0 {
        println!("over the 2% target");
    }
}
