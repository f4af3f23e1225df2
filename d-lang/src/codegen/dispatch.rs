//! The syscall dispatcher: one tracepoint program on
//! `raw_syscalls:sys_enter` (or `sys_exit`) that tail-calls, by syscall
//! number, the program of each traced syscall, so that a script on many
//! syscalls needs two attachments instead of hundreds (each costs tens of
//! milliseconds to detach). The per-syscall programs read their arguments
//! (`args[]` at 16 + 8n, `ret` at 16) where their own `sys_enter_*` /
//! `sys_exit_*` records keep them, which the raw record does too.

use super::insn::{reg::*, Insn, Size, PSEUDO_MAP_FD};

/// `bpf_tail_call`.
const TAIL_CALL: i32 = 12;
/// Where the raw syscall record keeps the syscall's number (`long id`).
const RAW_SYSCALL_ID: i16 = 8;

/// The dispatcher's instructions, tail-calling through the prog array
/// whose fd is `table_fd` (a loaded map's descriptor).
pub fn syscall_dispatcher(table_fd: i32) -> Vec<Insn> {
    let mut insns = Vec::new();
    // r2 = &table; r3 = ctx->id; tail_call(ctx, table, id)
    insns.extend(Insn::ld_imm64(R2, PSEUDO_MAP_FD, table_fd as u64));
    insns.push(Insn::ldx(Size::DW, R3, R1, RAW_SYSCALL_ID));
    insns.push(Insn::call(TAIL_CALL));
    // No program for this number: nothing to do.
    insns.push(Insn::mov64_imm(R0, 0));
    insns.push(Insn::exit());
    insns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dispatcher_tail_calls_by_the_raw_records_id() {
        let listing: Vec<String> = syscall_dispatcher(7)
            .iter()
            .map(|i| format!("{i:?}"))
            .collect();
        assert_eq!(listing.len(), 6, "{listing:?}");
    }
}
