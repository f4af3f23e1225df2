//! The block device: a request's chain checked whole, then served from
//! the image file, the data moving straight between the file and the
//! guest's buffers (`pread`/`pwrite` on guest memory, no bounce buffer).
//!
//! With [`Cache::None`] (QEMU's `cache=none`, what SmartOS gave its KVM
//! disks) the image is also opened `O_DIRECT`, and every piece of a
//! request whose guest address, length and disk offset are aligned goes
//! through it: the guest keeps its own page cache, so the host's would
//! hold every block twice. A piece that is not aligned takes the buffered
//! descriptor; the kernel keeps the two coherent (a direct read writes
//! dirty cached pages back first, a direct write drops them).

use super::{BlockError, BlockMetrics, HEADER_LEN, MAX_REQUEST, QUEUE_SIZE, SECTOR};
use crate::devices::virtio::metrics::Counters;
use crate::devices::virtio::{
    give_back, read_config_bytes, write_to_chain, Chain, DeviceError, Handled, VirtioDevice,
};
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use virtio_bindings::virtio_blk::{
    VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_RO, VIRTIO_BLK_ID_BYTES, VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_OK,
    VIRTIO_BLK_S_UNSUPP, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_IN,
    VIRTIO_BLK_T_OUT,
};
use virtio_bindings::virtio_ids::VIRTIO_ID_BLOCK;
use virtio_queue::desc::split::Descriptor;
use virtio_queue::{Queue, QueueT};
use vm_memory::{Address, Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap};

/// How the host caches a disk's image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Cache {
    /// Through the host's page cache (QEMU's `cache=writeback`).
    #[default]
    Writeback,
    /// Around it, `O_DIRECT` (QEMU's `cache=none`).
    None,
}

impl std::str::FromStr for Cache {
    type Err = String;

    fn from_str(s: &str) -> Result<Cache, String> {
        match s {
            "writeback" => Ok(Cache::Writeback),
            "none" => Ok(Cache::None),
            _ => Err(format!("unknown cache mode '{s}' (writeback or none)")),
        }
    }
}

/// What `O_DIRECT` asks to be aligned (address, length, offset): the
/// page, which every file system this VMM serves disks from accepts.
const DIRECT_ALIGN: u64 = 4096;

/// A block device backed by a file.
pub struct Block {
    name: String,
    vm: u64,
    index: u32,
    file: File,
    /// The image opened `O_DIRECT`, with [`Cache::None`].
    direct: Option<File>,
    sectors: u64,
    read_only: bool,
    config: [u8; 8],
    metrics: Arc<BlockMetrics>,
}

/// Status bytes, as the guest reads them.
const S_OK: u8 = VIRTIO_BLK_S_OK as u8;
const S_IOERR: u8 = VIRTIO_BLK_S_IOERR as u8;
const S_UNSUPP: u8 = VIRTIO_BLK_S_UNSUPP as u8;
/// The length of a GET_ID answer.
const ID_LEN: usize = VIRTIO_BLK_ID_BYTES as usize;

/// Which way data moves between the image and the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Image to guest.
    Read,
    /// Guest to image.
    Write,
}

/// What a request asks for: the header's type field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequestType {
    /// Read sectors into the guest's buffers.
    In,
    /// Write the guest's buffers to sectors.
    Out,
    Flush,
    GetId,
    /// A type Lumen does not offer, answered UNSUPP.
    Other(u32),
}

impl From<u32> for RequestType {
    fn from(kind: u32) -> RequestType {
        match kind {
            VIRTIO_BLK_T_IN => RequestType::In,
            VIRTIO_BLK_T_OUT => RequestType::Out,
            VIRTIO_BLK_T_FLUSH => RequestType::Flush,
            VIRTIO_BLK_T_GET_ID => RequestType::GetId,
            other => RequestType::Other(other),
        }
    }
}

/// A request as its chain describes it, checked before any of it is served.
struct Request {
    head: u16,
    kind: RequestType,
    sector: u64,
    /// The header descriptor's length: a write's data follows it among
    /// the chain's readable buffers.
    header_len: u32,
    /// The bytes of data the descriptors between header and status hold.
    data_len: u64,
    /// What GET_ID may write: the writable data descriptors before the
    /// first read-only one.
    id_room: u64,
    status: GuestAddress,
}

