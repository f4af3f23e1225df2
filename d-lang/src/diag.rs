//! Compile diagnostics: DTrace's error tags and its message format.
//!
//! Every error site names an [`ErrTag`] whose spelling is DTrace's own
//! (`dt_errtags.h`), so `-x errtags` output and tests can key on the tag
//! rather than the wording. A [`Diagnostic`] is rendered by the command line
//! as `dtrace: failed to compile script F: line N: MSG` or
//! `dtrace: invalid probe specifier S: MSG`.

use crate::span::Span;
use std::fmt;

macro_rules! err_tags {
    ($($tag:ident),* $(,)?) => {
        /// DTrace's compiler error tags, one per class of error.
        #[allow(non_camel_case_types, missing_docs)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrTag { $($tag),* }

        impl ErrTag {
            /// The tag as DTrace spells it, e.g. `D_SYNTAX`.
            pub fn name(self) -> &'static str {
                match self { $(ErrTag::$tag => stringify!($tag)),* }
            }

            /// Every tag, in declaration order.
            pub const ALL: &'static [ErrTag] = &[$(ErrTag::$tag),*];
        }
    };
}

err_tags! {
    D_UNKNOWN, D_SYNTAX, D_EMPTY, D_TYPE_ERR, D_TYPE_MEMBER,
    D_PDESC_ZERO, D_PDESC_INVAL, D_PRED_SCALAR,
    D_FUNC_UNDEF, D_FUNC_IDKIND, D_FUNC_IDENT,
    D_OFFSETOF_TYPE, D_OFFSETOF_BITFIELD, D_SIZEOF_TYPE, D_SIZEOF_BITFIELD, D_STRINGOF_TYPE,
    D_OP_IDENT, D_OP_INT, D_OP_ARITH, D_OP_WRITE, D_OP_LVAL, D_OP_INCOMPAT, D_OP_VFPTR,
    D_OP_ARRFUN, D_OP_PTR, D_OP_SOU, D_OP_INCOMPLETE, D_OP_SCALAR, D_OP_ACT, D_OP_DYN,
    D_ADDROF_LVAL, D_ADDROF_VAR, D_ADDROF_BITFIELD,
    D_CG_EXPR, D_ALLOCA_SIZE, D_REGS_IDX, D_ARR_BOUNDS,
    D_XLATE_REDECL, D_XLATE_NOCONV, D_XLATE_NONE, D_XLATE_SOU, D_XLATE_INCOMPAT, D_XLATE_MEMB,
    D_CAST_INVAL,
    D_PRAGERR, D_PRAGCTL_INVAL, D_PRAGMA_INVAL, D_PRAGMA_UNUSED, D_PRAGMA_MALFORM,
    D_PRAGMA_OPTSET, D_PRAGMA_SCOPE, D_PRAGMA_DEPEND,
    D_MACRO_UNDEF, D_MACRO_OFLOW, D_MACRO_UNUSED,
    D_INT_OFLOW, D_INT_DIGIT, D_STR_NL, D_CHR_NL, D_CHR_NULL, D_CHR_OFLOW,
    D_IDENT_BADREF, D_IDENT_UNDEF, D_IDENT_AMBIG,
    D_VAR_UNDEF, D_VAR_UNSUP,
    D_PROTO_LEN, D_PROTO_ARG,
    D_ARGS_MULTI, D_ARGS_XLATOR, D_ARGS_NONE, D_ARGS_TYPE, D_ARGS_IDX,
    D_KEY_TYPE,
    D_PRINTF_DYN_PROTO, D_PRINTF_DYN_TYPE, D_PRINTF_AGG_CONV, D_PRINTF_ARG_PROTO,
    D_PRINTF_ARG_TYPE, D_PRINTF_ARG_EXTRA, D_PRINTF_ARG_FMT, D_PRINTF_FMT_EMPTY,
    D_DECL_CHARATTR, D_DECL_VOIDATTR, D_DECL_SIGNINT, D_DECL_LONGINT, D_DECL_IDENT,
    D_DECL_CLASS, D_DECL_BADCLASS, D_DECL_PARMCLASS, D_DECL_COMBO, D_DECL_ARRSUB,
    D_DECL_ARRNULL, D_DECL_ARRBIG, D_DECL_IDRED, D_DECL_TYPERED, D_DECL_MNAME, D_DECL_SCOPE,
    D_DECL_BFCONST, D_DECL_BFSIZE, D_DECL_BFTYPE, D_DECL_ENCONST, D_DECL_ENOFLOW,
    D_DECL_USELESS, D_DECL_LOCASSC, D_DECL_VOIDOBJ, D_DECL_DYNOBJ, D_DECL_INCOMPLETE,
    D_DECL_PROTO_VARARGS, D_DECL_PROTO_TYPE, D_DECL_PROTO_VOID, D_DECL_PROTO_NAME,
    D_DECL_PROTO_FORM,
    // No D_COMM_COMM: DTrace accepts two commit()s (its old tag is D_OBSOLETE1, never raised).
    D_COMM_DREC, D_SPEC_SPEC, D_SPEC_COMM, D_SPEC_DREC, D_AGG_COMM, D_AGG_SPEC, D_DREC_COMM,
    D_AGG_REDEF, D_AGG_FUNC, D_AGG_MDIM, D_AGG_SCALAR, D_AGG_NULL,
    D_ARR_BADREF, D_ARR_LOCAL, D_DIV_ZERO,
    D_DEREF_NONPTR, D_DEREF_VOID, D_DEREF_FUNC,
    D_LQUANT_BASETYPE, D_LQUANT_BASEVAL, D_LQUANT_LIMTYPE, D_LQUANT_LIMVAL,
    D_LQUANT_MISMATCH, D_LQUANT_STEPTYPE, D_LQUANT_STEPVAL, D_LQUANT_STEPLARGE,
    D_LQUANT_STEPSMALL, D_LQUANT_MATCHBASE, D_LQUANT_MATCHLIM, D_LQUANT_MATCHSTEP,
    D_QUANT_PARAM, D_QUANT_MISMATCH,
    D_LLQUANT_FACTORTYPE, D_LLQUANT_FACTORVAL, D_LLQUANT_LMAGTYPE, D_LLQUANT_LMAGVAL,
    D_LLQUANT_HMAGTYPE, D_LLQUANT_HMAGVAL, D_LLQUANT_STEPTYPE, D_LLQUANT_STEPVAL,
    D_LLQUANT_MATCHFACTOR, D_LLQUANT_MATCHLMAG, D_LLQUANT_MATCHHMAG, D_LLQUANT_MATCHSTEPS,
    D_PRINTA_PROTO, D_PRINTA_AGGARG, D_PRINTA_AGGBAD, D_PRINTA_AGGKEY, D_PRINTA_AGGPROTO,
    D_TRACE_VOID, D_TRACE_DYN, D_TRACEMEM_ADDR, D_TRACEMEM_SIZE,
    D_STACK_PROTO, D_STACK_SIZE, D_USTACK_FRAMES, D_USTACK_STRSIZE, D_USTACK_PROTO,
    // D_NORMALIZE_SCALAR is DTrace's, but its prototype check (D_PROTO_ARG) always fires first.
    D_NORMALIZE_SCALAR, D_NORMALIZE_AGGARG, D_TRUNC_AGGARG,
    D_CLEAR_AGGARG, D_SETOPT_NAME, D_ACT_SPEC, D_EXIT_SPEC, D_DESTRUCT,
    D_FREOPEN_INVALID, D_UNSUPPORTED,
    D_PROV_BADNAME, D_PROV_INCOMPAT, D_PROV_PRDUP, D_PROV_PRARGLEN, D_PROV_PRXLATOR,
}

