//! The decoded data model: one traced datum as the consumer hands it to the printers.

use std::cmp::Ordering;

/// One decoded datum: a trace() argument, a printf argument or an aggregation key.
///
/// Plain data. The derived `Ord` is only a total order for containers; DTrace's
/// key order is [`Value::key_cmp`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    /// An integer of `size` bytes (1, 2, 4 or 8).
    Int {
        /// The value's `size` low bytes, zero-extended: the upper bits are 0.
        bits: u64,
        /// Size in bytes of the D type (int literals are 4).
        size: u8,
        /// Whether the D type is signed.
        signed: bool,
    },
    /// A string, NUL-trimmed (the bytes before the first NUL).
    Str(Vec<u8>),
    /// Raw memory (tracemem(), structs, char arrays that may not be strings).
    Bytes(Vec<u8>),
    /// A kernel stack: program counters, innermost first.
    Stack(Vec<u64>),
    /// A user stack of process `pid`.
    UStack {
        /// The process whose stack it is.
        pid: u32,
        /// Program counters, innermost first.
        pcs: Vec<u64>,
    },
    /// A code address from sym(), func(), mod(), usym(), ufunc(), umod()
    /// or uaddr(), printed as a symbol.
    Addr {
        /// The address.
        addr: u64,
        /// The process, for user addresses; `None` for kernel ones.
        pid: Option<u32>,
        /// How it prints.
        kind: d_lang::codegen::AddrKind,
    },
}

impl Value {
    /// An integer of `size` bytes (1, 2, 4 or 8; anything else is taken as 8),
    /// truncated to that size.
    pub fn int(v: i64, size: u8, signed: bool) -> Value {
        let size = match size {
            1 | 2 | 4 => size,
            _ => 8,
        };
        Value::Int {
            bits: (v as u64) & mask(size),
            size,
            signed,
        }
    }

    /// A string from text.
    pub fn str(s: &str) -> Value {
        Value::Str(s.as_bytes().to_vec())
    }

    /// The value as a signed 64-bit integer: sign-extended if the type is
    /// signed, zero-extended if not. Addresses as their bits; `None` for
    /// strings, bytes and stacks.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int { bits, size, signed } => Some(if signed {
                sign_extend(bits, size)
            } else {
                bits as i64
            }),
            Value::Addr { addr, .. } => Some(addr as i64),
            _ => None,
        }
    }

    /// The value as an unsigned 64-bit integer: the two's complement bits of
    /// [`Value::as_i64`] (so a signed `int` -1 gives `u64::MAX`).
    pub fn as_u64(&self) -> Option<u64> {
        self.as_i64().map(|v| v as u64)
    }

    /// DTrace's comparison of two aggregation keys at the same position
    /// (dt_aggregate.c `dt_aggregate_keycmp`): integers unsigned at their
    /// size, strings and bytes bytewise (a prefix sorts first), stacks frame
    /// by frame.
    pub fn key_cmp(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Int { bits: a, .. }, Value::Int { bits: b, .. }) => a.cmp(b),
            (Value::Str(a) | Value::Bytes(a), Value::Str(b) | Value::Bytes(b)) => a.cmp(b),
            (Value::Stack(a), Value::Stack(b)) => a.cmp(b),
            (Value::UStack { pcs: a, .. }, Value::UStack { pcs: b, .. }) => a.cmp(b),
            (Value::Addr { addr: a, .. }, Value::Addr { addr: b, .. }) => a.cmp(b),
            _ => self.cmp(other),
        }
    }
}

/// The mask of a `size`-byte integer.
pub(crate) fn mask(size: u8) -> u64 {
    match size {
        1 => 0xff,
        2 => 0xffff,
        4 => 0xffff_ffff,
        _ => u64::MAX,
    }
}

/// Sign-extend the `size` low bytes of `bits`.
pub(crate) fn sign_extend(bits: u64, size: u8) -> i64 {
    match size {
        1 => bits as u8 as i8 as i64,
        2 => bits as u16 as i16 as i64,
        4 => bits as u32 as i32 as i64,
        _ => bits as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_truncates_to_size() {
        assert_eq!(
            Value::int(-1, 4, true),
            Value::Int {
                bits: 0xffff_ffff,
                size: 4,
                signed: true
            }
        );
        assert_eq!(
            Value::int(0x1_0001, 2, false),
            Value::Int {
                bits: 1,
                size: 2,
                signed: false
            }
        );
        assert_eq!(Value::int(5, 3, true), Value::int(5, 8, true));
    }

    #[test]
    fn as_i64_extends_by_sign() {
        assert_eq!(Value::int(-1, 4, true).as_i64(), Some(-1));
        assert_eq!(Value::int(-1, 4, false).as_i64(), Some(0xffff_ffff));
        assert_eq!(Value::int(-2, 1, true).as_i64(), Some(-2));
        assert_eq!(Value::int(-2, 1, false).as_i64(), Some(254));
        assert_eq!(Value::int(i64::MIN, 8, true).as_i64(), Some(i64::MIN));
        assert_eq!(Value::int(-1, 2, true).as_u64(), Some(u64::MAX));
        let a = Value::Addr {
            addr: 0x10,
            pid: None,
            kind: d_lang::codegen::AddrKind::Function,
        };
        assert_eq!(a.as_u64(), Some(0x10));
        assert_eq!(Value::str("x").as_i64(), None);
    }

    #[test]
    fn key_cmp_is_unsigned_and_bytewise() {
        let m1 = Value::int(-1, 8, true);
        let one = Value::int(1, 8, true);
        assert_eq!(one.key_cmp(&m1), Ordering::Less);
        assert_eq!(Value::str("ab").key_cmp(&Value::str("abc")), Ordering::Less);
        assert_eq!(
            Value::str("b").key_cmp(&Value::str("abc")),
            Ordering::Greater
        );
        assert_eq!(Value::str("B").key_cmp(&Value::str("a")), Ordering::Less);
    }
}
