//! Address-range routing: a sorted set of non-overlapping ranges, each
//! owned by one device behind a mutex (vCPU threads share the buses).

use std::sync::{Arc, Mutex};

/// A device on a bus. `offset` is relative to the start of its range, and
/// `data.len()` is the access size (1, 2, 4 or 8 bytes).
pub trait BusDevice: Send {
    fn read(&mut self, offset: u64, data: &mut [u8]);
    fn write(&mut self, offset: u64, data: &[u8]);
}

/// A device shared between the bus and whoever else drives it (an I/O thread).
pub type SharedDevice = Arc<Mutex<dyn BusDevice>>;

struct Range {
    base: u64,
    len: u64,
    device: SharedDevice,
}

/// Two ranges overlap, or a range is empty or wraps.
#[derive(Debug, thiserror::Error)]
#[error("bus range 0x{base:x}+0x{len:x} is empty or overlaps another device")]
pub struct Overlap {
    pub base: u64,
    pub len: u64,
}

/// One bus: port I/O or MMIO.
#[derive(Default)]
pub struct Bus {
    ranges: Vec<Range>,
}

impl Bus {
    pub fn new() -> Bus {
        Bus::default()
    }

    /// Give `device` the addresses `base..base+len`.
    pub fn insert(&mut self, base: u64, len: u64, device: SharedDevice) -> Result<(), Overlap> {
        let end = base
            .checked_add(len)
            .filter(|_| len > 0)
            .ok_or(Overlap { base, len })?;
        if self
            .ranges
            .iter()
            .any(|r| base < r.base + r.len && r.base < end)
        {
            return Err(Overlap { base, len });
        }
        let at = self.ranges.partition_point(|r| r.base < base);
        self.ranges.insert(at, Range { base, len, device });
        Ok(())
    }

    /// The device owning `addr`, and `addr`'s offset in its range.
    fn find(&self, addr: u64) -> Option<(&SharedDevice, u64)> {
        let at = self.ranges.partition_point(|r| r.base <= addr);
        let r = self.ranges.get(at.checked_sub(1)?)?;
        (addr - r.base < r.len).then_some((&r.device, addr - r.base))
    }

    /// Read from the device at `addr`; false when no device owns it.
    pub fn read(&self, addr: u64, data: &mut [u8]) -> bool {
        match self.find(addr) {
            Some((device, offset)) => {
                lock(device).read(offset, data);
                true
            }
            None => false,
        }
    }

    /// Write to the device at `addr`; false when no device owns it.
    pub fn write(&self, addr: u64, data: &[u8]) -> bool {
        match self.find(addr) {
            Some((device, offset)) => {
                lock(device).write(offset, data);
                true
            }
            None => false,
        }
    }
}

pub use crate::lock::lock;

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo(Vec<(u64, Vec<u8>)>);
    impl BusDevice for Echo {
        fn read(&mut self, offset: u64, data: &mut [u8]) {
            data.fill(offset as u8);
        }
        fn write(&mut self, offset: u64, data: &[u8]) {
            self.0.push((offset, data.to_vec()));
        }
    }

    #[test]
    fn addresses_route_to_their_device_with_offsets() {
        let a = Arc::new(Mutex::new(Echo(vec![])));
        let mut bus = Bus::new();
        bus.insert(0x3f8, 8, a.clone()).unwrap();
        bus.insert(0x60, 5, Arc::new(Mutex::new(Echo(vec![]))))
            .unwrap();
        let mut b = [0u8; 1];
        assert!(bus.read(0x3fd, &mut b));
        assert_eq!(b, [5]);
        assert!(!bus.read(0x400, &mut b));
        assert!(!bus.read(0x3f7, &mut b));
        assert!(bus.write(0x3f8, &[7]));
        assert_eq!(a.lock().unwrap().0, vec![(0, vec![7])]);
        assert!(bus.insert(0x3fc, 8, a.clone()).is_err(), "overlap");
        assert!(bus.insert(0x1000, 0, a.clone()).is_err(), "empty");
        assert!(bus.insert(u64::MAX, 2, a).is_err(), "wraps");
    }
}
