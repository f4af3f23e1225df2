//! One clause calling ten string subroutines on variable arguments
//! (`substr`, `strjoin`, `lltostr`, `rindex`, `strtok`, `basename`,
//! `dirname`, `toupper`, `strstr`, `strjoin` again): how long it takes to
//! compile, to generate, and to load on this kernel, where the verifier
//! walks every bounded loop the string subroutines are made of.
//!
//! Run with `cargo bench -p engine --bench string_clause` as root; prints
//! the median and the range of each step.

use engine::backend;
use engine::catalog::LiveCatalog;
use engine::program::{self, Settings};
use engine::target::Targets;
use std::time::{Duration, Instant};

const SCRIPT: &str = r#"#pragma D option quiet
syscall::openat:entry
/execname != "never"/
{
	this->path = copyinstr(arg1);
	this->a = substr(this->path, 1, 5);
	this->b = strjoin(this->a, execname);
	this->c = lltostr(arg2 + pid);
	this->d = rindex(this->path, "/");
	this->e = strtok(this->path, "/");
	this->f = basename(this->path);
	this->g = dirname(this->path);
	this->h = toupper(this->f);
	this->i = strstr(this->path, this->f);
	this->j = strjoin(this->c, this->g);
	printf("%s|%s|%s|%d|%s|%s|%s|%s|%s|%s\n", this->a, this->b, this->c, this->d,
	    this->e, this->f, this->g, this->h, this->i, this->j);
}
"#;

/// Median, fastest and slowest of `runs` timings of `f`.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, Duration) {
    let mut all: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    all.sort();
    (all[runs / 2], all[0], all[runs - 1])
}

fn show(step: &str, (median, min, max): (Duration, Duration, Duration)) {
    println!("{step:<10} median {median:>10.3?}   range {min:.3?} .. {max:.3?}");
}

fn main() {
    let catalog = LiveCatalog::open();
    if let Some(e) = catalog.kernel_error() {
        eprintln!("string_clause: kernel probes unavailable ({e}); run as root");
        if std::env::var("CI").as_deref() == Ok("true") {
            std::process::exit(1);
        }
        return;
    }
    let settings = Settings::default();
    let opts = settings.compile_options(
        d_lang::Origin::File("string_clause.d".into()),
        vec!["string_clause.d".into()],
        None,
    );
    let targets = Targets::new(&catalog);
    let kernel = backend::named(None);
    let compiled =
        program::compile(SCRIPT.to_string(), &opts, &catalog).expect("the script compiles");
    let generated =
        program::generate(&compiled, &targets, &settings, kernel).expect("code is generated");
    let insns: usize = generated
        .object
        .programs
        .iter()
        .map(|p| p.insns.len())
        .sum();
    println!("one clause, ten string subroutines: {insns} BPF instructions");
    show(
        "compile",
        time(50, || program::compile(SCRIPT.to_string(), &opts, &catalog)),
    );
    show(
        "generate",
        time(50, || {
            program::generate(&compiled, &targets, &settings, kernel)
        }),
    );
    show(
        "load",
        time(10, || {
            let g = program::generate(&compiled, &targets, &settings, kernel)
                .expect("code is generated");
            program::enable(g, &targets).expect("the verifier accepts the clause")
        }),
    );
}
