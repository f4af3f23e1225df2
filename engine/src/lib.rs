//! Lumen's tracing runtime: the live probe catalogue and the dtrace(1) command.
//!
//! In: a dtrace(1) command line ([`command::run`]), called by the `lumen`
//! binary for `lumen dtrace …` or when installed as `dtrace`. The engine
//! builds a [`catalog::LiveCatalog`] from tracefs and the [`providers`],
//! hands D programs to `d_lang::compile`, and prints listings and DTrace's
//! messages. Out: text on stdout/stderr and an exit status. In DESIGN.md's
//! flow this is the box between d-lang and the kernel; loading, attaching
//! and consuming (running programs) are the next milestone.
//!
//! Read in this order: [`cli`] (what was typed) → [`command`] (what to do)
//! → [`catalog`] (probes, via [`tracefs`] and [`providers`]) → [`listing`],
//! [`cpp`], [`snippet`] (the pieces `command` uses).

#![warn(missing_docs)]

pub mod attach;
pub mod btf;
pub mod catalog;
pub mod cli;
pub mod command;
pub mod cpp;
pub mod error;
pub mod listing;
pub mod load;
pub mod print;
pub mod providers;
pub mod ringbuf;
pub mod run;
pub mod selfprobe;
pub mod snippet;
pub mod sys;
pub mod target;
pub mod tracefs;

pub use catalog::LiveCatalog;
pub use command::{run as dtrace_main, Console};
pub use error::DtraceError;
