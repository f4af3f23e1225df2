//! printf(): render a format parsed by `d_lang::printf` with decoded values, as dt_printf.c does.
//!
//! The compiler parsed and type-checked the format once; here each
//! conversion takes its arguments in order (`*` width and precision first)
//! and prints them with C's rules for flags, width and precision, plus
//! DTrace's own conversions (`%S`, `%C`, `%Y`, `%T`, `%a`, `%k`).
//!
//! DTrace-specific rules kept here (dt_printf.c):
//! - `%d`/`%i` of an unsigned value prints unsigned (`pfcheck_dint`).
//! - No size prefix: the value's own size; `h` truncates to 16 bits;
//!   `l`/`ll` widen to 64 bits by the value's signedness.
//! - `?` is width 16 (64-bit pointers).
//! - `%S` escapes like `strchr2esc()` and ends with `\0`, the string's
//!   terminating NUL (DTrace escapes the whole string buffer up to and
//!   including the first NUL).
//! - `%e %E %f %g %G` take integer values converted to double (D has no
//!   floating-point values Lumen can trace yet).

use super::pad::{pad, push_lossy};
use crate::model::value::{mask, sign_extend, Value};
use d_lang::printf::{Conversion, Count, Format, Piece, SizePrefix};

/// Why a format could not be rendered with the given arguments. The compiler
/// rules these out; they mean the record and the format disagree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrintfError {
    /// Fewer arguments than the format's conversions need.
    #[error("printf( ) prototype mismatch: conversion #{conversion} (%{text}) is missing a corresponding value argument")]
    MissingArgument {
        /// 1-based conversion number.
        conversion: usize,
        /// The conversion as written after `%`.
        text: String,
    },
    /// An argument of the wrong kind (say a string for `%d`).
    #[error("printf( ) argument for conversion #{conversion} (%{text}) has the wrong type")]
    ArgumentType {
        /// 1-based conversion number.
        conversion: usize,
        /// The conversion as written after `%`.
        text: String,
    },
    /// `%@` outside printa().
    #[error("%@ conversion #{conversion} is only valid in printa( )")]
    AggOutsidePrinta {
        /// 1-based conversion number.
        conversion: usize,
    },
}

/// Which clock `%Y` and `%T` print in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeZone {
    /// The process's local time zone (`localtime_r`, honours `TZ`), as DTrace.
    #[default]
    Local,
    /// UTC, whatever `TZ` says (deterministic; tests).
    Utc,
}

/// An aggregation's value as a printa() `%@` conversion sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AggArg {
    /// A scalar (count, sum, min, max, avg's mean, stddev), printed with the
    /// conversion's rules.
    Value(Value),
    /// Preformatted text (a quantize-family distribution), printed as is:
    /// DTrace ignores the conversion's flags and width for those.
    Text(String),
}

/// Render `fmt` with `args` into `out`, `%Y`/`%T` in local time.
pub fn render(fmt: &Format, args: &[Value], out: &mut String) -> Result<(), PrintfError> {
    render_in(fmt, args, TimeZone::Local, out)
}

/// Render `fmt` with `args` into `out`, `%Y`/`%T` in zone `tz`.
pub fn render_in(
    fmt: &Format,
    args: &[Value],
    tz: TimeZone,
    out: &mut String,
) -> Result<(), PrintfError> {
    let mut bytes = Vec::new();
    render_bytes(fmt, args, &[], false, tz, &mut bytes)?;
    push_lossy(out, &bytes);
    Ok(())
}

/// Render a printa() format for one entry: non-`%@` conversions take `keys`
/// in order (unused keys are fine); each `%@` conversion takes the next of
/// `values`, the last repeating once they run out (DTrace's
/// `dtrace_fprinta`). No `%@` prints no value.
pub fn render_printa(
    fmt: &Format,
    keys: &[Value],
    values: &[AggArg],
    tz: TimeZone,
    out: &mut String,
) -> Result<(), PrintfError> {
    let mut bytes = Vec::new();
    render_bytes(fmt, keys, values, true, tz, &mut bytes)?;
    push_lossy(out, &bytes);
    Ok(())
}

/// A conversion's resolved flags, width and precision.
#[derive(Debug, Clone, Default)]
struct Spec {
    minus: bool,
    plus: bool,
    space: bool,
    hash: bool,
    zero: bool,
    group: bool,
    width: usize,
    precision: Option<usize>,
    size: SizePrefix,
    conv: char,
}

