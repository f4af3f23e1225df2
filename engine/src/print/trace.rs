//! trace() and tracemem(): how one traced datum prints (D-REFERENCE §4, OL widths).

use super::pad::{pad, push_lossy};
use super::stack::{format_any, STACK_INDENT};
use crate::model::value::{sign_extend, Value};
use std::fmt::Write;

/// The options that change how trace() prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TraceStyle {
    /// `-q`: no widths, no leading blanks.
    pub quiet: bool,
    /// Option `rawbytes`: non-integer data always as a hex dump.
    pub rawbytes: bool,
}

/// The column strings take in trace() output (`  %-33s`).
pub const TRACE_STRING_WIDTH: usize = 33;

/// Append trace()'s output for one datum.
///
/// Integers (Oracle DTrace for Linux, `dt_print_trace`): 8-byte signed
/// ` %19d`, unsigned ` %20u`; 4-byte ` %10`; 2-byte ` %5`; 1-byte ` %3`,
/// each signed or unsigned by type; `-q` prints them with no width and no
/// blank. Strings: two blanks then left-justified in 33 (`-q`: as is).
/// Raw bytes: a string if printable then only NULs, else a hex dump
/// ([`bytes`]). Stacks: frames as stack() prints them. Addresses: as sym().
pub fn trace(value: &Value, style: TraceStyle, out: &mut String) {
    match value {
        &Value::Int { bits, size, signed } => {
            let width = match (size, signed) {
                (8, true) => 19,
                (8, false) => 20,
                (4, _) => 10,
                (2, _) => 5,
                _ => 3,
            };
            let text = if signed {
                sign_extend(bits, size).to_string()
            } else {
                bits.to_string()
            };
            if style.quiet {
                out.push_str(&text);
            } else {
                let _ = write!(out, " {text:>width$}");
            }
        }
        Value::Str(s) => {
            // unverified: OL prints any string record as a string (even
            // empty); IL's byte heuristic would dump an empty one.
            if style.rawbytes {
                rawbytes(s, out);
            } else {
                string_column(s, TRACE_STRING_WIDTH, style.quiet, out);
            }
        }
        Value::Bytes(b) => {
            if style.rawbytes {
                rawbytes(b, out);
            } else {
                bytes(b, TRACE_STRING_WIDTH, style.quiet, out);
            }
        }
        Value::Stack(_) | Value::UStack { .. } => {
            format_any(value, STACK_INDENT, out);
        }
        &Value::Addr { addr, pid, kind } => sym(addr, pid, kind, out),
    }
}

/// Append an address as sym()/func()/usym()… print it: `  %-50s` of its
/// symbolic text, quiet or not.
pub fn sym(addr: u64, pid: Option<u32>, kind: d_lang::codegen::AddrKind, out: &mut String) {
    let _ = write!(out, "  {:<50}", super::stack::addr_text(addr, pid, kind));
}

/// Append `s` as a string column: two blanks and left-justified in `width`,
/// or as is when `quiet`.
pub fn string_column(s: &[u8], width: usize, quiet: bool, out: &mut String) {
    let mut b = Vec::with_capacity(width + 2);
    if !quiet {
        b.extend_from_slice(b"  ");
    }
    pad(&mut b, s, if quiet { 0 } else { width }, true);
    push_lossy(out, &b);
}

/// Whether a byte passes DTrace's "printable" test: `isprint`, `isspace`,
/// backspace or bell.
fn printable(c: u8) -> bool {
    (b' '..=b'~').contains(&c) || matches!(c, b'\t' | b'\n' | 11 | 12 | b'\r' | 8 | 7)
}

/// Append raw bytes as DTrace's `dt_print_bytes` does: printable bytes
/// then only NULs (at least one printable first) or printable to the end
/// print as a string column of `width`; anything else as a hex dump
/// ([`rawbytes`]). Nothing for no bytes.
pub fn bytes(data: &[u8], width: usize, quiet: bool, out: &mut String) {
    if data.is_empty() {
        return;
    }
    match data.iter().position(|&c| !printable(c)) {
        None => string_column(data, width, quiet, out),
        Some(i) if i > 0 && data[i..].iter().all(|&c| c == 0) => {
            string_column(&data[..i], width, quiet, out)
        }
        Some(_) => rawbytes(data, out),
    }
}

