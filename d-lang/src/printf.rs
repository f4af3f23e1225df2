//! printf-style format strings: parsed once, checked against argument types
//! by the compiler, and used as-is by the consumer to print.

use crate::types::{DynType, Type};
use std::fmt;

/// A width or precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// Written as digits.
    Fixed(u32),
    /// `*`: taken from an `int` argument.
    Star,
}

/// A length modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SizePrefix {
    /// none
    #[default]
    None,
    /// `h`
    Short,
    /// `l`
    Long,
    /// `ll`
    LongLong,
    /// `L`
    LongDouble,
    /// `w`
    Wide,
}

/// One `%…` conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    /// Flag characters (`-+ #0'?`, and `@` for printa's aggregation value).
    pub flags: String,
    /// Width.
    pub width: Option<Count>,
    /// Precision.
    pub precision: Option<Count>,
    /// Length modifier.
    pub size: SizePrefix,
    /// The conversion character (`d`, `s`, `@`…).
    pub conv: char,
    /// The text as written after `%` (`-10s`), for messages.
    pub text: String,
}

/// A piece of a format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text (`%%` already reduced to `%`).
    Text(String),
    /// A conversion.
    Conv(Conversion),
}

/// A parsed format string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Format {
    /// Pieces in order.
    pub pieces: Vec<Piece>,
}

/// Why a format string is malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    /// DTrace's wording.
    pub message: String,
}

impl Conversion {
    /// Whether this is printa's `%@…`: it prints the aggregation's value.
    pub fn is_agg(&self) -> bool {
        self.flags.contains('@')
    }
}

