//! Types from declarations: specifiers and declarators to [`Type`]s,
//! struct/union layout, enums, typedefs, and variable declarations.

use super::{Resolver, TranslatorDef};
use crate::ast::{self, ArrayDim, BaseType, Declarator, StorageClass};
use crate::diag::{diag, DResult, ErrTag};
use crate::ir::Scope;
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
    typedefs: HashMap<String, Type>,
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

    /// A declaration: typedef, variable or type-only.
    pub(crate) fn declaration(&mut self, d: &ast::Decl) -> DResult<()> {
        let base = self.specs_type(&d.specs)?;
        if d.declarators.is_empty() {
            let defines_type = matches!(
                d.specs.base,
                BaseType::Struct(_, Some(_))
                    | BaseType::Union(_, Some(_))
                    | BaseType::Enum(_, Some(_))
                    | BaseType::Struct(Some(_), None)
                    | BaseType::Union(Some(_), None)
            );
            if !defines_type {
                return Err(diag(ErrTag::D_DECL_USELESS, d.span, "useless declaration"));
            }
            return Ok(());
        }
        for decl in &d.declarators {
            let (name, ty, keys) = self.apply_declarator(base.clone(), decl, true)?;
            let Some((name, nspan)) = name else {
                return Err(diag(
                    ErrTag::D_DECL_IDENT,
                    d.span,
                    "identifier expected in declaration",
                ));
            };
            match d.specs.class {
                Some(StorageClass::Typedef) => {
                    if let Some(prev) = self.types.typedefs.get(&name) {
                        if prev.strip() != ty.strip() {
                            return Err(diag(
                                ErrTag::D_DECL_IDRED,
                                nspan,
                                format!("identifier redeclared: {name}"),
                            ));
                        }
                    }
                    self.types
                        .typedefs
                        .insert(name.clone(), Type::Named(name.as_str().into(), Rc::new(ty)));
                }
                Some(StorageClass::Extern) => {
                    // `extern` names a kernel symbol's type; nothing to allocate.
                }
                class => {
                    let scope = match class {
                        Some(StorageClass::SelfScope) => Scope::Thread,
                        Some(StorageClass::ThisScope) => Scope::Clause,
                        // A function prototype declared `static` is
                        // an extern one, as in DTrace.
                        Some(StorageClass::Static) if matches!(ty.strip(), Type::Function(_)) => {
                            Scope::Global
                        }
                        Some(
                            StorageClass::Auto | StorageClass::Register | StorageClass::Static,
                        ) => {
                            return Err(diag(
                                ErrTag::D_DECL_BADCLASS,
                                d.span,
                                "specified storage class not appropriate in D",
                            ))
                        }
                        _ => Scope::Global,
                    };
                    self.declare_var(&name, nspan, scope, ty, keys)?;
                }
            }
        }
        Ok(())
    }

    fn declare_var(
        &mut self,
        name: &str,
        span: Span,
        scope: Scope,
        ty: Type,
        keys: Option<Vec<Type>>,
    ) -> DResult<()> {
        if ty.is_void() {
            return Err(diag(
                ErrTag::D_DECL_VOIDOBJ,
                span,
                format!("cannot have void object: {name}"),
            ));
        }
        // A function prototype declares an external function, as in
        // DTrace: its checks are done (above, as its type was built), and
        // nothing is made (calling it is still an undefined function).
        if matches!(ty.strip(), Type::Function(_)) {
            return Ok(());
        }
        if let Type::Sou(s) = ty.strip() {
            if !s.complete {
                return Err(diag(
                    ErrTag::D_DECL_INCOMPLETE,
                    span,
                    format!("incomplete struct/union/enum {}: {name}", ty.name()),
                ));
            }
        }
        if scope == Scope::Clause && keys.is_some() {
            return Err(diag(
                ErrTag::D_DECL_LOCASSC,
                span,
                format!("associative arrays may not be declared as local variables: {name}"),
            ));
        }
        if scope == Scope::Global
            && (crate::builtins::variable(name).is_some() || crate::builtins::func(name).is_some())
        {
            return Err(diag(
                ErrTag::D_DECL_IDRED,
                span,
                format!("built-in identifier redeclared: {name}"),
            ));
        }
        if scope == Scope::Global
            && (self.inlines.contains_key(name) || self.types.enumerators.contains_key(name))
        {
            return Err(diag(
                ErrTag::D_DECL_IDRED,
                span,
                format!("identifier redeclared: {name}"),
            ));
        }
        let map = match scope {
            Scope::Global => &self.globals,
            Scope::Thread => &self.thread_vars,
            Scope::Clause => &self.clause_vars,
        };
        if let Some(&id) = map.get(name) {
            // The same kind and type again is fine; else DTrace says what
            // differs: kind or type, then the tuple's length, then a key.
            let v = self.var(id);
            let kind = |k: &Option<Vec<Type>>| {
                if k.is_some() {
                    "associative array"
                } else {
                    "scalar"
                }
            };
            let redeclared = |what: String| {
                Err(diag(
                    ErrTag::D_DECL_IDRED,
                    span,
                    format!("identifier redeclared: {name}\n\t current: {what}"),
                ))
            };
            if kind(&keys) != kind(&v.keys) || v.ty.strip() != ty.strip() {
                return redeclared(format!(
                    "{} {}\n\tprevious: {} {}",
                    kind(&keys),
                    ty.name(),
                    kind(&v.keys),
                    v.ty.name()
                ));
            }
            if let (Some(cur), Some(prev)) = (&keys, &v.keys) {
                if cur.len() != prev.len() {
                    return redeclared(format!(
                        "associative array of {0}, tuple length {1}\n\tprevious: associative array of {2}, tuple length {3}",
                        ty.name(),
                        cur.len(),
                        v.ty.name(),
                        prev.len()
                    ));
                }
                if let Some((i, (c, p))) = cur
                    .iter()
                    .zip(prev)
                    .enumerate()
                    .find(|(_, (c, p))| c.strip() != p.strip())
                {
                    return redeclared(format!(
                        "associative array, key #{0} of type {1}\n\tprevious: associative array, key #{0} of type {2}",
                        i + 1,
                        c.name(),
                        p.name()
                    ));
                }
            }
            return Ok(());
        }
        self.new_var(name, scope, ty, keys);
        Ok(())
    }

    /// `inline type name = expr;`
    pub(crate) fn inline(&mut self, i: &ast::Inline) -> DResult<()> {
        let base = self.specs_type(&i.specs)?;
        let (name, ty, _) = self.apply_declarator(base, &i.decl, false)?;
        let Some((name, nspan)) = name else {
            return Err(diag(
                ErrTag::D_DECL_USELESS,
                i.span,
                "inline declaration requires a name",
            ));
        };
        // DTrace names the earlier global's kind, and `inline` if it was one.
        let previous = if self.inlines.contains_key(&name) {
            Some("scalar inline")
        } else if let Some(&id) = self.globals.get(&name) {
            Some(if self.var(id).keys.is_some() {
                "associative array "
            } else {
                "scalar "
            })
        } else if crate::builtins::variable(&name).is_some() {
            Some("scalar ")
        } else {
            None
        };
        if let Some(previous) = previous {
            return Err(diag(
                ErrTag::D_DECL_IDRED,
                nspan,
                format!(
                    "identifier redefined: {name}\n\t current: inline definition\n\tprevious: {previous}"
                ),
            ));
        }
        // Check the value now so errors point at the inline, not its uses;
        // outside any clause, as DTrace does (no `args[]` there).
        let probes = std::mem::take(&mut self.probes);
        let desc = std::mem::take(&mut self.clause_desc);
        let v = self.expr(&i.value).and_then(|v| self.rvalue(v));
        self.probes = probes;
        self.clause_desc = desc;
        let v = v?;
        if !ty.accepts(&v.ty) {
            return Err(diag(
                ErrTag::D_OP_INCOMPAT,
                i.value.span,
                format!(
                    "inline {name} definition uses incompatible types: \"{}\" = \"{}\"",
                    ty.name(),
                    v.ty.name()
                ),
            ));
        }
        self.inlines.insert(name, (ty, i.value.clone()));
        Ok(())
    }

    /// `translator out < in name > { … };`
    pub(crate) fn translator(&mut self, t: &ast::Translator) -> DResult<()> {
        let output = self.type_of_name(&t.output)?;
        let input = self.type_of_name(&t.input)?;
        let Type::Sou(sou) = output.strip().clone() else {
            return Err(diag(
                ErrTag::D_XLATE_SOU,
                t.output.span,
                "translator output type must be a struct or union",
            ));
        };
        if !sou.complete {
            return Err(diag(
                ErrTag::D_XLATE_SOU,
                t.output.span,
                format!("incomplete struct/union/enum {}", output.name()),
            ));
        }
        if self
            .translators
            .iter()
            .any(|x| x.output.strip() == output.strip() && x.input.strip() == input.strip())
        {
            return Err(diag(
                ErrTag::D_XLATE_REDECL,
                t.span,
                format!(
                    "translator from {} to {} has already been declared",
                    input.name(),
                    output.name()
                ),
            ));
        }
        for (m, _, span) in &t.members {
            if !sou.members.iter().any(|x| &x.name == m) {
                return Err(diag(
                    ErrTag::D_XLATE_MEMB,
                    *span,
                    format!("translator member {m} is not a member of {}", output.name()),
                ));
            }
        }
        self.translators.push(TranslatorDef {
            output,
            input,
            param: t.param.clone(),
            members: t
                .members
                .iter()
                .map(|(n, e, _)| (n.clone(), e.clone()))
                .collect(),
        });
        Ok(())
    }

    /// Find a translator to `output` that accepts `input`.
    pub(crate) fn find_translator(&mut self, output: &Type, input: &Type) -> Option<TranslatorDef> {
        self.load_library();
        self.translators
            .iter()
            .find(|x| x.output.strip() == output.strip() && x.input.accepts(input))
            .cloned()
    }

    /// DTrace's translator library ([`super::PROCFS_LIBRARY`]), loaded the
    /// first time a program translates and only where there are kernel
    /// types to translate from: parsing the kernel's types costs
    /// milliseconds that programs without translators should not pay. The
    /// library is ours and tested; were it to fail here, its translators
    /// are simply absent and the program's xlate reports that.
    fn load_library(&mut self) {
        if self.library_loaded {
            return;
        }
        self.library_loaded = true;
        if self.catalog.kernel_type("struct task_struct").is_none() {
            return;
        }
        let Ok(lib) = crate::parser::parse(super::PROCFS_LIBRARY, self.opts) else {
            return;
        };
        for item in &lib.items {
            if self.item(item).is_err() {
                break;
            }
        }
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
