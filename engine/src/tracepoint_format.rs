//! Tracepoint `format` files: the fields an event records, and the D argument types they give.
//!
//! A format file looks like this (`events/sched/sched_process_exec/format`):
//!
//! ```text
//! name: sched_process_exec
//! ID: 365
//! format:
//!     field:unsigned short common_type;    offset:0;    size:2;    signed:0;
//!     ...
//!     field:__data_loc char[] filename;    offset:8;    size:4;    signed:0;
//!     field:pid_t pid;    offset:12;    size:4;    signed:1;
//!
//! print fmt: "filename=%s pid=%d", __get_str(filename), REC->pid
//! ```
//!
//! Fields named `common_*` are the trace header every event shares; the
//! ones after them are the event's own and become `args[0]`, `args[1]`, ….

use d_lang::catalog::ProbeArg;

/// Why a format file could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// A `field:` line whose declaration has no field name.
    #[error("line {line}: cannot parse field declaration \"{decl}\"")]
    BadField {
        /// 1-based line in the format file.
        line: usize,
        /// The declaration text.
        decl: String,
    },
    /// No `format:` section at all.
    #[error("no format: section")]
    NoFormat,
}

/// How a field's bytes are stored in the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldStorage {
    /// Inline, `size` bytes at `offset`.
    Inline,
    /// `__data_loc`: a 32-bit (length << 16 | offset) pointing into the record.
    DataLoc,
    /// `__rel_loc`: like `__data_loc`, offset relative to the field's end.
    RelLoc,
}

/// One `field:` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field name, e.g. `prev_comm`.
    pub name: String,
    /// The C type as written, without the storage keyword or name:
    /// `char [16]`, `char *`, `char[]` (for `__data_loc char[]`).
    pub c_type: String,
    /// Inline or dynamic storage.
    pub storage: FieldStorage,
    /// Byte offset in the record.
    pub offset: u32,
    /// Size in bytes (of the descriptor, for dynamic fields).
    pub size: u32,
    /// Whether the kernel says the field is signed.
    pub signed: bool,
}

impl Field {
    /// Whether this is one of the shared trace-header fields.
    pub fn is_common(&self) -> bool {
        self.name.starts_with("common_")
    }

    /// The field as a probe argument: native type as written, D type with
    /// dynamic `char` arrays as `string`.
    pub fn to_probe_arg(&self) -> ProbeArg {
        let (native_type, d_type) = match self.storage {
            FieldStorage::Inline => (self.c_type.clone(), self.c_type.clone()),
            FieldStorage::DataLoc | FieldStorage::RelLoc => {
                let keyword = if self.storage == FieldStorage::DataLoc {
                    "__data_loc"
                } else {
                    "__rel_loc"
                };
                let elem = self.c_type.trim_end_matches("[]").trim_end();
                let d_type = if elem == "char" || elem == "const char" {
                    "string".to_string()
                } else {
                    format!("{elem} []")
                };
                (format!("{keyword} {}", self.c_type), d_type)
            }
        };
        ProbeArg {
            name: self.name.clone(),
            native_type,
            d_type,
        }
    }
}

/// A parsed format file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFormat {
    /// The `name:` line.
    pub name: String,
    /// The `ID:` line (the perf tracepoint id), 0 if absent.
    pub id: u32,
    /// Every field, common ones included, in record order.
    pub fields: Vec<Field>,
}

impl EventFormat {
    /// The event's own fields: those after the `common_*` header.
    pub fn event_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| !f.is_common())
    }
}

/// Parse the text of a tracefs `format` file.
pub fn parse_format(text: &str) -> Result<EventFormat, FormatError> {
    let mut name = String::new();
    let mut id = 0;
    let mut fields = Vec::new();
    let mut saw_format = false;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(rest) = line.strip_prefix("name:") {
            name = rest.trim().to_string();
        } else if let Some(rest) = line.strip_prefix("ID:") {
            id = rest.trim().parse().unwrap_or(0);
        } else if line.starts_with("format:") {
            saw_format = true;
        } else if line.starts_with("field:") {
            fields.push(parse_field_line(line, index + 1)?);
        } else if line.starts_with("print fmt:") {
            break;
        }
    }
    if !saw_format {
        return Err(FormatError::NoFormat);
    }
    Ok(EventFormat { name, id, fields })
}