/// The engine behind [`render_in`] and [`render_printa`].
fn render_bytes(
    fmt: &Format,
    args: &[Value],
    aggs: &[AggArg],
    printa: bool,
    tz: TimeZone,
    out: &mut Vec<u8>,
) -> Result<(), PrintfError> {
    let mut next = 0usize;
    let mut next_agg = 0usize;
    let mut n = 0usize;
    let mut skip_text = 0usize;
    for (idx, piece) in fmt.pieces.iter().enumerate() {
        let conv = match piece {
            Piece::Text(t) => {
                out.extend_from_slice(&t.as_bytes()[skip_text.min(t.len())..]);
                skip_text = 0;
                continue;
            }
            Piece::Conv(c) => c,
        };
        n += 1;
        skip_text = 0;
        let is_agg = conv.conv == '@' || conv.flags.contains('@');
        if !is_agg {
            let mut spec = spec_of(conv);
            take_stars(conv, &mut spec, args, &mut next, n)?;
            let Some(arg) = args.get(next) else {
                return Err(missing(n, conv));
            };
            next += 1;
            convert(&spec, arg, tz, out).map_err(|()| PrintfError::ArgumentType {
                conversion: n,
                text: conv.text.clone(),
            })?;
            continue;
        }
        if !printa {
            return Err(PrintfError::AggOutsidePrinta { conversion: n });
        }
        // `%@d`: d_lang's parser reads `@` as the conversion and leaves the
        // real one (`d`, `8u`…) at the head of the next text piece.
        let mut spec = spec_of(conv);
        if conv.conv == '@' {
            let following = match fmt.pieces.get(idx + 1) {
                Some(Piece::Text(t)) => t.as_str(),
                _ => "",
            };
            skip_text = agg_tail(following, &mut spec);
        }
        let Some(value) = aggs.get(next_agg).or(aggs.last()) else {
            return Err(missing(n, conv));
        };
        next_agg += 1;
        match value {
            AggArg::Text(t) => out.extend_from_slice(t.as_bytes()),
            AggArg::Value(v) => {
                convert(&spec, v, tz, out).map_err(|()| PrintfError::ArgumentType {
                    conversion: n,
                    text: conv.text.clone(),
                })?
            }
        }
    }
    Ok(())
}

fn missing(n: usize, conv: &Conversion) -> PrintfError {
    PrintfError::MissingArgument {
        conversion: n,
        text: conv.text.clone(),
    }
}

/// Parse the rest of a `%@…` conversion (`[flags][width][.prec][size]conv`)
/// from the head of `text` into `spec`; return the bytes used (0 if `text`
/// does not start with one, then the value prints as `%d` would).
fn agg_tail(text: &str, spec: &mut Spec) -> usize {
    let b = text.as_bytes();
    let mut i = 0;
    let mut s = spec.clone();
    while i < b.len() && b"-+ #0'?".contains(&b[i]) {
        set_flag(&mut s, b[i] as char);
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        text[start..*i].parse::<usize>().ok()
    };
    if let Some(w) = digits(&mut i) {
        s.width = w;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        s.precision = Some(digits(&mut i).unwrap_or(0));
    }
    while i < b.len() && b"hlLw".contains(&b[i]) {
        s.size = match b[i] {
            b'h' => SizePrefix::Short,
            _ => SizePrefix::LongLong,
        };
        i += 1;
    }
    match b.get(i) {
        Some(&c) if b"diouxXcsSpaAeEfgGYT".contains(&c) => {
            s.conv = c as char;
            *spec = s;
            i + 1
        }
        _ => {
            spec.conv = 'd';
            0
        }
    }
}

fn set_flag(s: &mut Spec, f: char) {
    match f {
        '-' => s.minus = true,
        '+' => s.plus = true,
        ' ' => s.space = true,
        '#' => s.hash = true,
        '0' => s.zero = true,
        '\'' => s.group = true,
        '?' if s.width == 0 => s.width = 16,
        _ => {}
    }
}

/// The static part of a conversion's spec (stars resolved later).
fn spec_of(c: &Conversion) -> Spec {
    let mut s = Spec {
        size: c.size,
        conv: c.conv,
        ..Spec::default()
    };
    if let Some(Count::Fixed(w)) = c.width {
        s.width = w as usize;
    }
    for f in c.flags.chars() {
        set_flag(&mut s, f);
    }
    if let Some(Count::Fixed(p)) = c.precision {
        s.precision = Some(p as usize);
    }
    s
}

/// Take `*` width and precision from the arguments, C's way: a negative
/// width means `-` and its magnitude; a negative precision means none.
fn take_stars(
    c: &Conversion,
    spec: &mut Spec,
    args: &[Value],
    next: &mut usize,
    n: usize,
) -> Result<(), PrintfError> {
    let mut star = || -> Result<i64, PrintfError> {
        let v = args
            .get(*next)
            .and_then(|v| v.as_i64())
            .ok_or_else(|| missing(n, c))?;
        *next += 1;
        // Stars are C ints.
        Ok(v as i32 as i64)
    };
    if c.width == Some(Count::Star) {
        let w = star()?;
        if w < 0 {
            spec.minus = true;
        }
        spec.width = w.unsigned_abs() as usize;
    }
    if c.precision == Some(Count::Star) {
        let p = star()?;
        spec.precision = (p >= 0).then_some(p as usize);
    }
    Ok(())
}

