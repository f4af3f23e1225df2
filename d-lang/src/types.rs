//! D types: C's scalar, pointer, array and aggregate types plus `string`,
//! the built-in typedefs, and C's promotion and conversion rules (LP64).

use std::fmt;
use std::rc::Rc;

/// An integer type: size in bytes, signedness, and the C name it was declared with.
#[derive(Debug, Clone, Copy)]
pub struct IntType {
    /// 1, 2, 4 or 8.
    pub size: u8,
    /// Signed or not.
    pub signed: bool,
    /// C spelling (`int`, `unsigned long long`…).
    pub name: &'static str,
}

impl PartialEq for IntType {
    fn eq(&self, o: &Self) -> bool {
        self.size == o.size && self.signed == o.signed
    }
}

/// A struct or union type.
#[derive(Debug, Clone, PartialEq)]
pub struct SouType {
    /// Tag, if any.
    pub name: Option<String>,
    /// Union rather than struct.
    pub is_union: bool,
    /// Members in order with offsets; empty while incomplete.
    pub members: Vec<MemberType>,
    /// Size in bytes.
    pub size: u64,
    /// Alignment in bytes.
    pub align: u64,
    /// Whether the definition has been seen.
    pub complete: bool,
}

/// One member of a struct or union.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberType {
    /// Name (empty for padding bit-fields).
    pub name: String,
    /// Type.
    pub ty: Type,
    /// Byte offset.
    pub offset: u64,
    /// Bit-field: (bit offset within the storage unit, width).
    pub bits: Option<(u32, u32)>,
}

/// An enum type.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumType {
    /// Tag, if any.
    pub name: Option<String>,
    /// Enumerators and values.
    pub values: Vec<(String, i64)>,
}

/// A function type (for prototypes and function pointers).
#[derive(Debug, Clone, PartialEq)]
pub struct FuncType {
    /// Return type.
    pub ret: Type,
    /// Parameter types.
    pub params: Vec<Type>,
    /// `...` present.
    pub varargs: bool,
}

/// D-specific types that have no C equivalent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DynType {
    /// `stack()` value.
    Stack,
    /// `ustack()` value.
    UStack,
    /// `sym()`/`func()` kernel address.
    Symaddr,
    /// `usym()`/`ufunc()` user address.
    Usymaddr,
    /// `uaddr()` user address (printed with its offset).
    Uaddr,
    /// `mod()` kernel module address.
    Modaddr,
    /// `umod()`.
    Umodaddr,
}

/// A D type.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// `void`.
    Void,
    /// An integer type.
    Int(IntType),
    /// `float`/`double`/`long double` (size 4, 8, 16).
    Float(u8),
    /// D's `string`.
    String,
    /// Pointer to a type.
    Pointer(Rc<Type>),
    /// Fixed-size array.
    Array(Rc<Type>, u64),
    /// Struct or union.
    Sou(Rc<SouType>),
    /// Enum.
    Enum(Rc<EnumType>),
    /// Function.
    Function(Rc<FuncType>),
    /// A typedef: its name and what it names.
    Named(Rc<str>, Rc<Type>),
    /// A D-only type.
    Dyn(DynType),
    /// A `const`-qualified type (kept for names such as `const char *`).
    Const(Rc<Type>),
}

/// Names of the integer types by (size, signed).
pub fn int(size: u8, signed: bool) -> Type {
    let name = match (size, signed) {
        (1, true) => "char",
        (1, false) => "unsigned char",
        (2, true) => "short",
        (2, false) => "unsigned short",
        (4, true) => "int",
        (4, false) => "unsigned int",
        (_, true) => "long",
        (_, false) => "unsigned long",
    };
    Type::Int(IntType { size, signed, name })
}

/// An integer type with an explicit C name.
pub fn int_named(size: u8, signed: bool, name: &'static str) -> Type {
    Type::Int(IntType { size, signed, name })
}

