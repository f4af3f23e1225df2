//! The virtio-mmio transport, version 2 (virtio 1.x spec, 4.2.2): the
//! register file a driver programs, the split virtqueues it describes, and
//! the interrupt that tells the driver buffers are used.

use super::metrics::DeviceCounters;
use super::{DeviceError, VirtioDevice, F_VERSION_1};
use crate::devices::legacy::IrqLine;
use crate::devices::BusDevice;
use std::sync::Arc;
use virtio_queue::{Queue, QueueT};
use vm_memory::GuestMemoryMmap;
use vm_superio::Trigger;

const MAGIC: u32 = 0x7472_6976; // "virt"
const VERSION: u32 = 2;
const VENDOR: u32 = 0x4e4d_554c; // "LUMN"

/// Device status bits (spec 2.1).
pub const STATUS_ACKNOWLEDGE: u32 = 1;
pub const STATUS_DRIVER: u32 = 2;
pub const STATUS_DRIVER_OK: u32 = 4;
pub const STATUS_FEATURES_OK: u32 = 8;
pub const STATUS_NEEDS_RESET: u32 = 0x40;
pub const STATUS_FAILED: u32 = 0x80;

/// The interrupt-status bit for "used buffers".
const INT_USED_RING: u32 = 1;

crate::counters! {
    /// What one device's register window saw, whatever the device: shown
    /// before the device's own counters. `notifies` are the guest's kicks
    /// (each a VM exit, each a `vmm:::virtio-notify`), `interrupts` the
    /// used-buffer interrupts raised back, and `guest_errors` every error
    /// reported on stderr for the device — register misuse and bad chains
    /// alike — each of which, once the driver is live, leaves the device
    /// needing a reset.
    pub struct TransportMetrics {
        /// QueueNotify writes naming a queue.
        notifies,
        /// Used-buffer interrupts raised.
        interrupts,
        /// Errors reported for the device.
        guest_errors,
    }
}

/// One device's register window.
pub struct MmioTransport {
    device: Box<dyn VirtioDevice>,
    mem: Arc<GuestMemoryMmap>,
    irq: IrqLine,
    vm: u64,
    index: u32,
    queues: Vec<Queue>,
    queue_select: u32,
    device_features_select: u32,
    driver_features_select: u32,
    driver_features: u64,
    status: u32,
    interrupt_status: u32,
    metrics: Arc<TransportMetrics>,
}

impl MmioTransport {
    /// `device` as virtio-mmio device number `index` of VM `vm`.
    pub fn new(
        device: Box<dyn VirtioDevice>,
        mem: Arc<GuestMemoryMmap>,
        irq: IrqLine,
        vm: u64,
        index: u32,
    ) -> MmioTransport {
        let queues = device
            .queue_max_sizes()
            .iter()
            // Sizes come from our own devices (powers of two up to 32768),
            // which Queue::new accepts; a device with an invalid size gets none.
            .filter_map(|&max| Queue::new(max).ok())
            .collect();
        MmioTransport {
            device,
            mem,
            irq,
            vm,
            index,
            queues,
            queue_select: 0,
            device_features_select: 0,
            driver_features_select: 0,
            driver_features: 0,
            status: 0,
            interrupt_status: 0,
            metrics: Arc::default(),
        }
    }

    /// The counters of this transport and its device, for reading while
    /// the VM runs.
    pub fn counters(&self) -> DeviceCounters {
        DeviceCounters {
            name: self.device.name().to_owned(),
            sets: vec![self.metrics.clone(), self.device.metrics()],
        }
    }

    /// The device's name, for messages.
    pub fn name(&self) -> &str {
        self.device.name()
    }

    /// The driver negotiated features.
    pub fn driver_features(&self) -> u64 {
        self.driver_features
    }

    /// The current device status.
    pub fn status(&self) -> u32 {
        self.status
    }

    /// Report a guest error and mark the device broken until reset.
    fn guest_error(&mut self, what: String) {
        eprintln!("lumen vmm: {}: {what}", self.device.name());
        self.metrics.guest_errors.inc();
        if self.status & STATUS_DRIVER_OK != 0 {
            self.status |= STATUS_NEEDS_RESET;
        }
    }

    fn selected(&mut self) -> Option<&mut Queue> {
        self.queues.get_mut(self.queue_select as usize)
    }

