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

/// How an option's value is written and checked (DTrace's option classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    /// A flag: no value (`-x errtags`); any value, even empty, is rejected.
    Flag,
    /// DTrace's boolean-or-number: `yes enable enabled true on set` set it,
    /// `no disable disabled false off unset` and the empty string unset it,
    /// else a non-negative integer; no value is 0, which counts as set.
    BoolNum,
    /// A byte size: integer with optional `k m g t` suffix; no value is 0.
    Size,
    /// A time or rate: integer with optional unit (`ns us ms s … hz`),
    /// bare = ns; no value is 0.
    Time,
    /// An integer in `min..=max`.
    Range(u64, u64),
    /// One of a fixed set of words (exact case).
    Choice(&'static [&'static str]),
    /// One of a fixed set of words, any case.
    ChoiceNoCase(&'static [&'static str]),
    /// Free text (a path or name); a value is required.
    Text,
    /// Accepted with or without any value, which is ignored.
    Ignored,
    /// Checked by its own rule: `strsize`, `version`, `iregs`, `disasm`,
    /// `lockmem`.
    Special,
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

/// Every option dtrace(1) accepts, in DTrace's own names (sorted), and
/// Lumen's `backend`.
pub const OPTIONS: &[OptionSpec] = &[
    opt("aggpercpu", Flag, false),
    opt("aggrate", Time, true),
    opt("aggsize", Size, true),
    opt("aggsortkey", BoolNum, true),
    opt("aggsortkeypos", BoolNum, true),
    opt("aggsortpos", BoolNum, true),
    opt("aggsortrev", BoolNum, true),
    opt("amin", Text, false),
    opt("argref", Flag, true),
    opt("backend", Choice(&["kernel", "user"]), true),
    opt("bpflog", BoolNum, false),
    opt("bpflogsize", Size, false),
    opt("bufpolicy", Choice(&["fill", "switch", "ring"]), true),
    opt("bufresize", Choice(&["auto", "manual"]), true),
    opt("bufsize", Size, true),
    opt("cleanrate", Time, true),
    opt("core", Flag, false),
    opt("cpp", Flag, true),
    opt("cppargs", Text, false),
    opt("cpphdrs", Flag, true),
    opt("cpppath", Text, true),
    opt("cpu", BoolNum, true),
    opt("ctfpath", Text, false),
    opt("ctypes", Text, false),
    opt("debug", Flag, false),
    opt("debugassert", Choice(&["mutexes"]), false),
    opt("defaultargs", Flag, true),
    opt("define", Text, true),
    opt("destructive", BoolNum, true),
    opt("disasm", Special, false),
    opt("dofstashpath", Text, false),
    opt("droptags", Ignored, true),
    opt("dtypes", Text, false),
    opt("dynvarsize", Size, true),
    opt("empty", Flag, true),
    opt("errtags", Flag, true),
    opt(
        "evaltime",
        Choice(&["exec", "preinit", "postinit", "main"]),
        false,
    ),
    opt("flowindent", BoolNum, true),
    opt("grabanon", BoolNum, false),
    opt("incdir", Text, true),
    opt("iregs", Special, false),
    opt("jstackframes", BoolNum, true),
    opt("jstackstrsize", Size, true),
    opt("kdefs", Flag, false),
    opt("knodefs", Flag, false),
    opt("late", Choice(&["static", "dynamic"]), false),
    opt("lazyload", Ignored, false),
    opt("ldpath", Text, false),
    opt("libdir", Text, false),
    opt("linkmode", Choice(&["kernel", "dynamic", "static"]), false),
    opt("linknommap", Ignored, false),
    opt("linktype", ChoiceNoCase(&["elf", "dof"]), false),
    opt("lockmem", Special, false),
    opt("maxframes", BoolNum, true),
    opt("modpath", Text, false),
    opt("nolibs", Flag, false),
    opt("noresolve", BoolNum, false),
    opt("nspec", BoolNum, true),
    opt("pcapsize", Size, false),
    opt("pgmax", Range(0, u64::MAX), false),
    opt("preallocate", Size, false),
    opt("printsize", Size, false),
    opt("procfspath", Text, false),
    opt("pspec", Flag, false),
    opt("quiet", BoolNum, true),
    opt("quietresize", BoolNum, true),
    opt("rawbytes", BoolNum, true),
    opt("scratchsize", Size, true),
    opt("specsize", Size, true),
    opt("stackframes", BoolNum, true),
    opt("stackindent", BoolNum, true),
    opt("statusrate", Time, true),
    opt("stdc", Choice(&["a", "c", "s", "t"]), false),
    opt("strip", Flag, false),
    opt("strsize", Special, true),
    opt("switchrate", Time, true),
    opt("syslibdir", Text, false),
    opt("sysslice", Text, false),
    opt("tree", Range(1, u64::MAX), false),
    opt("tregs", Range(1, u64::MAX), false),
    opt("udefs", Flag, false),
    opt("undef", Text, true),
    opt("unodefs", Flag, false),
    opt("useruid", Range(0, u64::MAX), false),
    opt("ustackframes", BoolNum, true),
    opt("verbose", Flag, true),
    opt("version", Special, false),
    opt("zdefs", Flag, true),
];

