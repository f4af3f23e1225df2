//! Fire `vmm:::exit-entry` and `zone:::boot` COUNT times (default 5), one
//! every 100 ms, so a tracer can attach: `cargo run -p probes --example fire`.

use std::time::Duration;

fn main() {
    let count: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let name = c"web0";
    for i in 0..count {
        std::thread::sleep(Duration::from_millis(100));
        probes::vmm::exit__entry(|| (i, 1, 2));
        probes::zone::boot(|| (i, name.as_ptr()));
    }
}
