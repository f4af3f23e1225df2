//! Expressions, by precedence climbing over C's (and D's `^^`) operator table.

use super::Parser;
use crate::ast::{BinOp, Expr, ExprKind, UnOp};
use crate::diag::{diag, DResult, ErrTag};
use crate::lexer::Mode;
use crate::recursion::grow;
use crate::span::Span;
use crate::token::{Keyword, Tok, Token};

/// Binary operator levels, loosest first (comma and assignment are handled
/// separately because they associate differently).
const LEVELS: &[&[(&str, BinOp)]] = &[
    &[("||", BinOp::LogOr)],
    &[("^^", BinOp::LogXor)],
    &[("&&", BinOp::LogAnd)],
    &[("|", BinOp::BitOr)],
    &[("^", BinOp::BitXor)],
    &[("&", BinOp::BitAnd)],
    &[("==", BinOp::Eq), ("!=", BinOp::Ne)],
    &[
        ("<", BinOp::Lt),
        (">", BinOp::Gt),
        ("<=", BinOp::Le),
        (">=", BinOp::Ge),
    ],
    &[("<<", BinOp::Shl), (">>", BinOp::Shr)],
    &[("+", BinOp::Add), ("-", BinOp::Sub)],
    &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Mod)],
];

const ASSIGN_OPS: &[(&str, Option<BinOp>)] = &[
    ("=", None),
    ("*=", Some(BinOp::Mul)),
    ("/=", Some(BinOp::Div)),
    ("%=", Some(BinOp::Mod)),
    ("+=", Some(BinOp::Add)),
    ("-=", Some(BinOp::Sub)),
    ("<<=", Some(BinOp::Shl)),
    (">>=", Some(BinOp::Shr)),
    ("&=", Some(BinOp::BitAnd)),
    ("^=", Some(BinOp::BitXor)),
    ("|=", Some(BinOp::BitOr)),
];

fn mk(kind: ExprKind, span: Span) -> Expr {
    Expr { kind, span }
}

