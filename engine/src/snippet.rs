//! Caret snippets: the source line a compile error points at, for a terminal.
//!
//! ```text
//!     3 |     x = ;
//!       |         ^
//! ```

use d_lang::span::SourceMap;
use d_lang::Diagnostic;

/// The line `diag`'s span starts on, with carets under the span; `None`
/// without a span or when the span lies outside `source`.
pub fn caret_snippet(source: &str, diag: &Diagnostic) -> Option<String> {
    let span = diag.span?;
    if span.start > source.len() {
        return None;
    }
    let map = SourceMap::new(source);
    let line_no = map.line_of(span.start);
    let line = map.line_text(line_no);
    let column = map.column_of(span.start);
    // Keep tabs in the padding so the carets line up under tabbed code.
    let pad: String = line
        .chars()
        .take(column)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let rest = line.chars().count().saturating_sub(column);
    let width = source
        .get(span.start..span.end.min(source.len()))
        .map_or(1, |s| s.chars().take_while(|&c| c != '\n').count())
        .clamp(1, rest.max(1));
    let gutter = line_no.to_string();
    let blank = " ".repeat(gutter.len());
    Some(format!(
        "{gutter} | {line}\n{blank} | {pad}{}\n",
        "^".repeat(width)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use d_lang::span::Span;
    use d_lang::ErrTag;

    #[test]
    fn points_at_span() {
        let src = "BEGIN\n{\n\tx = ;\n}\n";
        let start = src.find(';').unwrap();
        let d = Diagnostic::new(
            ErrTag::D_SYNTAX,
            Some(Span::new(start, start + 1)),
            "syntax error",
        );
        assert_eq!(
            caret_snippet(src, &d).unwrap(),
            "3 | \tx = ;\n  | \t    ^\n"
        );
        let d = Diagnostic::new(ErrTag::D_SYNTAX, Some(Span::new(0, 5)), "x");
        assert_eq!(caret_snippet(src, &d).unwrap(), "1 | BEGIN\n  | ^^^^^\n");
        let end = Diagnostic::new(
            ErrTag::D_SYNTAX,
            Some(Span::new(src.len(), src.len())),
            "eof",
        );
        assert!(caret_snippet(src, &end).is_some());
        let none = Diagnostic::new(ErrTag::D_SYNTAX, None, "x");
        assert_eq!(caret_snippet(src, &none), None);
    }
}
