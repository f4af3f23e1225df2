//! Compile-time benchmarks: a typical 20-line script and a generated
//! 10,000-line script, through the whole front end (lex, parse, resolve).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use d_lang::catalog::StaticCatalog;
use d_lang::{compile, CompileOptions, Origin};

/// A typical script: thread-local timing, aggregations, printa.
const TYPICAL: &str = r#"#pragma D option quiet
syscall::read:entry, syscall::write:entry
/pid != $pid/
{
	self->ts = timestamp;
	self->fd = arg0;
}

syscall::read:return, syscall::write:return
/self->ts/
{
	this->delta = timestamp - self->ts;
	@lat[probefunc] = quantize(this->delta);
	@bytes[execname, probefunc] = sum(arg0 > 0 ? arg0 : 0);
	@calls[execname, probefunc] = count();
	self->ts = 0;
}

END { printa("%-16s %-8s %@12d %@8d\n", @bytes, @calls); }
"#;

/// A 10,000-line script of varied clauses (about 12 lines each).
fn generated(lines: usize) -> String {
    let mut s = String::from("#pragma D option quiet\nint total;\nself int depth;\n");
    let mut i = 0;
    // Each round adds 12 lines; count them once per round.
    while s.bytes().filter(|&b| b == b'\n').count() < lines {
        let f = ["read", "write", "openat", "close", "mmap", "getpid"][i % 6];
        s.push_str(&format!(
            "syscall::{f}:entry\n/pid != {i} && execname != \"skip{i}\"/\n{{\n\
             \tself->t{i} = timestamp;\n\ttotal += {i} * 2 + (arg0 & 0xff);\n\
             \t@c{i}[execname, probefunc] = count();\n\t@q{i} = quantize(arg0 << 2);\n\
             \tprintf(\"%s %d %x\\n\", execname, pid, {i});\n}}\n\
             syscall::{f}:return\n/self->t{i}/\n{{ @l{i}[pid] = lquantize(timestamp - self->t{i}, 0, 1000, 10); self->t{i} = 0; }}\n"
        ));
        i += 1;
    }
    s
}

fn bench(c: &mut Criterion) {
    let catalog = StaticCatalog::sample();
    let opts = CompileOptions::new(Origin::File("bench.d".into()));
    assert!(compile(TYPICAL, &opts, &catalog).is_ok());
    let big = generated(10_000);
    assert!(compile(&big, &opts, &catalog).is_ok());

    let mut g = c.benchmark_group("compile");
    g.throughput(Throughput::Bytes(TYPICAL.len() as u64));
    g.bench_function("typical_20_lines", |b| {
        b.iter(|| compile(black_box(TYPICAL), &opts, &catalog))
    });
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.sample_size(20);
    g.bench_function("generated_10000_lines", |b| {
        b.iter(|| compile(black_box(&big), &opts, &catalog))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
