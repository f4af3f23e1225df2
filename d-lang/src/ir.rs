//! The typed IR: codegen's only input.
//!
//! Everything here is resolved: variables are numbered slots of a known
//! scope and type, probe descriptions are the concrete probes they matched,
//! aggregations have one function and one key signature, printf formats are
//! parsed, constant expressions are folded, and every expression carries its
//! D type. Codegen lowers it to eBPF: each [`Expr`] node maps to a short
//! instruction run, each [`Stmt`] to a store, a branch or a record.

use crate::ast::{BinOp, UnOp};
use crate::builtins::BuiltinVar;
use crate::catalog::ProbeInfo;
use crate::printf::Format;
use crate::span::Span;
use crate::types::Type;
use std::fmt;

/// A compiled D program: one `-s` script or one `-n`-style argument.
#[derive(Debug, Clone, Default)]
pub struct Program {
    /// Clauses in source order.
    pub clauses: Vec<Clause>,
    /// `#pragma D option` settings, in source order, already validated.
    pub options: Vec<PragmaOption>,
    /// Every D variable, indexed by [`VarId`].
    pub variables: Vec<Variable>,
    /// Every aggregation, indexed by [`AggId`], in first-use order.
    pub aggregations: Vec<Aggregation>,
    /// Whether any clause uses a destructive action (needs `-w`).
    pub destructive: bool,
    /// `provider` declarations (for `-h` and `-G`), in source order.
    pub providers: Vec<ProviderDef>,
}

/// A `provider NAME { probe P(args); … };` declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderDef {
    /// The provider's name.
    pub name: String,
    /// Its probes in declaration order.
    pub probes: Vec<ProviderProbe>,
}

/// One probe of a [`ProviderDef`].
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderProbe {
    /// The probe's name as D shows it (`query-start` for `query__start`).
    pub name: String,
    /// Its argument types.
    pub args: Vec<Type>,
}

/// One `#pragma D option name[=value]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PragmaOption {
    /// Option name.
    pub name: String,
    /// Value as written, if any.
    pub value: Option<String>,
}

/// Index into [`Program::variables`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VarId(pub u32);

/// Index into [`Program::aggregations`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AggId(pub u32);

/// Where a variable lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Global: one copy.
    Global,
    /// `self->`: one per thread.
    Thread,
    /// `this->`: one per clause execution.
    Clause,
}

/// A D variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// Name as written.
    pub name: String,
    /// Scope.
    pub scope: Scope,
    /// Value type.
    pub ty: Type,
    /// Key types, for associative arrays.
    pub keys: Option<Vec<Type>>,
}

/// Which aggregating function an aggregation uses, with its constant parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggFunc {
    /// `count()`
    Count,
    /// `sum(x)`
    Sum,
    /// `avg(x)`
    Avg,
    /// `min(x)`
    Min,
    /// `max(x)`
    Max,
    /// `stddev(x)`
    Stddev,
    /// `quantize(x)`: power-of-two buckets.
    Quantize,
    /// `lquantize(x, base, limit, step)`.
    Lquantize {
        /// Lower bound.
        base: i32,
        /// Upper bound.
        limit: i32,
        /// Bucket width.
        step: u16,
    },
    /// `llquantize(x, factor, low, high, nsteps)`.
    Llquantize {
        /// Base of the magnitudes.
        factor: u16,
        /// Lowest magnitude.
        low: u16,
        /// Highest magnitude.
        high: u16,
        /// Buckets per magnitude.
        nsteps: u16,
    },
}

impl AggFunc {
    /// The function's name.
    pub fn name(&self) -> &'static str {
        match self {
            AggFunc::Count => "count",
            AggFunc::Sum => "sum",
            AggFunc::Avg => "avg",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::Stddev => "stddev",
            AggFunc::Quantize => "quantize",
            AggFunc::Lquantize { .. } => "lquantize",
            AggFunc::Llquantize { .. } => "llquantize",
        }
    }
}

/// An aggregation: `@name[keys] = func(…)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregation {
    /// Name without the `@` (empty for `@`).
    pub name: String,
    /// Function.
    pub func: AggFunc,
    /// Key types.
    pub keys: Vec<Type>,
    /// One name per key, from its source expression (`zonename`,
    /// `args1`, `pr_psargs`), `keyN` where there is none or the clauses
    /// keying the aggregation disagree. For consumers that label keys
    /// (the Prometheus export); code generation ignores it.
    pub key_names: Vec<String>,
}

