//! Options: what one compile is told ([`CompileOptions`]), and DTrace's `-x` options.
//!
//! Every stage reads [`CompileOptions`] (the lexer substitutes its macro
//! arguments, the parser and resolver read its origin and flags). One table,
//! [`OPTIONS`], names every `-x` option, its kind and default; both the
//! command line and the compiler's `#pragma D option` handling validate
//! values through it.

use crate::catalog::DescField;
use std::fmt;

/// Where the text being compiled came from; it decides how probe
/// specifiers align and whether a bare probe description is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A script file (`-s FILE`), named as typed.
    File(String),
    /// A probe specifier string: `-n` (ends at name), `-P`, `-m`, `-f`.
    Spec(DescField),
    /// `-i ID`: a probe by its numeric ID.
    ProbeId,
}

/// The macro arguments named so far (see [`CompileOptions::macro_refs`]);
/// clones share one set.
#[derive(Debug, Clone, Default)]
pub struct MacroRefs(std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<usize>>>);

impl MacroRefs {
    /// Note that `$n` was named.
    pub fn add(&self, n: usize) {
        if let Ok(mut s) = self.0.lock() {
            s.insert(n);
        }
    }

    /// Whether `$n` has been named.
    pub fn contains(&self, n: usize) -> bool {
        self.0.lock().is_ok_and(|s| s.contains(&n))
    }
}

/// Values the compiler substitutes and flags that change what it accepts.
#[derive(Debug, Clone)]
pub struct CompileOptions {
    /// Where the source came from.
    pub origin: Origin,
    /// Macro arguments: `$0` is the script name, `$1…` the operands after it.
    pub macro_args: Vec<String>,
    /// `$pid`, `$ppid`, `$uid`, `$gid` of the tracer itself.
    pub pid: u32,
    /// `$ppid`.
    pub ppid: u32,
    /// `$uid`.
    pub uid: u32,
    /// `$gid`.
    pub gid: u32,
    /// `$euid`, `$egid`, `$pgid`, `$sid` of the tracer.
    pub euid: u32,
    /// `$egid`.
    pub egid: u32,
    /// `$pgid`.
    pub pgid: u32,
    /// `$sid`.
    pub sid: u32,
    /// `empty`: a program with no clause, inline, translator or provider
    /// is accepted (else `D_EMPTY`).
    pub empty: bool,
    /// `argref`: an operand no program names is accepted (else
    /// `D_MACRO_UNUSED`).
    pub argref: bool,
    /// Which macro arguments (`$N`, `$$N`) the programs compiled with these
    /// options so far have named: shared by every program of one run, as
    /// DTrace keeps it per handle, so an operand named by an earlier
    /// program counts for the later ones.
    pub macro_refs: MacroRefs,
    /// `$target`: the `-c`/`-p` process, if any.
    pub target: Option<u32>,
    /// `-Z` / `zdefs`: allow descriptions that match no probes.
    pub zdefs: bool,
    /// `defaultargs`: undefined macro arguments are 0 or "".
    pub defaultargs: bool,
    /// `-w` / `destructive`: allow destructive actions.
    pub destructive: bool,
}

impl CompileOptions {
    /// Options for compiling `origin` with no macro arguments.
    pub fn new(origin: Origin) -> Self {
        CompileOptions {
            origin,
            macro_args: Vec::new(),
            pid: 0,
            ppid: 0,
            uid: 0,
            gid: 0,
            euid: 0,
            egid: 0,
            pgid: 0,
            sid: 0,
            empty: false,
            argref: false,
            macro_refs: MacroRefs::default(),
            target: None,
            zdefs: false,
            defaultargs: false,
            destructive: false,
        }
    }
}

/// How an option's value is written and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    /// A flag: no value (`-x quiet`); `=value` is rejected.
    Flag,
    /// A byte size: integer with optional `k m g t` suffix.
    Size,
    /// A time or rate: integer with optional unit (`ns us ms s … hz`); bare = ns.
    Time,
    /// A plain non-negative integer.
    Count,
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
    /// Free text (a path or name).
    Text,
}