/// Print one argument; `Err(())` if its kind does not suit the conversion.
fn convert(spec: &Spec, arg: &Value, tz: TimeZone, out: &mut Vec<u8>) -> Result<(), ()> {
    match spec.conv {
        'd' | 'i' | 'u' | 'o' | 'x' | 'X' | 'p' => {
            let v = int_operand(spec, arg).ok_or(())?;
            format_int(spec, v, out);
        }
        'c' => {
            let b = (arg.as_u64().ok_or(())? & 0xff) as u8;
            text_field(spec, &[b], false, out);
        }
        'C' => {
            let b = (arg.as_u64().ok_or(())? & 0xff) as u8;
            text_field(spec, &escape(&[b]), false, out);
        }
        's' => {
            let s = string_of(arg);
            text_field(spec, &s, true, out);
        }
        'S' => {
            let mut s = escape(&string_of(arg));
            s.extend_from_slice(b"\\0");
            text_field(spec, &s, true, out);
        }
        'a' | 'A' => {
            let a = arg.as_u64().ok_or(())?;
            let pid = match *arg {
                Value::Addr { pid, .. } => pid,
                _ => None,
            };
            let text = if spec.conv == 'a' || pid.is_some() {
                super::stack::addr_text(a, pid, d_lang::codegen::AddrKind::Offset)
            } else {
                // %A of a bare integer: no process to look it up in.
                format!("0x{a:x}")
            };
            text_field(spec, text.as_bytes(), true, out);
        }
        'e' | 'E' | 'f' | 'g' | 'G' => {
            let x = match *arg {
                Value::Int { signed: false, .. } => arg.as_u64().ok_or(())? as f64,
                _ => arg.as_i64().ok_or(())? as f64,
            };
            format_float(spec, x, out);
        }
        'Y' | 'T' => {
            let ns = arg.as_u64().ok_or(())? as i64;
            let tm = broken_down(ns.div_euclid(1_000_000_000), tz);
            let s = if spec.conv == 'Y' {
                format_y(&tm)
            } else {
                format_rfc822(&tm)
            };
            text_field(spec, s.as_bytes(), true, out);
        }
        'k' => {
            let indent = if spec.minus { spec.width } else { 0 };
            let mut s = String::new();
            if !super::stack::format_any(arg, indent, &mut s) {
                return Err(());
            }
            out.extend_from_slice(s.as_bytes());
        }
        _ => return Err(()),
    }
    Ok(())
}

/// The bytes `%s` prints for an argument: a string as is, raw bytes up to
/// their first NUL, an integer in decimal (DTrace rejects that at compile
/// time), an address or stack in hex.
fn string_of(arg: &Value) -> Vec<u8> {
    match arg {
        Value::Str(s) => s.clone(),
        Value::Bytes(b) => b.iter().copied().take_while(|&c| c != 0).collect(),
        Value::Int { .. } => arg.as_i64().unwrap_or(0).to_string().into_bytes(),
        &Value::Addr { addr, pid, kind } => super::stack::addr_text(addr, pid, kind).into_bytes(),
        Value::Stack(pcs) | Value::UStack { pcs, .. } => pcs
            .iter()
            .map(|pc| format!("0x{pc:x}"))
            .collect::<Vec<_>>()
            .join(" ")
            .into_bytes(),
    }
}

/// An integer operand after size truncation: `(negative, magnitude)`.
fn int_operand(spec: &Spec, arg: &Value) -> Option<(bool, u64)> {
    let (bits, size, signed) = match *arg {
        Value::Int { bits, size, signed } => (bits, size, signed),
        Value::Addr { addr, .. } => (addr, 8, false),
        _ => return None,
    };
    // %d of an unsigned value prints unsigned (dt_printf.c pfcheck_dint).
    let signed_conv = matches!(spec.conv, 'd' | 'i') && signed;
    let (bits, size) = match spec.size {
        SizePrefix::Short => (bits & 0xffff, 2),
        SizePrefix::Long | SizePrefix::LongLong => {
            // unverified: DTrace passes the value at its own size to a
            // 64-bit conversion; we widen by the value's signedness.
            let wide = if signed {
                sign_extend(bits, size) as u64
            } else {
                bits
            };
            (wide, 8)
        }
        _ => (bits & mask(size), size),
    };
    if signed_conv {
        let v = sign_extend(bits, size);
        Some((v < 0, v.unsigned_abs()))
    } else {
        Some((false, bits))
    }
}

