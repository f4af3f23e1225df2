//! The D script corpus: every `tests/d/**/NAME.d` runs through `lumen
//! dtrace -s` and its stdout must equal `NAME.out` byte for byte (its
//! stderr `NAME.err`, when that file exists).
//!
//! Each script runs on the kernel backend and, unless it says otherwise,
//! on the user-space (rbpf) backend too, against the same expected output:
//! this is the differential test of the two backends.
//!
//! A script may start with header comments:
//! - `/* args: -x strsize=16 */` — extra dtrace(1) arguments;
//! - `/* exit: 1 */` — the expected exit status (default 0);
//! - `/* backends: kernel */` — run on the kernel only (probes rbpf cannot fire).

mod common;

use common::{root, text, workspace, LUMEN};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Least number of scripts both backends must run.
const MIN_DIFFERENTIAL: usize = 100;

struct Script {
    path: PathBuf,
    args: Vec<String>,
    exit: i32,
    user: bool,
}

fn header(src: &str, key: &str) -> Option<String> {
    src.lines()
        .take_while(|l| l.trim_start().starts_with("/*"))
        .find_map(|l| {
            let body = l.trim().strip_prefix("/*")?.strip_suffix("*/")?.trim();
            body.strip_prefix(key)?
                .strip_prefix(':')
                .map(|v| v.trim().to_string())
        })
}

fn collect(dir: &Path, out: &mut Vec<Script>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "d") {
            let src = std::fs::read_to_string(&p).expect("read script");
            out.push(Script {
                args: header(&src, "args")
                    .map(|a| a.split_whitespace().map(String::from).collect())
                    .unwrap_or_default(),
                exit: header(&src, "exit").map_or(0, |e| e.parse().expect("exit status")),
                user: header(&src, "backends").is_none_or(|b| b.contains("user")),
                path: p,
            });
        }
    }
}

fn scripts() -> Vec<Script> {
    let mut all = Vec::new();
    collect(&workspace().join("tests/d"), &mut all);
    all
}

/// Run one script on one backend; a description of the mismatch, if any.
fn check(s: &Script, user: bool) -> Option<String> {
    let dir = s.path.parent().expect("script dir");
    let name = s.path.file_name().expect("name");
    let mut cmd = Command::new(LUMEN);
    cmd.current_dir(dir).arg("dtrace").args(&s.args);
    if user {
        cmd.args(["-x", "backend=user"]);
    }
    let out = cmd.arg("-s").arg(name).output().expect("run lumen");
    let backend = if user { "user" } else { "kernel" };
    let rel = s.path.strip_prefix(workspace()).unwrap_or(&s.path);
    let mut problems = Vec::new();
    let want_out = std::fs::read_to_string(s.path.with_extension("out")).unwrap_or_default();
    if text(&out.stdout) != want_out {
        problems.push(format!(
            "stdout differs\n--- expected\n{want_out}--- got\n{}",
            text(&out.stdout)
        ));
    }
    if let Ok(want_err) = std::fs::read_to_string(s.path.with_extension("err")) {
        if without_pc(&text(&out.stderr)) != without_pc(&want_err) {
            problems.push(format!(
                "stderr differs\n--- expected\n{want_err}--- got\n{}",
                text(&out.stderr)
            ));
        }
    }
    if out.status.code() != Some(s.exit) {
        problems.push(format!(
            "exit status {:?}, expected {}; stderr:\n{}",
            out.status.code(),
            s.exit,
            text(&out.stderr)
        ));
    }
    (!problems.is_empty())
        .then(|| format!("{} [{backend}]: {}", rel.display(), problems.join("\n")))
}

/// `text` with the number of each `at BPF pc N` taken out: a fault's
/// instruction index is the compiler's business, not DTrace's format
/// (D-ERRTAGS 1.6: tests must not match it).
fn without_pc(text: &str) -> String {
    const AT: &str = "at BPF pc ";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(AT) {
        out.push_str(&rest[..i + AT.len()]);
        rest = rest[i + AT.len()..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push('N');
    }
    out.push_str(rest);
    out
}

#[test]
fn scripts_match_their_expected_output_on_both_backends() {
    if !root("scripts_match_their_expected_output_on_both_backends") {
        return;
    }
    let all = scripts();
    assert!(!all.is_empty(), "no scripts under tests/d");
    let jobs: Vec<(&Script, bool)> = all
        .iter()
        .flat_map(|s| {
            let mut v = vec![(s, false)];
            if s.user {
                v.push((s, true));
            }
            v
        })
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(&(s, user)) = jobs.get(i) else {
                    break;
                };
                if let Some(f) = check(s, user) {
                    failures.lock().expect("lock").push(f);
                }
            });
        }
    });
    let failures = failures.into_inner().expect("lock");
    assert!(
        failures.is_empty(),
        "{} of {} runs failed:\n\n{}",
        failures.len(),
        jobs.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_differential_corpus_is_large_enough() {
    let n = scripts().iter().filter(|s| s.user).count();
    assert!(
        n >= MIN_DIFFERENTIAL,
        "only {n} scripts run on both backends; at least {MIN_DIFFERENTIAL} must"
    );
}

/// The examples whose probes the user-space backend can fire.
const USER_EXAMPLES: &[&str] = &["hello.d", "types.d", "countdown.d"];

#[test]
fn examples_print_the_same_on_both_backends() {
    if !root("examples_print_the_same_on_both_backends") {
        return;
    }
    let run = |name: &str, user: bool| {
        let mut cmd = Command::new(LUMEN);
        cmd.current_dir(workspace()).arg("dtrace").arg("-q");
        if user {
            cmd.args(["-x", "backend=user"]);
        }
        let out = cmd
            .arg("-s")
            .arg(format!("examples/{name}"))
            .output()
            .expect("run lumen");
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    std::thread::scope(|scope| {
        // Every (example, backend) at once: countdown.d takes ten seconds.
        let handles: Vec<_> = USER_EXAMPLES
            .iter()
            .map(|name| {
                (
                    name,
                    scope.spawn(move || run(name, false)),
                    scope.spawn(move || run(name, true)),
                )
            })
            .collect();
        for (name, k, u) in handles {
            let kernel = k.join().expect("example thread");
            let user = u.join().expect("example thread");
            assert!(!kernel.trim().is_empty(), "{name} printed nothing");
            assert_eq!(kernel, user, "{name}: kernel and user-space output differ");
        }
    });
}
