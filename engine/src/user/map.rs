//! Maps of the user-space backend: the kernel map types Lumen's code
//! generation uses, emulated in this process for one CPU.
//!
//! Values live in one zeroed arena per map allocated up front, so that a
//! pointer a program got from `map_lookup_elem` stays valid and the
//! interpreter can bounds-check every access against the arena's range.
//! The arena is allocated zeroed and never touched until used, so a large
//! `max_entries` costs address space, not memory.

use d_lang::codegen::MapKind;
use std::alloc::{self, Layout};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

/// Why a map operation failed (as the kernel's errno would say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// Wrong key or value length (EINVAL).
    #[error("wrong key or value size")]
    Size,
    /// No such key (ENOENT).
    #[error("no such key")]
    NoKey,
    /// The key exists and BPF_NOEXIST was asked (EEXIST).
    #[error("key exists")]
    Exists,
    /// The map is full (E2BIG).
    #[error("map is full")]
    Full,
    /// The arena could not be allocated.
    #[error("out of memory")]
    NoMemory,
}

/// `BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`.
pub const ANY: u64 = 0;
/// Only create.
pub const NOEXIST: u64 = 1;
/// Only replace.
pub const EXIST: u64 = 2;

struct Arena {
    ptr: *mut u8,
    layout: Layout,
}

impl Arena {
    fn new(bytes: usize) -> Result<Arena, MapError> {
        let layout = Layout::from_size_align(bytes.max(8), 8).map_err(|_| MapError::NoMemory)?;
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc::alloc_zeroed(layout) };
        if ptr.is_null() {
            return Err(MapError::NoMemory);
        }
        Ok(Arena { ptr, layout })
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        // SAFETY: allocated in `Arena::new` with this layout.
        unsafe { alloc::dealloc(self.ptr, self.layout) }
    }
}

/// Slots of a hash map: key → slot index, and the free slots.
#[derive(Default)]
struct Slots {
    index: HashMap<Vec<u8>, usize>,
    /// Insertion order, for key iteration as stable as the kernel's.
    order: Vec<Vec<u8>>,
    free: Vec<usize>,
    next: usize,
}

/// One emulated map.
pub struct UserMap {
    kind: MapKind,
    key_size: usize,
    value_size: usize,
    /// Value stride in the arena (8-byte aligned).
    stride: usize,
    max_entries: usize,
    arena: Arena,
    slots: RefCell<Slots>,
    /// Ring buffer records, oldest first.
    ring: RefCell<VecDeque<Vec<u8>>>,
    /// Bytes the ring may hold; beyond it `ringbuf_output` fails (a drop).
    ring_capacity: usize,
    ring_used: RefCell<usize>,
}

impl UserMap {
    /// A map of `kind`; per-CPU kinds hold one CPU's value.
    pub fn new(
        kind: MapKind,
        key_size: u32,
        value_size: u32,
        max_entries: u32,
    ) -> Result<UserMap, MapError> {
        let stride = (value_size as usize).next_multiple_of(8).max(8);
        let entries = match kind {
            MapKind::Ringbuf => 0,
            _ => max_entries as usize,
        };
        let arena = Arena::new(stride.checked_mul(entries).ok_or(MapError::NoMemory)?)?;
        Ok(UserMap {
            kind,
            key_size: key_size as usize,
            value_size: value_size as usize,
            stride,
            max_entries: entries,
            arena,
            slots: RefCell::default(),
            ring: RefCell::default(),
            ring_capacity: max_entries as usize,
            ring_used: RefCell::new(0),
        })
    }

    /// The arena's address range, for the interpreter's memory checks.
    pub fn arena_range(&self) -> std::ops::Range<u64> {
        let start = self.arena.ptr as u64;
        start..start + (self.stride * self.max_entries) as u64
    }

    /// The map's kind.
    pub fn kind(&self) -> MapKind {
        self.kind
    }

    /// Key size in bytes.
    pub fn key_size(&self) -> usize {
        self.key_size
    }

    /// Value size in bytes (one CPU's).
    pub fn value_size(&self) -> usize {
        self.value_size
    }

    fn is_array(&self) -> bool {
        matches!(self.kind, MapKind::Array | MapKind::PercpuArray)
    }

    fn array_index(&self, key: &[u8]) -> Option<usize> {
        let b: [u8; 4] = key.try_into().ok()?;
        let i = u32::from_ne_bytes(b) as usize;
        (i < self.max_entries).then_some(i)
    }

