//! The PC devices a guest expects at fixed ports: the 8250 UART (COM1),
//! the i8042 (only for its reset line), the exit port, the POST port, and
//! the scratch MMIO window test guests use.

use super::BusDevice;
use crate::control::{VmControl, VmExit};
use std::io::Write;
use std::sync::Arc;
use vm_superio::{I8042Device, Serial, Trigger};
use vmm_sys_util::eventfd::EventFd;

/// An interrupt line: an eventfd bound to a GSI of the in-kernel irqchip,
/// or nothing when the VM has no irqchip (payload guests poll).
pub enum IrqLine {
    None,
    EventFd(EventFd),
}

impl Trigger for IrqLine {
    type E = std::io::Error;
    fn trigger(&self) -> std::io::Result<()> {
        match self {
            IrqLine::None => Ok(()),
            IrqLine::EventFd(fd) => fd.write(1),
        }
    }
}

/// Where the serial console's output goes.
pub type ConsoleOut = Box<dyn Write + Send>;

/// COM1: vm-superio's 8250 model, its output flushed on every byte so a
/// console log is complete when the VM dies.
pub struct SerialDevice {
    uart: Serial<IrqLine, vm_superio::serial::NoEvents, FlushingWriter>,
}

/// A writer that flushes after each write.
pub struct FlushingWriter(pub ConsoleOut);

impl Write for FlushingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.0.write(buf)?;
        self.0.flush()?;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl SerialDevice {
    pub fn new(irq: IrqLine, out: ConsoleOut) -> SerialDevice {
        SerialDevice {
            uart: Serial::new(irq, FlushingWriter(out)),
        }
    }

    /// Queue bytes typed at the console for the guest to read.
    pub fn input(&mut self, bytes: &[u8]) {
        // A full FIFO drops input, as a real UART's overrun does.
        let _ = self.uart.enqueue_raw_bytes(bytes);
    }
}

impl BusDevice for SerialDevice {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        data.fill(0);
        if let (Some(first), Ok(reg)) = (data.first_mut(), u8::try_from(offset)) {
            *first = self.uart.read(reg);
        }
    }
    fn write(&mut self, offset: u64, data: &[u8]) {
        if let (Some(&value), Ok(reg)) = (data.first(), u8::try_from(offset)) {
            // A console that can no longer be written (closed pipe) must
            // not stop the guest.
            let _ = self.uart.write(reg, value);
        }
    }
}

/// The reset line of the i8042: pulsing it (0xfe to port 0x64) resets the VM.
pub struct ResetLine(pub Arc<VmControl>);

impl Trigger for ResetLine {
    type E = std::io::Error;
    fn trigger(&self) -> std::io::Result<()> {
        self.0.request(VmExit::Reset);
        Ok(())
    }
}

/// The i8042 at ports 0x60..0x65.
pub struct I8042(pub I8042Device<ResetLine>);

impl BusDevice for I8042 {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        data.fill(0);
        if let (Some(first), Ok(reg)) = (data.first_mut(), u8::try_from(offset)) {
            *first = self.0.read(reg);
        }
    }
    fn write(&mut self, offset: u64, data: &[u8]) {
        if let (Some(&value), Ok(reg)) = (data.first(), u8::try_from(offset)) {
            let _ = self.0.write(reg, value);
        }
    }
}

/// A write of N ends the VM with status N (QEMU's isa-debug-exit, without
/// its `2N+1` encoding: a payload's `return 0` means success).
pub struct ExitPort(pub Arc<VmControl>);

impl BusDevice for ExitPort {
    fn read(&mut self, _offset: u64, data: &mut [u8]) {
        data.fill(0);
    }
    fn write(&mut self, _offset: u64, data: &[u8]) {
        let mut value = [0u8; 4];
        let n = data.len().min(4);
        value[..n].copy_from_slice(&data[..n]);
        self.0.request(VmExit::Status(u32::from_le_bytes(value)));
    }
}

/// A window that reads as all ones and drops writes: a port or MMIO range
/// no device claims on real hardware, made explicit.
pub struct Unclaimed;

impl BusDevice for Unclaimed {
    fn read(&mut self, _offset: u64, data: &mut [u8]) {
        data.fill(0xff);
    }
    fn write(&mut self, _offset: u64, _data: &[u8]) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn serial_transmits_and_reports_an_empty_holding_register() {
        let out = Shared::default();
        let mut s = SerialDevice::new(IrqLine::None, Box::new(out.clone()));
        let mut lsr = [0u8];
        s.read(5, &mut lsr);
        assert_ne!(lsr[0] & 0x20, 0, "THR empty");
        for b in b"ok\n" {
            s.write(0, &[*b]);
        }
        assert_eq!(out.0.lock().unwrap().as_slice(), b"ok\n");
    }

    #[test]
    fn exit_port_and_reset_stop_the_vm_with_their_reason() {
        let c = Arc::new(VmControl::new());
        ExitPort(c.clone()).write(0, &[7, 0, 0, 0]);
        assert_eq!(c.exit(), Some(VmExit::Status(7)));
        let c = Arc::new(VmControl::new());
        let mut kbd = I8042(I8042Device::new(ResetLine(c.clone())));
        kbd.write(4, &[0xfe]);
        assert_eq!(c.exit(), Some(VmExit::Reset));
    }
}
