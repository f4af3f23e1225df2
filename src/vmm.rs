//! `lumen vmm`: run one VM in this process (the init command of a
//! `kvm`-brand zone, or by hand). The console (the 8250, and the virtio console with
//! `--virtio-console`) is this process's stdout unless `--console` names a
//! file, and is also served on `--console-socket`; the exit status is the
//! guest's. With `--metrics FILE` the virtio devices' counters are kept
//! in FILE as JSON (`vmadm info` shows them).

use anyhow::{bail, Context, Result};
use clap::Parser;
use hypervisor::{
    BootSource, ConsoleHub, ConsoleSocket, DiskConfig, NicConfig, Vm, VmConfig, VmControl, VmExit,
    VmMetrics,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often `--metrics` rewrites its file while the VM runs.
const METRICS_EVERY: Duration = Duration::from_secs(1);

#[derive(Parser, Debug)]
#[command(
    name = "lumen vmm",
    about = "Run a KVM virtual machine",
    disable_version_flag = true
)]
struct Args {
    /// A flat 64-bit payload, loaded at 1 MiB and entered in long mode.
    #[arg(long, conflicts_with = "kernel", required_unless_present = "kernel")]
    payload: Option<PathBuf>,
    /// A Linux kernel (bzImage or ELF vmlinux).
    #[arg(long)]
    kernel: Option<PathBuf>,
    /// An initrd for the kernel.
    #[arg(long, requires = "kernel")]
    initrd: Option<PathBuf>,
    /// The kernel's (or the payload's) command line.
    #[arg(long, default_value = "")]
    boot_args: String,
    /// Guest RAM in MiB.
    #[arg(long, default_value_t = 128)]
    ram: u64,
    /// Number of vCPUs.
    #[arg(long, default_value_t = 1)]
    vcpus: u8,
    /// A raw disk image: `PATH[,ro][,cache=none|writeback]` (`ro` for
    /// read-only; `cache=none` reads and writes it `O_DIRECT`, around the
    /// host's page cache). Repeatable.
    #[arg(long = "disk")]
    disks: Vec<String>,
    /// A tap device; `NAME,mac=02:..` to set the MAC. Repeatable.
    #[arg(long = "tap")]
    taps: Vec<String>,
    /// Write the console to this file instead of stdout.
    #[arg(long)]
    console: Option<PathBuf>,
    /// Also serve the console on this Unix socket (`vmadm console`
    /// attaches to it); removed when the VM ends.
    #[arg(long, value_name = "PATH")]
    console_socket: Option<PathBuf>,
    /// Start the guest only once a client is connected to the console
    /// socket, so it sees the VM's first output.
    #[arg(long, requires = "console_socket")]
    console_wait: bool,
    /// Add a virtio console (Linux's hvc0) beside the serial port.
    #[arg(long)]
    virtio_console: bool,
    /// The VM id the `vmm` probes carry (default: this process's id).
    #[arg(long)]
    id: Option<u64>,
    /// Keep the virtio devices' counters in this file, as JSON: written
    /// at start, every second while the VM runs, and at its end, each
    /// time whole (a new file renamed over the old).
    #[arg(long, value_name = "PATH")]
    metrics: Option<PathBuf>,
}

/// `--disk PATH[,ro][,cache=MODE]`.
fn disk(spec: &str) -> Result<DiskConfig> {
    let mut parts = spec.split(',');
    let path = parts.next().filter(|p| !p.is_empty());
    let Some(path) = path else {
        bail!("--disk {spec}: no path");
    };
    let mut config = DiskConfig {
        path: PathBuf::from(path),
        read_only: false,
        cache: Default::default(),
    };
    for option in parts {
        match option.split_once('=') {
            None if option == "ro" => config.read_only = true,
            Some(("cache", mode)) => {
                config.cache = mode
                    .parse()
                    .map_err(|e: String| anyhow::anyhow!("--disk {spec}: {e}"))?
            }
            _ => bail!("--disk {spec}: unknown option '{option}' (ro, cache=none|writeback)"),
        }
    }
    Ok(config)
}

/// Run `lumen vmm` with `args` (after `vmm`).
pub fn run(args: &[String]) -> Result<u8> {
    let args = match Args::try_parse_from(
        std::iter::once("lumen vmm".to_owned()).chain(args.iter().cloned()),
    ) {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return Ok(code);
        }
    };
    let config = config(&args)?;
    let log: Box<dyn std::io::Write + Send> = match &args.console {
        Some(path) => Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("console {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    // Block the stop signals before any thread exists, so that only the
    // waiter below receives them and vCPU threads are never interrupted by them.
    let stop_signals = stop_signal_set();
    // Run as pid 1 of a namespace (by hand, or as a zone's init before
    // zsched) the kernel drops signals from outside whose disposition is
    // the default, even blocked ones: give them a handler (never run: they
    // stay blocked) so a stop's SIGTERM reaches sigwait.
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        // SAFETY: installing a handler that does nothing.
        unsafe { libc::signal(sig, ignore_signal as *const () as libc::sighandler_t) };
    }
    // SAFETY: a valid, initialised signal set; changes this thread's mask only.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &stop_signals, std::ptr::null_mut()) };
    let hub = ConsoleHub::new(log);
    let vm = Vm::new(&config, hub.clone())?;
    let control = vm.control();
    let socket = match &args.console_socket {
        Some(path) => Some(ConsoleSocket::listen(path, hub, vm.console_input())?),
        None => None,
    };
    let signal_control = control.clone();
    std::thread::Builder::new()
        .name("vmm-signals".into())
        .spawn(move || wait_for_stop(stop_signals, &signal_control))
        .context("starting the signal thread")?;
    if let (Some(socket), true) = (&socket, args.console_wait) {
        // A stop signal while waiting ends the wait; run() then returns
        // Stopped at once.
        while !socket.wait_for_client(Duration::from_millis(100)) && !control.stopping() {}
    }
    let counters = vm.metrics();
    let metrics_thread = match &args.metrics {
        // Written once before the guest starts, so the file is there
        // as soon as the VM runs; then rewritten by a thread of its own.
        Some(path) if write_metrics(path, &counters) => {
            let (path, counters, control) = (path.clone(), counters.clone(), control.clone());
            std::thread::Builder::new()
                .name("vmm-metrics".into())
                .spawn(move || keep_metrics(&path, &counters, &control))
                .ok()
        }
        _ => None,
    };
    let why = vm.run();
    if let (Some(path), Some(thread)) = (&args.metrics, metrics_thread) {
        let _ = thread.join();
        // The last word: the counts at the VM's end.
        write_metrics(path, &counters);
    }
    // The socket goes (file removed, clients given their last output)
    // before the exit status is reported, so a client sees the end first.
    drop(socket);
    let why = why?;
    match why {
        VmExit::Status(s) => Ok(u8::try_from(s).unwrap_or(255)),
        VmExit::Halted | VmExit::PowerOff | VmExit::Reset | VmExit::Stopped => Ok(0),
        VmExit::Fault { .. } | VmExit::VmmError(_) => bail!("{why}"),
    }
}

