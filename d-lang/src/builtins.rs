//! builtins (placeholder).
