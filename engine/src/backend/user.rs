//! The user-space backend: the same object interpreted by rbpf in this
//! process ([`crate::user`]), for machines that refuse BPF and for
//! `-x backend=user`. It runs BEGIN, END, ERROR, `tick-N` and
//! `profile-N` (fired by the consumer's own timers) on one CPU.

use super::{initial_value, Attached, Backend, InstanceError, Loaded, Map, Program, Records};
use crate::sys::bpf::UpdateFlags;
use crate::sys::SysError;
use crate::target::Attachment;
use crate::tracefs::Tracefs;
use crate::user::map::{MapError, UserMap};
use crate::user::{self, UserProgram};
use d_lang::codegen::Object;
use std::os::fd::BorrowedFd;
use std::rc::Rc;

/// The user-space backend.
#[derive(Debug)]
pub struct User;

/// The user-space backend.
pub static USER: User = User;

impl Backend for User {
    fn name(&self) -> &'static str {
        "user"
    }

    fn portable(&self) -> bool {
        true
    }

    fn refused(&self) -> Option<String> {
        None
    }

    fn runs(&self, attachment: &Attachment) -> bool {
        matches!(
            attachment,
            Attachment::Timer { .. } | Attachment::SelfProbe(_)
        )
    }

    /// Maps are registered with the interpreter's helpers (programs name
    /// them by address) until they are dropped.
    fn instantiate(&self, object: &Object) -> Result<Loaded, InstanceError> {
        let mut maps = Vec::new();
        for spec in &object.maps {
            let err = |source| InstanceError::UserMap {
                name: spec.name.clone(),
                source,
            };
            let map = Rc::new(
                UserMap::new(spec.kind, spec.key_size, spec.value_size, spec.max_entries)
                    .map_err(err)?,
            );
            if let Some(v) = initial_value(&spec.role, spec.initial.as_ref(), map.value_size()) {
                map.update(&0u32.to_ne_bytes(), &v, user::map::ANY)
                    .map_err(err)?;
            }
            maps.push(Registered::new(map));
        }
        let shared: Vec<Rc<UserMap>> = maps.iter().map(|m| Rc::clone(&m.0)).collect();
        let mut programs: Vec<Box<dyn Program>> = Vec::new();
        for p in &object.programs {
            let prog = UserProgram::new(p, &shared).map_err(|source| InstanceError::UserLoad {
                probe: p.probe.full_name(),
                source,
            })?;
            programs.push(Box::new(prog));
        }
        Ok(Loaded {
            maps: maps
                .into_iter()
                .map(|m| Box::new(m) as Box<dyn Map>)
                .collect(),
            programs,
        })
    }
}

/// A user-space map, nameable by programs while it lives.
struct Registered(Rc<UserMap>);

impl Registered {
    fn new(map: Rc<UserMap>) -> Self {
        user::helpers::register(&map);
        Registered(map)
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        user::helpers::unregister(&self.0);
    }
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

impl Map for Registered {
    fn lookup_size(&self) -> usize {
        self.0.value_size()
    }

    fn lookup_vec(&self, key: &[u8]) -> Result<Option<Vec<u8>>, SysError> {
        Ok(self.0.lookup(key))
    }

    /// One CPU: one slot.
    fn lookup_percpu(&self, key: &[u8]) -> Result<Option<Vec<Vec<u8>>>, SysError> {
        Ok(self.0.lookup(key).map(|v| vec![v]))
    }

    fn update(&self, key: &[u8], value: &[u8], flags: UpdateFlags) -> Result<(), SysError> {
        let f = match flags {
            UpdateFlags::Any => user::map::ANY,
            UpdateFlags::NoExist => user::map::NOEXIST,
            UpdateFlags::Exist => user::map::EXIST,
        };
        self.0
            .update(key, value, f)
            .map_err(|e| user_err("map update", e))
    }

    fn delete(&self, key: &[u8]) -> Result<bool, SysError> {
        match self.0.delete(key) {
            Ok(()) => Ok(true),
            Err(MapError::NoKey) => Ok(false),
            Err(e) => Err(user_err("map delete", e)),
        }
    }

    fn keys(&self) -> Result<Vec<Vec<u8>>, SysError> {
        Ok(self.0.keys())
    }

    fn records(&self) -> Result<Box<dyn Records>, String> {
        Ok(Box::new(Queue(Rc::clone(&self.0))))
    }
}

/// The emulated ring: records arrive only while the consumer runs a
/// program, so waiting is sleeping until the next timer.
struct Queue(Rc<UserMap>);

impl Records for Queue {
    fn poll(&mut self, wait: std::time::Duration, f: &mut dyn FnMut(&[u8])) -> Result<(), String> {
        std::thread::sleep(wait);
        self.drain(f);
        Ok(())
    }

    fn drain(&mut self, f: &mut dyn FnMut(&[u8])) {
        self.0.ring_drain().iter().for_each(|b| f(b));
    }
}

impl Program for UserProgram {
    fn attach(
        &self,
        attachment: &Attachment,
        _: &str,
        _: Option<&Tracefs>,
    ) -> Result<Attached, String> {
        match attachment {
            Attachment::Timer { period_ns, .. } => Ok(Attached::ConsumerTimer(
                std::time::Duration::from_nanos(*period_ns),
            )),
            _ => Err("the user-space backend runs only BEGIN, END, ERROR, \
                      tick and profile probes"
                .into()),
        }
    }

    /// Room for any context a program reads (raw tracepoint args or
    /// perf-event registers); zero past the arguments.
    fn fire(&self, args: [u64; 6]) -> Result<(), String> {
        let mut ctx = [0u8; 256];
        for (i, a) in args.iter().enumerate() {
            ctx[i * 8..i * 8 + 8].copy_from_slice(&a.to_ne_bytes());
        }
        self.run(&mut ctx).map(|_| ()).map_err(|e| e.to_string())
    }

    fn kernel_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }
}
