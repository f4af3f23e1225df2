//! `Semaphore`: the per-probe is-enabled counter a tracer raises.

use core::sync::atomic::{AtomicU16, Ordering};

/// A probe's SDT semaphore: a `u16` in the `.probes` section whose address
/// the note records. A tracer attaching to the probe increments it (the
/// kernel does so for a uprobe opened with `ref_ctr_offset`) and decrements
/// it on detach; while it is zero the probe skips its arguments.
///
/// Atomic only so that every check re-reads memory: the writer is another
/// process or the kernel, which does not use atomic operations on it.
#[repr(transparent)]
#[derive(Debug)]
pub struct Semaphore(AtomicU16);

impl Semaphore {
    /// A lowered semaphore, for `provider!`'s statics.
    #[doc(hidden)]
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Semaphore(AtomicU16::new(0))
    }

    /// Whether someone traces the probe: one load, compared to zero.
    #[inline(always)]
    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::Relaxed) != 0
    }

    /// Count one more tracer, as a tracer would. For tests and benchmarks,
    /// which enable a probe with no tracer attached.
    pub fn raise(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Count one tracer fewer (saturating at zero). The pair of [`raise`].
    ///
    /// [`raise`]: Semaphore::raise
    pub fn lower(&self) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// The semaphore's address, the value the note carries.
    pub fn addr(&self) -> usize {
        self as *const Self as usize
    }
}

/// Start `.probes` on a page of its own. The kernel raises a semaphore
/// through its file offset (a uprobe's `ref_ctr_offset`), and when the
/// loader maps that file page twice — the last page of the segment before
/// ends in the same page — it may raise the copy the program never reads.
/// A page-aligned section keeps the semaphores off a shared page.
#[repr(C, align(4096))]
struct PageAligned([u16; 0]);

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[used]
#[link_section = ".probes"]
static PROBES_PAGE: PageAligned = PageAligned([]);
