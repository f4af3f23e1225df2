//! `lumen`: the one binary. `lumen dtrace …` (or this binary installed as
//! `dtrace`) runs the tracer's command line; other subcommands join as
//! their crates land.

mod dladm;
mod exitstat;
mod imgadm;
mod top;
mod vmadm;
mod vmm;
mod zfs;
mod zpool;

use anyhow::{bail, Context, Result};
use std::ffi::{c_int, OsString};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "\
Usage: lumen <command> [arguments]

Commands:
  dtrace    the DTrace-compatible tracer (try `lumen dtrace -l`)
  vmadm     zones: create, list, get, start, stop and delete them
  dladm     datalinks: etherstubs, vNICs, their properties and counters
  nictagadm nic tags: the links zones' NICs go over
  zlogin    run a command (or a shell) in a running zone
  vmm       run a KVM virtual machine (a kvm-brand zone's init)
  top       live dashboards: zones, VMs, processes and a D console
  zpool     storage pools (btrfs on a device or a file): create, list, status, scrub…
  zfs       datasets, volumes, snapshots, clones, quotas, send and receive
  imgadm    images zones and VM disks are cloned from: import, list, delete

Install or link this binary as `dtrace` to run the tracer directly.
";

fn main() -> ExitCode {
    match run() {
        Ok(status) => ExitCode::from(status),
        Err(e) => {
            eprintln!("lumen: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run() -> Result<u8> {
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_default();
    let rest: Vec<OsString> = args.collect();
    let invoked_as = Path::new(&argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if invoked_as == "dtrace" {
        return dtrace(&rest);
    }
    let Some(command) = rest.first() else {
        eprint!("{USAGE}");
        return Ok(2);
    };
    match command.to_str() {
        Some("dtrace") => dtrace(&rest[1..]),
        Some("zlogin") => {
            let args: Vec<String> = rest[1..]
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            vmadm::zlogin(&args)
        }
        Some("vmadm") => {
            let args: Vec<String> = rest[1..]
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            vmadm::run(&args)
        }
        Some("dladm") => {
            let args: Vec<String> = rest[1..]
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            dladm::run(&args)
        }
        Some("nictagadm") => {
            let args: Vec<String> = rest[1..]
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            dladm::nictagadm(&args)
        }
        Some("vmm") => {
            let args: Vec<String> = rest[1..]
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            vmm::run(&args)
        }
        Some("zfs") => zfs::run(&strings(&rest[1..])),
        Some("imgadm") => imgadm::run(&strings(&rest[1..])),
        Some("zpool") => zpool::run(&strings(&rest[1..])),
        Some("top") => {
            let args: Vec<String> = rest[1..]
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            top::run(&args)
        }
        Some("--help") | Some("help") => {
            print!("{USAGE}");
            Ok(0)
        }
        _ => {
            eprintln!("lumen: unknown command '{}'", command.to_string_lossy());
            eprint!("{USAGE}");
            Ok(2)
        }
    }
}

/// Arguments as text (lossily: names and options are ASCII).
fn strings(args: &[OsString]) -> Vec<String> {
    args.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

/// Run the dtrace(1) command line with `args` (after the program name).
fn dtrace(args: &[OsString]) -> Result<u8> {
    let mut strings = Vec::with_capacity(args.len());
    for a in args {
        match a.to_str() {
            Some(s) => strings.push(s.to_string()),
            None => bail!("dtrace: argument {:?} is not valid UTF-8", a),
        }
    }
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let err_is_terminal = stderr.is_terminal();
    // Buffered: `-l` prints thousands of rows. The engine flushes before
    // every message it writes to stderr, so the two streams stay in order.
    let (mut out, mut err) = (BufWriter::new(stdout.lock()), stderr.lock());
    // lumen:::start and lumen:::exit bracket the engine's run, so the tracer
    // can be traced (by another tracer) like any other Lumen component.
    probes::lumen::start(|| c_int::try_from(strings.len()).unwrap_or(c_int::MAX));
    let status = engine::dtrace_main(
        &strings,
        &mut engine::Console {
            out: &mut out,
            err: &mut err,
            err_is_terminal,
        },
    );
    probes::lumen::exit(|| status);
    out.flush().context("flushing standard output")?;
    Ok(u8::try_from(status & 0xff).unwrap_or(1))
}