/// C's integer conversions (d i u o x X, and p as x) with all flags.
fn format_int(spec: &Spec, (neg, mag): (bool, u64), out: &mut Vec<u8>) {
    let signed_conv = matches!(spec.conv, 'd' | 'i');
    let mut digits = match spec.conv {
        'o' => format!("{mag:o}"),
        'x' | 'p' => format!("{mag:x}"),
        'X' => format!("{mag:X}"),
        _ => mag.to_string(),
    }
    .into_bytes();
    if spec.precision == Some(0) && mag == 0 {
        digits.clear();
    }
    if spec.group && matches!(spec.conv, 'd' | 'i' | 'u') {
        // unverified: grouping as in an en_US locale (`,` every 3 digits);
        // DTrace under the C locale prints no separators.
        digits = group_thousands(&digits);
    }
    if let Some(p) = spec.precision {
        if p > digits.len() {
            let mut z = vec![b'0'; p - digits.len()];
            z.extend_from_slice(&digits);
            digits = z;
        }
    }
    if spec.conv == 'o' && spec.hash && digits.first() != Some(&b'0') {
        digits.insert(0, b'0');
    }
    let mut prefix: Vec<u8> = Vec::new();
    if signed_conv {
        if neg {
            prefix.push(b'-');
        } else if spec.plus {
            prefix.push(b'+');
        } else if spec.space {
            prefix.push(b' ');
        }
    }
    if spec.hash && mag != 0 {
        match spec.conv {
            'x' | 'p' => prefix.extend_from_slice(b"0x"),
            'X' => prefix.extend_from_slice(b"0X"),
            _ => {}
        }
    }
    let len = prefix.len() + digits.len();
    if spec.zero && !spec.minus && spec.precision.is_none() && spec.width > len {
        out.extend_from_slice(&prefix);
        out.extend(std::iter::repeat_n(b'0', spec.width - len));
        out.extend_from_slice(&digits);
        return;
    }
    prefix.extend_from_slice(&digits);
    pad(out, &prefix, spec.width, spec.minus);
}

/// Insert `,` every three digits from the right.
fn group_thousands(digits: &[u8]) -> Vec<u8> {
    let mut g = Vec::with_capacity(digits.len() + digits.len() / 3);
    for (i, &d) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            g.push(b',');
        }
        g.push(d);
    }
    g
}

/// A `%s`-like field: precision truncates (when `precise`), width pads
/// with blanks (glibc ignores `0` for these).
fn text_field(spec: &Spec, s: &[u8], precise: bool, out: &mut Vec<u8>) {
    let s = match spec.precision {
        Some(p) if precise && p < s.len() => &s[..p],
        _ => s,
    };
    pad(out, s, spec.width, spec.minus);
}

/// Escape like DTrace's `strchr2esc()`: C escapes for `\0 \a \b \f \n \r
/// \t \v " \`, three-digit octal for other bytes outside `!`…`~` except
/// the blank.
pub fn escape(s: &[u8]) -> Vec<u8> {
    let mut e = Vec::with_capacity(s.len());
    for &c in s {
        let esc = match c {
            0 => Some(b'0'),
            7 => Some(b'a'),
            8 => Some(b'b'),
            12 => Some(b'f'),
            b'\n' => Some(b'n'),
            b'\r' => Some(b'r'),
            b'\t' => Some(b't'),
            11 => Some(b'v'),
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            _ => None,
        };
        if let Some(x) = esc {
            e.push(b'\\');
            e.push(x);
        } else if c == b' ' || (b'!'..=b'~').contains(&c) {
            e.push(c);
        } else {
            e.push(b'\\');
            e.push(b'0' + (c >> 6));
            e.push(b'0' + ((c >> 3) & 7));
            e.push(b'0' + (c & 7));
        }
        if c == 0 {
            break;
        }
    }
    e
}

/// C's `%e %E %f %g %G` through the C library's own `snprintf`, so rounding
/// and `%g`'s choices match byte for byte.
fn format_float(spec: &Spec, x: f64, out: &mut Vec<u8>) {
    let mut f = String::from("%");
    for (on, c) in [
        (spec.minus, '-'),
        (spec.plus, '+'),
        (spec.space, ' '),
        (spec.hash, '#'),
        (spec.zero, '0'),
    ] {
        if on {
            f.push(c);
        }
    }
    if spec.width > 0 {
        f.push_str(&spec.width.min(100_000).to_string());
    }
    if let Some(p) = spec.precision {
        f.push('.');
        f.push_str(&p.min(100_000).to_string());
    }
    f.push(spec.conv);
    let Ok(cfmt) = std::ffi::CString::new(f) else {
        return;
    };
    // SAFETY: a NULL buffer of size 0 is allowed by C99 snprintf, which
    // then only returns the length; `cfmt` is a NUL-terminated format with
    // exactly one double conversion, matched by `x`.
    let len = unsafe { libc::snprintf(std::ptr::null_mut(), 0, cfmt.as_ptr(), x) };
    let Ok(len) = usize::try_from(len) else {
        return;
    };
    let mut buf = vec![0u8; len + 1];
    // SAFETY: `buf` has room for `len` bytes plus the NUL; same format and
    // argument as above.
    let written = unsafe {
        libc::snprintf(
            buf.as_mut_ptr().cast::<libc::c_char>(),
            buf.len(),
            cfmt.as_ptr(),
            x,
        )
    };
    if usize::try_from(written).is_ok_and(|w| w == len) {
        out.extend_from_slice(&buf[..len]);
    }
}

