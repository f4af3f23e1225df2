//! The dtrace(1) command line, parsed getopt-style into [`DtraceArgs`].
//!
//! Flags may be clustered (`-qn BEGIN`), an argument may be attached
//! (`-xquiet`, `-nBEGIN`) or the next word (`-x quiet`), and operands may sit
//! between flags, as with DTrace's own loop around getopt(3). Operands become
//! the macro arguments `$1…`; `--` ends the flags. Lumen's own extensions are
//! long options (`--metrics ADDR`, `--metrics=ADDR`), which no dtrace(1)
//! letter can be confused with. This module only records what was typed:
//! option values are checked later against d-lang's option table.

use d_lang::catalog::DescField;

/// The getopt letters dtrace(1) takes; `:` marks those with an argument.
pub const OPTSTRING: &str = "3:6:aAb:c:CD:ef:FGhHi:I:lL:m:n:o:p:P:qs:SU:vVwx:X:Z";

/// dtrace(1)'s usage text (to stderr, with exit status 2).
pub const USAGE: &str = "\
Usage: dtrace [-32|-64] [-aACeFGhHlqSvVwZ] [-b bufsz] [-c cmd] [-D name[=def]]
\t[-I path] [-L path] [-o output] [-p pid] [-s script] [-U name]
\t[-x opt[=val]] [-X a|c|s|t] [--metrics [host]:port]

\t[-P provider [[ predicate ] action ]]
\t[-m [ provider: ] module [[ predicate ] action ]]
\t[-f [[ provider: ] module: ] func [[ predicate ] action ]]
\t[-n [[[ provider: ] module: ] func: ] name [[ predicate ] action ]]
\t[-i probe-id [[ predicate ] action ]] [ args ... ]

\tpredicate -> '/' D-expression '/'
\t   action -> '{' D-statements '}'

\t-32 generate 32-bit D programs and ELF files
\t-64 generate 64-bit D programs and ELF files

\t-a  claim anonymous tracing state
\t-A  generate driver.conf(4) directives for anonymous tracing
\t-b  set trace buffer size
\t-c  run specified command and exit upon its completion
\t-C  run cpp(1) preprocessor on script files
\t-D  define symbol when invoking preprocessor
\t-e  exit after compiling request but prior to enabling probes
\t-f  enable or list probes matching the specified function name
\t-F  coalesce trace output by function
\t-G  generate an ELF file containing embedded dtrace program
\t-h  generate a header file with definitions for static probes
\t-H  print included files when invoking preprocessor
\t-i  enable or list probes matching the specified probe id
\t-I  add include directory to preprocessor search path
\t-l  list probes matching specified criteria
\t-L  add library directory to library search path
\t-m  enable or list probes matching the specified module name
\t-n  enable or list probes matching the specified probe name
\t-o  set output file
\t-p  grab specified process-ID and cache its symbol tables
\t-P  enable or list probes matching the specified provider name
\t-q  set quiet mode (only output explicitly traced data)
\t-s  enable or list probes according to the specified D script
\t-S  print D compiler intermediate code
\t-U  undefine symbol when invoking preprocessor
\t-v  set verbose mode (report stability attributes, arguments)
\t-V  report DTrace API version
\t-w  permit destructive actions
\t-x  enable or modify compiler and tracing options
\t-X  specify ISO C conformance settings for preprocessor
\t-Z  permit probe descriptions that match zero probes

\t--metrics  serve the aggregations as Prometheus metrics on
\t           http://host:port/metrics while the program runs (Lumen)
";

/// A usage error: the caller prints the message (if any), then [`USAGE`], and exits 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    /// No arguments at all.
    #[error("no arguments")]
    NoArguments,
    /// A letter dtrace(1) does not take (glibc getopt's wording).
    #[error("invalid option -- '{0}'")]
    InvalidOption(char),
    /// A flag that needs an argument was last.
    #[error("option requires an argument -- '{0}'")]
    MissingArgument(char),
    /// `-3`/`-6` not followed by `2`/`4`.
    #[error("invalid data model -{0}")]
    BadDataModel(String),
    /// A `--name` Lumen does not take (glibc getopt's wording).
    #[error("unrecognized option '{0}'")]
    UnrecognizedOption(String),
    /// A long option that needs an argument was last.
    #[error("option '{0}' requires an argument")]
    MissingLongArgument(String),
    /// More than one of the modes `-G -h -l -V`.
    #[error("only one of the [-GhlV] options can be specified at a time")]
    ModeClash,
    /// `-h` or `-G` without a program to take providers from.
    #[error("-{0} requires one or more scripts or enabling options")]
    NoScripts(char),
}

