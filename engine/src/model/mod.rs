//! The consumer's data model: what a record's fields and an aggregation's
//! keys decode to ([`value::Value`]), and aggregations as the consumer
//! holds them ([`aggregation`]: values, bucket layouts, merging across
//! CPUs, DTrace's sort order, trunc()). Built by the run
//! ([`crate::run`]), read by the printers ([`crate::print`]), the
//! Prometheus export ([`crate::metrics`]) and `lumen top`.

pub mod aggregation;
pub mod value;

pub use aggregation::{AggEntry, AggFunc, AggSortOptions, AggValue, Aggregation};
pub use value::Value;