impl fmt::Display for ErrTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which part of a clause was being checked when an error was found; DTrace
/// says `in predicate: ` or `in action list: ` when it has no line to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    /// The `/ … /` predicate.
    Predicate,
    /// The `{ … }` action list.
    ActionList,
}

impl Region {
    fn as_str(self) -> &'static str {
        match self {
            Region::Predicate => "predicate",
            Region::ActionList => "action list",
        }
    }
}

/// One compile error: the first one found, as DTrace stops at the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// DTrace's tag for this class of error.
    pub tag: ErrTag,
    /// The message, without a trailing newline; extra detail lines start with `\n\t`.
    pub message: String,
    /// Where in the compiled text, when known.
    pub span: Option<Span>,
    /// 1-based line, filled in by the compiler from `span` (0 when unknown).
    pub line: usize,
    /// File named by a preprocessor line marker (`-C`), if any.
    pub file: Option<String>,
    /// Predicate or action list, for errors found while type-checking a clause.
    pub region: Option<Region>,
    /// Which of a run's programs the span is in (see [`crate::compile_run`]).
    pub program: usize,
}

impl Diagnostic {
    /// A diagnostic of class `tag` at `span`.
    pub fn new(tag: ErrTag, span: Option<Span>, message: impl Into<String>) -> Self {
        Diagnostic {
            tag,
            message: message.into(),
            span,
            line: 0,
            file: None,
            region: None,
            program: 0,
        }
    }

    /// Attach the clause region being checked, unless one is already set.
    pub fn in_region(mut self, region: Region) -> Self {
        self.region.get_or_insert(region);
        self
    }

    /// The text after DTrace's `dtrace: failed to compile script F: ` or
    /// `dtrace: invalid probe specifier S: ` prefix.
    ///
    /// `with_line` is true for scripts (`-s`), whose errors carry a line;
    /// strings given with `-n`/`-P`/… carry the clause region instead.
    pub fn body(&self, errtags: bool, with_line: bool) -> String {
        let mut s = String::new();
        if errtags {
            s.push('[');
            s.push_str(self.tag.name());
            s.push_str("] ");
        }
        match (&self.file, with_line && self.line > 0) {
            (Some(file), _) if self.line > 0 => {
                s.push_str(&format!("\"{file}\", line {}: ", self.line));
            }
            (_, true) => s.push_str(&format!("line {}: ", self.line)),
            _ => {
                if let Some(region) = self.region {
                    s.push_str("in ");
                    s.push_str(region.as_str());
                    s.push_str(": ");
                }
            }
        }
        s.push_str(&self.message);
        s
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.body(false, true))
    }
}

impl std::error::Error for Diagnostic {}

/// Shorthand used at error sites: `Err(diag(ErrTag::D_SYNTAX, span, msg))`.
pub fn diag(tag: ErrTag, span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(tag, Some(span), message)
}

/// The result type of every compiler stage.
pub type DResult<T> = Result<T, Diagnostic>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_formats() {
        let mut d = diag(ErrTag::D_SYNTAX, Span::new(0, 1), "syntax error near \"}\"");
        d.line = 3;
        assert_eq!(d.body(false, true), "line 3: syntax error near \"}\"");
        assert_eq!(
            d.body(true, true),
            "[D_SYNTAX] line 3: syntax error near \"}\""
        );
        assert_eq!(d.body(false, false), "syntax error near \"}\"");
        let d = d.in_region(Region::ActionList);
        assert_eq!(
            d.body(true, false),
            "[D_SYNTAX] in action list: syntax error near \"}\""
        );
        assert_eq!(ErrTag::D_PROTO_LEN.name(), "D_PROTO_LEN");
    }
}
