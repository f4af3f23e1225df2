//! What a network device counts, from the driver's first buffer to the
//! VM's end. `vmadm info` shows them under the device, after its
//! transport's counters (`notifies`, `interrupts`, `guest_errors`):
//!
//! ```json
//! { "device": "virtio-net0", "notifies": 3, "interrupts": 2, "guest_errors": 0,
//!   "tx_frames": 1, "tx_bytes": 60, "tx_dropped": 0, "tx_errors": 0,
//!   "rx_frames": 1, "rx_bytes": 60, "rx_waits": 0, "tap_read_errors": 0,
//!   "bad_chains": 0 }
//! ```
//!
//! Why these: frames and bytes each way are the traffic, counted as the
//! wire sees it (Ethernet frames, without the virtio header), so they
//! compare with the tap's own `ip -s link` counters. A frame can be lost
//! in four places, each counted apart because each has another cure:
//! the tap's queue was full (`tx_dropped`, a congested host), writing the
//! tap failed (`tx_errors`, reported on stderr), the guest's receive
//! chain was malformed (`bad_chains`, which also counts bad transmit
//! chains: the device then needs a reset), or reading the tap failed
//! (`tap_read_errors`). `rx_waits` counts the times a frame from the tap
//! found no receive buffer and waited for the guest to post one: a guest
//! that falls behind its network. The `vmm:::net-tx` / `net-rx` probes
//! see the same frames one by one, with their lengths.

crate::counters! {
    /// A network device's counters.
    pub struct NetMetrics {
        /// Frames the guest sent that reached the tap.
        tx_frames,
        /// Bytes of those frames.
        tx_bytes,
        /// Frames dropped because the tap's queue was full.
        tx_dropped,
        /// Frames the tap refused for another reason.
        tx_errors,
        /// Frames from the tap delivered into guest buffers.
        rx_frames,
        /// Bytes of those frames.
        rx_bytes,
        /// Times a frame waited for the guest to post receive buffers.
        rx_waits,
        /// Failed reads of the tap.
        tap_read_errors,
        /// Chains refused as malformed, either way.
        bad_chains,
    }
}
