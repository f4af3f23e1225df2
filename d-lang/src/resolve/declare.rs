//! Declarations that make names: variables (globals, `self->`, `this->`,
//! arrays), `inline`s and translators, and the translator library
//! (`procfs.d`) loaded when a program first translates. The types they
//! name come from [`super::typing`].

use super::{Resolver, TranslatorDef};
use crate::ast::{self, BaseType, StorageClass};
use crate::diag::{diag, DResult, ErrTag};
use crate::ir::Scope;
use crate::span::Span;
use crate::types::Type;
use std::rc::Rc;

impl Resolver<'_> {
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
                        // A system header (`-C`) redefining one of D's
                        // own typedefs (glibc's `id_t` is unsigned) keeps
                        // D's: the header's is for C code.
                        if prev.strip() != ty.strip() && self.in_included_file(nspan) {
                            continue;
                        }
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

    /// Whether `span` lies in a file the script `#include`d (under `-C`):
    /// a line marker before it names another file than the script's.
    pub(crate) fn in_included_file(&self, span: Span) -> bool {
        match &self.opts.origin {
            crate::options::Origin::File(main) => {
                crate::lexer::in_included_file(&self.source, span.start, main)
            }
            _ => false,
        }
    }
}
