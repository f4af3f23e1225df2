//! Aggregation key names: a short, label-friendly name for each key
//! expression, so consumers (the Prometheus export) can say `zonename`
//! rather than `key0`.
//!
//! The names are taken from the source expression, not its type, and
//! never reach the BPF program: they ride along in [`crate::ir::Aggregation`]
//! and [`crate::codegen::AggObj`] for whoever reads the snapshots.
//!
//! Rules, for key `N` of `@a[…]`:
//! - an identifier (built-in variable such as `execname`, `pid`, `arg0`,
//!   a global, an enumerator) → itself; `self->x`, `this->x` → `x`;
//! - `args[1]` → `args1` (not `arg1`: that is a different, untyped
//!   built-in, and a script may key on both);
//! - a call, `stack()`, `ustack(5)`, `func(pc)` → the function's name;
//! - a member access, `curpsinfo->pr_psargs`, `a.b.c` → the last member;
//! - anything else (constants, arithmetic, casts…) → `keyN`.
//!
//! D gives an aggregation one key signature, but each clause may key it
//! with different expressions (`@[execname]` here, `@[zonename]` there).
//! [`merge`] keeps the first use's names and falls back to `keyN` at
//! every position where a later use disagrees: a name that is true of
//! only some entries would mislabel the others.

use crate::ast::{Expr, ExprKind as A};

/// The name of key `index` whose expression is `e` (rules in the module
/// docs). Always a D identifier, hence `[A-Za-z_][A-Za-z0-9_]*`.
pub fn key_name(e: &Expr, index: usize) -> String {
    let named = match &e.kind {
        A::Ident(n) | A::SelfVar(n) | A::ThisVar(n) => Some(n.clone()),
        A::Call(f, _, _) => Some(f.clone()),
        A::Member { member, .. } => Some(member.clone()),
        A::Index(base, idx) => match (&base.kind, idx.as_slice()) {
            (A::Ident(b), [i]) if b == "args" => match i.kind {
                A::Int { value, .. } => Some(format!("args{value}")),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    };
    named.unwrap_or_else(|| fallback(index))
}

/// The names of a key list, one per key.
pub fn key_names(keys: &[Expr]) -> Vec<String> {
    keys.iter()
        .enumerate()
        .map(|(i, k)| key_name(k, i))
        .collect()
}

/// Fold a later use's names into the first use's: positions that differ
/// become `keyN` (and stay so). The key signature check has already made
/// the lengths equal; extra positions on either side are left alone.
pub fn merge(first: &mut [String], later: &[String]) {
    for (i, (f, l)) in first.iter_mut().zip(later).enumerate() {
        if f != l {
            *f = fallback(i);
        }
    }
}

/// The name of key `index` when its expression gives none.
fn fallback(index: usize) -> String {
    format!("key{index}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{Item, Stmt};
    use crate::options::{CompileOptions, Origin};

    /// The names of `@[keys]` as the parser reads them.
    fn names(keys: &str) -> Vec<String> {
        let src = format!("BEGIN {{ @[{keys}] = count(); }}");
        let opts = CompileOptions::new(Origin::File("t.d".into()));
        let script = crate::parser::parse(&src, &opts).expect("parses");
        let Some(Item::Clause(c)) = script.items.first() else {
            panic!("no clause in {src}");
        };
        let Some(Some(Stmt::Expr(e))) = c.body.as_ref().map(|b| b.first()) else {
            panic!("no statement in {src}");
        };
        let A::Assign(_, l, _) = &e.kind else {
            panic!("not an assignment: {e:?}");
        };
        let A::Index(_, k) = &l.kind else {
            panic!("no keys: {l:?}");
        };
        key_names(k)
    }

    #[test]
    fn identifiers_and_variables_name_themselves() {
        assert_eq!(names("zonename, probefunc"), ["zonename", "probefunc"]);
        assert_eq!(
            names("execname, pid, cpu, arg0"),
            ["execname", "pid", "cpu", "arg0"]
        );
        assert_eq!(names("self->reason, this->x, g"), ["reason", "x", "g"]);
        assert_eq!(names("(execname)"), ["execname"]);
    }

    #[test]
    fn args_calls_and_members() {
        assert_eq!(names("args[1], args[0]"), ["args1", "args0"]);
        assert_eq!(
            names("stack(), ustack(5), func(pc)"),
            ["stack", "ustack", "func"]
        );
        assert_eq!(names("curpsinfo->pr_psargs"), ["pr_psargs"]);
        assert_eq!(names("curthread->t_procp->p_pidp"), ["p_pidp"]);
    }

    #[test]
    fn other_expressions_fall_back_to_their_position() {
        assert_eq!(
            names("execname, \"q\", 1, pid + 1, (int)arg0, args[pid], `max_pfn"),
            ["execname", "key1", "key2", "key3", "key4", "key5", "key6"]
        );
    }

    #[test]
    fn disagreeing_uses_fall_back_position_by_position() {
        let mut first = names("zonename, probefunc, pid");
        merge(&mut first, &names("zonename, probename, pid"));
        assert_eq!(first, ["zonename", "key1", "pid"]);
        // A third use that agrees with the first does not bring it back.
        merge(&mut first, &names("zonename, probefunc, pid"));
        assert_eq!(first, ["zonename", "key1", "pid"]);
    }
}
