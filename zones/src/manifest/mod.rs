//! A zone's manifest: SmartOS `vmadm` JSON. Every field is checked with
//! the JSON path of the offending value (`$.cpu_cap: expected a
//! non-negative integer, found "half"`); fields Lumen does not know are
//! kept, so `get` returns them, and reported as unsupported. A `kvm` VM's
//! fields are [`vm`]'s, the NICs [`nics`]'s; [`check`] is the checker
//! they share.

mod check;
mod nics;
mod vm;

use caps::{Capability, CapsHashSet};
use check::{kind, Check};
use nics::nic_specs;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use vm::vm_spec;

pub use nics::{NicSpec, ZONE_INTERFACE_MAX};
pub use vm::{DiskSpec, VmBoot, VmSpec, DEFAULT_VM_RAM, VMM_MEMORY_OVERHEAD, VM_FIELDS};

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
    /// A hardware VM: a zone whose init is Lumen's VMM (`kvm`).
    Kvm,
}

impl Brand {
    /// The manifest's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Brand::Joyent => "joyent",
            Brand::JoyentMinimal => "joyent-minimal",
            Brand::Kvm => "kvm",
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
    /// Size of the zone's `/tmp` in MiB (SmartOS's `tmpfs`; the memory
    /// cap when absent).
    pub tmpfs: Option<u64>,
    /// The privileges the zone's processes may hold (SmartOS's
    /// `limit_priv`, with Linux capability names: see
    /// [`crate::privileges`]); the brand's default when absent.
    pub limit_priv: Option<String>,
    /// Boot on `vmadm create` and when the node boots (SmartOS's default:
    /// true).
    pub autoboot: bool,
    /// Free-form metadata.
    pub customer_metadata: BTreeMap<String, String>,
    /// The zone's init: a program and arguments (`/sbin/init` when absent).
    pub init: Option<Vec<String>>,
    /// The image the zone's root is cloned from (`zones/IMAGE@final`).
    pub image_uuid: Option<String>,
    /// The zone dataset's quota in GiB (SmartOS's `quota`).
    pub quota: Option<u64>,
    /// Give the zone a dataset of its own, `zones/UUID/data`.
    pub delegate_dataset: bool,
    /// The VM of a `kvm`-brand zone.
    pub vm: Option<VmSpec>,
    /// An OS zone's NICs (a VM's are in [`VmSpec::nics`]).
    pub nics: Vec<NicSpec>,
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
    "tmpfs",
    "limit_priv",
    "autoboot",
    "customer_metadata",
    "init",
    "command",
    "image_uuid",
    "quota",
    "delegate_dataset",
];