    fn reset(&mut self) {
        self.status = 0;
        self.interrupt_status = 0;
        self.driver_features = 0;
        self.queue_select = 0;
        for q in &mut self.queues {
            q.reset();
        }
        self.device.reset();
    }

    /// Whether the driver finished set-up and the device works.
    fn live(&self) -> bool {
        self.status & STATUS_DRIVER_OK != 0 && self.status & STATUS_NEEDS_RESET == 0
    }

    /// The guest (or an I/O thread, for network receive) asks the device
    /// to process queue `index`.
    pub fn process(&mut self, index: u16) {
        if !self.live() {
            self.guest_error(format!("notify of queue {index} before DRIVER_OK"));
            return;
        }
        let Some(queue) = self.queues.get(index as usize) else {
            self.guest_error(format!("notify of queue {index}, which does not exist"));
            return;
        };
        if !queue.ready() || !queue.is_valid(self.mem.as_ref()) {
            self.guest_error(format!(
                "notify of queue {index}, which is not ready or lies outside guest memory"
            ));
            return;
        }
        let Some(queue) = self.queues.get_mut(index as usize) else {
            return;
        };
        match self.device.notify(index, queue, &self.mem) {
            Ok(handled) => {
                if handled.used {
                    self.raise(INT_USED_RING);
                }
            }
            Err(e) => self.device_error(index, e),
        }
    }

    /// Run queue `index` for an event outside the guest (a frame arrived
    /// on a tap), quietly doing nothing until the driver has set it up.
    /// Returns whether the device was ready for it.
    pub fn poll_queue(&mut self, index: u16) -> bool {
        let ready = self.live() && self.queues.get(index as usize).is_some_and(|q| q.ready());
        if ready {
            self.process(index);
        }
        ready
    }

    fn device_error(&mut self, index: u16, e: DeviceError) {
        self.guest_error(format!("queue {index}: {e}"));
    }

    fn raise(&mut self, bit: u32) {
        self.interrupt_status |= bit;
        self.metrics.interrupts.inc();
        if let Err(e) = self.irq.trigger() {
            eprintln!(
                "lumen vmm: {}: cannot raise interrupt: {e}",
                self.device.name()
            );
        }
    }

    fn read_register(&mut self, offset: u64) -> u32 {
        match offset {
            0x000 => MAGIC,
            0x004 => VERSION,
            0x008 => self.device.device_type(),
            0x00c => VENDOR,
            0x010 => {
                let features = self.device.features() | F_VERSION_1;
                match self.device_features_select {
                    0 => features as u32,
                    1 => (features >> 32) as u32,
                    _ => 0,
                }
            }
            0x034 => self.selected().map_or(0, |q| u32::from(q.max_size())),
            0x044 => self.selected().map_or(0, |q| u32::from(q.ready())),
            0x060 => self.interrupt_status,
            0x070 => self.status,
            0x0fc => 0, // config generation: the config never changes under the driver
            _ => {
                self.guest_error(format!(
                    "read of write-only or unknown register 0x{offset:03x}"
                ));
                0
            }
        }
    }