impl Request {
    /// Read the header and check the shape of `chain`: header, data,
    /// status, each pointing the way the request type wants.
    fn parse(chain: Chain<'_>, mem: &GuestMemoryMmap) -> Result<Request, BlockError> {
        let head = chain.head_index();
        let descs: Vec<Descriptor> = chain.collect();
        let (header, rest) = descs.split_first().ok_or(BlockError::Empty(head))?;
        let (status, data) = rest.split_last().ok_or(BlockError::NoStatus(head))?;
        if header.is_write_only() || header.len() < HEADER_LEN {
            return Err(BlockError::Header(head));
        }
        if !status.is_write_only() || status.len() < 1 {
            return Err(BlockError::Status(head));
        }
        let memory = |source| BlockError::Memory {
            head,
            what: "request header",
            source,
        };
        let kind = RequestType::from(mem.read_obj::<u32>(header.addr()).map_err(memory)?);
        let sector: u64 = mem
            .read_obj(GuestAddress(header.addr().0.wrapping_add(8)))
            .map_err(memory)?;
        let data_len = data.iter().map(|d| u64::from(d.len())).sum();
        if matches!(kind, RequestType::In | RequestType::Out) {
            if data
                .iter()
                .any(|d| d.is_write_only() == (kind == RequestType::Out))
            {
                return Err(BlockError::DataDirection(head));
            }
            if data_len > MAX_REQUEST {
                return Err(BlockError::TooLarge(head));
            }
        }
        let id_room = data
            .iter()
            .take_while(|d| d.is_write_only())
            .map(|d| u64::from(d.len()))
            .sum();
        Ok(Request {
            head,
            kind,
            sector,
            header_len: header.len(),
            data_len,
            id_room,
            status: status.addr(),
        })
    }
}

fn einval() -> io::Error {
    io::Error::from_raw_os_error(libc::EINVAL)
}

impl Block {
    /// Open `path` as device number `index` of VM `vm`, through the
    /// page cache.
    pub fn open(path: &Path, read_only: bool, vm: u64, index: u32) -> io::Result<Block> {
        Block::open_cached(path, read_only, Cache::Writeback, vm, index)
    }

