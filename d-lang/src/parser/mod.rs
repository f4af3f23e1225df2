//! Parser: tokens to [`ast::Script`], by recursive descent.
//!
//! The top level alternates between probe clauses and declarations; the
//! parser decides which by looking at the first word (a declaration starts
//! with a type, class or `inline`/`translator`/`provider`), then asks the
//! lexer for probe specifiers or C tokens accordingly. Expressions use C's
//! precedence and associativity ([`expr`]); declarations follow C's
//! declarator grammar ([`decl`]).

mod decl;
mod expr;

use crate::ast::{self, Clause, Item, Pragma, Stmt};
use crate::catalog::DescField;
use crate::diag::{diag, DResult, ErrTag};
use crate::lexer::{Lexer, Mode};
use crate::options::{CompileOptions, Origin};
use crate::recursion::grow;
use crate::span::Span;
use crate::token::{Keyword, Tok, Token};
use crate::types::{BUILTIN_TYPEDEFS, PRELUDE_TYPEDEFS};
use std::collections::HashSet;

/// Parse a whole program.
pub fn parse(src: &str, opts: &CompileOptions) -> DResult<ast::Script> {
    let mut p = Parser::new(src, opts);
    p.script()
}

/// Parse a type name such as `const char *` or `char [16]` (used for probe
/// argument types reported by catalogues).
pub fn parse_type_name(src: &str) -> DResult<ast::TypeName> {
    let opts = CompileOptions::new(Origin::Spec(DescField::Name));
    let mut p = Parser::new(src, &opts);
    let t = p.type_name()?;
    p.expect_eof()?;
    Ok(t)
}

/// D's built-in and prelude typedef names, indexed once per process.
fn builtin_typedef(name: &str) -> bool {
    static NAMES: std::sync::OnceLock<HashSet<&'static str>> = std::sync::OnceLock::new();
    NAMES
        .get_or_init(|| {
            BUILTIN_TYPEDEFS
                .iter()
                .map(|(n, _)| *n)
                .chain(PRELUDE_TYPEDEFS.iter().copied())
                .collect()
        })
        .contains(name)
}

/// Nesting bound: deeper input is refused. The stack itself never limits
/// depth: recursive stages run through [`grow`], which moves to a fresh stack
/// segment when the current one runs low.
const MAX_DEPTH: usize = 1000;

