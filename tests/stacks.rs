//! stack(), ustack(), the depth and caller variables and the symbolic
//! address functions, symbolized from kallsyms and from the traced
//! program's ELF symbols. Kernel frames differ between kernels, so these
//! check the frames that must be there rather than a golden text.

mod common;

use common::{dtrace, root, text};
use std::path::PathBuf;

/// A program with frame pointers whose call chain is known:
/// main → middle → leaf → syscall(getppid), three times.
const CHAIN: &str = r#"
#include <unistd.h>
#include <sys/syscall.h>
__attribute__((noinline)) void leaf(void) { syscall(SYS_getppid); __asm__ volatile(""); }
__attribute__((noinline)) void middle(void) { leaf(); __asm__ volatile(""); }
int main(void) { for (int i = 0; i < 3; i++) { middle(); usleep(120000); } return 0; }
"#;

/// Built once per test process: tests run in parallel threads.
fn chain_binary() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| common::compile_c("chain", CHAIN, &["-O1", "-fno-omit-frame-pointer"]))
        .clone()
}

/// `dtrace -q OPTIONS -n SCRIPT -c chain`, which must exit 0; its output.
fn trace_chain(options: &[&str], script: &str) -> String {
    let bin = chain_binary();
    let mut args = vec!["-q"];
    args.extend_from_slice(options);
    args.extend(["-n", script, "-c", bin.to_str().expect("path")]);
    let out = dtrace(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn ustack_names_the_programs_functions() {
    if !root("ustack_names_the_programs_functions") {
        return;
    }
    let s = trace_chain(
        &[],
        "syscall::getppid:entry /pid == $target/ { @[ustack()] = count(); }",
    );
    // Frames are indented 14 spaces, innermost first, object basenames.
    let frames: Vec<&str> = s
        .lines()
        .filter(|l| l.starts_with("              "))
        .collect();
    let pos = |name: &str| {
        frames
            .iter()
            .position(|f| f.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no {name} frame in:\n{s}"))
    };
    assert!(pos("libc.so.6`syscall+0x") < pos("chain`middle+0x"), "{s}");
    assert!(pos("chain`middle+0x") < pos("chain`main+0x"), "{s}");
    // The three calls come from three call sites in main's unrolled loop
    // or one; either way the counts add up to 3.
    let total: u64 = s.lines().filter_map(|l| l.trim().parse::<u64>().ok()).sum();
    assert_eq!(total, 3, "{s}");
}

#[test]
fn user_address_functions_print_symbols() {
    if !root("user_address_functions_print_symbols") {
        return;
    }
    let s = trace_chain(&[], "syscall::getppid:entry /pid == $target/ { @f[ufunc(ucaller)] = count(); @m[umod(ucaller)] = count(); @a[uaddr(ucaller)] = count(); }");
    let row = |key: &str| format!("  {key:<50} {:>16}", 3);
    assert!(s.contains(&row("chain`middle")), "{s}");
    assert!(s.contains(&row("chain")), "{s}");
    assert!(
        s.lines()
            .any(|l| l.starts_with("  chain`middle+0x") && l.ends_with(" 3")),
        "{s}"
    );
}

#[test]
fn kernel_stacks_start_at_the_syscall_path() {
    if !root("kernel_stacks_start_at_the_syscall_path") {
        return;
    }
    let s = trace_chain(&[], "syscall::getppid:entry /pid == $target/ { @[stack()] = count(); @d = max(stackdepth); @c[sym(caller)] = count(); @mod[mod(caller)] = count(); }");
    let frames: Vec<&str> = s
        .lines()
        .filter(|l| l.starts_with("              vmlinux`"))
        .collect();
    // The tracing machinery's own frame (perf_syscall_enter) is skipped.
    assert!(
        !frames.iter().any(|f| f.contains("perf_syscall_enter")),
        "{s}"
    );
    assert!(
        frames.iter().any(|f| f.contains("`do_syscall_64+0x")),
        "{s}"
    );
    // stackdepth equals the number of frames printed.
    let depth = frames.len() as u64;
    assert!(
        s.contains(&format!("\n {depth:>16}\n")),
        "depth {depth}:\n{s}"
    );
    // caller is the second frame: a kernel function, module vmlinux.
    assert!(s.contains(&format!("  {:<50} {:>16}", "vmlinux", 3)), "{s}");
    assert!(
        s.lines()
            .any(|l| l.starts_with("  vmlinux`") && !l.contains("+0x") && l.ends_with(" 3")),
        "{s}"
    );
}

#[test]
fn stack_statement_and_percent_k() {
    if !root("stack_statement_and_percent_k") {
        return;
    }
    let s = trace_chain(&[], "syscall::getppid:entry /pid == $target/ { printf(\"[%k]\", stack(2)); stack(1); exit(0); }");
    // %k: the frames with no indent; stack(1) as a statement: one frame at 14.
    let first = s.split("]").next().unwrap_or("");
    assert_eq!(
        first.lines().filter(|l| l.starts_with("vmlinux`")).count(),
        2,
        "{s}"
    );
    let after: Vec<&str> = s.split("]").nth(1).unwrap_or("").lines().collect();
    assert!(
        after
            .iter()
            .filter(|l| l.starts_with("              vmlinux`"))
            .count()
            == 1,
        "{s}"
    );
}

#[test]
fn stackframes_options_limit_the_frames() {
    if !root("stackframes_options_limit_the_frames") {
        return;
    }
    let s = trace_chain(
        &["-x", "stackframes=2", "-x", "ustackframes=1"],
        "syscall::getppid:entry /pid == $target/ { stack(); ustack(); exit(0); }",
    );
    let frames: Vec<&str> = s
        .lines()
        .filter(|l| l.starts_with("              "))
        .collect();
    // Records after exit() may follow; the first record holds 2 + 1 frames.
    assert!(frames.len() >= 3, "{s}");
    assert!(
        frames[0].contains("vmlinux`") && frames[1].contains("vmlinux`"),
        "{s}"
    );
    assert!(frames[2].contains("libc.so.6`syscall+0x"), "{s}");
    let first_record: Vec<&str> = s.split("\n\n").take(3).collect();
    assert!(
        first_record[0].lines().filter(|l| !l.is_empty()).count() == 2,
        "{s}"
    );
}