/// D's built-in typedefs (C text of the underlying type), as in
/// libdtrace's `dt_open.c` and `<sys/types.h>` for LP64 Linux.
pub const BUILTIN_TYPEDEFS: &[(&str, &str)] = &[
    ("int8_t", "signed char"),
    ("int16_t", "short"),
    ("int32_t", "int"),
    ("int64_t", "long long"),
    ("intptr_t", "long"),
    ("uint8_t", "unsigned char"),
    ("uint16_t", "unsigned short"),
    ("uint32_t", "unsigned int"),
    ("uint64_t", "unsigned long long"),
    ("uintptr_t", "unsigned long"),
    ("uchar_t", "unsigned char"),
    ("ushort_t", "unsigned short"),
    ("uint_t", "unsigned int"),
    ("ulong_t", "unsigned long"),
    ("u_longlong_t", "unsigned long long"),
    ("longlong_t", "long long"),
    ("size_t", "unsigned long"),
    ("ssize_t", "long"),
    ("off_t", "long"),
    ("off64_t", "long"),
    ("loff_t", "long long"),
    ("time_t", "long"),
    ("hrtime_t", "long long"),
    ("caddr_t", "char *"),
    ("pid_t", "int"),
    ("id_t", "int"),
    ("uid_t", "unsigned int"),
    ("gid_t", "unsigned int"),
    ("mode_t", "unsigned int"),
    ("dev_t", "unsigned long"),
    ("ino_t", "unsigned long"),
    ("processorid_t", "int"),
    ("psetid_t", "int"),
    ("chipid_t", "int"),
    ("lgrp_id_t", "int"),
    ("zoneid_t", "int"),
    ("taskid_t", "int"),
    ("projid_t", "int"),
    ("bool", "unsigned char"),
    ("_Bool", "unsigned char"),
    ("u8", "unsigned char"),
    ("u16", "unsigned short"),
    ("u32", "unsigned int"),
    ("u64", "unsigned long long"),
    ("s8", "signed char"),
    ("s16", "short"),
    ("s32", "int"),
    ("s64", "long long"),
    ("__u8", "unsigned char"),
    ("__u16", "unsigned short"),
    ("__u32", "unsigned int"),
    ("__u64", "unsigned long long"),
    ("__s8", "signed char"),
    ("__s16", "short"),
    ("__s32", "int"),
    ("__s64", "long long"),
    ("__le16", "unsigned short"),
    ("__le32", "unsigned int"),
    ("__le64", "unsigned long long"),
    ("__be16", "unsigned short"),
    ("__be32", "unsigned int"),
    ("__be64", "unsigned long long"),
    ("gfp_t", "unsigned int"),
    ("umode_t", "unsigned short"),
    ("sector_t", "unsigned long long"),
    ("blkcnt_t", "unsigned long long"),
    ("clockid_t", "int"),
    ("key_serial_t", "int"),
    ("qid_t", "unsigned int"),
    ("cpumask_t", "unsigned long"),
    ("pgoff_t", "unsigned long"),
    ("resource_size_t", "unsigned long long"),
    ("phys_addr_t", "unsigned long long"),
    ("dma_addr_t", "unsigned long long"),
    ("netdev_features_t", "unsigned long long"),
    ("xfs_ino_t", "unsigned long long"),
    ("irq_hw_number_t", "unsigned long"),
];

/// Typedef names the prelude declares (`resolve::prelude`): `psinfo_t` and
/// the other stable types every program sees. The parser must know them as
/// type names before the resolver has compiled the prelude; a test there
/// checks that it declares exactly these.
pub const PRELUDE_TYPEDEFS: &[&str] = &[
    "psinfo_t",
    "lwpsinfo_t",
    "bufinfo_t",
    "devinfo_t",
    "fileinfo_t",
    "pktinfo_t",
    "csinfo_t",
    "ipinfo_t",
    "ifinfo_t",
    "ipv4info_t",
    "ipv6info_t",
    "tcpinfo_t",
    "tcpsinfo_t",
    "tcplsinfo_t",
    "udpinfo_t",
    "udpsinfo_t",
];

