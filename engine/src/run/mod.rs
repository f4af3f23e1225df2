//! Running D programs: code generation through the kernel and back.
//!
//! [`instance`] creates maps and loads programs for a compiled object;
//! [`decode`] turns ring-buffer records back into values; [`snapshot`]
//! reads and merges aggregations.

pub mod actions;
pub mod buffers;
pub mod decode;
pub mod exit_hold;
pub mod feed;
pub mod instance;
pub mod links;
pub mod process;
pub mod session;
pub mod snapshot;

pub use crate::backend::InstanceError;
pub use instance::Instance;
pub use session::Session;
