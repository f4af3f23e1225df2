//! What Lumen records on a dataset beyond what btrfs keeps: extended
//! attributes on the subvolume's root directory, so they travel with
//! snapshots and clones. `btrfs.compression` is btrfs's own property.

use std::fs::File;
use std::os::fd::AsRawFd;

/// `volume` for a volume (absent for a filesystem).
pub const TYPE: &str = "user.lumen.type";
/// A volume's size in bytes.
pub const VOLSIZE: &str = "user.lumen.volsize";
/// The level-1 qgroup counting the dataset and its descendants.
pub const GROUP: &str = "user.lumen.group";
/// A snapshot's referenced bytes when it was taken.
pub const REFER: &str = "user.lumen.refer";
/// The origin snapshot's name, where a promote changed it.
pub const ORIGIN: &str = "user.lumen.origin";
/// btrfs's compression property (inherited by files made below).
pub const COMPRESSION: &str = "btrfs.compression";

/// Read attribute `name` of `dir` (None when absent).
pub fn get(dir: &File, name: &str) -> std::io::Result<Option<String>> {
    let c = std::ffi::CString::new(name).map_err(|_| std::io::Error::other("NUL in name"))?;
    let mut buf = vec![0u8; 256];
    // SAFETY: fgetxattr writes at most buf.len() bytes into buf.
    let n = unsafe {
        libc::fgetxattr(
            dir.as_raw_fd(),
            c.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        let e = std::io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::ENODATA) => Ok(None),
            _ => Err(e),
        };
    }
    buf.truncate(n as usize);
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

/// Set attribute `name` of `dir` to `value` (None removes it).
pub fn set(dir: &File, name: &str, value: Option<&str>) -> std::io::Result<()> {
    set_raw(dir, name, value.map(str::as_bytes))
}

/// Set attribute `name` of `dir` to bytes `value` (None removes it).
pub fn set_raw(dir: &File, name: &str, value: Option<&[u8]>) -> std::io::Result<()> {
    let c = std::ffi::CString::new(name).map_err(|_| std::io::Error::other("NUL in name"))?;
    // SAFETY: plain calls on an fd we own with buffers that outlive them.
    let r = unsafe {
        match value {
            Some(v) => libc::fsetxattr(dir.as_raw_fd(), c.as_ptr(), v.as_ptr().cast(), v.len(), 0),
            None => libc::fremovexattr(dir.as_raw_fd(), c.as_ptr()),
        }
    };
    if r < 0 {
        let e = std::io::Error::last_os_error();
        if value.is_none() && e.raw_os_error() == Some(libc::ENODATA) {
            return Ok(());
        }
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_attributes_round_trip() {
        let dir = tempfile::tempdir().expect("dir");
        let f = File::open(dir.path()).expect("open");
        set(&f, TYPE, Some("volume")).expect("set");
        assert_eq!(get(&f, TYPE).expect("get").as_deref(), Some("volume"));
        set(&f, TYPE, None).expect("remove");
        assert_eq!(get(&f, TYPE).expect("get"), None);
        set(&f, TYPE, None).expect("removing twice is no error");
    }
}
