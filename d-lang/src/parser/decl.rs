//! Declarations: specifiers, C declarators, type names, and D's
//! `inline`, `translator` and `provider` forms.

use super::Parser;
use crate::ast::{
    ArrayDim, BaseType, Decl, DeclSpecs, Declarator, Inline, Item, Member, Param, ProviderDecl,
    StorageClass, Translator, TypeName,
};
use crate::diag::{diag, DResult, ErrTag};
use crate::lexer::Mode;
use crate::recursion::grow;
use crate::span::Span;
use crate::token::{Keyword, Tok};

fn is_type_word(k: Keyword) -> bool {
    use Keyword::*;
    matches!(
        k,
        Void | Char | Short | Int | Long | Float | Double | Signed | Unsigned | String
    )
}

impl Parser<'_> {
    /// A declaration at the top of the program (or `inline`, `translator`, `provider`).
    pub(crate) fn top_declaration(&mut self) -> DResult<Item> {
        match self.peek_tok()? {
            Tok::Kw(Keyword::Inline) => self.inline().map(Item::Inline),
            Tok::Kw(Keyword::Translator) => self.translator().map(Item::Translator),
            Tok::Kw(Keyword::Provider) => self.provider().map(Item::Provider),
            _ => self.declaration().map(Item::Decl),
        }
    }

    /// `specs declarator, declarator… ;`
    pub(crate) fn declaration(&mut self) -> DResult<Decl> {
        let start = self.peek()?.span;
        let specs = self.decl_specs()?;
        let mut declarators = Vec::new();
        if !self.is_punct(";")? {
            loop {
                let d = self.declarator(false)?;
                if specs.class == Some(StorageClass::Typedef) {
                    if let Some((name, _)) = d.name() {
                        self.typedefs.insert(name.to_string());
                    }
                }
                declarators.push(d);
                if !self.eat_punct(",")? {
                    break;
                }
            }
        }
        // D has no initializers: `int x = 1;` is DTrace's syntax error
        // near "=".
        let end = self.expect_punct(";")?;
        Ok(Decl {
            specs,
            declarators,
            span: start.to(end),
        })
    }

    /// Declaration specifiers in any order, as C allows.
    pub(crate) fn decl_specs(&mut self) -> DResult<DeclSpecs> {
        let start = self.peek()?.span;
        let mut class = None;
        let mut qualifiers = Vec::new();
        let mut words: Vec<Keyword> = Vec::new();
        let mut base: Option<BaseType> = None;
        let mut end = start;
        loop {
            let t = self.peek()?.clone();
            let new_class = match &t.tok {
                Tok::Kw(Keyword::Auto) => Some(StorageClass::Auto),
                Tok::Kw(Keyword::Register) => Some(StorageClass::Register),
                Tok::Kw(Keyword::Static) => Some(StorageClass::Static),
                Tok::Kw(Keyword::Extern) => Some(StorageClass::Extern),
                Tok::Kw(Keyword::Typedef) => Some(StorageClass::Typedef),
                Tok::Kw(Keyword::SelfKw) if !self.in_members => Some(StorageClass::SelfScope),
                Tok::Kw(Keyword::This) if !self.in_members => Some(StorageClass::ThisScope),
                _ => None,
            };
            if let Some(c) = new_class {
                if class.is_some() {
                    return Err(diag(
                        ErrTag::D_DECL_CLASS,
                        t.span,
                        "only one storage class allowed in a declaration",
                    ));
                }
                class = Some(c);
                self.bump()?;
                end = t.span;
                continue;
            }
            match &t.tok {
                Tok::Kw(k @ (Keyword::Const | Keyword::Volatile | Keyword::Restrict)) => {
                    qualifiers.push(*k);
                    self.bump()?;
                }
                Tok::Kw(k) if is_type_word(*k) => {
                    if base.is_some() {
                        return Err(diag(
                            ErrTag::D_DECL_COMBO,
                            t.span,
                            "invalid type combination",
                        ));
                    }
                    words.push(*k);
                    self.bump()?;
                }
                Tok::Kw(k @ (Keyword::Struct | Keyword::Union)) => {
                    if base.is_some() || !words.is_empty() {
                        return Err(diag(
                            ErrTag::D_DECL_COMBO,
                            t.span,
                            "invalid type combination",
                        ));
                    }
                    self.bump()?;
                    let (name, members) = self.sou_body()?;
                    base = Some(if *k == Keyword::Struct {
                        BaseType::Struct(name, members)
                    } else {
                        BaseType::Union(name, members)
                    });
                }
                Tok::Kw(Keyword::Enum) => {
                    if base.is_some() || !words.is_empty() {
                        return Err(diag(
                            ErrTag::D_DECL_COMBO,
                            t.span,
                            "invalid type combination",
                        ));
                    }
                    self.bump()?;
                    base = Some(self.enum_body()?);
                }
                Tok::Ident(name) if base.is_none() && words.is_empty() && self.is_typedef(name) => {
                    base = Some(BaseType::Named(name.clone()));
                    self.bump()?;
                }
                _ => break,
            }
            end = t.span;
        }
        let base = match base {
            Some(b) => b,
            None if !words.is_empty() => BaseType::Words(words),
            // `self x;` or `const x;`: C's implicit int.
            None if class.is_some() || !qualifiers.is_empty() => {
                BaseType::Words(vec![Keyword::Int])
            }
            None => {
                let t = self.peek()?.clone();
                return Err(self.syntax_error(&t));
            }
        };
        Ok(DeclSpecs {
            class,
            qualifiers,
            base,
            span: start.to(end),
        })
    }

    /// The optional tag after `struct`/`union`/`enum`, and whether a `{`
    /// body follows (consumed); a reference without a tag is an error.
    fn tag_and_brace(&mut self) -> DResult<(Option<String>, bool)> {
        let name = match self.peek_tok()? {
            Tok::Ident(n) => {
                self.bump()?;
                Some(n)
            }
            _ => None,
        };
        if self.eat_punct("{")? {
            return Ok((name, true));
        }
        if name.is_none() {
            let t = self.peek()?.clone();
            return Err(self.syntax_error(&t));
        }
        Ok((name, false))
    }

    /// `name? { members }?` after `struct`/`union`.
    fn sou_body(&mut self) -> DResult<(Option<String>, Option<Vec<Member>>)> {
        let (name, has_body) = self.tag_and_brace()?;
        if !has_body {
            return Ok((name, None));
        }
        let mut members = Vec::new();
        while !self.eat_punct("}")? {
            let start = self.peek()?.span;
            // self and this are names here, not storage classes.
            self.in_members = true;
            let specs = self.decl_specs();
            self.in_members = false;
            let specs = specs?;
            loop {
                let decl = if self.is_punct(":")? {
                    Declarator::Name(None, self.peek()?.span)
                } else {
                    self.in_members = true;
                    let d = self.declarator(false);
                    self.in_members = false;
                    d?
                };
                self.in_members = false;
                let bits = if self.eat_punct(":")? {
                    Some(self.conditional_expr()?)
                } else {
                    None
                };
                let end = self.peek()?.span;
                members.push(Member {
                    specs: specs.clone(),
                    decl,
                    bits,
                    span: start.to(end),
                });
                if !self.eat_punct(",")? {
                    break;
                }
            }
            self.expect_punct(";")?;
        }
        Ok((name, Some(members)))
    }

    fn conditional_expr(&mut self) -> DResult<crate::ast::Expr> {
        // Bit-field widths and array sizes: an assignment-free expression.
        self.assignment()
    }

    /// `name? { A [= v], … }` after `enum`.
    fn enum_body(&mut self) -> DResult<BaseType> {
        let (name, has_body) = self.tag_and_brace()?;
        if !has_body {
            return Ok(BaseType::Enum(name, None));
        }
        let mut items = Vec::new();
        loop {
            if self.eat_punct("}")? {
                break;
            }
            let (n, span) = self.expect_ident()?;
            let value = if self.eat_punct("=")? {
                Some(self.conditional_expr()?)
            } else {
                None
            };
            items.push((n, value, span));
            if !self.eat_punct(",")? {
                self.expect_punct("}")?;
                break;
            }
        }
        Ok(BaseType::Enum(name, Some(items)))
    }

    /// A C declarator; `abstract_ok` allows the name to be absent.
    pub(crate) fn declarator(&mut self, abstract_ok: bool) -> DResult<Declarator> {
        let t = self.peek()?.clone();
        self.enter(t.span)?;
        let r = grow(|| self.declarator_inner(abstract_ok));
        self.leave();
        r
    }

    fn declarator_inner(&mut self, abstract_ok: bool) -> DResult<Declarator> {
        if self.eat_punct("*")? {
            while let Tok::Kw(Keyword::Const | Keyword::Volatile | Keyword::Restrict) =
                self.peek_tok()?
            {
                self.bump()?;
            }
            let inner = self.declarator(abstract_ok)?;
            return Ok(Declarator::Pointer(Box::new(inner)));
        }
        let t = self.peek()?.clone();
        let mut d = match &t.tok {
            Tok::Ident(name) => {
                self.bump()?;
                Declarator::Name(Some(name.clone()), t.span)
            }
            Tok::Kw(k @ (Keyword::SelfKw | Keyword::This)) if self.in_members => {
                self.bump()?;
                let name = if *k == Keyword::SelfKw {
                    "self"
                } else {
                    "this"
                };
                Declarator::Name(Some(name.into()), t.span)
            }
            Tok::Punct("(") if self.paren_is_grouping(abstract_ok)? => {
                self.bump()?;
                let inner = self.declarator(abstract_ok)?;
                self.expect_punct(")")?;
                inner
            }
            _ if abstract_ok => Declarator::Name(None, Span::new(t.span.start, t.span.start)),
            _ => return Err(self.syntax_error(&t)),
        };
        loop {
            if self.eat_punct("[")? {
                let dim = if self.is_punct("]")? {
                    None
                } else if self.starts_type()? {
                    let mut keys = Vec::new();
                    loop {
                        keys.push(self.type_name()?);
                        if !self.eat_punct(",")? {
                            break;
                        }
                    }
                    Some(ArrayDim::Keys(keys))
                } else {
                    Some(ArrayDim::Size(Box::new(self.conditional_expr()?)))
                };
                self.expect_punct("]")?;
                d = Declarator::Array(Box::new(d), dim);
            } else if self.is_punct("(")? {
                self.bump()?;
                let (params, varargs) = self.params()?;
                d = Declarator::Function(Box::new(d), params, varargs);
            } else {
                return Ok(d);
            }
        }
    }

    /// In a declarator, `(` groups when a declarator follows, not parameters.
    fn paren_is_grouping(&mut self, abstract_ok: bool) -> DResult<bool> {
        let mut probe = self.lex.clone();
        let _open = probe.next(Mode::Code)?;
        let next = probe.next(Mode::Code)?;
        Ok(match next.tok {
            Tok::Punct("*") | Tok::Punct("(") | Tok::Punct("[") => true,
            Tok::Ident(ref n) => !abstract_ok || !self.is_typedef(n),
            _ => false,
        })
    }

    fn starts_type(&mut self) -> DResult<bool> {
        Ok(match self.peek_tok()? {
            Tok::Kw(k) => {
                is_type_word(k)
                    || matches!(
                        k,
                        Keyword::Struct
                            | Keyword::Union
                            | Keyword::Enum
                            | Keyword::Const
                            | Keyword::Volatile
                    )
            }
            Tok::Ident(n) => self.is_typedef(&n),
            _ => false,
        })
    }

    /// `( params )` after the `(`; returns the parameters and whether `...` ended them.
    fn params(&mut self) -> DResult<(Vec<Param>, bool)> {
        let mut params = Vec::new();
        let mut varargs = false;
        if self.eat_punct(")")? {
            return Ok((params, false));
        }
        loop {
            if self.eat_punct("...")? {
                varargs = true;
                break;
            }
            let start = self.peek()?.span;
            let specs = self.decl_specs()?;
            let decl = self.declarator(true)?;
            let end = self.peek()?.span;
            params.push(Param {
                ty: TypeName {
                    specs,
                    decl,
                    span: start.to(end),
                },
            });
            if !self.eat_punct(",")? {
                break;
            }
        }
        self.expect_punct(")")?;
        Ok((params, varargs))
    }

    /// A type name: specifiers and an abstract declarator (casts, `sizeof`).
    pub(crate) fn type_name(&mut self) -> DResult<TypeName> {
        let start = self.peek()?.span;
        let specs = self.decl_specs()?;
        let decl = self.declarator(true)?;
        let end = self.lex.pos();
        Ok(TypeName {
            specs,
            decl,
            span: Span::new(start.start, end.max(start.start)),
        })
    }

    fn inline(&mut self) -> DResult<Inline> {
        let start = self.bump()?.span;
        let specs = self.decl_specs()?;
        let decl = self.declarator(false)?;
        self.expect_punct("=")?;
        let value = self.assignment()?;
        let end = self.expect_punct(";")?;
        Ok(Inline {
            specs,
            decl,
            value,
            span: start.to(end),
        })
    }

    fn translator(&mut self) -> DResult<Translator> {
        let start = self.bump()?.span;
        let output = self.type_name()?;
        self.expect_punct("<")?;
        let input = self.type_name_no_gt()?;
        let (param, _) = self.expect_ident()?;
        self.expect_punct(">")?;
        self.expect_punct("{")?;
        let mut members = Vec::new();
        while !self.eat_punct("}")? {
            let (name, span) = self.expect_ident()?;
            self.expect_punct("=")?;
            let e = self.assignment()?;
            self.expect_punct(";")?;
            members.push((name, e, span));
        }
        let end = self.expect_punct(";")?;
        Ok(Translator {
            output,
            input,
            param,
            members,
            span: start.to(end),
        })
    }

    /// The input type of a translator: its declarator is abstract and the
    /// parameter name follows it.
    fn type_name_no_gt(&mut self) -> DResult<TypeName> {
        let start = self.peek()?.span;
        let specs = self.decl_specs()?;
        let mut decl = Declarator::Name(None, start);
        while self.eat_punct("*")? {
            decl = Declarator::Pointer(Box::new(decl));
        }
        let end = self.lex.pos();
        Ok(TypeName {
            specs,
            decl,
            span: Span::new(start.start, end),
        })
    }

    fn provider(&mut self) -> DResult<ProviderDecl> {
        let start = self.bump()?.span;
        let (name, _) = self.expect_ident()?;
        self.expect_punct("{")?;
        let mut probes = Vec::new();
        while !self.eat_punct("}")? {
            let t = self.peek()?.clone();
            if t.tok != Tok::Kw(Keyword::Probe) {
                return Err(self.syntax_error(&t));
            }
            self.bump()?;
            let (pname, _) = self.expect_ident()?;
            self.expect_punct("(")?;
            let (params, varargs) = self.params()?;
            let after = Span::new(self.lex.pos(), self.lex.pos());
            // A provider may also name translated argument types: `: (types)`.
            let output = if self.eat_punct(":")? {
                self.expect_punct("(")?;
                let (out, out_varargs) = self.params()?;
                Some((out, out_varargs, Span::new(self.lex.pos(), self.lex.pos())))
            } else {
                None
            };
            // DTrace checks both prototypes as it parses the probe.
            probe_prototype(&params, &params, varargs, after, "probe input")?;
            if let Some((out, out_varargs, out_end)) = &output {
                probe_prototype(&params, out, *out_varargs, *out_end, "probe output")?;
            }
            self.expect_punct(";")?;
            probes.push((
                pname.replace("__", "-"),
                params.into_iter().map(|p| p.ty).collect(),
            ));
        }
        let end = self.expect_punct(";")?;
        Ok(ProviderDecl {
            name,
            probes,
            span: start.to(end),
        })
    }
}