/// Options only the command line may set: a `#pragma D option` naming one
/// is refused.
const NOT_FROM_PROGRAMS: &[&str] = &[
    "cppargs",
    "cpphdrs",
    "cpppath",
    "define",
    "incdir",
    "undef",
    "ldpath",
    "ctfpath",
    "modpath",
    "procfspath",
    "stdc",
    "lockmem",
];

/// The D API versions `-x version=` may ask for (2.0.1, the current
/// binding, is not among them).
const VERSIONS: &[&str] = &[
    "1.0", "1.1", "1.2", "1.2.1", "1.2.2", "1.3", "1.4", "1.4.1", "1.5", "1.6", "1.6.1", "1.6.2",
    "1.6.3", "1.6.4", "2.0",
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
    /// A boolean option turned off (`=no`, `=`): as if never set.
    Unset,
}

impl fmt::Display for OptionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionValue::Set => f.write_str("set"),
            OptionValue::Number(n) => write!(f, "{n}"),
            OptionValue::Text(t) => f.write_str(t),
            OptionValue::Unset => f.write_str("unset"),
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
    /// A command-line-only option in a `#pragma D option`.
    #[error("Option cannot be used from within a D program")]
    NotInProgram,
    /// `strsize` beyond 32 bits.
    #[error("Value too large for defined data type")]
    TooLarge,
    /// `version=` that is not `M.m[.u]`.
    #[error("Version is not properly formatted or is too large")]
    VersionFormat,
    /// `version=` naming a version the compiler does not offer.
    #[error("Requested version is not supported by compiler")]
    VersionUnsupported,
    /// `iregs` below 8.
    #[error("Insufficient registers to generate code")]
    Registers,
}

/// Look an option up by name.
pub fn spec(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|o| o.name == name)
}

/// Check `name[=value]` from a `#pragma D option`: as from the command
/// line, except for the options only the command line may set.
pub fn parse_pragma_option(name: &str, value: Option<&str>) -> Result<OptionValue, OptionError> {
    let parsed = parse_option(name, value)?;
    if NOT_FROM_PROGRAMS.contains(&name) {
        return Err(OptionError::NotInProgram);
    }
    Ok(parsed)
}

/// Check `name[=value]` against the table and convert the value.
pub fn parse_option(name: &str, value: Option<&str>) -> Result<OptionValue, OptionError> {
    let spec = spec(name).ok_or(OptionError::BadName)?;
    let bad = OptionError::BadValue;
    match (spec.kind, value) {
        (Flag, None) => Ok(OptionValue::Set),
        (Flag, Some(_)) => Err(bad),
        (Ignored, _) => Ok(OptionValue::Set),
        (BoolNum, None) => Ok(OptionValue::Number(0)),
        (BoolNum, Some(v)) => parse_boolnum(v).ok_or(bad),
        (Size | Time, None) => Ok(OptionValue::Number(0)),
        (Size, Some(v)) => parse_size(v).map(OptionValue::Number).ok_or(bad),
        (Time, Some(v)) => parse_time(v).map(OptionValue::Number).ok_or(bad),
        (Range(lo, hi), Some(v)) => parse_int(v)
            .filter(|n| (lo..=hi).contains(n))
            .map(OptionValue::Number)
            .ok_or(bad),
        (Choice(words), Some(v)) if words.contains(&v) => Ok(OptionValue::Text(v.to_string())),
        (ChoiceNoCase(words), Some(v)) if words.iter().any(|w| w.eq_ignore_ascii_case(v)) => {
            Ok(OptionValue::Text(v.to_ascii_lowercase()))
        }
        (Text, Some(v)) => Ok(OptionValue::Text(v.to_string())),
        (Special, v) => parse_special(name, v),
        (Range(..) | Choice(_) | ChoiceNoCase(_) | Text, _) => Err(bad),
    }
}

/// DTrace's boolean-or-number value.
fn parse_boolnum(v: &str) -> Option<OptionValue> {
    const YES: &[&str] = &["yes", "enable", "enabled", "true", "on", "set"];
    const NO: &[&str] = &["no", "disable", "disabled", "false", "off", "unset"];
    if v.is_empty() || NO.iter().any(|w| w.eq_ignore_ascii_case(v)) {
        return Some(OptionValue::Unset);
    }
    if YES.iter().any(|w| w.eq_ignore_ascii_case(v)) {
        return Some(OptionValue::Number(1));
    }
    parse_int(v)
        .filter(|&n| n <= i64::MAX as u64)
        .map(OptionValue::Number)
}

