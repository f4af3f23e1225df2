//! stack()/ustack() frames and symbolic addresses as text (D-REFERENCE §6).

use std::fmt::Write;

/// The default indent of stack frames (option `stackindent`).
pub const STACK_INDENT: usize = 14;

/// Append a kernel stack: `\n`, then one line per frame, `indent` spaces
/// and ``module`symbol+0xOFF``, stopping at the first zero pc.
pub fn format_stack(pcs: &[u64], indent: usize, out: &mut String) {
    out.push('\n');
    for &pc in pcs.iter().take_while(|&&pc| pc != 0) {
        let loc = crate::symbols::kernel(pc);
        let _ = writeln!(
            out,
            "{:indent$}{}",
            "",
            crate::symbols::text(loc.as_ref(), pc, true)
        );
    }
}

/// Append a user stack of process `pid`, as [`format_stack`]; frames name
/// the object's basename.
pub fn format_ustack(pid: u32, pcs: &[u64], indent: usize, out: &mut String) {
    out.push('\n');
    for &pc in pcs.iter().take_while(|&&pc| pc != 0) {
        let loc = crate::symbols::user(pid, pc);
        let _ = writeln!(
            out,
            "{:indent$}{}",
            "",
            crate::symbols::text(loc.as_ref(), pc, true)
        );
    }
}

/// The text of a symbolic address value: ``module`function``, `module`,
/// or ``module`function+0xoff`` (uaddr).
pub fn addr_text(addr: u64, pid: Option<u32>, kind: d_lang::codegen::AddrKind) -> String {
    use d_lang::codegen::AddrKind;
    let loc = match pid {
        Some(p) => crate::symbols::user(p, addr),
        None => crate::symbols::kernel(addr),
    };
    match kind {
        AddrKind::Module => match &loc {
            Some(l) if !l.module.is_empty() => l.module.clone(),
            _ => format!("0x{addr:x}"),
        },
        AddrKind::Function => crate::symbols::text(loc.as_ref(), addr, false),
        AddrKind::Offset => crate::symbols::text(loc.as_ref(), addr, true),
    }
}

/// Append any stack value, as [`format_stack`] or [`format_ustack`];
/// `false` if `v` is not a stack.
pub fn format_any(v: &crate::model::value::Value, indent: usize, out: &mut String) -> bool {
    use crate::model::value::Value;
    match v {
        Value::Stack(pcs) => format_stack(pcs, indent, out),
        Value::UStack { pid, pcs } => format_ustack(*pid, pcs, indent, out),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_stop_at_zero() {
        let mut s = String::new();
        format_stack(&[0x10, 0x4005d0, 0, 7], STACK_INDENT, &mut s);
        assert_eq!(s, "\n              0x10\n              0x4005d0\n");
        let mut s = String::new();
        format_stack(&[], 0, &mut s);
        assert_eq!(s, "\n");
    }
}