/// One option of the table.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    /// Name as typed after `-x`.
    pub name: &'static str,
    /// How its value is checked.
    pub kind: OptionKind,
    /// Whether Lumen acts on it yet (others are accepted and reported as ignored).
    pub supported: bool,
}

const fn opt(name: &'static str, kind: OptionKind, supported: bool) -> OptionSpec {
    OptionSpec {
        name,
        kind,
        supported,
    }
}

use OptionKind::*;

/// Every option dtrace(1) accepts, in DTrace's own names.
pub const OPTIONS: &[OptionSpec] = &[
    opt("aggpercpu", Flag, false),
    opt("aggrate", Time, true),
    opt("aggsize", Size, true),
    opt("aggsortkey", Flag, true),
    opt("aggsortkeypos", Count, true),
    opt("aggsortpos", Count, true),
    opt("aggsortrev", Flag, true),
    opt("amin", Text, false),
    opt("argref", Flag, false),
    opt("backend", Choice(&["kernel", "user"]), true),
    opt("bufpolicy", Choice(&["fill", "switch", "ring"]), true),
    opt("bufresize", Choice(&["auto", "manual"]), true),
    opt("bufsize", Size, true),
    opt("cleanrate", Time, true),
    opt("core", Flag, false),
    opt("cpp", Flag, true),
    opt("cpppath", Text, true),
    opt("cpu", Count, true),
    opt("ctypes", Text, false),
    opt("debug", Flag, false),
    opt("defaultargs", Flag, true),
    opt("define", Text, true),
    opt("destructive", Flag, true),
    opt("droptags", Flag, true),
    opt("dtypes", Text, false),
    opt("dynvarsize", Size, true),
    opt("empty", Flag, true),
    opt("errtags", Flag, true),
    opt(
        "evaltime",
        Choice(&["exec", "preinit", "postinit", "main"]),
        false,
    ),
    opt("flowindent", Flag, true),
    opt("grabanon", Flag, false),
    opt("incdir", Text, true),
    opt("iregs", Count, false),
    opt("jstackframes", Count, true),
    opt("jstackstrsize", Size, true),
    opt("lazyload", Flag, false),
    opt("ldpath", Text, false),
    opt("libdir", Text, false),
    opt(
        "linkmode",
        Choice(&["kernel", "primary", "dynamic", "static"]),
        false,
    ),
    opt("linktype", Choice(&["elf", "dof"]), false),
    opt("maxframes", Count, true),
    opt("nolibs", Flag, false),
    opt("nspec", Count, true),
    opt("pgmax", Count, false),
    opt("preallocate", Flag, false),
    opt("pspec", Flag, false),
    opt("quiet", Flag, true),
    opt("quietresize", Flag, true),
    opt("rawbytes", Flag, true),
    opt("specsize", Size, true),
    opt("stackframes", Count, true),
    opt("stackindent", Count, true),
    opt("statusrate", Time, true),
    opt("strip", Flag, false),
    opt("strsize", Size, true),
    opt("switchrate", Time, true),
    opt("syslibdir", Text, false),
    opt("temporal", Flag, false),
    opt("tree", Count, false),
    opt("tregs", Count, false),
    opt("udefs", Flag, false),
    opt("undef", Text, true),
    opt("unodefs", Flag, false),
    opt("ustackframes", Count, true),
    opt("verbose", Flag, true),
    opt("version", Text, false),
    opt("zdefs", Flag, true),
];

/// A checked option value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue {
    /// A flag was set.
    Set,
    /// A size in bytes, a time in nanoseconds, or a count.
    Number(u64),
    /// A choice or text.
    Text(String),
}

impl fmt::Display for OptionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionValue::Set => f.write_str("set"),
            OptionValue::Number(n) => write!(f, "{n}"),
            OptionValue::Text(t) => f.write_str(t),
        }
    }
}

/// Why an option could not be set; the texts are DTrace's `dtrace_errmsg` strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    /// No such option.
    #[error("Invalid option name")]
    BadName,
    /// The value does not parse for this option's kind.
    #[error("Invalid value for specified option")]
    BadValue,
}

