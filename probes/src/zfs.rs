//! The `zfs` provider: Lumen's storage layer — datasets made and
//! destroyed, snapshots, clones, rollbacks, send and receive, and the
//! reads and writes of VM volumes.
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
        /// Dataset (or volume) `dataset` was made; `size` is a volume's size, else 0.
        fn dataset__create(dataset: *const c_char, size: u64);
        /// Dataset or snapshot `dataset` was destroyed; `size` is the bytes it held.
        fn dataset__destroy(dataset: *const c_char, size: u64);
        /// Snapshot `snapshot` was taken; `size` is the bytes it references.
        fn snapshot(snapshot: *const c_char, size: u64);
        /// Dataset `clone` was cloned from snapshot `snapshot`.
        fn clone(snapshot: *const c_char, clone: *const c_char);
        /// A dataset was rolled back to `snapshot`.
        fn rollback(snapshot: *const c_char);
        /// A send of `snapshot` has written `bytes` so far.
        fn send__progress(snapshot: *const c_char, bytes: u64);
        /// A receive of `snapshot` is done: `bytes` of stream applied.
        fn receive__done(snapshot: *const c_char, bytes: u64);
    }
}
