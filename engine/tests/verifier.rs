//! Differential check: every example script's generated programs are
//! accepted by this kernel's verifier. Needs root and BPF; under `CI=true`
//! a missing capability fails the test instead of skipping it.

use d_lang::codegen::{generate, CodegenOptions};
use d_lang::{compile, CompileOptions, Origin};
use engine::run::Instance;
use engine::target::Targets;
use engine::LiveCatalog;

fn kernel_available() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("verifier tests need root (CI=true makes this fatal)");
        }
        eprintln!("skipping: verifier tests need root");
    }
    root
}

/// Load one script's programs; returns the error text, if any.
fn load(catalog: &LiveCatalog, name: &str, src: &str) -> Result<usize, String> {
    let prog = compile(
        src,
        &CompileOptions::new(Origin::File(name.into())),
        catalog,
    )
    .map_err(|d| format!("compile: {}", d.body(true, true)))?;
    let targets = Targets::new(catalog);
    let obj = generate(&prog, &targets, &CodegenOptions::default())
        .map_err(|d| format!("codegen: {}", d.message))?;
    let n = obj.programs.len();
    Instance::new(obj, &engine::backend::KERNEL).map_err(|e| match &e {
        engine::run::InstanceError::Load { source, .. } => {
            let log: Vec<&str> = source.log.lines().collect();
            let tail = log[log.len().saturating_sub(25)..].join("\n");
            format!("{e}\n{tail}")
        }
        _ => e.to_string(),
    })?;
    Ok(n)
}

#[test]
fn examples_pass_the_verifier() {
    if !kernel_available() {
        return;
    }
    let catalog = LiveCatalog::open();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("examples/")
        .flatten()
        .map(|e| e.path())
        .collect();
    paths.sort();
    let mut failures = Vec::new();
    let mut loaded = 0;
    for p in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "d"))
    {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let src = std::fs::read_to_string(p).expect("readable example");
        // A script about one process's probes (`vmm$target:::`) loads only
        // with that process; tests/vmm.rs runs it on a VMM.
        if src.contains("$target") {
            continue;
        }
        match load(&catalog, &name, &src) {
            Ok(n) => loaded += n,
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} examples failed ({loaded} programs loaded):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
