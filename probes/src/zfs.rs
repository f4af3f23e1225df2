//! The `zfs` provider: dataset reads and writes of Lumen's storage layer.
//!
//! Named after the ZFS of SmartOS for familiar scripts, whatever the
//! backing store; `dataset` is the dataset's name.

use core::ffi::c_char;

crate::provider! {
    /// Lumen's storage datasets.
    zfs {
        /// A read of `size` bytes at `offset` starts.
        fn read__start(dataset: *const c_char, offset: u64, size: u64);
        /// The read is done; `error` is 0 or an errno.
        fn read__done(dataset: *const c_char, offset: u64, size: u64, error: i32);
        /// A write of `size` bytes at `offset` starts.
        fn write__start(dataset: *const c_char, offset: u64, size: u64);
        /// The write is done; `error` is 0 or an errno.
        fn write__done(dataset: *const c_char, offset: u64, size: u64, error: i32);
    }
}
