//! Lumen's storage: ZFS's model — pools, datasets, volumes, snapshots,
//! clones, quotas, send and receive — on btrfs, with no on-disk format of
//! its own.
//!
//! In: names and properties from `lumen zpool` / `lumen zfs` / `lumen
//! imgadm`, the zones crate (a zone's root is a dataset) and the VMM (a
//! VM's disk is a volume). Out: btrfs subvolumes, qgroups and send
//! streams, and `zfs` probes for the tracer. In DESIGN.md's flow it is a
//! platform crate: it fires probes and never depends on the engine.
//!
//! It reads top-down: [`name`] (checked names), [`pool`] (a btrfs
//! filesystem on a device or loop-mounted file: create, import, export,
//! destroy) handing out [`handle`]s (an imported pool: its record, space,
//! health and lock), [`layout`] (where datasets and snapshots are, and the
//! listing), [`dataset`] (making, destroying and renaming datasets, and
//! the sweep of unfinished work), [`snapshot`] (snapshot, rollback, clone,
//! promote), [`quota`] and [`props`] (space and properties), [`volume`],
//! [`stream`], [`send`] and [`receive`]. Every btrfs call is in [`btrfs`],
//! behind a trait that tests replace.
//!
//! ```no_run
//! use storage::{name::DatasetName, pool::{Pools, CreateOptions}};
//! let pools = Pools::from_env()?;
//! let pool = pools.create("tank", &CreateOptions { size: Some(1 << 30), ..Default::default() })?;
//! let home = DatasetName::parse("tank/home")?;
//! pool.create(&home, &Default::default())?;
//! pool.set_property(&home, "quota", "10G")?;
//! # Ok::<(), storage::StorageError>(())
//! ```
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

pub mod attrs;
pub mod btrfs;
pub mod dataset;
pub mod error;
pub mod handle;
pub mod layout;
pub mod name;
pub mod pool;
pub mod props;
pub mod quota;
pub mod receive;
pub mod send;
pub mod snapshot;
pub mod stream;
pub mod vdev;
pub mod volume;

pub use error::{Result, StorageError};
