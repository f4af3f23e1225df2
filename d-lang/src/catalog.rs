//! What the compiler knows of the system: probes, through the [`ProbeCatalog`] trait.
//!
//! d-lang makes no syscalls. The engine implements this trait from the live
//! kernel (tracefs, BTF, USDT notes); tests implement it from a table.

use std::fmt;

/// A probe description as written in D: four fields, each possibly a glob
/// (`*`, `?`, `[…]`, `\` escapes); an empty field matches anything.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ProbeDesc {
    /// Provider field, e.g. `syscall`.
    pub provider: String,
    /// Module field.
    pub module: String,
    /// Function field, e.g. `read`.
    pub function: String,
    /// Name field, e.g. `entry`.
    pub name: String,
}

impl ProbeDesc {
    /// Fill fields from a colon-separated description, aligning the given
    /// fields so that the last one lands on `last` (DTrace's probe spec kinds:
    /// `-n` ends at the name, `-P` at the provider, `-m` at the module, `-f` at
    /// the function).
    pub fn parse(text: &str, last: DescField) -> Result<ProbeDesc, String> {
        let parts: Vec<&str> = split_fields(text);
        let last_index = last as usize;
        if parts.len() > last_index + 1 {
            return Err(format!(
                "invalid probe description \"{text}\": too many fields"
            ));
        }
        let mut fields: [String; 4] = Default::default();
        let first = last_index + 1 - parts.len();
        for (i, p) in parts.iter().enumerate() {
            fields[first + i] = (*p).to_string();
        }
        let [provider, module, function, name] = fields;
        Ok(ProbeDesc {
            provider,
            module,
            function,
            name,
        })
    }

    /// Whether a concrete probe's fields match this description's globs.
    pub fn matches(&self, probe: &ProbeInfo) -> bool {
        glob_match(&self.provider, &probe.provider)
            && glob_match(&self.module, &probe.module)
            && glob_match(&self.function, &probe.function)
            && glob_match(&self.name, &probe.name)
    }

    /// True when no field contains a glob character.
    pub fn is_exact(&self) -> bool {
        [&self.provider, &self.module, &self.function, &self.name]
            .iter()
            .all(|f| !f.contains(['*', '?', '[', '\\']))
    }
}

/// Split on `:` but not inside `[...]` classes or after a `\` escape.
fn split_fields(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_class = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' => in_class = true,
            ']' => in_class = false,
            ':' if !in_class => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

impl fmt::Display for ProbeDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}:{}",
            self.provider, self.module, self.function, self.name
        )
    }
}

/// Which field a probe specifier ends at (`-n`, `-P`, `-m`, `-f`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DescField {
    /// `-P provider`
    Provider = 0,
    /// `-m [provider:]module`
    Module = 1,
    /// `-f [[provider:]module:]function`
    Function = 2,
    /// `-n [[[provider:]module:]function:]name`, and clauses in scripts
    Name = 3,
}

/// DTrace glob matching: `*`, `?`, `[a-z]`, `[!x]`, and `\` escapes. An empty
/// pattern matches everything. Works on bytes and allocates nothing: the
/// catalogue calls it for every probe of every description.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    if pattern.is_empty() {
        return true;
    }
    let p = pattern.as_bytes();
    if !p.iter().any(|b| matches!(b, b'*' | b'?' | b'[' | b'\\')) {
        return pattern == text;
    }
    glob_at(p, text.as_bytes())
}