/// One probe clause.
#[derive(Debug, Clone)]
pub struct Clause {
    /// The concrete probes its descriptions matched, in ID order, no duplicates.
    pub probes: Vec<ProbeInfo>,
    /// The descriptions as written.
    pub descs: Vec<String>,
    /// Predicate.
    pub predicate: Option<Expr>,
    /// Actions; an empty body with `default_action` traces the probe.
    pub body: Vec<Stmt>,
    /// True when the clause has no actions at all: DTrace then records the
    /// default (probe identification only).
    pub default_action: bool,
    /// Span in the source.
    pub span: Span,
    /// Which of the run's programs (`-n`, `-s`…, in command-line order)
    /// the clause comes from: its span is in that program's text.
    pub program: usize,
}

/// A statement.
#[derive(Debug, Clone)]
pub enum Stmt {
    /// Evaluate for effect (stores, calls).
    Expr(Expr),
    /// Conditional.
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    /// An action.
    Action(Action),
    /// `@agg[keys] = func(args)`.
    AggUpdate {
        /// Which aggregation.
        agg: AggId,
        /// Key values.
        keys: Vec<Expr>,
        /// Function arguments (the value, and an increment if given).
        args: Vec<Expr>,
        /// Where.
        span: Span,
    },
}

/// An action with its resolved operands.
#[derive(Debug, Clone)]
pub enum Action {
    /// `trace(e)`.
    Trace(Expr),
    /// `print(e)` (Oracle DTrace).
    Print(Expr),
    /// `tracemem(addr, size[, dsize])`.
    Tracemem(Vec<Expr>),
    /// `printf(fmt, args…)`.
    Printf(Format, Vec<Expr>),
    /// `printa([fmt,] @a, @b…)`.
    Printa(Option<Format>, Vec<AggId>),
    /// `exit(status)`.
    Exit(Expr),
    /// `clear(@a)`.
    Clear(AggId),
    /// `trunc(@a[, n])`.
    Trunc(AggId, Option<Expr>),
    /// `normalize(@a, n)`.
    Normalize(AggId, Expr),
    /// `denormalize(@a)`.
    Denormalize(AggId),
    /// `setopt(name[, value])`.
    Setopt(String, Option<String>),
    /// `speculate(id)`.
    Speculate(Expr),
    /// `commit(id)`.
    Commit(Expr),
    /// `discard(id)`.
    Discard(Expr),
    /// `stack([n])`, `ustack([n[, strsize]])`, `jstack(…)`, `sym()` and friends used as statements.
    Record(&'static str, Vec<Expr>),
    /// Destructive actions: `system`, `raise`, `stop`, `copyout`, `copyoutstr`,
    /// `freopen`, `chill`, `panic`, `breakpoint`, `ftruncate`.
    Destructive(&'static str, Vec<Expr>),
}

/// A typed expression.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What it computes.
    pub kind: ExprKind,
    /// Its D type.
    pub ty: Type,
    /// Where it was written.
    pub span: Span,
}

/// Expression forms.
#[derive(Debug, Clone)]
pub enum ExprKind {
    /// An integer constant (bits; signedness from the type).
    Const(u64),
    /// A string constant.
    Str(Vec<u8>),
    /// Scalar variable.
    Var(VarId),
    /// Associative-array element.
    Elem(VarId, Vec<Expr>),
    /// Built-in variable.
    Builtin(BuiltinVar),
    /// `args[n]`, typed by the probe.
    ProbeArg(u32),
    /// Kernel symbol address.
    KernelSym(String),
    /// Prefix operator (not `&`/`*`).
    Unary(UnOp, Box<Expr>),
    /// Arithmetic, bitwise or comparison operator; comparisons of strings
    /// compare contents.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `c ? a : b`.
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
    /// Conversion to `ty`.
    Cast(Box<Expr>),
    /// Store into an lvalue; `op` for compound assignment. Value is the stored value.
    Assign(Box<Expr>, Option<BinOp>, Box<Expr>),
    /// `++`/`--` on an lvalue.
    IncDec {
        /// Target lvalue.
        target: Box<Expr>,
        /// Increment (vs decrement).
        inc: bool,
        /// Value is the new one (prefix) or the old one (postfix).
        prefix: bool,
    },
    /// Load through a pointer.
    Deref(Box<Expr>),
    /// Address of an lvalue in memory.
    AddrOf(Box<Expr>),
    /// A member at a byte offset (and bit range) within a struct value.
    Member {
        /// The struct value (or dereferenced pointer).
        base: Box<Expr>,
        /// Byte offset.
        offset: u64,
        /// Bit-field position.
        bits: Option<(u32, u32)>,
    },
    /// Call of a built-in subroutine (or value-producing action such as `stack()`).
    Call(&'static str, Vec<Expr>),
    /// `stringof e`.
    Stringof(Box<Expr>),
    /// Translation of the operand by a translator member list.
    Xlate(Box<Expr>, Vec<(String, Expr)>),
}

impl Expr {
    /// The constant value, if this is an integer constant.
    pub fn as_const(&self) -> Option<u64> {
        match self.kind {
            ExprKind::Const(v) => Some(v),
            _ => None,
        }
    }