    /// Open `path` as device number `index` of VM `vm`, cached as `cache`
    /// says.
    pub fn open_cached(
        path: &Path,
        read_only: bool,
        cache: Cache,
        vm: u64,
        index: u32,
    ) -> io::Result<Block> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(!read_only);
        let file = options.open(path)?;
        let direct = match cache {
            Cache::Writeback => None,
            Cache::None => Some(options.custom_flags(libc::O_DIRECT).open(path)?),
        };
        let size = file.metadata()?.len();
        let sectors = size / SECTOR;
        Ok(Block {
            name: format!("virtio-blk{index}"),
            vm,
            index,
            file,
            direct,
            sectors,
            read_only,
            config: sectors.to_le_bytes(),
            metrics: Arc::default(),
        })
    }

    /// Serve one request; the bytes written into the guest's buffers,
    /// the status byte included.
    fn serve(&mut self, chain: Chain<'_>, mem: &GuestMemoryMmap) -> Result<u32, BlockError> {
        let request = Request::parse(chain.clone(), mem)?;
        let (status, written) = match request.kind {
            RequestType::In | RequestType::Out => self.transfer(&request, chain, mem),
            RequestType::Flush => self.flush(),
            RequestType::GetId => (S_OK, self.get_id(&request, chain, mem)?),
            RequestType::Other(_) => {
                self.metrics.unsupported.inc();
                (S_UNSUPP, 0)
            }
        };
        mem.write_obj(status, request.status)
            .map_err(|source| BlockError::Memory {
                head: request.head,
                what: "status byte",
                source,
            })?;
        Ok(written + 1)
    }

    /// A read or a write of the disk, fired as `blk-start` / `blk-done`:
    /// the status and the bytes written into guest buffers.
    fn transfer(
        &mut self,
        request: &Request,
        chain: Chain<'_>,
        mem: &GuestMemoryMmap,
    ) -> (u8, u32) {
        let write = request.kind == RequestType::Out;
        let (sector, len) = (request.sector, request.data_len);
        probes::vmm::blk__start(|| (self.vm, self.index, sector, len as u32, u32::from(write)));
        let started = Instant::now();
        let result = if write {
            self.write_disk(request, chain, mem)
        } else {
            self.read_disk(request, chain, mem)
        };
        let latency = started.elapsed().as_nanos() as u64;
        let errno = match &result {
            Ok(_) => 0,
            Err(e) => e.raw_os_error().unwrap_or(libc::EIO),
        };
        probes::vmm::blk__done(|| (self.vm, self.index, sector, len as u32, errno, latency));
        match result {
            Ok(()) if write => {
                self.metrics.writes.inc();
                self.metrics.write_bytes.add(len);
                (S_OK, 0)
            }
            Ok(()) => {
                self.metrics.reads.inc();
                self.metrics.read_bytes.add(len);
                (S_OK, len as u32)
            }
            Err(e) => {
                eprintln!("lumen vmm: {}: sector {sector}: {e}", self.name);
                self.metrics.io_errors.inc();
                (S_IOERR, 0)
            }
        }
    }

    /// Where on the disk `len` bytes from `sector` start, if they lie
    /// within it.
    fn disk_offset(&self, sector: u64, len: u64) -> io::Result<u64> {
        let start = sector.checked_mul(SECTOR).ok_or_else(einval)?;
        let end = start.checked_add(len).ok_or_else(einval)?;
        if end > self.sectors * SECTOR {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "request ends at byte {end}, beyond the disk's {} bytes",
                    self.sectors * SECTOR
                ),
            ));
        }
        Ok(start)
    }

    /// Read the disk into the request's data buffers. They are the first
    /// of its writable buffers; the status byte after them is `serve`'s.
    /// A buffer outside guest memory fails the read with EINVAL.
    fn read_disk(
        &mut self,
        request: &Request,
        chain: Chain<'_>,
        mem: &GuestMemoryMmap,
    ) -> io::Result<()> {
        let offset = self.disk_offset(request.sector, request.data_len)?;
        self.file_io(chain, mem, Direction::Read, 0, request.data_len, offset)
    }

    /// Write the request's data buffers to the disk. They follow the
    /// header among its readable buffers. A buffer outside guest memory
    /// fails the write with EINVAL.
    fn write_disk(
        &mut self,
        request: &Request,
        chain: Chain<'_>,
        mem: &GuestMemoryMmap,
    ) -> io::Result<()> {
        let offset = self.disk_offset(request.sector, request.data_len)?;
        if self.read_only {
            return Err(io::Error::from_raw_os_error(libc::EROFS));
        }
        let header = u64::from(request.header_len);
        self.file_io(
            chain,
            mem,
            Direction::Write,
            header,
            request.data_len,
            offset,
        )
    }

    /// Move `len` bytes between the image at `offset` and the guest
    /// buffers that start `skip` bytes into the chain's writable buffers
    /// (a read) or readable ones (a write): straight between the file and
    /// guest memory, with no copy in between (the one a bounce buffer
    /// costs is a third of a read's time on this host's nested KVM).
    fn file_io(
        &self,
        chain: Chain<'_>,
        mem: &GuestMemoryMmap,
        direction: Direction,
        mut skip: u64,
        len: u64,
        mut offset: u64,
    ) -> io::Result<()> {
        let mut left = len;
        let wanted = direction == Direction::Read;
        for d in chain.filter(|d| d.is_write_only() == wanted) {
            if left == 0 {
                break;
            }
            let size = u64::from(d.len());
            if skip >= size {
                skip -= size;
                continue;
            }
            let n = (size - skip).min(left);
            let addr = d.addr().checked_add(skip).ok_or_else(einval)?;
            skip = 0;
            for slice in GuestMemoryBackend::get_slices(mem, addr, n as usize) {
                let slice = slice.map_err(|_| einval())?;
                self.slice_io(&slice, direction, offset)?;
                offset += slice.len() as u64;
            }
            left -= n;
        }
        if left > 0 {
            return Err(einval());
        }
        Ok(())
    }

    /// One contiguous piece of guest memory to or from the image.
    fn slice_io(
        &self,
        slice: &vm_memory::VolatileSlice<'_, ()>,
        direction: Direction,
        offset: u64,
    ) -> io::Result<()> {
        let guard = slice.ptr_guard_mut();
        let (ptr, len) = (guard.as_ptr(), slice.len());
        let aligned = |n: u64| n.is_multiple_of(DIRECT_ALIGN);
        let fd = match &self.direct {
            Some(d) if aligned(ptr as u64) && aligned(len as u64) && aligned(offset) => {
                d.as_raw_fd()
            }
            _ => self.file.as_raw_fd(),
        };
        let mut done = 0usize;
        while done < len {
            let at = libc::off_t::try_from(offset + done as u64).map_err(|_| einval())?;
            // SAFETY: `ptr..ptr + len` is guest memory the VMM maps for as
            // long as `guard` lives; the kernel copies to or from it as it
            // would for any buffer (the guest may change it meanwhile, which
            // only changes what it reads or writes).
            let n = unsafe {
                match direction {
                    Direction::Read => libc::pread(fd, ptr.add(done).cast(), len - done, at),
                    Direction::Write => libc::pwrite(fd, ptr.add(done).cast(), len - done, at),
                }
            };
            match n {
                n if n > 0 => done += n as usize,
                0 => return Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
                _ => {
                    let e = io::Error::last_os_error();
                    if e.kind() != io::ErrorKind::Interrupted {
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    }

    /// Make the image's data durable: the status.
    fn flush(&mut self) -> (u8, u32) {
        match self.file.sync_data() {
            Ok(()) => {
                self.metrics.flushes.inc();
                (S_OK, 0)
            }
            Err(_) => {
                self.metrics.io_errors.inc();
                (S_IOERR, 0)
            }
        }
    }

    /// Write the device's id (`lumen-virtio-blkN`, NUL-padded to 20 bytes)
    /// into the writable data buffers before any read-only one; the bytes
    /// written.
    fn get_id(
        &mut self,
        request: &Request,
        chain: Chain<'_>,
        mem: &GuestMemoryMmap,
    ) -> Result<u32, BlockError> {
        self.metrics.get_ids.inc();
        let mut id = [0u8; ID_LEN];
        let text = format!("lumen-{}", self.name);
        let n = text.len().min(ID_LEN);
        id[..n].copy_from_slice(&text.as_bytes()[..n]);
        let n = request.id_room.min(ID_LEN as u64) as usize;
        write_to_chain(chain, mem, &[&id], n)?;
        Ok(n as u32)
    }
}

impl VirtioDevice for Block {
    fn device_type(&self) -> u32 {
        VIRTIO_ID_BLOCK
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn features(&self) -> u64 {
        let read_only = if self.read_only {
            1 << VIRTIO_BLK_F_RO
        } else {
            0
        };
        1 << VIRTIO_BLK_F_FLUSH | read_only
    }
    fn queue_max_sizes(&self) -> &[u16] {
        &[QUEUE_SIZE]
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
            let outcome = self.serve(chain, mem);
            // A bad request is still returned to the guest (with nothing
            // written) so its driver does not wait forever.
            let len = *outcome.as_ref().unwrap_or(&0);
            give_back(queue, mem, head, len).map_err(BlockError::from)?;
            handled.used = true;
            if outcome.is_err() {
                self.metrics.bad_chains.inc();
            }
            outcome?;
        }
        Ok(handled)
    }
    fn metrics(&self) -> Arc<dyn Counters> {
        self.metrics.clone()
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
        header(&mem, VIRTIO_BLK_T_IN, 2);
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
        assert_eq!(
            (dev.metrics.reads.get(), dev.metrics.read_bytes.get()),
            (1, 1024)
        );
    }

    #[test]
    fn cache_none_serves_aligned_and_unaligned_buffers_alike() {
        let mem = memory();
        let (file, _) = disk(false);
        let mut dev = Block::open_cached(file.path(), false, Cache::None, 7, 0).unwrap();
        assert!(dev.direct.is_some());
        // A page-aligned write of sectors 8..16 (the O_DIRECT descriptor),
        // then a read of sectors 7..9 into an unaligned buffer (the
        // buffered one): the read sees the write.
        header(&mem, VIRTIO_BLK_T_OUT, 8);
        mem.write_slice(&[0x5a; 4096], GuestAddress(DATA)).unwrap();
        let (_, mut queue) = offer(
            &mem,
            &[&[(HEADER, 16, false), (DATA, 4096, false), (STATUS, 1, true)]],
        );
        dev.notify(0, &mut queue, &mem).unwrap();
        assert_eq!(status(&mem), S_OK);
        header(&mem, VIRTIO_BLK_T_IN, 7);
        let (_, mut queue) = offer(
            &mem,
            &[&[
                (HEADER, 16, false),
                (DATA2 + 8, 1024, true),
                (STATUS, 1, true),
            ]],
        );
        dev.notify(0, &mut queue, &mem).unwrap();
        assert_eq!(status(&mem), S_OK);
        let got = bytes(&mem, DATA2 + 8, 1024);
        let sector7: Vec<u8> = (0..512usize).map(|i| (i + 21) as u8).collect();
        assert_eq!(got[..512], sector7[..]);
        assert!(got[512..].iter().all(|&b| b == 0x5a));
        // And an aligned read back through O_DIRECT.
        header(&mem, VIRTIO_BLK_T_IN, 8);
        let (_, mut queue) = offer(
            &mem,
            &[&[(HEADER, 16, false), (DATA, 4096, true), (STATUS, 1, true)]],
        );
        mem.write_slice(&[0; 4096], GuestAddress(DATA)).unwrap();
        dev.notify(0, &mut queue, &mem).unwrap();
        assert_eq!(status(&mem), S_OK);
        assert!(bytes(&mem, DATA, 4096).iter().all(|&b| b == 0x5a));
        assert!(std::fs::read(file.path()).unwrap()[4096..]
            .iter()
            .all(|&b| b == 0x5a));
        assert_eq!("none".parse::<Cache>(), Ok(Cache::None));
        assert!("unsafe".parse::<Cache>().is_err());
    }

    #[test]
    fn a_write_lands_at_its_sector_and_nowhere_else() {
        let mem = memory();
        let (file, mut dev) = disk(false);
        header(&mem, VIRTIO_BLK_T_OUT, 3);
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
        assert_eq!(
            (dev.metrics.writes.get(), dev.metrics.write_bytes.get()),
            (1, 512)
        );
    }

    #[test]
    fn flush_get_id_and_unknown_requests_answer_in_the_status() {
        let mem = memory();
        let (_file, mut dev) = disk(false);
        // GET_ID across two buffers, 8 then 30 bytes: the 20-byte id fills
        // the first and 12 bytes of the second.
        header(&mem, VIRTIO_BLK_T_GET_ID, 0);
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

        for (kind, want) in [(VIRTIO_BLK_T_FLUSH, S_OK), (77, S_UNSUPP)] {
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
        header(&mem, VIRTIO_BLK_T_GET_ID, 0);
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
            (false, VIRTIO_BLK_T_IN, 15, DATA),
            (true, VIRTIO_BLK_T_OUT, 0, DATA),
            (false, VIRTIO_BLK_T_IN, 0, OUTSIDE),
        ];
        for (read_only, kind, sector, data) in cases {
            let (file, mut dev) = disk(read_only);
            let before = std::fs::read(file.path()).unwrap();
            header(&mem, kind, sector);
            let (mock, mut queue) = offer(
                &mem,
                &[&[
                    (HEADER, 16, false),
                    (data, 1024, kind == VIRTIO_BLK_T_IN),
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
            assert_eq!(dev.metrics.io_errors.get(), 1);
            assert_eq!(dev.metrics.reads.get() + dev.metrics.writes.get(), 0);
        }
    }

    #[test]
    fn malformed_chains_are_device_errors_and_their_buffers_come_back_empty() {
        let mem = memory();
        let h = (HEADER, 16, false);
        let s = (STATUS, 1, true);
        let cases: [(&str, u32, &[Buffer]); 7] = [
            ("no status", VIRTIO_BLK_T_IN, &[h]),
            ("writable header", VIRTIO_BLK_T_IN, &[(HEADER, 16, true), s]),
            ("short header", VIRTIO_BLK_T_IN, &[(HEADER, 8, false), s]),
            (
                "read-only status",
                VIRTIO_BLK_T_FLUSH,
                &[h, (STATUS, 1, false)],
            ),
            (
                "read into a read-only buffer",
                VIRTIO_BLK_T_IN,
                &[h, (DATA, 512, false), s],
            ),
            (
                "write from a writable buffer",
                VIRTIO_BLK_T_OUT,
                &[h, (DATA, 512, true), s],
            ),
            (
                "over 1 MiB",
                VIRTIO_BLK_T_IN,
                &[h, (DATA, (1 << 20) + 512, true), s],
            ),
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
            assert_eq!(dev.metrics.bad_chains.get(), 1, "{what}");
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
        header(&mem, VIRTIO_BLK_T_FLUSH, 0);
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