impl Parser<'_> {
    /// `expression: assignment (',' assignment)*`
    pub(crate) fn expression(&mut self) -> DResult<Expr> {
        let mut e = self.assignment()?;
        while self.eat_punct(",")? {
            let r = self.assignment()?;
            let span = e.span.to(r.span);
            e = mk(
                ExprKind::Binary(BinOp::Comma, Box::new(e), Box::new(r)),
                span,
            );
        }
        Ok(e)
    }

    /// Right-associative assignment.
    pub(crate) fn assignment(&mut self) -> DResult<Expr> {
        let start = self.peek()?.span;
        self.enter(start)?;
        let r = grow(|| self.assignment_inner());
        self.leave();
        r
    }

    fn assignment_inner(&mut self) -> DResult<Expr> {
        let lhs = self.conditional()?;
        if let Tok::Punct(p) = self.peek_tok()? {
            if let Some((_, op)) = ASSIGN_OPS.iter().find(|(s, _)| *s == p) {
                self.bump()?;
                let rhs = self.assignment()?;
                let span = lhs.span.to(rhs.span);
                return Ok(mk(
                    ExprKind::Assign(*op, Box::new(lhs), Box::new(rhs)),
                    span,
                ));
            }
        }
        Ok(lhs)
    }

    fn conditional(&mut self) -> DResult<Expr> {
        let cond = self.binary(0)?;
        if self.eat_punct("?")? {
            let a = self.expression()?;
            self.expect_punct(":")?;
            let b = self.conditional_nested()?;
            let span = cond.span.to(b.span);
            return Ok(mk(
                ExprKind::Ternary(Box::new(cond), Box::new(a), Box::new(b)),
                span,
            ));
        }
        Ok(cond)
    }

    fn conditional_nested(&mut self) -> DResult<Expr> {
        let start = self.peek()?.span;
        self.enter(start)?;
        let r = grow(|| self.conditional());
        self.leave();
        r
    }

    /// The operator at the cursor, if it is a binary one: (level, op).
    fn peek_binop(&mut self) -> DResult<Option<(usize, BinOp)>> {
        Ok(match self.peek_tok()? {
            Tok::Punct(p) => LEVELS
                .iter()
                .enumerate()
                .find_map(|(lvl, ops)| ops.iter().find(|(s, _)| *s == p).map(|(_, op)| (lvl, *op))),
            _ => None,
        })
    }

    /// Precedence climbing: operators at `min_level` or tighter. One frame
    /// per nesting rather than one per precedence level keeps deep inputs
    /// within the stack.
    fn binary(&mut self, min_level: usize) -> DResult<Expr> {
        let mut lhs = self.unary()?;
        let mut chained = 0;
        let result = loop {
            let Some((level, op)) = self.peek_binop()? else {
                break Ok(lhs);
            };
            if level < min_level {
                break Ok(lhs);
            }
            // A chain `a + b + c …` builds a left-deep tree: count its depth
            // like nesting so later recursive passes stay within bounds.
            if let Err(e) = self.enter(lhs.span) {
                break Err(e);
            }
            chained += 1;
            self.bump()?;
            let rhs = self.binary(level + 1)?;
            let span = lhs.span.to(rhs.span);
            lhs = mk(ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span);
        };
        for _ in 0..chained {
            self.leave();
        }
        result
    }

    fn unary(&mut self) -> DResult<Expr> {
        let t = self.peek()?.clone();
        self.enter(t.span)?;
        let r = grow(|| self.unary_inner(t));
        self.leave();
        r
    }

    fn unary_inner(&mut self, t: Token) -> DResult<Expr> {
        let prefix = |p: &str| match p {
            "-" => Some(UnOp::Neg),
            "+" => Some(UnOp::Plus),
            "~" => Some(UnOp::BitNot),
            "!" => Some(UnOp::LogNot),
            "*" => Some(UnOp::Deref),
            "&" => Some(UnOp::AddrOf),
            _ => None,
        };
        match t.tok {
            Tok::Punct(p @ ("++" | "--")) => {
                self.bump()?;
                let e = self.unary()?;
                let span = t.span.to(e.span);
                Ok(mk(
                    ExprKind::IncDec {
                        inc: p == "++",
                        prefix: true,
                        expr: Box::new(e),
                    },
                    span,
                ))
            }
            Tok::Punct(p) if prefix(p).is_some() => {
                self.bump()?;
                let e = self.unary()?;
                let span = t.span.to(e.span);
                let op = prefix(p).unwrap_or(UnOp::Plus);
                Ok(mk(ExprKind::Unary(op, Box::new(e)), span))
            }
            Tok::Kw(Keyword::Sizeof) => {
                self.bump()?;
                if self.is_punct("(")? && self.paren_starts_type()? {
                    self.bump()?;
                    let ty = self.type_name()?;
                    let end = self.expect_punct(")")?;
                    return Ok(mk(ExprKind::SizeofType(ty), t.span.to(end)));
                }
                let e = self.unary()?;
                let span = t.span.to(e.span);
                Ok(mk(ExprKind::SizeofExpr(Box::new(e)), span))
            }
            Tok::Kw(Keyword::Stringof) => {
                self.bump()?;
                let e = self.unary()?;
                let span = t.span.to(e.span);
                Ok(mk(ExprKind::Stringof(Box::new(e)), span))
            }
            Tok::Punct("(") if self.paren_starts_type()? => {
                self.bump()?;
                let ty = self.type_name()?;
                self.expect_punct(")")?;
                let e = self.unary()?;
                let span = t.span.to(e.span);
                Ok(mk(ExprKind::Cast(ty, Box::new(e)), span))
            }
            _ => self.postfix(),
        }
    }

    /// After a `(`: does a type name follow (a cast or `sizeof (type)`)?
    fn paren_starts_type(&mut self) -> DResult<bool> {
        let mut probe = self.lex.clone();
        let open = probe.next(Mode::Code)?;
        debug_assert_eq!(open.tok, Tok::Punct("("));
        let next = probe.next(Mode::Code)?;
        Ok(match &next.tok {
            Tok::Kw(k) => {
                use Keyword::*;
                matches!(
                    k,
                    Char | Const
                        | Double
                        | Enum
                        | Float
                        | Int
                        | Long
                        | Short
                        | Signed
                        | String
                        | Struct
                        | Union
                        | Unsigned
                        | Void
                        | Volatile
                        | Restrict
                )
            }
            Tok::Ident(name) => self.is_typedef(name),
            _ => false,
        })
    }

    fn postfix(&mut self) -> DResult<Expr> {
        let mut e = self.primary()?;
        loop {
            let t = self.peek()?.clone();
            match t.tok {
                Tok::Punct("[") => {
                    self.bump()?;
                    let mut args = Vec::new();
                    if !self.is_punct("]")? {
                        loop {
                            args.push(self.assignment()?);
                            if !self.eat_punct(",")? {
                                break;
                            }
                        }
                    }
                    let end = self.expect_punct("]")?;
                    let span = e.span.to(end);
                    e = mk(ExprKind::Index(Box::new(e), args), span);
                }
                Tok::Punct("(") => {
                    let ExprKind::Ident(name) = &e.kind else {
                        return Err(self.syntax_error(&t));
                    };
                    let name = name.clone();
                    self.bump()?;
                    let mut args = Vec::new();
                    if !self.is_punct(")")? {
                        loop {
                            args.push(self.assignment()?);
                            if !self.eat_punct(",")? {
                                break;
                            }
                        }
                    }
                    let end = self.expect_punct(")")?;
                    let name_span = e.span;
                    e = mk(ExprKind::Call(name, args, name_span), e.span.to(end));
                }
                Tok::Punct(p @ ("." | "->")) => {
                    self.bump()?;
                    let (member, mspan) = self.member_name()?;
                    let span = e.span.to(mspan);
                    e = mk(
                        ExprKind::Member {
                            base: Box::new(e),
                            member,
                            arrow: p == "->",
                        },
                        span,
                    );
                }
                Tok::Punct(p @ ("++" | "--")) => {
                    self.bump()?;
                    let span = e.span.to(t.span);
                    e = mk(
                        ExprKind::IncDec {
                            inc: p == "++",
                            prefix: false,
                            expr: Box::new(e),
                        },
                        span,
                    );
                }
                _ => return Ok(e),
            }
        }
    }

    /// A member name after `.`/`->`; keywords are allowed there (`->string`
    /// is not, but `->this` style names appear in kernel types rarely).
    fn member_name(&mut self) -> DResult<(String, Span)> {
        let t = self.peek()?.clone();
        match t.tok {
            Tok::Ident(n) => {
                self.bump()?;
                Ok((n, t.span))
            }
            // D's scope keywords are ordinary member names after . and ->.
            Tok::Kw(k @ (Keyword::SelfKw | Keyword::This)) => {
                self.bump()?;
                let name = if k == Keyword::SelfKw { "self" } else { "this" };
                Ok((name.into(), t.span))
            }
            _ => Err(self.syntax_error(&t)),
        }
    }

    fn primary(&mut self) -> DResult<Expr> {
        let t = self.peek()?.clone();
        match t.tok {
            Tok::Int {
                value,
                suffix,
                decimal,
            } => {
                self.bump()?;
                // A decimal constant without `u` may only be int, long or
                // long long (dt_parser.c's dt_node_int). Not a macro
                // argument's value, which may be negative.
                let literal =
                    self.lex.source()[t.span.start..].starts_with(|c: char| c.is_ascii_digit());
                if literal && decimal && !suffix.unsigned && value > i64::MAX as u64 {
                    return Err(diag(
                        ErrTag::D_INT_OFLOW,
                        t.span,
                        format!(
                            "integer constant 0x{value:x} cannot be represented in any built-in integral type"
                        ),
                    ));
                }
                Ok(mk(
                    ExprKind::Int {
                        value,
                        unsigned: suffix.unsigned,
                        longs: suffix.longs,
                        decimal,
                    },
                    t.span,
                ))
            }
            Tok::Char(v) => {
                self.bump()?;
                Ok(mk(ExprKind::Char(v), t.span))
            }
            Tok::Str(s) => {
                self.bump()?;
                let mut bytes = s;
                let mut span = t.span;
                // Adjacent string literals join, as in C.
                while let Tok::Str(more) = self.peek_tok()? {
                    let t2 = self.bump()?;
                    bytes.extend_from_slice(&more);
                    span = span.to(t2.span);
                }
                Ok(mk(ExprKind::Str(bytes), span))
            }
            Tok::Ident(name) => {
                self.bump()?;
                // module`symbol, written without blanks: the kernel's
                // symbols are one name space, so the module only scopes
                // the name as written (vmlinux`max_pfn is `max_pfn).
                let tick = self.peek()?.clone();
                if tick.tok == Tok::Punct("`") && tick.span.start == t.span.end {
                    self.bump()?;
                    let sym = self.peek()?.clone();
                    if let Tok::Ident(s) = &sym.tok {
                        if sym.span.start == tick.span.end {
                            self.bump()?;
                            return Ok(mk(ExprKind::KernelSym(s.clone()), t.span.to(sym.span)));
                        }
                    }
                    return Err(self.syntax_error(&sym));
                }
                Ok(mk(ExprKind::Ident(name), t.span))
            }
            Tok::Kw(k @ (Keyword::SelfKw | Keyword::This)) => {
                self.bump()?;
                self.expect_punct("->")?;
                let (name, nspan) = self.member_name()?;
                let span = t.span.to(nspan);
                Ok(mk(
                    if k == Keyword::SelfKw {
                        ExprKind::SelfVar(name)
                    } else {
                        ExprKind::ThisVar(name)
                    },
                    span,
                ))
            }
            Tok::Punct("@") => {
                self.bump()?;
                // `@name` has no blank between; `@` alone is the anonymous aggregation.
                let next = self.peek()?.clone();
                if let Tok::Ident(name) = &next.tok {
                    if next.span.start == t.span.end {
                        self.bump()?;
                        return Ok(mk(ExprKind::Agg(name.clone()), t.span.to(next.span)));
                    }
                }
                Ok(mk(ExprKind::Agg(String::new()), t.span))
            }
            Tok::Punct("`") => {
                self.bump()?;
                let (name, nspan) = self.expect_ident()?;
                Ok(mk(ExprKind::KernelSym(name), t.span.to(nspan)))
            }
            Tok::Punct("(") => {
                self.bump()?;
                let e = self.expression()?;
                let end = self.expect_punct(")")?;
                Ok(Expr {
                    kind: e.kind,
                    span: t.span.to(end),
                })
            }
            Tok::Kw(Keyword::Offsetof) => {
                self.bump()?;
                self.expect_punct("(")?;
                let ty = self.type_name()?;
                self.expect_punct(",")?;
                let (member, _) = self.member_name()?;
                let end = self.expect_punct(")")?;
                Ok(mk(ExprKind::Offsetof(ty, member), t.span.to(end)))
            }
            Tok::Kw(Keyword::Xlate) => {
                self.bump()?;
                self.expect_punct("<")?;
                let ty = self.type_name()?;
                self.expect_punct(">")?;
                self.expect_punct("(")?;
                let e = self.expression()?;
                let end = self.expect_punct(")")?;
                Ok(mk(ExprKind::Xlate(ty, Box::new(e)), t.span.to(end)))
            }
            _ => Err(self.syntax_error(&t)),
        }
    }
}
