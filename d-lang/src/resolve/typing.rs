//! Types from declarations: specifiers and declarators to [`Type`]s,
//! struct/union layout, enums and typedefs (declarations that make names
//! are in [`super::declare`]).

use super::Resolver;
use crate::ast::{self, ArrayDim, BaseType, Declarator};
use crate::diag::{diag, DResult, ErrTag};
use crate::span::Span;
use crate::token::Keyword;
use crate::types::{int_named, EnumType, FuncType, MemberType, SouType, Type, BUILTIN_TYPEDEFS};
use std::collections::HashMap;
use std::rc::Rc;

/// What a declarator declares: its name (if any), its type, and key types
/// when it declares an associative array.
pub(crate) type Declared = (Option<(String, Span)>, Type, Option<Vec<Type>>);

/// The type namespace: typedefs, struct/union/enum tags, enumerators.
#[derive(Debug, Clone, Default)]
pub struct TypeTable {
    pub(crate) typedefs: HashMap<String, Type>,
    pub(crate) sous: HashMap<(bool, String), Rc<SouType>>,
    enums: HashMap<String, Rc<EnumType>>,
    pub(crate) enumerators: HashMap<String, (i64, Type)>,
}

impl TypeTable {
    /// A table holding D's built-in typedefs.
    pub fn new() -> Self {
        let mut t = TypeTable::default();
        for (name, text) in BUILTIN_TYPEDEFS {
            if let Some(ty) = t.parse_builtin(text) {
                t.typedefs.insert(
                    (*name).to_string(),
                    Type::Named((*name).into(), Rc::new(ty)),
                );
            }
        }
        t
    }

    /// Built-in typedef texts are simple: words and `*`.
    fn parse_builtin(&self, text: &str) -> Option<Type> {
        let stars = text.matches('*').count();
        let words: Vec<&str> = text
            .trim_end_matches(['*', ' '])
            .split_whitespace()
            .collect();
        let mut ty = words_type(&words)?;
        for _ in 0..stars {
            ty = Type::Pointer(Rc::new(ty));
        }
        Some(ty)
    }

    /// A typedef by name.
    pub fn typedef(&self, name: &str) -> Option<&Type> {
        self.typedefs.get(name)
    }
}

/// Base types named by keyword combinations (`unsigned long long`).
fn words_type(words: &[&str]) -> Option<Type> {
    let count = |w: &str| words.iter().filter(|x| **x == w).count();
    let (signed, unsigned) = (count("signed"), count("unsigned"));
    let (short, long) = (count("short"), count("long"));
    let (chr, int_, void, float, double, string) = (
        count("char"),
        count("int"),
        count("void"),
        count("float"),
        count("double"),
        count("string"),
    );
    if signed + unsigned > 1 || short > 1 || long > 2 || (short > 0 && long > 0) {
        return None;
    }
    let kinds = chr + void + float + double + string;
    if kinds > 1 || int_ > 1 || (kinds > 0 && int_ > 0) {
        return None;
    }
    let sign = unsigned == 0;
    if void == 1 {
        return (words.len() == 1).then_some(Type::Void);
    }
    if string == 1 {
        return (words.len() == 1).then_some(Type::String);
    }
    if float == 1 {
        return (words.len() == 1).then_some(Type::Float(4));
    }
    if double == 1 {
        return match (long, words.len()) {
            (0, 1) => Some(Type::Float(8)),
            (1, 2) => Some(Type::Float(16)),
            _ => None,
        };
    }
    if chr == 1 {
        if short + long > 0 {
            return None;
        }
        return Some(match (signed, unsigned) {
            (1, _) => int_named(1, true, "signed char"),
            (_, 1) => int_named(1, false, "unsigned char"),
            _ => int_named(1, true, "char"),
        });
    }
    Some(match (short, long) {
        (1, _) => int_named(2, sign, if sign { "short" } else { "unsigned short" }),
        (_, 1) => int_named(8, sign, if sign { "long" } else { "unsigned long" }),
        (_, 2) => int_named(
            8,
            sign,
            if sign {
                "long long"
            } else {
                "unsigned long long"
            },
        ),
        _ => int_named(4, sign, if sign { "int" } else { "unsigned int" }),
    })
}

