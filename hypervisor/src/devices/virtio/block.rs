//! virtio-blk over a raw image file: read, write, flush and get-id
//! requests, each fired as `vmm:::blk-start` / `blk-done`.

use super::{read_config_bytes, DeviceError, Handled, VirtioDevice, TYPE_BLOCK};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Instant;
use virtio_queue::desc::split::Descriptor;
use virtio_queue::{Queue, QueueT};
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

const SECTOR: u64 = 512;
const F_RO: u64 = 1 << 5;
const F_FLUSH: u64 = 1 << 9;

const T_IN: u32 = 0;
const T_OUT: u32 = 1;
const T_FLUSH: u32 = 4;
const T_GET_ID: u32 = 8;

const S_OK: u8 = 0;
const S_IOERR: u8 = 1;
const S_UNSUPP: u8 = 2;

/// The largest data transfer one request may ask for: bounds the VMM's
/// buffer whatever lengths a guest writes in its descriptors.
const MAX_REQUEST: u64 = 1 << 20;

/// A block device backed by a file.
pub struct Block {
    name: String,
    vm: u64,
    index: u32,
    file: File,
    sectors: u64,
    read_only: bool,
    config: [u8; 8],
}

impl Block {
    /// Open `path` as device number `index` of VM `vm`.
    pub fn open(path: &Path, read_only: bool, vm: u64, index: u32) -> std::io::Result<Block> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(!read_only)
            .open(path)?;
        let size = file.metadata()?.len();
        let sectors = size / SECTOR;
        Ok(Block {
            name: format!("virtio-blk{index}"),
            vm,
            index,
            file,
            sectors,
            read_only,
            config: sectors.to_le_bytes(),
        })
    }

    /// Run one request; returns the status byte and the bytes written into
    /// guest buffers.
    fn request(
        &mut self,
        head: u16,
        descs: &[Descriptor],
        mem: &GuestMemoryMmap,
    ) -> Result<(u8, u32), DeviceError> {
        let bad = |why: &str| DeviceError::BadChain {
            head,
            why: why.to_owned(),
        };
        let (header, rest) = descs.split_first().ok_or_else(|| bad("empty chain"))?;
        let (status, data) = rest
            .split_last()
            .ok_or_else(|| bad("no status descriptor"))?;
        if header.is_write_only() || header.len() < 16 {
            return Err(bad(
                "the request header must be a readable descriptor of 16 bytes",
            ));
        }
        if !status.is_write_only() || status.len() < 1 {
            return Err(bad("the status must be a writable descriptor"));
        }
        let kind: u32 = mem.read_obj(header.addr())?;
        let sector: u64 = mem.read_obj(GuestAddress(header.addr().0.wrapping_add(8)))?;
        let total: u64 = data.iter().map(|d| u64::from(d.len())).sum();
        let (code, written) = match kind {
            T_IN | T_OUT => {
                let write = kind == T_OUT;
                if data.iter().any(|d| d.is_write_only() == write) {
                    return Err(bad("data descriptors point the wrong way for the request"));
                }
                if total > MAX_REQUEST {
                    return Err(bad("request larger than 1 MiB"));
                }
                probes::vmm::blk__start(|| {
                    (self.vm, self.index, sector, total as u32, u32::from(write))
                });
                let started = Instant::now();
                let result = self.transfer(write, sector, total, data, mem);
                let latency = started.elapsed().as_nanos() as u64;
                let errno = match &result {
                    Ok(_) => 0,
                    Err(e) => e.raw_os_error().unwrap_or(libc::EIO),
                };
                probes::vmm::blk__done(|| {
                    (self.vm, self.index, sector, total as u32, errno, latency)
                });
                match result {
                    Ok(()) if write => (S_OK, 0),
                    Ok(()) => (S_OK, total as u32),
                    Err(e) => {
                        eprintln!("lumen vmm: {}: sector {sector}: {e}", self.name);
                        (S_IOERR, 0)
                    }
                }
            }
            T_FLUSH => match self.file.sync_data() {
                Ok(()) => (S_OK, 0),
                Err(_) => (S_IOERR, 0),
            },
            T_GET_ID => {
                let mut id = [0u8; 20];
                let text = format!("lumen-{}", self.name);
                let n = text.len().min(20);
                id[..n].copy_from_slice(&text.as_bytes()[..n]);
                let mut at = 0usize;
                for d in data {
                    if at >= id.len() || !d.is_write_only() {
                        break;
                    }
                    let n = (d.len() as usize).min(id.len() - at);
                    mem.write_slice(&id[at..at + n], d.addr())?;
                    at += n;
                }
                (S_OK, at as u32)
            }
            _ => (S_UNSUPP, 0),
        };
        mem.write_obj(code, status.addr())?;
        Ok((code, written + 1))
    }

    fn transfer(
        &mut self,
        write: bool,
        sector: u64,
        total: u64,
        data: &[Descriptor],
        mem: &GuestMemoryMmap,
    ) -> std::io::Result<()> {
        let einval = || std::io::Error::from_raw_os_error(libc::EINVAL);
        let start = sector.checked_mul(SECTOR).ok_or_else(einval)?;
        let end = start.checked_add(total).ok_or_else(einval)?;
        if end > self.sectors * SECTOR {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "request ends at byte {end}, beyond the disk's {} bytes",
                    self.sectors * SECTOR
                ),
            ));
        }
        if write && self.read_only {
            return Err(std::io::Error::from_raw_os_error(libc::EROFS));
        }
        let mut offset = start;
        let mut buf = Vec::new();
        for d in data {
            buf.resize(d.len() as usize, 0);
            let addr: GuestAddress = d.addr();
            if write {
                mem.read_slice(&mut buf, addr).map_err(|_| einval())?;
                self.file.write_all_at(&buf, offset)?;
            } else {
                self.file.read_exact_at(&mut buf, offset)?;
                mem.write_slice(&buf, addr).map_err(|_| einval())?;
            }
            offset += u64::from(d.len());
        }
        Ok(())
    }
}

