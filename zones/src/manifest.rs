//! A zone's manifest: SmartOS `vmadm` JSON. Every field is checked with
//! the JSON path of the offending value (`$.cpu_cap: expected a
//! non-negative integer, found "half"`); fields Lumen does not know are
//! kept, so `get` returns them, and reported as unsupported.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Why a manifest was refused: every problem found, each with its path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid manifest: {}", .problems.join("; "))]
pub struct ManifestError {
    /// `$.path: what is wrong`, in document order.
    pub problems: Vec<String>,
}

/// A zone brand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Brand {
    /// A full zone (`joyent`).
    Joyent,
    /// A minimal zone (`joyent-minimal`).
    JoyentMinimal,
}

impl Brand {
    /// The manifest's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Brand::Joyent => "joyent",
            Brand::JoyentMinimal => "joyent-minimal",
        }
    }
}

/// A checked manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The zone's UUID (generated when absent).
    pub uuid: String,
    /// Its alias.
    pub alias: Option<String>,
    /// Its hostname (the alias, else the UUID, when absent).
    pub hostname: Option<String>,
    /// Brand.
    pub brand: Brand,
    /// CPU cap, percent of one CPU (100 = one CPU).
    pub cpu_cap: Option<u64>,
    /// Relative CPU shares.
    pub cpu_shares: Option<u64>,
    /// Memory cap in MiB.
    pub max_physical_memory: Option<u64>,
    /// Most threads (LWPs).
    pub max_lwps: Option<u64>,
    /// Memory plus swap cap in MiB.
    pub max_swap: Option<u64>,
    /// Boot on `vmadm create` and when the node boots (SmartOS's default:
    /// true).
    pub autoboot: bool,
    /// Free-form metadata.
    pub customer_metadata: BTreeMap<String, String>,
    /// The zone's init: a program and arguments (`/sbin/init` when absent).
    pub init: Option<Vec<String>>,
    /// Fields Lumen does not know: kept as given.
    pub unsupported: Map<String, Value>,
}

/// Fields this manifest understands.
const KNOWN: &[&str] = &[
    "uuid",
    "alias",
    "hostname",
    "brand",
    "cpu_cap",
    "cpu_shares",
    "max_physical_memory",
    "max_lwps",
    "max_swap",
    "autoboot",
    "customer_metadata",
    "init",
    "command",
];

fn kind(v: &Value) -> String {
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
struct Check<'a> {
    obj: &'a Map<String, Value>,
    problems: Vec<String>,
}

impl Check<'_> {
    fn bad(&mut self, path: &str, want: &str, got: &Value) {
        self.problems
            .push(format!("$.{path}: expected {want}, found {}", kind(got)));
    }

    fn string(&mut self, key: &str) -> Option<String> {
        match self.obj.get(key)? {
            Value::String(s) => Some(s.clone()),
            v => {
                self.bad(key, "a string", v);
                None
            }
        }
    }

    fn uint(&mut self, key: &str, max: u64) -> Option<u64> {
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

    fn boolean(&mut self, key: &str) -> Option<bool> {
        match self.obj.get(key)? {
            Value::Bool(b) => Some(*b),
            v => {
                self.bad(key, "true or false", v);
                None
            }
        }
    }
}

fn valid_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

/// A hostname as RFC 1123 allows: labels of letters, digits and hyphens.
fn valid_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

