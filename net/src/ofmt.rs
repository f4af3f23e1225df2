//! Crossbow's output formatter (illumos `libofmt`), which every `dladm
//! show-*` verb prints through: columns left-justified in fixed widths
//! (a width counts the blank after the value), a long value pushing the
//! rest of its row right and the next columns taking the overflow back;
//! the last column unpadded. Parsable output (`-p -o`) joins fields with
//! `:` and escapes `:` and `\` in values with `\` (not with one field).

/// A column: its name and width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The header, and the name `-o` selects it by.
    pub name: &'static str,
    /// Its width, the separating blank included.
    pub width: usize,
}

/// Rows under chosen columns.
#[derive(Debug, Clone)]
pub struct Table {
    fields: Vec<Field>,
    parsable: bool,
}

/// Why `-o` or `-p` were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfmtError {
    /// `-o` named a field the verb does not have.
    #[error("invalid output field '{0}'")]
    UnknownField(String),
    /// `-p` without `-o`, which Crossbow refuses so scripts never depend
    /// on the default columns.
    #[error("-p requires -o")]
    ParsableNeedsFields,
}

impl Table {
    /// A table of `all`'s fields named by `selection` (`-o`: comma
    /// separated, case-insensitive, `all` for every field), or `default`
    /// when there is none.
    pub fn new(
        all: &[Field],
        default: &[&str],
        selection: Option<&str>,
        parsable: bool,
    ) -> Result<Table, OfmtError> {
        if parsable && selection.is_none() {
            return Err(OfmtError::ParsableNeedsFields);
        }
        let names: Vec<String> = match selection {
            Some(s) if s.eq_ignore_ascii_case("all") => {
                all.iter().map(|f| f.name.to_string()).collect()
            }
            Some(s) => s.split(',').map(|n| n.trim().to_string()).collect(),
            None => default.iter().map(|n| n.to_string()).collect(),
        };
        let mut fields = Vec::new();
        for n in names {
            let f = all
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(&n))
                .ok_or_else(|| OfmtError::UnknownField(n.clone()))?;
            fields.push(*f);
        }
        Ok(Table { fields, parsable })
    }

    /// The chosen columns.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The header line (none when parsable), with its newline.
    pub fn header(&self) -> String {
        if self.parsable {
            return String::new();
        }
        let names: Vec<String> = self.fields.iter().map(|f| f.name.to_string()).collect();
        self.line(&names)
    }

    /// One row: `value` gives each chosen field's text.
    pub fn row(&self, value: impl Fn(&str) -> String) -> String {
        let values: Vec<String> = self.fields.iter().map(|f| value(f.name)).collect();
        self.line(&values)
    }

    fn line(&self, values: &[String]) -> String {
        let mut out = String::new();
        let n = self.fields.len();
        if self.parsable {
            for (i, v) in values.iter().enumerate() {
                if n == 1 {
                    out.push_str(v);
                } else {
                    for c in v.chars() {
                        if c == ':' || c == '\\' {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                }
                if i + 1 < n {
                    out.push(':');
                }
            }
            out.push('\n');
            return out;
        }
        let mut overflow = 0usize;
        for (i, (f, v)) in self.fields.iter().zip(values).enumerate() {
            if i + 1 == n {
                out.push_str(v);
                break;
            }
            let mut width = f.width;
            let len = v.chars().count();
            if len + overflow >= width {
                // What it took beyond its width; the next columns give it back.
                overflow = overflow + len + 1 - width;
                out.push_str(v);
                out.push(' ');
                continue;
            }
            if overflow > 0 {
                let compress = overflow.min(width - len);
                overflow -= compress;
                width -= compress;
            }
            out.push_str(&format!("{v:<width$}"));
        }
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &[Field] = &[
        Field {
            name: "LINK",
            width: 6,
        },
        Field {
            name: "OVER",
            width: 6,
        },
        Field {
            name: "VID",
            width: 4,
        },
    ];

    #[test]
    fn columns_pad_and_overflow_as_libofmt() {
        let t = Table::new(F, &["LINK", "OVER", "VID"], None, false).unwrap();
        assert_eq!(t.header(), "LINK  OVER  VID\n");
        assert_eq!(
            t.row(|f| match f {
                "LINK" => "a".into(),
                "OVER" => "b".into(),
                _ => "0".into(),
            }),
            "a     b     0\n"
        );
        // A long LINK pushes OVER right; OVER's slack takes it back.
        assert_eq!(
            t.row(|f| match f {
                "LINK" => "abcdefgh".into(),
                "OVER" => "b".into(),
                _ => "0".into(),
            }),
            "abcdefgh b  0\n"
        );
    }

    #[test]
    fn parsable_escapes_and_needs_fields() {
        assert_eq!(
            Table::new(F, &["LINK"], None, true)
                .unwrap_err()
                .to_string(),
            "-p requires -o"
        );
        let t = Table::new(F, &[], Some("link,vid"), true).unwrap();
        assert_eq!(t.header(), "");
        assert_eq!(
            t.row(|f| if f == "LINK" {
                "a:b\\c".into()
            } else {
                "7".into()
            }),
            "a\\:b\\\\c:7\n"
        );
        let one = Table::new(F, &[], Some("LINK"), true).unwrap();
        assert_eq!(one.row(|_| "2:8:20:1:2:3".into()), "2:8:20:1:2:3\n");
        assert_eq!(
            Table::new(F, &[], Some("LINK,NOPE"), false)
                .unwrap_err()
                .to_string(),
            "invalid output field 'NOPE'"
        );
        assert_eq!(
            Table::new(F, &[], Some("all"), false)
                .unwrap()
                .fields()
                .len(),
            3
        );
    }
}