/// DTrace's checks of a probe's prototype (`dt_decl_prototype`): `flist`
/// is the list checked, `plist` the input list (the same list for the
/// input prototype). Both may take a sole `void` and neither `...`; input
/// parameters may be unnamed and not repeat a name, output ones must be
/// named after an input parameter.
fn probe_prototype(
    plist: &[Param],
    flist: &[Param],
    varargs: bool,
    end: Span,
    kind: &str,
) -> DResult<()> {
    let output = kind == "probe output";
    let is_void = |p: &Param| {
        matches!(&p.ty.specs.base, BaseType::Words(w) if w.as_slice() == [Keyword::Void])
            && matches!(p.ty.decl, Declarator::Name(..))
    };
    let mut voids = 0;
    for (i, p) in flist.iter().enumerate() {
        let n = i + 1;
        let name = p.ty.decl.name().map(|(n, _)| n);
        let void = is_void(p);
        voids += usize::from(void);
        if let (true, Some(name)) = (void, name) {
            return Err(diag(
                ErrTag::D_DECL_PROTO_NAME,
                p.ty.span,
                format!("void parameter may not have a name: {name}"),
            ));
        }
        if let Some(name) = name {
            let in_input = if output {
                plist
                    .iter()
                    .any(|q| q.ty.decl.name().map(|(n, _)| n) == Some(name))
            } else {
                flist[..i]
                    .iter()
                    .any(|q| q.ty.decl.name().map(|(n, _)| n) == Some(name))
            };
            if in_input != output {
                return Err(diag(
                    ErrTag::D_DECL_PROTO_FORM,
                    p.ty.span,
                    format!(
                        "parameter is {} declared in {kind} prototype: {name}, parameter #{n}",
                        if output { "not" } else { "already" }
                    ),
                ));
            }
        } else if output && !void {
            return Err(diag(
                ErrTag::D_DECL_PROTO_NAME,
                p.ty.span,
                format!("parameter declaration requires a name: parameter #{n}"),
            ));
        }
    }
    if varargs {
        return Err(diag(
            ErrTag::D_DECL_PROTO_VARARGS,
            end,
            format!("{kind} prototype may not use a variable-length argument list"),
        ));
    }
    if voids > 0 && plist.len() > 1 {
        return Err(diag(
            ErrTag::D_DECL_PROTO_VOID,
            plist[0].ty.span,
            "void must be sole parameter",
        ));
    }
    Ok(())
}