    fn slot_ptr(&self, slot: usize) -> *mut u8 {
        // SAFETY: slot < max_entries, so the offset stays inside the arena.
        unsafe { self.arena.ptr.add(slot * self.stride) }
    }

    /// The value's address for `key`, as `bpf_map_lookup_elem` returns it.
    pub fn lookup_ptr(&self, key: &[u8]) -> Option<*mut u8> {
        if key.len() != self.key_size {
            return None;
        }
        if self.is_array() {
            return self.array_index(key).map(|i| self.slot_ptr(i));
        }
        let slots = self.slots.borrow();
        slots.index.get(key).map(|&s| self.slot_ptr(s))
    }

    /// Address of array entry 0 plus `offset`, for `BPF_PSEUDO_MAP_VALUE`.
    pub fn value_addr(&self, offset: u32) -> Option<u64> {
        (self.is_array() && self.max_entries > 0 && (offset as usize) < self.stride)
            .then(|| self.slot_ptr(0) as u64 + offset as u64)
    }

    /// `bpf_map_update_elem`.
    pub fn update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        if key.len() != self.key_size || value.len() < self.value_size {
            return Err(MapError::Size);
        }
        let slot = if self.is_array() {
            if flags == NOEXIST {
                return Err(MapError::Exists);
            }
            self.array_index(key).ok_or(MapError::NoKey)?
        } else {
            let mut slots = self.slots.borrow_mut();
            match (slots.index.get(key).copied(), flags) {
                (Some(_), NOEXIST) => return Err(MapError::Exists),
                (Some(s), _) => s,
                (None, EXIST) => return Err(MapError::NoKey),
                (None, _) => {
                    let s = match slots.free.pop() {
                        Some(s) => s,
                        None if slots.next < self.max_entries => {
                            slots.next += 1;
                            slots.next - 1
                        }
                        None => return Err(MapError::Full),
                    };
                    slots.index.insert(key.to_vec(), s);
                    slots.order.push(key.to_vec());
                    s
                }
            }
        };
        // SAFETY: the slot is inside the arena and holds `stride` >= value_size bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(value.as_ptr(), self.slot_ptr(slot), self.value_size)
        };
        Ok(())
    }

    /// `bpf_map_delete_elem` (arrays cannot delete, as in the kernel).
    pub fn delete(&self, key: &[u8]) -> Result<(), MapError> {
        if self.is_array() {
            return Err(MapError::Size);
        }
        let mut slots = self.slots.borrow_mut();
        let s = slots.index.remove(key).ok_or(MapError::NoKey)?;
        slots.order.retain(|k| k != key);
        // SAFETY: the slot is inside the arena; a freed slot reads as zero when reused.
        unsafe { std::ptr::write_bytes(self.slot_ptr(s), 0, self.stride) };
        slots.free.push(s);
        Ok(())
    }

    /// A copy of the value for `key`.
    pub fn lookup(&self, key: &[u8]) -> Option<Vec<u8>> {
        let p = self.lookup_ptr(key)?;
        // SAFETY: `p` points at a slot of `value_size` readable bytes in the arena.
        Some(unsafe { std::slice::from_raw_parts(p, self.value_size) }.to_vec())
    }

    /// Every key, oldest first (arrays: every index).
    pub fn keys(&self) -> Vec<Vec<u8>> {
        if self.is_array() {
            return (0..self.max_entries as u32)
                .map(|i| i.to_ne_bytes().to_vec())
                .collect();
        }
        self.slots.borrow().order.clone()
    }

    /// `bpf_ringbuf_output`: queue a record, or fail when the ring is full.
    pub fn ring_push(&self, data: &[u8]) -> Result<(), MapError> {
        let mut used = self.ring_used.borrow_mut();
        // The kernel adds an 8-byte header per record and rounds to 8.
        let cost = data.len().next_multiple_of(8) + 8;
        if *used + cost > self.ring_capacity {
            return Err(MapError::Full);
        }
        *used += cost;
        self.ring.borrow_mut().push_back(data.to_vec());
        Ok(())
    }

    /// Take every queued record.
    pub fn ring_drain(&self) -> Vec<Vec<u8>> {
        *self.ring_used.borrow_mut() = 0;
        self.ring.borrow_mut().drain(..).collect()
    }
}
