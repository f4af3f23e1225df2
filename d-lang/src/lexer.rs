//! Lexer (placeholder).
/// File and line of a byte offset.
pub fn line_of(src: &str, offset: usize) -> (Option<String>, usize) { (None, crate::span::SourceMap::new(src).line_of(offset)) }
