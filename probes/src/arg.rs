//! `SdtArg`: how one Rust value becomes one SDT probe argument.

use core::ffi::{c_char, c_void};

/// A type a probe argument may have.
///
/// SDT passes every argument in a 64-bit register; the note records only its
/// size and signedness (`-4@%rsi` is a signed 32-bit value in `%rsi`), and
/// the catalogue records its D type so `d-lang` can type `args[]`.
///
/// Strings are `*const c_char` pointers to NUL-terminated bytes (D type
/// `char *`): the tracer reads them from the process's memory while the probe
/// fires, so the bytes must outlive the probe call, not the closure that made
/// the pointer. A dangling pointer is no Rust UB (the pointer is never
/// dereferenced here), but the tracer will see a fault or garbage.
pub trait SdtArg: Copy {
    /// The SDT size prefix: byte count, negative when signed.
    const SDT_SIZE: i8;
    /// The D type `args[]` has for this argument.
    const D_TYPE: &'static str;
    /// A value of this type, used to plant every probe site in test binaries.
    const ZERO: Self;
    /// The value as the register holds it (sign- or zero-extended), which
    /// the consumer truncates back to `SDT_SIZE` bytes.
    fn to_register(self) -> u64;
}

macro_rules! integer_args {
    ($($t:ty => $size:literal, $d:literal;)*) => {$(
        impl SdtArg for $t {
            const SDT_SIZE: i8 = $size;
            const D_TYPE: &'static str = $d;
            const ZERO: Self = 0;
            #[inline(always)]
            fn to_register(self) -> u64 {
                // `as i64` first sign-extends the signed types, so the
                // whole register holds the value whichever width is read.
                self as i64 as u64
            }
        }
    )*};
}

integer_args! {
    u8 => 1, "uint8_t";
    u16 => 2, "uint16_t";
    u32 => 4, "uint32_t";
    u64 => 8, "uint64_t";
    usize => 8, "size_t";
    i8 => -1, "int8_t";
    i16 => -2, "int16_t";
    i32 => -4, "int32_t";
    i64 => -8, "int64_t";
    isize => -8, "ssize_t";
}

impl SdtArg for *const c_char {
    const SDT_SIZE: i8 = core::mem::size_of::<usize>() as i8;
    const D_TYPE: &'static str = "char *";
    const ZERO: Self = core::ptr::null();
    #[inline(always)]
    fn to_register(self) -> u64 {
        self as usize as u64
    }
}

impl SdtArg for *const c_void {
    const SDT_SIZE: i8 = core::mem::size_of::<usize>() as i8;
    const D_TYPE: &'static str = "void *";
    const ZERO: Self = core::ptr::null();
    #[inline(always)]
    fn to_register(self) -> u64 {
        self as usize as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_values_fill_the_register() {
        assert_eq!((-1i32).to_register(), u64::MAX);
        assert_eq!(u32::MAX.to_register(), 0xffff_ffff);
    }
}
