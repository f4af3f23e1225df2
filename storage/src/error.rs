//! The crate's error: what failed, on which pool, dataset or path, and
//! whose fault (a bad name or property from the user, a refusal by the
//! kernel, a corrupt stream).

use crate::btrfs::KernelError;
use crate::name::NameError;
use std::path::PathBuf;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A name breaks a rule.
    #[error(transparent)]
    Name(#[from] NameError),
    /// No such pool (or not imported).
    #[error("no such pool '{0}'")]
    NoSuchPool(String),
    /// The pool exists.
    #[error("pool '{0}' already exists")]
    PoolExists(String),
    /// No such dataset or snapshot.
    #[error("cannot open '{0}': dataset does not exist")]
    NoSuchDataset(String),
    /// The dataset or snapshot exists.
    #[error("cannot create '{0}': dataset already exists")]
    Exists(String),
    /// The operation is refused as things are (children, clones, a busy mount).
    #[error("cannot {action} '{name}': {why}")]
    Refused {
        /// What was asked.
        action: &'static str,
        /// Of what.
        name: String,
        /// Why not, and what would do it.
        why: String,
    },
    /// A property name or value is wrong.
    #[error("cannot set property for '{name}': {why}")]
    Property {
        /// The dataset.
        name: String,
        /// What is wrong.
        why: String,
    },
    /// The kernel refused a btrfs call.
    #[error("cannot {action} '{name}': {source}{}", hint(.source))]
    Kernel {
        /// What was being done.
        action: &'static str,
        /// Of what.
        name: String,
        /// The call and its errno.
        source: KernelError,
    },
    /// A file or directory operation failed.
    #[error("{}: {source}{}", .path.display(), io_hint(.source))]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A helper program (mkfs.btrfs) failed.
    #[error("{program}: {why}")]
    Tool {
        /// The program.
        program: String,
        /// What it said, or how it ended.
        why: String,
    },
    /// A send stream is corrupt, truncated or not one.
    #[error(transparent)]
    Stream(#[from] crate::stream::StreamError),
    /// A stream could not be applied to this pool.
    #[error("cannot receive '{name}': {why}")]
    Receive {
        /// The dataset being received.
        name: String,
        /// Why.
        why: String,
    },
}

/// More words for the errnos an operator meets.
fn hint(e: &KernelError) -> &'static str {
    errno_hint(e.errno)
}

fn io_hint(e: &std::io::Error) -> &'static str {
    e.raw_os_error().map_or("", errno_hint)
}

fn errno_hint(errno: i32) -> &'static str {
    match errno {
        libc::ENOSPC => " (the pool is out of space)",
        libc::EDQUOT => " (a quota is reached)",
        libc::EROFS => " (read-only)",
        _ => "",
    }
}

impl StorageError {
    /// The errno behind the error, where there is one (ENOSPC, EDQUOT…).
    pub fn errno(&self) -> Option<i32> {
        match self {
            StorageError::Kernel { source, .. } => Some(source.errno),
            StorageError::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

/// `map_err` for file operations on `path`.
pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> StorageError {
    let path = path.into();
    move |source| StorageError::Io { path, source }
}

/// `map_err` for btrfs calls doing `action` on `name`.
pub(crate) fn kernel(
    action: &'static str,
    name: impl ToString,
) -> impl FnOnce(KernelError) -> StorageError {
    let name = name.to_string();
    move |source| StorageError::Kernel {
        action,
        name,
        source,
    }
}

/// Result of a storage operation.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;
