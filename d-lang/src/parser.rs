//! Parser (placeholder).
use crate::{ast, diag::DResult, CompileOptions};
/// Parse D source.
pub fn parse(_src: &str, _opts: &CompileOptions) -> DResult<ast::Script> { Ok(ast::Script {}) }