    fn write_register(&mut self, offset: u64, value: u32) {
        match offset {
            0x014 => self.device_features_select = value,
            0x020 => {
                if self.status & STATUS_FEATURES_OK != 0 {
                    self.guest_error("driver features written after FEATURES_OK".to_string());
                    return;
                }
                let shift = match self.driver_features_select {
                    0 => 0,
                    1 => 32,
                    _ => return,
                };
                let mask = 0xffff_ffffu64 << shift;
                self.driver_features = (self.driver_features & !mask) | (u64::from(value) << shift);
            }
            0x024 => self.driver_features_select = value,
            0x030 => self.queue_select = value,
            0x038 => {
                let ready = self.selected().map(|q| q.ready());
                match ready {
                    None => self.guest_error(format!(
                        "QueueNum of queue {}, which does not exist",
                        self.queue_select
                    )),
                    Some(true) => {
                        self.guest_error("QueueNum written while the queue is ready".to_string())
                    }
                    Some(false) => {
                        let max = self.selected().map_or(0, |q| q.max_size());
                        let ok = value > 0 && value <= u32::from(max) && value.is_power_of_two();
                        if !ok {
                            self.guest_error(format!(
                                "QueueNum {value} for queue {} (max {max}, must be a power of two)",
                                self.queue_select
                            ));
                            return;
                        }
                        if let Some(q) = self.selected() {
                            q.set_size(value as u16);
                        }
                    }
                }
            }
            0x044 => {
                let mem = self.mem.clone();
                let select = self.queue_select;
                let Some(q) = self.selected() else {
                    self.guest_error(format!(
                        "QueueReady of queue {select}, which does not exist"
                    ));
                    return;
                };
                if value == 1 {
                    q.set_ready(true);
                    if !q.is_valid(mem.as_ref()) {
                        q.set_ready(false);
                        self.guest_error(format!(
                            "queue {select} made ready with rings outside guest memory or misaligned"
                        ));
                    }
                } else {
                    q.set_ready(false);
                }
            }
            0x050 => {
                let Ok(index) = u16::try_from(value) else {
                    self.guest_error(format!("notify of queue {value}, which does not exist"));
                    return;
                };
                probes::vmm::virtio__notify(|| (self.vm, self.index, u32::from(index)));
                self.metrics.notifies.inc();
                self.process(index);
            }
            0x064 => self.interrupt_status &= !value,
            0x070 => self.write_status(value),
            0x080 | 0x084 | 0x090 | 0x094 | 0x0a0 | 0x0a4 => {
                let select = self.queue_select;
                let Some(q) = self.selected() else {
                    self.guest_error(format!(
                        "ring address of queue {select}, which does not exist"
                    ));
                    return;
                };
                if q.ready() {
                    self.guest_error(format!(
                        "ring address of queue {select} changed while ready"
                    ));
                    return;
                }
                let (low, high) = if offset & 4 == 0 {
                    (Some(value), None)
                } else {
                    (None, Some(value))
                };
                match offset & !4 {
                    0x080 => q.set_desc_table_address(low, high),
                    0x090 => q.set_avail_ring_address(low, high),
                    _ => q.set_used_ring_address(low, high),
                }
            }
            _ => self.guest_error(format!(
                "write of 0x{value:x} to read-only or unknown register 0x{offset:03x}"
            )),
        }
    }

    fn write_status(&mut self, value: u32) {
        if value == 0 {
            self.reset();
            return;
        }
        // The driver may only add bits, in the order of spec 3.1.1.
        if value & self.status != self.status {
            self.guest_error(format!(
                "status 0x{value:x} clears bits of 0x{:x}",
                self.status
            ));
            return;
        }
        let new = value & !self.status;
        if new & STATUS_FEATURES_OK != 0 {
            let offered = self.device.features() | F_VERSION_1;
            if self.driver_features & !offered != 0 || self.driver_features & F_VERSION_1 == 0 {
                // Not an error to report loudly: the spec has the device
                // refuse by leaving FEATURES_OK clear, and the driver checks.
                self.status = value & !STATUS_FEATURES_OK;
                return;
            }
        }
        if new & STATUS_DRIVER_OK != 0 && self.status & STATUS_FEATURES_OK == 0 {
            self.guest_error("DRIVER_OK before FEATURES_OK".to_string());
            self.status = value | STATUS_FAILED;
            return;
        }
        self.status = value;
    }
}

impl BusDevice for MmioTransport {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        if offset >= 0x100 {
            self.device.read_config(offset - 0x100, data);
            return;
        }
        if data.len() != 4 || !offset.is_multiple_of(4) {
            self.guest_error(format!(
                "{}-byte read at register offset 0x{offset:03x} (registers are 32-bit and aligned)",
                data.len()
            ));
            data.fill(0);
            return;
        }
        let value = self.read_register(offset);
        data.copy_from_slice(&value.to_le_bytes());
    }

    fn write(&mut self, offset: u64, data: &[u8]) {
        if offset >= 0x100 {
            self.guest_error(format!(
                "write to read-only config space at 0x{:x}",
                offset - 0x100
            ));
            return;
        }
        let Ok(bytes) = <[u8; 4]>::try_from(data) else {
            self.guest_error(format!(
                "{}-byte write at register offset 0x{offset:03x} (registers are 32-bit and aligned)",
                data.len()
            ));
            return;
        };
        if !offset.is_multiple_of(4) {
            self.guest_error(format!("unaligned write at register offset 0x{offset:03x}"));
            return;
        }
        self.write_register(offset, u32::from_le_bytes(bytes));
    }
}
