//! stack()/ustack() frames as text (D-REFERENCE §6), unsymbolized for now.

use std::fmt::Write;

/// The default indent of stack frames (option `stackindent`).
pub const STACK_INDENT: usize = 14;

/// Append a stack: `\n`, then one line per frame, `indent` spaces and the
/// frame text, stopping at the first zero pc. Frames print as `0xADDR`
/// (lowercase hex) until symbolization (``module`symbol+0xOFF``) exists.
pub fn format_stack(pcs: &[u64], indent: usize, out: &mut String) {
    out.push('\n');
    for &pc in pcs.iter().take_while(|&&pc| pc != 0) {
        let _ = writeln!(out, "{:indent$}0x{pc:x}", "");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_stop_at_zero() {
        let mut s = String::new();
        format_stack(&[0xffffffff81000010, 0x4005d0, 0, 7], STACK_INDENT, &mut s);
        assert_eq!(
            s,
            "\n              0xffffffff81000010\n              0x4005d0\n"
        );
        let mut s = String::new();
        format_stack(&[], 0, &mut s);
        assert_eq!(s, "\n");
    }
}
