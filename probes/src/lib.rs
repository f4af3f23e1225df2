//! Lumen's static probes: the `provider!` macro that declares a provider's
//! USDT probes with typed arguments, and the catalogue of Lumen's providers.
//!
//! In: probe declarations (one module per provider, below). Out: SystemTap
//! SDT v3 notes at every probe site (found by `readelf -n`, `bpftrace`,
//! `perf` and the engine's `usdt` provider), and [`catalogue`], which
//! `d-lang` reads to type `args[]` and the engine reads to list probes. The
//! VMM, zones, storage, vNICs and the `lumen` binary fire the probes; the
//! notes are written by the compiler, so this crate does nothing at run time
//! but check a semaphore.
//!
//! ```
//! // Fire lumen:::start; the closure runs only while the probe is traced.
//! probes::lumen::start(|| 3);
//! let start = probes::find("lumen", "start").expect("declared");
//! assert_eq!(start.args[0].d_type, "int32_t");
//! ```
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

mod arg;
mod catalogue;
mod provider;
mod semaphore;

pub mod lumen;
pub mod netns;
pub mod vmm;
pub mod vnic;
pub mod zfs;
pub mod zone;

pub use arg::SdtArg;
#[doc(hidden)]
pub use catalogue::const_name;
pub use catalogue::{d_name, ArgDesc, ProbeDesc, ProviderDesc};
pub use semaphore::Semaphore;

/// Every provider Lumen declares, each from its own `provider!`.
pub fn catalogue() -> &'static [ProviderDesc] {
    &[
        lumen::PROVIDER,
        vmm::PROVIDER,
        zone::PROVIDER,
        zfs::PROVIDER,
        vnic::PROVIDER,
    ]
}

/// The probe `provider:::name` of the catalogue, by D names (`vmm`,
/// `exit-entry`). A USDT provider's process-id suffix must be stripped first.
pub fn find(provider: &str, name: &str) -> Option<&'static ProbeDesc> {
    catalogue()
        .iter()
        .find(|p| p.name == provider)
        .and_then(|p| p.probe(name))
}

#[cfg(test)]
mod test_utils;
#[cfg(test)]
mod tests;