impl Type {
    /// Strip typedef names down to the real type.
    pub fn strip(&self) -> &Type {
        let mut t = self;
        while let Type::Named(_, inner) | Type::Const(inner) = t {
            t = inner;
        }
        t
    }

    /// True for integer types (and enums, which are ints in D).
    pub fn is_integer(&self) -> bool {
        matches!(self.strip(), Type::Int(_) | Type::Enum(_))
    }

    /// Integers and floats.
    pub fn is_arith(&self) -> bool {
        self.is_integer() || matches!(self.strip(), Type::Float(_))
    }

    /// Arithmetic types and pointers: what predicates and `!` accept.
    pub fn is_scalar(&self) -> bool {
        self.is_arith()
            || self.is_pointer()
            || matches!(
                self.strip(),
                Type::Dyn(
                    DynType::Symaddr
                        | DynType::Usymaddr
                        | DynType::Uaddr
                        | DynType::Modaddr
                        | DynType::Umodaddr
                )
            )
    }

    /// Pointer types (arrays are not, until they decay).
    pub fn is_pointer(&self) -> bool {
        matches!(self.strip(), Type::Pointer(_))
    }

    /// D strings, and char arrays that D treats as strings.
    pub fn is_string(&self) -> bool {
        matches!(self.strip(), Type::String)
    }

    /// `char *`, `char [N]`: C strings that D converts to `string` where needed.
    pub fn is_char_string(&self) -> bool {
        match self.strip() {
            Type::Pointer(t) | Type::Array(t, _) => {
                matches!(t.strip(), Type::Int(i) if i.size == 1)
            }
            _ => false,
        }
    }

    /// `void`.
    pub fn is_void(&self) -> bool {
        matches!(self.strip(), Type::Void)
    }

    /// Signedness of an integer type (enums are signed int).
    pub fn is_signed(&self) -> bool {
        match self.strip() {
            Type::Int(i) => i.signed,
            Type::Enum(_) => true,
            Type::Float(_) => true,
            _ => false,
        }
    }

    /// Size in bytes (`string` is `strsize`, 256 by default).
    pub fn size(&self) -> u64 {
        match self.strip() {
            Type::Void => 0,
            Type::Int(i) => i.size as u64,
            Type::Float(s) => *s as u64,
            Type::String => 256,
            Type::Pointer(_) | Type::Function(_) => 8,
            Type::Array(t, n) => t.size().saturating_mul(*n),
            Type::Sou(s) => s.size,
            Type::Enum(_) => 4,
            Type::Named(_, t) | Type::Const(t) => t.size(),
            Type::Dyn(DynType::Stack) | Type::Dyn(DynType::UStack) => 8,
            Type::Dyn(_) => 8,
        }
    }

    /// Alignment in bytes.
    pub fn align(&self) -> u64 {
        match self.strip() {
            Type::Array(t, _) => t.align(),
            Type::Sou(s) => s.align.max(1),
            Type::String | Type::Void => 1,
            t => t.size().clamp(1, 8),
        }
    }

    /// Integer size (enums 4) or 0.
    pub fn int_size(&self) -> u8 {
        match self.strip() {
            Type::Int(i) => i.size,
            Type::Enum(_) => 4,
            _ => 0,
        }
    }

    /// The pointed-to type, for pointers and arrays.
    pub fn referent(&self) -> Option<&Type> {
        match self.strip() {
            Type::Pointer(t) | Type::Array(t, _) => Some(t),
            _ => None,
        }
    }

    /// The type an operand takes part in arithmetic as. Unlike C, D does
    /// not promote integers narrower than `int` (`char + char` is a
    /// `char`, `~` of a `uint8_t` a `uint8_t`); enums count as `int`.
    pub fn promote(&self) -> Type {
        match self.strip() {
            Type::Enum(_) => int(4, true),
            _ => self.clone(),
        }
    }

