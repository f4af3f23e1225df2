//! Flat 64-bit payloads: an image copied to 1 MiB and entered at its first
//! byte in long mode, for unikernel-style guests and the VMM's own test
//! guests (which must stay tiny on hosts that emulate guests slowly).
//!
//! At entry: `rsp` = [`PAYLOAD_STACK_TOP`], `rdi` = RAM size in bytes,
//! `rsi` = address of the NUL-terminated command line, interrupts off.

use super::{BootError, Entry};
use crate::layout::{CMDLINE_ADDR, CMDLINE_MAX, HIMEM_START, MMIO_HOLE_START, PAYLOAD_STACK_TOP};
use std::path::Path;
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

/// Copy the payload at `path` and its command line into `mem` (`ram` bytes).
pub fn load(
    mem: &GuestMemoryMmap,
    ram: u64,
    path: &Path,
    cmdline: &str,
) -> Result<Entry, BootError> {
    let image = std::fs::read(path).map_err(|source| BootError::Read {
        path: path.to_owned(),
        source,
    })?;
    load_bytes(mem, ram, path, &image, cmdline)
}

/// As [`load`], with the image already in memory (`path` names it in errors).
pub fn load_bytes(
    mem: &GuestMemoryMmap,
    ram: u64,
    path: &Path,
    image: &[u8],
    cmdline: &str,
) -> Result<Entry, BootError> {
    if image.is_empty() {
        return Err(BootError::Empty {
            path: path.to_owned(),
        });
    }
    let low_ram = ram.min(MMIO_HOLE_START);
    if HIMEM_START + image.len() as u64 > low_ram {
        return Err(BootError::TooBig {
            path: path.to_owned(),
            size: image.len() as u64,
            ram,
            at: HIMEM_START,
        });
    }
    write_cmdline(mem, cmdline)?;
    mem.write_slice(image, GuestAddress(HIMEM_START))?;
    Ok(Entry {
        rip: HIMEM_START,
        rsp: PAYLOAD_STACK_TOP,
        rdi: ram,
        rsi: CMDLINE_ADDR,
    })
}

/// Write `cmdline` NUL-terminated at [`CMDLINE_ADDR`].
pub fn write_cmdline(mem: &GuestMemoryMmap, cmdline: &str) -> Result<(), BootError> {
    if cmdline.len() + 1 > CMDLINE_MAX {
        return Err(BootError::CmdlineTooLong {
            len: cmdline.len(),
            max: CMDLINE_MAX - 1,
        });
    }
    mem.write_slice(cmdline.as_bytes(), GuestAddress(CMDLINE_ADDR))?;
    mem.write_obj(0u8, GuestAddress(CMDLINE_ADDR + cmdline.len() as u64))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(size: usize) -> GuestMemoryMmap {
        GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), size)]).unwrap()
    }

    #[test]
    fn payload_and_cmdline_land_where_the_abi_says() {
        let mem = memory(4 << 20);
        let entry = load_bytes(&mem, 4 << 20, Path::new("p"), &[0xf4, 0x90], "count=7").unwrap();
        assert_eq!(
            entry,
            Entry {
                rip: 0x100000,
                rsp: 0x80000,
                rdi: 4 << 20,
                rsi: 0x20000
            }
        );
        let mut code = [0u8; 2];
        mem.read_slice(&mut code, GuestAddress(0x100000)).unwrap();
        assert_eq!(code, [0xf4, 0x90]);
        let mut line = [0u8; 8];
        mem.read_slice(&mut line, GuestAddress(0x20000)).unwrap();
        assert_eq!(&line, b"count=7\0");
    }

    #[test]
    fn oversized_and_empty_images_are_refused() {
        let mem = memory(2 << 20);
        let big = vec![0u8; 2 << 20];
        let err = load_bytes(&mem, 2 << 20, Path::new("big.bin"), &big, "").unwrap_err();
        assert!(
            err.to_string()
                .contains("big.bin: image of 2097152 bytes does not fit"),
            "{err}"
        );
        let err = load_bytes(&mem, 2 << 20, Path::new("e.bin"), &[], "").unwrap_err();
        assert_eq!(err.to_string(), "e.bin: empty image");
        let long = "x".repeat(CMDLINE_MAX);
        assert!(matches!(
            load_bytes(&mem, 2 << 20, Path::new("p"), &[1], &long),
            Err(BootError::CmdlineTooLong { .. })
        ));
    }
}
