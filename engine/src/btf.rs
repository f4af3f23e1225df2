//! Kernel types from BTF (`/sys/kernel/btf/vmlinux`), parsed once per
//! process: `curthread->…`, casts to kernel struct pointers, `sizeof` and
//! `offsetof` of kernel types, and the task members the built-ins read
//! (`ppid`, `vtimestamp`).
//!
//! [`KernelBtf`] decodes the type section; [`KernelBtf::d_type`] turns a
//! BTF type into a D [`Type`] for the compiler: structs and unions with
//! their members (anonymous members flattened into the parent, bit-fields
//! kept), pointers to structs as forward declarations the compiler
//! completes on use, so that naming `task_struct` does not convert the
//! whole kernel. (aya-obj parses BTF but keeps types and member offsets
//! private; this reader is small enough to own.)

use d_lang::types::{self as dt, EnumType, MemberType, SouType, Type};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;

const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_FWD: u32 = 7;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_FLOAT: u32 = 16;
const KIND_DECL_TAG: u32 = 17;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;

/// Deepest chain of typedefs, qualifiers or nested by-value aggregates followed.
const MAX_DEPTH: u32 = 32;

/// One struct or union member: name (string offset), type, bit offset,
/// bit-field width (0: none).
#[derive(Debug, Clone)]
struct Member {
    name: u32,
    ty: u32,
    bit_offset: u32,
    bit_size: u32,
}

#[derive(Debug, Clone, Default)]
struct BtfType {
    kind: u32,
    /// Offset of the name in the string section.
    name: u32,
    size_or_type: u32,
    members: Vec<Member>,
    /// Arrays: element type and count.
    array: Option<(u32, u32)>,
    /// Integers: signed.
    signed: bool,
    /// Enums: enumerators (name offset, value).
    values: Vec<(u32, i64)>,
    /// Enums: signed values.
    enum_signed: bool,
    /// Function prototypes: parameter name offsets and types.
    params: Vec<(u32, u32)>,
}

