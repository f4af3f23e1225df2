//! The `vnic` provider's user-space half: vNICs made and destroyed by
//! Lumen's tools (`dladm`, a zone's boot and teardown). Frames through a
//! vNIC (`vnic:::tx`, `rx`, `drop`) happen in the kernel, not in any
//! process: the engine's kernel-side `vnic` provider reads them from the
//! kernel's network tracepoints.

use core::ffi::c_char;

crate::provider! {
    /// Lumen's vNICs (`vnic` is the link name, `zone` its zone's UUID or
    /// `global`).
    vnic {
        /// A vNIC was made over etherstub or link `over`.
        fn create(vnic: *const c_char, zone: *const c_char, over: *const c_char);
        /// A vNIC was removed.
        fn destroy(vnic: *const c_char, zone: *const c_char);
    }
}
