//! `provider!`: one declaration per provider gives the probe functions, the
//! SDT notes at each call site, the semaphores and the catalogue entry.

/// Declare a provider and its probes, like a DTrace provider `.d` file.
///
/// ```
/// probes::provider! {
///     /// A demo provider.
///     demo {
///         /// A request started: its id and a NUL-terminated name.
///         fn request__start(id: u64, name: *const core::ffi::c_char);
///         /// Nothing to say but that it happened.
///         fn tick();
///     }
/// }
///
/// let name = c"GET /";
/// // The closure runs only while a tracer has raised the semaphore.
/// request__start(|| (42, name.as_ptr()));
/// tick();
/// assert_eq!(PROVIDER.probes[0].name, "request-start");
/// assert_eq!(PROVIDER.probes[0].args[1].d_type, "char *");
/// ```
///
/// The macro expands *in place* (the enclosing module is the provider's
/// module); for each `fn probe(args...)` it defines:
///
/// - `fn probe(f: impl FnOnce() -> T)`, where `T` is the argument type for
///   one argument and the tuple of them for several. Zero-argument probes
///   take no closure: `tick()`. Each call site is one SDT probe site: a
///   `nop` and a `.note.stapsdt` entry. While the semaphore is zero the call
///   costs a load and a branch and `f` is not called.
/// - `mod probe` with `SEMAPHORE` (see [`Semaphore`](crate::Semaphore)),
///   `enabled()` and `DESC` (its [`ProbeDesc`](crate::ProbeDesc)).
///
/// and `PROVIDER`, the [`ProviderDesc`](crate::ProviderDesc).
///
/// Names: SDT names are C identifiers, so a D name `exit-entry` is written
/// `exit__entry`; the note says `exit__entry` (what `bpftrace` and `perf`
/// show) and the catalogue's D name is `exit-entry`, as DTrace maps `__`
/// to `-` for USDT. Argument types must implement [`SdtArg`](crate::SdtArg).
///
/// A probe that no code fires has no site and so no note: a tracer lists
/// only probes the binary can fire, as in DTrace.
#[macro_export]
macro_rules! provider {
    (
        $(#[doc = $pdoc:literal])*
        $provider:ident {
            $(
                $(#[doc = $doc:literal])*
                fn $probe:ident ( $($arg:ident : $ty:ty),* $(,)? );
            )*
        }
    ) => {
        $(#[doc = $pdoc])*
        pub const PROVIDER: $crate::ProviderDesc = $crate::ProviderDesc {
            name: stringify!($provider),
            probes: &[$($probe::DESC),*],
        };

        /// Plant one site of every probe of this provider, all disabled
        /// unless a semaphore is raised: test binaries call this so that
        /// every declared probe has a note to check. `#[inline]` keeps it
        /// out of binaries that do not call it.
        #[doc(hidden)]
        #[allow(dead_code)]
        #[inline]
        pub fn __fire_every_probe() {
            $( $crate::__fire_zero!($probe, [$($ty),*]); )*
        }

        $(
            $crate::__probe! {
                $provider, [$($doc)*], $probe, [$($arg : $ty),*]
            }
        )*
    };
}

/// One probe of `provider!`: its module and its firing function.
#[doc(hidden)]
#[macro_export]
macro_rules! __probe {
    ($provider:ident, [$($doc:literal)*], $probe:ident, [$($arg:ident : $ty:ty),*]) => {
        $(#[doc = $doc])*
        ///
        /// This module holds the probe's semaphore and catalogue entry.
        #[allow(non_snake_case)]
        pub mod $probe {
            #[allow(unused_imports)]
            use super::*;

            /// Raised while a tracer traces this probe.
            #[cfg_attr(target_os = "linux", link_section = ".probes")]
            pub static SEMAPHORE: $crate::Semaphore = $crate::Semaphore::new();

            /// Whether a tracer traces this probe now.
            #[allow(dead_code)]
            #[inline(always)]
            pub fn enabled() -> bool {
                SEMAPHORE.is_raised()
            }

            const SDT_NAME: &str = stringify!($probe);
            const D_LEN: usize = $crate::const_name::len(SDT_NAME);
            const D_BYTES: [u8; D_LEN] = $crate::const_name::bytes::<D_LEN>(SDT_NAME);

            /// This probe in the catalogue.
            pub const DESC: $crate::ProbeDesc = $crate::ProbeDesc {
                name: $crate::const_name::as_str(&D_BYTES),
                sdt_name: SDT_NAME,
                args: &[$($crate::ArgDesc {
                    name: stringify!($arg),
                    d_type: <$ty as $crate::SdtArg>::D_TYPE,
                    sdt_size: <$ty as $crate::SdtArg>::SDT_SIZE,
                }),*],
            };
        }

        $crate::__probe_fn! { $provider, [$($doc)*], $probe, [$($arg : $ty),*] }
    };
}

/// The firing function: no closure for zero arguments.
#[doc(hidden)]
#[macro_export]
macro_rules! __probe_fn {
    ($provider:ident, [$($doc:literal)*], $probe:ident, []) => {
        $(#[doc = $doc])*
        #[allow(non_snake_case, dead_code)]
        #[inline(always)]
        pub fn $probe() {
            if $probe::SEMAPHORE.is_raised() {
                $crate::__sdt!($provider, $probe, $probe::SEMAPHORE, []);
            }
        }
    };
    ($provider:ident, [$($doc:literal)*], $probe:ident, [$($arg:ident : $ty:ty),+]) => {
        $(#[doc = $doc])*
        ///
        /// `args` is called, and the probe fires, only while the probe is
        /// traced.
        #[allow(non_snake_case, dead_code)]
        #[inline(always)]
        pub fn $probe<F>(args: F)
        where
            F: FnOnce() -> $crate::__tuple!(ty: $($ty),+),
        {
            if $probe::SEMAPHORE.is_raised() {
                let $crate::__tuple!(pat: $($arg),+) = args();
                $crate::__sdt!($provider, $probe, $probe::SEMAPHORE, [$($arg : $ty),+]);
            }
        }
    };
}

/// A lone item stays itself, several make a tuple: so a one-argument probe
/// takes `|| x`, not `|| (x,)`.
#[doc(hidden)]
#[macro_export]
macro_rules! __tuple {
    (ty: $t:ty) => { $t };
    (ty: $($t:ty),+) => { ($($t),+) };
    (pat: $a:ident) => { $a };
    (pat: $($a:ident),+) => { ($($a),+) };
    (expr: $e:expr) => { $e };
    (expr: $($e:expr),+) => { ($($e),+) };
}

/// One call of a probe with zero-valued arguments, for `__fire_every_probe`.
#[doc(hidden)]
#[macro_export]
macro_rules! __fire_zero {
    ($probe:ident, []) => { $probe() };
    ($probe:ident, [$($ty:ty),+]) => {
        $probe(|| $crate::__tuple!(expr: $(<$ty as $crate::SdtArg>::ZERO),+))
    };
}

/// The probe site: SystemTap's `sys/sdt.h` (`_SDT_ASM_BODY`, note version
/// 3) rewritten for `asm!`, after the `probe` crate (cuviper/probe-rs),
/// with typed argument sizes and a semaphore reachable by path.
///
/// The `nop` is the site a uprobe replaces with `int3`. The note, in the
/// non-allocated `.note.stapsdt`, holds the site's address, the address of
/// `_.stapsdt.base` (so a consumer can tell how far the file was
/// relocated: the note's own addresses are link-time ones), the semaphore's
/// address, then provider, name and arguments as NUL-terminated strings.
/// Each argument is `SIZE@REGISTER`: `asm!` picks a 64-bit register, and the
/// size (negative if signed) tells the consumer how much of it to read.
#[doc(hidden)]
#[macro_export]
macro_rules! __sdt {
    ($provider:ident, $name:ident, $sema:path, [$($a1:ident : $t1:ty $(, $a:ident : $t:ty)*)?]) => {
        $crate::__sdt!(@asm $provider, $name, $sema,
            [$("{}@{}", $a1 : $t1, $(" {}@{}", $a : $t,)*)?]);
    };
    (@asm $provider:ident, $name:ident, $sema:path, [$($argstr:literal, $arg:ident : $ty:ty,)*]) => {
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        // SAFETY: the asm only plants a `nop` and emits a note into a
        // non-allocated section; it reads the registers it is given, writes
        // none, touches no memory and no stack, and keeps the flags.
        unsafe {
            ::core::arch::asm!(
                concat!(
                    "990: nop\n",
                    ".pushsection .note.stapsdt,\"?\",\"note\"\n",
                    ".balign 4\n",
                    ".4byte 992f-991f, 994f-993f, 3\n",
                    "991: .asciz \"stapsdt\"\n",
                    "992: .balign 4\n",
                    "993: .8byte 990b\n",
                    ".8byte _.stapsdt.base\n",
                    ".8byte {sema}\n",
                    ".asciz \"", stringify!($provider), "\"\n",
                    ".asciz \"", stringify!($name), "\"\n",
                    ".asciz \"", $($argstr,)* "\"\n",
                    "994: .balign 4\n",
                    ".popsection\n",
                    // One `_.stapsdt.base` per link: a weak hidden symbol in
                    // a COMDAT group, retained by `--gc-sections` ("R").
                    ".ifndef _.stapsdt.base\n",
                    ".pushsection .stapsdt.base,\"aGR\",\"progbits\",.stapsdt.base,comdat\n",
                    ".weak _.stapsdt.base\n",
                    ".hidden _.stapsdt.base\n",
                    "_.stapsdt.base: .space 1\n",
                    ".size _.stapsdt.base, 1\n",
                    ".popsection\n",
                    ".endif\n",
                ),
                $(
                    const <$ty as $crate::SdtArg>::SDT_SIZE,
                    in(reg) <$ty as $crate::SdtArg>::to_register($arg),
                )*
                sema = sym $sema,
                options(att_syntax, readonly, nostack, preserves_flags),
            );
        }
        #[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
        {
            // No SDT here: the probe is a no-op that still type-checks.
            $(let _ = <$ty as $crate::SdtArg>::to_register($arg);)*
            let _ = &$sema;
        }
    };
}