/// A brand's default capabilities: Docker's for OS zones; for a `kvm`
/// VM, what its VMM needs (`net_admin` to make its taps, if it has NICs).
fn brand_privileges(brand: Brand, vm: Option<&VmSpec>) -> CapsHashSet {
    match brand {
        Brand::Kvm => vm
            .filter(|v| !v.nics.is_empty())
            .map(|_| Capability::CAP_NET_ADMIN)
            .into_iter()
            .collect(),
        _ => crate::privileges::DOCKER_DEFAULT.iter().copied().collect(),
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
        if let Some(a) = &alias {
            // `vmadm list` prints one zone a line, in columns.
            if a.is_empty() || a.len() > 255 || a.chars().any(char::is_control) {
                c.problems.push(format!(
                    "$.alias: {a:?} is not an alias (1 to 255 characters, none of them control characters)"
                ));
            }
        }
        let hostname = c.string("hostname");
        if let Some(h) = &hostname {
            if !valid_hostname(h) {
                c.problems.push(format!(
                    "$.hostname: {h:?} is not a valid hostname (RFC 1123: labels of letters, digits \
                     and inner hyphens, 63 characters each, 253 in all)"
                ));
            }
        }
        let brand = match c.string("brand").as_deref() {
            None | Some("joyent") => Brand::Joyent,
            Some("joyent-minimal") => Brand::JoyentMinimal,
            Some("kvm") => Brand::Kvm,
            Some(b) => {
                c.problems.push(format!(
                    "$.brand: {b:?} is not a brand Lumen has (joyent, joyent-minimal, kvm)"
                ));
                Brand::Joyent
            }
        };
        // An OS zone keeps a VM's fields as given, unsupported (SmartOS
        // zones have `nics` too; theirs come with vNICs).
        let vm = if brand == Brand::Kvm {
            vm_spec(&mut c, &uuid)
        } else {
            None
        };
        let nics = if brand == Brand::Kvm {
            Vec::new()
        } else {
            nic_specs(&mut c, &uuid, false)
        };
        let cpu_cap = c.uint("cpu_cap", 100 * 1024);
        let cpu_shares = c.uint("cpu_shares", 1 << 20);
        // A VM's memory cap covers its RAM and the VMM (SmartOS sizes it
        // from `ram` too).
        let max_physical_memory = c
            .uint("max_physical_memory", 1 << 30)
            .or_else(|| vm.as_ref().map(|v| v.ram + VMM_MEMORY_OVERHEAD));
        let max_lwps = c.uint("max_lwps", 1 << 22);
        let max_swap = c.uint("max_swap", 1 << 30);
        let tmpfs = c.uint("tmpfs", 1 << 30);
        // A cap of 0 stops the zone from running at all: refused, where
        // omitting the field means no cap.
        for (key, v) in [
            ("cpu_cap", cpu_cap),
            ("cpu_shares", cpu_shares),
            ("max_physical_memory", max_physical_memory),
            ("max_lwps", max_lwps),
            ("max_swap", max_swap),
            ("tmpfs", tmpfs),
        ] {
            if v == Some(0) {
                c.problems.push(format!(
                    "$.{key}: 0 would leave the zone nothing; omit the field for no cap"
                ));
            }
        }
        let limit_priv = c.string("limit_priv");
        if let Some(text) = &limit_priv {
            if let Err(e) =
                crate::privileges::parse_limit_priv(text, &brand_privileges(brand, vm.as_ref()))
            {
                c.problems.push(format!("$.limit_priv: {e}"));
            }
        }
        let autoboot = c.boolean("autoboot").unwrap_or(true);
        let image_uuid = c.string("image_uuid");
        if let Some(u) = &image_uuid {
            if !valid_uuid(u) {
                c.problems.push(format!(
                    "$.image_uuid: {u:?} is not a UUID (8-4-4-4-12 hex digits)"
                ));
            }
            if brand == Brand::Kvm {
                c.problems.push(
                    "$.image_uuid: a kvm VM's image goes on its disks (disks[].image_uuid)".into(),
                );
            }
        }
        let quota = c.uint("quota", 1 << 20);
        if quota == Some(0) {
            c.problems.push(
                "$.quota: 0 would leave the zone nothing; omit the field for no quota".into(),
            );
        }
        let delegate_dataset = c.boolean("delegate_dataset").unwrap_or(false);
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
        if brand == Brand::Kvm && init.is_some() {
            c.problems.push(
                "$.init: a kvm VM's init is the VMM; boot a kernel or payload instead".into(),
            );
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
            .filter(|(k, _)| {
                let vm_field = VM_FIELDS.contains(&k.as_str());
                !(KNOWN.contains(&k.as_str()) || vm_field)
                    || (vm.is_none() && vm_field && k.as_str() != "nics")
            })
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
            tmpfs,
            limit_priv,
            autoboot,
            customer_metadata,
            init,
            image_uuid: image_uuid.map(|u| u.to_lowercase()),
            quota,
            delegate_dataset,
            vm,
            nics,
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
            ("tmpfs", self.tmpfs),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), v.into());
            }
        }
        if let Some(l) = &self.limit_priv {
            m.insert("limit_priv".into(), l.clone().into());
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
        if let Some(u) = &self.image_uuid {
            m.insert("image_uuid".into(), u.clone().into());
        }
        if let Some(q) = self.quota {
            m.insert("quota".into(), q.into());
        }
        if self.delegate_dataset {
            m.insert("delegate_dataset".into(), true.into());
        }
        if let Some(vm) = &self.vm {
            vm.insert_into(&mut m);
        } else if !self.nics.is_empty() {
            m.insert(
                "nics".into(),
                Value::Array(self.nics.iter().map(|n| n.to_value(false)).collect()),
            );
        }
        for (k, v) in &self.unsupported {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }

    /// The capabilities the zone's processes may hold: the brand's
    /// default, changed by `limit_priv`.
    pub fn privileges(&self) -> CapsHashSet {
        let base = brand_privileges(self.brand, self.vm.as_ref());
        match &self.limit_priv {
            // Checked when the manifest was read.
            Some(text) => crate::privileges::parse_limit_priv(text, &base).unwrap_or(base),
            None => base,
        }
    }

    /// The zone's hostname: the manifest's, else its alias where that is
    /// a valid hostname, else its UUID.
    pub fn hostname(&self) -> String {
        self.hostname
            .clone()
            .or_else(|| self.alias.clone().filter(|a| valid_hostname(a)))
            .unwrap_or_else(|| self.uuid.clone())
    }

    /// Check the manifest against the host it is to run on: a VM's `ram`
    /// must fit in the host's memory (`host_mib`).
    pub fn check_host(&self, host_mib: u64) -> Result<(), ManifestError> {
        match &self.vm {
            Some(vm) if vm.ram > host_mib => Err(ManifestError {
                problems: vec![format!(
                    "$.ram: {} MiB is more than this host has ({host_mib} MiB)",
                    vm.ram
                )],
            }),
            _ => Ok(()),
        }
    }

    /// The zone's NICs, whatever its brand.
    pub fn all_nics(&self) -> &[NicSpec] {
        match &self.vm {
            Some(vm) => &vm.nics,
            None => &self.nics,
        }
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
        assert!(m.unsupported_fields().is_empty());
        assert_eq!(m.nics[0].nic_tag.as_deref(), Some("admin"));
        assert!(m.nics[0].primary);
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
                "$.hostname: \"bad_host\" is not a valid hostname (RFC 1123: labels of letters, digits and inner hyphens, 63 characters each, 253 in all)",
                "$.brand: \"lx\" is not a brand Lumen has (joyent, joyent-minimal, kvm)",
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

    #[test]
    fn a_kvm_vm_and_its_bad_fields() {
        let m = Manifest::parse(
            r#"{"brand": "kvm", "ram": 512, "vcpus": 2, "kernel": "/boot/vmlinuz", "initrd": "/boot/initrd",
                "boot_args": "console=ttyS0", "disks": [{"path": "/d.img", "model": "virtio", "cache": "none"}, {"size": 64}],
                "nics": [{"mac": "02:00:00:00:00:01"}, {"interface": "wan"}]}"#,
        )
        .unwrap();
        let vm = m.vm.as_ref().unwrap();
        assert_eq!(
            (vm.ram, vm.vcpus, m.max_physical_memory),
            (512, 2, Some(768))
        );
        assert_eq!(
            vm.boot,
            VmBoot::Kernel {
                kernel: "/boot/vmlinuz".into(),
                initrd: Some("/boot/initrd".into())
            }
        );
        assert_eq!(vm.nics[0].interface, "net0");
        assert_eq!(vm.nics[1].interface, "wan");
        assert_eq!(vm.disks[0].cache.as_deref(), Some("none"));
        assert_eq!(
            vm.disks[1],
            DiskSpec {
                path: None,
                size: Some(64),
                image_uuid: None,
                read_only: false,
                cache: None,
            }
        );
        // What `get` shows parses back to the same VM.
        let again = Manifest::from_value(&m.to_value()).unwrap();
        assert_eq!(again.vm, m.vm);
        assert!(m.unsupported.is_empty());

        let e = Manifest::parse(
            r#"{"brand": "kvm", "vcpus": 0, "disks": [{"model": "ide"}, 3],
                "nics": [{"mac": "zz"}], "init": "/sbin/init"}"#,
        )
        .expect_err("invalid");
        assert_eq!(
            e.problems,
            [
                "$.vcpus: a VM needs at least one vCPU",
                "$.kernel: a kvm VM needs a kernel (or a flat 64-bit payload)",
                "$.init: a kvm VM's init is the VMM; boot a kernel or payload instead",
            ]
        );
        let e = Manifest::parse(
            r#"{"brand": "kvm", "payload": "/p.bin", "disks": [{"model": "ide", "cache": "unsafe"}, 3],
                "nics": [{"mac": "zz"}]}"#,
        )
        .expect_err("invalid");
        assert_eq!(
            e.problems,
            [
                "$.disks[0].cache: \"unsafe\" is not a cache mode (none or writeback)",
                "$.disks[0].model: \"ide\" is not a disk model Lumen has (virtio)",
                "$.disks[0]: a disk needs a path, a size or an image_uuid",
                "$.disks[1]: expected an object, found 3",
                "$.nics[0].mac: \"zz\" is not a MAC address (six octets of hex digits separated by ':')",
            ]
        );
    }

    #[test]
    fn an_os_zone_keeps_vm_fields_as_unsupported() {
        let m = Manifest::parse(r#"{"nics": [{"nic_tag": "admin"}], "ram": 256}"#).unwrap();
        assert!(m.vm.is_none());
        assert_eq!(m.unsupported_fields(), ["ram"]);
    }
}