/// A broken-down time, as `struct tm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tm {
    /// Full year (2024).
    pub year: i64,
    /// Month, 0 = January.
    pub mon: u32,
    /// Day of the month, 1–31.
    pub mday: u32,
    /// Hours, minutes, seconds.
    pub hour: u32,
    /// Minutes.
    pub min: u32,
    /// Seconds.
    pub sec: u32,
    /// Day of the week, 0 = Sunday.
    pub wday: u32,
    /// Day of the year, 0-based.
    pub yday: u32,
    /// Zone abbreviation (`UTC`, `CET`…).
    pub zone: String,
}

/// Break `secs` since the epoch down in zone `tz`.
pub fn broken_down(secs: i64, tz: TimeZone) -> Tm {
    if tz == TimeZone::Local {
        if let Some(tm) = local_tm(secs) {
            return tm;
        }
    }
    utc_tm(secs)
}

/// `localtime_r`, or `None` if the C library cannot represent `secs`.
fn local_tm(secs: i64) -> Option<Tm> {
    let t: libc::time_t = secs;
    // SAFETY: `libc::tm` is plain old data; all-zero is a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to live, properly aligned locals.
    let r = unsafe { libc::localtime_r(&t, &mut tm) };
    if r.is_null() {
        return None;
    }
    let zone = if tm.tm_zone.is_null() {
        String::new()
    } else {
        // SAFETY: glibc points tm_zone at a NUL-terminated string that
        // lives as long as the time zone data (the process).
        unsafe { std::ffi::CStr::from_ptr(tm.tm_zone) }
            .to_string_lossy()
            .into_owned()
    };
    Some(Tm {
        year: i64::from(tm.tm_year) + 1900,
        mon: u32::try_from(tm.tm_mon).ok()?,
        mday: u32::try_from(tm.tm_mday).ok()?,
        hour: u32::try_from(tm.tm_hour).ok()?,
        min: u32::try_from(tm.tm_min).ok()?,
        sec: u32::try_from(tm.tm_sec).ok()?,
        wday: u32::try_from(tm.tm_wday).ok()?,
        yday: u32::try_from(tm.tm_yday).ok()?,
        zone,
    })
}

/// UTC broken-down time (Howard Hinnant's civil-from-days).
fn utc_tm(secs: i64) -> Tm {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let mday = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let mon = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(mon <= 2);
    let mon0 = mon - 1;
    const CUM: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let yday = CUM[mon0 as usize] + mday - 1 + u32::from(mon0 >= 2 && is_leap(year));
    Tm {
        year,
        mon: mon0,
        mday,
        hour: rem / 3600,
        min: rem / 60 % 60,
        sec: rem % 60,
        wday: (days + 4).rem_euclid(7) as u32,
        yday,
        zone: "UTC".to_string(),
    }
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// `%Y`: ctime(3) rearranged as DTrace's `pfprint_time` does,
/// `2024 Jan  5 13:04:05`.
pub fn format_y(tm: &Tm) -> String {
    format!(
        "{} {} {:>2} {:02}:{:02}:{:02}",
        tm.year,
        MONTHS.get(tm.mon as usize).unwrap_or(&"???"),
        tm.mday,
        tm.hour,
        tm.min,
        tm.sec
    )
}

/// `%T`: DTrace's `pfprint_time822`, strftime `"%a, %d %b %G %T %Z"`
/// (note `%G`, the ISO 8601 week-based year, as in the source).
pub fn format_rfc822(tm: &Tm) -> String {
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} {}",
        DAYS.get(tm.wday as usize).unwrap_or(&"???"),
        tm.mday,
        MONTHS.get(tm.mon as usize).unwrap_or(&"???"),
        iso_year(tm),
        tm.hour,
        tm.min,
        tm.sec,
        tm.zone
    )
}

