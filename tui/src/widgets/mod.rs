//! Widgets the panels share: a sortable, filterable table; a bar
//! histogram; a program's status line.

pub mod histogram;
pub mod status;
pub mod table;
