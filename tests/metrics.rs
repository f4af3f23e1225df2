//! `lumen dtrace --metrics`: a running program's aggregations scraped over
//! HTTP while its target still runs, checked with promtool, against the
//! values the target produced, and against the tables dtrace prints at exit.

mod common;

use common::{text, workspace, LUMEN};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const CALLS: usize = 25;
/// What the target passes to lseek(4242, off, 0) (fd 4242 is not open,
/// so each call fails with EBADF and changes nothing): negative, zero,
/// positive, beyond lquantize's limit.
const OFFSETS: [i64; 11] = [-5, 0, 0, 1, 3, 3, 7, 100, 1000, 1000, 12345];

/// getppid() CALLS times and lseek() with each offset, then `ready` on
/// stdout, then it waits for stdin to close, so the test can scrape while
/// it (and so the D program) still runs.
const TARGET: &str = r#"
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(void) {
    static const long offs[] = {-5, 0, 0, 1, 3, 3, 7, 100, 1000, 1000, 12345};
    for (int i = 0; i < 25; i++) syscall(SYS_getppid);
    for (unsigned i = 0; i < sizeof offs / sizeof offs[0]; i++) syscall(SYS_lseek, 4242, offs[i], 0);
    printf("ready\n");
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0) {}
    return 0;
}
"#;

const SCRIPT: &str = "syscall::getppid:entry /pid == $target/ { @calls[execname] = count(); } \
     syscall::lseek:entry /pid == $target && arg0 == 4242/ { \
         @lat = quantize(arg1); @lin = lquantize(arg1, 0, 100, 10); \
         @offsets[execname, \"q\\\"x\"] = sum(arg1); @mean = avg(arg1); }";

/// Kills the dtrace run if the test fails half-way, so nothing is left
/// tracing.
struct Run(Child);

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The lines a pipe yields, from a thread, so the test can wait with a
/// timeout.
fn lines(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Wait for a line for which `want` gives something; every line seen
/// on the way is kept in `seen` for the failure message.
fn wait_for<T>(
    rx: &mpsc::Receiver<String>,
    seen: &mut Vec<String>,
    want: impl Fn(&str) -> Option<T>,
) -> T {
    loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => {
                let found = want(&line);
                seen.push(line);
                if let Some(t) = found {
                    return t;
                }
            }
            Err(e) => panic!("{e:?} waiting; lines so far: {seen:#?}"),
        }
    }
}

/// GET `path` over plain HTTP/1.1; the status code, the headers (lower
/// case) and the body.
fn get(addr: &str, path: &str) -> (u16, String, String) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the metrics endpoint");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send request");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read response");
    let (head, body) = resp.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status code");
    (status, head.to_ascii_lowercase(), body.to_string())
}

/// `name{labels} value` → value, for the sample whose labels contain
/// every one of `labels`.
fn sample(body: &str, name: &str, labels: &[&str]) -> Option<i64> {
    body.lines()
        .filter_map(|l| l.strip_prefix(name)?.strip_prefix('{'))
        .filter(|l| labels.iter().all(|want| l.contains(want)))
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
}

/// A histogram's buckets in order: (le, cumulative count).
fn buckets(body: &str, name: &str) -> Vec<(String, i64)> {
    let prefix = format!("{name}_bucket{{");
    body.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|l| {
            let le = l
                .split("le=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .expect("an le label");
            let count = l.rsplit(' ').next().and_then(|c| c.parse().ok());
            (le.to_string(), count.expect("a count"))
        })
        .collect()
}

/// The distribution tables dtrace printed: per table, (label, count) rows.
fn tables(stdout: &str) -> Vec<Vec<(String, i64)>> {
    let mut out: Vec<Vec<(String, i64)>> = Vec::new();
    let mut inside = false;
    for line in stdout.lines() {
        if line.contains("------------- Distribution -------------") {
            out.push(Vec::new());
            inside = true;
        } else if inside {
            let Some((label, rest)) = line.split_once('|') else {
                inside = false;
                continue;
            };
            let count = rest.split_whitespace().last().and_then(|c| c.parse().ok());
            if let (Some(table), Some(count)) = (out.last_mut(), count) {
                table.push((label.trim().to_string(), count));
            }
        }
    }
    out
}