impl Resolver<'_> {
    /// The type named by declaration specifiers.
    pub(crate) fn specs_type(&mut self, specs: &ast::DeclSpecs) -> DResult<Type> {
        let base = self.base_type(specs)?;
        if specs.qualifiers.contains(&Keyword::Const) {
            return Ok(Type::Const(Rc::new(base)));
        }
        Ok(base)
    }

    fn base_type(&mut self, specs: &ast::DeclSpecs) -> DResult<Type> {
        match &specs.base {
            BaseType::Words(words) => {
                let w: Vec<&str> = words.iter().map(|k| k.as_str()).collect();
                words_type(&w).ok_or_else(|| {
                    let has = |k: Keyword| words.contains(&k);
                    let sign = has(Keyword::Signed) || has(Keyword::Unsigned);
                    let size = has(Keyword::Short) || has(Keyword::Long);
                    // DTrace's checks of the words around a base type
                    // (dt_decl.c); other bad mixes are left as they were.
                    let (tag, msg) = if has(Keyword::Char) && size {
                        (
                            ErrTag::D_DECL_CHARATTR,
                            "invalid type declaration: short and long may not be used with char type",
                        )
                    } else if has(Keyword::Void) && (sign || size) {
                        (
                            ErrTag::D_DECL_VOIDATTR,
                            "invalid type declaration: attributes may not be used with void type",
                        )
                    } else if sign
                        && (has(Keyword::String) || has(Keyword::Float) || has(Keyword::Double))
                    {
                        (
                            ErrTag::D_DECL_SIGNINT,
                            "invalid type declaration: signed and unsigned may only be used with integer type",
                        )
                    } else if has(Keyword::Long) && has(Keyword::String) {
                        (
                            ErrTag::D_DECL_LONGINT,
                            "invalid type declaration: long and long long may only be used with integer or floating-point type",
                        )
                    } else if words.iter().filter(|k| **k == Keyword::Long).count() > 2 {
                        (ErrTag::D_DECL_LONGINT, "invalid type combination")
                    } else if has(Keyword::Signed) && has(Keyword::Unsigned) {
                        (ErrTag::D_DECL_SIGNINT, "invalid type combination")
                    } else {
                        (ErrTag::D_DECL_COMBO, "invalid type combination")
                    };
                    diag(tag, specs.span, msg)
                })
            }
            BaseType::Named(name) => self.types.typedefs.get(name).cloned().ok_or_else(|| {
                diag(
                    ErrTag::D_UNKNOWN,
                    specs.span,
                    format!("failed to resolve type {name}: Unknown type name"),
                )
            }),
            BaseType::Struct(name, members) => {
                self.sou(false, name, members.as_deref(), specs.span)
            }
            BaseType::Union(name, members) => self.sou(true, name, members.as_deref(), specs.span),
            BaseType::Enum(name, items) => self.enumeration(name, items.as_deref(), specs.span),
        }
    }

    fn sou(
        &mut self,
        is_union: bool,
        name: &Option<String>,
        members: Option<&[ast::Member]>,
        span: Span,
    ) -> DResult<Type> {
        let kw = if is_union { "union" } else { "struct" };
        let Some(members) = members else {
            // A reference: the known definition, the kernel's, or a
            // forward declaration.
            let n = name.clone().unwrap_or_default();
            if !self.types.sous.contains_key(&(is_union, n.clone())) && !n.is_empty() {
                if let Some(Type::Sou(k)) = self.catalog.kernel_type(&format!("{kw} {n}")) {
                    self.types.sous.insert((is_union, n), k.clone());
                    return Ok(Type::Sou(k));
                }
            }
            let entry = self
                .types
                .sous
                .entry((is_union, n.clone()))
                .or_insert_with(|| {
                    Rc::new(SouType {
                        name: Some(n),
                        is_union,
                        members: vec![],
                        size: 0,
                        align: 1,
                        complete: false,
                    })
                });
            return Ok(Type::Sou(entry.clone()));
        };
        if let Some(n) = name {
            if let Some(prev) = self.types.sous.get(&(is_union, n.clone())) {
                if prev.complete {
                    return Err(diag(
                        ErrTag::D_DECL_TYPERED,
                        span,
                        format!("type redeclared: {kw} {n}"),
                    ));
                }
            }
        }
        let mut out: Vec<MemberType> = Vec::new();
        let (mut offset, mut align, mut size) = (0u64, 1u64, 0u64);
        let mut bit_cursor: Option<(u64, u32, u64)> = None; // (unit offset, bits used, unit size)
        for m in members {
            let base = self.specs_type(&m.specs)?;
            let (mname, ty, _) = self.apply_declarator(base, &m.decl, false)?;
            let mname = mname.map(|(n, _)| n).unwrap_or_default();
            if let Type::Sou(fwd) = ty.strip() {
                if !fwd.complete {
                    return Err(diag(
                        ErrTag::D_DECL_INCOMPLETE,
                        m.span,
                        format!("incomplete struct/union/enum {}: {mname}", ty.name()),
                    ));
                }
            }
            if !mname.is_empty() && out.iter().any(|o| o.name == mname) {
                return Err(diag(
                    ErrTag::D_DECL_MNAME,
                    m.span,
                    format!("member redeclared: {mname}"),
                ));
            }
            if ty.is_void() {
                return Err(diag(
                    ErrTag::D_DECL_VOIDOBJ,
                    m.span,
                    format!("cannot have void member: {mname}"),
                ));
            }
            let a = ty.align();
            align = align.max(a);
            let (moff, bits) = if let Some(w) = &m.bits {
                // DTrace's order (dt_decl.c): the width (an unnamed `: 0`
                // is allowed), then the type, then the width against it.
                let bad_width = "positive integral constant expression expected as bit-field size";
                let width = self.const_int(w, ErrTag::D_DECL_BFCONST, bad_width)?;
                if width < 0 || (width == 0 && !mname.is_empty()) {
                    return Err(diag(ErrTag::D_DECL_BFCONST, w.span, bad_width));
                }
                if !ty.is_integer() {
                    return Err(diag(
                        ErrTag::D_DECL_BFTYPE,
                        m.span,
                        format!("invalid type for bit-field: {mname}"),
                    ));
                }
                let unit = ty.size();
                if width as u64 > unit * 8 {
                    return Err(diag(
                        ErrTag::D_DECL_BFSIZE,
                        m.span,
                        format!("bit-field too big for type: {mname}"),
                    ));
                }
                let width = width as u32;
                let (uoff, used) = match bit_cursor {
                    Some((uoff, used, usize_))
                        if !is_union && usize_ == unit && used + width <= unit as u32 * 8 =>
                    {
                        (uoff, used)
                    }
                    _ => {
                        let uoff = if is_union { 0 } else { offset.div_ceil(a) * a };
                        if !is_union {
                            offset = uoff + unit;
                        }
                        (uoff, 0)
                    }
                };
                bit_cursor = Some((uoff, used + width, unit));
                size = size.max(uoff + unit);
                (uoff, Some((used, width)))
            } else {
                bit_cursor = None;
                let moff = if is_union { 0 } else { offset.div_ceil(a) * a };
                if !is_union {
                    offset = moff + ty.size();
                }
                size = size.max(moff + ty.size());
                (moff, None)
            };
            out.push(MemberType {
                name: mname,
                ty,
                offset: moff,
                bits,
            });
        }
        let size = size.div_ceil(align) * align;
        let def = SouType {
            name: name.clone(),
            is_union,
            members: out,
            size,
            align,
            complete: true,
        };
        let rc = Rc::new(def);
        if let Some(n) = name {
            self.types.sous.insert((is_union, n.clone()), rc.clone());
        }
        Ok(Type::Sou(rc))
    }

    fn enumeration(
        &mut self,
        name: &Option<String>,
        items: Option<&[(String, Option<ast::Expr>, Span)]>,
        span: Span,
    ) -> DResult<Type> {
        let Some(items) = items else {
            let n = name.clone().unwrap_or_default();
            return self
                .types
                .enums
                .get(&n)
                .map(|e| Type::Enum(e.clone()))
                // Unlike a struct or union, an unknown enum gets no
                // forward declaration: DTrace cannot resolve the type
                // (dt_decl.c; the reason is libdtrace's EDT_NOTYPE text).
                .ok_or_else(|| {
                    diag(
                        ErrTag::D_UNKNOWN,
                        span,
                        format!("failed to resolve type enum {n}: Unknown type name"),
                    )
                });
        };
        if let Some(n) = name {
            if self.types.enums.contains_key(n) {
                return Err(diag(
                    ErrTag::D_DECL_TYPERED,
                    span,
                    format!("type redeclared: enum {n}"),
                ));
            }
        }
        let mut values = Vec::new();
        let mut next: i64 = 0;
        for (ename, value, espan) in items {
            if let Some(v) = value {
                next = self.const_int(
                    v,
                    ErrTag::D_DECL_ENCONST,
                    &format!(
                        "enumerator '{ename}' must be assigned to an integral constant expression"
                    ),
                )?;
            }
            if i32::try_from(next).is_err() {
                return Err(diag(
                    ErrTag::D_DECL_ENOFLOW,
                    *espan,
                    format!("enumerator '{ename}' value overflows INT_MAX (2147483647)"),
                ));
            }
            if self.types.enumerators.contains_key(ename)
                || crate::builtins::variable(ename).is_some()
            {
                return Err(diag(
                    ErrTag::D_DECL_IDRED,
                    *espan,
                    format!("identifier redeclared: {ename}"),
                ));
            }
            // Known at once (as an int, as in C), so that the next
            // enumerators' values may use it: B = A + 2.
            self.types
                .enumerators
                .insert(ename.clone(), (next, crate::types::int(4, true)));
            values.push((ename.clone(), next));
            next += 1;
        }
        let def = Rc::new(EnumType {
            name: name.clone(),
            values: values.clone(),
        });
        for (n, v) in values {
            self.types
                .enumerators
                .insert(n, (v, Type::Enum(def.clone())));
        }
        if let Some(n) = name {
            self.types.enums.insert(n.clone(), def.clone());
        }
        Ok(Type::Enum(def))
    }

    /// A constant integer expression (array sizes, bit widths, enum values).
    pub(crate) fn const_int(&mut self, e: &ast::Expr, tag: ErrTag, msg: &str) -> DResult<i64> {
        let r = self.expr(e)?;
        match r.as_const() {
            Some(v) if r.ty.is_integer() => Ok(v as i64),
            _ => Err(diag(tag, e.span, msg)),
        }
    }

    /// Apply a declarator to a base type. Returns the name, the full type, and
    /// associative-array key types when the declarator declares one.
    pub(crate) fn apply_declarator(
        &mut self,
        base: Type,
        d: &Declarator,
        allow_keys: bool,
    ) -> DResult<Declared> {
        match d {
            Declarator::Name(n, s) => Ok((n.clone().map(|n| (n, *s)), base, None)),
            Declarator::Pointer(inner) => {
                self.apply_declarator(Type::Pointer(Rc::new(base)), inner, allow_keys)
            }
            Declarator::Array(inner, dim) => match dim {
                Some(ArrayDim::Keys(keys)) => {
                    if !allow_keys || !matches!(**inner, Declarator::Name(..)) {
                        return Err(diag(
                            ErrTag::D_DECL_ARRSUB,
                            d.name().map(|n| n.1).unwrap_or_default(),
                            "associative array dimensions may only be used in variable declarations",
                        ));
                    }
                    let mut kt = Vec::new();
                    for k in keys {
                        let t = self.type_of_name(k)?;
                        // A key list is an "array" prototype, which may
                        // not take void (dt_decl_prototype).
                        if t.is_void() {
                            return Err(diag(
                                ErrTag::D_DECL_PROTO_TYPE,
                                k.span,
                                format!(
                                    "array prototype may not use parameter of type {}: {}, parameter #{}",
                                    t.name(),
                                    k.decl.name().map_or("(anonymous)", |n| n.0),
                                    kt.len() + 1
                                ),
                            ));
                        }
                        kt.push(t);
                    }
                    let (name, ty, _) = self.apply_declarator(base, inner, false)?;
                    Ok((name, ty, Some(kt)))
                }
                Some(ArrayDim::Size(e)) => {
                    let n = self.const_int(e, ErrTag::D_DECL_ARRSUB, "positive integral constant expression or tuple signature expected as array declaration subscript")?;
                    if n <= 0 {
                        return Err(diag(ErrTag::D_DECL_ARRSUB, e.span, "positive integral constant expression or tuple signature expected as array declaration subscript"));
                    }
                    if (n as u64).saturating_mul(base.size()) > u32::MAX as u64 {
                        return Err(diag(
                            ErrTag::D_DECL_ARRBIG,
                            e.span,
                            "array dimension too big",
                        ));
                    }
                    self.apply_declarator(Type::Array(Rc::new(base), n as u64), inner, allow_keys)
                }
                None => Err(diag(
                    ErrTag::D_DECL_ARRNULL,
                    d.name().map(|n| n.1).unwrap_or_default(),
                    format!(
                        "array declaration requires array dimension or tuple signature: {}",
                        d.name().map_or("", |n| n.0)
                    ),
                )),
            },
            Declarator::Function(inner, params, varargs) => {
                let mut ps = Vec::new();
                let mut names: Vec<&str> = Vec::new();
                for (i, p) in params.iter().enumerate() {
                    let t = self.type_of_name(&p.ty)?;
                    let name = p.ty.decl.name();
                    // DTrace's prototype checks, in its order.
                    if t.is_void() {
                        if let Some((n, span)) = name {
                            return Err(diag(
                                ErrTag::D_DECL_PROTO_NAME,
                                span,
                                format!("void parameter may not have a name: {n}"),
                            ));
                        }
                        if params.len() > 1 {
                            return Err(diag(
                                ErrTag::D_DECL_PROTO_VOID,
                                d.name().map(|n| n.1).unwrap_or_default(),
                                "void must be sole parameter",
                            ));
                        }
                        continue;
                    }
                    if let Some((n, span)) = name {
                        if names.contains(&n) {
                            return Err(diag(
                                ErrTag::D_DECL_PROTO_FORM,
                                span,
                                format!(
                                    "parameter is already declared in function prototype: {n}, parameter #{}",
                                    i + 1
                                ),
                            ));
                        }
                        names.push(n);
                    }
                    ps.push(t);
                }
                let f = Type::Function(Rc::new(FuncType {
                    ret: base,
                    params: ps,
                    varargs: *varargs,
                }));
                self.apply_declarator(f, inner, allow_keys)
            }
        }
    }

    /// The type named by a type name (`char *`, `struct s`).
    pub(crate) fn type_of_name(&mut self, t: &ast::TypeName) -> DResult<Type> {
        let base = self.specs_type(&t.specs)?;
        let (_, ty, _) = self.apply_declarator(base, &t.decl, false)?;
        Ok(ty)
    }

    /// Parse and resolve a type given as text (probe argument types).
    pub(crate) fn type_from_text(&mut self, text: &str) -> Option<Type> {
        if let Some(t) = self.text_types.get(text) {
            return t.clone();
        }
        let t = self.parse_type_text(text);
        self.text_types.insert(text.to_string(), t.clone());
        t
    }

    fn parse_type_text(&mut self, text: &str) -> Option<Type> {
        let t = text.trim();
        if t == "string" {
            return Some(Type::String);
        }
        let tn = crate::parser::parse_type_name(t).ok()?;
        self.type_of_name(&tn).ok()
    }
}
