//! Lumen's virtual NICs, as Crossbow gave them to SmartOS: etherstubs
//! (virtual switches), vNICs with a MAC, a VLAN, a bandwidth cap and
//! anti-spoofing, and their counters.
//!
//! In: link names and properties from `lumen dladm` and from zone
//! manifests' `nics[]`. Out: Linux bridges, veth pairs, macvlans, tc
//! qdiscs and a BPF classifier, all made over netlink ([`netlink`]). The
//! zones crate calls [`vnic`] to give a booting zone its NICs; the `lumen`
//! binary's `dladm` and `nictagadm` are this crate's command line. Like
//! every platform crate it never depends on the tracer: it fires `vnic`
//! probes, and its per-packet events are kernel tracepoints the engine's
//! `vnic` provider reads.

pub mod addr;
pub mod antispoof;
pub mod bpf;
pub mod error;
pub mod etherstub;
pub mod link;
pub mod mac;
pub mod netlink;
pub mod nictag;
pub mod ofmt;
pub mod props;
pub mod record;
pub mod show;
pub mod traffic;
pub mod vnic;
pub mod zonemap;

pub use addr::Cidr;
pub use error::{NetError, Result};
pub use mac::{MacAddr, MacKind};
