//! Zones: SmartOS-style OS containers on Linux namespaces and cgroups.
//!
//! This crate sits beside the tracer (it never depends on `engine`): it
//! owns zone manifests ([`manifest`]: SmartOS's JSON, checked with the
//! JSON path of every bad field) and the zone registry under `LUMEN_ROOT`
//! ([`registry`]: one directory per zone, changed under a per-zone lock,
//! never left half-created). `lumen vmadm` is its command line.
//!
//! [`runtime`] boots them: a supervisor, namespaces, a sparse root and
//! `zlogin`; [`cgroups`] caps them; [`clone`] starts init in its
//! namespaces and cgroup2 group at once; [`kvm`] makes a `kvm`-brand
//! zone, whose init is Lumen's VMM.

pub mod cgroups;
pub mod clone;
pub mod kvm;
pub mod manifest;
pub mod pty;
pub mod registry;
pub mod runtime;
pub mod seccomp;

pub use manifest::{Brand, Manifest, ManifestError};
pub use registry::{Registry, RegistryError, ZoneState};
