//! Lumen vs Debian's bpftrace, in one run: `cargo bench --bench vs_bpftrace` (as root).
//!
//! Three measurements, each printed with the ratio Lumen / bpftrace and the target from issue 3:
//!
//! (a) start → probes attached: wall time from spawning the tracer until its `BEGIN` clause's
//!     `ready` line appears on stdout (BEGIN fires after every probe is attached in both tools);
//! (b) per-event overhead of `syscall::getpid:entry { @[pid] = count(); }` over a 2,000,000-call
//!     `syscall(SYS_getpid)` loop, minus the untraced loop;
//! (c) per-event overhead of a `quantize` of read(2) latency over 1,000,000 one-byte reads of
//!     `/dev/zero`, minus the untraced loop.
//!
//! The loops are small C helpers compiled with `gcc` into a temporary directory; they time only
//! the loop itself (CLOCK_MONOTONIC) and print the elapsed nanoseconds.
//!
//! In (b) and (c) run i pins the loop to CPU i mod #CPUs (untraced, under lumen and under
//! bpftrace alike): on the project's machine bpftrace's per-event cost depends strongly on the CPU
//! (≈110 ns on CPU 0, ≈60 ns on CPU 1, while Lumen's is the same on both), so unpinned medians
//! would depend on where the scheduler happened to put the loop.
//!
//! Environment: `LUMEN` and `BPFTRACE` override the binaries, `VS_BPFTRACE_RUNS` the number of
//! repetitions (default 7 for (a); for (b) and (c) the smallest multiple of #CPUs ≥ 5).
//!
//! This is a benchmark, not a test: when it cannot run (not root, a tool missing) it says why and
//! exits 0.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

mod tracer;
use tracer::{wait_bounded, Tool, Tracer, LOST_SIGINTS, STARTS};

const GETPID_CALLS: u64 = 2_000_000;
const READ_CALLS: u64 = 1_000_000;

const HELPER_TIMEOUT: Duration = Duration::from_secs(120);

const LUMEN_ONELINER: &str =
    r#"syscall::getpid:entry { @[pid] = count(); } BEGIN { printf("ready\n"); }"#;
const BPFTRACE_ONELINER: &str =
    r#"tracepoint:syscalls:sys_enter_getpid { @[pid] = count(); } BEGIN { printf("ready\n"); }"#;

const LUMEN_QUANTIZE: &str = r#"syscall::read:entry { self->ts = timestamp; } syscall::read:return /self->ts/ { @ = quantize(timestamp - self->ts); self->ts = 0; } BEGIN { printf("ready\n"); }"#;
const BPFTRACE_HIST: &str = r#"tracepoint:syscalls:sys_enter_read { @ts[tid] = nsecs; } tracepoint:syscalls:sys_exit_read /@ts[tid]/ { @ = hist(nsecs - @ts[tid]); delete(@ts[tid]); } BEGIN { printf("ready\n"); }"#;

const GETPID_C: &str = r#"
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++)
        syscall(SYS_getpid);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%lld\n", (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
    return 0;
}
"#;

const READ_C: &str = r#"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int fd = open("/dev/zero", O_RDONLY);
    if (fd < 0) { perror("/dev/zero"); return 1; }
    char c;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++)
        if (read(fd, &c, 1) != 1) { perror("read"); return 1; }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%lld\n", (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
    return 0;
}
"#;

type Result<T> = std::result::Result<T, String>;

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    if unsafe { libc::geteuid() } != 0 {
        println!("vs_bpftrace: skipped — must run as root (both tracers load eBPF programs).");
        println!("  run: sudo -E cargo bench --bench vs_bpftrace");
        return;
    }
    match run() {
        Ok(()) => {}
        Err(e) => {
            eprintln!("vs_bpftrace: {e}");
            std::process::exit(1);
        }
    }
}

struct Tools {
    lumen: PathBuf,
    bpftrace: PathBuf,
    getpid_helper: PathBuf,
    read_helper: PathBuf,
    _dir: tempfile::TempDir,
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn setup() -> std::result::Result<Tools, String> {
    let lumen = std::env::var_os("LUMEN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_lumen")));
    if !lumen.is_file() {
        return Err(format!("lumen binary not found at {}", lumen.display()));
    }
    let bpftrace = match std::env::var_os("BPFTRACE") {
        Some(p) => PathBuf::from(p),
        None => find_in_path("bpftrace")
            .or_else(|| Some(PathBuf::from("/usr/bin/bpftrace")).filter(|p| p.is_file()))
            .ok_or("bpftrace not found in PATH (Debian: apt-get install bpftrace)")?,
    };
    if !bpftrace.is_file() {
        return Err(format!("bpftrace not found at {}", bpftrace.display()));
    }
    let gcc = find_in_path("gcc").ok_or("gcc not found in PATH (needed for the C loop helpers)")?;
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let getpid_helper = compile(&gcc, dir.path(), "getpid_loop", GETPID_C)?;
    let read_helper = compile(&gcc, dir.path(), "read_loop", READ_C)?;
    Ok(Tools {
        lumen,
        bpftrace,
        getpid_helper,
        read_helper,
        _dir: dir,
    })
}

