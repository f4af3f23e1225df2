//! The classic scripts of `examples/` against real workloads: each traces
//! the whole system, and the assertions pick out what a small C program of
//! known behaviour did.

mod common;

use common::{root, text, workspace, LUMEN};
use std::path::{Path, PathBuf};
use std::process::Command;

fn program(name: &str, source: &str) -> PathBuf {
    common::compile_c(name, source, &["-O1"])
}

/// Run `examples/SCRIPT` with `-c BIN`; stdout.
fn example(script: &str, bin: &Path, args: &str) -> String {
    let cmd = format!("{} {args}", bin.display());
    let out = Command::new(LUMEN)
        .current_dir(workspace())
        .args([
            "dtrace",
            "-q",
            "-s",
            &format!("examples/{script}"),
            "-c",
            cmd.trim(),
        ])
        .output()
        .expect("run lumen");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// Sum of the counts of the distribution printed under the key line that
/// starts with `key` (the count is the last column of each bucket row).
fn distribution_total(out: &str, key: &[&str]) -> i64 {
    let mut lines = out.lines();
    while let Some(l) = lines.next() {
        let words: Vec<&str> = l.split_whitespace().collect();
        if words == key {
            let _header = lines.next();
            return lines
                .by_ref()
                .take_while(|r| !r.trim().is_empty())
                .filter_map(|r| r.split_whitespace().last()?.parse::<i64>().ok())
                .sum();
        }
    }
    panic!("no distribution for {key:?} in:\n{out}");
}

#[test]
fn opens_shows_each_path_copied_in() {
    if !root("opens_shows_each_path_copied_in") {
        return;
    }
    let marker = format!("/tmp/lumen-opens-marker-{}", std::process::id());
    let bin = program(
        "opener",
        "#include <fcntl.h>\n#include <unistd.h>\nint main(int c, char **v) { for (int i = 0; i < 3; i++) { int fd = open(v[1], O_RDONLY); if (fd >= 0) close(fd); } return 0; }\n",
    );
    let out = example("opens.d", &bin, &marker);
    let lines: Vec<&str> = out.lines().filter(|l| l.ends_with(&marker)).collect();
    assert_eq!(lines.len(), 3, "{out}");
    for l in lines {
        let words: Vec<&str> = l.split_whitespace().collect();
        assert_eq!(words[0], "opener", "{l}");
        assert!(words[1].parse::<u32>().is_ok(), "{l}");
        // %-16s: the pid starts in column 18 or later.
        assert!(l.starts_with("opener           "), "{l:?}");
    }
}

#[test]
fn speculation_prints_only_failing_opens() {
    if !root("speculation_prints_only_failing_opens") {
        return;
    }
    let id = std::process::id();
    let missing = format!("/tmp/lumen-spec-missing-{id}");
    let present = workspace().join("Cargo.toml");
    let bin = program(
        "specwl",
        "#include <fcntl.h>\n#include <unistd.h>\nint main(int c, char **v) { for (int i = 1; i < c; i++) { int fd = open(v[i], O_RDONLY); if (fd >= 0) close(fd); } return 0; }\n",
    );
    // speculation.d traces every openat on the system with four
    // speculations; when parallel tests keep all four busy, ours fails
    // (reported as a failed speculation) and the run is repeated.
    let mut out = String::new();
    for _ in 0..5 {
        out = example(
            "speculation.d",
            &bin,
            &format!("{missing} {}", present.display()),
        );
        if out.contains(&missing) {
            break;
        }
    }
    let failing = format!("openat({missing}, 0)");
    let at = out
        .lines()
        .position(|l| l == failing)
        .unwrap_or_else(|| panic!("no {failing} in:\n{out}"));
    assert_eq!(out.lines().nth(at + 1), Some("  openat"), "{out}");
    assert_eq!(out.matches(&failing).count(), 1, "{out}");
    assert!(!out.contains(&present.display().to_string()), "{out}");
}

#[test]
fn syscall_latency_counts_every_call() {
    if !root("syscall_latency_counts_every_call") {
        return;
    }
    let bin = program(
        "latwl",
        "#include <unistd.h>\n#include <sys/syscall.h>\nint main(void) { for (int i = 0; i < 777; i++) syscall(SYS_getppid); return 0; }\n",
    );
    let out = example("syscall-latency.d", &bin, "");
    assert_eq!(
        distribution_total(&out, &["latwl", "getppid"]),
        777,
        "{out}"
    );
}

#[test]
fn thread_time_measures_each_sleep() {
    if !root("thread_time_measures_each_sleep") {
        return;
    }
    // Five 3 ms sleeps through the nanosleep system call itself.
    let bin = program(
        "sleeper",
        "#include <time.h>\n#include <unistd.h>\n#include <sys/syscall.h>\nint main(void) { struct timespec t = {0, 3000000}; for (int i = 0; i < 5; i++) syscall(SYS_nanosleep, &t, 0); return 0; }\n",
    );
    let out = example("thread-time.d", &bin, "");
    assert_eq!(distribution_total(&out, &["sleeper"]), 5, "{out}");
    let total: i64 = out
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() == 2 && w[0] == "sleeper").then(|| w[1].parse().ok())?
        })
        .next()
        .unwrap_or_else(|| panic!("no total for sleeper in:\n{out}"));
    assert!((15_000..1_000_000).contains(&total), "{total}: {out}");
}
