//! What a probe site costs: none, disabled (semaphore zero) and enabled
//! (semaphore raised by the bench: arguments evaluated, then the site's
//! `nop`; no tracer is attached, so no trap).

use criterion::{black_box, criterion_group, criterion_main, Criterion};

probes::provider! {
    /// The bench's provider.
    bench {
        /// Three arguments, like `vmm:::exit-entry`.
        fn three(vm: u64, vcpu: u32, reason: u32);
    }
}

/// The work a probed loop does anyway, so the probe's share is visible.
#[inline(always)]
fn work(i: u64) -> u64 {
    black_box(i).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

fn probe_cost(c: &mut Criterion) {
    let mut g = c.benchmark_group("probe_cost");
    g.bench_function("no_probe", |b| {
        let mut i = 0u64;
        b.iter(|| {
            i += 1;
            work(i)
        })
    });
    g.bench_function("disabled", |b| {
        let mut i = 0u64;
        b.iter(|| {
            i += 1;
            three(|| (black_box(i), 1, 2));
            work(i)
        })
    });
    three::SEMAPHORE.raise();
    g.bench_function("enabled_no_tracer", |b| {
        let mut i = 0u64;
        b.iter(|| {
            i += 1;
            three(|| (black_box(i), 1, 2));
            work(i)
        })
    });
    three::SEMAPHORE.lower();
    g.finish();
}

criterion_group!(benches, probe_cost);
criterion_main!(benches);
