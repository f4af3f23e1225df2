//! Building a VM from its configuration (memory, boot image, devices,
//! vCPUs) and running it to its end.

use crate::boot::{self, BootSource, Entry};
use crate::console::{ConsoleHub, ConsoleInput};
use crate::control::{VmControl, VmExit};
use crate::cpu;
use crate::devices::bus::SharedDevice;
use crate::devices::legacy::{ExitPort, IrqLine, ResetLine, SerialDevice, Unclaimed, I8042};
use crate::devices::virtio::block::Block;
use crate::devices::virtio::console::{Console, InputQueue};
use crate::devices::virtio::metrics::VmMetrics;
use crate::devices::virtio::mmio::MmioTransport;
use crate::devices::virtio::net::{Net, Tap};
use crate::devices::{bus, virtio, Bus};
use crate::error::{kvm_err, VmmError};
use crate::layout::*;
use crate::vcpu::{self, VcpuShared};
use kvm_bindings::{
    kvm_pit_config, kvm_userspace_memory_region, KVM_MAX_CPUID_ENTRIES, KVM_PIT_SPEAKER_DUMMY,
};
use kvm_ioctls::{Kvm, VcpuFd, VmFd};
use std::os::fd::AsRawFd;
use std::os::unix::thread::JoinHandleExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use vm_memory::{GuestAddress, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion};
use vmm_sys_util::eventfd::EventFd;

/// A disk: a raw image file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskConfig {
    pub path: PathBuf,
    pub read_only: bool,
    /// How the host caches the image.
    pub cache: crate::devices::virtio::block::Cache,
}

/// A network interface on a tap device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NicConfig {
    pub tap: String,
    pub mac: Option<[u8; 6]>,
}

/// Everything a VM is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmConfig {
    /// The id the `vmm` probes carry (the zone id, or the VMM's pid).
    pub id: u64,
    pub ram_mib: u64,
    pub vcpus: u8,
    pub boot: BootSource,
    pub disks: Vec<DiskConfig>,
    pub nics: Vec<NicConfig>,
    /// A virtio console (Linux's `hvc0`) beside the 8250, in the virtio-mmio
    /// slot after the disks and nics.
    pub virtio_console: bool,
}

/// A VM ready to run.
pub struct Vm {
    // Kept open for the VM's life: the vCPU and VM fds depend on it.
    _kvm: Kvm,
    _vm_fd: VmFd,
    _mem: Arc<GuestMemoryMmap>,
    vcpus: Vec<VcpuFd>,
    shared: Arc<VcpuShared>,
    serial: Arc<Mutex<SerialDevice>>,
    console_input: Arc<GuestConsoleInput>,
    nets: Vec<(Arc<Mutex<MmioTransport>>, Arc<AtomicBool>, std::fs::File)>,
    metrics: VmMetrics,
}

/// The signal that kicks a vCPU thread out of KVM_RUN.
fn kick_signal() -> libc::c_int {
    vmm_sys_util::signal::SIGRTMIN()
}

