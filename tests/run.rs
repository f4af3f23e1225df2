//! End-to-end tests that run D programs in the kernel with `lumen dtrace`
//! and compare the output with DTrace's exactly.
//!
//! They need root and BPF: without them they skip with a note, except under
//! `CI=true`, where they fail.

mod common;

use common::{dtrace, root, text, LUMEN};
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Run a script with `-q`; it must exit 0. Returns its stdout.
fn quiet_output(script: &str) -> String {
    let out = dtrace(&["-q", "-n", script]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// Build a small C helper with the system compiler.
fn helper(name: &str, source: &str) -> PathBuf {
    common::compile_c(name, source, &["-O1"])
}

const GETPID_LOOP: &str = r#"
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 0;
    for (long i = 0; i < n; i++)
        syscall(SYS_getpid);
    return 0;
}
"#;

#[test]
fn getpid_count_is_exact() {
    if !root("getpid_count_is_exact") {
        return;
    }
    let bin = helper("getpid_loop", GETPID_LOOP);
    for n in [1u32, 1000, 12345] {
        let cmd = format!("{} {n}", bin.display());
        let out = dtrace(&[
            "-q",
            "-c",
            &cmd,
            "-n",
            "syscall::getpid:entry /pid == $target/ { @ = count(); }",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        let counts: Vec<u64> = stdout
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert_eq!(counts, vec![n as u64], "n = {n}: {stdout:?}");
        assert_eq!(stdout, format!("\n{:>17}\n", n), "layout for n = {n}");
    }
}

#[test]
fn begin_trace_default_output() {
    if !root("begin_trace_default_output") {
        return;
    }
    let out = dtrace(&["-n", "BEGIN { trace(42); trace(\"hello\"); exit(0); }"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let got = text(&out.stdout);
    let cpu: String = got.lines().nth(1).unwrap_or("").chars().take(3).collect();
    assert!(cpu.trim().parse::<u32>().is_ok(), "{got:?}");
    let want = format!(
        "CPU     ID                    FUNCTION:NAME\n{cpu} {:>6} {:>32}  {:>10}  {:<33}\n\n",
        1, ":BEGIN", 42, "hello"
    );
    assert_eq!(got, want);
    assert_eq!(
        text(&out.stderr),
        "dtrace: description 'BEGIN ' matched 1 probe\n"
    );
}

#[test]
fn exit_status_is_exits_argument() {
    if !root("exit_status_is_exits_argument") {
        return;
    }
    let out = dtrace(&["-q", "-n", "BEGIN { exit(7); }"]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "\n");
}

#[test]
fn printf_golden() {
    if !root("printf_golden") {
        return;
    }
    let script = r#"BEGIN {
        printf("%d|%5d|%-5d|%05d|%x|%X|%o|%u|%c|%s|%-6s|%6s|%%\n", 42, 42, 42, 42, 255, 255, 8, 7, 65, "str", "ab", "cd");
        printf("%+d % d %.3d %#x %#o\n", 5, 5, 5, 255, 8);
        printf("%s %d\n", execname, pid == $pid ? 0 : 1);
        exit(0);
    }"#;
    let stdout = quiet_output(script);
    assert_eq!(
        stdout,
        "42|   42|42   |00042|ff|FF|10|7|A|str|ab    |    cd|%\n+5  5 005 0xff 010\nlumen 0\n\n"
    );
}

#[test]
fn quantize_layout_golden() {
    if !root("quantize_layout_golden") {
        return;
    }
    let script = "BEGIN { @ = quantize(0); @ = quantize(1); @ = quantize(2); @ = quantize(3); @ = quantize(8); @ = quantize(8); @ = quantize(-1); exit(0); }";
    let stdout = quiet_output(script);
    let want = "\n\n           value  ------------- Distribution ------------- count    \n\
                \x20             -2 |                                         0        \n\
                \x20             -1 |@@@@@@                                   1        \n\
                \x20              0 |@@@@@@                                   1        \n\
                \x20              1 |@@@@@@                                   1        \n\
                \x20              2 |@@@@@@@@@@@                              2        \n\
                \x20              4 |                                         0        \n\
                \x20              8 |@@@@@@@@@@@                              2        \n\
                \x20             16 |                                         0        \n\n";
    assert_eq!(stdout, want);
}

#[test]
fn lquantize_and_llquantize_layout_golden() {
    if !root("lquantize_and_llquantize_layout_golden") {
        return;
    }
    let script = "BEGIN { @l = lquantize(5, 0, 10, 2); @l = lquantize(-3, 0, 10, 2); @l = lquantize(100, 0, 10, 2); exit(0); }";
    let stdout = quiet_output(script);
    let want = "\n\n           value  ------------- Distribution ------------- count    \n\
                \x20            < 0 |@@@@@@@@@@@@@                            1        \n\
                \x20              0 |                                         0        \n\
                \x20              2 |                                         0        \n\
                \x20              4 |@@@@@@@@@@@@@                            1        \n\
                \x20              6 |                                         0        \n\
                \x20              8 |                                         0        \n\
                \x20          >= 10 |@@@@@@@@@@@@@                            1        \n\n";
    assert_eq!(stdout, want);
}

#[test]
fn printa_formats_and_joins() {
    if !root("printa_formats_and_joins") {
        return;
    }
    let script = r#"BEGIN {
        @c["b"] = count(); @c["a"] = count(); @c["a"] = count();
        @s["b"] = sum(10); @s["a"] = sum(5);
        printa("%-4s %@3d %@4d\n", @c, @s);
        printa(@c);
        exit(0);
    }"#;
    let stdout = quiet_output(script);
    let want = "b      1   10\na      2    5\n\n  b                                                                 1\n  a                                                                 2\n\n";
    assert_eq!(stdout, want);
}

#[test]
fn dash_p_traces_a_running_process() {
    if !root("dash_p_traces_a_running_process") {
        return;
    }
    let mut child = Command::new("sleep").arg("1").spawn().expect("sleep");
    let pid = child.id().to_string();
    let out = dtrace(&[
        "-q",
        "-p",
        &pid,
        "-n",
        "tick-10ms { @ = count(); } END { printf(\"target %d done\\n\", $target); }",
    ]);
    let _ = child.wait();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(&format!("target {pid} done\n")),
        "{stdout}"
    );
}

#[test]
fn ctrl_c_prints_aggregations_once() {
    if !root("ctrl_c_prints_aggregations_once") {
        return;
    }
    let mut child = Command::new(LUMEN)
        .args([
            "dtrace",
            "-q",
            "-n",
            "tick-1ms { @ticks = count(); } END { printf(\"end\\n\"); }",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lumen");
    std::thread::sleep(Duration::from_millis(700));
    // SAFETY: kill(2) of our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let start = Instant::now();
    let status = child.wait().expect("wait");
    assert!(start.elapsed() < Duration::from_secs(10));
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("read");
    assert_eq!(status.code(), Some(0));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "", "{stdout:?}");
    assert_eq!(lines[1], "end", "{stdout:?}");
    let counts: Vec<&&str> = lines
        .iter()
        .filter(|l| !l.trim().is_empty() && l.trim().parse::<u64>().is_ok())
        .collect();
    assert_eq!(counts.len(), 1, "aggregation printed once: {stdout:?}");
    assert!(
        counts[0].trim().parse::<u64>().unwrap_or(0) > 10,
        "{stdout:?}"
    );
}

#[test]
fn speculation_commits_only_failures() {
    if !root("speculation_commits_only_failures") {
        return;
    }
    let script = r#"#pragma D option quiet
#pragma D option nspec=2
syscall::openat:entry /pid == $target/ { self->s = speculation(); speculate(self->s); printf("open %s\n", copyinstr(arg1)); }
syscall::openat:return /self->s && arg0 < 0/ { commit(self->s); self->s = 0; }
syscall::openat:return /self->s && arg0 >= 0/ { discard(self->s); self->s = 0; }
"#;
    let dir = std::env::temp_dir().join(format!("lumen-spec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("spec.d");
    std::fs::write(&file, script).expect("script");
    let exists = dir.join("here");
    std::fs::write(&exists, "x").expect("file");
    let cmd = format!("cat {} {}/missing-file", exists.display(), dir.display());
    let out = dtrace(&["-s", file.to_str().unwrap_or_default(), "-c", &cmd]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("open {}/missing-file\n", dir.display())),
        "{stdout}"
    );
    assert!(
        !stdout.contains(&format!("open {}\n", exists.display())),
        "{stdout}"
    );
}

#[test]
fn llquantize_layout_golden() {
    if !root("llquantize_layout_golden") {
        return;
    }
    let script = "BEGIN { @ = llquantize(5, 10, 0, 1, 10); @ = llquantize(25, 10, 0, 1, 10); @ = llquantize(25, 10, 0, 1, 10); exit(0); }";
    let stdout = quiet_output(script);
    let want = "\n\n           value  ------------- Distribution ------------- count    \n\
                \x20              4 |                                         0        \n\
                \x20              5 |@@@@@@@@@@@@@                            1        \n\
                \x20              6 |                                         0        \n\
                \x20              7 |                                         0        \n\
                \x20              8 |                                         0        \n\
                \x20              9 |                                         0        \n\
                \x20             10 |                                         0        \n\
                \x20             20 |@@@@@@@@@@@@@@@@@@@@@@@@@@@              2        \n\
                \x20             30 |                                         0        \n\n";
    assert_eq!(stdout, want);
}

#[test]
fn variables_of_every_scope_run() {
    if !root("variables_of_every_scope_run") {
        return;
    }
    let script = r#"int g;
BEGIN {
    g = 40; g += 2;
    a["x", 1] = 7; a["y", 2] = 8; a["y", 2]++;
    self->t = 5; this->l = "local";
    printf("%d %d %d %d %s %d %d\n", g, a["x", 1], a["y", 2], self->t, this->l, a["z", 3], strlen(this->l));
    printf("%s %d %d %d\n", execname, "abc" < "abd", "b" > "a", execname == "lumen");
    a["x", 1] = 0;
    printf("%d %d\n", a["x", 1], -7 / 2);
    exit(0);
}"#;
    let stdout = quiet_output(script);
    assert_eq!(stdout, "42 7 9 5 local 0 5\nlumen 1 1 1\n0 -3\n\n");
}

#[test]
fn proc_exec_success_sees_the_command() {
    if !root("proc_exec_success_sees_the_command") {
        return;
    }
    let out = dtrace(&[
        "-q",
        "-c",
        "/bin/true",
        "-n",
        "proc:::exec-success /pid == $target/ { printf(\"%s\\n\", execname); }",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "true\n\n");
}

#[test]
fn timers_faster_than_200us_are_refused() {
    let out = dtrace(&["-n", "profile-1ns { @ = count(); }"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("fires more often than every 200 µs"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn dash_c_with_a_missing_program_fails_before_tracing() {
    let out = dtrace(&["-c", "/nonexistent/program", "-n", "BEGIN { trace(1); }"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "dtrace: failed to execute /nonexistent/program: No such file or directory\n"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn clear_and_trunc_act_in_record_order() {
    if !root("clear_and_trunc_act_in_record_order") {
        return;
    }
    let script = "BEGIN { @c = count(); @c = count(); printa(@c); clear(@c); printa(@c); \
                  @k[\"a\"] = count(); trunc(@k); printa(@k); exit(0); }";
    let stdout = quiet_output(script);
    assert_eq!(stdout, format!("\n{:>17}\n\n{:>17}\n\n\n", 2, 0));
}

#[test]
fn thread_locals_stay_right_when_loads_are_cached() {
    if !root("thread_locals_stay_right_when_loads_are_cached") {
        return;
    }
    let script = "BEGIN { self->x = 5; } \
        BEGIN /self->x/ { printf(\"%d \", self->x); self->x = 0; printf(\"%d \", self->x); self->x++; \
        printf(\"%d \", self->x); if (self->x == 1) { self->x = 7; } \
        printf(\"%d %d\\n\", self->x, self->x > 3 ? self->x : 0); exit(0); }";
    let stdout = quiet_output(script);
    assert_eq!(stdout, "5 0 1 7 7\n\n");
}

#[test]
fn string_subroutines_strjoin_toupper_tolower() {
    if !root("string_subroutines_strjoin_toupper_tolower") {
        return;
    }
    let out = dtrace(&[
        "-q",
        "-n",
        "BEGIN { printf(\"%s|%s\\n\", toupper(\"MiXed 1\"), tolower(\"MiXed 1\")); exit(0); }",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "MIXED 1|mixed 1\n\n");
    let out = dtrace(&[
        "-q",
        "-n",
        "BEGIN { printf(\"%s\\n\", strjoin(\"ab\", execname)); exit(0); }",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "ablumen\n\n");
}