/// Append a hex dump (tracemem(), option `rawbytes`): `\n`, a header of
/// column digits, then per 16 bytes the offset, the bytes in hex and as
/// ASCII (`.` if not printable).
pub fn rawbytes(data: &[u8], out: &mut String) {
    out.push('\n');
    out.push_str(&" ".repeat(11));
    for d in "0123456789abcdef".chars() {
        let _ = write!(out, "  {d}");
    }
    out.push_str("  0123456789abcdef\n");
    for (row, chunk) in data.chunks(16).enumerate() {
        let _ = write!(out, "     {:5x}:", row * 16);
        for b in chunk {
            let _ = write!(out, " {b:02x}");
        }
        out.push_str(&"   ".repeat(16 - chunk.len()));
        out.push_str("  ");
        for &b in chunk {
            out.push(if (b' '..=b'~').contains(&b) {
                b as char
            } else {
                '.'
            });
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOUD: TraceStyle = TraceStyle {
        quiet: false,
        rawbytes: false,
    };
    const QUIET: TraceStyle = TraceStyle {
        quiet: true,
        rawbytes: false,
    };

    fn t(v: Value, style: TraceStyle) -> String {
        let mut s = String::new();
        trace(&v, style, &mut s);
        s
    }

    #[test]
    fn integers_by_size_and_sign() {
        assert_eq!(t(Value::int(-1, 8, true), LOUD), "                  -1");
        assert_eq!(t(Value::int(-1, 8, true), LOUD).len(), 20);
        assert_eq!(t(Value::int(-1, 8, false), LOUD), " 18446744073709551615");
        assert_eq!(
            t(Value::int(i64::MIN, 8, true), LOUD),
            " -9223372036854775808"
        );
        assert_eq!(t(Value::int(42, 4, true), LOUD), "         42");
        assert_eq!(t(Value::int(-1, 4, false), LOUD), " 4294967295");
        assert_eq!(t(Value::int(-1, 4, true), LOUD), "         -1");
        assert_eq!(t(Value::int(-1, 2, true), LOUD), "    -1");
        assert_eq!(t(Value::int(-1, 2, false), LOUD), " 65535");
        assert_eq!(t(Value::int(-1, 1, true), LOUD), "  -1");
        assert_eq!(t(Value::int(-1, 1, false), LOUD), " 255");
        assert_eq!(t(Value::int(-128, 1, true), LOUD), " -128");
    }

    #[test]
    fn quiet_integers_have_no_width() {
        assert_eq!(t(Value::int(-1, 8, true), QUIET), "-1");
        assert_eq!(t(Value::int(-1, 4, false), QUIET), "4294967295");
        assert_eq!(t(Value::int(7, 1, false), QUIET), "7");
    }

    #[test]
    fn strings() {
        assert_eq!(
            t(Value::str("hello"), LOUD),
            "  hello                            "
        );
        assert_eq!(t(Value::str("hello"), LOUD).len(), 35);
        assert_eq!(t(Value::str("hello"), QUIET), "hello");
        let long = "x".repeat(40);
        assert_eq!(t(Value::str(&long), LOUD), format!("  {long}"));
        assert_eq!(t(Value::str(""), LOUD), " ".repeat(35));
    }

    #[test]
    fn bytes_that_look_like_strings() {
        assert_eq!(
            t(Value::Bytes(b"abc\0\0\0".to_vec()), LOUD),
            format!("  abc{}", " ".repeat(30))
        );
        assert_eq!(t(Value::Bytes(b"abc\0\0".to_vec()), QUIET), "abc");
        assert_eq!(t(Value::Bytes(b"a\tb".to_vec()), QUIET), "a\tb");
        assert_eq!(t(Value::Bytes(vec![]), LOUD), "");
    }

    const HEADER: &str =
        "\n             0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f  0123456789abcdef\n";

    #[test]
    fn bytes_that_are_not_strings_dump() {
        // A NUL first, a NUL then more data, an unprintable byte.
        for data in [&b"\0abc"[..], b"ab\0c", b"a\x01"] {
            let s = t(Value::Bytes(data.to_vec()), LOUD);
            assert!(s.starts_with(HEADER), "{s:?}");
        }
        assert_eq!(
            t(Value::Bytes(b"ab\0c".to_vec()), QUIET),
            format!("{HEADER}         0: 61 62 00 63                                      ab.c\n")
        );
    }

    #[test]
    fn dump_layout() {
        let data: Vec<u8> = (0x3eu8..0x3e + 20).chain([0x7f, 0x80, b' ']).collect();
        let mut s = String::new();
        rawbytes(&data, &mut s);
        assert_eq!(
            s,
            format!(
                "{HEADER}         0: 3e 3f 40 41 42 43 44 45 46 47 48 49 4a 4b 4c 4d  >?@ABCDEFGHIJKLM\n        10: 4e 4f 50 51 7f 80 20                             NOPQ.. \n"
            )
        );
        let mut s = String::new();
        rawbytes(&[0u8; 16], &mut s);
        assert_eq!(
            s,
            format!("{HEADER}         0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................\n")
        );
    }

    #[test]
    fn rawbytes_option_dumps_strings() {
        let style = TraceStyle {
            quiet: false,
            rawbytes: true,
        };
        assert_eq!(
            t(Value::str("hi"), style),
            format!("{HEADER}         0: 68 69                                            hi\n")
        );
    }

    #[test]
    fn stacks_and_symbols() {
        assert_eq!(
            t(Value::Stack(vec![0x1234, 0]), LOUD),
            "\n              0x1234\n"
        );
        let a = Value::Addr {
            addr: 0x10,
            pid: None,
            kind: d_lang::codegen::AddrKind::Function,
        };
        assert_eq!(t(a, QUIET), format!("  0x10{}", " ".repeat(46)));
    }
}
