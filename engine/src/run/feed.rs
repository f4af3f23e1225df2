//! Aggregation snapshots for another thread (a metrics endpoint): it
//! asks, the consuming loop publishes at its next round, it waits for
//! that. BPF maps never leave the consuming thread.

use crate::model::aggregation;
use std::sync::atomic::Ordering;

/// Aggregation snapshots handed from the consuming loop to another thread
/// (a metrics endpoint): the reader asks, the loop publishes at its next
/// round, the reader waits for that. BPF maps stay with the loop's thread.
#[derive(Default)]
pub struct AggregationFeed {
    latest: std::sync::Mutex<Option<(u64, Vec<aggregation::Aggregation>)>>,
    published: std::sync::Condvar,
    wanted: std::sync::atomic::AtomicBool,
}

impl AggregationFeed {
    /// A feed nobody has asked anything of yet.
    pub fn new() -> AggregationFeed {
        AggregationFeed::default()
    }

    pub(super) fn wanted(&self) -> bool {
        self.wanted.swap(false, Ordering::SeqCst)
    }

    pub(super) fn publish(&self, aggs: Vec<aggregation::Aggregation>) {
        let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        let generation = latest.as_ref().map_or(0, |(g, _)| g + 1);
        *latest = Some((generation, aggs));
        self.published.notify_all();
    }

    /// Ask for a fresh snapshot and wait up to `timeout` for it; the last
    /// one published if none comes in time (the loop is busy or has ended).
    pub fn snapshot(&self, timeout: std::time::Duration) -> Option<Vec<aggregation::Aggregation>> {
        let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        let before = latest.as_ref().map(|(g, _)| *g);
        self.wanted.store(true, Ordering::SeqCst);
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if latest.as_ref().map(|(g, _)| *g) != before {
                break;
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                break;
            }
            latest = self
                .published
                .wait_timeout(latest, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        latest.as_ref().map(|(_, a)| a.clone())
    }

    /// Publish `aggs` from outside a session (the final state at the end of
    /// a run, or a test).
    pub fn publish_final(&self, aggs: Vec<aggregation::Aggregation>) {
        self.publish(aggs);
    }
}
