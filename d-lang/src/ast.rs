//! The syntax tree the parser builds: data only, every node with its span.
//!
//! Invariants: the tree is exactly what was written (no types, no name
//! binding); macro arguments are already substituted by the lexer; probe
//! descriptions are still text. The resolver reads it and builds [`crate::ir`].

use crate::span::Span;
use crate::token::Keyword;

/// A whole D program.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Script {
    /// Top-level items in source order.
    pub items: Vec<Item>,
}

/// One top-level item.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A probe clause.
    Clause(Clause),
    /// A declaration (`int x;`, `self int y;`, `typedef …;`, `struct s {…};`).
    Decl(Decl),
    /// `inline type name = expr;`
    Inline(Inline),
    /// `translator out < in name > { member = expr; … };`
    Translator(Translator),
    /// `provider name { probe p(args); … };`
    Provider(ProviderDecl),
    /// `#pragma …`
    Pragma(Pragma),
}

/// A probe clause: descriptions, optional predicate, optional action list.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// Probe descriptions, as written (macros substituted), with spans.
    pub descs: Vec<(String, Span)>,
    /// The predicate, if any.
    pub predicate: Option<Expr>,
    /// The action list; `None` when the clause has no braces (only `-n` allows that).
    pub body: Option<Vec<Stmt>>,
    /// Span of the whole clause.
    pub span: Span,
}

/// A statement inside an action list.
#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    /// An expression evaluated for effect (actions are calls).
    Expr(Expr),
    /// `if (cond) stmt [else stmt]` (Oracle DTrace 2.0 extension).
    If {
        /// Condition.
        cond: Expr,
        /// Then branch.
        then: Vec<Stmt>,
        /// Else branch.
        els: Option<Vec<Stmt>>,
        /// Span of the `if`.
        span: Span,
    },
    /// A `{ … }` block.
    Block(Vec<Stmt>),
    /// A declaration inside an action list (`this int x;`).
    Decl(Decl),
    /// An empty statement (`;`).
    Empty,
}

/// Binary operators, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum BinOp {
    Mul,
    Div,
    Mod,
    Add,
    Sub,
    Shl,
    Shr,
    Lt,
    Gt,
    Le,
    Ge,
    Eq,
    Ne,
    BitAnd,
    BitXor,
    BitOr,
    LogAnd,
    LogXor,
    LogOr,
    Comma,
}

impl BinOp {
    /// The operator as DTrace prints it in messages.
    pub fn as_str(self) -> &'static str {
        use BinOp::*;
        match self {
            Mul => "*",
            Div => "/",
            Mod => "%",
            Add => "+",
            Sub => "-",
            Shl => "<<",
            Shr => ">>",
            Lt => "<",
            Gt => ">",
            Le => "<=",
            Ge => ">=",
            Eq => "==",
            Ne => "!=",
            BitAnd => "&",
            BitXor => "^",
            BitOr => "|",
            LogAnd => "&&",
            LogXor => "^^",
            LogOr => "||",
            Comma => ",",
        }
    }
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum UnOp {
    Neg,
    Plus,
    BitNot,
    LogNot,
    Deref,
    AddrOf,
}

impl UnOp {
    /// The operator as DTrace prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            UnOp::Neg => "-",
            UnOp::Plus => "+",
            UnOp::BitNot => "~",
            UnOp::LogNot => "!",
            UnOp::Deref => "*",
            UnOp::AddrOf => "&",
        }
    }
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// Expression forms.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// Integer constant with C typing facts.
    Int {
        /// Value.
        value: u64,
        /// Had a `u` suffix.
        unsigned: bool,
        /// Number of `l`s in the suffix.
        longs: u8,
        /// Written in decimal.
        decimal: bool,
    },
    /// Character constant.
    Char(i64),
    /// String literal (adjacent literals already joined).
    Str(Vec<u8>),
    /// A plain identifier: variable, built-in, function name or enumerator.
    Ident(String),
    /// `` `symbol `` or `` module`symbol ``: a kernel symbol.
    KernelSym(String),
    /// `self->name`.
    SelfVar(String),
    /// `this->name`.
    ThisVar(String),
    /// `@name` (`@` alone has the empty name).
    Agg(String),
    /// `base[i, j…]`: associative array, aggregation key, `args[n]`, or C indexing.
    Index(Box<Expr>, Vec<Expr>),
    /// `f(args…)`.
    Call(String, Vec<Expr>, Span),
    /// `base.member` or `base->member`.
    Member {
        /// The struct or pointer.
        base: Box<Expr>,
        /// Member name.
        member: String,
        /// `->` rather than `.`.
        arrow: bool,
    },
    /// Prefix operator.
    Unary(UnOp, Box<Expr>),
    /// Infix operator.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `lhs = rhs` or `lhs op= rhs`.
    Assign(Option<BinOp>, Box<Expr>, Box<Expr>),
    /// `++x`, `x--` …
    IncDec {
        /// `++` (vs `--`).
        inc: bool,
        /// Prefix form.
        prefix: bool,
        /// Operand.
        expr: Box<Expr>,
    },
    /// `c ? a : b`.
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `(type) expr`.
    Cast(TypeName, Box<Expr>),
    /// `sizeof (type)`.
    SizeofType(TypeName),
    /// `sizeof expr`.
    SizeofExpr(Box<Expr>),
    /// `offsetof (type, member)`.
    Offsetof(TypeName, String),
    /// `stringof expr`.
    Stringof(Box<Expr>),
    /// `xlate < type > (expr)`.
    Xlate(TypeName, Box<Expr>),
}

