//! Kernel struct layouts from BTF (`/sys/kernel/btf/vmlinux`), parsed once
//! per process, for the built-ins that read the current task (`ppid`,
//! `vtimestamp`).
//!
//! Only what those need is decoded: struct and union members with their bit
//! offsets, and type sizes through typedefs and qualifiers. (aya-obj parses
//! BTF but keeps member offsets private; this reader is small enough to own.)

use std::collections::HashMap;
use std::sync::OnceLock;

const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_DECL_TAG: u32 = 17;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;

#[derive(Debug, Clone)]
struct Type {
    kind: u32,
    /// size, or referenced type id
    size_or_type: u32,
    /// members: (name, type id, bit offset)
    members: Vec<(String, u32, u32)>,
    /// array: (element type, count)
    array: Option<(u32, u32)>,
}

/// Parsed kernel BTF: struct names to type ids, and the types.
#[derive(Debug, Default)]
pub struct KernelBtf {
    types: Vec<Type>,
    structs: HashMap<String, u32>,
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    b.get(off..off + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn name_at(strings: &[u8], off: u32) -> String {
    let start = off as usize;
    let Some(rest) = strings.get(start..) else {
        return String::new();
    };
    let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
    String::from_utf8_lossy(&rest[..end]).into_owned()
}

impl KernelBtf {
    /// Parse BTF bytes (little-endian, as on x86-64).
    pub fn parse(data: &[u8]) -> Option<KernelBtf> {
        if data.get(0..2) != Some(&[0x9f, 0xeb]) {
            return None;
        }
        let hdr_len = u32_at(data, 4)? as usize;
        let type_off = u32_at(data, 8)? as usize;
        let type_len = u32_at(data, 12)? as usize;
        let str_off = u32_at(data, 16)? as usize;
        let str_len = u32_at(data, 20)? as usize;
        let types_bytes = data.get(hdr_len + type_off..hdr_len + type_off + type_len)?;
        let strings = data.get(hdr_len + str_off..hdr_len + str_off + str_len)?;
        let mut btf = KernelBtf {
            types: vec![Type {
                kind: 0,
                size_or_type: 0,
                members: vec![],
                array: None,
            }],
            ..Default::default()
        };
        let mut at = 0usize;
        while at + 12 <= types_bytes.len() {
            let name_off = u32_at(types_bytes, at)?;
            let info = u32_at(types_bytes, at + 4)?;
            let size_or_type = u32_at(types_bytes, at + 8)?;
            at += 12;
            let kind = (info >> 24) & 0x1f;
            let vlen = (info & 0xffff) as usize;
            let kind_flag = info >> 31 == 1;
            let mut t = Type {
                kind,
                size_or_type,
                members: Vec::new(),
                array: None,
            };
            match kind {
                KIND_INT | KIND_VAR | KIND_DECL_TAG => at += 4,
                KIND_ARRAY => {
                    t.array = Some((u32_at(types_bytes, at)?, u32_at(types_bytes, at + 8)?));
                    at += 12;
                }
                KIND_STRUCT | KIND_UNION => {
                    for _ in 0..vlen {
                        let mname = u32_at(types_bytes, at)?;
                        let mtype = u32_at(types_bytes, at + 4)?;
                        let moff = u32_at(types_bytes, at + 8)?;
                        let bits = if kind_flag { moff & 0x00ff_ffff } else { moff };
                        t.members.push((name_at(strings, mname), mtype, bits));
                        at += 12;
                    }
                    if kind == KIND_STRUCT && name_off != 0 {
                        let id = btf.types.len() as u32;
                        btf.structs.entry(name_at(strings, name_off)).or_insert(id);
                    }
                }
                KIND_ENUM => at += 8 * vlen,
                KIND_FUNC_PROTO => at += 8 * vlen,
                KIND_DATASEC | KIND_ENUM64 => at += 12 * vlen,
                _ => {}
            }
            btf.types.push(t);
        }
        Some(btf)
    }

    /// The kernel's BTF, read once per process.
    pub fn kernel() -> Option<&'static KernelBtf> {
        static BTF: OnceLock<Option<KernelBtf>> = OnceLock::new();
        BTF.get_or_init(|| {
            std::fs::read("/sys/kernel/btf/vmlinux")
                .ok()
                .and_then(|d| KernelBtf::parse(&d))
        })
        .as_ref()
    }

    /// Size in bytes of type `id`, through typedefs and qualifiers.
    fn size(&self, mut id: u32) -> Option<u32> {
        for _ in 0..32 {
            let t = self.types.get(id as usize)?;
            match t.kind {
                KIND_INT | KIND_STRUCT | KIND_UNION | KIND_ENUM | KIND_ENUM64 => {
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

    /// Byte offset and size of `member` in `struct name` (anonymous inner
    /// structs and unions are searched too).
    pub fn member(&self, name: &str, member: &str) -> Option<(u32, u32)> {
        let id = *self.structs.get(name)?;
        self.member_in(id, member, 0)
    }

    fn member_in(&self, id: u32, member: &str, depth: u32) -> Option<(u32, u32)> {
        if depth > 8 {
            return None;
        }
        let t = self.types.get(id as usize)?;
        for (n, ty, bits) in &t.members {
            if n == member {
                return Some((bits / 8, self.size(*ty)?));
            }
            if n.is_empty() {
                let inner = self.strip(*ty)?;
                if let Some((off, size)) = self.member_in(inner, member, depth + 1) {
                    return Some((bits / 8 + off, size));
                }
            }
        }
        None
    }

    fn strip(&self, mut id: u32) -> Option<u32> {
        for _ in 0..32 {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_struct_members_when_btf_exists() {
        let Some(btf) = KernelBtf::kernel() else {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("/sys/kernel/btf/vmlinux is required under CI=true");
            }
            eprintln!("skipping: no kernel BTF");
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
}
