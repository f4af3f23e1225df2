//! End-to-end tests of `examples/*.d`: each compiles cleanly with `lumen dtrace -e` on the live catalogue.
//!
//! The examples use kernel probes (`syscall`, `proc`, `sched`, `sdt`), so the
//! test needs root and tracefs; as in `tests/cli.rs`, it skips with a note
//! when they are missing, except under `CI=true`, where it fails.

mod common;

use common::{dtrace, kernel_probes, text, workspace as root};
use std::path::PathBuf;

/// `examples/*.d`, sorted, relative to the workspace root.
fn example_scripts() -> Vec<PathBuf> {
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("read examples/")
        .map(|e| e.expect("read examples/ entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "d"))
        .map(|p| p.strip_prefix(root()).expect("under root").to_path_buf())
        .collect();
    scripts.sort();
    scripts
}

#[test]
fn every_example_compiles() {
    if !kernel_probes("every_example_compiles") {
        return;
    }
    let scripts = example_scripts();
    assert!(!scripts.is_empty(), "no examples/*.d found");
    let mut failures = Vec::new();
    for script in &scripts {
        let path = script.to_str().expect("UTF-8 path");
        // A script about one process (`$target`) compiles against a
        // stand-in command; -Z lets its probes match nothing there.
        let source = std::fs::read_to_string(script).expect("read example");
        let out = if source.contains("$target") {
            dtrace(&["-Z", "-e", "-s", path, "-c", "/bin/true"])
        } else {
            dtrace(&["-e", "-s", path])
        };
        if out.status.code() != Some(0) || !out.stderr.is_empty() {
            failures.push(format!(
                "lumen dtrace -e -s {path}: exit {:?}, stderr:\n{}",
                out.status.code(),
                text(&out.stderr)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} examples failed:\n{}",
        failures.len(),
        scripts.len(),
        failures.join("\n")
    );
}

#[test]
fn hello_intermediate_form() {
    // hello.d uses only dtrace:::BEGIN, so this needs no kernel probes.
    let out = dtrace(&["-e", "-S", "-s", "examples/hello.d"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let ir = text(&out.stdout);
    assert!(ir.contains("dtrace:::BEGIN"), "{ir}");
}

/// Run `examples/NAME.d` with `-c CMD` and return its standard output.
fn run_example(name: &str, cmd: &str) -> String {
    let script = format!("examples/{name}.d");
    let out = dtrace(&["-s", &script, "-c", cmd]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{script}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The whitespace-separated rows of `out` whose first field is `first`.
fn rows<'a>(out: &'a str, first: &str) -> Vec<Vec<&'a str>> {
    out.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|f| f.first() == Some(&first))
        .collect()
}

#[test]
fn errno_counts_failed_calls_by_program_call_and_errno() {
    if !kernel_probes("errno_counts_failed_calls_by_program_call_and_errno") {
        return;
    }
    // 7 opens of a missing file (ENOENT, 2), 3 closes of a bad fd (EBADF, 9).
    let bin = common::compile_c(
        "lumen_errnos",
        "#include <fcntl.h>\n#include <unistd.h>\nint main(void) {\n\
         for (int i = 0; i < 7; i++) open(\"/nonexistent/lumen\", O_RDONLY);\n\
         for (int i = 0; i < 3; i++) close(-1);\n return 0; }\n",
        // Static: the dynamic loader's own failed opens would count too.
        &["-O0", "-static"],
    );
    let out = run_example("errno", &bin.display().to_string());
    assert!(out.starts_with("PROGRAM "), "{out}");
    let mine = rows(&out, "lumen_errnos");
    assert!(
        mine.contains(&vec!["lumen_errnos", "openat", "2", "7"]),
        "{out}"
    );
    assert!(
        mine.contains(&vec!["lumen_errnos", "close", "9", "3"]),
        "{out}"
    );
}

#[test]
fn rwtime_counts_every_read_and_write_of_the_target() {
    if !kernel_probes("rwtime_counts_every_read_and_write_of_the_target") {
        return;
    }
    // 300 one-byte reads of /dev/zero and as many writes to /dev/null; the
    // dynamic loader reads a few more, nothing else writes.
    let bin = common::compile_c(
        "lumen_rw",
        "#include <fcntl.h>\n#include <unistd.h>\nint main(void) { char c;\n\
         int z = open(\"/dev/zero\", O_RDONLY), n = open(\"/dev/null\", O_WRONLY);\n\
         for (int i = 0; i < 300; i++) { read(z, &c, 1); write(n, &c, 1); }\n return 0; }\n",
        &["-O0"],
    );
    let out = run_example("rwtime", &bin.display().to_string());
    // The summary rows (CALL COUNT TOTAL), not the distributions' titles.
    let summary = |call: &str| -> Vec<String> {
        rows(&out, call)
            .into_iter()
            .filter(|r| r.len() == 3)
            .map(|r| r[1].to_string())
            .collect()
    };
    assert_eq!(summary("write"), ["300"], "{out}");
    let reads: u64 = summary("read")[0].parse().expect("read count");
    assert!((300..320).contains(&reads), "{out}");
    // The two distributions follow, one per call.
    assert!(out.contains("value  ------------- Distribution ------------- count"));
}

#[test]
fn whoexec_names_the_program_behind_each_exec() {
    if !kernel_probes("whoexec_names_the_program_behind_each_exec") {
        return;
    }
    // dtrace -c splits its command at blanks, without a shell's quoting:
    // the three execs are in a script.
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("three.sh");
    std::fs::write(&script, "/bin/true\n/bin/true\n/bin/true\nexit 0\n").expect("write script");
    let out = run_example("whoexec", &format!("/bin/sh {}", script.display()));
    assert!(out.starts_with("WHO "), "{out}");
    let sh = rows(&out, "sh");
    assert!(sh.contains(&vec!["sh", "true", "3"]), "{out}");
}
