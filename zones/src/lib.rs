//! Zones: SmartOS-style OS containers on Linux namespaces and cgroups,
//! each a security boundary first: root inside is an unprivileged id
//! outside, and nothing the zone runs lifts its caps.
//!
//! This crate sits beside the tracer (it never depends on `engine`): it
//! fires `zone` probes, and `lumen vmadm` / `lumen zlogin` are its command
//! line. It reads top-down:
//! - [`manifest`]: SmartOS's JSON, checked with the JSON path of every
//!   bad field;
//! - [`registry`]: one directory per zone under `LUMEN_ROOT`, changed
//!   under directory locks, never left half-made ([`ids`]: each zone's
//!   host id range);
//! - [`lifecycle`]: create, boot, stop, delete, log in; [`datasets`]: a
//!   zone's dataset on the `zones` pool, from an image or empty;
//!   [`images`]: what zones are cloned from (`imgadm`);
//! - [`supervisor`]: boots a zone and watches it; [`rootfs`] builds its
//!   root; [`network`] gives it its NICs; [`clone`] starts its init in its namespaces and cgroup2 group
//!   at once; [`init`] is its pid 1;
//! - what confines it: [`cgroups`] (caps, devices), [`devices`] (the
//!   allowlist), [`privileges`] (capabilities, `no_new_privs`) and
//!   [`seccomp`] (Docker's default policy);
//! - [`zlogin`] and [`pty`]: running commands inside;
//! - [`process`]: processes named by pidfd and start time, never by a pid
//!   alone; [`kvm`]: the `kvm` brand, whose init command is Lumen's VMM.

pub mod cgroups;
pub mod clone;
pub mod datasets;
pub mod devices;
pub mod error;
pub mod ids;
pub mod images;
pub mod init;
pub mod kvm;
pub mod lifecycle;
pub mod manifest;
pub mod network;
pub mod privileges;
pub mod process;
pub mod pty;
pub mod registry;
pub mod rootfs;
pub mod seccomp;
pub mod supervisor;
pub mod zlogin;

pub use manifest::{Brand, Manifest, ManifestError};
pub use registry::{Registry, RegistryError, ZoneState};
