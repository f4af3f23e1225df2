//! printf (placeholder).