/// Storage class and scope words of a declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum StorageClass {
    Auto,
    Register,
    Static,
    Extern,
    Typedef,
    SelfScope,
    ThisScope,
}

/// Base type words of a declaration.
#[derive(Debug, Clone, PartialEq)]
pub enum BaseType {
    /// Arithmetic or `void`/`string`: the keywords as written (`unsigned long long`).
    Words(Vec<Keyword>),
    /// A typedef name.
    Named(String),
    /// `struct name { … }` (members when defined here).
    Struct(Option<String>, Option<Vec<Member>>),
    /// `union name { … }`.
    Union(Option<String>, Option<Vec<Member>>),
    /// `enum name { A = 1, B }`.
    Enum(Option<String>, Option<Vec<(String, Option<Expr>, Span)>>),
}

/// Declaration specifiers: class, qualifiers, base type.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclSpecs {
    /// `static`, `self`, `this`, `typedef`…
    pub class: Option<StorageClass>,
    /// `const`/`volatile`/`restrict` seen.
    pub qualifiers: Vec<Keyword>,
    /// The type.
    pub base: BaseType,
    /// Span of the specifiers.
    pub span: Span,
}

/// A C declarator: the name and the pointer/array/function shape around it.
#[derive(Debug, Clone, PartialEq)]
pub enum Declarator {
    /// The name (absent in abstract declarators such as casts).
    Name(Option<String>, Span),
    /// `* d`.
    Pointer(Box<Declarator>),
    /// `d [ n ]`; a dimension that is a type declares an associative array.
    Array(Box<Declarator>, Option<ArrayDim>),
    /// `d ( params )`.
    Function(Box<Declarator>, Vec<Param>, bool),
}

/// An array dimension: a constant, or key types for associative arrays.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayDim {
    /// `[10]`
    Size(Box<Expr>),
    /// `[int, string]`
    Keys(Vec<TypeName>),
}

impl Declarator {
    /// The declared name, if any.
    pub fn name(&self) -> Option<(&str, Span)> {
        match self {
            Declarator::Name(n, s) => n.as_deref().map(|n| (n, *s)),
            Declarator::Pointer(d) | Declarator::Array(d, _) | Declarator::Function(d, _, _) => {
                d.name()
            }
        }
    }
}

/// A function parameter in a prototype.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Its type (and optional name).
    pub ty: TypeName,
}

/// A type as written in a cast, `sizeof`, or prototype: specifiers plus an
/// abstract (or named) declarator.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeName {
    /// Specifiers.
    pub specs: DeclSpecs,
    /// Shape.
    pub decl: Declarator,
    /// Span.
    pub span: Span,
}

/// A struct or union member.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// Member type.
    pub specs: DeclSpecs,
    /// Member declarator.
    pub decl: Declarator,
    /// Bit-field width.
    pub bits: Option<Expr>,
    /// Span.
    pub span: Span,
}

/// A declaration of one or more names.
#[derive(Debug, Clone, PartialEq)]
pub struct Decl {
    /// Specifiers.
    pub specs: DeclSpecs,
    /// Declarators (possibly none: `struct s { … };`).
    pub declarators: Vec<Declarator>,
    /// Span.
    pub span: Span,
}

/// `inline type name = expr;`
#[derive(Debug, Clone, PartialEq)]
pub struct Inline {
    /// Type specifiers.
    pub specs: DeclSpecs,
    /// Declarator with the name.
    pub decl: Declarator,
    /// The value.
    pub value: Expr,
    /// Span.
    pub span: Span,
}

/// `translator out < in name > { member = expr; … };`
#[derive(Debug, Clone, PartialEq)]
pub struct Translator {
    /// Output type.
    pub output: TypeName,
    /// Input type.
    pub input: TypeName,
    /// Name bound to the input.
    pub param: String,
    /// Member assignments.
    pub members: Vec<(String, Expr, Span)>,
    /// Span.
    pub span: Span,
}

/// `provider name { probe p(types); … };`
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderDecl {
    /// Provider name.
    pub name: String,
    /// Probes and their argument types.
    pub probes: Vec<(String, Vec<TypeName>)>,
    /// Span.
    pub span: Span,
}

/// `#pragma …`
#[derive(Debug, Clone, PartialEq)]
pub struct Pragma {
    /// The words after `#pragma`.
    pub words: Vec<String>,
    /// Span.
    pub span: Span,
}
