//! Every script in `examples/` compiles against the sample catalogue.

use d_lang::catalog::StaticCatalog;
use d_lang::{compile, CompileOptions, Origin};

#[test]
fn every_example_compiles() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
    let catalog = StaticCatalog::sample();
    let mut n = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("examples/ exists")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("d") {
            continue;
        }
        let src = std::fs::read_to_string(&path).expect("readable example");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // A script about one process's probes (`vmm$target:::`) has no
        // probes without that process; tests/vmm.rs runs it on a VMM.
        if src.contains("$target") {
            continue;
        }
        let opts = CompileOptions::new(Origin::File(name.clone()));
        match compile(&src, &opts, &catalog) {
            Ok(p) => assert!(p.matched_probes() > 0, "{name} matched no probes"),
            Err(d) => failures.push(format!("{name}: {}", d.body(true, true))),
        }
        n += 1;
    }
    assert!(
        failures.is_empty(),
        "examples failed to compile:\n{}",
        failures.join("\n")
    );
    assert!(n >= 12, "expected at least 12 examples, found {n}");
}
