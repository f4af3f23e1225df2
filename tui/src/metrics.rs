//! `lumen top --metrics ADDR`: the dashboard's programs as Prometheus
//! metrics, through [`engine::metrics`]. Each refresh the engine's thread
//! publishes every panel's aggregations here; a scrape renders the latest
//! ones (so at most one refresh interval old), with the panel's script as
//! the `program` label (`zones.d`, `vms.d`, `procs.d`, `console.d`).

use crate::error::TuiError;
use engine::metrics::{MetricSource, MetricsServer};
use engine::model::aggregation::Aggregation;
use std::sync::{Arc, Mutex};

/// One program's name and aggregations.
pub type Published = (String, Vec<Aggregation>);

/// The latest aggregations of every program, shared between the engine's
/// thread (which publishes) and the metrics thread (which renders).
#[derive(Clone, Default)]
pub struct MetricsStore(Arc<Mutex<Vec<Published>>>);

impl MetricsStore {
    /// Replace what scrapes see with `programs` (name, aggregations).
    pub fn publish(&self, programs: Vec<Published>) {
        // A panic elsewhere while holding the lock leaves data that is
        // still whole (it is replaced in one assignment): keep serving.
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = programs;
    }

    /// The Prometheus text of what was last published.
    pub fn render(&self) -> String {
        let programs = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let sources: Vec<MetricSource> = programs
            .iter()
            .map(|(program, aggregations)| MetricSource {
                program,
                aggregations,
            })
            .collect();
        engine::metrics::render(&sources)
    }
}

/// Serve `store` at `http://ADDR/metrics` until the server is dropped.
pub fn serve(addr: &str, store: MetricsStore) -> Result<MetricsServer, TuiError> {
    Ok(engine::metrics::serve(addr, move || store.render())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::counts;

    #[test]
    fn renders_the_last_published_programs() {
        let s = MetricsStore::default();
        assert_eq!(s.render(), "");
        let mut oncpu = counts("oncpu", &[("x", 3)]);
        oncpu.key_names = vec!["execname".into()];
        s.publish(vec![("procs.d".into(), vec![oncpu])]);
        let text = s.render();
        assert!(
            text.contains("dtrace_oncpu_total{program=\"procs.d\",execname=\"x\"} 3"),
            "{text}"
        );
    }
}
