//! DTrace's output formats: pure functions from decoded data to text.
//!
//! In: decoded records ([`Value`]s), parsed printf formats
//! (`d_lang::printf::Format`) and aggregation snapshots ([`Aggregation`]).
//! Out: text appended to a `String`, byte for byte as dtrace(1) prints it
//! (Oracle DTrace for Linux where it differs from illumos; see
//! D-REFERENCE.md). Called by the consumer; no I/O here.
//!
//! The data they print is [`crate::model`]'s. Read in this order:
//! [`probe_line`] (the record prefix) → [`trace`] (trace(), tracemem()) →
//! [`printf`] → [`distribution`] (quantize tables) → [`printa`] (entries,
//! printa() with and without a format, end of run); [`stack`] and `pad`
//! are the small pieces they share.

pub mod distribution;
mod pad;
pub mod printa;
pub mod printf;
pub mod probe_line;
pub mod stack;
pub mod trace;

pub use printa::{print_all, print_entries, print_formatted, print_joined};
pub use printf::{render, render_in, render_printa, AggArg, PrintfError, TimeZone};