/// Run `promtool check metrics` on `body`: under CI=true promtool must be
/// there (test.sh installs it); elsewhere its absence skips this check.
fn promtool_check(body: &str) {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("promtool is required under CI=true (test.sh installs Debian's prometheus)");
            }
            eprintln!("skipping the promtool check: promtool is not installed");
            return;
        }
        Err(e) => panic!("run promtool: {e}"),
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body.as_bytes())
        .expect("feed promtool");
    let out = child.wait_with_output().expect("promtool");
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {:?}\n{}{}\n--- text ---\n{body}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn metrics_endpoint_serves_the_running_aggregations() {
    if !common::kernel_probes("metrics_endpoint_serves_the_running_aggregations") {
        return;
    }
    let target = common::compile_c("metricsprog", TARGET, &["-O1"]);
    let child = Command::new(LUMEN)
        .current_dir(workspace())
        .args([
            "dtrace",
            "-q",
            "--metrics",
            "127.0.0.1:0",
            "-n",
            SCRIPT,
            "-c",
        ])
        .arg(&target)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run lumen dtrace");
    let mut run = Run(child);
    let stderr = lines(run.0.stderr.take().expect("stderr"));
    let stdout = lines(run.0.stdout.take().expect("stdout"));
    let mut err_seen = Vec::new();
    let addr = wait_for(&stderr, &mut err_seen, |l| {
        l.strip_prefix("dtrace: serving metrics on http://")?
            .strip_suffix("/metrics")
            .map(str::to_string)
    });
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
        "{addr}"
    );
    // The target shares dtrace's stdout: `ready` means every call is made.
    let mut out_seen = Vec::new();
    wait_for(&stdout, &mut out_seen, |l| (l == "ready").then_some(()));

    let (status, head, body) = get(&addr, "/metrics");
    assert_eq!(status, 200, "{head}\n{body}");
    assert!(
        head.contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
        "{head}"
    );
    promtool_check(&body);

    // (b) the counter is the exact number of calls, labelled by program and
    // by each key's expression (`keyN` for the constant string).
    let program = "program=\"syscall::getppid:entry\"";
    assert_eq!(
        sample(
            &body,
            "dtrace_calls_total",
            &[program, "execname=\"metricsprog\""]
        ),
        Some(CALLS as i64),
        "{body}"
    );
    let total: i64 = OFFSETS.iter().sum();
    assert_eq!(
        sample(
            &body,
            "dtrace_offsets",
            &["execname=\"metricsprog\"", "key1=\"q\\\"x\""]
        ),
        Some(total),
        "{body}"
    );
    assert_eq!(
        sample(&body, "dtrace_mean", &[program]),
        Some(total / OFFSETS.len() as i64),
        "{body}"
    );

    // (c) each `le` is a bucket's largest value, so its cumulative count is
    // the number of offsets at or below it.
    let lat = buckets(&body, "dtrace_lat");
    let lin = buckets(&body, "dtrace_lin");
    assert_eq!(lat.len(), 127, "{body}");
    let lin_les: Vec<&str> = lin.iter().map(|(le, _)| le.as_str()).collect();
    assert_eq!(
        lin_les,
        ["-1", "9", "19", "29", "39", "49", "59", "69", "79", "89", "99", "+Inf"]
    );
    let n = OFFSETS.len() as i64;
    for (le, count) in lat.iter().chain(&lin) {
        let want = match le.as_str() {
            "+Inf" => n,
            le => {
                let le: i64 = le.parse().expect("an integer bound");
                OFFSETS.iter().filter(|&&v| v <= le).count() as i64
            }
        };
        assert_eq!(*count, want, "le={le}\n{body}");
    }
    for name in ["dtrace_lat", "dtrace_lin"] {
        assert_eq!(sample(&body, &format!("{name}_count"), &[program]), Some(n));
        assert!(!body.contains(&format!("{name}_sum")), "{body}");
    }

    // Let the target finish: dtrace then prints the same aggregations.
    drop(run.0.stdin.take());
    let status = run.0.wait().expect("wait for lumen");
    let stdout: String = out_seen
        .into_iter()
        .chain(stdout.iter())
        .collect::<Vec<_>>()
        .join("\n");
    err_seen.extend(stderr.iter());
    assert_eq!(status.code(), Some(0), "{}", err_seen.join("\n"));
    let printed = tables(&stdout);
    assert_eq!(printed.len(), 2, "{stdout}");
    // The printed rows run from the first non-zero bucket − 1, so the
    // running sum of their counts is the cumulative count at each row's
    // upper bound.
    let check =
        |rows: &[(String, i64)], exported: &[(String, i64)], le_of: &dyn Fn(&str) -> String| {
            let exported: BTreeMap<&str, i64> =
                exported.iter().map(|(le, c)| (le.as_str(), *c)).collect();
            let mut running = 0;
            for (label, count) in rows {
                running += count;
                let le = le_of(label);
                assert_eq!(
                    exported.get(le.as_str()),
                    Some(&running),
                    "row {label} (le {le})\n{stdout}\n{body}"
                );
            }
        };
    // quantize: a negative row is labelled by its upper end, a positive
    // one by its lower end (`4` holds 4..=7).
    check(&printed[0], &lat, &|label| {
        let v: i64 = label.parse().expect("a quantize label");
        if v <= 0 { v } else { 2 * v - 1 }.to_string()
    });
    check(&printed[1], &lin, &|label| match label {
        "< 0" => "-1".to_string(),
        ">= 100" => "+Inf".to_string(),
        v => (v.parse::<i64>().expect("an lquantize label") + 9).to_string(),
    });
    assert!(
        stdout.contains(&format!("  metricsprog{}{CALLS}", " ".repeat(54))),
        "{stdout}"
    );
}

#[test]
fn metrics_address_in_use_is_an_error_naming_it() {
    if !common::root("metrics_address_in_use_is_an_error_naming_it") {
        return;
    }
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = common::dtrace(&["-q", "--metrics", &addr, "-n", "BEGIN { exit(0); }"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!(
            "cannot listen for metrics on {addr}: Address already in use"
        )),
        "{}",
        text(&out.stderr)
    );
}
