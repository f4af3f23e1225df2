//! Byte spans into D source text, and the line numbers diagnostics report.

/// A half-open byte range `[start, end)` in the source being compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// Source text plus where it came from, so a byte offset can become `line N`.
#[derive(Debug, Clone)]
pub struct SourceMap<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> SourceMap<'a> {
    /// Index the line starts of `text`.
    pub fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceMap { text, line_starts }
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// The text of 1-based line `line`, without its newline.
    pub fn line_text(&self, line: usize) -> &'a str {
        let Some(&start) = self.line_starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line)
            .map(|e| e - 1)
            .unwrap_or(self.text.len());
        &self.text[start..end.max(start)]
    }

    /// 0-based column (in characters) of a byte offset on its line.
    pub fn column_of(&self, offset: usize) -> usize {
        let line = self.line_of(offset);
        let start = self.line_starts[line - 1];
        let end = offset.min(self.text.len());
        self.text.get(start..end).map_or(0, |s| s.chars().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let m = SourceMap::new("ab\ncd\n\nef");
        assert_eq!(m.line_of(0), 1);
        assert_eq!(m.line_of(2), 1);
        assert_eq!(m.line_of(3), 2);
        assert_eq!(m.line_of(6), 3);
        assert_eq!(m.line_of(7), 4);
        assert_eq!(m.line_text(2), "cd");
        assert_eq!(m.line_text(3), "");
        assert_eq!(m.line_text(4), "ef");
        assert_eq!(m.column_of(4), 1);
    }
}
