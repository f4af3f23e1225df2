//! The record prefix: the `CPU ID FUNCTION:NAME` header and line, and -F flow indentation (D-REFERENCE §1).

use std::fmt::Write;

/// The header printed once before the first record (not with `-q`).
pub const HEADER: &str = "CPU     ID                    FUNCTION:NAME\n";

/// The header printed once before the first record with `-F`.
pub const FLOW_HEADER: &str = "CPU FUNCTION                                 \n";

/// Append the prefix of a record: cpu right 3, probe id right 6,
/// `func:name` right 32 (never cut), and a blank. BEGIN's function is
/// empty, giving `:BEGIN`. Nothing with `-q` (`quiet`).
pub fn record_prefix(cpu: u32, id: u32, func: &str, name: &str, quiet: bool, out: &mut String) {
    if quiet {
        return;
    }
    let _ = write!(out, "{cpu:>3} {id:>6} {:>32} ", format!("{func}:{name}"));
}

/// How a probe moves the -F indentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowKind {
    /// Name `entry` or ending in `-entry`: printed with ` -> ` (` => ` for
    /// syscall), then the indent grows.
    Entry,
    /// Name `return` or ending in `-return`: the indent shrinks, then
    /// printed with ` <- ` (` <= `).
    Return,
    /// Anything else: `| func:name` at the current indent.
    None,
}

/// Classify a probe name as dt_consume.c's `dt_flowindent` does (so
/// `method-entry` counts, `carpentry` does not).
pub fn flow_kind(name: &str) -> FlowKind {
    let ends = |suffix: &str| {
        name.strip_suffix(suffix)
            .is_some_and(|head| head.is_empty() || head.ends_with('-'))
    };
    if ends("entry") {
        FlowKind::Entry
    } else if ends("return") {
        FlowKind::Return
    } else {
        FlowKind::None
    }
}

/// -F (flowindent) state: the current indent, in spaces (2 per depth).
///
/// unverified: DTrace keeps one indent per consumer pass and skips
/// indenting when consecutive records come from the same probe through
/// different enablings; Lumen keeps one indent and does not apply that
/// heuristic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowIndent {
    indent: usize,
}

impl FlowIndent {
    /// A fresh state (no indent).
    pub fn new() -> FlowIndent {
        FlowIndent::default()
    }

    /// The current indent in spaces.
    pub fn indent(&self) -> usize {
        self.indent
    }

    /// Append the -F prefix of a record and advance the state: cpu right 3,
    /// a blank, then indent + marker + function (`| func:name` for other
    /// probes) left-justified in 41, then a blank. Printed even with `-q`
    /// (dtrace.c's `chew`).
    pub fn record_prefix(
        &mut self,
        cpu: u32,
        provider: &str,
        func: &str,
        name: &str,
        out: &mut String,
    ) {
        let syscall = provider == "syscall";
        let kind = flow_kind(name);
        if kind == FlowKind::Return {
            self.indent = self.indent.saturating_sub(2);
        }
        let text = match kind {
            FlowKind::Entry => format!(
                "{:w$}{}{func}",
                "",
                if syscall { " => " } else { " -> " },
                w = self.indent
            ),
            FlowKind::Return => format!(
                "{:w$}{}{func}",
                "",
                if syscall { " <= " } else { " <- " },
                w = self.indent
            ),
            FlowKind::None => format!("{:w$}| {func}:{name}", "", w = self.indent),
        };
        let _ = write!(out, "{cpu:>3} {text:<41} ");
        if kind == FlowKind::Entry {
            self.indent += 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_widths() {
        assert_eq!(
            HEADER,
            format!("{:>3} {:>6} {:>32}\n", "CPU", "ID", "FUNCTION:NAME")
        );
        assert_eq!(FLOW_HEADER, format!("{:>3} {:<41}\n", "CPU", "FUNCTION"));
    }

    #[test]
    fn record_lines() {
        let mut s = String::new();
        record_prefix(0, 1, "", "BEGIN", false, &mut s);
        assert_eq!(s, "  0      1                           :BEGIN ");
        let mut s = String::new();
        record_prefix(12, 123456, "do_sys_openat2", "entry", false, &mut s);
        assert_eq!(
            s,
            format!(" 12 123456 {}do_sys_openat2:entry ", " ".repeat(12))
        );
        let long = "f".repeat(40);
        let mut s = String::new();
        record_prefix(1, 7, &long, "return", false, &mut s);
        assert_eq!(s, format!("  1      7 {long}:return "));
        let mut s = String::new();
        record_prefix(1, 7, "f", "entry", true, &mut s);
        assert_eq!(s, "");
    }

    #[test]
    fn flow_kinds() {
        assert_eq!(flow_kind("entry"), FlowKind::Entry);
        assert_eq!(flow_kind("method-entry"), FlowKind::Entry);
        assert_eq!(flow_kind("carpentry"), FlowKind::None);
        assert_eq!(flow_kind("return"), FlowKind::Return);
        assert_eq!(flow_kind("function-return"), FlowKind::Return);
        assert_eq!(flow_kind("noreturn"), FlowKind::None);
        assert_eq!(flow_kind("BEGIN"), FlowKind::None);
    }

    #[test]
    fn flow_indentation() {
        let mut f = FlowIndent::new();
        let mut s = String::new();
        f.record_prefix(0, "fbt", "vfs_read", "entry", &mut s);
        s.push('\n');
        f.record_prefix(0, "fbt", "rw_verify_area", "entry", &mut s);
        s.push('\n');
        f.record_prefix(0, "profile", "", "tick-1s", &mut s);
        s.push('\n');
        f.record_prefix(0, "fbt", "rw_verify_area", "return", &mut s);
        s.push('\n');
        f.record_prefix(0, "fbt", "vfs_read", "return", &mut s);
        s.push('\n');
        f.record_prefix(1, "syscall", "read", "entry", &mut s);
        s.push('\n');
        f.record_prefix(1, "syscall", "read", "return", &mut s);
        s.push('\n');
        f.record_prefix(1, "syscall", "read", "return", &mut s);
        let want = [
            "  0  -> vfs_read",
            "  0    -> rw_verify_area",
            "  0     | :tick-1s",
            "  0    <- rw_verify_area",
            "  0  <- vfs_read",
            "  1  => read",
            "  1  <= read",
            "  1  <= read",
        ]
        .map(|l| format!("{l}{}", " ".repeat(46 - l.len())))
        .join("\n");
        assert_eq!(s, want);
        assert_eq!(f.indent(), 0);
    }
}
