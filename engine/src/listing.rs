//! `-l` output: probe rows in DTrace's column layout, and `-l -v`'s stability and argument blocks.

use crate::providers::stability_of;
use d_lang::catalog::{ProbeArg, ProbeInfo};

/// The header line (with newline): `   ID   PROVIDER   MODULE   FUNCTION NAME`.
pub fn header() -> String {
    format!(
        "{:>5} {:>10} {:>17} {:>33} {}\n",
        "ID", "PROVIDER", "MODULE", "FUNCTION", "NAME"
    )
}

/// One probe's row (with newline); long fields overflow their column, as in DTrace.
pub fn row(p: &ProbeInfo) -> String {
    format!(
        "{:>5} {:>10} {:>17} {:>33} {}\n",
        p.id, p.provider, p.module, p.function, p.name
    )
}

/// The block `-l -v` prints after a probe's row.
pub fn verbose_block(provider: &str, args: &[ProbeArg]) -> String {
    let level = stability_of(provider).as_str();
    let attrs = format!(
        "\t\tIdentifier Names: {level}\n\t\tData Semantics:   {level}\n\t\tDependency Class: Common\n"
    );
    let mut s = format!(
        "\n\tProbe Description Attributes\n{attrs}\n\tArgument Attributes\n{attrs}\n\tArgument Types\n"
    );
    if args.is_empty() {
        s.push_str("\t\tNone\n");
    }
    for (i, a) in args.iter().enumerate() {
        s.push_str(&format!("\t\targs[{i}]: {}\n", a.d_type));
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(id: u32, p: &str, m: &str, f: &str, n: &str) -> ProbeInfo {
        ProbeInfo {
            id,
            provider: p.into(),
            module: m.into(),
            function: f.into(),
            name: n.into(),
            args: vec![],
        }
    }

    #[test]
    fn layout() {
        assert_eq!(
            header(),
            "   ID   PROVIDER            MODULE                          FUNCTION NAME\n"
        );
        assert_eq!(
            row(&probe(1, "dtrace", "", "", "BEGIN")),
            "    1     dtrace                                                     BEGIN\n"
        );
        assert_eq!(
            row(&probe(812, "syscall", "vmlinux", "read", "entry")),
            "  812    syscall           vmlinux                              read entry\n"
        );
    }

    #[test]
    fn verbose() {
        assert_eq!(
            verbose_block("dtrace", &[]),
            "\n\tProbe Description Attributes\n\t\tIdentifier Names: Stable\n\t\tData Semantics:   Stable\n\t\tDependency Class: Common\n\n\tArgument Attributes\n\t\tIdentifier Names: Stable\n\t\tData Semantics:   Stable\n\t\tDependency Class: Common\n\n\tArgument Types\n\t\tNone\n\n"
        );
        let arg = ProbeArg {
            name: "fd".into(),
            native_type: "unsigned int".into(),
            d_type: "unsigned int".into(),
        };
        let b = verbose_block("syscall", &[arg]);
        assert!(b.contains("Identifier Names: Evolving"));
        assert!(b.ends_with("\tArgument Types\n\t\targs[0]: unsigned int\n\n"));
    }
}
