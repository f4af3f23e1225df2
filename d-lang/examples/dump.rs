//! Print the typed IR (`-S` form) of a D script: `cargo run -p d-lang --example dump FILE`.
use d_lang::catalog::StaticCatalog;
use d_lang::{compile, CompileOptions, Origin};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: dump FILE.d");
        std::process::exit(2);
    };
    let src = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("dump: {path}: {e}");
            std::process::exit(2);
        }
    };
    match compile(
        &src,
        &CompileOptions::new(Origin::File(path.clone())),
        &StaticCatalog::sample(),
    ) {
        Ok(p) => print!("{p}"),
        Err(d) => {
            eprintln!(
                "dtrace: failed to compile script {path}: {}",
                d.body(true, true)
            );
            std::process::exit(1);
        }
    }
}
