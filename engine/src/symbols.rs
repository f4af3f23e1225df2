//! Code addresses to names, for `stack()`, `ustack()`, `sym()`, `usym()`
//! and `%a`: kernel addresses through kallsyms, user addresses through the
//! ELF symbols of the process's mappings, both by `blazesym`. Printing
//! (`crate::print`) asks here; results are cached per address, because a
//! stack aggregation prints the same frames many times.

use blazesym::symbolize::source::{Kernel, Process, Source};
use blazesym::symbolize::{Input, Symbolized, Symbolizer};
use blazesym::{MaybeDefault, Pid};
use std::cell::RefCell;
use std::collections::HashMap;
use std::num::NonZeroU32;

/// Where a code address is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Kernel module (`vmlinux` for the core kernel) or the basename of
    /// the user object.
    pub module: String,
    /// The function and the offset into it, if a symbol covers the address.
    pub symbol: Option<(String, u64)>,
}

/// A loaded kernel module: name, start, size (from /proc/modules).
type ModuleRange = (String, u64, u64);

struct Cache {
    symbolizer: Symbolizer,
    modules: Option<Vec<ModuleRange>>,
    kernel: HashMap<u64, Option<Location>>,
    user: HashMap<(u32, u64), Option<Location>>,
}

thread_local! {
    static CACHE: RefCell<Option<Cache>> = const { RefCell::new(None) };
}

fn with_cache<T>(f: impl FnOnce(&mut Cache) -> T) -> T {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let cache = c.get_or_insert_with(|| Cache {
            symbolizer: Symbolizer::new(),
            modules: None,
            kernel: HashMap::new(),
            user: HashMap::new(),
        });
        f(cache)
    })
}

fn read_modules() -> Vec<ModuleRange> {
    let text = std::fs::read_to_string("/proc/modules").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let name = it.next()?.to_string();
            let size = it.next()?.parse().ok()?;
            let addr = u64::from_str_radix(it.nth(3)?.trim_start_matches("0x"), 16).ok()?;
            Some((name, addr, size))
        })
        .collect()
}

fn first_symbol(r: Vec<Symbolized<'_>>) -> Option<(String, u64, Option<String>)> {
    match r.into_iter().next()? {
        Symbolized::Sym(s) => Some((
            s.name.to_string(),
            s.offset as u64,
            s.module.map(|m| m.to_string_lossy().into_owned()),
        )),
        Symbolized::Unknown(_) => None,
    }
}

/// Where kernel address `addr` is; `None` if it is in no module or symbol.
pub fn kernel(addr: u64) -> Option<Location> {
    with_cache(|c| {
        if let Some(hit) = c.kernel.get(&addr) {
            return hit.clone();
        }
        let modules = c.modules.get_or_insert_with(read_modules);
        let module = modules
            .iter()
            .find(|(_, start, size)| (*start..start + size).contains(&addr))
            .map(|(n, _, _)| n.clone());
        // kallsyms only: searching the disk for a vmlinux image is slow.
        let src = Kernel {
            vmlinux: MaybeDefault::None,
            ..Kernel::default()
        };
        let sym = c
            .symbolizer
            .symbolize(&Source::Kernel(src), Input::AbsAddr(&[addr]))
            .ok()
            .and_then(first_symbol);
        let loc = match (sym, module) {
            (Some((name, off, _)), m) => Some(Location {
                module: m.unwrap_or_else(|| "vmlinux".into()),
                symbol: Some((name, off)),
            }),
            (None, Some(m)) => Some(Location {
                module: m,
                symbol: None,
            }),
            (None, None) => None,
        };
        c.kernel.insert(addr, loc.clone());
        loc
    })
}

/// Where user address `addr` of process `pid` is; `None` if the process
/// is gone or the address is in no mapped object.
pub fn user(pid: u32, addr: u64) -> Option<Location> {
    let nz = NonZeroU32::new(pid)?;
    with_cache(|c| {
        if let Some(hit) = c.user.get(&(pid, addr)) {
            return hit.clone();
        }
        let src = Source::Process(Process::new(Pid::Pid(nz)));
        let loc = c
            .symbolizer
            .symbolize(&src, Input::AbsAddr(&[addr]))
            .ok()
            .and_then(first_symbol)
            .map(|(name, off, module)| Location {
                module: module
                    .as_deref()
                    .and_then(|m| m.rsplit('/').next())
                    .unwrap_or("")
                    .to_string(),
                symbol: Some((name, off)),
            });
        c.user.insert((pid, addr), loc.clone());
        loc
    })
}

/// How a frame or address prints (D-REFERENCE §6): ``module`symbol+0xoff``
/// (no offset part at offset 0, or when `offset` is false), else
/// ``module`0xaddr``, else `0xaddr`.
pub fn text(loc: Option<&Location>, addr: u64, offset: bool) -> String {
    match loc {
        Some(Location {
            module,
            symbol: Some((name, off)),
        }) => {
            let m = if module.is_empty() {
                String::new()
            } else {
                format!("{module}`")
            };
            if offset && *off != 0 {
                format!("{m}{name}+0x{off:x}")
            } else {
                format!("{m}{name}")
            }
        }
        Some(Location {
            module,
            symbol: None,
        }) => format!("{module}`0x{addr:x}"),
        None => format!("0x{addr:x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[inline(never)]
    fn marker_function() -> u64 {
        marker_function as *const () as u64
    }

    #[test]
    fn own_functions_symbolize() {
        let addr = marker_function();
        let loc = user(std::process::id(), addr + 1).expect("own address");
        let (name, off) = loc.symbol.clone().expect("a symbol");
        assert!(name.contains("marker_function"), "{name}");
        assert_eq!(off, 1);
        assert!(text(Some(&loc), addr + 1, true).ends_with("+0x1"));
    }

    #[test]
    fn text_forms() {
        let loc = Location {
            module: "vmlinux".into(),
            symbol: Some(("do_sys_open".into(), 0x1f)),
        };
        assert_eq!(text(Some(&loc), 0, true), "vmlinux`do_sys_open+0x1f");
        assert_eq!(text(Some(&loc), 0, false), "vmlinux`do_sys_open");
        let bare = Location {
            module: "kvm".into(),
            symbol: None,
        };
        assert_eq!(text(Some(&bare), 0xab, true), "kvm`0xab");
        assert_eq!(text(None, 0xab, true), "0xab");
    }
}
