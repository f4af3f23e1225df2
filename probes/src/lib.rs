//! Lumen's static probes: where the VMM, zones, storage and vNICs will
//! declare their USDT probes and the typed catalogue `d-lang` reads.
//!
//! Empty until the user-level tracing issue: no probe is declared yet, and
//! nothing depends on this crate's contents.