    /// Whether the expression names a storage location.
    pub fn is_lvalue(&self) -> bool {
        matches!(
            self.kind,
            ExprKind::Var(_) | ExprKind::Elem(..) | ExprKind::Deref(_) | ExprKind::Member { .. }
        )
    }
}

impl Program {
    /// How many probe enablings the program makes (DTrace's "matched N probes").
    pub fn matched_probes(&self) -> usize {
        self.clauses.iter().map(|c| c.probes.len()).sum()
    }

    /// Probes the clauses of the run's program `program` matched.
    pub fn matched_probes_of(&self, program: usize) -> usize {
        self.clauses
            .iter()
            .filter(|c| c.program == program)
            .map(|c| c.probes.len())
            .sum()
    }

    fn var_name(&self, id: VarId) -> String {
        match self.variables.get(id.0 as usize) {
            Some(v) => match v.scope {
                Scope::Global => v.name.clone(),
                Scope::Thread => format!("self->{}", v.name),
                Scope::Clause => format!("this->{}", v.name),
            },
            None => format!("var#{}", id.0),
        }
    }

    fn agg_name(&self, id: AggId) -> String {
        self.aggregations
            .get(id.0 as usize)
            .map_or_else(|| format!("@#{}", id.0), |a| format!("@{}", a.name))
    }

    fn fmt_expr(&self, e: &Expr) -> String {
        let inner = match &e.kind {
            ExprKind::Const(v) => {
                if e.ty.is_signed() {
                    format!("{}", *v as i64)
                } else {
                    format!("{v}")
                }
            }
            ExprKind::Str(s) => format!("{:?}", String::from_utf8_lossy(s)),
            ExprKind::Var(id) => self.var_name(*id),
            ExprKind::Elem(id, keys) => {
                let k: Vec<_> = keys.iter().map(|k| self.fmt_expr(k)).collect();
                format!("{}[{}]", self.var_name(*id), k.join(", "))
            }
            ExprKind::Builtin(b) => format!("{b:?}").to_lowercase(),
            ExprKind::ProbeArg(n) => format!("args[{n}]"),
            ExprKind::KernelSym(s) => format!("`{s}"),
            ExprKind::Unary(op, a) => format!("({} {})", op.as_str(), self.fmt_expr(a)),
            ExprKind::Binary(op, a, b) => format!(
                "({} {} {})",
                op.as_str(),
                self.fmt_expr(a),
                self.fmt_expr(b)
            ),
            ExprKind::Ternary(c, a, b) => {
                format!(
                    "(?: {} {} {})",
                    self.fmt_expr(c),
                    self.fmt_expr(a),
                    self.fmt_expr(b)
                )
            }
            ExprKind::Cast(a) => format!("(cast {})", self.fmt_expr(a)),
            ExprKind::Assign(t, op, v) => format!(
                "({}= {} {})",
                op.map(|o| o.as_str()).unwrap_or(""),
                self.fmt_expr(t),
                self.fmt_expr(v)
            ),
            ExprKind::IncDec {
                target,
                inc,
                prefix,
            } => format!(
                "({}{} {})",
                if *prefix { "pre" } else { "post" },
                if *inc { "++" } else { "--" },
                self.fmt_expr(target)
            ),
            ExprKind::Deref(a) => format!("(* {})", self.fmt_expr(a)),
            ExprKind::AddrOf(a) => format!("(& {})", self.fmt_expr(a)),
            ExprKind::Member { base, offset, bits } => match bits {
                Some((b, w)) => format!("(member {} +{offset} bits {b}:{w})", self.fmt_expr(base)),
                None => format!("(member {} +{offset})", self.fmt_expr(base)),
            },
            ExprKind::Call(f, args) => {
                let a: Vec<_> = args.iter().map(|x| self.fmt_expr(x)).collect();
                format!("{f}({})", a.join(", "))
            }
            ExprKind::Stringof(a) => format!("(stringof {})", self.fmt_expr(a)),
            ExprKind::Xlate(a, members) => {
                let m: Vec<_> = members
                    .iter()
                    .map(|(n, x)| format!("{n}={}", self.fmt_expr(x)))
                    .collect();
                format!("(xlate {} {{{}}})", self.fmt_expr(a), m.join(", "))
            }
        };
        format!("{inner}:{}", e.ty.name())
    }