    /// D's usual arithmetic conversions for two arithmetic operands: the
    /// wider type, at equal width the unsigned one (DTrace's
    /// `dt_type_promote`, without C's promotion to `int`).
    pub fn arith_result(a: &Type, b: &Type) -> Type {
        if let (Type::Float(x), Type::Float(y)) = (a.strip(), b.strip()) {
            return Type::Float(*x.max(y));
        }
        if let Type::Float(_) = a.strip() {
            return a.clone();
        }
        if let Type::Float(_) = b.strip() {
            return b.clone();
        }
        let (a, b) = (a.promote(), b.promote());
        let (sa, sb) = (a.int_size(), b.int_size());
        let (ua, ub) = (!a.is_signed(), !b.is_signed());
        if sa == sb {
            if ua == ub {
                return if a.strip() == b.strip() {
                    a
                } else {
                    int(sa, !ua)
                };
            }
            return if ua { a } else { b };
        }
        // The wider type, signed or not, is the result's.
        if sa > sb {
            a
        } else {
            b
        }
    }

    /// The name DTrace prints for the type (`char *`, `int [4]`, `struct s`).
    pub fn name(&self) -> String {
        let (base, decl) = self.split_name();
        if decl.is_empty() {
            base
        } else {
            format!("{base} {decl}")
        }
    }

    /// Base name and declarator text, built inside out as C prints types.
    fn split_name(&self) -> (String, String) {
        match self {
            Type::Void => ("void".into(), String::new()),
            Type::Int(i) => (i.name.into(), String::new()),
            Type::Float(4) => ("float".into(), String::new()),
            Type::Float(8) => ("double".into(), String::new()),
            Type::Float(_) => ("long double".into(), String::new()),
            Type::String => ("string".into(), String::new()),
            Type::Named(n, _) => (n.to_string(), String::new()),
            Type::Const(t) => {
                let (b, d) = t.split_name();
                (format!("const {b}"), d)
            }
            Type::Sou(s) => (
                format!(
                    "{} {}",
                    if s.is_union { "union" } else { "struct" },
                    s.name.as_deref().unwrap_or("<anon>")
                ),
                String::new(),
            ),
            Type::Enum(e) => (
                format!("enum {}", e.name.as_deref().unwrap_or("<anon>")),
                String::new(),
            ),
            Type::Dyn(d) => (
                match d {
                    DynType::Stack => "stack",
                    DynType::UStack => "ustack",
                    DynType::Symaddr => "_symaddr",
                    DynType::Usymaddr | DynType::Uaddr => "_usymaddr",
                    DynType::Modaddr => "_modaddr",
                    DynType::Umodaddr => "_umodaddr",
                }
                .into(),
                String::new(),
            ),
            Type::Pointer(t) => {
                let (b, d) = t.split_name();
                if d.starts_with('[') || d.starts_with('(') {
                    (b, format!("(*){d}"))
                } else if d.is_empty() {
                    (b, "*".into())
                } else {
                    (b, format!("*{d}"))
                }
            }
            Type::Array(t, n) => {
                let (b, d) = t.split_name();
                (b, format!("{d}[{n}]"))
            }
            Type::Function(f) => {
                let (b, d) = f.ret.split_name();
                let params: Vec<String> = f.params.iter().map(|p| p.name()).collect();
                let mut ps = params.join(", ");
                if f.varargs {
                    ps.push_str(if ps.is_empty() { "..." } else { ", ..." });
                }
                (b, format!("{d}({ps})"))
            }
        }
    }

