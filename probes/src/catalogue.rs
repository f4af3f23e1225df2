//! The catalogue: providers, probes and typed arguments, as `provider!`
//! declared them, for `d-lang` (typing `args[]`) and `engine` (listing).

/// A provider: its name and its probes, in declaration order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderDesc {
    /// The provider name, the same in the SDT note and in D (`vmm`).
    /// A USDT provider in D also carries the process id (`vmm1234`).
    pub name: &'static str,
    /// The provider's probes.
    pub probes: &'static [ProbeDesc],
}

impl ProviderDesc {
    /// The probe whose D name (`exit-entry`) is `d_name`.
    pub fn probe(&self, d_name: &str) -> Option<&'static ProbeDesc> {
        self.probes.iter().find(|p| p.name == d_name)
    }
}

/// A probe of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeDesc {
    /// The D name: the Rust name with each `__` turned into `-`
    /// (`exit-entry`), as DTrace names USDT probes.
    pub name: &'static str,
    /// The name in the SDT note and in the Rust API (`exit__entry`); this is
    /// what `readelf -n`, `bpftrace` and `perf` show.
    pub sdt_name: &'static str,
    /// The arguments, `args[0]` first.
    pub args: &'static [ArgDesc],
}

/// One argument of a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgDesc {
    /// The name given in the declaration (`vcpu`).
    pub name: &'static str,
    /// The D type of `args[i]` (`uint32_t`, `char *`).
    pub d_type: &'static str,
    /// The SDT size prefix the note carries (`-4` for a signed 32-bit
    /// value): a consumer can check a note against the declaration with it.
    pub sdt_size: i8,
}

/// The D name of an SDT probe name: each `__` becomes `-`, left to right,
/// as DTrace does for USDT probes (`exit__entry` → `exit-entry`).
pub fn d_name(sdt_name: &str) -> String {
    sdt_name.replace("__", "-")
}

/// Compile-time version of [`d_name`], so the catalogue holds `&'static str`
/// computed from the one Rust identifier. Used by `provider!` only.
#[doc(hidden)]
pub mod const_name {
    /// The length of `d_name(s)`.
    pub const fn len(s: &str) -> usize {
        let b = s.as_bytes();
        let (mut i, mut n) = (0, 0);
        while i < b.len() {
            i += if is_pair(b, i) { 2 } else { 1 };
            n += 1;
        }
        n
    }

    /// The bytes of `d_name(s)`; `N` must be `len(s)`.
    pub const fn bytes<const N: usize>(s: &str) -> [u8; N] {
        let b = s.as_bytes();
        let mut out = [0u8; N];
        let (mut i, mut n) = (0, 0);
        while i < b.len() {
            if is_pair(b, i) {
                out[n] = b'-';
                i += 2;
            } else {
                out[n] = b[i];
                i += 1;
            }
            n += 1;
        }
        out
    }

    /// `bytes` as a `str` (they came from an identifier, so they are ASCII).
    pub const fn as_str(b: &'static [u8]) -> &'static str {
        match core::str::from_utf8(b) {
            Ok(s) => s,
            Err(_) => panic!("a probe name made from a Rust identifier is UTF-8"),
        }
    }

    const fn is_pair(b: &[u8], i: usize) -> bool {
        b[i] == b'_' && i + 1 < b.len() && b[i + 1] == b'_'
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_underscore_becomes_dash() {
        for s in [
            "exit__entry",
            "start",
            "a___b",
            "a____b",
            "blk__start__x",
            "_x",
        ] {
            const_check(s);
        }
        assert_eq!(d_name("exit__entry"), "exit-entry");
        assert_eq!(d_name("a___b"), "a-_b");
    }

    fn const_check(s: &str) {
        // The runtime twin of what `provider!` does at compile time.
        let n = const_name::len(s);
        let mut buf = vec![0u8; n];
        let full: [u8; 32] = const_name_bytes_padded(s);
        buf.copy_from_slice(&full[..n]);
        assert_eq!(String::from_utf8(buf).unwrap(), d_name(s), "{s}");
    }

    fn const_name_bytes_padded(s: &str) -> [u8; 32] {
        // `bytes` with a larger N leaves the tail zero; the prefix is the name.
        const_name::bytes::<32>(s)
    }
}