/// strftime's `%G` (glibc's `iso_week_days` logic).
fn iso_year(tm: &Tm) -> i64 {
    fn iso_week_days(yday: i64, wday: i64) -> i64 {
        let big_enough_multiple_of_7 = (366 / 7 + 2) * 7;
        yday - (yday - wday + 4 + big_enough_multiple_of_7) % 7 + 4 - 1
    }
    let (yday, wday) = (i64::from(tm.yday), i64::from(tm.wday));
    let mut year = tm.year;
    let days = iso_week_days(yday, wday);
    if days < 0 {
        year -= 1;
    } else {
        let len = 365 + i64::from(is_leap(year));
        if iso_week_days(yday - len, wday) >= 0 {
            year += 1;
        }
    }
    year
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(fmt: &str, args: &[Value]) -> String {
        let f = Format::parse(fmt).expect("format parses");
        let mut s = String::new();
        render_in(&f, args, TimeZone::Utc, &mut s).expect("renders");
        s
    }

    fn i32v(v: i64) -> Value {
        Value::int(v, 4, true)
    }
    fn i64v(v: i64) -> Value {
        Value::int(v, 8, true)
    }
    fn u64v(v: u64) -> Value {
        Value::int(v as i64, 8, false)
    }

    /// glibc's snprintf as an oracle for C's integer and string rules.
    fn c_int(fmt: &str, v: i64) -> String {
        let cfmt = std::ffi::CString::new(fmt).expect("no NUL");
        let mut buf = vec![0u8; 256];
        // SAFETY: the buffer has 256 bytes; test formats take one long long.
        let n = unsafe {
            libc::snprintf(
                buf.as_mut_ptr().cast(),
                buf.len(),
                cfmt.as_ptr(),
                v as libc::c_longlong,
            )
        };
        buf.truncate(n as usize);
        String::from_utf8(buf).expect("ascii")
    }

    fn c_str(fmt: &str, s: &str) -> String {
        let cfmt = std::ffi::CString::new(fmt).expect("no NUL");
        let cs = std::ffi::CString::new(s).expect("no NUL");
        let mut buf = vec![0u8; 256];
        // SAFETY: the buffer has 256 bytes; test formats take one string.
        let n = unsafe {
            libc::snprintf(
                buf.as_mut_ptr().cast(),
                buf.len(),
                cfmt.as_ptr(),
                cs.as_ptr(),
            )
        };
        buf.truncate(n as usize);
        String::from_utf8(buf).expect("ascii")
    }

    #[test]
    fn integers_exact() {
        assert_eq!(p("%d", &[i32v(42)]), "42");
        assert_eq!(p("%5.2d|", &[i32v(5)]), "   05|");
        assert_eq!(
            p("%#x %#X %#o", &[i32v(31), i32v(31), i32v(8)]),
            "0x1f 0X1F 010"
        );
        assert_eq!(p("%#x", &[i32v(0)]), "0");
        assert_eq!(p("%+d % d %+d", &[i32v(3), i32v(3), i32v(-3)]), "+3  3 -3");
        assert_eq!(p("%08.3d|", &[i32v(7)]), "     007|");
        assert_eq!(p("%08d|%-8d|", &[i32v(-7), i32v(-7)]), "-0000007|-7      |");
        assert_eq!(p("%.0d|%5.0d|", &[i32v(0), i32v(0)]), "|     |");
        assert_eq!(p("%#.0o", &[i32v(0)]), "0");
        assert_eq!(p("%i %u", &[i32v(-1), i32v(-1)]), "-1 4294967295");
        assert_eq!(
            p("%x %X", &[i32v(-1), i64v(-1)]),
            "ffffffff FFFFFFFFFFFFFFFF"
        );
        assert_eq!(p("%o", &[i32v(8)]), "10");
        assert_eq!(p("%p", &[u64v(0xffff_8000_1234)]), "ffff80001234");
        assert_eq!(p("%#p", &[u64v(0x10)]), "0x10");
        assert_eq!(p("%?p|", &[u64v(0x10)]), "              10|");
        assert_eq!(p("%-?p|", &[u64v(0x10)]), "10              |");
        assert_eq!(p("%020d", &[i64v(i64::MIN)]), "-9223372036854775808");
        assert_eq!(p("%d", &[u64v(u64::MAX)]), "18446744073709551615");
    }

    #[test]
    fn d_of_unsigned_prints_unsigned() {
        assert_eq!(p("%d", &[Value::int(-1, 4, false)]), "4294967295");
        assert_eq!(p("%d", &[Value::int(-1, 1, false)]), "255");
        assert_eq!(p("%d", &[Value::int(-1, 1, true)]), "-1");
    }

    #[test]
    fn size_prefixes_truncate_or_widen() {
        assert_eq!(p("%hd", &[i32v(65535)]), "-1");
        assert_eq!(p("%hu", &[i32v(65536 + 7)]), "7");
        assert_eq!(p("%hx", &[i64v(0x12345)]), "2345");
        assert_eq!(p("%lx", &[i32v(-1)]), "ffffffffffffffff");
        assert_eq!(p("%llu", &[Value::int(-1, 4, false)]), "4294967295");
        assert_eq!(p("%ld", &[i32v(-5)]), "-5");
    }

    #[test]
    fn thousands_grouping() {
        assert_eq!(p("%'d", &[i64v(1_234_567)]), "1,234,567");
        assert_eq!(p("%'d", &[i64v(-1000)]), "-1,000");
        assert_eq!(p("%'u", &[i32v(999)]), "999");
        assert_eq!(p("%'12d|", &[i64v(1_234_567)]), "   1,234,567|");
        assert_eq!(p("%'x", &[i64v(0x123456)]), "123456");
    }

    #[test]
    fn stars_take_int_arguments() {
        assert_eq!(p("%*d|", &[i32v(5), i32v(42)]), "   42|");
        assert_eq!(p("%*d|", &[i32v(-5), i32v(42)]), "42   |");
        assert_eq!(p("%.*d|", &[i32v(4), i32v(42)]), "0042|");
        assert_eq!(p("%.*d|", &[i32v(-1), i32v(42)]), "42|");
        assert_eq!(
            p("%*.*s|", &[i32v(6), i32v(2), Value::str("abc")]),
            "    ab|"
        );
    }

    #[test]
    fn integer_rules_match_glibc() {
        let flags = ["", "-", "+", " ", "#", "0", "-0", "+0", "#0", " -", "+ "];
        let widths = ["", "1", "6", "12"];
        let precs = ["", ".0", ".3", ".8"];
        let values = [0i64, 1, -1, 42, -42, 123_456, i64::MIN, i64::MAX];
        for f in flags {
            for w in widths {
                for pr in precs {
                    for conv in ['d', 'i', 'u', 'o', 'x', 'X'] {
                        for &v in &values {
                            let ours = p(&format!("%{f}{w}{pr}{conv}"), &[i64v(v)]);
                            let c = c_int(&format!("%{f}{w}{pr}ll{conv}"), v);
                            assert_eq!(ours, c, "%{f}{w}{pr}{conv} of {v}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn strings_exact() {
        assert_eq!(p("%-10s|", &[Value::str("abc")]), "abc       |");
        assert_eq!(p("%10s|", &[Value::str("abc")]), "       abc|");
        assert_eq!(p("%.3s|", &[Value::str("abcdef")]), "abc|");
        assert_eq!(p("%.0s|", &[Value::str("abcdef")]), "|");
        assert_eq!(p("%s", &[Value::Bytes(b"hi\0junk".to_vec())]), "hi");
        assert_eq!(p("%s", &[i32v(-3)]), "-3");
        for f in ["%s", "%5s", "%-5s", "%05s", "%.1s", "%8.2s", "%-8.2s"] {
            assert_eq!(p(f, &[Value::str("abc")]), c_str(f, "abc"), "{f}");
        }
    }

    #[test]
    fn chars_exact() {
        assert_eq!(p("%c", &[i32v(65)]), "A");
        assert_eq!(p("%3c|%-3c|", &[i32v(66), i32v(67)]), "  B|C  |");
        assert_eq!(p("%c", &[i32v(0x141)]), "A");
        assert_eq!(p("%C", &[i32v(10)]), "\\n");
        assert_eq!(p("%C", &[i32v(0)]), "\\0");
        assert_eq!(p("%C%C", &[i32v(b'a' as i64), i32v(0x7f)]), "a\\177");
        assert_eq!(p("%4C|", &[i32v(9)]), "  \\t|");
    }

    #[test]
    fn s_escapes_with_final_nul() {
        assert_eq!(
            p("%S", &[Value::str("a \"b\"\\\n\t\x01\x07\x08\x0b\x0c\r")]),
            "a \\\"b\\\"\\\\\\n\\t\\001\\a\\b\\v\\f\\r\\0"
        );
        assert_eq!(p("%S", &[Value::Str(vec![0xff, b'x'])]), "\\377x\\0");
        assert_eq!(p("%-8S|", &[Value::str("ab")]), "ab\\0    |");
        assert_eq!(p("%S", &[Value::str("it's")]), "it's\\0");
    }

    #[test]
    fn floats_exact() {
        assert_eq!(p("%e", &[i32v(1)]), "1.000000e+00");
        assert_eq!(p("%E", &[i64v(-12345)]), "-1.234500E+04");
        assert_eq!(p("%f", &[i32v(3)]), "3.000000");
        assert_eq!(
            p("%.2f|%8.1f|%-8.1f|", &[i32v(3), i32v(3), i32v(-3)]),
            "3.00|     3.0|-3.0    |"
        );
        assert_eq!(p("%g %G", &[i32v(100000), i64v(1_000_000)]), "100000 1E+06");
        assert_eq!(p("%#g", &[i32v(1)]), "1.00000");
        assert_eq!(p("%+08.2f", &[i32v(5)]), "+0005.00");
        assert_eq!(p("%f", &[u64v(u64::MAX)]), "18446744073709551616.000000");
    }

    #[test]
    fn addresses_and_stacks() {
        assert_eq!(
            p(
                "%a",
                &[Value::Addr {
                    addr: 0x18,
                    pid: None,
                    kind: d_lang::codegen::AddrKind::Function
                }]
            ),
            "0x18"
        );
        assert_eq!(p("%-20A|", &[u64v(0x400000)]), "0x400000            |");
        assert_eq!(
            p("%k", &[Value::Stack(vec![0x10, 0xab, 0, 0x99])]),
            "\n0x10\n0xab\n"
        );
        assert_eq!(p("%-2k", &[Value::Stack(vec![0x10])]), "\n  0x10\n");
    }

    #[test]
    fn times_in_utc() {
        // 2024-01-05 13:04:05 UTC, a Friday.
        let ns = 1_704_459_845i64 * 1_000_000_000 + 999;
        assert_eq!(p("%Y", &[i64v(ns)]), "2024 Jan  5 13:04:05");
        assert_eq!(p("%T", &[i64v(ns)]), "Fri, 05 Jan 2024 13:04:05 UTC");
        assert_eq!(p("%25Y|", &[i64v(ns)]), "     2024 Jan  5 13:04:05|");
        assert_eq!(p("%Y", &[i64v(0)]), "1970 Jan  1 00:00:00");
        // 2021-01-01 was a Friday in ISO week 53 of 2020: %G says 2020.
        assert_eq!(
            p("%T", &[i64v(1_609_459_200 * 1_000_000_000)]),
            "Fri, 01 Jan 2020 00:00:00 UTC"
        );
        // 2024-12-30 (Monday) is in ISO week 1 of 2025.
        assert_eq!(
            p("%T", &[i64v(1_735_560_000 * 1_000_000_000)]),
            "Mon, 30 Dec 2025 12:00:00 UTC"
        );
        // Leap day.
        assert_eq!(
            p("%Y", &[i64v(1_709_164_800 * 1_000_000_000)]),
            "2024 Feb 29 00:00:00"
        );
    }

    #[test]
    fn utc_matches_gmtime() {
        for secs in [0i64, 86_399, 951_782_400, 1_704_459_845, 4_102_444_800, -1] {
            let t: libc::time_t = secs;
            // SAFETY: zeroed tm is valid; pointers are to locals.
            let mut tm: libc::tm = unsafe { std::mem::zeroed() };
            // SAFETY: as above.
            unsafe { libc::gmtime_r(&t, &mut tm) };
            let ours = utc_tm(secs);
            assert_eq!(
                (ours.year, ours.mon, ours.mday, ours.wday, ours.yday, ours.hour),
                (
                    i64::from(tm.tm_year) + 1900,
                    tm.tm_mon as u32,
                    tm.tm_mday as u32,
                    tm.tm_wday as u32,
                    tm.tm_yday as u32,
                    tm.tm_hour as u32
                ),
                "{secs}"
            );
        }
    }

    #[test]
    fn local_time_is_available() {
        let tm = broken_down(1_704_459_845, TimeZone::Local);
        assert!(tm.year == 2024 || tm.year == 2023 || tm.year == 2025);
    }

    #[test]
    fn text_and_percent() {
        assert_eq!(p("100%% done\n", &[]), "100% done\n");
        assert_eq!(p("a=%d b=%s\n", &[i32v(1), Value::str("x")]), "a=1 b=x\n");
    }

    #[test]
    fn errors() {
        let f = Format::parse("%d %d").expect("parses");
        let mut s = String::new();
        assert_eq!(
            render(&f, &[i32v(1)], &mut s),
            Err(PrintfError::MissingArgument {
                conversion: 2,
                text: "d".into()
            })
        );
        let f = Format::parse("%d").expect("parses");
        assert!(matches!(
            render(&f, &[Value::str("x")], &mut s),
            Err(PrintfError::ArgumentType { .. })
        ));
        let f = Format::parse("%@d").expect("parses");
        assert_eq!(
            render(&f, &[i32v(1)], &mut s),
            Err(PrintfError::AggOutsidePrinta { conversion: 1 })
        );
    }

    fn pa(fmt: &str, keys: &[Value], values: &[AggArg]) -> String {
        let f = Format::parse(fmt).expect("format parses");
        let mut s = String::new();
        render_printa(&f, keys, values, TimeZone::Utc, &mut s).expect("renders");
        s
    }

    #[test]
    fn printa_keys_then_values() {
        let keys = [Value::str("bash"), i32v(12)];
        let v = |x| AggArg::Value(i64v(x));
        assert_eq!(
            pa("%-8s %5d %@8d\n", &keys, &[v(3)]),
            "bash        12        3\n"
        );
        assert_eq!(pa("%s %@d %@d %@d\n", &keys, &[v(1), v(2)]), "bash 1 2 2\n");
        assert_eq!(pa("%s only\n", &keys, &[v(1)]), "bash only\n");
        assert_eq!(pa("%@x|%@-4u|", &[], &[v(255), v(7)]), "ff|7   |");
        assert_eq!(pa("%@'d", &[], &[v(12345)]), "12,345");
        assert_eq!(
            pa("%s%@d", &keys, &[AggArg::Text("\n dist\n".into())]),
            "bash\n dist\n"
        );
    }
}