impl VirtioDevice for Block {
    fn device_type(&self) -> u32 {
        TYPE_BLOCK
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn features(&self) -> u64 {
        F_FLUSH | if self.read_only { F_RO } else { 0 }
    }
    fn queue_max_sizes(&self) -> &[u16] {
        &[256]
    }
    fn read_config(&self, offset: u64, data: &mut [u8]) {
        read_config_bytes(&self.config, offset, data);
    }
    fn notify(
        &mut self,
        _index: u16,
        queue: &mut Queue,
        mem: &GuestMemoryMmap,
    ) -> Result<Handled, DeviceError> {
        let mut handled = Handled::default();
        while let Some(chain) = queue.pop_descriptor_chain(mem) {
            let head = chain.head_index();
            let descs: Vec<Descriptor> = chain.collect();
            let outcome = self.request(head, &descs, mem);
            // A bad request is still returned to the guest (with nothing
            // written) so its driver does not wait forever.
            let len = match &outcome {
                Ok((_, len)) => *len,
                Err(_) => 0,
            };
            queue.add_used(mem, head, len)?;
            handled.used = true;
            outcome?;
        }
        Ok(handled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::virtio::test_utils::{memory, offer, used, Buffer, BUFFERS, OUTSIDE};
    use vm_memory::Bytes;

    const HEADER: u64 = BUFFERS;
    const DATA: u64 = BUFFERS + 0x1000;
    const DATA2: u64 = BUFFERS + 0x8000;
    const STATUS: u64 = BUFFERS + 0x2_0000;
    const ID: &[u8] = b"lumen-virtio-blk0";

    /// A disk of 16 sectors, byte i of sector s being (i + 3 s) & 0xff.
    fn disk(read_only: bool) -> (tempfile::NamedTempFile, Block) {
        let file = tempfile::NamedTempFile::new().unwrap();
        let bytes: Vec<u8> = (0..16 * 512usize)
            .map(|i| (i % 512 + 3 * (i / 512)) as u8)
            .collect();
        std::fs::write(file.path(), bytes).unwrap();
        let block = Block::open(file.path(), read_only, 7, 0).unwrap();
        (file, block)
    }

    fn header(mem: &GuestMemoryMmap, kind: u32, sector: u64) {
        mem.write_obj(kind, GuestAddress(HEADER)).unwrap();
        mem.write_obj(0u32, GuestAddress(HEADER + 4)).unwrap();
        mem.write_obj(sector, GuestAddress(HEADER + 8)).unwrap();
        mem.write_obj(0xffu8, GuestAddress(STATUS)).unwrap();
    }

    fn status(mem: &GuestMemoryMmap) -> u8 {
        mem.read_obj(GuestAddress(STATUS)).unwrap()
    }

    fn bytes(mem: &GuestMemoryMmap, at: u64, len: usize) -> Vec<u8> {
        let mut buf = vec![0u8; len];
        mem.read_slice(&mut buf, GuestAddress(at)).unwrap();
        buf
    }

    #[test]
    fn a_read_fills_every_data_descriptor_in_order() {
        let mem = memory();
        let (_file, mut dev) = disk(false);
        header(&mem, T_IN, 2);
        let (mock, mut queue) = offer(
            &mem,
            &[&[
                (HEADER, 16, false),
                (DATA, 200, true),
                (DATA2, 824, true),
                (STATUS, 1, true),
            ]],
        );
        let handled = dev.notify(0, &mut queue, &mem).unwrap();
        assert!(handled.used);
        assert_eq!(status(&mem), S_OK);
        let want: Vec<u8> = (1024..2048usize)
            .map(|i| (i % 512 + 3 * (i / 512)) as u8)
            .collect();
        assert_eq!(bytes(&mem, DATA, 200), want[..200]);
        assert_eq!(bytes(&mem, DATA2, 824), want[200..]);
        assert_eq!(used(&mock), [(0, 1025)], "data and the status byte");
    }

    #[test]
    fn a_write_lands_at_its_sector_and_nowhere_else() {
        let mem = memory();
        let (file, mut dev) = disk(false);
        header(&mem, T_OUT, 3);
        mem.write_slice(&[0xaa; 100], GuestAddress(DATA)).unwrap();
        mem.write_slice(&[0xbb; 412], GuestAddress(DATA2)).unwrap();
        let (mock, mut queue) = offer(
            &mem,
            &[&[
                (HEADER, 16, false),
                (DATA, 100, false),
                (DATA2, 412, false),
                (STATUS, 1, true),
            ]],
        );
        dev.notify(0, &mut queue, &mem).unwrap();
        assert_eq!(status(&mem), S_OK);
        assert_eq!(used(&mock), [(0, 1)], "only the status byte is written");
        let disk = std::fs::read(file.path()).unwrap();
        assert!(disk[3 * 512..3 * 512 + 100].iter().all(|&b| b == 0xaa));
        assert!(disk[3 * 512 + 100..4 * 512].iter().all(|&b| b == 0xbb));
        assert_eq!(disk[4 * 512], 12, "sector 4 is untouched");
        assert_eq!(disk[3 * 512 - 1], (511 + 6) as u8, "sector 2 is untouched");
    }

    #[test]
    fn flush_get_id_and_unknown_requests_answer_in_the_status() {
        let mem = memory();
        let (_file, mut dev) = disk(false);
        // GET_ID across two buffers, 8 then 30 bytes: the 20-byte id fills
        // the first and 12 bytes of the second.
        header(&mem, T_GET_ID, 0);
        let (mock, mut queue) = offer(
            &mem,
            &[&[
                (HEADER, 16, false),
                (DATA, 8, true),
                (DATA2, 30, true),
                (STATUS, 1, true),
            ]],
        );
        dev.notify(0, &mut queue, &mem).unwrap();
        assert_eq!(status(&mem), S_OK);
        let mut id = ID.to_vec();
        id.resize(20, 0);
        assert_eq!(bytes(&mem, DATA, 8), id[..8]);
        assert_eq!(bytes(&mem, DATA2, 12), id[8..]);
        assert_eq!(used(&mock), [(0, 21)]);

        for (kind, want) in [(T_FLUSH, S_OK), (77, S_UNSUPP)] {
            header(&mem, kind, 0);
            let (mock, mut queue) = offer(&mem, &[&[(HEADER, 16, false), (STATUS, 1, true)]]);
            dev.notify(0, &mut queue, &mem).unwrap();
            assert_eq!(status(&mem), want, "request type {kind}");
            assert_eq!(used(&mock), [(0, 1)]);
        }
    }

    #[test]
    fn get_id_stops_at_a_read_only_buffer() {
        let mem = memory();
        let (_file, mut dev) = disk(false);
        header(&mem, T_GET_ID, 0);
        mem.write_slice(&[0x55; 64], GuestAddress(DATA2)).unwrap();
        let (mock, mut queue) = offer(
            &mem,
            &[&[
                (HEADER, 16, false),
                (DATA, 4, true),
                (DATA2, 64, false),
                (STATUS, 1, true),
            ]],
        );
        dev.notify(0, &mut queue, &mem).unwrap();
        assert_eq!(status(&mem), S_OK);
        assert_eq!(bytes(&mem, DATA, 4), b"lume");
        assert_eq!(bytes(&mem, DATA2, 64), [0x55; 64]);
        assert_eq!(used(&mock), [(0, 5)]);
    }

    #[test]
    fn failed_io_is_an_ioerr_status_not_a_device_error() {
        let mem = memory();
        // Past the end of the disk; a write to a read-only disk; a data
        // buffer outside guest memory.
        let cases: [(bool, u32, u64, u64); 3] = [
            (false, T_IN, 15, DATA),
            (true, T_OUT, 0, DATA),
            (false, T_IN, 0, OUTSIDE),
        ];
        for (read_only, kind, sector, data) in cases {
            let (file, mut dev) = disk(read_only);
            let before = std::fs::read(file.path()).unwrap();
            header(&mem, kind, sector);
            let (mock, mut queue) = offer(
                &mem,
                &[&[
                    (HEADER, 16, false),
                    (data, 1024, kind == T_IN),
                    (STATUS, 1, true),
                ]],
            );
            dev.notify(0, &mut queue, &mem).unwrap();
            assert_eq!(
                status(&mem),
                S_IOERR,
                "{kind} of sector {sector} at {data:#x}"
            );
            assert_eq!(used(&mock), [(0, 1)]);
            assert_eq!(std::fs::read(file.path()).unwrap(), before);
        }
    }

    #[test]
    fn malformed_chains_are_device_errors_and_their_buffers_come_back_empty() {
        let mem = memory();
        let h = (HEADER, 16, false);
        let s = (STATUS, 1, true);
        let cases: [(&str, u32, &[Buffer]); 7] = [
            ("no status", T_IN, &[h]),
            ("writable header", T_IN, &[(HEADER, 16, true), s]),
            ("short header", T_IN, &[(HEADER, 8, false), s]),
            ("read-only status", T_FLUSH, &[h, (STATUS, 1, false)]),
            (
                "read into a read-only buffer",
                T_IN,
                &[h, (DATA, 512, false), s],
            ),
            (
                "write from a writable buffer",
                T_OUT,
                &[h, (DATA, 512, true), s],
            ),
            ("over 1 MiB", T_IN, &[h, (DATA, (1 << 20) + 512, true), s]),
        ];
        for (what, kind, buffers) in cases {
            let (_file, mut dev) = disk(false);
            header(&mem, kind, 0);
            let (mock, mut queue) = offer(&mem, &[buffers]);
            let err = dev.notify(0, &mut queue, &mem).unwrap_err();
            assert!(
                err.to_string().contains("descriptor chain 0"),
                "{what}: {err}"
            );
            assert_eq!(used(&mock), [(0, 0)], "{what}");
            assert_eq!(status(&mem), 0xff, "{what}: no status written");
        }
        // A header outside guest memory.
        let (_file, mut dev) = disk(false);
        let (mock, mut queue) = offer(&mem, &[&[(OUTSIDE, 16, false), s]]);
        assert!(dev.notify(0, &mut queue, &mem).is_err());
        assert_eq!(used(&mock), [(0, 0)]);
    }

    #[test]
    fn a_bad_chain_stops_the_queue_run_and_the_next_notify_goes_on() {
        let mem = memory();
        let (_file, mut dev) = disk(false);
        header(&mem, T_FLUSH, 0);
        let (mock, mut queue) = offer(
            &mem,
            &[
                &[(HEADER, 16, false)],
                &[(HEADER, 16, false), (STATUS, 1, true)],
            ],
        );
        assert!(dev.notify(0, &mut queue, &mem).is_err());
        assert_eq!(used(&mock), [(0, 0)]);
        assert!(dev.notify(0, &mut queue, &mem).unwrap().used);
        assert_eq!(used(&mock), [(0, 0), (1, 1)]);
        assert_eq!(status(&mem), S_OK);
    }
}
