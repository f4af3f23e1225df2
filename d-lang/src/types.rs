//! types (placeholder).