pub(crate) struct Parser<'a> {
    lex: Lexer<'a>,
    peeked: Option<(Mode, usize, Token)>,
    /// Typedef names declared by this program (built-in ones are in [`builtin_typedef`]).
    typedefs: HashSet<String>,
    is_file: bool,
    depth: usize,
    /// Parsing a struct's or union's members, where `self` and `this`
    /// are names like any other.
    in_members: bool,
    /// Control lines met inside a clause: DTrace acts on a `#pragma` as
    /// its lexer meets it, wherever it is; they become items before the
    /// clause.
    inner_pragmas: Vec<Pragma>,
    /// The script's file (`-s`), to tell it from the headers it includes.
    main_file: Option<String>,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, opts: &'a CompileOptions) -> Self {
        Parser {
            lex: Lexer::new(src, opts),
            peeked: None,
            typedefs: HashSet::new(),
            is_file: matches!(opts.origin, Origin::File(_)),
            depth: 0,
            in_members: false,
            inner_pragmas: Vec::new(),
            main_file: match &opts.origin {
                Origin::File(f) => Some(f.clone()),
                _ => None,
            },
        }
    }

    /// Whether `name` names a type, so that `(name)` starts a cast.
    fn is_typedef(&self, name: &str) -> bool {
        builtin_typedef(name) || self.typedefs.contains(name)
    }

    /// Peek at the next token in `mode` without consuming it.
    fn peek_mode(&mut self, mode: Mode) -> DResult<&Token> {
        let pos = self.lex.pos();
        let stale = match &self.peeked {
            Some((m, p, _)) => *m != mode || *p != pos,
            None => true,
        };
        if stale {
            let t = self.lex.next(mode)?;
            self.lex.seek(pos);
            self.peeked = Some((mode, pos, t));
        }
        match &self.peeked {
            Some((_, _, t)) => Ok(t),
            None => unreachable!("peeked was just filled"),
        }
    }

    fn peek(&mut self) -> DResult<&Token> {
        self.peek_mode(Mode::Code)
    }

    fn peek_tok(&mut self) -> DResult<Tok> {
        Ok(self.peek()?.tok.clone())
    }

    /// Consume the next token in `mode`.
    fn bump_mode(&mut self, mode: Mode) -> DResult<Token> {
        let pos = self.lex.pos();
        if let Some((m, p, t)) = self.peeked.take() {
            if m == mode && p == pos {
                self.lex.seek(t.span.end);
                return Ok(t);
            }
        }
        self.lex.next(mode)
    }

    fn bump(&mut self) -> DResult<Token> {
        self.bump_mode(Mode::Code)
    }

    fn is_punct(&mut self, p: &str) -> DResult<bool> {
        Ok(matches!(self.peek()?.tok, Tok::Punct(q) if q == p))
    }

    fn eat_punct(&mut self, p: &str) -> DResult<bool> {
        if self.is_punct(p)? {
            self.bump()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn is_kw(&mut self, k: Keyword) -> DResult<bool> {
        Ok(self.peek()?.tok == Tok::Kw(k))
    }

    fn expect_punct(&mut self, p: &str) -> DResult<Span> {
        let t = self.peek()?.clone();
        match t.tok {
            Tok::Punct(q) if q == p => {
                self.bump()?;
                Ok(t.span)
            }
            _ => Err(self.syntax_error(&t)),
        }
    }

    fn expect_ident(&mut self) -> DResult<(String, Span)> {
        let t = self.peek()?.clone();
        match t.tok {
            Tok::Ident(name) => {
                self.bump()?;
                Ok((name, t.span))
            }
            _ => Err(self.syntax_error(&t)),
        }
    }

    fn expect_eof(&mut self) -> DResult<()> {
        let t = self.peek()?.clone();
        if t.tok == Tok::Eof {
            Ok(())
        } else {
            Err(self.syntax_error(&t))
        }
    }

    /// `syntax error near "TOK"`, as DTrace words it.
    fn syntax_error(&self, t: &Token) -> crate::diag::Diagnostic {
        if t.tok == Tok::Eof {
            return diag(ErrTag::D_SYNTAX, t.span, "syntax error near end of input");
        }
        let text = &self.lex.source()[t.span.start..t.span.end];
        let text = match &t.tok {
            Tok::Pragma(_) => "#",
            _ => text.lines().next().unwrap_or(text),
        };
        diag(
            ErrTag::D_SYNTAX,
            t.span,
            format!("syntax error near \"{text}\""),
        )
    }

    fn enter(&mut self, span: Span) -> DResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(diag(
                ErrTag::D_SYNTAX,
                span,
                "expression or declaration is nested too deeply",
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn script(&mut self) -> DResult<ast::Script> {
        let mut items = Vec::new();
        loop {
            let t = self.peek()?.clone();
            match &t.tok {
                Tok::Eof => break,
                Tok::Pragma(body) => {
                    self.bump()?;
                    let words = body.split_whitespace().map(str::to_string).collect();
                    items.push(Item::Pragma(Pragma {
                        words,
                        span: t.span,
                    }));
                }
                Tok::Punct(";") => {
                    self.bump()?;
                }
                Tok::Punct("}") => {
                    return Err(diag(ErrTag::D_SYNTAX, t.span, "extra } in input stream"));
                }
                Tok::Kw(Keyword::Static | Keyword::Extern | Keyword::Inline)
                    if self.skip_header_function(t.span.start)? => {}
                _ if self.starts_declaration(&t.tok) => items.push(self.top_declaration()?),
                _ => {
                    let clause = self.clause()?;
                    items.extend(self.inner_pragmas.drain(..).map(Item::Pragma));
                    items.push(Item::Clause(clause));
                }
            }
        }
        Ok(ast::Script { items })
    }

    /// Skip a C function definition (`static inline T f(…) { … }`) that
    /// starts at byte `at` inside a header a `-C` script `#include`d:
    /// glibc's `<sys/types.h>` defines such functions, whose bodies D
    /// cannot read and does not need. Only in included files (a line
    /// marker names another file than the script's first one): in the
    /// script itself a function body stays D's syntax error. True if one
    /// was skipped.
    fn skip_header_function(&mut self, at: usize) -> DResult<bool> {
        let src = self.lex.source();
        let Some(main) = &self.main_file else {
            return Ok(false);
        };
        if !crate::lexer::in_included_file(src, at, main) {
            return Ok(false);
        }
        // A definition has its body's `{` before any `;` outside parentheses.
        let rest = &src.as_bytes()[at..];
        let mut depth = 0usize;
        let mut body = None;
        for (i, &b) in rest.iter().enumerate() {
            match b {
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                b';' if depth == 0 => break,
                b'{' if depth == 0 => {
                    body = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let Some(open) = body else {
            return Ok(false);
        };
        let mut braces = 0usize;
        let mut end = None;
        for (i, &b) in rest[open..].iter().enumerate() {
            match b {
                b'{' => braces += 1,
                b'}' => {
                    braces -= 1;
                    if braces == 0 {
                        end = Some(at + open + i + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else {
            return Ok(false);
        };
        while self.peek()?.span.start < end && self.peek_tok()? != Tok::Eof {
            self.bump()?;
        }
        Ok(true)
    }

    /// Whether a top-level item beginning with `tok` is a declaration.
    fn starts_declaration(&self, tok: &Tok) -> bool {
        match tok {
            Tok::Kw(k) => {
                use Keyword::*;
                matches!(
                    k,
                    Auto | Char
                        | Const
                        | Double
                        | Enum
                        | Extern
                        | Float
                        | Inline
                        | Int
                        | Long
                        | Provider
                        | Register
                        | Restrict
                        | SelfKw
                        | Short
                        | Signed
                        | Static
                        | String
                        | Struct
                        | This
                        | Translator
                        | Typedef
                        | Union
                        | Unsigned
                        | Void
                        | Volatile
                )
            }
            Tok::Ident(name) => self.is_typedef(name),
            _ => false,
        }
    }

    fn clause(&mut self) -> DResult<Clause> {
        let start = self.lex.pos();
        let mut descs = Vec::new();
        loop {
            let t = self.peek_mode(Mode::ProbeSpec)?.clone();
            match t.tok {
                Tok::ProbeSpec(s) => {
                    self.bump_mode(Mode::ProbeSpec)?;
                    descs.push((s, t.span));
                }
                _ => return Err(self.syntax_error(&t)),
            }
            if !self.eat_punct(",")? {
                break;
            }
        }
        let mut predicate = None;
        if self.is_punct("/")? {
            self.bump()?;
            let e = self.expression()?;
            let t = self.peek()?.clone();
            if t.tok != Tok::EndPred {
                return Err(self.syntax_error(&t));
            }
            self.bump()?;
            predicate = Some(e);
        }
        let mut body = None;
        if self.is_punct("{")? {
            self.bump()?;
            body = Some(self.statements_until_brace()?);
        } else if predicate.is_none() {
            let t = self.peek()?.clone();
            if self.is_file || t.tok != Tok::Eof {
                let span = descs.last().map(|d| d.1).unwrap_or(t.span);
                if t.tok != Tok::Eof {
                    return Err(self.syntax_error(&t));
                }
                return Err(diag(
                    ErrTag::D_SYNTAX,
                    span,
                    "expected predicate and/or actions following probe description",
                ));
            }
        }
        Ok(Clause {
            descs,
            predicate,
            body,
            span: Span::new(start, self.lex.pos()),
        })
    }

    /// Statements up to and including the closing `}`.
    fn statements_until_brace(&mut self) -> DResult<Vec<Stmt>> {
        let mut stmts = Vec::new();
        loop {
            let t = self.peek()?.clone();
            match &t.tok {
                Tok::Punct("}") => {
                    self.bump()?;
                    return Ok(stmts);
                }
                Tok::Punct(";") => {
                    self.bump()?;
                }
                Tok::Pragma(body) => {
                    self.bump()?;
                    let words = body.split_whitespace().map(str::to_string).collect();
                    self.inner_pragmas.push(Pragma {
                        words,
                        span: t.span,
                    });
                }
                Tok::Eof => return Err(self.syntax_error(&t)),
                _ => {
                    let s = self.statement()?;
                    let needs_terminator = matches!(s, Stmt::Expr(_));
                    stmts.push(s);
                    if needs_terminator && !self.eat_punct(";")? && !self.is_punct("}")? {
                        let t = self.peek()?.clone();
                        return Err(self.syntax_error(&t));
                    }
                }
            }
        }
    }

    fn statement(&mut self) -> DResult<Stmt> {
        let t = self.peek()?.clone();
        self.enter(t.span)?;
        let r = grow(|| self.statement_inner(t));
        self.leave();
        r
    }

    fn statement_inner(&mut self, t: Token) -> DResult<Stmt> {
        match &t.tok {
            Tok::Punct("{") => {
                self.bump()?;
                Ok(Stmt::Block(self.statements_until_brace()?))
            }
            Tok::Kw(Keyword::If) => {
                self.bump()?;
                self.expect_punct("(")?;
                let cond = self.expression()?;
                self.expect_punct(")")?;
                let then = self.branch()?;
                let els = if self.is_kw(Keyword::Else)? {
                    self.bump()?;
                    Some(self.branch()?)
                } else {
                    None
                };
                Ok(Stmt::If {
                    cond,
                    then,
                    els,
                    span: t.span,
                })
            }
            Tok::Kw(Keyword::This | Keyword::SelfKw) => {
                // `this->x …` is an expression; `this int x;` a declaration.
                let mut probe = self.lex.clone();
                probe.seek(t.span.end);
                let next = probe.next(Mode::Code)?;
                if next.tok == Tok::Punct("->") {
                    Ok(Stmt::Expr(self.expression()?))
                } else {
                    Ok(Stmt::Decl(self.declaration()?))
                }
            }
            tok if self.starts_declaration(tok) && !matches!(tok, Tok::Ident(_)) => {
                Ok(Stmt::Decl(self.declaration()?))
            }
            _ => Ok(Stmt::Expr(self.expression()?)),
        }
    }

    /// The body of an `if`/`else`: a block or one statement.
    fn branch(&mut self) -> DResult<Vec<Stmt>> {
        if self.eat_punct("{")? {
            return self.statements_until_brace();
        }
        let s = self.statement()?;
        if matches!(s, Stmt::Expr(_)) && !self.eat_punct(";")? && !self.is_punct("}")? {
            let t = self.peek()?.clone();
            return Err(self.syntax_error(&t));
        }
        Ok(vec![s])
    }
}

#[cfg(test)]
mod tests;