impl UsageError {
    /// The line printed before the usage text, if any.
    pub fn message(&self) -> Option<String> {
        match self {
            UsageError::NoArguments => None,
            other => Some(format!("dtrace: {other}")),
        }
    }
}

/// One D program to compile, in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramArg {
    /// `-s FILE`.
    Script(String),
    /// `-n`, `-P`, `-m` or `-f` with its text; the field says where the
    /// description ends.
    Spec(DescField, String),
    /// `-i ID [...]`.
    ProbeId(String),
}

impl ProgramArg {
    /// The text as typed (file name or specifier).
    pub fn text(&self) -> &str {
        match self {
            ProgramArg::Script(s) | ProgramArg::Spec(_, s) | ProgramArg::ProbeId(s) => s,
        }
    }
}

/// How an option setting was written, for DTrace's error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingOrigin {
    /// `-x name[=value]`.
    X,
    /// `-b size`.
    B,
    /// A flag such as `-q` or `-Z` standing for an option.
    Flag(char),
}

/// One option to set, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionSetting {
    /// Option name (`quiet`, `bufsize`…).
    pub name: String,
    /// Value, if given.
    pub value: Option<String>,
    /// How it was written.
    pub origin: SettingOrigin,
}

impl OptionSetting {
    /// The text DTrace names in `failed to set …`: `-x NAME` or `-b VALUE`.
    pub fn culprit(&self) -> String {
        match self.origin {
            SettingOrigin::X => format!("-x {}", self.name),
            SettingOrigin::B => format!("-b {}", self.value.as_deref().unwrap_or("")),
            SettingOrigin::Flag(c) => format!("-{c}"),
        }
    }
}

/// Everything typed on a dtrace(1) command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DtraceArgs {
    /// `-s -n -P -m -f -i` in order.
    pub programs: Vec<ProgramArg>,
    /// Operands: macro arguments `$1…`.
    pub operands: Vec<String>,
    /// Options from `-x`, `-b` and the flags that stand for options, in order.
    pub settings: Vec<OptionSetting>,
    /// Preprocessor arguments from `-D`, `-U`, `-I` and `-H`, in order
    /// (`-DNAME=V`, `-UNAME`, `-IPATH`, `-H`).
    pub cpp_args: Vec<String>,
    /// `-l`.
    pub list: bool,
    /// `-v`.
    pub verbose: bool,
    /// `-V`.
    pub version: bool,
    /// `-h`: write a C header for the programs' providers.
    pub header: bool,
    /// `-G`: write an object for the programs' providers (operands are
    /// the program's objects, not macro arguments).
    pub generate: bool,
    /// `-e`.
    pub compile_only: bool,
    /// `-S`.
    pub show_ir: bool,
    /// `-o FILE`.
    pub output: Option<String>,
    /// `-L PATH`s (D library directories).
    pub libdirs: Vec<String>,
    /// `-32` or `-64`.
    pub data_model: Option<u32>,
    /// `-c CMD`: commands to run and trace (their pid is `$target`).
    pub commands: Vec<String>,
    /// `-p PID`: processes to trace.
    pub pids: Vec<String>,
    /// Flags Lumen parses but cannot act on yet, as typed (`-G`, `-h`…).
    pub unsupported: Vec<String>,
    /// `--metrics ADDR`: serve the aggregations over HTTP (the last one given).
    pub metrics: Option<String>,
}

/// Parse dtrace(1)'s arguments (without the program name).
pub fn parse(args: &[String]) -> Result<DtraceArgs, UsageError> {
    if args.is_empty() {
        return Err(UsageError::NoArguments);
    }
    let mut out = DtraceArgs::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            out.operands.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value.to_string())),
                None => (long, None),
            };
            if name != "metrics" {
                return Err(UsageError::UnrecognizedOption(format!("--{name}")));
            }
            let value = match attached {
                Some(v) => v,
                None if i < args.len() => {
                    i += 1;
                    args[i - 1].clone()
                }
                None => return Err(UsageError::MissingLongArgument(arg.clone())),
            };
            out.metrics = Some(value);
            continue;
        }
        let Some(cluster) = arg.strip_prefix('-').filter(|c| !c.is_empty()) else {
            out.operands.push(arg.clone());
            continue;
        };
        for (at, letter) in cluster.char_indices() {
            let takes_arg = takes_argument(letter).ok_or(UsageError::InvalidOption(letter))?;
            if !takes_arg {
                out.flag(letter);
                continue;
            }
            let attached = &cluster[at + letter.len_utf8()..];
            let value = if !attached.is_empty() {
                attached.to_string()
            } else if i < args.len() {
                i += 1;
                args[i - 1].clone()
            } else {
                return Err(UsageError::MissingArgument(letter));
            };
            out.flag_with(letter, value)?;
            break;
        }
    }
    let modes = [out.generate, out.header, out.list, out.version];
    if modes.iter().filter(|&&m| m).count() > 1 {
        return Err(UsageError::ModeClash);
    }
    if out.programs.is_empty() && (out.header || out.generate) {
        return Err(UsageError::NoScripts(if out.header { 'h' } else { 'G' }));
    }
    Ok(out)
}

