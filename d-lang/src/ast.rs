//! The syntax tree (placeholder while the parser lands).
/// A parsed D program.
#[derive(Debug, Clone, Default)]
pub struct Script {}