fn glob_at(p: &[u8], t: &[u8]) -> bool {
    // Iterative matcher with single-star backtracking: linear in practice and
    // never recursive on `*`, so hostile patterns cannot blow the stack.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                b'*' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                b'?' => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                b'[' => {
                    if let Some((ok, next)) = class_match(&p[pi..], t[ti]) {
                        if ok {
                            pi += next;
                            ti += 1;
                            continue;
                        }
                    } else if t[ti] == b'[' {
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                }
                b'\\' if pi + 1 < p.len() => {
                    if p[pi + 1] == t[ti] {
                        pi += 2;
                        ti += 1;
                        continue;
                    }
                }
                c => {
                    if c == t[ti] {
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Match one `[...]` class at the start of `p`; returns (matched, pattern length).
fn class_match(p: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(1), Some(b'!') | Some(b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() {
        let lo = p[i];
        if lo == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if i + 2 < p.len() && p[i + 1] == b'-' && p[i + 2] != b']' {
            if lo <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if lo == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

/// One probe argument: its native (C) type and its D type, both as type text
/// the compiler parses (`const char *`, `uint64_t`, `char [16]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeArg {
    /// The argument's name where the provider knows one (tracepoint field names).
    pub name: String,
    /// The type as the kernel or program records it.
    pub native_type: String,
    /// The type `args[N]` has in D (after translation), usually the same.
    pub d_type: String,
}

/// A concrete, enabled-or-enableable probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeInfo {
    /// DTrace probe ID (1-based, stable for the life of the catalogue).
    pub id: u32,
    /// Provider name.
    pub provider: String,
    /// Module name.
    pub module: String,
    /// Function name.
    pub function: String,
    /// Probe name.
    pub name: String,
    /// Typed arguments, `args[0]…`.
    pub args: Vec<ProbeArg>,
}

impl ProbeInfo {
    /// `provider:module:function:name`.
    pub fn full_name(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.provider, self.module, self.function, self.name
        )
    }
}

/// The probes the compiler may match clauses against.
pub trait ProbeCatalog {
    /// Every probe matching `desc`, in ID order. On-demand providers (such as
    /// `profile-N`) create the probe when an exact description names it.
    fn matching(&self, desc: &ProbeDesc) -> Vec<ProbeInfo>;

    /// The typed arguments of `probe`, for `args[]`. A catalogue may leave
    /// [`ProbeInfo::args`] empty in [`ProbeCatalog::matching`] and give
    /// them here, when they are asked for: a clause on every kernel
    /// function need not type a quarter of a million probes to use none of
    /// their arguments.
    fn probe_args(&self, probe: &ProbeInfo) -> Vec<ProbeArg> {
        probe.args.clone()
    }

    /// A kernel type by its D spelling — `struct task_struct`, `union X`,
    /// `enum X` or a typedef name — from the kernel's type information
    /// (BTF), for names a program uses without declaring them. Structs and
    /// unions come complete. `None` where there is no such type (or no
    /// kernel, as in tests).
    fn kernel_type(&self, _name: &str) -> Option<crate::types::Type> {
        None
    }

    /// A kernel symbol (`` `name ``): its address, and its type where the
    /// kernel's type information has one. `None` if there is no such symbol.
    fn kernel_symbol(&self, _name: &str) -> Option<KernelSymbol> {
        None
    }
}

/// A kernel symbol as D sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelSymbol {
    /// Its address (from kallsyms).
    pub addr: u64,
    /// Its type, if known.
    pub ty: Option<crate::types::Type>,
    /// A per-CPU variable: `addr` is an offset into each CPU's area.
    pub per_cpu: bool,
}

/// A catalogue backed by a fixed list, for tests and for tools that know
/// their probes up front.
#[derive(Debug, Clone, Default)]
pub struct StaticCatalog {
    /// The probes, in ID order.
    pub probes: Vec<ProbeInfo>,
}

impl StaticCatalog {
    /// Add a probe with the next ID; `args` are `(name, type)` pairs.
    pub fn add(
        &mut self,
        provider: &str,
        module: &str,
        function: &str,
        name: &str,
        args: &[(&str, &str)],
    ) -> u32 {
        let id = self.probes.len() as u32 + 1;
        self.probes.push(ProbeInfo {
            id,
            provider: provider.into(),
            module: module.into(),
            function: function.into(),
            name: name.into(),
            args: args
                .iter()
                .map(|(n, t)| ProbeArg {
                    name: (*n).into(),
                    native_type: (*t).into(),
                    d_type: (*t).into(),
                })
                .collect(),
        });
        id
    }
}

impl ProbeCatalog for StaticCatalog {
    fn matching(&self, desc: &ProbeDesc) -> Vec<ProbeInfo> {
        self.probes
            .iter()
            .filter(|p| desc.matches(p))
            .cloned()
            .collect()
    }
}

impl StaticCatalog {
    /// A small catalogue shaped like Lumen's view of Linux (dtrace, profile,
    /// syscall, proc, sched, io and a few `sdt` tracepoints), for tests,
    /// benchmarks and fuzzing of the compiler without a kernel.
    pub fn sample() -> StaticCatalog {
        let mut c = StaticCatalog::default();
        c.add("dtrace", "", "", "BEGIN", &[]);
        c.add("dtrace", "", "", "END", &[]);
        c.add("dtrace", "", "", "ERROR", &[]);
        for p in [
            "profile-97",
            "profile-199",
            "profile-997",
            "profile-1ms",
            "tick-1",
            "tick-10",
            "tick-1s",
            "tick-5s",
            "tick-10s",
            "tick-1sec",
            "tick-5sec",
            "tick-10ms",
        ] {
            c.add("profile", "", "", p, &[]);
        }
        let syscalls: &[(&str, &[(&str, &str)])] = &[
            (
                "read",
                &[
                    ("fd", "unsigned int"),
                    ("buf", "char *"),
                    ("count", "size_t"),
                ],
            ),
            (
                "write",
                &[
                    ("fd", "unsigned int"),
                    ("buf", "const char *"),
                    ("count", "size_t"),
                ],
            ),
            (
                "open",
                &[
                    ("filename", "const char *"),
                    ("flags", "int"),
                    ("mode", "umode_t"),
                ],
            ),
            (
                "openat",
                &[
                    ("dfd", "int"),
                    ("filename", "const char *"),
                    ("flags", "int"),
                    ("mode", "umode_t"),
                ],
            ),
            ("close", &[("fd", "unsigned int")]),
            ("getpid", &[]),
            (
                "nanosleep",
                &[
                    ("rqtp", "struct __kernel_timespec *"),
                    ("rmtp", "struct __kernel_timespec *"),
                ],
            ),
            (
                "execve",
                &[
                    ("filename", "const char *"),
                    ("argv", "const char *const *"),
                    ("envp", "const char *const *"),
                ],
            ),
            (
                "mmap",
                &[
                    ("addr", "unsigned long"),
                    ("len", "unsigned long"),
                    ("prot", "unsigned long"),
                    ("flags", "unsigned long"),
                    ("fd", "unsigned long"),
                    ("off", "unsigned long"),
                ],
            ),
        ];
        for (name, args) in syscalls {
            c.add("syscall", "vmlinux", name, "entry", args);
            c.add("syscall", "vmlinux", name, "return", &[("ret", "long")]);
        }
        c.add("proc", "", "", "exec", &[("path", "string")]);
        c.add("proc", "", "", "exec-failure", &[("errno", "int")]);
        c.add("proc", "", "", "exec-success", &[]);
        c.add("proc", "", "", "exit", &[("reason", "int")]);
        c.add("proc", "", "", "create", &[("pid", "pid_t")]);
        c.add(
            "proc",
            "",
            "",
            "signal-send",
            &[("pid", "pid_t"), ("sig", "int")],
        );
        c.add("sched", "", "", "on-cpu", &[]);
        c.add("sched", "", "", "off-cpu", &[]);
        c.add("sched", "", "", "sleep", &[]);
        c.add("sched", "", "", "preempt", &[]);
        c.add("sched", "", "", "wakeup", &[("pid", "pid_t")]);
        c.add("sched", "", "", "enqueue", &[]);
        // DTrace's stable arguments, as the engine's `io` provider
        // translates them.
        c.add(
            "io",
            "",
            "",
            "start",
            &[
                ("bp", "bufinfo_t *"),
                ("dp", "devinfo_t *"),
                ("fp", "fileinfo_t *"),
            ],
        );
        // The network providers, with DTrace's translated types.
        let pkt: &[(&str, &str)] = &[
            ("pkt", "pktinfo_t *"),
            ("cs", "csinfo_t *"),
            ("ip", "ipinfo_t *"),
            ("ifp", "ifinfo_t *"),
            ("ipv4", "ipv4info_t *"),
            ("ipv6", "void *"),
        ];
        for n in ["send", "receive"] {
            c.add("ip", "", "", n, pkt);
        }
        let tcp: &[(&str, &str)] = &[
            ("pkt", "pktinfo_t *"),
            ("cs", "csinfo_t *"),
            ("ip", "ipinfo_t *"),
            ("tcps", "tcpsinfo_t *"),
            ("tcp", "tcpinfo_t *"),
        ];
        for n in [
            "accept-established",
            "accept-refused",
            "connect-established",
            "connect-refused",
            "connect-request",
            "send",
            "receive",
        ] {
            c.add("tcp", "", "", n, tcp);
        }
        c.add(
            "tcp",
            "",
            "",
            "state-change",
            &[
                ("pkt", "void *"),
                ("cs", "csinfo_t *"),
                ("ip", "void *"),
                ("tcps", "tcpsinfo_t *"),
                ("tcp", "void *"),
                ("tcpls", "tcplsinfo_t *"),
            ],
        );
        for n in ["send", "receive"] {
            c.add(
                "udp",
                "",
                "",
                n,
                &[
                    ("pkt", "pktinfo_t *"),
                    ("cs", "csinfo_t *"),
                    ("ip", "ipinfo_t *"),
                    ("udps", "udpsinfo_t *"),
                    ("udp", "udpinfo_t *"),
                ],
            );
        }
        c.add(
            "vnic",
            "",
            "",
            "tx",
            &[("vnic", "string"), ("bytes", "uint32_t")],
        );
        c.add(
            "vnic",
            "",
            "",
            "rx",
            &[("vnic", "string"), ("bytes", "uint32_t")],
        );
        c.add(
            "vnic",
            "",
            "",
            "drop",
            &[
                ("vnic", "string"),
                ("bytes", "uint32_t"),
                ("reason", "string"),
            ],
        );
        c.add(
            "io",
            "",
            "",
            "done",
            &[
                ("bp", "bufinfo_t *"),
                ("dp", "devinfo_t *"),
                ("fp", "fileinfo_t *"),
            ],
        );
        c.add(
            "sdt",
            "sched",
            "",
            "sched_switch",
            &[
                ("prev_comm", "char [16]"),
                ("prev_pid", "pid_t"),
                ("prev_prio", "int"),
                ("prev_state", "long"),
                ("next_comm", "char [16]"),
                ("next_pid", "pid_t"),
                ("next_prio", "int"),
            ],
        );
        c.add(
            "sdt",
            "sched",
            "",
            "sched_process_exec",
            &[
                ("filename", "string"),
                ("pid", "pid_t"),
                ("old_pid", "pid_t"),
            ],
        );
        c.add(
            "sdt",
            "block",
            "",
            "block_rq_issue",
            &[
                ("dev", "dev_t"),
                ("sector", "sector_t"),
                ("nr_sector", "unsigned int"),
                ("bytes", "unsigned int"),
            ],
        );
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("", "anything"));
        assert!(glob_match("read*", "readv"));
        assert!(glob_match("*read*", "pread64"));
        assert!(!glob_match("read", "readv"));
        assert!(glob_match("r?ad", "read"));
        assert!(glob_match("[rw]rite", "write"));
        assert!(glob_match("[!r]ead", "lead"));
        assert!(!glob_match("[!r]ead", "read"));
        assert!(glob_match("[a-c]x", "bx"));
        assert!(glob_match("a\\*", "a*"));
        assert!(!glob_match("a\\*", "ab"));
        assert!(glob_match("*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaab"));
        assert!(!glob_match("*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    }

    #[test]
    fn desc_alignment() {
        let d = ProbeDesc::parse("read:entry", DescField::Name).unwrap();
        assert_eq!(d.function, "read");
        assert_eq!(d.name, "entry");
        let d = ProbeDesc::parse("syscall", DescField::Provider).unwrap();
        assert_eq!(d.provider, "syscall");
        let d = ProbeDesc::parse("syscall::read", DescField::Function).unwrap();
        assert_eq!(
            (d.provider.as_str(), d.function.as_str()),
            ("syscall", "read")
        );
        assert!(ProbeDesc::parse("a:b:c:d:e", DescField::Name).is_err());
        assert!(ProbeDesc::parse("a:b", DescField::Provider).is_err());
    }
}
