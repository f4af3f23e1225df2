//! Running D programs: code generation through the kernel and back.
//!
//! [`instance`] creates maps and loads programs for a compiled object.

pub mod instance;

pub use instance::{Instance, InstanceError};
