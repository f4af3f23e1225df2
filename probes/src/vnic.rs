//! The `vnic` provider: frames through Lumen's virtual NICs.

use core::ffi::c_char;

crate::provider! {
    /// Lumen's vNICs (`vnic` is the link name, `zone_id` its zone).
    vnic {
        /// A frame of `bytes` leaves through the vNIC.
        fn tx(vnic: *const c_char, zone_id: u64, bytes: u32);
        /// A frame of `bytes` arrives on the vNIC.
        fn rx(vnic: *const c_char, zone_id: u64, bytes: u32);
    }
}