/// The kernel's BTF type section. Names stay offsets into the string
/// section until asked for, and named types are found by scanning: the
/// kernel has ~100,000 types, and copying, hashing or sorting every name
/// made parsing cost tens of milliseconds, far more than the few lookups
/// a program makes.
#[derive(Debug, Default)]
pub struct KernelBtf {
    types: Vec<BtfType>,
    strings: Vec<u8>,
    /// Named structs, unions, enums, typedefs and functions as (kind, name
    /// offset, id), in BTF order.
    names: Vec<(u32, u32, u32)>,
    /// Variables: name → (type id, per-CPU).
    vars: HashMap<String, (u32, bool)>,
    /// `names` by (kind, name), the first of each in BTF order: made at
    /// the first lookup, so a clause on every kernel function (`fbt:::`)
    /// looks each up in constant time, not by a scan of every name.
    index: OnceLock<HashMap<(u32, String), u32>>,
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    b.get(off..off + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn str_at(strings: &[u8], off: u32) -> &str {
    let Some(rest) = strings.get(off as usize..) else {
        return "";
    };
    let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
    std::str::from_utf8(&rest[..end]).unwrap_or("")
}

impl KernelBtf {
    /// Parse raw BTF; `None` if it is not BTF or is truncated.
    pub fn parse(data: &[u8]) -> Option<KernelBtf> {
        if data.get(0..2) != Some(&[0x9f, 0xeb]) {
            return None;
        }
        let hdr_len = u32_at(data, 4)? as usize;
        let type_off = u32_at(data, 8)? as usize;
        let type_len = u32_at(data, 12)? as usize;
        let str_off = u32_at(data, 16)? as usize;
        let str_len = u32_at(data, 20)? as usize;
        let tb = data.get(hdr_len + type_off..hdr_len + type_off + type_len)?;
        let strings = data.get(hdr_len + str_off..hdr_len + str_off + str_len)?;
        let mut btf = KernelBtf {
            types: vec![BtfType::default()],
            strings: strings.to_vec(),
            names: Vec::new(),
            vars: HashMap::new(),
            index: OnceLock::new(),
        };
        // Variables listed in the per-CPU data section.
        let mut per_cpu_vars = std::collections::HashSet::new();
        let mut at = 0usize;
        while at + 12 <= tb.len() {
            let name_off = u32_at(tb, at)?;
            let info = u32_at(tb, at + 4)?;
            let size_or_type = u32_at(tb, at + 8)?;
            at += 12;
            let kind = (info >> 24) & 0x1f;
            let vlen = (info & 0xffff) as usize;
            let kind_flag = info >> 31 == 1;
            let mut t = BtfType {
                kind,
                name: name_off,
                size_or_type,
                ..Default::default()
            };
            match kind {
                KIND_INT => {
                    let enc = u32_at(tb, at)?;
                    t.signed = (enc >> 24) & 1 == 1;
                    at += 4;
                }
                KIND_VAR | KIND_DECL_TAG => at += 4,
                KIND_ARRAY => {
                    t.array = Some((u32_at(tb, at)?, u32_at(tb, at + 8)?));
                    at += 12;
                }
                KIND_STRUCT | KIND_UNION => {
                    for _ in 0..vlen {
                        let mname = u32_at(tb, at)?;
                        let mtype = u32_at(tb, at + 4)?;
                        let moff = u32_at(tb, at + 8)?;
                        let (bit_offset, bit_size) = if kind_flag {
                            (moff & 0x00ff_ffff, moff >> 24)
                        } else {
                            (moff, 0)
                        };
                        t.members.push(Member {
                            name: mname,
                            ty: mtype,
                            bit_offset,
                            bit_size,
                        });
                        at += 12;
                    }
                }
                KIND_ENUM => {
                    t.enum_signed = kind_flag;
                    for _ in 0..vlen {
                        let n = u32_at(tb, at)?;
                        let v = u32_at(tb, at + 4)?;
                        let v = if kind_flag { v as i32 as i64 } else { v as i64 };
                        t.values.push((n, v));
                        at += 8;
                    }
                }
                KIND_ENUM64 => {
                    t.enum_signed = kind_flag;
                    for _ in 0..vlen {
                        let n = u32_at(tb, at)?;
                        let lo = u32_at(tb, at + 4)? as u64;
                        let hi = u32_at(tb, at + 8)? as u64;
                        t.values.push((n, (hi << 32 | lo) as i64));
                        at += 12;
                    }
                }
                KIND_FUNC_PROTO => {
                    for _ in 0..vlen {
                        let n = u32_at(tb, at)?;
                        t.params.push((n, u32_at(tb, at + 4)?));
                        at += 8;
                    }
                }
                KIND_DATASEC => {
                    let percpu = str_at(strings, name_off) == ".data..percpu";
                    for _ in 0..vlen {
                        if percpu {
                            per_cpu_vars.insert(u32_at(tb, at)?);
                        }
                        at += 12;
                    }
                }
                _ => {}
            }
            let id = btf.types.len() as u32;
            if name_off != 0
                && matches!(
                    kind,
                    KIND_STRUCT | KIND_UNION | KIND_ENUM | KIND_ENUM64 | KIND_TYPEDEF | KIND_FUNC
                )
            {
                let k = if kind == KIND_ENUM64 { KIND_ENUM } else { kind };
                btf.names.push((k, name_off, id));
            }
            btf.types.push(t);
        }
        for (id, t) in btf.types.iter().enumerate() {
            if t.kind == KIND_VAR && t.name != 0 {
                let per_cpu = per_cpu_vars.contains(&(id as u32));
                btf.vars
                    .entry(str_at(strings, t.name).to_string())
                    .or_insert((t.size_or_type, per_cpu));
            }
        }
        Some(btf)
    }

    /// The text of a name offset.
    fn name(&self, off: u32) -> &str {
        str_at(&self.strings, off)
    }

    /// The id of the first type of `kind` named `name`.
    fn find(&self, kind: u32, name: &str) -> Option<u32> {
        let index = self.index.get_or_init(|| {
            let mut index = HashMap::with_capacity(self.names.len());
            for &(kind, name, id) in &self.names {
                index
                    .entry((kind, self.name(name).to_string()))
                    .or_insert(id);
            }
            index
        });
        index.get(&(kind, name.to_string())).copied()
    }

    /// Every kernel function BTF describes: name and `FUNC` id.
    pub fn functions(&self) -> impl Iterator<Item = (&str, u32)> {
        self.names
            .iter()
            .filter(|e| e.0 == KIND_FUNC)
            .map(|e| (self.name(e.1), e.2))
    }

    /// The `FUNC` id of function `name`.
    pub fn function(&self, name: &str) -> Option<u32> {
        self.find(KIND_FUNC, name)
    }

    /// A function's parameters (name, C type text) and return type text.
    pub fn signature(&self, func: u32) -> Option<(Vec<(String, String)>, String)> {
        let f = self.types.get(func as usize)?;
        if f.kind != KIND_FUNC {
            return None;
        }
        let proto = self.types.get(f.size_or_type as usize)?;
        let params = proto
            .params
            .iter()
            // A trailing (0, void) parameter marks varargs.
            .filter(|(_, ty)| *ty != 0)
            .map(|(n, ty)| (self.name(*n).to_string(), self.type_text(*ty)))
            .collect();
        Some((params, self.type_text(proto.size_or_type)))
    }

    /// The C spelling of a type, as D parses it back (`struct file *`,
    /// `unsigned int`, `u64`); function pointers become `void *`.
    pub fn type_text(&self, id: u32) -> String {
        self.text(id, 0)
    }

    fn text(&self, id: u32, depth: u32) -> String {
        let Some(t) = self.types.get(id as usize) else {
            return "void".into();
        };
        if depth > MAX_DEPTH {
            return "void".into();
        }
        match t.kind {
            0 => "void".into(),
            KIND_INT => match (t.size_or_type, t.signed, self.name(t.name)) {
                (_, _, "_Bool") | (_, _, "bool") => "uint8_t".into(),
                (1, _, "char") => "char".into(),
                (1, true, _) => "int8_t".into(),
                (1, false, _) => "uint8_t".into(),
                (2, true, _) => "int16_t".into(),
                (2, false, _) => "uint16_t".into(),
                (4, true, _) => "int32_t".into(),
                (4, false, _) => "uint32_t".into(),
                (8, true, _) => "int64_t".into(),
                (8, false, _) => "uint64_t".into(),
                _ => "void".into(),
            },
            KIND_PTR => {
                let inner = self.types.get(t.size_or_type as usize);
                if inner.is_some_and(|i| matches!(i.kind, KIND_FUNC_PROTO)) {
                    return "void *".into();
                }
                format!("{} *", self.text(t.size_or_type, depth + 1))
            }
            KIND_STRUCT if t.name != 0 => format!("struct {}", self.name(t.name)),
            KIND_UNION if t.name != 0 => format!("union {}", self.name(t.name)),
            KIND_ENUM | KIND_ENUM64 if t.name != 0 => format!("enum {}", self.name(t.name)),
            KIND_FWD => format!("struct {}", self.name(t.name)),
            // A typedef D knows by name only if the kernel's types are
            // consulted; its target's spelling always parses.
            KIND_TYPEDEF => self.text(t.size_or_type, depth + 1),
            KIND_CONST | KIND_VOLATILE | KIND_RESTRICT | KIND_TYPE_TAG => {
                self.text(t.size_or_type, depth + 1)
            }
            KIND_ENUM | KIND_ENUM64 => "int32_t".into(),
            _ => match self.size(id) {
                Some(8) => "uint64_t".into(),
                Some(4) => "uint32_t".into(),
                _ => "void".into(),
            },
        }
    }

    /// A kernel variable's type id and whether it is per-CPU.
    pub fn var(&self, name: &str) -> Option<(u32, bool)> {
        self.vars.get(name).copied()
    }

    /// This machine's kernel BTF, read and parsed on first use.
    pub fn kernel() -> Option<&'static KernelBtf> {
        static BTF: OnceLock<Option<KernelBtf>> = OnceLock::new();
        BTF.get_or_init(|| {
            std::fs::read("/sys/kernel/btf/vmlinux")
                .ok()
                .and_then(|d| KernelBtf::parse(&d))
        })
        .as_ref()
    }

    fn size(&self, mut id: u32) -> Option<u32> {
        for _ in 0..MAX_DEPTH {
            let t = self.types.get(id as usize)?;
            match t.kind {
                KIND_INT | KIND_STRUCT | KIND_UNION | KIND_ENUM | KIND_ENUM64 | KIND_FLOAT => {
                    return Some(t.size_or_type)
                }
                KIND_PTR => return Some(8),
                KIND_ARRAY => {
                    let (elem, n) = t.array?;
                    return Some(self.size(elem)? * n);
                }
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    id = t.size_or_type
                }
                _ => return None,
            }
        }
        None
    }

