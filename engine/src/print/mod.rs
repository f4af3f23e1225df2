//! DTrace's output formats: pure functions from decoded data to text.
//!
//! In: decoded records ([`Value`]s), parsed printf formats
//! (`d_lang::printf::Format`) and aggregation snapshots ([`Aggregation`]).
//! Out: text appended to a `String`, byte for byte as dtrace(1) prints it
//! (Oracle DTrace for Linux where it differs from illumos; see
//! D-REFERENCE.md). Called by the consumer; no I/O here.
//!
//! Read in this order: [`value`] (the data model) → [`probe_line`] (the
//! record prefix) → [`trace`] (trace(), tracemem()) → [`printf`] →
//! [`aggregate`] (sorting, default printa, quantize bars, formatted
//! printa); [`stack`] and `pad` are the small pieces they share.

// pub mod aggregate;
mod pad;
pub mod printf;
pub mod probe_line;
pub mod stack;
pub mod trace;
pub mod value;

// pub use aggregate::{AggEntry, AggFunc, AggSortOptions, AggValue, Aggregation};
pub use printf::{render, render_in, render_printa, AggArg, PrintfError, TimeZone};
pub use value::Value;
