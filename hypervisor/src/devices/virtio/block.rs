//! virtio-blk over a raw image file: read, write, flush and get-id
//! requests, each fired as `vmm:::blk-start` / `blk-done`.

use super::{read_config_bytes, DeviceError, Handled, VirtioDevice, TYPE_BLOCK};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Instant;
use virtio_queue::desc::split::Descriptor;
use virtio_queue::{Queue, QueueT};
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap};

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
        // Straight between the file and guest memory, with no buffer in
        // between: a copy less per request (storage's throughput bench).
        let mut offset = start;
        for d in data {
            for slice in GuestMemoryBackend::get_slices(mem, d.addr(), d.len() as usize) {
                let slice = slice.map_err(|_| einval())?;
                let guard = slice.ptr_guard_mut();
                let (ptr, len) = (guard.as_ptr(), slice.len());
                let mut done = 0usize;
                while done < len {
                    // SAFETY: `ptr..ptr+len` is guest memory the VMM maps
                    // for as long as `guard` lives; the kernel copies to or
                    // from it as it would for any buffer (the guest may
                    // change it meanwhile, which only changes what it gets).
                    let n = unsafe {
                        if write {
                            libc::pwrite(
                                self.file.as_raw_fd(),
                                ptr.add(done).cast(),
                                len - done,
                                (offset + done as u64) as libc::off_t,
                            )
                        } else {
                            libc::pread(
                                self.file.as_raw_fd(),
                                ptr.add(done).cast(),
                                len - done,
                                (offset + done as u64) as libc::off_t,
                            )
                        }
                    };
                    match n {
                        n if n > 0 => done += n as usize,
                        0 => return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof)),
                        _ => {
                            let e = std::io::Error::last_os_error();
                            if e.kind() != std::io::ErrorKind::Interrupted {
                                return Err(e);
                            }
                        }
                    }
                }
                offset += len as u64;
            }
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