    fn fmt_stmts(&self, f: &mut fmt::Formatter<'_>, stmts: &[Stmt], indent: usize) -> fmt::Result {
        let pad = "  ".repeat(indent);
        for s in stmts {
            match s {
                Stmt::Expr(e) => writeln!(f, "{pad}{}", self.fmt_expr(e))?,
                Stmt::If(c, a, b) => {
                    writeln!(f, "{pad}if {}", self.fmt_expr(c))?;
                    self.fmt_stmts(f, a, indent + 1)?;
                    if !b.is_empty() {
                        writeln!(f, "{pad}else")?;
                        self.fmt_stmts(f, b, indent + 1)?;
                    }
                }
                Stmt::AggUpdate {
                    agg, keys, args, ..
                } => {
                    let k: Vec<_> = keys.iter().map(|x| self.fmt_expr(x)).collect();
                    let a: Vec<_> = args.iter().map(|x| self.fmt_expr(x)).collect();
                    let func = self
                        .aggregations
                        .get(agg.0 as usize)
                        .map_or("?", |g| g.func.name());
                    writeln!(
                        f,
                        "{pad}{}[{}] <- {func}({})",
                        self.agg_name(*agg),
                        k.join(", "),
                        a.join(", ")
                    )?;
                }
                Stmt::Action(a) => writeln!(f, "{pad}{}", self.fmt_action(a))?,
            }
        }
        Ok(())
    }

    fn fmt_action(&self, a: &Action) -> String {
        let list = |v: &[Expr]| {
            v.iter()
                .map(|x| self.fmt_expr(x))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match a {
            Action::Trace(e) => format!("trace({})", self.fmt_expr(e)),
            Action::Print(e) => format!("print({})", self.fmt_expr(e)),
            Action::Tracemem(v) => format!("tracemem({})", list(v)),
            Action::Printf(fmt, v) => {
                if v.is_empty() {
                    format!("printf({:?})", fmt.to_string())
                } else {
                    format!("printf({:?}, {})", fmt.to_string(), list(v))
                }
            }
            Action::Printa(fmt, aggs) => {
                let names: Vec<_> = aggs.iter().map(|a| self.agg_name(*a)).collect();
                match fmt {
                    Some(fm) => format!("printa({:?}, {})", fm.to_string(), names.join(", ")),
                    None => format!("printa({})", names.join(", ")),
                }
            }
            Action::Exit(e) => format!("exit({})", self.fmt_expr(e)),
            Action::Clear(a) => format!("clear({})", self.agg_name(*a)),
            Action::Trunc(a, n) => match n {
                Some(n) => format!("trunc({}, {})", self.agg_name(*a), self.fmt_expr(n)),
                None => format!("trunc({})", self.agg_name(*a)),
            },
            Action::Normalize(a, n) => {
                format!("normalize({}, {})", self.agg_name(*a), self.fmt_expr(n))
            }
            Action::Denormalize(a) => format!("denormalize({})", self.agg_name(*a)),
            Action::Setopt(n, v) => match v {
                Some(v) => format!("setopt({n:?}, {v:?})"),
                None => format!("setopt({n:?})"),
            },
            Action::Speculate(e) => format!("speculate({})", self.fmt_expr(e)),
            Action::Commit(e) => format!("commit({})", self.fmt_expr(e)),
            Action::Discard(e) => format!("discard({})", self.fmt_expr(e)),
            Action::Record(name, v) | Action::Destructive(name, v) => {
                format!("{name}({})", list(v))
            }
        }
    }
}

impl fmt::Display for Program {
    /// The `-S` intermediate form: variables, aggregations, then each clause
    /// with its probes, predicate and typed statements.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for o in &self.options {
            match &o.value {
                Some(v) => writeln!(f, "option {}={v}", o.name)?,
                None => writeln!(f, "option {}", o.name)?,
            }
        }
        for (i, v) in self.variables.iter().enumerate() {
            let keys = v.keys.as_ref().map(|k| {
                format!(
                    "[{}]",
                    k.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
                )
            });
            writeln!(
                f,
                "var {i} {:?} {}{}: {}",
                v.scope,
                self.var_name(VarId(i as u32)),
                keys.unwrap_or_default(),
                v.ty.name()
            )?;
        }
        for (i, a) in self.aggregations.iter().enumerate() {
            let keys: Vec<_> = a.keys.iter().map(|t| t.name()).collect();
            writeln!(f, "agg {i} @{}[{}] = {:?}", a.name, keys.join(", "), a.func)?;
        }
        for (i, c) in self.clauses.iter().enumerate() {
            writeln!(
                f,
                "clause {i} ({} probes: {})",
                c.probes.len(),
                c.descs.join(", ")
            )?;
            for p in &c.probes {
                writeln!(f, "  probe {} {}", p.id, p.full_name())?;
            }
            if let Some(p) = &c.predicate {
                writeln!(f, "  predicate {}", self.fmt_expr(p))?;
            }
            if c.default_action {
                writeln!(f, "  default action")?;
            }
            self.fmt_stmts(f, &c.body, 2)?;
        }
        Ok(())
    }
}
