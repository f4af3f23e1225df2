//! A pool's device: a block device, or a sparse file served by a loop
//! device that the kernel lets go when the pool is unmounted
//! (`LO_FLAGS_AUTOCLEAR`), so an export or destroy leaves no loop behind.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

const LOOP_CTL_GET_FREE: u64 = 0x4c82;
const LOOP_CONFIGURE: u64 = 0x4c0a;
const LO_FLAGS_AUTOCLEAR: u32 = 4;
const LO_FLAGS_DIRECT_IO: u32 = 16;

/// Where btrfs keeps its primary superblock, and what is in it.
const SUPER_OFFSET: u64 = 64 << 10;
const SUPER_MAGIC: &[u8; 8] = b"_BHRfS_M";
const MAGIC_AT: usize = 0x40;
const FSID_AT: usize = 0x20;
const LABEL_AT: usize = 0x12b;
const LABEL_LEN: usize = 256;

#[repr(C)]
struct LoopInfo64 {
    lo_device: u64,
    lo_inode: u64,
    lo_rdevice: u64,
    lo_offset: u64,
    lo_sizelimit: u64,
    lo_number: u32,
    lo_encrypt_type: u32,
    lo_encrypt_key_size: u32,
    lo_flags: u32,
    lo_file_name: [u8; 64],
    lo_crypt_name: [u8; 64],
    lo_encrypt_key: [u8; 32],
    lo_init: [u64; 2],
}

#[repr(C)]
struct LoopConfig {
    fd: u32,
    block_size: u32,
    info: LoopInfo64,
    reserved: [u64; 8],
}
const _: () = assert!(std::mem::size_of::<LoopConfig>() == 0x130);

/// A loop device bound to a pool's file; it goes away by itself once the
/// last user (the pool's mount) lets go.
#[derive(Debug)]
pub struct Loop {
    /// `/dev/loopN`.
    pub path: PathBuf,
    /// Held until the pool is mounted.
    _device: File,
}

/// Bind `file` to a free loop device, with direct I/O (no second copy of
/// the pool's pages in the host's cache) and autoclear.
pub fn attach(file: &Path) -> std::io::Result<Loop> {
    let backing = OpenOptions::new().read(true).write(true).open(file)?;
    let control = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/loop-control")?;
    // Another process may take the device we were given: try again.
    for _ in 0..16 {
        // SAFETY: LOOP_CTL_GET_FREE takes no argument and returns a number.
        let n = unsafe { libc::ioctl(control.as_raw_fd(), LOOP_CTL_GET_FREE as _) };
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let path = PathBuf::from(format!("/dev/loop{n}"));
        let device = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        // SAFETY: all-zero is a valid loop_config.
        let mut config: LoopConfig = unsafe { std::mem::zeroed() };
        config.fd = backing.as_raw_fd() as u32;
        config.info.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO;
        let name = file.as_os_str().as_encoded_bytes();
        let len = name.len().min(63);
        config.info.lo_file_name[..len].copy_from_slice(&name[..len]);
        // SAFETY: LOOP_CONFIGURE reads a loop_config, which lives across the call.
        let r = unsafe { libc::ioctl(device.as_raw_fd(), LOOP_CONFIGURE as _, &config) };
        if r == 0 {
            return Ok(Loop {
                path,
                _device: device,
            });
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EBUSY) {
            continue;
        }
        // Direct I/O needs the file's blocks to line up with the device's;
        // where they do not, fall back to buffered I/O.
        if e.raw_os_error() == Some(libc::EINVAL) {
            config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
            // SAFETY: as above.
            if unsafe { libc::ioctl(device.as_raw_fd(), LOOP_CONFIGURE as _, &config) } == 0 {
                return Ok(Loop {
                    path,
                    _device: device,
                });
            }
        }
        return Err(e);
    }
    Err(std::io::Error::other("no free loop device"))
}

/// What a device or file holds, read from its btrfs superblock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The filesystem's label (the pool's name).
    pub label: String,
    /// Its UUID.
    pub fsid: [u8; 16],
}

/// The btrfs label of `path`, if it holds a btrfs filesystem.
pub fn read_label(path: &Path) -> std::io::Result<Option<Label>> {
    let mut f = File::open(path)?;
    let mut block = vec![0u8; 4096];
    f.seek(SeekFrom::Start(SUPER_OFFSET))?;
    let mut got = 0;
    while got < block.len() {
        match f.read(&mut block[got..])? {
            0 => break,
            n => got += n,
        }
    }
    if got < LABEL_AT + LABEL_LEN || &block[MAGIC_AT..MAGIC_AT + 8] != SUPER_MAGIC {
        return Ok(None);
    }
    let raw = &block[LABEL_AT..LABEL_AT + LABEL_LEN];
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    let mut fsid = [0u8; 16];
    fsid.copy_from_slice(&block[FSID_AT..FSID_AT + 16]);
    Ok(Some(Label {
        label: String::from_utf8_lossy(&raw[..end]).into_owned(),
        fsid,
    }))
}

/// Whether `path` is a block device.
pub fn is_block_device(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_block_device())
}

/// The kernel's I/O counters of block device `dev` (`/sys/block/NAME/stat`):
/// reads, sectors read, writes, sectors written.
pub fn io_counters(dev: &Path) -> Option<[u64; 4]> {
    let name = std::fs::canonicalize(dev).ok()?;
    let name = name.file_name()?.to_str()?;
    let text = std::fs::read_to_string(format!("/sys/class/block/{name}/stat")).ok()?;
    let f: Vec<u64> = text
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    Some([*f.first()?, *f.get(2)?, *f.get(4)?, *f.get(6)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_a_superblock_has_no_label() {
        let f = tempfile::NamedTempFile::new().expect("temp");
        f.as_file().set_len(1 << 20).expect("size");
        assert_eq!(read_label(f.path()).expect("read"), None);
    }

    #[test]
    fn a_superblock_label_is_read() {
        let f = tempfile::NamedTempFile::new().expect("temp");
        let mut block = vec![0u8; (SUPER_OFFSET as usize) + 4096];
        let sb = SUPER_OFFSET as usize;
        block[sb + MAGIC_AT..sb + MAGIC_AT + 8].copy_from_slice(SUPER_MAGIC);
        block[sb + LABEL_AT..sb + LABEL_AT + 4].copy_from_slice(b"tank");
        block[sb + FSID_AT] = 7;
        std::fs::write(f.path(), &block).expect("write");
        let l = read_label(f.path()).expect("read").expect("btrfs");
        assert_eq!(l.label, "tank");
        assert_eq!(l.fsid[0], 7);
    }
}
