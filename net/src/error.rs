//! The `net` crate's errors: what failed, whose fault it is (the user's
//! input, the kernel's refusal) and the place (the field, the link, the
//! netlink operation).

use std::fmt;

/// Why a `net` operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The user gave a bad value: `field` names it (`-m`, `maxbw`,
    /// `$.nics[0].ips[1]`…), `value` is what was given.
    #[error("{field}: {value:?} {why}")]
    BadInput {
        /// The field, as the user named it.
        field: String,
        /// What was given.
        value: String,
        /// What is wrong with it.
        why: String,
    },
    /// A link that must exist does not.
    #[error("{what} {name:?} does not exist")]
    NoSuchLink {
        /// `link`, `etherstub`, `vnic`…
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// A link of that name exists already.
    #[error("{what} {name:?} already exists")]
    Exists {
        /// `link`, `etherstub`, `vnic`…
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// A link is not what the operation needs (deleting a physical NIC as
    /// a vNIC, a vNIC over a vNIC…).
    #[error("{name}: {why}")]
    WrongKind {
        /// The link.
        name: String,
        /// What it is, and what was needed.
        why: String,
    },
    /// The kernel refused a netlink request.
    #[error("netlink: {op}: {errno}")]
    Netlink {
        /// What was asked (`creating veth z3_net0`).
        op: String,
        /// The kernel's answer.
        errno: Errno,
    },
    /// The kernel answered with something this crate cannot read.
    #[error("netlink: {op}: cannot decode the kernel's answer: {why}")]
    Decode {
        /// What was asked.
        op: String,
        /// Why decoding failed.
        why: String,
    },
    /// A system call other than netlink failed (`bpf(BPF_PROG_LOAD)`,
    /// `setns`, `open /proc/…/ns/net`).
    #[error("{call}: {errno}")]
    Sys {
        /// The call and its object.
        call: String,
        /// Why.
        errno: Errno,
    },
    /// The kernel's verifier refused the anti-spoofing program.
    #[error("the kernel refused the anti-spoofing classifier for {link}: {errno}\n{log}")]
    Verifier {
        /// The link it was for.
        link: String,
        /// bpf(2)'s error.
        errno: Errno,
        /// The verifier's log.
        log: String,
    },
    /// Lumen's own state under `LUMEN_ROOT/net` could not be read or
    /// written.
    #[error("{}: {source}", .path.display())]
    State {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl NetError {
    /// A bad value of `field`.
    pub fn bad(field: impl Into<String>, value: impl Into<String>, why: impl Into<String>) -> Self {
        NetError::BadInput {
            field: field.into(),
            value: value.into(),
            why: why.into(),
        }
    }

    /// A failed system call, with errno from the calling thread.
    pub fn last_os(call: impl Into<String>) -> Self {
        NetError::Sys {
            call: call.into(),
            errno: Errno::last(),
        }
    }

    /// The kernel's errno, when the error is one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetError::Netlink { errno, .. }
            | NetError::Sys { errno, .. }
            | NetError::Verifier { errno, .. } => Some(errno.0),
            _ => None,
        }
    }
}

/// An errno value, printed as the C library prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    /// The calling thread's errno.
    pub fn last() -> Errno {
        Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = std::io::Error::from_raw_os_error(self.0).to_string();
        // std appends " (os error N)"; messages read better without it.
        let bare = text.split(" (os error").next().unwrap_or(&text);
        write!(f, "{bare}")
    }
}

/// Results of this crate.
pub type Result<T, E = NetError> = std::result::Result<T, E>;
