//! A zone's user and group ids on the host: 65,536 of them, from a
//! range of Lumen's own, so the zone's root (id 0 inside) is an
//! unprivileged id outside that owns nothing of the host's. The registry
//! allocates each zone a slot and records it in the zone's directory;
//! [`IdRange::write_maps`] gives a zone's init its user namespace's maps.
//!
//! The range starts at 0x7000_0000, above systemd-nspawn's container
//! ranges (0x0008_0000 to 0x6fff_ffff) and below the ids systemd keeps
//! for itself from 0x7ffe_0000.

use std::path::Path;

/// Ids per zone: 0 to 65535 inside, as a Linux system expects.
pub const IDS_PER_ZONE: u32 = 65_536;
/// The first host id Lumen gives out.
pub const FIRST_ID: u32 = 0x7000_0000;
/// How many zones the range holds (up to 0x7ffe_0000).
pub const SLOTS: u32 = (0x7ffe_0000 - FIRST_ID) / IDS_PER_ZONE;

/// Why a zone's ids could not be read, found or mapped.
#[derive(Debug, thiserror::Error)]
pub enum IdError {
    /// Every slot is taken.
    #[error("no free id range: all {SLOTS} zone slots are in use")]
    Exhausted,
    /// A zone's record is not a slot number.
    #[error("{}: not an id range record ({text:?})", .path.display())]
    BadRecord {
        /// The record file.
        path: std::path::PathBuf,
        /// What it says.
        text: String,
    },
    /// Writing a map failed.
    #[error("writing {file} of process {pid}: {source}")]
    Map {
        /// The process.
        pid: i32,
        /// `uid_map` or `gid_map`.
        file: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// Reading or writing a record failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// A zone's ids: host ids `first` to `first + 65535`, its 0 to 65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    /// Which slot of Lumen's range.
    pub slot: u32,
}

impl IdRange {
    /// The host id of the zone's id 0 (its root).
    pub fn first(&self) -> u32 {
        FIRST_ID + self.slot * IDS_PER_ZONE
    }

    /// The host id of zone id `id`.
    pub fn host_id(&self, id: u32) -> u32 {
        self.first() + id
    }

    /// Whether host id `id` is one of the zone's.
    pub fn contains(&self, id: u32) -> bool {
        (self.first()..self.first() + IDS_PER_ZONE).contains(&id)
    }

    /// Read the record at `path` (`slot N`).
    pub fn read(path: &Path) -> Result<IdRange, IdError> {
        let text = std::fs::read_to_string(path).map_err(|source| IdError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        match text.trim().strip_prefix("slot ").map(str::parse::<u32>) {
            Some(Ok(slot)) if slot < SLOTS => Ok(IdRange { slot }),
            _ => Err(IdError::BadRecord {
                path: path.to_path_buf(),
                text,
            }),
        }
    }

    /// The record's text.
    pub fn record(&self) -> String {
        format!("slot {}\n", self.slot)
    }

    /// The lowest slot not in `taken`.
    pub fn allocate(taken: &[IdRange]) -> Result<IdRange, IdError> {
        let mut used: Vec<u32> = taken.iter().map(|r| r.slot).collect();
        used.sort_unstable();
        let mut slot = 0;
        for u in used {
            if u == slot {
                slot += 1;
            } else if u > slot {
                break;
            }
        }
        if slot >= SLOTS {
            return Err(IdError::Exhausted);
        }
        Ok(IdRange { slot })
    }

    /// Map process `pid`'s new user namespace: its ids 0 to 65535 are
    /// ours. Written by the host's root (the namespace's creator's
    /// parent), so `setgroups` stays allowed inside: the zone's root can
    /// give up or change supplementary groups as any root can.
    pub fn write_maps(&self, pid: i32) -> Result<(), IdError> {
        let line = format!("0 {} {IDS_PER_ZONE}\n", self.first());
        for file in ["uid_map", "gid_map"] {
            std::fs::write(format!("/proc/{pid}/{file}"), &line)
                .map_err(|source| IdError::Map { pid, file, source })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_free_slot_is_taken() {
        let r = |slot| IdRange { slot };
        assert_eq!(IdRange::allocate(&[]).expect("free"), r(0));
        assert_eq!(IdRange::allocate(&[r(0), r(1), r(3)]).expect("free"), r(2));
        assert_eq!(IdRange::allocate(&[r(1)]).expect("free"), r(0));
        assert_eq!(r(2).first(), 0x7000_0000 + 2 * 65536);
        assert!(r(2).contains(r(2).host_id(65535)));
        assert!(!r(2).contains(r(3).first()));
        // The last slot ends below systemd's own ids.
        assert!(r(SLOTS - 1).host_id(65535) < 0x7ffe_0000);
    }

    #[test]
    fn a_record_round_trips() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("ids");
        std::fs::write(&path, IdRange { slot: 7 }.record()).expect("write");
        assert_eq!(IdRange::read(&path).expect("read"), IdRange { slot: 7 });
        std::fs::write(&path, "slot x").expect("write");
        assert!(IdRange::read(&path).is_err());
    }
}
