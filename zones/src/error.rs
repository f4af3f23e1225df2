//! Why a zone operation failed, and the zone states those errors name:
//! its own module so that the registry and the modules it calls
//! (`datasets`, `kvm`) share one error type without importing each other.

use crate::ids::IdError;
use crate::manifest::ManifestError;
use std::path::PathBuf;

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The manifest is invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// No zone has this UUID (or the name is not a UUID at all).
    #[error("no such zone: {0}")]
    NoSuchZone(String),
    /// A zone with this UUID exists.
    #[error("a zone with UUID {0} already exists")]
    Exists(String),
    /// A zone in this state cannot do that.
    #[error("zone {uuid} is {state}: cannot {action}")]
    State {
        /// The zone.
        uuid: String,
        /// Its state.
        state: ZoneState,
        /// What was asked.
        action: &'static str,
    },
    /// Booting failed.
    #[error("cannot boot the zone: {0}")]
    Boot(crate::supervisor::BootError),
    /// Stopping failed.
    #[error("cannot stop zone {uuid}: {why}")]
    Stop {
        /// The zone.
        uuid: String,
        /// Why.
        why: String,
    },
    /// A resource control cannot be set here.
    #[error(transparent)]
    Cgroup(#[from] crate::cgroups::CgroupError),
    /// The zone's NICs (a nic tag, a vNIC, an address).
    #[error(transparent)]
    Net(#[from] net::NetError),
    /// The zone's ids.
    #[error(transparent)]
    Ids(#[from] IdError),
    /// The zone's privileges could not be built.
    #[error(transparent)]
    Privileges(#[from] crate::privileges::PrivilegeError),
    /// A login failed.
    #[error(transparent)]
    Login(#[from] crate::zlogin::LoginError),
    /// The zone's storage said no.
    #[error(transparent)]
    Storage(#[from] storage::StorageError),
    /// The file system said no.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

// By hand, not `#[from]`: the boot error is the message, not a cause
// to print again beneath it.
impl From<crate::supervisor::BootError> for RegistryError {
    fn from(e: crate::supervisor::BootError) -> RegistryError {
        RegistryError::Boot(e)
    }
}

/// A zone's state, as `vmadm list` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneState {
    /// Created, not running.
    Stopped,
    /// Its init runs.
    Running,
}

impl std::fmt::Display for ZoneState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ZoneState::Stopped => "stopped",
            ZoneState::Running => "running",
        })
    }
}
