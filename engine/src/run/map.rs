//! A map as the consumer sees it, whichever backend holds it: the same
//! reads and writes over a kernel map or a user-space one.

use crate::sys::bpf::{BpfMap, UpdateFlags};
use crate::sys::SysError;
use crate::user::map::{MapError, UserMap};
use std::rc::Rc;

/// A kernel map or an emulated one.
pub enum Map {
    /// A `bpf(2)` map.
    Kernel(BpfMap),
    /// A map of the user-space backend (one CPU).
    User(Rc<UserMap>),
}

fn user_err(call: &'static str, e: MapError) -> SysError {
    let errno = match e {
        MapError::Size => libc::EINVAL,
        MapError::NoKey => libc::ENOENT,
        MapError::Exists => libc::EEXIST,
        MapError::Full => libc::E2BIG,
        MapError::NoMemory => libc::ENOMEM,
    };
    SysError {
        call,
        errno: crate::sys::Errno(errno),
    }
}

impl Map {
    /// Bytes a lookup returns: per-CPU maps hold one slot per CPU.
    pub fn lookup_size(&self) -> usize {
        match self {
            Map::Kernel(m) => m.lookup_size(),
            Map::User(m) => m.value_size(),
        }
    }

    /// A copy of the value (all CPUs' slots for per-CPU kernel maps).
    pub fn lookup_vec(&self, key: &[u8]) -> Result<Option<Vec<u8>>, SysError> {
        match self {
            Map::Kernel(m) => m.lookup_vec(key),
            Map::User(m) => Ok(m.lookup(key)),
        }
    }

    /// One value per CPU.
    pub fn lookup_percpu(&self, key: &[u8]) -> Result<Option<Vec<Vec<u8>>>, SysError> {
        match self {
            Map::Kernel(m) => m.lookup_percpu(key),
            Map::User(m) => Ok(m.lookup(key).map(|v| vec![v])),
        }
    }

    /// Write a value of [`Self::lookup_size`] bytes.
    pub fn update(&self, key: &[u8], value: &[u8], flags: UpdateFlags) -> Result<(), SysError> {
        match self {
            Map::Kernel(m) => m.update(key, value, flags),
            Map::User(m) => {
                let f = match flags {
                    UpdateFlags::Any => crate::user::map::ANY,
                    UpdateFlags::NoExist => crate::user::map::NOEXIST,
                    UpdateFlags::Exist => crate::user::map::EXIST,
                };
                m.update(key, value, f)
                    .map_err(|e| user_err("map update", e))
            }
        }
    }

    /// Remove a key; `Ok(false)` if it was absent.
    pub fn delete(&self, key: &[u8]) -> Result<bool, SysError> {
        match self {
            Map::Kernel(m) => m.delete(key),
            Map::User(m) => match m.delete(key) {
                Ok(()) => Ok(true),
                Err(MapError::NoKey) => Ok(false),
                Err(e) => Err(user_err("map delete", e)),
            },
        }
    }

    /// Every key.
    pub fn keys(&self) -> Result<Vec<Vec<u8>>, SysError> {
        match self {
            Map::Kernel(m) => m.keys(),
            Map::User(m) => Ok(m.keys()),
        }
    }
}
