//! What a zone's processes may do beyond what its user namespace already
//! confines: a capability bounding set (Docker's default, or the
//! manifest's `limit_priv`), `no_new_privs`, and Docker's default seccomp
//! policy for that set of capabilities ([`crate::seccomp`]).
//!
//! `limit_priv` reads as SmartOS's does — a comma-separated list that
//! starts from `default` (or `none`) and adds names or removes them with
//! `-` or `!` — but its names are Linux capabilities (`net_admin`,
//! `sys_ptrace`, with or without `cap_`), since those are what Linux
//! checks. The `kvm` brand's default is what the VMM needs and no more:
//! `net_admin` when it has NICs (to make its taps), else nothing.

use crate::seccomp::{Policy, SeccompError};
use caps::{CapSet, Capability, CapsHashSet};

/// Docker's default capability set (moby's `oci/caps/defaults.go`).
pub const DOCKER_DEFAULT: &[Capability] = &[
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_FSETID,
    Capability::CAP_FOWNER,
    Capability::CAP_MKNOD,
    Capability::CAP_NET_RAW,
    Capability::CAP_SETGID,
    Capability::CAP_SETUID,
    Capability::CAP_SETFCAP,
    Capability::CAP_SETPCAP,
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_SYS_CHROOT,
    Capability::CAP_KILL,
    Capability::CAP_AUDIT_WRITE,
];

/// Why a zone's privileges could not be built or taken up.
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    /// The seccomp policy could not be built or installed.
    #[error("seccomp: {0}")]
    Seccomp(#[from] SeccompError),
    /// A capability call failed.
    #[error("capabilities: {0}")]
    Caps(String),
    /// A prctl failed.
    #[error("prctl({what}): {source}")]
    Prctl {
        /// Which.
        what: &'static str,
        /// Why.
        source: std::io::Error,
    },
}

/// The capability set a `limit_priv` text gives, starting from `base`
/// (the brand's default); an error names the first word it cannot read.
pub fn parse_limit_priv(text: &str, base: &CapsHashSet) -> Result<CapsHashSet, String> {
    let mut set = base.clone();
    for (i, word) in text.split(',').map(str::trim).enumerate() {
        if word.is_empty() {
            return Err(format!("word {} is empty", i + 1));
        }
        let (remove, name) = match word.strip_prefix(['-', '!']) {
            Some(rest) => (true, rest),
            None => (false, word),
        };
        let named: CapsHashSet = match name.to_ascii_lowercase().as_str() {
            "default" => DOCKER_DEFAULT.iter().copied().collect(),
            "none" => {
                if remove {
                    return Err(format!("{word:?}: 'none' cannot be removed"));
                }
                set.clear();
                continue;
            }
            other => match caps::to_canonical(other).parse::<Capability>() {
                Ok(c) => [c].into_iter().collect(),
                Err(_) => {
                    return Err(format!(
                        "{word:?} is not a Linux capability (e.g. net_admin, sys_ptrace) \
                         nor default or none"
                    ))
                }
            },
        };
        if remove {
            set.retain(|c| !named.contains(c));
        } else {
            set.extend(named);
        }
    }
    Ok(set)
}

/// A set as `limit_priv` would name it, sorted (for messages and tests).
pub fn names(set: &CapsHashSet) -> Vec<String> {
    let mut v: Vec<String> = set
        .iter()
        .map(|c| c.to_string().trim_start_matches("CAP_").to_lowercase())
        .collect();
    v.sort();
    v
}

/// A zone's privileges, built before fork (the seccomp filter compiled)
/// and taken up by [`Privileges::enter`] in each of its processes.
pub struct Privileges {
    caps: CapsHashSet,
    seccomp: Policy,
}

impl Privileges {
    /// The privileges of a process holding `caps` at most.
    pub fn new(caps: CapsHashSet) -> Result<Privileges, PrivilegeError> {
        let seccomp = crate::seccomp::docker_default(&caps)?;
        Ok(Privileges { caps, seccomp })
    }