/// Parse `field:DECL;\toffset:N;\tsize:N;\tsigned:N;`.
fn parse_field_line(line: &str, line_no: usize) -> Result<Field, FormatError> {
    let mut parts = line.split(';').map(str::trim);
    let decl = parts
        .next()
        .and_then(|d| d.strip_prefix("field:"))
        .unwrap_or("")
        .trim();
    let (mut offset, mut size, mut signed) = (0, 0, false);
    for part in parts {
        if let Some((key, value)) = part.split_once(':') {
            let value = value.trim();
            match key.trim() {
                "offset" => offset = value.parse().unwrap_or(0),
                "size" => size = value.parse().unwrap_or(0),
                "signed" => signed = value == "1",
                _ => {}
            }
        }
    }
    let bad = || FormatError::BadField {
        line: line_no,
        decl: decl.to_string(),
    };
    let (storage, decl_rest) = if let Some(rest) = decl.strip_prefix("__data_loc ") {
        (FieldStorage::DataLoc, rest.trim())
    } else if let Some(rest) = decl.strip_prefix("__rel_loc ") {
        (FieldStorage::RelLoc, rest.trim())
    } else {
        (FieldStorage::Inline, decl)
    };
    // An inline array keeps its bound after the name: `char comm[16]`.
    let (body, array) = match decl_rest.strip_suffix(']') {
        Some(before) if storage == FieldStorage::Inline => {
            let open = before.rfind('[').ok_or_else(bad)?;
            (before[..open].trim_end(), Some(&before[open + 1..]))
        }
        _ => (decl_rest, None),
    };
    let name_start = body
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let name = &body[name_start..];
    let type_text = body[..name_start].trim();
    if name.is_empty() || type_text.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(bad());
    }
    let mut c_type = normalize_type(type_text);
    if let Some(bound) = array {
        c_type = format!("{c_type} [{}]", bound.trim());
    }
    Ok(Field {
        name: name.to_string(),
        c_type,
        storage,
        offset,
        size,
        signed,
    })
}

/// Collapse blanks and write pointers as `char *`.
fn normalize_type(text: &str) -> String {
    let spaced = text.replace('*', " * ");
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 && !(*w == "*" && words[i - 1] == "*") {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYS_ENTER_READ: &str = "name: sys_enter_read
ID: 842
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:unsigned int fd;\toffset:16;\tsize:8;\tsigned:0;
\tfield:char * buf;\toffset:24;\tsize:8;\tsigned:0;
\tfield:size_t count;\toffset:32;\tsize:8;\tsigned:0;

print fmt: \"fd: 0x%08lx, buf: 0x%08lx, count: 0x%08lx\", ((unsigned long)(REC->fd)), ((unsigned long)(REC->buf)), ((unsigned long)(REC->count))
";

    const SCHED_SWITCH: &str = "name: sched_switch
ID: 372
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;
\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;
\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;
\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;
\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;
\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;
\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;

print fmt: \"prev_comm=%s prev_pid=%d\", REC->prev_comm, REC->prev_pid
";

    const SCHED_PROCESS_EXEC: &str = "name: sched_process_exec
ID: 365
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;
\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;
\tfield:pid_t old_pid;\toffset:16;\tsize:4;\tsigned:1;

print fmt: \"filename=%s pid=%d old_pid=%d\", __get_str(filename), REC->pid, REC->old_pid
";

    fn arg_types(text: &str) -> Vec<(String, String, String)> {
        parse_format(text)
            .unwrap()
            .event_fields()
            .map(|f| {
                let a = f.to_probe_arg();
                (a.name, a.native_type, a.d_type)
            })
            .collect()
    }

    #[test]
    fn sys_enter_read() {
        let f = parse_format(SYS_ENTER_READ).unwrap();
        assert_eq!(f.name, "sys_enter_read");
        assert_eq!(f.id, 842);
        assert_eq!(f.fields.len(), 8);
        let own: Vec<_> = f.event_fields().map(|f| f.name.as_str()).collect();
        assert_eq!(own, ["__syscall_nr", "fd", "buf", "count"]);
        let buf = &f.fields[6];
        assert_eq!(buf.c_type, "char *");
        assert_eq!((buf.offset, buf.size, buf.signed), (24, 8, false));
        assert_eq!(f.fields[5].c_type, "unsigned int");
    }

    #[test]
    fn sched_switch_arrays() {
        let args = arg_types(SCHED_SWITCH);
        assert_eq!(args.len(), 7);
        assert_eq!(
            args[0],
            ("prev_comm".into(), "char [16]".into(), "char [16]".into())
        );
        assert_eq!(args[1].1, "pid_t");
        assert_eq!(args[3].1, "long");
    }

    #[test]
    fn data_loc_strings() {
        let args = arg_types(SCHED_PROCESS_EXEC);
        assert_eq!(
            args[0],
            (
                "filename".into(),
                "__data_loc char[]".into(),
                "string".into()
            )
        );
        assert_eq!(args[2].0, "old_pid");
    }

    #[test]
    fn odd_declarations() {
        let f = parse_field_line(
            "field:__data_loc unsigned long[] ips;\toffset:8;\tsize:4;\tsigned:0;",
            1,
        )
        .unwrap();
        let a = f.to_probe_arg();
        assert_eq!(a.native_type, "__data_loc unsigned long[]");
        assert_eq!(a.d_type, "unsigned long []");
        let f =
            parse_field_line("field:const char *name;\toffset:8;\tsize:8;\tsigned:0;", 1).unwrap();
        assert_eq!(
            (f.name.as_str(), f.c_type.as_str()),
            ("name", "const char *")
        );
        let f = parse_field_line("field:u8 **pp;", 1).unwrap();
        assert_eq!(f.c_type, "u8 **");
        let f = parse_field_line("field:struct in6_addr saddr[4];", 1).unwrap();
        assert_eq!(f.c_type, "struct in6_addr [4]");
        assert!(parse_field_line("field:int;", 3).is_err());
        assert!(parse_field_line("field:char x]; size:1;", 3).is_err());
        assert_eq!(parse_format("name: x\n"), Err(FormatError::NoFormat));
    }
}
