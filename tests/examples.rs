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
