//! The `pid` provider: entry and return probes on a test program's
//! functions (and on libc's), with their arguments, return values and
//! user stacks.

mod common;

use common::{dtrace, root, text};
use std::path::PathBuf;

const PROGRAM: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
__attribute__((noinline)) long add(long a, long b) { __asm__ volatile(""); return a + b; }
__attribute__((noinline)) long twice(long a) { long r = add(a, a); __asm__ volatile(""); return r; }
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10;
    long t = 0;
    for (int i = 0; i < n; i++) t += twice(i);
    char *volatile p = malloc(1234);
    if (!p) return 2;
    p[7] = 0;
    printf("total %ld %d\n", t, p[7]);
    free(p);
    return 0;
}
"#;

fn program() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| common::compile_c("pidprog", PROGRAM, &["-O1", "-fno-omit-frame-pointer"]))
        .clone()
}

#[test]
fn entry_and_return_counts_and_values_are_exact() {
    if !root("entry_and_return_counts_and_values_are_exact") {
        return;
    }
    let cmd = format!("{} 321", program().display());
    let out = dtrace(&[
        "-q",
        "-n",
        "pid$target::add:entry { @calls[\"add entry\"] = count(); @sums[\"add args\"] = sum(arg0 + arg1); } \
         pid$target::add:return { @calls[\"add return\"] = count(); @sums[\"add rval\"] = sum(arg1); } \
         pid$target::twice:return { @max[\"twice rval\"] = max(arg1); } \
         pid$target::malloc:entry /arg0 == 1234/ { printf(\"malloc %d from %s\\n\", arg0, probemod); }",
        "-c",
        &cmd,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let sum: i64 = (0..321).map(|i| 2 * i).sum();
    assert!(s.contains(&format!("total {sum} 0\n")), "{s}");
    assert!(s.contains("malloc 1234 from libc.so.6\n"), "{s}");
    let row = |k: &str, v: i64| format!("  {k:<50} {v:>16}\n");
    assert!(s.contains(&row("add entry", 321)), "{s}");
    assert!(s.contains(&row("add return", 321)), "{s}");
    assert!(s.contains(&row("add args", sum)), "{s}");
    assert!(s.contains(&row("add rval", sum)), "{s}");
    assert!(s.contains(&row("twice rval", 640)), "{s}");
}

#[test]
fn ustack_in_pid_probes_shows_the_callers() {
    if !root("ustack_in_pid_probes_shows_the_callers") {
        return;
    }
    let cmd = format!("{} 5", program().display());
    let out = dtrace(&[
        "-q",
        "-n",
        "pid$target::add:entry /arg0 == 3/ { ustack(); }",
        "-c",
        &cmd,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let frames: Vec<&str> = s
        .lines()
        .filter(|l| l.starts_with("              "))
        .map(str::trim)
        .collect();
    assert_eq!(frames.first(), Some(&"pidprog`add"), "{s}");
    assert!(
        frames
            .get(1)
            .is_some_and(|f| f.starts_with("pidprog`twice+0x")),
        "{s}"
    );
    assert!(
        frames
            .get(2)
            .is_some_and(|f| f.starts_with("pidprog`main+0x")),
        "{s}"
    );
}

#[test]
fn pid_probes_are_listed_by_function_glob() {
    if !root("pid_probes_are_listed_by_function_glob") {
        return;
    }
    let cmd = format!("{} 1", program().display());
    let out = dtrace(&["-l", "-n", "pid$target::a*:", "-c", &cmd]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let ours: Vec<Vec<&str>> = s
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().skip(2).collect())
        .filter(|w: &Vec<&str>| w.first() == Some(&"pidprog"))
        .collect();
    assert_eq!(
        ours,
        vec![
            vec!["pidprog", "add", "entry"],
            vec!["pidprog", "add", "return"]
        ],
        "{s}"
    );
    // An instruction offset within the function is a probe too.
    let out = dtrace(&["-l", "-n", "pid$target::add:1", "-c", &cmd]);
    assert!(
        text(&out.stdout).contains(" add 1"),
        "{}",
        text(&out.stdout)
    );
}
