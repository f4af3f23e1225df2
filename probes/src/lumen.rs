//! The `lumen` provider: the tracer itself, fired from the `lumen` binary.

use core::ffi::c_int;

crate::provider! {
    /// The `lumen` binary: `lumen:::start` and `lumen:::exit` bracket a
    /// `lumen dtrace` run.
    lumen {
        /// `lumen dtrace` starts, with `argc` arguments after `dtrace`.
        fn start(argc: c_int);
        /// `lumen dtrace` ends with exit status `status`.
        fn exit(status: c_int);
    }
}
