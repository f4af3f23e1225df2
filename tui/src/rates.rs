//! Rates from snapshots: the difference between two snapshots of a
//! program's aggregations, over the time between them.
//!
//! Panel scripts aggregate as a user would type them, from the start of
//! the program on; the panels show what happened in the last refresh
//! interval. An entry whose value went *down* (the script called
//! `clear()` or `trunc()`, or a new program replaced the old) is taken
//! as having started again from zero, so its whole value is the delta.

use engine::model::aggregation::{AggFunc, AggValue, Aggregation};
use engine::model::value::Value;
use std::collections::HashMap;
use std::time::Instant;

/// What one refresh interval added to each aggregation.
#[derive(Debug, Clone)]
pub struct Interval {
    /// The interval's length in seconds (> 0).
    pub seconds: f64,
    /// The deltas, one aggregation per aggregation of the snapshot.
    pub aggregations: Vec<Aggregation>,
}

impl Interval {
    /// The delta of the aggregation named `name` (without `@`).
    pub fn get(&self, name: &str) -> Option<&Aggregation> {
        self.aggregations.iter().find(|a| a.name == name)
    }
}

/// The last snapshot of one program, to difference the next against.
#[derive(Debug, Default)]
pub struct DeltaTracker {
    /// Which program the baseline belongs to.
    generation: u64,
    /// When the baseline was taken (the program's start for the first).
    at: Option<Instant>,
    /// Per aggregation name, per key tuple, the value then.
    prev: HashMap<String, HashMap<Vec<Value>, AggValue>>,
}

impl DeltaTracker {
    /// Start over for program `generation`, which started at `at` with
    /// empty aggregations.
    pub fn restart(&mut self, generation: u64, at: Instant) {
        self.generation = generation;
        self.at = Some(at);
        self.prev.clear();
    }

    /// Difference `aggs` (taken at `at` from program `generation`) against
    /// the baseline, and make them the new baseline. `None` before any
    /// baseline, or for a snapshot of another program or not after the
    /// baseline (nothing sensible to divide by).
    pub fn advance(
        &mut self,
        generation: u64,
        aggs: &[Aggregation],
        at: Instant,
    ) -> Option<Interval> {
        if generation != self.generation {
            return None;
        }
        let since = self.at?;
        let seconds = at.checked_duration_since(since)?.as_secs_f64();
        if seconds <= 0.0 {
            return None;
        }
        let mut out = Vec::with_capacity(aggs.len());
        let mut next = HashMap::with_capacity(aggs.len());
        for agg in aggs {
            let prev = self.prev.get(&agg.name);
            let mut delta = Aggregation {
                entries: Vec::with_capacity(agg.entries.len()),
                ..agg.clone_empty()
            };
            let mut now = HashMap::with_capacity(agg.entries.len());
            for e in &agg.entries {
                let before = prev.and_then(|p| p.get(&e.keys));
                delta.entries.push(engine::model::aggregation::AggEntry {
                    keys: e.keys.clone(),
                    value: difference(&agg.func, before, &e.value),
                });
                now.insert(e.keys.clone(), e.value.clone());
            }
            next.insert(agg.name.clone(), now);
            out.push(delta);
        }
        self.prev = next;
        self.at = Some(at);
        Some(Interval {
            seconds,
            aggregations: out,
        })
    }
}

/// An aggregation's metadata without its entries.
trait CloneEmpty {
    fn clone_empty(&self) -> Aggregation;
}

impl CloneEmpty for Aggregation {
    fn clone_empty(&self) -> Aggregation {
        Aggregation {
            name: self.name.clone(),
            func: self.func,
            key_names: self.key_names.clone(),
            entries: Vec::new(),
            id: self.id,
            normalization: self.normalization,
        }
    }
}

/// `now − before` for values that only grow; `now` itself if there was no
/// value before or it went down (a reset). min() and max() do not add up,
/// so their current value stands.
pub fn difference(func: &AggFunc, before: Option<&AggValue>, now: &AggValue) -> AggValue {
    let Some(before) = before else {
        return now.clone();
    };
    match (before, now) {
        (AggValue::Scalar(b), AggValue::Scalar(n)) => match func {
            AggFunc::Min | AggFunc::Max => now.clone(),
            _ if n >= b => AggValue::Scalar(n - b),
            _ => now.clone(),
        },
        (
            AggValue::Avg {
                count: bc,
                total: bt,
            },
            AggValue::Avg {
                count: nc,
                total: nt,
            },
        ) if nc >= bc => AggValue::Avg {
            count: nc - bc,
            total: nt.wrapping_sub(*bt),
        },
        (
            AggValue::Stddev {
                count: bc,
                total: bt,
                total_sq: bq,
            },
            AggValue::Stddev {
                count: nc,
                total: nt,
                total_sq: nq,
            },
        ) if nc >= bc && nq >= bq => AggValue::Stddev {
            count: nc - bc,
            total: nt.wrapping_sub(*bt),
            total_sq: nq - bq,
        },
        (AggValue::Buckets(b), AggValue::Buckets(n)) => {
            let went_down = n
                .iter()
                .enumerate()
                .any(|(i, &c)| c < b.get(i).copied().unwrap_or(0));
            if went_down {
                return now.clone();
            }
            AggValue::Buckets(
                n.iter()
                    .enumerate()
                    .map(|(i, &c)| c - b.get(i).copied().unwrap_or(0))
                    .collect(),
            )
        }
        _ => now.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::{agg, counts};
    use std::time::Duration;

    #[test]
    fn counts_become_differences_over_the_interval() {
        let t0 = Instant::now();
        let mut d = DeltaTracker::default();
        d.restart(1, t0);
        let first = d
            .advance(1, &[counts("n", &[("a", 10)])], t0 + Duration::from_secs(2))
            .expect("interval");
        assert_eq!(first.seconds, 2.0);
        assert_eq!(
            first.get("n").expect("n").entries[0].value,
            AggValue::Scalar(10)
        );
        let second = d
            .advance(
                1,
                &[counts("n", &[("a", 15), ("b", 1)])],
                t0 + Duration::from_secs(3),
            )
            .expect("interval");
        assert_eq!(second.seconds, 1.0);
        let n = second.get("n").expect("n");
        assert_eq!(n.entries[0].value, AggValue::Scalar(5));
        assert_eq!(n.entries[1].value, AggValue::Scalar(1));
    }

    #[test]
    fn a_value_that_went_down_counts_from_zero() {
        // trunc() in the script, or a key that left and came back.
        assert_eq!(
            difference(
                &AggFunc::Count,
                Some(&AggValue::Scalar(10)),
                &AggValue::Scalar(3)
            ),
            AggValue::Scalar(3)
        );
        assert_eq!(
            difference(
                &AggFunc::Quantize,
                Some(&AggValue::Buckets(vec![5, 5])),
                &AggValue::Buckets(vec![6, 1])
            ),
            AggValue::Buckets(vec![6, 1])
        );
        assert_eq!(
            difference(
                &AggFunc::Quantize,
                Some(&AggValue::Buckets(vec![5, 5])),
                &AggValue::Buckets(vec![6, 7, 1])
            ),
            AggValue::Buckets(vec![1, 2, 1])
        );
    }

    #[test]
    fn another_programs_snapshot_is_no_interval() {
        let t0 = Instant::now();
        let mut d = DeltaTracker::default();
        d.restart(2, t0);
        assert!(d
            .advance(
                1,
                &[agg("n", AggFunc::Count, vec![])],
                t0 + Duration::from_secs(1)
            )
            .is_none());
        assert!(d.advance(2, &[], t0).is_none(), "no time has passed");
    }
}
