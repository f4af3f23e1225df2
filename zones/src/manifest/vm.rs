//! A `kvm` VM's fields: RAM, vCPUs, what boots, disks and NICs, checked
//! by their JSON paths.

use super::check::Check;
use super::nics::{nic_specs, NicSpec};
use serde_json::{Map, Value};

/// What a `kvm`-brand zone runs (no firmware: the VMM loads the kernel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmSpec {
    /// Guest RAM in MiB.
    pub ram: u64,
    /// Number of vCPUs.
    pub vcpus: u64,
    /// What boots.
    pub boot: VmBoot,
    /// The kernel (or payload) command line.
    pub boot_args: String,
    /// virtio block devices, in order.
    pub disks: Vec<DiskSpec>,
    /// virtio network devices, in order.
    pub nics: Vec<NicSpec>,
}

/// A VM's boot image: a Linux kernel (and initrd), or a flat 64-bit payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VmBoot {
    Kernel {
        kernel: String,
        initrd: Option<String>,
    },
    Payload {
        payload: String,
    },
}

/// One disk: an image file (`path`), or one of `size` MiB that `vmadm`
/// creates in the zone's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskSpec {
    pub path: Option<String>,
    pub size: Option<u64>,
    /// A `zvol` image the disk is cloned from.
    pub image_uuid: Option<String>,
    pub read_only: bool,
    /// `none` (QEMU's `cache=none`: the VMM reads and writes the image
    /// `O_DIRECT`) or `writeback` (through the host's page cache, the
    /// default).
    pub cache: Option<String>,
}

/// Guest RAM of a `kvm` VM when the manifest has none (MiB), as SmartOS's default.
pub const DEFAULT_VM_RAM: u64 = 256;
/// What the VMM itself may use beyond guest RAM (MiB): `max_physical_memory`
/// of a VM defaults to `ram` plus this.
pub const VMM_MEMORY_OVERHEAD: u64 = 256;

/// Fields only a `kvm` VM has (known too, for that brand).
pub const VM_FIELDS: &[&str] = &[
    "ram",
    "vcpus",
    "kernel",
    "initrd",
    "payload",
    "boot_args",
    "disks",
    "nics",
];

/// The VM fields of a `kvm` manifest (zone `uuid`).
pub(super) fn vm_spec(c: &mut Check, uuid: &str) -> Option<VmSpec> {
    let ram = c.uint("ram", 1 << 20).unwrap_or(DEFAULT_VM_RAM);
    if ram < 2 {
        c.problems
            .push(format!("$.ram: {ram} MiB is too little (at least 2)"));
    }
    let vcpus = c.uint("vcpus", 64).unwrap_or(1);
    if vcpus == 0 {
        c.problems
            .push("$.vcpus: a VM needs at least one vCPU".into());
    }
    let kernel = c.string("kernel");
    let initrd = c.string("initrd");
    let payload = c.string("payload");
    let boot_args = c.string("boot_args").unwrap_or_default();
    let boot = match (kernel, payload) {
        (Some(kernel), None) => VmBoot::Kernel { kernel, initrd },
        (None, Some(payload)) => {
            if initrd.is_some() {
                c.problems
                    .push("$.initrd: a payload boots without an initrd".into());
            }
            VmBoot::Payload { payload }
        }
        (Some(_), Some(_)) => {
            c.problems
                .push("$.payload: give kernel or payload, not both".into());
            return None;
        }
        (None, None) => {
            c.problems
                .push("$.kernel: a kvm VM needs a kernel (or a flat 64-bit payload)".into());
            return None;
        }
    };
    let mut disks = Vec::new();
    for (i, d) in c.array("disks").iter().enumerate() {
        let at = format!("disks[{i}]");
        let Some(obj) = c.object(&at, d) else {
            continue;
        };
        let mut dc = Check {
            obj,
            problems: Vec::new(),
        };
        let path = dc.string("path");
        let size = dc.uint("size", 1 << 24);
        let image_uuid = dc.string("image_uuid");
        if let Some(u) = &image_uuid {
            if !super::valid_uuid(u) {
                dc.problems.push(format!(
                    "$.image_uuid: {u:?} is not a UUID (8-4-4-4-12 hex digits)"
                ));
            }
        }
        let read_only = dc.boolean("read_only").unwrap_or(false);
        let cache = dc.string("cache");
        match cache.as_deref() {
            None | Some("none") | Some("writeback") => {}
            Some(m) => dc.problems.push(format!(
                "$.cache: {m:?} is not a cache mode (none or writeback)"
            )),
        }
        match dc.string("model").as_deref() {
            None | Some("virtio") => {}
            Some(m) => dc.problems.push(format!(
                "$.model: {m:?} is not a disk model Lumen has (virtio)"
            )),
        }
        if path.is_none() && size.is_none() && image_uuid.is_none() {
            dc.problems
                .push("$: a disk needs a path, a size or an image_uuid".into());
        }
        if path.is_some() && image_uuid.is_some() {
            dc.problems
                .push("$.image_uuid: a disk is a path or an image's clone, not both".into());
        }
        c.nested(&at, dc.problems);
        disks.push(DiskSpec {
            path,
            size,
            image_uuid: image_uuid.map(|u| u.to_lowercase()),
            read_only,
            cache,
        });
    }
    let nics = nic_specs(c, uuid, true);
    if disks.len() + nics.len() > 8 {
        c.problems.push(format!(
            "$.disks: {} disks and nics; a VM has at most 8",
            disks.len() + nics.len()
        ));
    }
    Some(VmSpec {
        ram,
        vcpus,
        boot,
        boot_args,
        disks,
        nics,
    })
}

impl VmSpec {
    /// Put the VM's fields into a manifest object, as `vmadm get` shows them.
    pub(super) fn insert_into(&self, m: &mut Map<String, Value>) {
        m.insert("ram".into(), self.ram.into());
        m.insert("vcpus".into(), self.vcpus.into());
        match &self.boot {
            VmBoot::Kernel { kernel, initrd } => {
                m.insert("kernel".into(), kernel.clone().into());
                if let Some(i) = initrd {
                    m.insert("initrd".into(), i.clone().into());
                }
            }
            VmBoot::Payload { payload } => {
                m.insert("payload".into(), payload.clone().into());
            }
        }
        m.insert("boot_args".into(), self.boot_args.clone().into());
        let disks: Vec<Value> = self
            .disks
            .iter()
            .map(|d| {
                let mut o = Map::new();
                if let Some(p) = &d.path {
                    o.insert("path".into(), p.clone().into());
                }
                if let Some(s) = d.size {
                    o.insert("size".into(), s.into());
                }
                if let Some(u) = &d.image_uuid {
                    o.insert("image_uuid".into(), u.clone().into());
                }
                o.insert("model".into(), "virtio".into());
                if d.read_only {
                    o.insert("read_only".into(), true.into());
                }
                if let Some(c) = &d.cache {
                    o.insert("cache".into(), c.clone().into());
                }
                Value::Object(o)
            })
            .collect();
        m.insert("disks".into(), disks.into());
        let nics: Vec<Value> = self.nics.iter().map(|n| n.to_value(true)).collect();
        m.insert("nics".into(), nics.into());
    }
}
