//! Helpers shared by the end-to-end tests: running the built `lumen`, and
//! the capability checks that skip a test with a note — or fail it under
//! `CI=true`, where a missing capability must never pass silently.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// The binary under test.
pub const LUMEN: &str = env!("CARGO_BIN_EXE_lumen");

/// The workspace root (examples are run by paths relative to it).
pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Run `lumen dtrace ARGS` from the workspace root.
pub fn dtrace(args: &[&str]) -> Output {
    Command::new(LUMEN)
        .current_dir(workspace())
        .arg("dtrace")
        .args(args)
        .output()
        .expect("run lumen")
}

/// Run `lumen ARGS` with `LUMEN_ROOT` set to `root` (a test's own zone
/// registry) and `stdin` on its standard input.
pub fn lumen_in(root: &Path, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(LUMEN)
        .env("LUMEN_ROOT", root)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run lumen");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin.as_bytes());
    }
    child.wait_with_output().expect("wait for lumen")
}

/// Bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn skip_or_fail(test: &str, why: &str) -> bool {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: required under CI=true, but {why}");
    }
    eprintln!("skipping {test}: {why}");
    false
}

/// Whether we run as root (BPF needs it).
pub fn root(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    skip_or_fail(test, "not running as root")
}

/// Whether kernel probes can be listed here (root and tracefs).
pub fn kernel_probes(test: &str) -> bool {
    if !root(test) {
        return false;
    }
    let out = dtrace(&["-l", "-P", "syscall"]);
    if out.status.success() {
        return true;
    }
    skip_or_fail(
        test,
        &format!("tracefs unavailable: {}", text(&out.stderr).trim()),
    )
}

/// Whether `program` is installed (`program --version` runs).
pub fn installed(test: &str, program: &str) -> bool {
    match Command::new(program).arg("--version").output() {
        Ok(_) => true,
        Err(e) => skip_or_fail(test, &format!("{program} cannot be run: {e}")),
    }
}

/// Build a small C program with the system compiler (`gcc FLAGS -o`),
/// into a directory of this test process; its path. Names must differ
/// between tests that run at once (they build in parallel threads).
pub fn compile_c(name: &str, source: &str, flags: &[&str]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lumen-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let src = dir.join(format!("{name}.c"));
    let bin = dir.join(name);
    std::fs::write(&src, source).expect("write C source");
    let st = Command::new("gcc")
        .args(flags)
        .arg("-o")
        .arg(&bin)
        .arg(&src)
        .status()
        .expect("gcc");
    assert!(st.success(), "gcc {flags:?} failed for {name}");
    bin
}

/// Whether KVM can be used here (root and an openable `/dev/kvm`).
pub fn kvm(test: &str) -> bool {
    if !root(test) {
        return false;
    }
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
    {
        Ok(_) => true,
        Err(e) => skip_or_fail(test, &format!("/dev/kvm cannot be opened: {e}")),
    }
}