    /// What zsched may do: no capability, and only the calls it makes
    /// (waiting, reading its signals, passing them on, writing a line,
    /// the allocator's, exiting).
    pub fn zsched() -> Result<Privileges, PrivilegeError> {
        let seccomp = crate::seccomp::only(&[
            libc::SYS_read,
            libc::SYS_write,
            libc::SYS_close,
            libc::SYS_wait4,
            libc::SYS_waitid,
            libc::SYS_kill,
            libc::SYS_signalfd4,
            libc::SYS_rt_sigprocmask,
            libc::SYS_rt_sigreturn,
            libc::SYS_restart_syscall,
            libc::SYS_brk,
            libc::SYS_mmap,
            libc::SYS_munmap,
            libc::SYS_mremap,
            libc::SYS_madvise,
            libc::SYS_futex,
            libc::SYS_sigaltstack,
            libc::SYS_getpid,
            libc::SYS_exit,
            libc::SYS_exit_group,
        ])?;
        Ok(Privileges {
            caps: CapsHashSet::new(),
            seccomp,
        })
    }

    /// The capabilities.
    pub fn caps(&self) -> &CapsHashSet {
        &self.caps
    }

    /// Take them up in the calling (single-threaded, about to exec)
    /// process, which holds every capability of its user namespace:
    /// bound, then set, the capabilities; set `no_new_privs`; install the
    /// seccomp filter. An exec'd root program gets exactly `caps` (root's
    /// "all" file capabilities meet the bounding set, and `no_new_privs`
    /// keeps it within what we held).
    pub fn enter(&self) -> Result<(), PrivilegeError> {
        let caps_err = |e: caps::errors::CapsError| PrivilegeError::Caps(e.to_string());
        // The bounding set first: dropping from it needs CAP_SETPCAP,
        // which `caps` may not keep.
        for c in caps::all() {
            if !self.caps.contains(&c) && caps::has_cap(None, CapSet::Bounding, c).unwrap_or(false)
            {
                caps::drop(None, CapSet::Bounding, c).map_err(caps_err)?;
            }
        }
        caps::clear(None, CapSet::Ambient).map_err(caps_err)?;
        caps::set(None, CapSet::Inheritable, &self.caps).map_err(caps_err)?;
        caps::set(None, CapSet::Effective, &self.caps).map_err(caps_err)?;
        caps::set(None, CapSet::Permitted, &self.caps).map_err(caps_err)?;
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            return Err(PrivilegeError::Prctl {
                what: "PR_SET_NO_NEW_PRIVS",
                source: std::io::Error::last_os_error(),
            });
        }
        self.seccomp.install()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default() -> CapsHashSet {
        DOCKER_DEFAULT.iter().copied().collect()
    }

    #[test]
    fn limit_priv_adds_and_removes_from_the_brand_default() {
        let set =
            parse_limit_priv("default,net_admin,-net_raw,!cap_mknod", &default()).expect("valid");
        assert!(set.contains(&Capability::CAP_NET_ADMIN));
        assert!(!set.contains(&Capability::CAP_NET_RAW));
        assert!(!set.contains(&Capability::CAP_MKNOD));
        assert!(set.contains(&Capability::CAP_CHOWN));
        assert_eq!(
            names(&parse_limit_priv("none,SYS_PTRACE", &default()).expect("valid")),
            ["sys_ptrace"]
        );
        assert_eq!(
            parse_limit_priv("default,-default", &default()).expect("valid"),
            CapsHashSet::new()
        );
    }

    #[test]
    fn limit_priv_names_what_it_cannot_read() {
        let e = parse_limit_priv("default,proc_clock_highres", &default()).expect_err("bad");
        assert!(
            e.contains("\"proc_clock_highres\" is not a Linux capability"),
            "{e}"
        );
        assert!(parse_limit_priv("default,,kill", &default())
            .expect_err("bad")
            .contains("word 2 is empty"));
    }
}
