//! What a virtio console counts, from the driver's first buffer to the
//! VM's end. `vmadm info` shows them under the device, after its
//! transport's counters (`notifies`, `interrupts`, `guest_errors`):
//!
//! ```json
//! { "device": "virtio-console0", "notifies": 5, "interrupts": 3, "guest_errors": 0,
//!   "tx_bytes": 15, "rx_bytes": 5, "input_dropped": 0, "bad_chains": 0 }
//! ```
//!
//! Why these: `tx_bytes` is what the guest printed (the console log grows
//! by it, beside the 8250's output), `rx_bytes` what it read of what was
//! typed. `input_dropped` is typed input lost because the guest did not
//! read it before [`INPUT_LIMIT`](super::INPUT_LIMIT) bytes piled up —
//! the stderr warning says so once, the counter says how much.
//! `bad_chains` are chains refused as malformed, after which the device
//! needs a reset. No `vmm` probe sees the console's bytes (only its
//! queues' kicks, as `virtio-notify`): these counters are how its
//! traffic is seen.

crate::counters! {
    /// A virtio console's counters.
    pub struct ConsoleMetrics {
        /// Bytes the guest transmitted to the console output.
        tx_bytes,
        /// Typed bytes delivered into guest buffers.
        rx_bytes,
        /// Typed bytes dropped because the input queue was full.
        input_dropped,
        /// Chains refused as malformed, either way.
        bad_chains,
    }
}