/// Rewrite `path` with the counters every [`METRICS_EVERY`] until the VM
/// stops (or a write fails: it was reported).
fn keep_metrics(path: &Path, counters: &VmMetrics, control: &VmControl) {
    let mut last = Instant::now();
    while !control.stopping() {
        std::thread::sleep(Duration::from_millis(100));
        if last.elapsed() >= METRICS_EVERY {
            if !write_metrics(path, counters) {
                return;
            }
            last = Instant::now();
        }
    }
}

/// Write the counters to `path` whole: to a file beside it, renamed over
/// it, so a reader never sees half. A failure is reported; returns whether
/// it worked.
fn write_metrics(path: &Path, counters: &VmMetrics) -> bool {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let written =
        std::fs::write(&tmp, counters.to_json() + "\n").and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = &written {
        eprintln!("lumen vmm: metrics {}: {e}", path.display());
    }
    written.is_ok()
}

extern "C" fn ignore_signal(_: libc::c_int) {}

fn stop_signal_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set; sigaddset adds valid signals.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGHUP);
        set
    }
}

fn wait_for_stop(set: libc::sigset_t, control: &Arc<hypervisor::VmControl>) {
    let mut sig = 0;
    // SAFETY: `set` is initialised and blocked in every thread; sigwait writes `sig`.
    if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
        control.request(VmExit::Stopped);
    }
}

fn config(args: &Args) -> Result<VmConfig> {
    let boot = match (&args.payload, &args.kernel) {
        (Some(image), None) => BootSource::Payload {
            image: image.clone(),
            cmdline: args.boot_args.clone(),
        },
        (None, Some(kernel)) => BootSource::Linux {
            kernel: kernel.clone(),
            initrd: args.initrd.clone(),
            cmdline: args.boot_args.clone(),
        },
        _ => bail!("give exactly one of --payload and --kernel"),
    };
    let disks = args
        .disks
        .iter()
        .map(|spec| disk(spec))
        .collect::<Result<_>>()?;
    let nics = args
        .taps
        .iter()
        .map(|spec| nic(spec))
        .collect::<Result<_>>()?;
    Ok(VmConfig {
        id: args.id.unwrap_or(u64::from(std::process::id())),
        ram_mib: args.ram,
        vcpus: args.vcpus,
        boot,
        disks,
        nics,
        virtio_console: args.virtio_console,
    })
}

fn nic(spec: &str) -> Result<NicConfig> {
    let mut parts = spec.split(',');
    let tap = parts.next().unwrap_or_default().to_owned();
    let mut mac = None;
    for part in parts {
        let Some(text) = part.strip_prefix("mac=") else {
            bail!("--tap {spec}: unknown option {part:?} (expected mac=xx:xx:xx:xx:xx:xx)");
        };
        mac = Some(parse_mac(text).with_context(|| format!("--tap {spec}"))?);
    }
    Ok(NicConfig { tap, mac })
}

fn parse_mac(text: &str) -> Result<[u8; 6]> {
    let bytes: Vec<u8> = text
        .split(':')
        .map(|b| u8::from_str_radix(b, 16))
        .collect::<Result<_, _>>()
        .with_context(|| format!("bad MAC address {text:?}"))?;
    <[u8; 6]>::try_from(bytes)
        .map_err(|_| anyhow::anyhow!("bad MAC address {text:?}: six bytes wanted"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_options_parse_and_bad_ones_are_named() {
        let d = disk("/v/disk0,ro,cache=none").unwrap();
        assert_eq!(d.path, PathBuf::from("/v/disk0"));
        assert!(d.read_only);
        assert_eq!(d.cache, hypervisor::devices::virtio::block::Cache::None);
        let d = disk("/v/disk0").unwrap();
        assert!(!d.read_only);
        assert_eq!(
            d.cache,
            hypervisor::devices::virtio::block::Cache::Writeback
        );
        let e = disk("/v/disk0,cache=fast").unwrap_err().to_string();
        assert!(e.contains("unknown cache mode 'fast'"), "{e}");
        let e = disk("/v/disk0,rw").unwrap_err().to_string();
        assert!(e.contains("unknown option 'rw'"), "{e}");
        assert!(disk(",ro").is_err());
    }
}
