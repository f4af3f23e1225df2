//! Test guests: tiny freestanding x86-64 programs that each drive one VMM path.
//!
//! They exist because `/dev/kvm` on Lumen's development and CI machines is
//! nested KVM on PVM, where a guest runs roughly a million instructions a
//! second and every VM exit is costly: booting a Linux kernel per test would
//! take minutes. Each guest is a flat binary of a few KiB that finishes in
//! well under a second. Sources live in `hypervisor/guests/` (one `.c` per
//! guest, the shared runtime in `guests/rt/`); `build.rs` builds them with
//! the system gcc and objcopy into `OUT_DIR/<name>.bin`.
//!
//! Boot contract ("payload boot mode", `guests/rt/rt.h` has the full text):
//! load the image at guest-physical 0x100000 and enter its first byte in
//! 64-bit mode with an identity map of the first 4 GiB, IF=0, no IDT,
//! rsp = 0x80000, rdi = RAM size, rsi = address of a NUL-terminated
//! command line (`key=value` words). A 32-bit write of V to port 0xf4 ends
//! the VM with status V.
//!
//! | guest       | does                                                     | command line              | status                    |
//! |-------------|----------------------------------------------------------|---------------------------|---------------------------|
//! | `hello`     | prints `hello from lumen guest\n` on the 8250 at 0x3f8   |                           | 0                         |
//! | `pio_loop`  | exactly N `outb` to port 0x80, no other exit but 0xf4    | `count=N` (1000)          | 0                         |
//! | `mmio_loop` | N × (write, read) of u32 at scratch MMIO 0xc000_0000     | `count=N` (100)           | 0; 3 read not all ones    |
//! | `hlt`       | `hlt` with IF=0: the VMM stops the VM; no exit port write |                          | 0 by VMM rule; 1 resumed  |
//! | `fault`     | `ud2` with no IDT: triple fault                          |                           | none (guest fault)        |
//! | `blk`       | write/read/verify/flush on the first virtio-blk, then N 4 KiB reads | `sector0=check` `reads=N` (0) | 0; 1–11 (see `blk.c`) |
//! | `net`       | broadcast 0x88b5 "lumen-ping", await "lumen-pong"        | `wait=N` polls (300000)   | 0; 1–5 (see `net.c`)      |
//! | `garbage`   | nonsense on virtio-mmio registers and rings              | `ring=bad\|table\|loop\|avail` | 0; 1–2 (see `garbage.c`) |
//! | `console`   | "console: hello" on the virtio console, echoes a line    | `wait=N` (300000) `flood=N` 4 KiB blocks (0) | 0; 1–5 (see `console.c`) |
//! | `idle`      | prints `idle: up`, then an `outb` to 0x80 every N pauses, forever | `every=N` (20000) `talk=1` | none (runs until stopped) |
//!
//! Statuses from 100 up come from the runtime and mean the guest could not
//! do its job: 100 malformed command line value, 101 UART never ready,
//! 110 no virtio device of the wanted type, 111 transport version not 2,
//! 112 reset did not clear Status, 113 no VERSION_1 feature,
//! 114 FEATURES_OK refused, 115 queue missing or already live,
//! 116 config generation never stable.

/// Prints one line on the serial port, exits 0.
pub const HELLO: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/hello.bin"));
/// `count=N` (default 1000) `outb`s to port 0x80 and nothing else, exits 0.
pub const PIO_LOOP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/pio_loop.bin"));
/// `count=N` (default 100) u32 write+read pairs at scratch MMIO, exits 0 (3 if a read is not all ones).
pub const MMIO_LOOP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/mmio_loop.bin"));
/// Halts with IF=0 and never writes the exit port.
pub const HLT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/hlt.bin"));
/// Executes `ud2` with no IDT: triple fault.
pub const FAULT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/fault.bin"));
/// Drives the first virtio block device: write, read, verify, flush.
pub const BLK: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/blk.bin"));
/// Streams the first virtio block device (`size=` KiB requests, `passes=`,
/// `write=1`) and prints the bytes moved: storage's throughput benchmark.
pub const BLKBENCH: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/blkbench.bin"));
/// Sends a "lumen-ping" broadcast on the first virtio net device, waits for "lumen-pong".
pub const NET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/net.bin"));
/// Writes nonsense to virtio-mmio registers (or, with `ring=`, broken rings), exits 0.
pub const GARBAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/garbage.bin"));
/// Says hello on the first virtio console, reads a line from it and answers "console: got LINE".
pub const CONSOLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/console.bin"));
/// Prints "idle: up", then runs (an `outb` to 0x80 now and then) until stopped.
pub const IDLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/idle.bin"));

/// Every guest by the name of its source file (`guests/<name>.c`).
pub const ALL: &[(&str, &[u8])] = &[
    ("hello", HELLO),
    ("pio_loop", PIO_LOOP),
    ("mmio_loop", MMIO_LOOP),
    ("hlt", HLT),
    ("fault", FAULT),
    ("blk", BLK),
    ("blkbench", BLKBENCH),
    ("net", NET),
    ("garbage", GARBAGE),
    ("console", CONSOLE),
    ("idle", IDLE),
];

/// The image of the guest named `name` (as in [`ALL`]), if there is one.
pub fn by_name(name: &str) -> Option<&'static [u8]> {
    ALL.iter()
        .find(|(n, _)| *n == name)
        .map(|(_, image)| *image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_small_and_non_empty() {
        for (name, image) in ALL {
            assert!(!image.is_empty(), "guest {name} is empty");
            assert!(
                image.len() < 16 * 1024,
                "guest {name} is {} bytes",
                image.len()
            );
        }
    }

    #[test]
    fn by_name_finds_every_guest_and_nothing_else() {
        for (name, image) in ALL {
            assert_eq!(by_name(name), Some(*image));
        }
        assert!(by_name("no_such_guest").is_none());
    }

    #[test]
    fn every_guest_source_is_listed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("guests");
        let mut sources: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "c"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        sources.sort();
        let mut listed: Vec<String> = ALL.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(sources, listed, "guests/*.c and guests::ALL disagree");
    }
}