/// The options with rules of their own.
fn parse_special(name: &str, value: Option<&str>) -> Result<OptionValue, OptionError> {
    let bad = OptionError::BadValue;
    match name {
        "strsize" => {
            let n = parse_size(value.unwrap_or("0")).ok_or(bad)?;
            if n > u64::from(u32::MAX) {
                Err(OptionError::TooLarge)
            } else if n < 2 {
                Err(bad)
            } else {
                Ok(OptionValue::Number(n))
            }
        }
        "version" => {
            let v = value.ok_or(bad)?;
            let parts: Vec<&str> = v.split('.').collect();
            let well_formed = (2..=3).contains(&parts.len())
                && parts.iter().all(|p| {
                    !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit())
                });
            if !well_formed {
                Err(OptionError::VersionFormat)
            } else if !VERSIONS.contains(&v) {
                Err(OptionError::VersionUnsupported)
            } else {
                Ok(OptionValue::Text(v.to_string()))
            }
        }
        "iregs" => match value.and_then(parse_int) {
            Some(8) => Ok(OptionValue::Number(8)),
            Some(n) if n < 8 => Err(OptionError::Registers),
            _ => Err(bad),
        },
        // Read leniently, as DTrace does: what is not a number is 0.
        "disasm" => Ok(OptionValue::Number(value.and_then(parse_int).unwrap_or(0))),
        // An invalid size is ignored without a word.
        "lockmem" => match value {
            Some("unlimited") => Ok(OptionValue::Text("unlimited".into())),
            Some(v) => Ok(parse_size(v).map_or(OptionValue::Unset, OptionValue::Number)),
            None => Ok(OptionValue::Unset),
        },
        _ => Err(bad),
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
        assert_eq!(parse_option("errtags", None), Ok(OptionValue::Set));
        assert_eq!(
            parse_option("errtags", Some("1")),
            Err(OptionError::BadValue)
        );
        assert_eq!(
            parse_option("errtags", Some("")),
            Err(OptionError::BadValue)
        );
        // Booleans: no value and 0 both set; words and the empty string.
        assert_eq!(parse_option("quiet", None), Ok(OptionValue::Number(0)));
        assert_eq!(parse_option("quiet", Some("0")), Ok(OptionValue::Number(0)));
        assert_eq!(
            parse_option("quiet", Some("Yes")),
            Ok(OptionValue::Number(1))
        );
        assert_eq!(parse_option("quiet", Some("off")), Ok(OptionValue::Unset));
        assert_eq!(parse_option("quiet", Some("")), Ok(OptionValue::Unset));
        assert_eq!(
            parse_option("quiet", Some("-1")),
            Err(OptionError::BadValue)
        );
        assert_eq!(
            parse_option("quiet", Some("2x")),
            Err(OptionError::BadValue)
        );
        assert_eq!(parse_option("bufsize", None), Ok(OptionValue::Number(0)));
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
        let names: Vec<_> = OPTIONS.iter().map(|o| o.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted, "the table is sorted, each name once");
    }

    #[test]
    fn options_with_their_own_rules() {
        use OptionError::*;
        assert_eq!(parse_option("strsize", Some("1")), Err(BadValue));
        assert_eq!(
            parse_option("strsize", Some("2")),
            Ok(OptionValue::Number(2))
        );
        assert_eq!(parse_option("strsize", Some("5g")), Err(TooLarge));
        assert_eq!(
            parse_option("version", Some("1.6.4")),
            Ok(OptionValue::Text("1.6.4".into()))
        );
        assert_eq!(
            parse_option("version", Some("2.0.1")),
            Err(VersionUnsupported)
        );
        assert_eq!(
            parse_option("version", Some("9.9")),
            Err(VersionUnsupported)
        );
        assert_eq!(parse_option("version", Some("abc")), Err(VersionFormat));
        assert_eq!(parse_option("version", Some("1")), Err(VersionFormat));
        assert_eq!(parse_option("iregs", Some("4")), Err(Registers));
        assert_eq!(parse_option("iregs", Some("9")), Err(BadValue));
        assert_eq!(
            parse_option("disasm", Some("x")),
            Ok(OptionValue::Number(0))
        );
        assert_eq!(
            parse_option("lockmem", Some("junk")),
            Ok(OptionValue::Unset)
        );
        assert_eq!(parse_option("tree", Some("0")), Err(BadValue));
        assert_eq!(
            parse_option("stdc", Some("a")),
            Ok(OptionValue::Text("a".into()))
        );
        assert_eq!(
            parse_option("linktype", Some("DOF")),
            Ok(OptionValue::Text("dof".into()))
        );
        assert_eq!(
            parse_option("droptags", Some("whatever")),
            Ok(OptionValue::Set)
        );
        assert_eq!(
            parse_pragma_option("cpppath", Some("/bin/cpp")),
            Err(NotInProgram)
        );
        assert_eq!(parse_pragma_option("nosuch", None), Err(BadName));
        assert_eq!(
            parse_pragma_option("quiet", None),
            Ok(OptionValue::Number(0))
        );
    }
}