impl Manifest {
    /// Check a manifest's JSON text.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let value: Value = serde_json::from_str(text).map_err(|e| ManifestError {
            problems: vec![format!(
                "$: not JSON: {e} (line {}, column {})",
                e.line(),
                e.column()
            )],
        })?;
        Manifest::from_value(&value)
    }

    /// Check a manifest's JSON value.
    pub fn from_value(value: &Value) -> Result<Manifest, ManifestError> {
        let Value::Object(obj) = value else {
            return Err(ManifestError {
                problems: vec![format!("$: expected an object, found {}", kind(value))],
            });
        };
        let mut c = Check {
            obj,
            problems: Vec::new(),
        };
        let uuid = match c.string("uuid") {
            Some(u) if valid_uuid(&u) => u.to_lowercase(),
            Some(u) => {
                c.problems.push(format!(
                    "$.uuid: {u:?} is not a UUID (8-4-4-4-12 hex digits)"
                ));
                String::new()
            }
            None => uuid::Uuid::new_v4().to_string(),
        };
        let alias = c.string("alias");
        let hostname = c.string("hostname");
        if let Some(h) = &hostname {
            if !valid_hostname(h) {
                c.problems
                    .push(format!("$.hostname: {h:?} is not a valid hostname"));
            }
        }
        let brand = match c.string("brand").as_deref() {
            None | Some("joyent") => Brand::Joyent,
            Some("joyent-minimal") => Brand::JoyentMinimal,
            Some(b) => {
                c.problems.push(format!(
                    "$.brand: {b:?} is not a zone brand (joyent, joyent-minimal; kvm comes with the hypervisor)"
                ));
                Brand::Joyent
            }
        };
        let cpu_cap = c.uint("cpu_cap", 100 * 1024);
        let cpu_shares = c.uint("cpu_shares", 1 << 20);
        let max_physical_memory = c.uint("max_physical_memory", 1 << 30);
        let max_lwps = c.uint("max_lwps", 1 << 22);
        let max_swap = c.uint("max_swap", 1 << 30);
        let autoboot = c.boolean("autoboot").unwrap_or(true);
        let mut customer_metadata = BTreeMap::new();
        match obj.get("customer_metadata") {
            None => {}
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    match v {
                        Value::String(s) => {
                            customer_metadata.insert(k.clone(), s.clone());
                        }
                        v => c.bad(&format!("customer_metadata.{k}"), "a string", v),
                    }
                }
            }
            Some(v) => c.bad("customer_metadata", "an object", v),
        }
        // `init` (SmartOS's init_name) or `command`: a string or an array of strings.
        let mut init = None;
        for key in ["init", "command"] {
            match obj.get(key) {
                None => {}
                Some(Value::String(s)) => {
                    init = Some(s.split_whitespace().map(String::from).collect::<Vec<_>>())
                }
                Some(Value::Array(items)) => {
                    let mut words = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        match item {
                            Value::String(s) => words.push(s.clone()),
                            v => c.bad(&format!("{key}[{i}]"), "a string", v),
                        }
                    }
                    init = Some(words);
                }
                Some(v) => c.bad(key, "a string or an array of strings", v),
            }
        }
        if init.as_ref().is_some_and(|w| w.is_empty()) {
            c.problems.push("$.init: the command is empty".into());
        }
        if let (Some(swap), Some(mem)) = (max_swap, max_physical_memory) {
            if swap < mem {
                c.problems.push(format!(
                    "$.max_swap: {swap} is less than max_physical_memory ({mem})"
                ));
            }
        }
        let unsupported: Map<String, Value> = obj
            .iter()
            .filter(|(k, _)| !KNOWN.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !c.problems.is_empty() {
            return Err(ManifestError {
                problems: c.problems,
            });
        }
        Ok(Manifest {
            uuid,
            alias,
            hostname,
            brand,
            cpu_cap,
            cpu_shares,
            max_physical_memory,
            max_lwps,
            max_swap,
            autoboot,
            customer_metadata,
            init,
            unsupported,
        })
    }

    /// The manifest as `vmadm get` prints it: the known fields that are
    /// set, then the unsupported ones as given.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("uuid".into(), self.uuid.clone().into());
        if let Some(a) = &self.alias {
            m.insert("alias".into(), a.clone().into());
        }
        if let Some(h) = &self.hostname {
            m.insert("hostname".into(), h.clone().into());
        }
        m.insert("brand".into(), self.brand.as_str().into());
        for (k, v) in [
            ("cpu_cap", self.cpu_cap),
            ("cpu_shares", self.cpu_shares),
            ("max_physical_memory", self.max_physical_memory),
            ("max_lwps", self.max_lwps),
            ("max_swap", self.max_swap),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), v.into());
            }
        }
        m.insert("autoboot".into(), self.autoboot.into());
        if !self.customer_metadata.is_empty() {
            let md: Map<String, Value> = self
                .customer_metadata
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().into()))
                .collect();
            m.insert("customer_metadata".into(), md.into());
        }
        if let Some(i) = &self.init {
            m.insert(
                "init".into(),
                Value::Array(i.iter().map(|w| w.clone().into()).collect()),
            );
        }
        for (k, v) in &self.unsupported {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }

    /// The names of the fields Lumen keeps but does not act on.
    pub fn unsupported_fields(&self) -> Vec<&str> {
        self.unsupported.keys().map(String::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_manifest() {
        let m = Manifest::parse(
            r#"{"uuid": "6A1D5B1E-0000-4000-8000-000000000001", "alias": "web0",
                "hostname": "web0.example", "brand": "joyent-minimal", "cpu_cap": 50,
                "max_physical_memory": 256, "max_swap": 512, "max_lwps": 200,
                "autoboot": true, "customer_metadata": {"role": "web"},
                "init": ["/bin/sh", "-c", "sleep 100"], "nics": [{"nic_tag": "admin"}]}"#,
        )
        .expect("valid");
        assert_eq!(m.uuid, "6a1d5b1e-0000-4000-8000-000000000001");
        assert_eq!(m.brand, Brand::JoyentMinimal);
        assert_eq!(m.cpu_cap, Some(50));
        assert_eq!(m.customer_metadata["role"], "web");
        assert_eq!(m.init.as_deref().map(<[String]>::len), Some(3));
        assert_eq!(m.unsupported_fields(), ["nics"]);
        // Round trip through `get`'s form.
        assert_eq!(Manifest::from_value(&m.to_value()).expect("again"), m);
    }

    #[test]
    fn a_uuid_is_made_when_absent() {
        let a = Manifest::parse("{}").expect("valid");
        let b = Manifest::parse("{}").expect("valid");
        assert!(valid_uuid(&a.uuid));
        assert_ne!(a.uuid, b.uuid);
        assert_eq!(a.brand, Brand::Joyent);
    }

    #[test]
    fn every_bad_field_is_named_by_its_path() {
        let e = Manifest::parse(
            r#"{"uuid": "nope", "cpu_cap": "half", "max_lwps": -1, "autoboot": "yes",
                "brand": "lx", "hostname": "bad_host", "customer_metadata": {"a": 1},
                "init": ["/bin/sh", 7], "max_physical_memory": 512, "max_swap": 256}"#,
        )
        .expect_err("invalid");
        assert_eq!(
            e.problems,
            [
                "$.uuid: \"nope\" is not a UUID (8-4-4-4-12 hex digits)",
                "$.hostname: \"bad_host\" is not a valid hostname",
                "$.brand: \"lx\" is not a zone brand (joyent, joyent-minimal; kvm comes with the hypervisor)",
                "$.cpu_cap: expected a non-negative integer, found \"half\"",
                "$.max_lwps: expected a non-negative integer, found -1",
                "$.autoboot: expected true or false, found \"yes\"",
                "$.customer_metadata.a: expected a string, found 1",
                "$.init[1]: expected a string, found 7",
                "$.max_swap: 256 is less than max_physical_memory (512)",
            ]
        );
    }

    #[test]
    fn not_json_or_not_an_object() {
        let e = Manifest::parse("{\"alias\": ").expect_err("bad");
        assert!(e.problems[0].starts_with("$: not JSON:"), "{e}");
        let e = Manifest::parse("[1]").expect_err("bad");
        assert_eq!(e.problems, ["$: expected an object, found an array"]);
    }
}
