//! What a block device counts, from the guest's first request to the VM's
//! end. `vmadm info` shows them under the device, after its transport's
//! counters (`notifies`, `interrupts`, `guest_errors`):
//!
//! ```json
//! { "device": "virtio-blk0", "notifies": 4, "interrupts": 0, "guest_errors": 0,
//!   "reads": 2, "read_bytes": 1536, "writes": 1, "write_bytes": 1024, "flushes": 1,
//!   "get_ids": 0, "unsupported": 0, "io_errors": 0, "bad_chains": 0 }
//! ```
//!
//! Why these: a request either moves data (`reads`, `writes` and their
//! bytes: throughput without a tracer), asks for something cheap
//! (`flushes`, `get_ids`), is not understood (`unsupported`: a driver
//! using a feature Lumen does not offer), or fails. Failures are split by
//! whose fault they are: `io_errors` are requests answered with IOERR —
//! past the disk's end, a write to a read-only disk, a data buffer
//! outside guest memory, or the image file failing — and the guest's
//! driver sees them; `bad_chains` are chains too malformed to be a
//! request, which put the device in NEEDS_RESET. Reads and writes are
//! counted when they succeed: the `vmm:::blk-start` / `blk-done` probes
//! see every attempt, with its sector, size, errno and latency.

crate::counters! {
    /// A block device's counters.
    pub struct BlockMetrics {
        /// Read requests served.
        reads,
        /// Bytes those reads copied from the image into guest buffers.
        read_bytes,
        /// Write requests served.
        writes,
        /// Bytes those writes copied from guest buffers into the image.
        write_bytes,
        /// Flush requests that reached stable storage.
        flushes,
        /// Requests for the device's id.
        get_ids,
        /// Requests of a type the device does not offer (answered UNSUPP).
        unsupported,
        /// Requests answered IOERR.
        io_errors,
        /// Chains that were not a request (device then needs a reset).
        bad_chains,
    }
}
