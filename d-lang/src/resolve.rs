//! Resolver (placeholder).
use crate::{ast, catalog::ProbeCatalog, diag::DResult, ir, CompileOptions};
/// Resolve and type-check.
pub fn resolve(_s: &ast::Script, _o: &CompileOptions, _c: &dyn ProbeCatalog) -> DResult<ir::Program> { Ok(ir::Program::default()) }