fn compile(gcc: &Path, dir: &Path, name: &str, source: &str) -> Result<PathBuf> {
    let src = dir.join(format!("{name}.c"));
    let bin = dir.join(name);
    std::fs::write(&src, source).map_err(|e| format!("write {}: {e}", src.display()))?;
    let out = Command::new(gcc)
        .args(["-O2", "-o"])
        .arg(&bin)
        .arg(&src)
        .output()
        .map_err(|e| format!("running gcc: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "gcc failed for {name}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(bin)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn version(cmd: &Path) -> String {
    Command::new(cmd)
        .arg("--version")
        .output()
        .ok()
        .map(|o| {
            let s = String::from_utf8_lossy(&o.stdout).trim().to_string();
            if s.is_empty() {
                String::from_utf8_lossy(&o.stderr).trim().to_string()
            } else {
                s
            }
        })
        .unwrap_or_else(|| "?".into())
}

/// Runs a loop helper, pinned to `cpu`; returns (its pid, the loop's elapsed ns).
fn run_helper(helper: &Path, n: u64, cpu: usize) -> Result<(u32, u64)> {
    let mut cmd = Command::new(helper);
    // SAFETY: the closure only calls sched_setaffinity, which is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd
        .arg(n.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawning {}: {e}", helper.display()))?;
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("piped");
    let reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let status = match wait_bounded(&mut child, HELPER_TIMEOUT) {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{} did not finish within {HELPER_TIMEOUT:?}",
                helper.display()
            ));
        }
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        return Err(format!("{} failed ({status}): {err}", helper.display()));
    }
    let ns = out
        .trim()
        .parse()
        .map_err(|_| format!("{} printed {out:?}", helper.display()))?;
    Ok((pid, ns))
}

// ---------------------------------------------------------------------------------------------
// Output parsing.

/// The count for `pid` in `@[pid] = count()` output: lumen prints `   PID   COUNT`, bpftrace
/// `@[PID]: COUNT`.
fn count_for_pid(tool: Tool, out: &str, pid: u32) -> Option<u64> {
    out.lines().find_map(|l| {
        let (k, v) = match tool {
            Tool::Lumen => {
                let mut f = l.split_whitespace();
                let (k, v) = (f.next()?, f.next()?);
                if f.next().is_some() {
                    return None;
                }
                (k, v)
            }
            Tool::Bpftrace => {
                let rest = l.trim().strip_prefix("@[")?;
                let (k, v) = rest.split_once("]:")?;
                (k.trim(), v.trim())
            }
        };
        (k.parse::<u32>().ok()? == pid).then(|| v.parse().ok())?
    })
}

/// Total of a quantize/hist distribution: the last field of every `… | …  N` (lumen) or
/// `[lo, hi)  N |@@@|` (bpftrace) row.
fn distribution_total(tool: Tool, out: &str) -> u64 {
    out.lines()
        .filter_map(|l| match tool {
            Tool::Lumen => {
                let (_, right) = l.split_once('|')?;
                right.split_whitespace().last()?.parse::<u64>().ok()
            }
            Tool::Bpftrace => {
                let l = l.trim();
                if !l.starts_with('[') && !l.starts_with('(') {
                    return None;
                }
                let (_, right) = l.split_once(')')?;
                right.split_whitespace().next()?.parse::<u64>().ok()
            }
        })
        .sum()
}

// ---------------------------------------------------------------------------------------------
// Statistics and printing.

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn fmt_list(v: &[f64], scale: f64, prec: usize) -> String {
    v.iter()
        .map(|x| format!("{:.*}", prec, x / scale))
        .collect::<Vec<_>>()
        .join(" ")
}

struct Row {
    what: String,
    lumen: String,
    bpftrace: String,
    ratio: f64,
    target: Option<f64>,
}

fn ratio_row(what: &str, lumen: f64, bpftrace: f64, unit: &str, target: Option<f64>) -> Row {
    Row {
        what: what.into(),
        lumen: format!("{lumen:.2} {unit}"),
        bpftrace: format!("{bpftrace:.2} {unit}"),
        ratio: if bpftrace > 0.0 {
            lumen / bpftrace
        } else {
            f64::NAN
        },
        target,
    }
}

fn verdict(r: &Row) -> String {
    match r.target {
        Some(t) if r.ratio.is_nan() => format!("≤ {t}× (n/a)"),
        Some(t) if r.ratio <= t => format!("≤ {t}× (met)"),
        Some(t) => format!("≤ {t}× (MISSED)"),
        None => "—".into(),
    }
}

// ---------------------------------------------------------------------------------------------

fn runs(default: usize) -> usize {
    std::env::var("VS_BPFTRACE_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(default)
}

fn run() -> Result<()> {
    let tools = match setup() {
        Ok(t) => t,
        Err(e) => {
            println!("vs_bpftrace: skipped — {e}");
            return Ok(());
        }
    };
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    println!("Lumen vs bpftrace");
    println!("  lumen:    {}", tools.lumen.display());
    println!(
        "  bpftrace: {} ({})",
        tools.bpftrace.display(),
        version(&tools.bpftrace)
    );
    println!("  load average at the start: {}", loadavg());
    println!(
        "  kernel {}, {} CPUs",
        kernel.trim(),
        thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();

    let phases = [
        bench_startup(&tools),
        bench_overhead(
            &tools,
            "(b) getpid count(), per-event overhead",
            &tools.getpid_helper,
            GETPID_CALLS,
            [LUMEN_ONELINER, BPFTRACE_ONELINER],
            Check::GetpidCount,
            0.6,
        ),
        bench_overhead(
            &tools,
            "(c) read latency quantize, per-read overhead",
            &tools.read_helper,
            READ_CALLS,
            [LUMEN_QUANTIZE, BPFTRACE_HIST],
            Check::Distribution,
            0.6,
        ),
    ];
    let mut rows = Vec::new();
    let mut failed = 0;
    for p in phases {
        match p {
            Ok(r) => rows.push(r),
            Err(e) => {
                failed += 1;
                eprintln!("vs_bpftrace: phase failed: {e}\n");
            }
        }
    }

    println!("Summary (medians; ratio = lumen / bpftrace)");
    let w0 = rows
        .iter()
        .map(|r| r.what.chars().count())
        .max()
        .unwrap_or(0);
    println!(
        "  {:<w0$}  {:>12}  {:>12}  {:>8}  target",
        "measurement", "lumen", "bpftrace", "ratio"
    );
    for r in &rows {
        println!(
            "  {:<w0$}  {:>12}  {:>12}  {:>7.3}×  {}",
            r.what,
            r.lumen,
            r.bpftrace,
            r.ratio,
            verdict(r)
        );
    }
    for tool in [Tool::Lumen, Tool::Bpftrace] {
        let lost = LOST_SIGINTS[tool.index()].load(Ordering::Relaxed);
        if lost > 0 {
            println!(
                "  note: {} ignored the first SIGINT in {lost} of {} runs (a second one stopped it)",
                tool.name(),
                STARTS[tool.index()].load(Ordering::Relaxed)
            );
        }
    }
    println!("  load average at the end: {}", loadavg());
    if failed > 0 {
        return Err(format!("{failed} phase(s) failed (see above)"));
    }
    Ok(())
}

fn bench_startup(tools: &Tools) -> Result<Row> {
    let n = runs(7);
    println!(
        "(a) start → probes attached (spawn until BEGIN's `ready`), {n} runs each, interleaved"
    );
    let mut lumen = Vec::new();
    let mut bpf = Vec::new();
    for _ in 0..n {
        for (tool, script, out) in [
            (Tool::Lumen, LUMEN_ONELINER, &mut lumen),
            (Tool::Bpftrace, BPFTRACE_ONELINER, &mut bpf),
        ] {
            let mut t = Tracer::spawn(tools, tool, script)?;
            let d = t.wait_ready()?;
            let stopped = t.stop();
            if !stopped.status.is_some_and(|s| s.success()) {
                eprintln!(
                    "warning: {} exited with {:?} after SIGINT; stderr:\n{}",
                    tool.name(),
                    stopped.status,
                    stopped.stderr
                );
            }
            out.push(d.as_secs_f64() * 1e3);
        }
    }
    let (ml, mb) = (median(&lumen), median(&bpf));
    println!("  lumen    ms: {}", fmt_list(&lumen, 1.0, 2));
    println!("  bpftrace ms: {}", fmt_list(&bpf, 1.0, 1));
    println!(
        "  median: lumen {ml:.2} ms, bpftrace {mb:.1} ms, ratio {:.4}× (target ≤ 0.05×)",
        ml / mb
    );
    println!();
    Ok(ratio_row("(a) start → attached", ml, mb, "ms", Some(0.05)))
}

#[derive(Clone, Copy)]
enum Check {
    /// Lumen's count for the helper's pid must be exactly the number of calls.
    GetpidCount,
    /// Report the distribution totals (system-wide reads, so only a lower bound is checked).
    Distribution,
}

fn bench_overhead(
    tools: &Tools,
    title: &str,
    helper: &Path,
    calls: u64,
    scripts: [&str; 2],
    check: Check,
    target: f64,
) -> Result<Row> {
    let ncpu = thread::available_parallelism().map_or(1, |n| n.get());
    // At least 5 runs, the same number on every CPU.
    let n = runs(ncpu * 5usize.div_ceil(ncpu));
    println!(
        "{title}: {calls} calls, {n} runs of untraced / lumen / bpftrace, interleaved; \
         run i pins the loop to CPU i mod {ncpu}"
    );
    // Warm-up (page cache, CPU frequency).
    for cpu in 0..ncpu {
        run_helper(helper, calls, cpu)?;
    }
    // Per run: (cpu, untraced, lumen, bpftrace) ns.
    let mut samples: Vec<(usize, [f64; 3])> = Vec::new();
    let mut totals = [Vec::new(), Vec::new()];
    for run in 0..n {
        let cpu = run % ncpu;
        let mut ns3 = [run_helper(helper, calls, cpu)?.1 as f64, 0.0, 0.0];
        for (i, tool) in [Tool::Lumen, Tool::Bpftrace].into_iter().enumerate() {
            let mut tracer = Tracer::spawn(tools, tool, scripts[i])?;
            tracer.wait_ready()?;
            let res = run_helper(helper, calls, cpu);
            let stopped = tracer.stop();
            let (pid, ns) = res?;
            ns3[i + 1] = ns as f64;
            match check {
                Check::GetpidCount => match count_for_pid(tool, &stopped.stdout, pid) {
                    Some(c) if c == calls => {}
                    Some(c) => eprintln!(
                        "  warning: {} counted {c} getpid calls for pid {pid}, expected {calls}",
                        tool.name()
                    ),
                    None => eprintln!(
                        "  warning: {} printed no count for pid {pid}\nstdout:\n{}\nstderr:\n{}",
                        tool.name(),
                        stopped.stdout,
                        stopped.stderr
                    ),
                },
                Check::Distribution => {
                    let total = distribution_total(tool, &stopped.stdout);
                    if total < calls {
                        eprintln!(
                            "  warning: {} distribution holds {total} reads, expected ≥ {calls}\nstdout:\n{}\nstderr:\n{}",
                            tool.name(),
                            stopped.stdout,
                            stopped.stderr
                        );
                    }
                    totals[i].push(total as f64);
                }
            }
        }
        samples.push((cpu, ns3));
    }
    let col = |k: usize, cpu: Option<usize>| -> Vec<f64> {
        samples
            .iter()
            .filter(|(c, _)| cpu.is_none_or(|x| x == *c))
            .map(|(_, v)| v[k])
            .collect()
    };
    let (t0, tl, tb) = (col(0, None), col(1, None), col(2, None));
    let m0 = median(&t0);
    let ml = median(&tl);
    let mb = median(&tb);
    let per = |m: f64| (m - m0) / calls as f64;
    println!("  untraced ms: {}", fmt_list(&t0, 1e6, 1));
    println!("  lumen    ms: {}", fmt_list(&tl, 1e6, 1));
    println!("  bpftrace ms: {}", fmt_list(&tb, 1e6, 1));
    if matches!(check, Check::Distribution) {
        println!(
            "  distribution totals (system-wide reads, ≥ {calls} expected): lumen {}, bpftrace {}",
            fmt_list(&totals[0], 1.0, 0),
            fmt_list(&totals[1], 1.0, 0)
        );
    }
    println!(
        "  untraced {:.1} ns/call; overhead per call: lumen {:.1} ns, bpftrace {:.1} ns, ratio {:.3}× (target ≤ {target}×)",
        m0 / calls as f64,
        per(ml),
        per(mb),
        per(ml) / per(mb)
    );
    if ncpu > 1 {
        for cpu in 0..ncpu {
            let m0 = median(&col(0, Some(cpu)));
            let l = (median(&col(1, Some(cpu))) - m0) / calls as f64;
            let b = (median(&col(2, Some(cpu))) - m0) / calls as f64;
            println!(
                "    loop on CPU {cpu}: lumen {l:.1} ns, bpftrace {b:.1} ns, ratio {:.3}×",
                l / b
            );
        }
    }
    if matches!(check, Check::GetpidCount) {
        println!(
            "  (counts for the helper pid checked against {calls}; warnings above if not exact)"
        );
    }
    println!();
    let short = title.split(',').next().unwrap_or(title);
    Ok(ratio_row(short, per(ml), per(mb), "ns", Some(target)))
}
