//! Variables: loads and stores of globals (one array map), clause-locals
//! (scratch), and associative arrays and thread-locals (a hash map each,
//! where storing 0 or "" deletes the entry, as in DTrace).

use super::strings::Emit;
use super::{is_stringish, Lower, R};
use crate::ast::BinOp;
use crate::codegen::insn::{helper, reg::*, Alu, Cond, Insn, Size};
use crate::codegen::layout::VarStorage;
use crate::codegen::object::{Counter, FieldKind};
use crate::ir::{Expr, ExprKind as K, VarId};
use crate::types::Type;

/// Where a D lvalue lives.
enum Place<'e> {
    /// Globals map value + offset.
    Global(u32),
    /// Scratch + offset.
    Local(u32),
    /// A hash-map entry: variable, keys (empty for scalar thread-locals).
    Dynamic(VarId, &'e [Expr]),
}

impl Lower<'_> {
    fn place<'e>(&self, e: &'e Expr) -> R<(Place<'e>, u32)> {
        match &e.kind {
            K::Var(id) | K::Elem(id, _) => {
                let keys: &[Expr] = match &e.kind {
                    K::Elem(_, k) => k,
                    _ => &[],
                };
                let storage = self
                    .lay
                    .vars
                    .get(id)
                    .ok_or_else(|| self.err("variable without storage"))?;
                Ok(match storage {
                    VarStorage::Global { offset } => (Place::Global(*offset), 0),
                    VarStorage::Local { offset } => (Place::Local(self.lay.locals_off + offset), 0),
                    VarStorage::Dynamic { .. } => (Place::Dynamic(*id, keys), 0),
                })
            }
            K::Member {
                base,
                offset,
                bits: None,
            } => {
                let (p, off) = self.place(base)?;
                if matches!(p, Place::Dynamic(..)) {
                    return Err(
                        self.err("members of structs in associative arrays are not supported yet")
                    );
                }
                Ok((p, off + *offset as u32))
            }
            _ => Err(self.err("unsupported assignment target")),
        }
    }

    /// Load or store width of a value of `ty` in D storage.
    fn width(ty: &Type, in_struct: bool) -> Size {
        if in_struct {
            Size::of(ty.size())
        } else {
            Size::DW
        }
    }

    /// r1 = pointer to a static place.
    fn static_ptr(&mut self, p: &Place, off: u32) {
        match p {
            Place::Global(base) => self.asm.ld_map_value(R1, self.lay.globals, base + off),
            Place::Local(base) => self.scratch_ptr(R1, base + off),
            Place::Dynamic(..) => {}
        }
    }

    /// Load an lvalue's value into r0.
    pub(crate) fn load_place(&mut self, e: &Expr) -> R<()> {
        if through_pointer(e).is_some() {
            // A checked read, as any dereference.
            return self.expr(e);
        }
        // A member of a struct held in an associative array or a
        // thread-local: the struct's bytes (or zeros), then the member.
        if let Some((root, off)) = self.dynamic_member(e) {
            self.load_place(root)?;
            if is_stringish(&e.ty) || matches!(e.ty.strip(), Type::Sou(_)) {
                self.asm.push(Insn::alu64_imm(Alu::Add, R0, off as i32));
                return Ok(());
            }
            self.scalar_check(&e.ty)?;
            self.asm
                .push(Insn::ldx(Size::of(e.ty.size()), R0, R0, off as i16));
            self.normalize(R0, &e.ty);
            return Ok(());
        }
        let (p, off) = self.place(e)?;
        let in_struct = matches!(e.kind, K::Member { .. });
        match p {
            Place::Global(_) | Place::Local(_) => {
                self.static_ptr(&p, off);
                // Strings and structs are values by reference: r0 points
                // at their bytes.
                if is_stringish(&e.ty) || matches!(e.ty.strip(), Type::Sou(_)) {
                    self.asm.push(Insn::mov64_reg(R0, R1));
                    return Ok(());
                }
                self.scalar_check(&e.ty)?;
                self.asm
                    .push(Insn::ldx(Self::width(&e.ty, in_struct), R0, R1, 0));
                if in_struct {
                    self.normalize(R0, &e.ty);
                }
                Ok(())
            }
            Place::Dynamic(id, keys) => {
                let cacheable = keys.is_empty()
                    && !in_struct
                    && !is_stringish(&e.ty)
                    && !matches!(e.ty.strip(), Type::Sou(_))
                    && self.is_thread(id);
                if cacheable {
                    if let Some(&(_, slot)) = self.cache.iter().find(|(v, _)| *v == id) {
                        self.asm.push(Insn::ldx(Size::DW, R0, FP, slot));
                        return Ok(());
                    }
                }
                let map = self.build_key(id, keys)?;
                let found = self.asm.label();
                let end = self.asm.label();
                self.asm.ld_map(R1, map);
                self.scratch_ptr(R2, self.lay.key_off);
                self.asm.push(Insn::call(helper::MAP_LOOKUP_ELEM));
                self.asm.jmp_imm(Cond::Ne, R0, 0, found);
                // Absent: 0, or the empty string (a struct: zeros).
                let by_ref = is_stringish(&e.ty) || matches!(e.ty.strip(), Type::Sou(_));
                if by_ref {
                    self.asm.ld_map_value(R0, self.lay.strings, 0);
                } else {
                    self.asm.push(Insn::mov64_imm(R0, 0));
                }
                self.asm.ja(end);
                self.asm.bind(found);
                if !by_ref {
                    self.scalar_check(&e.ty)?;
                    self.asm.push(Insn::ldx(Size::DW, R0, R0, 0));
                }
                self.asm.bind(end);
                if cacheable && self.cond_depth == 0 && self.cache.len() < super::CACHE_SLOTS {
                    let slot = super::TID_SLOT - 8 * (self.cache.len() as i16 + 1);
                    self.asm.push(Insn::stx(Size::DW, FP, slot, R0));
                    self.cache.push((id, slot));
                }
                Ok(())
            }
        }
    }

    /// If `e` is a member (however nested) of a struct held in an
    /// associative array or thread-local: that variable's expression and
    /// the member's byte offset in the struct.
    fn dynamic_member<'e>(&self, e: &'e Expr) -> Option<(&'e Expr, u64)> {
        let mut off = 0;
        let mut root = e;
        while let K::Member {
            base,
            offset,
            bits: None,
        } = &root.kind
        {
            off += *offset;
            root = base;
        }
        if std::ptr::eq(root, e) {
            return None;
        }
        match &root.kind {
            K::Var(id) | K::Elem(id, _) => {
                matches!(self.lay.vars.get(id), Some(VarStorage::Dynamic { .. }))
                    .then_some((root, off))
            }
            _ => None,
        }
    }

    fn is_thread(&self, id: VarId) -> bool {
        matches!(
            self.lay.vars.get(&id),
            Some(VarStorage::Dynamic { thread: true, .. })
        )
    }

    fn scalar_check(&self, ty: &Type) -> R<()> {
        if ty.is_integer() || ty.is_pointer() || ty.is_scalar() {
            Ok(())
        } else {
            Err(self.err(format!(
                "values of type {} are not supported by code generation yet",
                ty.name()
            )))
        }
    }

    /// Evaluate the keys of a dynamic variable and build its key in scratch;
    /// returns the variable's map.
    fn build_key(&mut self, id: VarId, keys: &[Expr]) -> R<usize> {
        let Some(VarStorage::Dynamic {
            map,
            keys: fields,
            key_size,
            thread,
            ..
        }) = self.lay.vars.get(&id).cloned()
        else {
            return Err(self.err("variable is not dynamic"));
        };
        let mut slots = Vec::new();
        for (k, f) in keys.iter().zip(&fields) {
            self.expr(k)?;
            if let FieldKind::Str { .. } = f.kind {
                self.convert(&k.ty, &Type::String)?;
            }
            slots.push(self.spill(R0)?);
        }
        let base = self.lay.key_off;
        if fields.is_empty() && !thread {
            self.asm.push(Insn::st(Size::DW, R9, base as i16, 0));
        }
        if thread {
            self.asm.push(Insn::ldx(Size::DW, R0, FP, super::TID_SLOT));
            self.asm.push(Insn::stx(Size::DW, R9, base as i16, R0));
        }
        self.write_key(&fields, &slots, base);
        self.stack -= 8 * slots.len() as i32;
        let _ = key_size;
        Ok(map)
    }

    /// Copy spilled key values (`slots`, one per field) into the key buffer
    /// at scratch offset `base`: integers as 8 bytes, strings whole.
    pub(crate) fn write_key(
        &mut self,
        fields: &[crate::codegen::object::Field],
        slots: &[i16],
        base: u32,
    ) {
        for (slot, f) in slots.iter().zip(fields) {
            let at = base + f.offset;
            match f.kind {
                FieldKind::Int { .. } => {
                    self.asm.push(Insn::ldx(Size::DW, R1, FP, *slot));
                    self.asm.push(Insn::stx(Size::DW, R9, at as i16, R1));
                }
                FieldKind::Str { size } | FieldKind::Bytes { size } => {
                    self.asm.push(Insn::ldx(Size::DW, R3, FP, *slot));
                    self.scratch_ptr(R1, at);
                    self.asm.push(Insn::mov64_imm(R2, size as i32));
                    self.asm.push(Insn::call(helper::PROBE_READ_KERNEL));
                }
                FieldKind::Stack { .. } | FieldKind::Addr { .. } => {
                    self.asm.push(Insn::ldx(Size::DW, R0, FP, *slot));
                    // Only fails for other kinds, which this arm excludes.
                    let _ = self.store_dyn(f.kind, at);
                }
            }
        }
    }

    /// r1 = a pointer to element `index` of the D array at static place
    /// `p` + `off` (`n` elements of `size` bytes). An index past the end
    /// faults with BADINDEX (the index in `arg5`), as DTrace's run-time
    /// check does; it also bounds the pointer for the verifier.
    fn element_ptr(&mut self, p: &Place, off: u32, index: &Expr, size: u64, n: u64) -> R<()> {
        self.expr(index)?;
        let ok = self.asm.label();
        self.asm
            .jmp_imm(Cond::Lt, R0, n.min(i32::MAX as u64) as i32, ok);
        self.fault_addr(R0);
        self.raise(crate::codegen::object::Fault::BadIndex);
        self.asm.bind(ok);
        if size > 1 {
            self.asm.push(Insn::alu64_imm(Alu::Mul, R0, size as i32));
        }
        self.static_ptr(p, off);
        self.asm.push(Insn::alu64_reg(Alu::Add, R1, R0));
        Ok(())
    }

    /// If `e` is an element of a D array held in a global or clause-local:
    /// the array's place and offset, the index, the element type and the
    /// element count.
    #[allow(clippy::type_complexity)]
    fn static_array_element<'e>(
        &self,
        e: &'e Expr,
    ) -> Option<(Place<'e>, u32, &'e Expr, &'e Type, u64)> {
        let (base, index, elem, n) = d_array_element(e)?;
        let (p, off) = self.place(base).ok()?;
        (!matches!(p, Place::Dynamic(..))).then_some((p, off, index, elem, n))
    }

    /// Load element `a[i]` of a D array (a global or clause-local) into
    /// r0, if `e` is one; false if it is not.
    pub(crate) fn load_d_array_element(&mut self, e: &Expr) -> R<bool> {
        let Some((p, off, index, elem, n)) = self.static_array_element(e) else {
            return Ok(false);
        };
        self.element_ptr(&p, off, index, elem.size(), n)?;
        if is_stringish(elem) {
            self.asm.push(Insn::mov64_reg(R0, R1));
            return Ok(true);
        }
        self.scalar_check(elem)?;
        self.asm.push(Insn::ldx(Size::of(elem.size()), R0, R1, 0));
        self.normalize(R0, elem);
        Ok(true)
    }

    /// Store r0 into element `a[i]` of a D array, if `target` is one;
    /// r0 keeps the value. False if it is not one.
    fn store_d_array_element(&mut self, target: &Expr, ty: &Type) -> R<bool> {
        let Some((p, off, index, elem, n)) = self.static_array_element(target) else {
            return Ok(false);
        };
        if is_stringish(ty) || !matches!(elem.size(), 1 | 2 | 4 | 8) {
            return Err(self.err(format!(
                "storing a value of type {} into a D array is not supported yet",
                ty.name()
            )));
        }
        let value = self.spill(R0)?;
        self.element_ptr(&p, off, index, elem.size(), n)?;
        self.unspill(R0, value);
        self.asm.push(Insn::stx(Size::of(elem.size()), R1, 0, R0));
        Ok(true)
    }

    /// Store r0 into a member of a struct held in an associative array or
    /// thread-local (`self->s.x = 1`), if `target` is one: the element is
    /// made (zeroed) if absent, then the member written in place. r0 keeps
    /// the value. False if it is not one.
    fn store_dynamic_member(&mut self, target: &Expr, ty: &Type) -> R<bool> {
        let Some((root, off)) = self.dynamic_member(target) else {
            return Ok(false);
        };
        let (id, keys): (VarId, &[Expr]) = match &root.kind {
            K::Var(id) => (*id, &[]),
            K::Elem(id, keys) => (*id, keys),
            _ => return Ok(false),
        };
        let Some(VarStorage::Dynamic { value_size, .. }) = self.lay.vars.get(&id).cloned() else {
            return Ok(false);
        };
        if is_stringish(ty) || !matches!(ty.size(), 1 | 2 | 4 | 8) {
            return Err(self.err(format!(
                "storing a value of type {} into a member of a struct in an associative array is not supported yet",
                ty.name()
            )));
        }
        self.cache.retain(|(v, _)| *v != id);
        let value = self.spill(R0)?;
        let map = self.build_key(id, keys)?;
        let have = self.asm.label();
        let end = self.asm.label();
        self.asm.ld_map(R1, map);
        self.scratch_ptr(R2, self.lay.key_off);
        self.asm.push(Insn::call(helper::MAP_LOOKUP_ELEM));
        self.asm.jmp_imm(Cond::Ne, R0, 0, have);
        // Absent: make it, zeroed, then find it.
        self.zero_scratch(self.lay.value_off, value_size);
        self.asm.ld_map(R1, map);
        self.scratch_ptr(R2, self.lay.key_off);
        self.scratch_ptr(R3, self.lay.value_off);
        self.asm.push(Insn::mov64_imm(R4, 0));
        self.asm.push(Insn::call(helper::MAP_UPDATE_ELEM));
        let made = self.asm.label();
        self.asm.jmp_imm(Cond::Eq, R0, 0, made);
        self.count(Counter::DynvarDrops);
        self.asm.ja(end);
        self.asm.bind(made);
        self.asm.ld_map(R1, map);
        self.scratch_ptr(R2, self.lay.key_off);
        self.asm.push(Insn::call(helper::MAP_LOOKUP_ELEM));
        self.asm.jmp_imm(Cond::Eq, R0, 0, end);
        self.asm.bind(have);
        self.asm.push(Insn::ldx(Size::DW, R1, FP, value));
        self.asm
            .push(Insn::stx(Size::of(ty.size()), R0, off as i16, R1));
        self.asm.bind(end);
        self.unspill(R0, value);
        Ok(true)
    }

    /// Store r0 (a value of type `ty`) into `target`; r0 keeps the value.
    fn store(&mut self, target: &Expr, ty: &Type) -> R<()> {
        if self.store_d_array_element(target, ty)? {
            return Ok(());
        }
        if self.store_dynamic_member(target, ty)? {
            return Ok(());
        }
        if let Some((pointer, offset)) = through_pointer(target) {
            return self.store_through(pointer, offset, ty);
        }
        let (p, off) = self.place(target)?;
        let in_struct = matches!(target.kind, K::Member { .. });
        let string = is_stringish(ty);
        // A struct is copied whole (`q = p`), as a string is.
        let sou = matches!(ty.strip(), Type::Sou(_));
        if !string && !sou {
            self.scalar_check(ty)?;
        }
        if sou && matches!(p, Place::Dynamic(..)) && ty.size() > u64::from(self.lay.strsize) {
            // An absent element reads as the strings map's strsize zeros.
            return Err(self.err(format!(
                "{} values larger than strsize in associative arrays and thread-locals are not supported yet",
                ty.name()
            )));
        }
        match p {
            Place::Global(_) | Place::Local(_) => {
                if string || sou {
                    let bytes = if sou {
                        ty.size() as i32
                    } else {
                        self.lay.strsize as i32
                    };
                    let slot = self.spill(R0)?;
                    self.static_ptr(&p, off);
                    self.asm.push(Insn::ldx(Size::DW, R3, FP, slot));
                    self.asm.push(Insn::mov64_imm(R2, bytes));
                    self.asm.push(Insn::call(helper::PROBE_READ_KERNEL));
                    self.unspill(R0, slot);
                } else {
                    self.asm.push(Insn::mov64_reg(R2, R0));
                    self.static_ptr(&p, off);
                    self.asm
                        .push(Insn::stx(Self::width(ty, in_struct), R1, 0, R2));
                    self.asm.push(Insn::mov64_reg(R0, R2));
                }
                Ok(())
            }
            Place::Dynamic(id, keys) => {
                // Any store to the variable ends what the cache knows of it.
                self.cache.retain(|(v, _)| *v != id);
                let value = self.spill(R0)?;
                let map = self.build_key(id, keys)?;
                let delete = self.asm.label();
                let end = self.asm.label();
                self.asm.push(Insn::ldx(Size::DW, R3, FP, value));
                if sou {
                    // The struct's bytes are the value (never deleted).
                } else if string {
                    // "" deletes; otherwise the string buffer is the value.
                    self.asm.push(Insn::ldx(Size::B, R1, R3, 0));
                    self.asm.jmp_imm(Cond::Eq, R1, 0, delete);
                } else {
                    self.asm.jmp_imm(Cond::Eq, R3, 0, delete);
                    self.asm
                        .push(Insn::stx(Size::DW, R9, self.lay.value_off as i16, R3));
                    self.scratch_ptr(R3, self.lay.value_off);
                }
                self.asm.ld_map(R1, map);
                self.scratch_ptr(R2, self.lay.key_off);
                self.asm.push(Insn::mov64_imm(R4, 0));
                self.asm.push(Insn::call(helper::MAP_UPDATE_ELEM));
                self.asm.jmp_imm(Cond::Eq, R0, 0, end);
                self.count(Counter::DynvarDrops);
                // A struct is never deleted: no way leads to the delete
                // (the verifier refuses unreachable code).
                if !sou {
                    self.asm.ja(end);
                    self.asm.bind(delete);
                    self.asm.ld_map(R1, map);
                    self.scratch_ptr(R2, self.lay.key_off);
                    self.asm.push(Insn::call(helper::MAP_DELETE_ELEM));
                }
                self.asm.bind(end);
                self.unspill(R0, value);
                Ok(())
            }
        }
    }

    /// Store r0 (a scalar of type `ty`) at `pointer + offset`, which must
    /// lie in the scratch memory alloca( ) and copyin( ) hand out, as
    /// DTrace's `dtrace_canstore()` demands; anywhere else (kernel memory,
    /// a stale or forged pointer) raises the invalid-address fault.
    fn store_through(&mut self, pointer: &Expr, offset: u64, ty: &Type) -> R<()> {
        if is_stringish(ty) || !matches!(ty.size(), 1 | 2 | 4 | 8) {
            return Err(self.err(format!(
                "storing a value of type {} through a pointer is not supported yet",
                ty.name()
            )));
        }
        let width = ty.size() as i32;
        let value = self.spill(R0)?;
        self.expr(pointer)?;
        if offset != 0 {
            self.asm.push(Insn::alu64_imm(Alu::Add, R0, offset as i32));
        }
        // The address as a plain number, noted for the fault.
        self.asm.mov(R1, R0);
        self.launder(R1);
        self.fault_addr(R1);
        let bad = self.asm.label();
        let ok = self.asm.label();
        self.reserved_place(width as u32, bad);
        self.asm.ja(ok);
        self.asm.bind(bad);
        self.raise(crate::codegen::object::Fault::BadAddr);
        self.asm.bind(ok);
        self.unspill(R0, value);
        self.asm.push(Insn::stx(Size::of(width as u64), R4, 0, R0));
        Ok(())
    }

    /// `target = v` or `target op= v`.
    pub(crate) fn assign(&mut self, target: &Expr, op: Option<BinOp>, v: &Expr) -> R<()> {
        match op {
            None => {
                self.expr(v)?;
                self.convert(&v.ty, &target.ty)?;
            }
            Some(op) => {
                let combined = Expr {
                    kind: K::Binary(op, Box::new(target.clone()), Box::new(v.clone())),
                    ty: target.ty.clone(),
                    span: v.span,
                };
                self.expr(&combined)?;
            }
        }
        self.store(target, &target.ty)
    }

    /// `++x`, `x--` …
    pub(crate) fn incdec(&mut self, target: &Expr, inc: bool, prefix: bool) -> R<()> {
        self.load_place(target)?;
        let old = self.spill(R0)?;
        let step = if target.ty.is_pointer() {
            target.ty.referent().map(|t| t.size()).unwrap_or(1).max(1) as i32
        } else {
            1
        };
        self.asm.push(Insn::alu64_imm(
            Alu::Add,
            R0,
            if inc { step } else { -step },
        ));
        self.normalize(R0, &target.ty);
        self.store(target, &target.ty)?;
        if prefix {
            self.stack -= 8;
        } else {
            self.unspill(R0, old);
        }
        Ok(())
    }
}

/// An element of a fixed-size array held in a D variable or member:
/// `*(a + i)` where `a` has an array type. The array's lvalue, the index,
/// the element type and the element count.
fn d_array_element(e: &Expr) -> Option<(&Expr, &Expr, &Type, u64)> {
    let K::Deref(p) = &e.kind else {
        return None;
    };
    let K::Binary(BinOp::Add, base, index) = &p.kind else {
        return None;
    };
    if !matches!(base.kind, K::Var(_) | K::Member { .. }) {
        return None;
    }
    match base.ty.strip() {
        Type::Array(elem, n) => Some((base, index, elem, *n)),
        _ => None,
    }
}

/// The pointer and byte offset of an lvalue stored through a pointer
/// (`*p`, `p[i]`, `p->m`, `p->m.n`), if it is one.
fn through_pointer(e: &Expr) -> Option<(&Expr, u64)> {
    match &e.kind {
        K::Deref(p) => Some((p, 0)),
        K::Member {
            base,
            offset,
            bits: None,
        } => through_pointer(base).map(|(p, o)| (p, o + offset)),
        _ => None,
    }
}
