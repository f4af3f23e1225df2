//! Lumen's tracing runtime: the live probe catalogue, the dtrace(1) command,
//! and running D programs in the kernel.
//!
//! In: a dtrace(1) command line ([`command::run`]), called by the `lumen`
//! binary for `lumen dtrace …` or when installed as `dtrace`. The engine
//! builds a [`catalog::LiveCatalog`] from tracefs and the [`providers`],
//! hands D programs to `d_lang::compile` and `d_lang::codegen::generate`
//! (with [`target::Targets`] saying how each probe runs), loads and attaches
//! the programs ([`run::instance`], [`attach`]), consumes the ring buffer and
//! aggregation maps ([`run::session`]) and prints in DTrace's formats
//! ([`print`]). Out: text on stdout/stderr and an exit status. In
//! DESIGN.md's flow this is the box between d-lang and the kernel.
//!
//! Read in this order: [`cli`] (what was typed) → [`command`] (what to do)
//! → [`catalog`] (probes, via [`tracefs`] and [`providers`]) → [`target`]
//! → [`run`] (instance → session, with [`sys`] for every syscall) →
//! [`print`]. [`listing`], [`cpp`], [`snippet`] and [`btf`] are pieces
//! `command` and `target` use.

#![warn(missing_docs)]

pub mod attach;
pub mod backend;
pub mod btf;
pub mod catalog;
pub mod cli;
pub mod command;
pub mod cpp;
pub mod error;
pub mod listing;
pub mod live;
pub mod load;
pub mod metrics;
pub mod model;
pub mod print;
pub mod program;
pub mod provider_files;
pub mod providers;
pub mod ringbuf;
pub mod run;
pub mod sdt_notes;
pub mod selfprobe;
pub mod snippet;
pub mod symbols;
pub mod sys;
pub mod target;
pub mod tracefs;
pub mod tracepoint_format;
pub mod user;

pub use catalog::LiveCatalog;
pub use command::{run as dtrace_main, Console};
pub use error::DtraceError;
