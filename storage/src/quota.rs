//! Quotas and space accounting on btrfs simple quotas (squota).
//!
//! Every subvolume has its own level-0 qgroup `0/ID`, which under simple
//! quotas counts the bytes that subvolume wrote and that are still alive
//! (whoever shares them now: a snapshot, a clone). Each dataset also has a
//! level-1 group `1/X`, recorded on it ([`attrs::GROUP`]), whose members are
//! its own `0/ID` and those of every dataset below it. So:
//!
//! - `used` is `1/X`'s bytes: what the dataset and its descendants wrote
//!   and still hold, their snapshots included; a fresh clone uses nothing,
//!   as in ZFS;
//! - `quota` limits `1/X`, `refquota` limits `0/ID`, and the kernel fails
//!   a write past either with `EDQUOT`.
//!
//! Simple quotas never need a rescan: a group's members can change at any
//! time with exact numbers, which full qgroups cannot promise for clones.

use crate::attrs;
use crate::btrfs::QgroupId;
use crate::error::{io, kernel, Result};
use crate::handle::Pool;
use std::fs::File;

/// The level-0 group of subvolume `id`.
pub fn own(id: u64) -> QgroupId {
    QgroupId { level: 0, id }
}

/// The level-1 group recorded on dataset directory `dir`.
pub fn group_of(dir: &File) -> Option<QgroupId> {
    let text = attrs::get(dir, attrs::GROUP).ok()??;
    Some(QgroupId {
        level: 1,
        id: text.trim().parse().ok()?,
    })
}

/// Make a level-1 group for the new dataset at `dir` (subvolume `id`),
/// record it there, and count the subvolume in it and in `ancestors`'
/// groups. Returns the group.
pub fn create_group(pool: &Pool, dir: &File, id: u64, ancestors: &[QgroupId]) -> Result<QgroupId> {
    let name = pool.name().to_string();
    let taken = pool
        .kernel
        .qgroups(&pool.fsid, 1)
        .map_err(kernel("list qgroups of", &name))?;
    let group = QgroupId {
        level: 1,
        id: taken.iter().map(|q| q.id).max().unwrap_or(0) + 1,
    };
    pool.kernel
        .qgroup_create(&pool.top, group, true)
        .map_err(kernel("create qgroup in", &name))?;
    let joined = (|| {
        attrs::set(dir, attrs::GROUP, Some(&group.id.to_string()))
            .map_err(io(format!("qgroup record of subvolume {id}")))?;
        join(pool, id, &[group])?;
        join(pool, id, ancestors)
    })();
    if let Err(e) = joined {
        remove_group(pool, group);
        return Err(e);
    }
    Ok(group)
}

/// Count subvolume `id` in `groups`. Under simple quotas the kernel
/// already counts a new subvolume in its parent subvolume's groups (its
/// ancestors'), so a membership that exists is no error.
pub fn join(pool: &Pool, id: u64, groups: &[QgroupId]) -> Result<()> {
    for g in groups {
        match pool.kernel.qgroup_assign(&pool.top, own(id), *g, true) {
            Err(e) if e.errno == libc::EEXIST => {}
            r => r.map_err(kernel("assign qgroup in", pool.name()))?,
        }
    }
    Ok(())
}

/// Stop counting subvolume `id` in `groups` (best effort: the subvolume
/// is going, and its group with it).
pub fn leave(pool: &Pool, id: u64, groups: &[QgroupId]) {
    for g in groups {
        let _ = pool.kernel.qgroup_assign(&pool.top, own(id), *g, false);
    }
}

/// Remove level-1 group `group` and its memberships (best effort: what
/// stays is an empty group that counts nothing).
pub fn remove_group(pool: &Pool, group: QgroupId) {
    if let Ok(members) = pool.kernel.qgroup_members(&pool.top, group) {
        for m in members {
            let _ = pool.kernel.qgroup_assign(&pool.top, m, group, false);
        }
    }
    let _ = pool.kernel.qgroup_create(&pool.top, group, false);
}

/// Space numbers of one dataset, from its groups.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Space {
    /// `used`: the dataset, its snapshots and descendants.
    pub used: u64,
    /// Bytes the dataset itself wrote and holds.
    pub own: u64,
    /// `quota` (on `used`).
    pub quota: Option<u64>,
    /// `refquota` (on what the dataset itself holds).
    pub refquota: Option<u64>,
}

/// The space numbers of subvolume `id` with level-1 group `group`.
pub fn space(pool: &Pool, id: u64, group: Option<QgroupId>) -> Result<Space> {
    let name = pool.name().to_string();
    let mine = pool
        .kernel
        .qgroup_usage(&pool.fsid, own(id))
        .map_err(kernel("read qgroup of", &name))?
        .unwrap_or_default();
    let all = match group {
        Some(g) => pool
            .kernel
            .qgroup_usage(&pool.fsid, g)
            .map_err(kernel("read qgroup of", &name))?
            .unwrap_or_default(),
        None => mine,
    };
    Ok(Space {
        used: all.exclusive.max(mine.exclusive),
        own: mine.referenced,
        quota: all.max_exclusive,
        refquota: mine.max_referenced,
    })
}

/// Set `quota` (on group `group`) or `refquota` (on subvolume `id`).
pub fn set_limit(pool: &Pool, target: QgroupId, limit: Option<u64>, on_used: bool) -> Result<()> {
    let (rfer, excl) = if on_used {
        (None, limit)
    } else {
        (limit, None)
    };
    pool.kernel
        .qgroup_limit(&pool.top, target, rfer, excl)
        .map_err(kernel("set a quota in", pool.name()))
}

/// Bytes the dataset at `dir` (subvolume `id`) references: what it wrote
/// itself, and for a clone what its origin referenced (the snapshot's
/// [`attrs::REFER`], which the clone carries).
pub(crate) fn referenced(pool: &Pool, dir: &File, id: u64) -> Result<u64> {
    let own = space(pool, id, None)?.own;
    let inherited = attrs::get(dir, attrs::REFER)
        .ok()
        .flatten()
        .and_then(|r| r.parse::<u64>().ok())
        .unwrap_or(0);
    Ok(own + inherited)
}
