//! Locking state that a panicked thread may have held: device registers
//! and the VM's exit are plain data, and a VM that keeps running beats one
//! that deadlocks. A leaf module, so that both the devices and the VM's
//! control can use it.

use std::sync::{Mutex, MutexGuard};

/// Lock `m`, even if a thread panicked holding it.
pub fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