    /// Whether a value of type `from` may be assigned to (or passed as) `self`
    /// under D's rules.
    pub fn accepts(&self, from: &Type) -> bool {
        /// Two structs or unions with one tag are one type, whether or not
        /// this copy is complete (kernel types are completed on use).
        fn same_tag(a: &Type, b: &Type) -> bool {
            match (a, b) {
                (Type::Sou(x), Type::Sou(y)) => {
                    x.name.is_some() && x.name == y.name && x.is_union == y.is_union
                }
                _ => false,
            }
        }
        let (to, fr) = (self.strip(), from.strip());
        if to.is_arith() && fr.is_arith() {
            return true;
        }
        match (to, fr) {
            (Type::String, Type::String) => true,
            (Type::String, _) if from.is_char_string() => true,
            // A char * takes a string: the address of its bytes.
            (Type::Pointer(p), Type::String) => matches!(p.strip(), Type::Int(i) if i.size == 1),
            (Type::Pointer(_), Type::Pointer(_)) => {
                let (a, b) = (to.referent(), fr.referent());
                match (a, b) {
                    (Some(a), Some(b)) => {
                        a.is_void()
                            || b.is_void()
                            || a.strip() == b.strip()
                            || same_tag(a.strip(), b.strip())
                            || (a.int_size() == b.int_size() && a.is_integer() && b.is_integer())
                    }
                    _ => false,
                }
            }
            (Type::Pointer(p), Type::Array(e, _)) => p.strip() == e.strip() || p.is_void(),
            (Type::Pointer(_), Type::Int(_)) => true,
            (Type::Int(i), Type::Pointer(_)) => i.size == 8,
            (Type::Sou(a), Type::Sou(b)) => a == b,
            (Type::Dyn(a), Type::Dyn(b)) => a == b,
            (
                Type::Int(_),
                Type::Dyn(
                    DynType::Symaddr
                    | DynType::Usymaddr
                    | DynType::Uaddr
                    | DynType::Modaddr
                    | DynType::Umodaddr,
                ),
            ) => true,
            (
                Type::Dyn(
                    DynType::Symaddr
                    | DynType::Usymaddr
                    | DynType::Uaddr
                    | DynType::Modaddr
                    | DynType::Umodaddr,
                ),
                Type::Int(_),
            ) => true,
            (Type::Array(a, n), Type::Array(b, m)) => a.strip() == b.strip() && n == m,
            (Type::Void, Type::Void) => true,
            _ => false,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let cp = Type::Pointer(Rc::new(int(1, true)));
        assert_eq!(cp.name(), "char *");
        let cpp = Type::Pointer(Rc::new(cp.clone()));
        assert_eq!(cpp.name(), "char **");
        let arr = Type::Array(Rc::new(int(1, true)), 16);
        assert_eq!(arr.name(), "char [16]");
        let parr = Type::Pointer(Rc::new(arr));
        assert_eq!(parr.name(), "char (*)[16]");
        assert_eq!(Type::String.name(), "string");
        let pid = Type::Named("pid_t".into(), Rc::new(int(4, true)));
        assert_eq!(pid.name(), "pid_t");
    }

    #[test]
    fn conversions() {
        let c = int(1, true);
        let u = int(4, false);
        let l = int(8, true);
        let ul = int(8, false);
        // No promotion to int in D: char + char is a char.
        assert_eq!(Type::arith_result(&c, &c).name(), "char");
        assert_eq!(
            Type::arith_result(&c, &int(1, false)).name(),
            "unsigned char"
        );
        assert_eq!(Type::arith_result(&c, &int(4, true)).name(), "int");
        assert_eq!(Type::arith_result(&u, &int(4, true)).name(), "unsigned int");
        assert_eq!(Type::arith_result(&u, &l).name(), "long");
        assert_eq!(Type::arith_result(&ul, &l).name(), "unsigned long");
        assert!(Type::String.accepts(&Type::Pointer(Rc::new(int(1, true)))));
        assert!(!Type::String.accepts(&int(4, true)));
        assert!(!int(4, true).accepts(&Type::String));
    }
}
