//! Counters the virtio devices keep as they work, readable from any
//! thread while the VM runs.
//!
//! Each device folder's `metrics.rs` declares its counters with
//! [`counters!`](crate::counters), which makes the struct and its
//! [`Counters::snapshot`] from one list, so a counter cannot be declared
//! without being reported. The transport keeps its own
//! ([`TransportMetrics`](super::mmio::TransportMetrics)); [`VmMetrics`]
//! gathers both for every device of a VM, in slot order, and writes them
//! as JSON: `lumen vmm --metrics FILE` keeps a file of it current, which
//! `vmadm info` shows.
//!
//! Counters and the `vmm` probes answer different questions. A probe fires
//! per event, carries its arguments, and costs nothing until a tracer
//! attaches: it is for "which request, how long, from where". A counter
//! costs one relaxed atomic add per event, always, and answers "how many,
//! since the VM started" without a tracer — what `vmadm info` shows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A monotonic count of events, shared between the device that counts
/// and whoever reads it.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Count one event.
    pub fn inc(&self) {
        self.add(1);
    }

    /// Count `n` (bytes, say).
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The count so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Counters as (name, value) pairs in declaration order: a snapshot.
pub type Snapshot = Vec<(&'static str, u64)>;

/// A set of counters that can be read as a whole.
pub trait Counters: Send + Sync {
    /// Every counter's current value, by name.
    fn snapshot(&self) -> Snapshot;
}

/// Declare a struct of [`Counter`]s and its [`Counters`] impl from one list
/// of documented fields.
#[macro_export]
macro_rules! counters {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$doc:meta])* $field:ident,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Default)]
        pub struct $name {
            $($(#[$doc])* pub $field: $crate::devices::virtio::metrics::Counter,)*
        }

        impl $crate::devices::virtio::metrics::Counters for $name {
            fn snapshot(&self) -> $crate::devices::virtio::metrics::Snapshot {
                vec![$((stringify!($field), self.$field.get()),)*]
            }
        }
    };
}

/// The counters of one device: its transport's and its own.
#[derive(Clone)]
pub struct DeviceCounters {
    /// The device's name (`virtio-blk0`).
    pub name: String,
    /// The transport's counters, then the device's.
    pub sets: Vec<Arc<dyn Counters>>,
}

/// Every virtio device's counters, for reading while the VM runs.
#[derive(Clone, Default)]
pub struct VmMetrics {
    devices: Vec<DeviceCounters>,
}

impl VmMetrics {
    /// Add a device's counters (in slot order).
    pub fn push(&mut self, device: DeviceCounters) {
        self.devices.push(device);
    }

    /// Each device's name and counters, now.
    pub fn snapshot(&self) -> Vec<(String, Snapshot)> {
        self.devices
            .iter()
            .map(|d| {
                let counters = d.sets.iter().flat_map(|s| s.snapshot()).collect();
                (d.name.clone(), counters)
            })
            .collect()
    }

    /// [`snapshot`](Self::snapshot) as a JSON array of one object per
    /// device, `{"device": NAME, COUNTER: VALUE, …}`, counters in their
    /// declaration order. Device and counter names are the VMM's own
    /// (letters, digits, `-` and `_`): nothing to escape.
    pub fn to_json(&self) -> String {
        let devices: Vec<String> = self
            .snapshot()
            .into_iter()
            .map(|(name, counters)| {
                let mut fields = vec![format!("\"device\": \"{name}\"")];
                fields.extend(counters.iter().map(|(k, v)| format!("\"{k}\": {v}")));
                format!("{{{}}}", fields.join(", "))
            })
            .collect();
        format!("[{}]", devices.join(",\n "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::counters! {
        /// Two counters.
        pub struct Pair {
            /// The first.
            first,
            /// The second.
            second,
        }
    }

    #[test]
    fn a_snapshot_has_every_counter_in_declaration_order() {
        let pair = Arc::new(Pair::default());
        pair.first.inc();
        pair.second.add(40);
        pair.second.inc();
        assert_eq!(pair.snapshot(), [("first", 1), ("second", 41)]);
        let mut vm = VmMetrics::default();
        vm.push(DeviceCounters {
            name: "dev0".into(),
            sets: vec![pair.clone(), pair],
        });
        assert_eq!(
            vm.snapshot(),
            [(
                "dev0".to_string(),
                vec![("first", 1), ("second", 41), ("first", 1), ("second", 41)]
            )]
        );
    }

    #[test]
    fn the_json_has_an_object_per_device_with_its_name_first() {
        let mut vm = VmMetrics::default();
        assert_eq!(vm.to_json(), "[]");
        for name in ["virtio-blk0", "virtio-net0"] {
            let pair = Arc::new(Pair::default());
            pair.second.add(7);
            vm.push(DeviceCounters {
                name: name.into(),
                sets: vec![pair],
            });
        }
        assert_eq!(
            vm.to_json(),
            "[{\"device\": \"virtio-blk0\", \"first\": 0, \"second\": 7},\n \
             {\"device\": \"virtio-net0\", \"first\": 0, \"second\": 7}]"
        );
    }
}
