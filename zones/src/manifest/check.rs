//! The checker every part of a manifest is read with: it collects each
//! problem with the JSON path of the value at fault.

use serde_json::{Map, Value};

/// How a value is named in a problem (`"half"`, `an array`).
pub(super) fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// A checker collecting problems with their paths.
pub(super) struct Check<'a> {
    pub(super) obj: &'a Map<String, Value>,
    pub(super) problems: Vec<String>,
}

impl Check<'_> {
    pub(super) fn bad(&mut self, path: &str, want: &str, got: &Value) {
        self.problems
            .push(format!("$.{path}: expected {want}, found {}", kind(got)));
    }

    pub(super) fn string(&mut self, key: &str) -> Option<String> {
        match self.obj.get(key)? {
            Value::String(s) => Some(s.clone()),
            v => {
                self.bad(key, "a string", v);
                None
            }
        }
    }

    pub(super) fn uint(&mut self, key: &str, max: u64) -> Option<u64> {
        let v = self.obj.get(key)?;
        match v.as_u64() {
            Some(n) if n <= max => Some(n),
            Some(_) => {
                self.problems
                    .push(format!("$.{key}: {} is more than {max}", kind(v)));
                None
            }
            None => {
                self.bad(key, "a non-negative integer", v);
                None
            }
        }
    }

    /// The array at `key` (empty when absent; a problem when not an array).
    pub(super) fn array(&mut self, key: &str) -> Vec<Value> {
        match self.obj.get(key) {
            None => Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(v) => {
                self.bad(key, "an array", v);
                Vec::new()
            }
        }
    }

    /// `v` (at path `at`) as an object.
    pub(super) fn object<'v>(&mut self, at: &str, v: &'v Value) -> Option<&'v Map<String, Value>> {
        match v {
            Value::Object(o) => Some(o),
            v => {
                self.bad(at, "an object", v);
                None
            }
        }
    }

    /// Problems of a nested object (`$.key: …`), re-rooted at `at`.
    pub(super) fn nested(&mut self, at: &str, problems: Vec<String>) {
        for p in problems {
            let rest = p.strip_prefix('$').unwrap_or(&p);
            let rest = rest
                .strip_prefix(':')
                .map_or(rest.to_string(), |r| format!(":{r}"));
            self.problems.push(format!("$.{at}{rest}"));
        }
    }

    pub(super) fn boolean(&mut self, key: &str) -> Option<bool> {
        match self.obj.get(key)? {
            Value::Bool(b) => Some(*b),
            v => {
                self.bad(key, "true or false", v);
                None
            }
        }
    }
}
