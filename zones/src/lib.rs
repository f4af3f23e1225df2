//! Zones: SmartOS-style OS containers on Linux namespaces and cgroups.
//!
//! This crate sits beside the tracer (it never depends on `engine`): it
//! owns zone manifests ([`manifest`]: SmartOS's JSON, checked with the
//! JSON path of every bad field) and the zone registry under `LUMEN_ROOT`
//! ([`registry`]: one directory per zone, changed under a per-zone lock,
//! never left half-created). `lumen vmadm` is its command line.
//!
//! Booting zones (namespaces, pivot_root, cgroup caps, the supervisor and
//! `zlogin`) is the next step; [`registry::Registry::start`] says so.

pub mod manifest;
pub mod registry;

pub use manifest::{Brand, Manifest, ManifestError};
pub use registry::{Registry, RegistryError, ZoneState};