extern "C" fn on_kick(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {}

impl Vm {
    /// Build the VM `config` describes, its serial port (and virtio
    /// console) writing to `console`.
    pub fn new(config: &VmConfig, console: ConsoleHub) -> Result<Vm, VmmError> {
        if config.vcpus == 0 {
            return Err(VmmError::Config("a VM needs at least one vCPU".into()));
        }
        if config.ram_mib < 2 {
            return Err(VmmError::Config("a VM needs at least 2 MiB of RAM".into()));
        }
        let devices = config.disks.len() + config.nics.len() + usize::from(config.virtio_console);
        if devices as u64 > VIRTIO_MMIO_SLOTS {
            return Err(VmmError::Config(format!(
                "{devices} virtio devices (disks, nics and console); a VM has at most {VIRTIO_MMIO_SLOTS}"
            )));
        }
        let kvm = Kvm::new().map_err(VmmError::OpenKvm)?;
        let vm_fd = kvm.create_vm().map_err(kvm_err("create a VM"))?;
        let ram = config
            .ram_mib
            .checked_mul(1 << 20)
            .ok_or_else(|| VmmError::Config(format!("{} MiB of RAM", config.ram_mib)))?;
        let mem = Arc::new(guest_memory(&vm_fd, config.ram_mib, ram)?);

        let linux = matches!(config.boot, BootSource::Linux { .. });
        if linux {
            // Linux wants interrupts: the in-kernel PIC/IOAPIC/LAPIC and PIT.
            vm_fd
                .set_tss_address(0xfffb_d000)
                .map_err(kvm_err("set the TSS address"))?;
            vm_fd
                .create_irq_chip()
                .map_err(kvm_err("create the interrupt controller"))?;
            let pit = kvm_pit_config {
                flags: KVM_PIT_SPEAKER_DUMMY,
                ..Default::default()
            };
            vm_fd.create_pit2(pit).map_err(kvm_err("create the PIT"))?;
        }
        let irq = |gsi: u32| -> Result<IrqLine, VmmError> {
            if !linux {
                return Ok(IrqLine::None);
            }
            let fd = EventFd::new(libc::EFD_NONBLOCK)
                .map_err(|e| VmmError::Config(format!("eventfd: {e}")))?;
            vm_fd
                .register_irqfd(&fd, gsi)
                .map_err(kvm_err(format!("route interrupt {gsi}")))?;
            Ok(IrqLine::EventFd(fd))
        };

        cpu::write_boot_tables(&mem).map_err(|e| VmmError::Boot(e.into()))?;
        if linux {
            // A kernel without ACPI finds its processors and the IOAPIC
            // in the MP table; without it, it boots one CPU with the 8259
            // alone. Kernels with ACPI read the ACPI tables, written once
            // the devices are known.
            boot::mptable::write(&mem, config.vcpus).map_err(|e| VmmError::Boot(e.into()))?;
        }
        // The virtio-mmio devices twice: as command-line options, for
        // kernels without ACPI, and for the ACPI tables' DSDT.
        let mut cmdline_devices = String::new();
        let mut acpi_devices = Vec::new();
        let control = Arc::new(VmControl::new());

        let mut pio = Bus::new();
        let serial = Arc::new(Mutex::new(SerialDevice::new(
            irq(SERIAL_IRQ)?,
            Box::new(console.clone()),
        )));
        insert(&mut pio, u64::from(SERIAL_PORT), 8, serial.clone())?;
        let reset = vm_superio::I8042Device::new(ResetLine(control.clone()));
        insert(
            &mut pio,
            u64::from(I8042_PORT),
            5,
            Arc::new(Mutex::new(I8042(reset))),
        )?;
        insert(
            &mut pio,
            u64::from(EXIT_PORT),
            4,
            Arc::new(Mutex::new(ExitPort(control.clone()))),
        )?;
        insert(
            &mut pio,
            u64::from(POST_PORT),
            1,
            Arc::new(Mutex::new(Unclaimed)),
        )?;

        let mut mmio = Bus::new();
        insert(
            &mut mmio,
            SCRATCH_MMIO_START,
            SCRATCH_MMIO_SIZE,
            Arc::new(Mutex::new(Unclaimed)),
        )?;
        let mut slot = 0u32;
        let mut metrics = VmMetrics::default();
        let mut add_virtio = |device: Box<dyn crate::devices::virtio::VirtioDevice>,
                              mmio: &mut Bus|
         -> Result<Arc<Mutex<MmioTransport>>, VmmError> {
            let base = VIRTIO_MMIO_START + u64::from(slot) * VIRTIO_MMIO_SIZE;
            let gsi = VIRTIO_IRQ_BASE + slot;
            let transport = Arc::new(Mutex::new(MmioTransport::new(
                device,
                mem.clone(),
                irq(gsi)?,
                config.id,
                slot,
            )));
            insert(mmio, base, VIRTIO_MMIO_SIZE, transport.clone())?;
            metrics.push(bus::lock(&transport).counters());
            cmdline_devices.push_str(&format!(" virtio_mmio.device=4K@0x{base:x}:{gsi}"));
            acpi_devices.push(boot::acpi::VirtioMmio { base, gsi });
            slot += 1;
            Ok(transport)
        };
        for (i, disk) in config.disks.iter().enumerate() {
            let block =
                Block::open_cached(&disk.path, disk.read_only, disk.cache, config.id, i as u32)
                    .map_err(|source| VmmError::Disk {
                        path: disk.path.clone(),
                        source,
                    })?;
            add_virtio(Box::new(block), &mut mmio)?;
        }
        let mut nets = Vec::new();
        for (i, nic) in config.nics.iter().enumerate() {
            let tap_err = |source| VmmError::Tap {
                index: i,
                tap: nic.tap.clone(),
                source,
            };
            let tap = Tap::open(&nic.tap).map_err(tap_err)?;
            let poll_fd = tap.try_clone().map_err(tap_err)?;
            let mac = nic.mac.unwrap_or_else(|| derived_mac(config.id, i));
            let net = Net::new(tap, mac, config.id, i as u32);
            let waiting = net.waiting();
            let transport = add_virtio(Box::new(net), &mut mmio)?;
            nets.push((transport, waiting, poll_fd));
        }
        let mut virtio_input = None;
        if config.virtio_console {
            let device = Console::new(Box::new(console.clone()), 0);
            let queue = device.input();
            let transport = add_virtio(Box::new(device), &mut mmio)?;
            virtio_input = Some((queue, transport));
        }
        let console_input = Arc::new(GuestConsoleInput {
            serial: serial.clone(),
            virtio: virtio_input,
        });

        let entry: Entry = match &config.boot {
            BootSource::Payload { image, cmdline } => {
                boot::payload::load(&mem, ram, image, cmdline)?
            }
            BootSource::Linux {
                kernel,
                initrd,
                cmdline,
            } => {
                // Both descriptions of a device reach a kernel that reads
                // both: the duplicate's probe fails harmlessly (see `acpi`).
                let rsdp = boot::acpi::write(&mem, config.vcpus, &acpi_devices)
                    .map_err(|e| VmmError::Boot(e.into()))?;
                let full = linux_cmdline(cmdline, &cmdline_devices);
                boot::linux::load(&mem, ram, kernel, initrd.as_deref(), &full, Some(rsdp))?
            }
        };

        let supported = kvm
            .get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)
            .map_err(kvm_err("report supported CPUID"))?;
        let mut vcpus = Vec::with_capacity(usize::from(config.vcpus));
        for index in 0..config.vcpus {
            let vcpu = vm_fd
                .create_vcpu(u64::from(index))
                .map_err(kvm_err(format!("create vCPU {index}")))?;
            vcpu.set_cpuid2(&cpu::vcpu_cpuid(&supported, index))
                .map_err(kvm_err(format!("set CPUID of vCPU {index}")))?;
            if linux {
                // What a PC's firmware leaves for the kernel, on every
                // vCPU as Firecracker does: an AP's MSRs are what its
                // INIT/SIPI keeps, and its LAPIC must match the MP table.
                cpu::set_boot_msrs(&vcpu, index)?;
                cpu::set_lint(&vcpu)
                    .map_err(kvm_err(format!("wire LINT0/LINT1 of vCPU {index}")))?;
            }
            // With an irqchip, application processors wait for the boot
            // processor's INIT/SIPI, as on hardware; payload vCPUs all start
            // at the entry (with their index in rdx and their own stack).
            if index == 0 || !linux {
                let sregs = vcpu
                    .get_sregs()
                    .map_err(kvm_err("read special registers"))?;
                vcpu.set_sregs(&cpu::long_mode_sregs(sregs))
                    .map_err(kvm_err("enter long mode"))?;
                let rsp = entry.rsp - u64::from(index) * 0x4000;
                let mut regs = cpu::entry_regs(entry.rip, rsp, entry.rdi, entry.rsi);
                regs.rdx = u64::from(index);
                vcpu.set_regs(&regs).map_err(kvm_err("set registers"))?;
                vcpu.set_fpu(&cpu::initial_fpu())
                    .map_err(kvm_err("set FPU state"))?;
            }
            vcpus.push(vcpu);
        }
        let shared = Arc::new(VcpuShared {
            vm: config.id,
            pio,
            mmio,
            control,
            halted: AtomicUsize::new(0),
            vcpus: usize::from(config.vcpus),
            triple_fault_resets: linux,
        });
        Ok(Vm {
            _kvm: kvm,
            _vm_fd: vm_fd,
            _mem: mem,
            vcpus,
            shared,
            serial,
            console_input,
            nets,
            metrics,
        })
    }

    /// The control that stops this VM from outside.
    pub fn control(&self) -> Arc<VmControl> {
        self.shared.control.clone()
    }

    /// The serial device, for feeding console input.
    pub fn serial(&self) -> Arc<Mutex<SerialDevice>> {
        self.serial.clone()
    }

    /// Where bytes typed at the console go: the serial port and the
    /// virtio console, for a [`ConsoleSocket`](crate::console::ConsoleSocket).
    pub fn console_input(&self) -> Arc<dyn ConsoleInput> {
        self.console_input.clone()
    }

    /// The virtio devices' counters, readable from any thread while the
    /// VM runs.
    pub fn metrics(&self) -> VmMetrics {
        self.metrics.clone()
    }

    /// Run the VM until it stops; returns why.
    pub fn run(self) -> Result<VmExit, VmmError> {
        static KICK: std::sync::Once = std::sync::Once::new();
        let mut kick_error = None;
        KICK.call_once(|| {
            if let Err(e) = vmm_sys_util::signal::register_signal_handler(kick_signal(), on_kick) {
                kick_error = Some(e);
            }
        });
        if let Some(e) = kick_error {
            return Err(VmmError::Config(format!(
                "cannot install the vCPU kick handler: {e}"
            )));
        }
        let mut threads: Vec<JoinHandle<()>> = Vec::new();
        let mut spawn_error = None;
        for (index, vcpu) in self.vcpus.into_iter().enumerate() {
            let shared = self.shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("vcpu{index}"))
                .spawn(move || vcpu::run(vcpu, index as u8, &shared));
            match spawned {
                Ok(t) => threads.push(t),
                Err(e) => {
                    spawn_error = Some(e);
                    self.shared.control.request(VmExit::Stopped);
                    break;
                }
            }
        }
        let mut io_threads = Vec::new();
        for (i, (transport, waiting, tap)) in self.nets.into_iter().enumerate() {
            let control = self.shared.control.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("net{i}-rx"))
                .spawn(move || receive_loop(&transport, &waiting, &tap, &control));
            match spawned {
                Ok(t) => io_threads.push(t),
                Err(e) => {
                    spawn_error = Some(e);
                    self.shared.control.request(VmExit::Stopped);
                }
            }
        }
        let why = self.shared.control.wait();
        // Kick until every vCPU left KVM_RUN: a signal that lands just
        // before a thread re-enters the guest is lost, so repeat it.
        while threads.iter().any(|t| !t.is_finished()) {
            for t in threads.iter().filter(|t| !t.is_finished()) {
                // SAFETY: the pthread is alive (not finished, not joined);
                // the kick handler does nothing but interrupt KVM_RUN.
                unsafe { libc::pthread_kill(t.as_pthread_t(), kick_signal()) };
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        for t in threads.into_iter().chain(io_threads) {
            let _ = t.join();
        }
        if let Some(e) = spawn_error {
            return Err(VmmError::Thread(e));
        }
        Ok(why)
    }
}