    /// The size of `struct name` in bytes.
    pub fn struct_size(&self, name: &str) -> Option<u32> {
        let id = self.find(KIND_STRUCT, name)?;
        self.size(id)
    }

    /// Byte offset and size of `member` of `struct name` (searching
    /// anonymous members too).
    pub fn member(&self, name: &str, member: &str) -> Option<(u32, u32)> {
        let id = self.find(KIND_STRUCT, name)?;
        self.member_in(id, member, 0)
    }

    fn member_in(&self, id: u32, member: &str, depth: u32) -> Option<(u32, u32)> {
        if depth > MAX_DEPTH {
            return None;
        }
        let t = self.types.get(id as usize)?;
        for m in &t.members {
            if self.name(m.name) == member {
                return Some((m.bit_offset / 8, self.size(m.ty)?));
            }
            if m.name == 0 {
                let inner = self.strip(m.ty)?;
                if let Some((off, size)) = self.member_in(inner, member, depth + 1) {
                    return Some((m.bit_offset / 8 + off, size));
                }
            }
        }
        None
    }

    fn strip(&self, mut id: u32) -> Option<u32> {
        for _ in 0..MAX_DEPTH {
            let t = self.types.get(id as usize)?;
            match t.kind {
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    id = t.size_or_type
                }
                _ => return Some(id),
            }
        }
        None
    }

    /// The BTF id of a named type: `struct X`, `union X`, `enum X` or a
    /// typedef name.
    pub fn lookup(&self, text: &str) -> Option<u32> {
        let text = text.trim();
        let (kind, name) = if let Some(n) = text.strip_prefix("struct ") {
            (KIND_STRUCT, n)
        } else if let Some(n) = text.strip_prefix("union ") {
            (KIND_UNION, n)
        } else if let Some(n) = text.strip_prefix("enum ") {
            (KIND_ENUM, n)
        } else {
            (KIND_TYPEDEF, text)
        };
        self.find(kind, name.trim())
    }

    /// The D type of BTF type `id`: structs and unions complete (members
    /// that are pointers to aggregates point at forward declarations).
    pub fn d_type(&self, id: u32) -> Type {
        self.convert(id, 0, true)
    }

    fn forward(name: &str, is_union: bool) -> Type {
        Type::Sou(Rc::new(SouType {
            name: (!name.is_empty()).then(|| name.to_string()),
            is_union,
            members: Vec::new(),
            size: 0,
            align: 1,
            complete: false,
        }))
    }

    fn convert(&self, id: u32, depth: u32, complete: bool) -> Type {
        let Some(t) = self.types.get(id as usize) else {
            return Type::Void;
        };
        if depth > MAX_DEPTH {
            return Type::Void;
        }
        match t.kind {
            0 => Type::Void,
            KIND_INT => {
                if self.name(t.name) == "_Bool" || self.name(t.name) == "bool" {
                    return dt::int(1, false);
                }
                if self.name(t.name) == "char" {
                    return dt::int(1, true);
                }
                let size = t.size_or_type.clamp(1, 8) as u8;
                if t.size_or_type > 8 {
                    // __int128: no D type; its bytes.
                    return Type::Array(Rc::new(dt::int(1, false)), t.size_or_type as u64);
                }
                dt::int(size, t.signed)
            }
            KIND_FLOAT => Type::Float(t.size_or_type as u8),
            KIND_PTR => {
                let target = self.convert(t.size_or_type, depth + 1, false);
                Type::Pointer(Rc::new(target))
            }
            KIND_ARRAY => {
                let Some((elem, n)) = t.array else {
                    return Type::Void;
                };
                Type::Array(Rc::new(self.convert(elem, depth + 1, true)), n as u64)
            }
            KIND_STRUCT | KIND_UNION => {
                let is_union = t.kind == KIND_UNION;
                if !complete {
                    return Self::forward(self.name(t.name), is_union);
                }
                let mut members = Vec::new();
                self.flatten(id, 0, depth, &mut members);
                Type::Sou(Rc::new(SouType {
                    name: (t.name != 0).then(|| self.name(t.name).to_string()),
                    is_union,
                    members,
                    size: t.size_or_type as u64,
                    align: 8.min(t.size_or_type.max(1).next_power_of_two()) as u64,
                    complete: true,
                }))
            }
            KIND_FWD => Self::forward(self.name(t.name), false),
            KIND_ENUM | KIND_ENUM64 => Type::Enum(Rc::new(EnumType {
                name: (t.name != 0).then(|| self.name(t.name).to_string()),
                values: t
                    .values
                    .iter()
                    .map(|(n, v)| (self.name(*n).to_string(), *v))
                    .collect(),
            })),
            KIND_TYPEDEF => {
                let inner = self.convert(t.size_or_type, depth + 1, complete);
                Type::Named(Rc::from(self.name(t.name)), Rc::new(inner))
            }
            KIND_CONST => Type::Const(Rc::new(self.convert(t.size_or_type, depth + 1, complete))),
            KIND_VOLATILE | KIND_RESTRICT | KIND_TYPE_TAG => {
                self.convert(t.size_or_type, depth + 1, complete)
            }
            // Functions and prototypes: only ever seen through pointers,
            // which D treats as plain addresses.
            KIND_FUNC | KIND_FUNC_PROTO => Type::Void,
            _ => Type::Void,
        }
    }

    /// Members of aggregate `id` at byte offset `base`, anonymous members'
    /// members lifted into the parent as C lets code name them.
    fn flatten(&self, id: u32, base: u64, depth: u32, out: &mut Vec<MemberType>) {
        let Some(t) = self.types.get(id as usize) else {
            return;
        };
        if depth > MAX_DEPTH {
            return;
        }
        for m in &t.members {
            let off = base + (m.bit_offset / 8) as u64;
            if m.name == 0 {
                if let Some(inner) = self.strip(m.ty) {
                    if matches!(
                        self.types.get(inner as usize).map(|t| t.kind),
                        Some(KIND_STRUCT | KIND_UNION)
                    ) {
                        self.flatten(inner, off, depth + 1, out);
                    }
                }
                continue;
            }
            let ty = self.convert(m.ty, depth + 1, true);
            let bits = if m.bit_size > 0 {
                // D keeps bit-fields as (bit offset in the storage unit, width):
                // the unit is the member type's size, aligned down.
                let unit = ty.size().clamp(1, 8) * 8;
                let start = (m.bit_offset as u64 / unit) * unit;
                Some(((m.bit_offset as u64 - start) as u32, m.bit_size))
            } else {
                None
            };
            let offset = match bits {
                Some(_) => {
                    let unit = ty.size().clamp(1, 8) * 8;
                    base + (m.bit_offset as u64 / unit) * unit / 8
                }
                None => off,
            };
            out.push(MemberType {
                name: self.name(m.name).to_string(),
                ty,
                offset,
                bits,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kernel_btf() -> Option<&'static KernelBtf> {
        let btf = KernelBtf::kernel();
        if btf.is_none() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("/sys/kernel/btf/vmlinux is required under CI=true");
            }
            eprintln!("skipping: no kernel BTF");
        }
        btf
    }

    #[test]
    fn task_struct_members_when_btf_exists() {
        let Some(btf) = kernel_btf() else {
            return;
        };
        let (off, size) = btf.member("task_struct", "tgid").expect("task_struct.tgid");
        assert_eq!(size, 4);
        assert!(off > 0);
        assert_eq!(
            btf.member("task_struct", "real_parent").map(|m| m.1),
            Some(8)
        );
        assert_eq!(
            btf.member("sched_entity", "sum_exec_runtime").map(|m| m.1),
            Some(8)
        );
        assert!(btf.member("task_struct", "no_such_member").is_none());
    }

    #[test]
    fn d_types_of_kernel_structs() {
        let Some(btf) = kernel_btf() else {
            return;
        };
        let id = btf.lookup("struct task_struct").expect("task_struct");
        let Type::Sou(s) = btf.d_type(id) else {
            panic!("not a struct");
        };
        assert!(s.complete && s.size > 1000);
        let pid = s.members.iter().find(|m| m.name == "pid").expect("pid");
        assert_eq!(pid.ty.size(), 4);
        assert_eq!(
            Some((pid.offset as u32, 4)),
            btf.member("task_struct", "pid")
        );
        let parent = s
            .members
            .iter()
            .find(|m| m.name == "real_parent")
            .expect("real_parent");
        assert!(parent.ty.is_pointer());
        // A typedef keeps its name.
        let t = btf.lookup("pid_t").expect("pid_t typedef");
        assert_eq!(btf.d_type(t).name(), "pid_t");
    }
}
