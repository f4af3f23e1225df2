//! [`Faulty`]: [`Real`] with one call made to fail, for tests of what a
//! failure half way leaves behind.
//!
//! Apart from [`Real`] because it is test equipment: nothing in Lumen's
//! own paths makes one, but it is public so that integration tests can
//! hand one to a pool.

use super::{
    Btrfs, DevInfo, DevStats, FsInfo, KernelError, Kr, QgroupId, QgroupUsage, Real, ScrubProgress,
    SpaceInfo, SubvolRecord,
};
use std::fs::File;
use std::os::fd::RawFd;

/// Wraps [`Real`] and fails the `n`th call (counting from 1) to `call`
/// (the trait method's name) with `errno`: for tests of what a failure
/// half way leaves behind.
pub struct Faulty {
    /// The method that fails.
    pub call: &'static str,
    /// Which call of it fails.
    pub nth: usize,
    /// With what.
    pub errno: i32,
    count: std::sync::atomic::AtomicUsize,
}

impl Faulty {
    /// Fail the `nth` call to `call` with `errno`.
    pub fn new(call: &'static str, nth: usize, errno: i32) -> Faulty {
        Faulty {
            call,
            nth,
            errno,
            count: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn check(&self, call: &'static str) -> Kr<()> {
        if call == self.call {
            let n = self.count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            if n == self.nth {
                return Err(KernelError {
                    call,
                    what: "(injected)".into(),
                    errno: self.errno,
                });
            }
        }
        Ok(())
    }
}

impl Btrfs for Faulty {
    fn subvol_create(&self, parent: &File, name: &str) -> Kr<()> {
        self.check("subvol_create")?;
        Real.subvol_create(parent, name)
    }
    fn snapshot(&self, source: &File, parent: &File, name: &str, read_only: bool) -> Kr<()> {
        self.check("snapshot")?;
        Real.snapshot(source, parent, name, read_only)
    }
    fn subvol_destroy(&self, parent: &File, name: &str) -> Kr<()> {
        self.check("subvol_destroy")?;
        Real.subvol_destroy(parent, name)
    }
    fn read_only(&self, subvol: &File) -> Kr<bool> {
        self.check("read_only")?;
        Real.read_only(subvol)
    }
    fn set_read_only(&self, subvol: &File, read_only: bool) -> Kr<()> {
        self.check("set_read_only")?;
        Real.set_read_only(subvol, read_only)
    }
    fn subvol_id(&self, dir: &File) -> Kr<u64> {
        self.check("subvol_id")?;
        Real.subvol_id(dir)
    }
    fn subvolumes(&self, fs: &File) -> Kr<Vec<SubvolRecord>> {
        self.check("subvolumes")?;
        Real.subvolumes(fs)
    }
    fn quota_enable(&self, fs: &File) -> Kr<()> {
        self.check("quota_enable")?;
        Real.quota_enable(fs)
    }
    fn qgroup_create(&self, fs: &File, id: QgroupId, create: bool) -> Kr<()> {
        self.check("qgroup_create")?;
        Real.qgroup_create(fs, id, create)
    }
    fn qgroup_assign(&self, fs: &File, member: QgroupId, parent: QgroupId, assign: bool) -> Kr<()> {
        self.check("qgroup_assign")?;
        Real.qgroup_assign(fs, member, parent, assign)
    }
    fn qgroup_limit(
        &self,
        fs: &File,
        id: QgroupId,
        max_referenced: Option<u64>,
        max_exclusive: Option<u64>,
    ) -> Kr<()> {
        self.check("qgroup_limit")?;
        Real.qgroup_limit(fs, id, max_referenced, max_exclusive)
    }
    fn qgroup_members(&self, fs: &File, parent: QgroupId) -> Kr<Vec<QgroupId>> {
        self.check("qgroup_members")?;
        Real.qgroup_members(fs, parent)
    }
    fn qgroups(&self, fsid: &[u8; 16], level: u16) -> Kr<Vec<QgroupId>> {
        self.check("qgroups")?;
        Real.qgroups(fsid, level)
    }
    fn qgroup_usage(&self, fsid: &[u8; 16], id: QgroupId) -> Kr<Option<QgroupUsage>> {
        self.check("qgroup_usage")?;
        Real.qgroup_usage(fsid, id)
    }
    fn send(&self, subvol: &File, out: RawFd, parent: Option<u64>, flags: u64) -> Kr<()> {
        self.check("send")?;
        Real.send(subvol, out, parent, flags)
    }
    fn set_received(&self, subvol: &File, uuid: [u8; 16], stransid: u64) -> Kr<()> {
        self.check("set_received")?;
        Real.set_received(subvol, uuid, stransid)
    }
    fn scrub(&self, fs: &File, devid: u64) -> Kr<ScrubProgress> {
        self.check("scrub")?;
        Real.scrub(fs, devid)
    }
    fn fs_info(&self, fs: &File) -> Kr<FsInfo> {
        self.check("fs_info")?;
        Real.fs_info(fs)
    }
    fn dev_info(&self, fs: &File, devid: u64) -> Kr<DevInfo> {
        self.check("dev_info")?;
        Real.dev_info(fs, devid)
    }
    fn dev_stats(&self, fs: &File, devid: u64) -> Kr<DevStats> {
        self.check("dev_stats")?;
        Real.dev_stats(fs, devid)
    }
    fn space_info(&self, fs: &File) -> Kr<Vec<SpaceInfo>> {
        self.check("space_info")?;
        Real.space_info(fs)
    }
    fn sync(&self, fs: &File) -> Kr<()> {
        self.check("sync")?;
        Real.sync(fs)
    }
    fn clone_range(&self, src: &File, src_off: u64, len: u64, dst: &File, dst_off: u64) -> Kr<()> {
        self.check("clone_range")?;
        Real.clone_range(src, src_off, len, dst, dst_off)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_faulty_kernel_fails_the_nth_call_only() {
        let f = Faulty::new("sync", 2, libc::EIO);
        assert!(f.check("sync").is_ok());
        assert!(f.check("subvol_create").is_ok());
        assert_eq!(f.check("sync").unwrap_err().errno, libc::EIO);
        assert!(f.check("sync").is_ok());
    }
}