impl Format {
    /// Parse a format string.
    pub fn parse(s: &str) -> Result<Format, FormatError> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = s.chars().peekable();
        let mut n = 0;
        while let Some(c) = chars.next() {
            if c != '%' {
                text.push(c);
                continue;
            }
            if chars.peek() == Some(&'%') {
                chars.next();
                text.push('%');
                continue;
            }
            n += 1;
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            let mut spec = String::new();
            let mut flags = String::new();
            while let Some(&c) = chars.peek() {
                if "-+ #0'?@".contains(c) {
                    flags.push(c);
                    spec.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            let count = |chars: &mut std::iter::Peekable<std::str::Chars>, spec: &mut String| {
                if chars.peek() == Some(&'*') {
                    chars.next();
                    spec.push('*');
                    return Some(Count::Star);
                }
                let mut digits = String::new();
                while let Some(&d) = chars.peek() {
                    if d.is_ascii_digit() {
                        digits.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                spec.push_str(&digits);
                if digits.is_empty() {
                    None
                } else {
                    Some(Count::Fixed(digits.parse().unwrap_or(u32::MAX)))
                }
            };
            let width = count(&mut chars, &mut spec);
            // DTrace takes printa's @ wherever it stands before the
            // conversion: %@8d and %8@d alike.
            let mut take_at = |chars: &mut std::iter::Peekable<std::str::Chars>,
                               spec: &mut String| {
                if chars.peek() == Some(&'@') {
                    chars.next();
                    spec.push('@');
                    flags.push('@');
                }
            };
            take_at(&mut chars, &mut spec);
            if chars.peek() == Some(&'$') {
                return Err(FormatError {
                    message: format!(
                        "format conversion #{n} uses unsupported positional format (%n$)"
                    ),
                });
            }
            let precision = if chars.peek() == Some(&'.') {
                chars.next();
                spec.push('.');
                Some(count(&mut chars, &mut spec).unwrap_or(Count::Fixed(0)))
            } else {
                None
            };
            take_at(&mut chars, &mut spec);
            let mut size = SizePrefix::None;
            let mut prefix = String::new();
            while let Some(&c) = chars.peek() {
                if "hlLw".contains(c) {
                    prefix.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            spec.push_str(&prefix);
            let Some(conv) = chars.next() else {
                return Err(FormatError {
                    message: format!("format conversion #{n} name expected"),
                });
            };
            spec.push(conv);
            size = match prefix.as_str() {
                "" => size,
                "h" => SizePrefix::Short,
                "l" => SizePrefix::Long,
                "ll" => SizePrefix::LongLong,
                "L" => SizePrefix::LongDouble,
                "w" => SizePrefix::Wide,
                _ => {
                    return Err(FormatError {
                        message: format!("format conversion #{n} is undefined: %{spec}"),
                    });
                }
            };
            let valid = match size {
                SizePrefix::None => "diouxXcCsSpaAeEfgGkYT".contains(conv),
                SizePrefix::Short | SizePrefix::LongLong => "diouxX".contains(conv),
                SizePrefix::Long => "diouxXcs".contains(conv),
                SizePrefix::LongDouble => "eEfgG".contains(conv),
                SizePrefix::Wide => "cs".contains(conv),
            };
            if !valid {
                return Err(FormatError {
                    message: format!("format conversion #{n} is undefined: %{spec}"),
                });
            }
            pieces.push(Piece::Conv(Conversion {
                flags,
                width,
                precision,
                size,
                conv,
                text: spec,
            }));
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Format { pieces })
    }

    /// The conversions in order.
    pub fn conversions(&self) -> impl Iterator<Item = &Conversion> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Conv(c) => Some(c),
            Piece::Text(_) => None,
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.pieces {
            match p {
                Piece::Text(t) => f.write_str(&t.replace('%', "%%"))?,
                Piece::Conv(c) => write!(f, "%{}", c.text)?,
            }
        }
        Ok(())
    }
}

/// What a conversion accepts, as DTrace describes it in messages.
pub fn conversion_prototype(conv: char) -> &'static str {
    match conv {
        'd' | 'i' | 'o' | 'u' => "char, short, int, long, or long long",
        'x' | 'X' | 'p' => "pointer or integer",
        'c' | 'C' => "char, short, or int",
        's' | 'S' => "char [] or string (or use stringof)",
        'a' | 'A' => "pointer or integer",
        'e' | 'E' | 'f' | 'g' | 'G' => "double, float, or long double",
        'k' => "stack",
        'Y' | 'T' => "int64_t",
        _ => "unknown",
    }
}

/// Whether an argument of type `ty` suits conversion `conv`.
pub fn conversion_accepts(conv: char, ty: &Type) -> bool {
    let t = ty.strip();
    let symaddr = matches!(
        t,
        Type::Dyn(
            DynType::Symaddr
                | DynType::Usymaddr
                | DynType::Uaddr
                | DynType::Modaddr
                | DynType::Umodaddr
        )
    );
    match conv {
        'd' | 'i' | 'o' | 'u' | 'c' | 'C' | 'Y' | 'T' => ty.is_integer() || symaddr,
        'x' | 'X' | 'p' | 'a' | 'A' => ty.is_integer() || ty.is_pointer() || symaddr,
        's' | 'S' => ty.is_string() || ty.is_char_string() || symaddr,
        'e' | 'E' | 'f' | 'g' | 'G' => ty.is_arith(),
        'k' => matches!(t, Type::Dyn(DynType::Stack | DynType::UStack)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_conversions() {
        let f = Format::parse("%-10s|%5.2d %% %*d %llx %@d\n").unwrap();
        let convs: Vec<_> = f.conversions().map(|c| c.conv).collect();
        assert_eq!(convs, vec!['s', 'd', 'd', 'x', 'd']);
        assert!(f.conversions().last().is_some_and(|c| c.is_agg()));
        let c: Vec<_> = f.conversions().collect();
        assert_eq!(c[0].flags, "-");
        assert_eq!(c[0].width, Some(Count::Fixed(10)));
        assert_eq!(c[1].precision, Some(Count::Fixed(2)));
        assert_eq!(c[2].width, Some(Count::Star));
        assert_eq!(c[3].size, SizePrefix::LongLong);
        assert_eq!(f.to_string(), "%-10s|%5.2d %% %*d %llx %@d\n");
    }

    #[test]
    fn rejects_bad_conversions() {
        assert_eq!(
            Format::parse("%hhd").unwrap_err().message,
            "format conversion #1 is undefined: %hhd"
        );
        assert_eq!(
            Format::parse("%d %q").unwrap_err().message,
            "format conversion #2 is undefined: %q"
        );
        assert!(Format::parse("%1$d").is_err());
        assert!(Format::parse("abc %").is_err());
    }
}