/// Console input for the guest: every byte goes to both consoles, since
/// the VMM cannot know which one the guest reads (Linux may have a getty
/// on either).
struct GuestConsoleInput {
    serial: Arc<Mutex<SerialDevice>>,
    virtio: Option<(InputQueue, Arc<Mutex<MmioTransport>>)>,
}

impl ConsoleInput for GuestConsoleInput {
    fn input(&self, bytes: &[u8]) {
        bus::lock(&self.serial).input(bytes);
        if let Some((queue, transport)) = &self.virtio {
            queue.push(bytes);
            // Fill receive buffers the guest already posted; if it has
            // none (or no driver yet), its next notify takes the input.
            bus::lock(transport).poll_queue(virtio::RX);
        }
    }
}

/// Wait for frames on a tap and hand them to the guest as its receive
/// buffers allow.
fn receive_loop(
    transport: &Mutex<MmioTransport>,
    waiting: &AtomicBool,
    tap: &std::fs::File,
    control: &VmControl,
) {
    while !control.stopping() {
        if waiting.load(Ordering::SeqCst) {
            // A frame waits for buffers; the guest's notify delivers it.
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        let mut pfd = libc::pollfd {
            fd: tap.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let n = unsafe { libc::poll(&mut pfd, 1, 50) };
        if n <= 0 {
            continue;
        }
        if !bus::lock(transport).poll_queue(virtio::RX) {
            // The driver is not ready yet; frames stay queued in the tap.
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Options the VMM adds to a Linux command line unless the user gave them
/// (with or without a value): the i8042 here is nothing but the reset line
/// (a write of 0xfe to its command port), so Linux is told not to probe
/// for an AUX (mouse) port or a multiplexer and to take the keyboard as
/// it is, each probe otherwise waiting out its timeouts on every boot.
/// Firecracker's default command line has the same three.
const LINUX_DEFAULT_OPTIONS: [&str; 3] = ["i8042.noaux", "i8042.nomux", "i8042.dumbkbd"];

/// The command line a Linux guest gets: the user's `cmdline`, then the
/// default options it lacks and the `devices` (virtio-mmio) options, all
/// before a `--` (after which the words are init's arguments, not the
/// kernel's).
fn linux_cmdline(cmdline: &str, devices: &str) -> String {
    let words = kernel_words(cmdline);
    let (kernel, init) = match words.iter().position(|&(_, word)| word == "--") {
        Some(i) => (&words[..i], Some(cmdline[words[i].0..].trim_end())),
        None => (&words[..], None),
    };
    let given = |option: &str| {
        kernel.iter().any(|&(_, word)| {
            word == option
                || word
                    .strip_prefix(option)
                    .is_some_and(|rest| rest.starts_with('='))
        })
    };
    let mut full = match kernel.last() {
        Some(&(start, word)) => cmdline[..start + word.len()].trim_start().to_string(),
        None => String::new(),
    };
    for option in LINUX_DEFAULT_OPTIONS.iter().filter(|o| !given(o)) {
        full.push(' ');
        full.push_str(option);
    }
    full.push_str(devices);
    if let Some(init) = init {
        full.push(' ');
        full.push_str(init);
    }
    full.trim_start().to_string()
}

/// The words of a kernel command line with their byte offsets: split at
/// blanks outside double quotes, as the kernel's `next_arg` splits them.
fn kernel_words(cmdline: &str) -> Vec<(usize, &str)> {
    let mut words = Vec::new();
    let mut start = None;
    let mut quoted = false;
    for (i, c) in cmdline.char_indices() {
        if c.is_ascii_whitespace() && !quoted {
            if let Some(s) = start.take() {
                words.push((s, &cmdline[s..i]));
            }
            continue;
        }
        start.get_or_insert(i);
        if c == '"' {
            quoted = !quoted;
        }
    }
    if let Some(s) = start {
        words.push((s, &cmdline[s..]));
    }
    words
}

fn insert(bus: &mut Bus, base: u64, len: u64, device: SharedDevice) -> Result<(), VmmError> {
    bus.insert(base, len, device)
        .map_err(|e| VmmError::Config(e.to_string()))
}

/// A locally administered MAC from the VM id and the nic's index.
fn derived_mac(vm: u64, index: usize) -> [u8; 6] {
    let b = vm.to_le_bytes();
    [0x02, 0x4c, b[0], b[1], b[2], index as u8]
}

/// Allocate guest RAM and tell KVM about each region.
fn guest_memory(vm_fd: &VmFd, mib: u64, ram: u64) -> Result<GuestMemoryMmap, VmmError> {
    let ranges: Vec<(GuestAddress, usize)> = ram_regions(ram)
        .into_iter()
        .map(|(start, len)| (GuestAddress(start), len as usize))
        .collect();
    let mem = GuestMemoryMmap::<()>::from_ranges(&ranges).map_err(|e| VmmError::Memory {
        mib,
        why: e.to_string(),
    })?;
    for (slot, region) in mem.iter().enumerate() {
        let host = mem
            .get_host_address(region.start_addr())
            .map_err(|e| VmmError::Memory {
                mib,
                why: e.to_string(),
            })?;
        let region_desc = kvm_userspace_memory_region {
            slot: slot as u32,
            guest_phys_addr: region.start_addr().0,
            memory_size: region.len(),
            userspace_addr: host as u64,
            flags: 0,
        };
        // SAFETY: the region is mapped for as long as `mem` lives, and the
        // Vm keeps `mem` (and the VM fd) together until both are dropped.
        unsafe { vm_fd.set_user_memory_region(region_desc) }
            .map_err(kvm_err("map guest memory"))?;
    }
    Ok(mem)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEVICES: &str = " virtio_mmio.device=4K@0xd0000000:5";

    #[test]
    fn linux_cmdline_adds_the_i8042_defaults_then_the_devices() {
        assert_eq!(
            linux_cmdline("console=ttyS0", DEVICES),
            "console=ttyS0 i8042.noaux i8042.nomux i8042.dumbkbd \
             virtio_mmio.device=4K@0xd0000000:5"
        );
        assert_eq!(
            linux_cmdline("", ""),
            "i8042.noaux i8042.nomux i8042.dumbkbd"
        );
    }

    #[test]
    fn linux_cmdline_keeps_the_users_i8042_options() {
        assert_eq!(
            linux_cmdline("i8042.nomux=0 quiet i8042.dumbkbd", ""),
            "i8042.nomux=0 quiet i8042.dumbkbd i8042.noaux"
        );
        // A longer option with the same prefix is another option.
        assert_eq!(
            linux_cmdline("i8042.noauxx", ""),
            "i8042.noauxx i8042.noaux i8042.nomux i8042.dumbkbd"
        );
        // A quoted value is one word, not an option.
        assert_eq!(
            linux_cmdline("x=\"a i8042.noaux\"", ""),
            "x=\"a i8042.noaux\" i8042.noaux i8042.nomux i8042.dumbkbd"
        );
    }

    #[test]
    fn linux_cmdline_keeps_inits_arguments_after_the_double_dash() {
        assert_eq!(
            linux_cmdline("  root=/dev/vda -- i8042.noaux  single ", DEVICES),
            "root=/dev/vda i8042.noaux i8042.nomux i8042.dumbkbd \
             virtio_mmio.device=4K@0xd0000000:5 -- i8042.noaux  single"
        );
        assert_eq!(
            linux_cmdline("-- init", ""),
            "i8042.noaux i8042.nomux i8042.dumbkbd -- init"
        );
    }
}
