//! The `zone` provider: zone lifecycle (`zone_id` and the zone's name).

use core::ffi::c_char;

crate::provider! {
    /// Lumen's zones.
    zone {
        /// A zone was created (configured, not yet running).
        fn create(zone_id: u64, name: *const c_char);
        /// A zone booted: its init runs.
        fn boot(zone_id: u64, name: *const c_char);
        /// A zone halted: its processes are gone.
        fn halt(zone_id: u64, name: *const c_char);
        /// A zone was deleted.
        fn delete(zone_id: u64, name: *const c_char);
    }
}