/// `Some(true)` if `letter` takes an argument, `Some(false)` if not, `None` if unknown.
fn takes_argument(letter: char) -> Option<bool> {
    if letter == ':' {
        return None;
    }
    let at = OPTSTRING.find(letter)?;
    Some(OPTSTRING[at + 1..].starts_with(':'))
}

impl DtraceArgs {
    fn set(&mut self, name: &str, value: Option<String>, origin: SettingOrigin) {
        self.settings.push(OptionSetting {
            name: name.to_string(),
            value,
            origin,
        });
    }

    fn flag(&mut self, letter: char) {
        let flag = SettingOrigin::Flag(letter);
        match letter {
            'l' => self.list = true,
            'v' => self.verbose = true,
            'V' => self.version = true,
            'h' => self.header = true,
            'G' => self.generate = true,
            'e' => self.compile_only = true,
            'S' => self.show_ir = true,
            'q' => self.set("quiet", None, flag),
            'F' => self.set("flowindent", None, flag),
            'w' => self.set("destructive", None, flag),
            'Z' => self.set("zdefs", None, flag),
            'C' => self.set("cpp", None, flag),
            'H' => self.cpp_args.push("-H".into()),
            _ => self.unsupported.push(format!("-{letter}")),
        }
    }

    fn flag_with(&mut self, letter: char, value: String) -> Result<(), UsageError> {
        match letter {
            's' => self.programs.push(ProgramArg::Script(value)),
            'n' => self.programs.push(ProgramArg::Spec(DescField::Name, value)),
            'P' => self
                .programs
                .push(ProgramArg::Spec(DescField::Provider, value)),
            'm' => self
                .programs
                .push(ProgramArg::Spec(DescField::Module, value)),
            'f' => self
                .programs
                .push(ProgramArg::Spec(DescField::Function, value)),
            'i' => self.programs.push(ProgramArg::ProbeId(value)),
            'x' => match value.split_once('=') {
                Some((name, v)) => self.set(name, Some(v.to_string()), SettingOrigin::X),
                None => self.set(&value, None, SettingOrigin::X),
            },
            'b' => self.set("bufsize", Some(value), SettingOrigin::B),
            'D' => self.cpp_args.push(format!("-D{value}")),
            'U' => self.cpp_args.push(format!("-U{value}")),
            'I' => self.cpp_args.push(format!("-I{value}")),
            'o' => self.output = Some(value),
            'c' => self.commands.push(value),
            'p' => self.pids.push(value),
            'L' => self.libdirs.push(value),
            '3' | '6' => {
                self.data_model = Some(match (letter, value.as_str()) {
                    ('3', "2") => 32,
                    ('6', "4") => 64,
                    _ => return Err(UsageError::BadDataModel(format!("{letter}{value}"))),
                })
            }
            _ => self.unsupported.push(format!("-{letter} {value}")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<DtraceArgs, UsageError> {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn clustered_flags_and_attached_arguments() {
        let a = p(&["-qn", "BEGIN", "-xbufsize=8k", "-x", "errtags", "-lvZ"]).unwrap();
        assert_eq!(
            a.programs,
            [ProgramArg::Spec(DescField::Name, "BEGIN".into())]
        );
        assert!(a.list && a.verbose);
        let names: Vec<_> = a
            .settings
            .iter()
            .map(|s| (s.name.as_str(), s.value.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                ("quiet", None),
                ("bufsize", Some("8k")),
                ("errtags", None),
                ("zdefs", None)
            ]
        );
        let a = p(&["-nBEGIN{exit(0)}"]).unwrap();
        assert_eq!(a.programs[0].text(), "BEGIN{exit(0)}");
    }

    #[test]
    fn program_order_and_operands() {
        let a = p(&[
            "-s", "a.d", "foo", "-P", "syscall", "-m", "vmlinux", "-f", "read", "-i", "3", "bar",
        ])
        .unwrap();
        assert_eq!(
            a.programs,
            [
                ProgramArg::Script("a.d".into()),
                ProgramArg::Spec(DescField::Provider, "syscall".into()),
                ProgramArg::Spec(DescField::Module, "vmlinux".into()),
                ProgramArg::Spec(DescField::Function, "read".into()),
                ProgramArg::ProbeId("3".into()),
            ]
        );
        assert_eq!(a.operands, ["foo", "bar"]);
        let a = p(&["-n", "BEGIN", "--", "-q", "x"]).unwrap();
        assert_eq!(a.operands, ["-q", "x"]);
        assert!(a.settings.is_empty());
        let a = p(&["-n", "BEGIN", "-"]).unwrap();
        assert_eq!(a.operands, ["-"]);
    }

    #[test]
    fn data_models_and_cpp() {
        assert_eq!(p(&["-64", "-l"]).unwrap().data_model, Some(64));
        assert_eq!(p(&["-3", "2", "-l"]).unwrap().data_model, Some(32));
        assert!(matches!(p(&["-33"]), Err(UsageError::BadDataModel(_))));
        let a = p(&["-C", "-DFOO=1", "-U", "BAR", "-I/x", "-H", "-s", "f.d"]).unwrap();
        assert_eq!(a.cpp_args, ["-DFOO=1", "-UBAR", "-I/x", "-H"]);
        assert_eq!(a.settings[0].name, "cpp");
    }

    #[test]
    fn usage_errors() {
        assert_eq!(p(&[]), Err(UsageError::NoArguments));
        assert_eq!(p(&["-k"]), Err(UsageError::InvalidOption('k')));
        assert_eq!(p(&["-q:"]), Err(UsageError::InvalidOption(':')));
        assert_eq!(p(&["-n"]), Err(UsageError::MissingArgument('n')));
        assert_eq!(p(&["-ql", "-x"]), Err(UsageError::MissingArgument('x')));
        assert_eq!(
            UsageError::InvalidOption('k').message().unwrap(),
            "dtrace: invalid option -- 'k'"
        );
    }

    #[test]
    fn metrics_long_option_anywhere() {
        let a = p(&["-q", "--metrics", ":9100", "-n", "BEGIN"]).unwrap();
        assert_eq!(a.metrics.as_deref(), Some(":9100"));
        assert_eq!(a.programs[0].text(), "BEGIN");
        let a = p(&["-n", "BEGIN", "x", "--metrics=127.0.0.1:0", "-q"]).unwrap();
        assert_eq!(a.metrics.as_deref(), Some("127.0.0.1:0"));
        assert_eq!(a.operands, ["x"]);
        assert_eq!(a.settings[0].name, "quiet");
        // After `--` it is an operand like any other word.
        let a = p(&["-n", "BEGIN", "--", "--metrics", "x"]).unwrap();
        assert_eq!(
            (a.metrics, a.operands),
            (None, vec!["--metrics".into(), "x".into()])
        );
        assert_eq!(
            p(&["-n", "BEGIN", "--metrics"]),
            Err(UsageError::MissingLongArgument("--metrics".into()))
        );
        assert_eq!(
            p(&["--metric=1", "-n", "BEGIN"]),
            Err(UsageError::UnrecognizedOption("--metric".into()))
        );
        assert_eq!(
            UsageError::UnrecognizedOption("--x".into())
                .message()
                .unwrap(),
            "dtrace: unrecognized option '--x'"
        );
        assert!(USAGE.contains("[--metrics [host]:port]"));
    }

    #[test]
    fn header_and_object_modes() {
        let a = p(&["-h", "-s", "prov.d", "-o", "prov.h"]).unwrap();
        assert!(a.header && !a.generate);
        let a = p(&["-G", "-s", "prov.d", "a.o", "b.o"]).unwrap();
        assert!(a.generate);
        assert_eq!(a.operands, ["a.o", "b.o"]);
        assert_eq!(p(&["-h", "-G", "-s", "x.d"]), Err(UsageError::ModeClash));
        assert_eq!(p(&["-l", "-V"]), Err(UsageError::ModeClash));
        assert_eq!(p(&["-h"]), Err(UsageError::NoScripts('h')));
        assert_eq!(
            UsageError::NoScripts('G').message().unwrap(),
            "dtrace: -G requires one or more scripts or enabling options"
        );
    }

    #[test]
    fn settings_and_unsupported() {
        let a = p(&["-b", "16m", "-A", "-X", "s", "-o", "out.txt", "-l"]).unwrap();
        assert_eq!(a.settings[0].culprit(), "-b 16m");
        assert_eq!(a.unsupported, ["-A", "-X s"]);
        assert_eq!(a.output.as_deref(), Some("out.txt"));
        let a = p(&["-c", "ls -l", "-p", "42", "-n", "BEGIN"]).unwrap();
        assert_eq!(a.commands, ["ls -l"]);
        assert_eq!(a.pids, ["42"]);
        let a = p(&["-xfoo=bar"]).unwrap();
        assert_eq!(a.settings[0].culprit(), "-x foo");
        assert_eq!(a.settings[0].value.as_deref(), Some("bar"));
    }
}