/// Look an option up by name.
pub fn spec(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|o| o.name == name)
}

/// Check `name[=value]` against the table and convert the value.
pub fn parse_option(name: &str, value: Option<&str>) -> Result<OptionValue, OptionError> {
    let spec = spec(name).ok_or(OptionError::BadName)?;
    match (spec.kind, value) {
        (Flag, None) => Ok(OptionValue::Set),
        (Flag, Some(_)) => Err(OptionError::BadValue),
        (_, None) => Err(OptionError::BadValue),
        (Size, Some(v)) => parse_size(v)
            .map(OptionValue::Number)
            .ok_or(OptionError::BadValue),
        (Time, Some(v)) => parse_time(v)
            .map(OptionValue::Number)
            .ok_or(OptionError::BadValue),
        (Count, Some(v)) => parse_int(v)
            .map(OptionValue::Number)
            .ok_or(OptionError::BadValue),
        (Choice(words), Some(v)) => {
            if words.contains(&v) {
                Ok(OptionValue::Text(v.to_string()))
            } else {
                Err(OptionError::BadValue)
            }
        }
        (Text, Some(v)) => Ok(OptionValue::Text(v.to_string())),
    }
}

/// An unsigned integer in C notation: decimal, `0x` hex or `0` octal.
pub fn parse_int(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

/// Split a leading integer from its unit suffix.
fn split_number(s: &str) -> (&str, &str) {
    let s = s.trim();
    let digits_end = if s.starts_with("0x") || s.starts_with("0X") {
        2 + s[2..]
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(s.len() - 2)
    } else {
        s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len())
    };
    s.split_at(digits_end)
}

/// A size: integer with an optional `k`, `m`, `g` or `t` suffix (any case).
pub fn parse_size(s: &str) -> Option<u64> {
    let (num, unit) = split_number(s);
    let n = parse_int(num)?;
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => return None,
    };
    n.checked_mul(1u64 << shift)
}

/// A time in nanoseconds: integer with an optional unit; `hz` is a rate
/// converted to its period.
pub fn parse_time(s: &str) -> Option<u64> {
    let (num, unit) = split_number(s);
    let n = parse_int(num)?;
    let mult: u64 = match unit {
        "" | "ns" | "nsec" => 1,
        "us" | "usec" => 1_000,
        "ms" | "msec" => 1_000_000,
        "s" | "sec" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" | "hour" => 3_600_000_000_000,
        "d" | "day" => 86_400_000_000_000,
        "hz" => {
            if n == 0 {
                return None;
            }
            return Some(1_000_000_000 / n);
        }
        _ => return None,
    };
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_times() {
        assert_eq!(parse_size("4m"), Some(4 << 20));
        assert_eq!(parse_size("4M"), Some(4 << 20));
        assert_eq!(parse_size("0x10k"), Some(16 << 10));
        assert_eq!(parse_size("12q"), None);
        assert_eq!(parse_time("1hz"), Some(1_000_000_000));
        assert_eq!(parse_time("10ms"), Some(10_000_000));
        assert_eq!(parse_time("250"), Some(250));
        assert_eq!(parse_time("0hz"), None);
    }

    #[test]
    fn table_checks() {
        assert_eq!(parse_option("quiet", None), Ok(OptionValue::Set));
        assert_eq!(parse_option("quiet", Some("1")), Err(OptionError::BadValue));
        assert_eq!(parse_option("nosuch", None), Err(OptionError::BadName));
        assert_eq!(
            parse_option("bufsize", Some("8k")),
            Ok(OptionValue::Number(8192))
        );
        assert_eq!(
            parse_option("bufpolicy", Some("ring")),
            Ok(OptionValue::Text("ring".into()))
        );
        assert_eq!(
            parse_option("bufpolicy", Some("odd")),
            Err(OptionError::BadValue)
        );
        let mut names: Vec<_> = OPTIONS.iter().map(|o| o.name).collect();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
