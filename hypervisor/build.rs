//! Builds the test guests (`guests/*.c`) into flat x86-64 binaries.
//!
//! Each `guests/<name>.c` is one guest. It is linked with the runtime in
//! `guests/rt/` (entry `rt/start.S`) at 0x100000 by `guests/guest.ld`,
//! and `objcopy -O binary` turns it into `OUT_DIR/<name>.bin`, the bytes
//! `src/guests.rs` includes. The system gcc and objcopy do the work
//! (`LUMEN_GUEST_CC` / `LUMEN_GUEST_OBJCOPY` override them); a missing
//! tool fails the build naming it.

use std::env;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Guest-physical load and entry address; the linker script's origin.
const LOAD_ADDR: u64 = 0x10_0000;
/// Largest flat image accepted: guests must stay tiny (see guests.rs).
const MAX_IMAGE: u64 = 16 * 1024;

/// Freestanding, no SSE (the VMM does not enable it), no red zone, no
/// CET notes or unwind tables (they would only bloat the flat image).
const CFLAGS: &[&str] = &[
    "-std=gnu11",
    "-m64",
    "-O2",
    "-ffreestanding",
    "-fno-pic",
    "-fno-pie",
    "-mno-red-zone",
    "-mgeneral-regs-only",
    "-mno-sse",
    "-mno-sse2",
    "-mno-mmx",
    "-fno-stack-protector",
    "-fno-asynchronous-unwind-tables",
    "-fno-unwind-tables",
    "-fcf-protection=none",
    "-ffunction-sections",
    "-fdata-sections",
    "-Wall",
    "-Wextra",
];

const LDFLAGS: &[&str] = &[
    "-nostdlib",
    "-static",
    "-no-pie",
    "-Wl,--build-id=none",
    "-Wl,--gc-sections",
    "-Wl,-z,noexecstack",
    "-Wl,--no-warn-rwx-segments",
];

fn main() {
    let manifest =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let src = manifest.join("guests");

    println!("cargo:rerun-if-changed=guests");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=LUMEN_GUEST_CC");
    println!("cargo:rerun-if-env-changed=LUMEN_GUEST_OBJCOPY");

    let cc = tool("LUMEN_GUEST_CC", "gcc", "an x86-64 C compiler");
    let objcopy = tool("LUMEN_GUEST_OBJCOPY", "objcopy", "binutils' objcopy");

    let rt_out = out.join("guest-rt");
    fs::create_dir_all(&rt_out)
        .unwrap_or_else(|e| fail(&format!("creating {}: {e}", rt_out.display())));
    let runtime: Vec<PathBuf> = sources(&src.join("rt"), &["c", "S"])
        .iter()
        .map(|file| {
            let obj = rt_out.join(file.file_name().unwrap()).with_extension("o");
            let mut cmd = Command::new(&cc);
            cmd.args(CFLAGS).arg("-c").arg(file).arg("-o").arg(&obj);
            run(cmd, &cc, &format!("compiling {}", file.display()));
            obj
        })
        .collect();

    let script = src.join("guest.ld");
    for file in sources(&src, &["c"]) {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let elf = out.join(format!("{name}.elf"));
        let bin = out.join(format!("{name}.bin"));

        let mut cmd = Command::new(&cc);
        cmd.args(CFLAGS)
            .args(LDFLAGS)
            .arg(format!("-Wl,-T,{}", script.display()))
            .arg("-o")
            .arg(&elf)
            .args(&runtime)
            .arg(&file);
        run(cmd, &cc, &format!("building guest {name}"));
        check_entry(&elf, &name);

        let mut cmd = Command::new(&objcopy);
        cmd.arg("-O").arg("binary").arg(&elf).arg(&bin);
        run(cmd, &objcopy, &format!("flattening guest {name}"));

        let size = fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
        if size == 0 || size >= MAX_IMAGE {
            fail(&format!(
                "guest {name}: flat image is {size} bytes; it must be non-empty and under {MAX_IMAGE}"
            ));
        }
    }
}

/// The tool to run: `$var` if set, else `default`, checked to exist.
fn tool(var: &str, default: &str, what: &str) -> String {
    let name = env::var(var).unwrap_or_else(|_| default.to_string());
    match Command::new(&name).arg("--version").output() {
        Ok(_) => name,
        Err(e) if e.kind() == ErrorKind::NotFound => fail(&format!(
            "`{name}` ({what}) not found; \
             install it (Debian: apt-get install gcc binutils) or set {var}"
        )),
        Err(e) => fail(&format!("cannot run `{name}` ({what}): {e}")),
    }
}

/// Files in `dir` with one of `exts`, sorted so builds are repeatable.
fn sources(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|e| fail(&format!("reading {}: {e}", dir.display())));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| {
            entry
                .unwrap_or_else(|e| fail(&format!("reading {}: {e}", dir.display())))
                .path()
        })
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| exts.iter().any(|e| x == *e)))
        .collect();
    files.sort();
    files
}

/// Runs `cmd`; forwards compiler warnings; fails the build on error.
fn run(mut cmd: Command, tool: &str, doing: &str) {
    let output = cmd
        .output()
        .unwrap_or_else(|e| fail(&format!("{doing}: cannot run `{tool}`: {e}")));
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        fail(&format!(
            "{doing}: `{tool}` failed ({}):\n{stderr}",
            output.status
        ));
    }
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        println!("cargo:warning={doing}: {line}");
    }
}

/// The ELF's entry must be the load address: the VMM enters byte 0.
fn check_entry(elf: &Path, name: &str) {
    let bytes = fs::read(elf).unwrap_or_else(|e| fail(&format!("reading {}: {e}", elf.display())));
    let entry = bytes
        .get(24..32)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
        .unwrap_or(0);
    if entry != LOAD_ADDR {
        fail(&format!(
            "guest {name}: entry point is {entry:#x}, not the load address {LOAD_ADDR:#x}; \
             rt/start.S must come first (guest.ld)"
        ));
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("error: hypervisor test guests: {msg}");
    std::process::exit(1);
}
