//! dtrace(1) options and flags that change what the consumer does:
//! principal drops, `bufpolicy`, `droptags`, `-F`, `-w` and the destructive
//! actions, and the choice of backend.

mod common;

use common::{dtrace, root, text};
use std::path::PathBuf;
use std::process::Command;

fn helper(name: &str, source: &str) -> PathBuf {
    common::compile_c(name, source, &["-O2"])
}

const BURST: &str = r#"
#include <unistd.h>
#include <sys/syscall.h>
int main(void) { for (int i = 0; i < 20000; i++) syscall(SYS_getppid); return 0; }
"#;

/// The numbers of `dtrace: N drop(s) on CPU C` lines, with their tag prefix.
fn drops(stderr: &str, prefix: &str) -> u64 {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("dtrace: {prefix}")))
        .filter_map(|l| {
            let (n, rest) = l.split_once(' ')?;
            (rest.starts_with("drop on CPU ") || rest.starts_with("drops on CPU "))
                .then(|| n.parse::<u64>().ok())?
        })
        .sum()
}

#[test]
fn every_record_is_printed_or_counted_as_a_drop() {
    if !root("every_record_is_printed_or_counted_as_a_drop") {
        return;
    }
    let bin = helper("burst_drops", BURST);
    // An 8 KiB buffer read every 500 ms cannot hold 20,000 records.
    let out = dtrace(&[
        "-q",
        "-b",
        "8k",
        "-x",
        "switchrate=500ms",
        "-n",
        "syscall::getppid:entry /pid == $target/ { printf(\"x\\n\"); }",
        "-c",
        bin.to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let printed = text(&out.stdout).lines().filter(|l| *l == "x").count() as u64;
    let dropped = drops(&text(&out.stderr), "");
    assert!(dropped > 0, "no drops reported: {}", text(&out.stderr));
    assert_eq!(printed + dropped, 20000, "{}", text(&out.stderr));
}

#[test]
fn droptags_prefix_drop_reports() {
    if !root("droptags_prefix_drop_reports") {
        return;
    }
    let bin = helper("burst_tags", BURST);
    let out = dtrace(&[
        "-q",
        "-b",
        "8k",
        "-x",
        "switchrate=500ms",
        "-x",
        "droptags",
        "-n",
        "syscall::getppid:entry /pid == $target/ { printf(\"x\\n\"); }",
        "-c",
        bin.to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        drops(&text(&out.stderr), "[DTRACEDROP_PRINCIPAL] ") > 0,
        "{}",
        text(&out.stderr)
    );
}

const COUNTER: &str = "int i; tick-1ms /i < 300/ { printf(\"%d\\n\", i++); } \
                       tick-1ms /i == 300/ { exit(0); } END { printf(\"end\\n\"); }";

fn numbers(s: &str) -> Vec<u64> {
    s.lines().filter_map(|l| l.parse().ok()).collect()
}

#[test]
fn bufpolicy_ring_prints_the_newest_records_at_the_end() {
    if !root("bufpolicy_ring_prints_the_newest_records_at_the_end") {
        return;
    }
    let out = dtrace(&[
        "-q",
        "-x",
        "bufpolicy=ring",
        "-x",
        "bufsize=4k",
        "-n",
        COUNTER,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let n = numbers(&s);
    // A contiguous run ending at 299, shorter than the 300 produced, then END's.
    assert!(!n.is_empty() && n.len() < 300, "{s}");
    assert_eq!(n.last(), Some(&299), "{s}");
    assert!(n.windows(2).all(|w| w[1] == w[0] + 1), "{s}");
    assert!(s.ends_with("299\nend\n\n"), "{s}");
}

#[test]
fn bufpolicy_fill_stops_when_the_buffer_is_full() {
    if !root("bufpolicy_fill_stops_when_the_buffer_is_full") {
        return;
    }
    let out = dtrace(&[
        "-q",
        "-x",
        "bufpolicy=fill",
        "-x",
        "bufsize=4k",
        "-n",
        "int i; tick-1ms { printf(\"%d\\n\", i++); } END { printf(\"end\\n\"); }",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let n = numbers(&s);
    // The first records from 0, without a gap, and the run stopped by itself.
    assert!(!n.is_empty(), "{s}");
    assert_eq!(n[0], 0, "{s}");
    assert!(n.windows(2).all(|w| w[1] == w[0] + 1), "{s}");
    assert!(s.ends_with("end\n\n"), "{s}");
}

#[test]
fn flowindent_indents_entries_and_returns() {
    if !root("flowindent_indents_entries_and_returns") {
        return;
    }
    let out = dtrace(&[
        "-F",
        "-n",
        "syscall::getppid:entry,syscall::getppid:return /pid == $target/ { }",
        "-c",
        helper("burst_flow", BURST).to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let mut lines = s.lines();
    assert_eq!(
        lines.next(),
        Some(format!("{:>3} {:<41}", "CPU", "FUNCTION").as_str())
    );
    let body: Vec<&str> = lines.filter(|l| !l.is_empty()).take(4).collect();
    assert_eq!(body.len(), 4, "{s}");
    for (i, l) in body.iter().enumerate() {
        let want = if i % 2 == 0 {
            " => getppid"
        } else {
            " <= getppid"
        };
        assert_eq!(&l[4..4 + want.len()], want, "{s}");
    }
}

#[test]
fn destructive_actions_need_dash_w() {
    if !root("destructive_actions_need_dash_w") {
        return;
    }
    let out = dtrace(&["-n", "BEGIN { raise(0); exit(0); }"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("Destructive actions not allowed"),
        "{}",
        text(&out.stderr)
    );
    for (script, why) in [
        ("BEGIN { chill(10); }", "chill( ) is refused"),
        ("BEGIN { panic(); }", "panic() is not implemented (yet)"),
        (
            "BEGIN { breakpoint(); }",
            "breakpoint() is not implemented (yet)",
        ),
    ] {
        let out = dtrace(&["-w", "-n", script]);
        assert_eq!(out.status.code(), Some(1), "{script}");
        assert!(
            text(&out.stderr).contains(why),
            "{script}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn raise_signals_the_traced_process() {
    if !root("raise_signals_the_traced_process") {
        return;
    }
    // A shell runs the program and reports how it died.
    let bin = helper("burst_raise", BURST);
    let sh = bin.with_extension("sh");
    std::fs::write(&sh, format!("{}\necho status $?\n", bin.display())).expect("script");
    let out = dtrace(&[
        "-w",
        "-q",
        "-n",
        "syscall::getppid:entry /progenyof($target) && pid != $target/ { raise(9); }",
        "-c",
        &format!("/bin/sh {}", sh.display()),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("status 137"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn freopen_redirects_and_restores_output() {
    if !root("freopen_redirects_and_restores_output") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("out.txt");
    let script = format!(
        "BEGIN {{ printf(\"before\\n\"); freopen(\"{}\"); printf(\"into the file\\n\"); }} \
         BEGIN {{ freopen(\"\"); printf(\"after\\n\"); exit(0); }}",
        file.display()
    );
    let out = dtrace(&["-w", "-q", "-n", &script]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "before\nafter\n\n");
    assert_eq!(
        std::fs::read_to_string(&file).expect("file"),
        "into the file\n"
    );
}

#[test]
fn the_user_backend_runs_when_asked_and_when_bpf_is_refused() {
    if !root("the_user_backend_runs_when_asked_and_when_bpf_is_refused") {
        return;
    }
    let script = "BEGIN { @ = sum(20); @ = sum(22); printf(\"%d\\n\", 6 * 7); exit(0); }";
    let want = "42\n\n               42\n";
    let out = dtrace(&["-q", "-x", "backend=user", "-n", script]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), want);
    // Fault injection: the kernel "refuses" BPF; a warning, then the same output.
    let out = Command::new(common::LUMEN)
        .env("LUMEN_INJECT_BPF_REFUSAL", "1")
        .args(["dtrace", "-q", "-n", script])
        .output()
        .expect("run lumen");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), want);
    assert!(
        text(&out.stderr).contains("running on the user-space backend"),
        "{}",
        text(&out.stderr)
    );
    // Probes only the kernel can fire are refused clearly.
    let out = dtrace(&["-x", "backend=user", "-n", "syscall::read:entry { }"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(
            "the user-space backend runs only BEGIN, END, ERROR, tick and profile probes"
        ),
        "{}",
        text(&out.stderr)
    );
}

/// The drops `stderr` reports with message `what` (`aggregation drop`…),
/// summed over its lines, each line starting `dtrace: ` + `prefix`.
fn reported(stderr: &str, prefix: &str, what: &str) -> u64 {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("dtrace: ")?.strip_prefix(prefix))
        .filter_map(|rest| {
            let (n, rest) = rest.split_once(' ')?;
            rest.starts_with(what).then(|| n.parse::<u64>().ok())?
        })
        .sum()
}

/// Store 200 distinct keys with `store` (`@a[i] = count()`, `a[i] = 1`)
/// one per millisecond, then exit.
fn two_hundred_keys(store: &str) -> String {
    format!(
        "BEGIN {{ i = 0; }} tick-1ms /i < 200/ {{ {store}; i++; }} tick-1ms /i >= 200/ {{ exit(0); }}"
    )
}

#[test]
fn every_drop_kind_is_reported_in_dtraces_words() {
    if !root("every_drop_kind_is_reported_in_dtraces_words") {
        return;
    }
    // aggsize and dynvarsize this small (room for one entry, so the
    // enabling starts) leave room for 64 keys: the other
    // 136 of 200 are dropped and counted, on whichever CPU ran the tick.
    for (option, store, what, tag) in [
        (
            "aggsize=100",
            "@a[i] = count()",
            "aggregation drop",
            "DTRACEDROP_AGGREGATION",
        ),
        (
            "dynvarsize=100",
            "a[i] = 1",
            "dynamic variable drop",
            "DTRACEDROP_DYNAMIC",
        ),
    ] {
        for droptags in [false, true] {
            let mut args = vec!["-q", "-x", option, "-n"];
            let program = two_hundred_keys(store);
            args.push(&program);
            if droptags {
                args.extend(["-x", "droptags"]);
            }
            let out = dtrace(&args);
            assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
            let prefix = if droptags {
                format!("[{tag}] ")
            } else {
                String::new()
            };
            let err = text(&out.stderr);
            assert_eq!(reported(&err, &prefix, what), 136, "{option}: {err}");
        }
    }
    // A speculated record larger than specsize is dropped when speculated.
    let out = dtrace(&[
        "-q",
        "-x",
        "specsize=64",
        "-x",
        "droptags",
        "-n",
        "BEGIN { s = speculation(); speculate(s); printf(\"%s\\n\", \
         \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"); } \
         BEGIN { commit(s); } BEGIN { exit(0); }",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "");
    assert!(
        text(&out.stderr).contains("dtrace: [DTRACEDROP_SPEC] 1 speculative drop\n"),
        "{}",
        text(&out.stderr)
    );
    // With one speculation buffer (nspec's default), a second speculation()
    // before the first is committed gets none.
    let out = dtrace(&[
        "-q",
        "-x",
        "droptags",
        "-n",
        "BEGIN { a = speculation(); b = speculation(); printf(\"%d %d\\n\", a, b); exit(0); }",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "1 0\n\n");
    assert!(
        text(&out.stderr).contains(
            "dtrace: [DTRACEDROP_SPECUNAVAIL] 1 failed speculation (no speculative buffer available)\n"
        ),
        "{}",
        text(&out.stderr)
    );
}
