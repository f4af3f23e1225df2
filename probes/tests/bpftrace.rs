//! Interoperability with Debian's bpftrace (as root): it lists this test
//! binary's probes, and traces them with the right counts and arguments.
//!
//! Without bpftrace or root these tests skip with a message, but fail under
//! `CI=true`, where `test.sh` is expected to have installed bpftrace.

use std::ffi::c_char;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

probes::provider! {
    /// A provider declared outside the `probes` crate.
    itest {
        /// One of `TICKS` ticks: its index and a name.
        fn tick(i: u64, name: *const c_char);
        /// The child fired every tick.
        fn done();
    }
}

const TICKS: u64 = 10;
const CHILD_ENV: &str = "PROBES_BPFTRACE_CHILD";

/// Whether bpftrace can run here; `None` means skip (outside CI).
fn bpftrace() -> Option<&'static str> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let why = if Command::new("bpftrace").arg("--version").output().is_err() {
        "bpftrace is not installed"
    } else if euid() != 0 {
        "bpftrace needs root"
    } else {
        return Some("bpftrace");
    };
    assert!(!ci, "{why}: CI=true requires this test to run");
    eprintln!("skipped: {why}");
    None
}

/// The effective uid, from /proc (no libc dependency for one number).
fn euid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(u32::MAX)
}

#[test]
fn bpftrace_lists_the_probes() {
    // Sites for every probe of the catalogue, so each has a note here.
    probes::lumen::__fire_every_probe();
    probes::vmm::__fire_every_probe();
    probes::zone::__fire_every_probe();
    probes::zfs::__fire_every_probe();
    probes::vnic::__fire_every_probe();
    let Some(bpftrace) = bpftrace() else { return };
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new(bpftrace)
        .arg("-l")
        .arg(format!("usdt:{}:*", exe.display()))
        .output()
        .expect("running bpftrace -l");
    assert!(out.status.success(), "{out:?}");
    let listed = String::from_utf8_lossy(&out.stdout);
    let mut wanted: Vec<String> = probes::catalogue()
        .iter()
        .flat_map(|p| p.probes.iter().map(move |d| (p.name, d.sdt_name)))
        .map(|(p, n)| format!("usdt:{}:{p}:{n}", exe.display()))
        .collect();
    wanted.push(format!("usdt:{}:itest:tick", exe.display()));
    for w in &wanted {
        assert!(listed.lines().any(|l| l == w), "{w} not in:\n{listed}");
    }
}

/// The traced child: waits until bpftrace has raised every semaphore, then
/// fires `TICKS` ticks and `vmm:::exit-entry`s and one `done`.
#[test]
fn child_fires_when_traced() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(tick::enabled() && done::enabled() && probes::vmm::exit__entry::enabled()) {
        assert!(
            Instant::now() < deadline,
            "bpftrace never raised the semaphores"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let name = c"web0";
    for i in 0..TICKS {
        tick(|| (i, name.as_ptr()));
        probes::vmm::exit__entry(|| (7, i as u32, 2));
    }
    done();
}

#[test]
fn bpftrace_traces_counts_and_arguments() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let Some(bpftrace) = bpftrace() else { return };
    let exe = std::env::current_exe().expect("test binary path");
    let mut child = Command::new(&exe)
        .args(["child_fires_when_traced", "--exact", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .stdout(Stdio::null())
        .spawn()
        .expect("spawning the child");
    let e = exe.display();
    let script = format!(
        "usdt:{e}:itest:tick {{ @ticks = count(); @sum = sum(arg0); @names[str(arg1)] = count(); }}
         usdt:{e}:vmm:exit__entry {{ @vcpus = sum(arg1); @vm[arg0, arg2] = count(); }}
         usdt:{e}:itest:done {{ exit(); }}
         interval:s:30 {{ exit(); }}"
    );
    let out = Command::new(bpftrace)
        .args(["-p", &child.id().to_string(), "-e", &script])
        .output()
        .expect("running bpftrace");
    let status = child.wait().expect("child");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(status.success(), "child: {status:?}\nbpftrace: {out:?}");
    for line in [
        format!("@ticks: {TICKS}"),
        format!("@sum: {}", (0..TICKS).sum::<u64>()),
        format!("@names[web0]: {TICKS}"),
        format!("@vcpus: {}", (0..TICKS).sum::<u64>()),
        format!("@vm[7, 2]: {TICKS}"),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} not in:\n{text}");
    }
}
