//! A zone's NICs. At boot, between cloning the zone's init and letting
//! it run, the supervisor makes each NIC's vNIC (`net`), with its host
//! end `zN_net0` on the etherstub of the NIC's tag and its client end
//! created directly in the zone's network namespace as `net0`; then,
//! through a netlink socket opened in that namespace, it brings up `lo`
//! and the NICs and gives them their addresses and routes. All from the
//! host: the zone's root holds no `CAP_NET_ADMIN`, so it cannot change
//! its addresses (which anti-spoofing would drop anyway) or its caps.
//!
//! `N` is a number free on the host when the zone boots, as SmartOS's
//! zone id. The veth pairs go with the zone's namespace when it stops;
//! the supervisor removes them first, so `dladm` never shows them late.

use crate::manifest::NicSpec;

use net::netlink::{LinkChange, Netlink, Netns};
use net::props::Protection;
use net::vnic::{self, MacRequest, Placement, VnicProps, VnicRequest};
use net::{Cidr, MacAddr, NetError};
use std::net::IpAddr;
use std::os::fd::AsFd;
use std::path::Path;

/// A NIC ready to be made: its manifest entry and the link it goes over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NicPlan {
    /// Its index in `nics[]`.
    pub index: usize,
    /// The manifest's entry.
    pub spec: NicSpec,
    /// The etherstub or link of its nic tag.
    pub over: String,
}

/// Resolve the nic tags of `nics` (under registry root `root`): the link
/// of each, made again if it is a local tag's etherstub a reboot took.
pub fn plan(root: &Path, nics: &[NicSpec]) -> Result<Vec<NicPlan>, net::NetError> {
    if nics.iter().all(|n| n.nic_tag.is_none()) {
        return Ok(Vec::new());
    }
    let tags = net::nictag::NicTags::load(root)?;
    let mut nl = Netlink::open()?;
    let mut out = Vec::new();
    for (i, n) in nics.iter().enumerate() {
        let Some(tag) = &n.nic_tag else { continue };
        let over = tags.resolve(&mut nl, &format!("$.nics[{i}].nic_tag"), tag)?;
        out.push(NicPlan {
            index: i,
            spec: n.clone(),
            over,
        });
    }
    Ok(out)
}

/// The vNIC properties of a zone's NIC: SmartOS's protections, each on
/// unless the manifest allows it, with the NIC's own addresses (and its
/// `allowed_ips`) the sources it may use.
pub fn props(spec: &NicSpec) -> VnicProps {
    let mut allowed: Vec<Cidr> = Vec::new();
    for ip in &spec.ips {
        if let Ok(c) = Cidr::parse("ips", ip) {
            // The address itself, not its subnet.
            let full = if c.addr.is_ipv4() { 32 } else { 128 };
            allowed.push(Cidr {
                addr: c.addr,
                len: full,
            });
        }
    }
    allowed.extend(
        spec.allowed_ips
            .iter()
            .filter_map(|a| Cidr::parse("allowed_ips", a).ok()),
    );
    VnicProps {
        maxbw: None,
        protection: Protection {
            mac: !spec.allow_mac_spoofing,
            ip: !spec.allow_ip_spoofing,
            restricted: !spec.allow_restricted_traffic,
        },
        allowed_ips: allowed,
    }
}

/// The host-end name of NIC `interface` in the zone numbered `n`.
pub fn vnic_name(n: u32, interface: &str) -> String {
    format!("z{n}_{interface}")
}

/// The numbers zones' vNICs use now (`zN_…`).
fn numbers_in_use(nl: &mut Netlink) -> Result<Vec<u32>, NetError> {
    Ok(nl
        .links()?
        .into_iter()
        .filter_map(|l| {
            let rest = l.name.strip_prefix('z')?;
            rest.split_once('_')?.0.parse().ok()
        })
        .collect())
}

/// Enter zone `uuid` (D zone id `zoneid`), whose init is host pid `pid`,
/// in the zones' table of network namespaces, so the tracer names its
/// packets' and sockets' zone: the namespace's cookie.
pub fn register(uuid: &str, zoneid: u64, pid: i32) -> Result<u64, NetError> {
    let ns = netns_of(pid)?;
    net::zonemap::register(ns.as_fd(), zoneid, uuid)
}

fn netns_of(pid: i32) -> Result<std::fs::File, NetError> {
    std::fs::File::open(format!("/proc/{pid}/ns/net")).map_err(|e| NetError::Sys {
        call: format!("open /proc/{pid}/ns/net (the zone's network namespace)"),
        errno: net::error::Errno(e.raw_os_error().unwrap_or(0)),
    })
}

/// Give zone `uuid`, whose init is host pid `pid` (cloned, not yet
/// running), its NICs: the vNICs' names, or why not (nothing is left
/// made then).
pub fn setup(uuid: &str, pid: i32, nics: &[NicPlan]) -> Result<Vec<String>, NetError> {
    let ns = std::fs::File::open(format!("/proc/{pid}/ns/net")).map_err(|e| NetError::Sys {
        call: format!("open /proc/{pid}/ns/net (the zone's network namespace)"),
        errno: net::error::Errno(e.raw_os_error().unwrap_or(0)),
    })?;
    if nics.is_empty() {
        // Only `lo`: no host socket, no sweep (a zone without NICs boots
        // as fast as before).
        return configure(&mut Netlink::open_in(ns.as_fd())?, nics).map(|()| Vec::new());
    }
    let mut host = Netlink::open()?;
    vnic::sweep(&mut host)?;
    let mut made: Vec<String> = Vec::new();
    let r = (|| {
        made = make_vnics(&mut host, uuid, &ns, nics)?;
        let mut zone = Netlink::open_in(ns.as_fd())?;
        configure(&mut zone, nics)?;
        Ok(())
    })();
    match r {
        Ok(()) => Ok(made),
        Err(e) => {
            for name in &made {
                let _ = vnic::delete(&mut host, name, true);
            }
            Err(e)
        }
    }
}

/// Make vNIC `name` for `nic` inside the zone's network namespace `ns`:
/// its MAC the manifest's, or one derived from the zone and interface.
fn create_in_zone(
    host: &mut Netlink,
    uuid: &str,
    ns: &std::fs::File,
    name: &str,
    nic: &NicPlan,
) -> Result<(), NetError> {
    let mac = match &nic.spec.mac {
        Some(m) => MacRequest::Fixed(MacAddr::parse(&format!("$.nics[{}].mac", nic.index), m)?),
        None => MacRequest::Derived(format!("{uuid}/{}", nic.spec.interface)),
    };
    vnic::create(
        host,
        &VnicRequest {
            name,
            over: &nic.over,
            mac,
            vid: nic.spec.vlan_id,
            props: props(&nic.spec),
            placement: Placement::Zone {
                uuid,
                netns: Netns::Fd(ns.as_fd()),
                client: &nic.spec.interface,
            },
        },
    )
    .map(|_| ())
}

/// Make the vNICs, all under one free number.
fn make_vnics(
    host: &mut Netlink,
    uuid: &str,
    ns: &std::fs::File,
    nics: &[NicPlan],
) -> Result<Vec<String>, NetError> {
    let mut n = 0u32;
    let mut tries = 0;
    'numbers: loop {
        let used = numbers_in_use(host)?;
        while used.contains(&n) {
            n += 1;
        }
        let mut made = Vec::new();
        for nic in nics {
            let name = vnic_name(n, &nic.spec.interface);
            match create_in_zone(host, uuid, ns, &name, nic) {
                Ok(_) => made.push(name),
                // Another zone booting took the same number: next one.
                Err(NetError::Exists { .. }) if tries < 64 => {
                    for m in &made {
                        let _ = vnic::delete(host, m, true);
                    }
                    tries += 1;
                    n += 1;
                    continue 'numbers;
                }
                Err(e) => {
                    for m in &made {
                        let _ = vnic::delete(host, m, true);
                    }
                    return Err(e);
                }
            }
        }
        return Ok(made);
    }
}

/// A `kvm` zone's NICs: taps on the host's etherstubs, named `zN_net0`
/// as an OS zone's vNICs, with anti-spoofing for the guest's MAC and
/// addresses. Their descriptors, in `nics` order, for the VMM (a tap goes
/// when its last descriptor closes: nothing to tear down after the VM).
pub fn vm_taps(uuid: &str, nics: &[NicPlan]) -> Result<Vec<std::os::fd::OwnedFd>, NetError> {
    let mut host = Netlink::open()?;
    vnic::sweep(&mut host)?;
    let mut n = 0u32;
    for _ in 0..64 {
        let used = numbers_in_use(&mut host)?;
        while used.contains(&n) {
            n += 1;
        }
        let mut fds = Vec::new();
        let mut taken = false;
        for nic in nics {
            let name = vnic_name(n, &nic.spec.interface);
            let mac = match &nic.spec.mac {
                Some(m) => {
                    MacRequest::Fixed(MacAddr::parse(&format!("$.nics[{}].mac", nic.index), m)?)
                }
                None => MacRequest::Derived(format!("{uuid}/{}", nic.spec.interface)),
            };
            let req = VnicRequest {
                name: &name,
                over: &nic.over,
                mac,
                vid: nic.spec.vlan_id,
                props: props(&nic.spec),
                placement: Placement::Global,
            };
            match vnic::create_tap(&mut host, &req, uuid, &nic.spec.interface) {
                Ok((_, fd)) => fds.push(fd),
                Err(NetError::Exists { .. }) => {
                    taken = true;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        if !taken {
            return Ok(fds);
        }
        // Another zone booting took the number (the taps made go with fds).
        n += 1;
    }
    Err(NetError::Exists {
        what: "zone number for vNIC names",
        name: format!("z{n}_"),
    })
}

/// Inside the zone: `lo` and the NICs up, addresses, default routes
/// through the primary NIC's gateways.
fn configure(zone: &mut Netlink, nics: &[NicPlan]) -> Result<(), NetError> {
    let up = LinkChange {
        up: Some(true),
        ..LinkChange::default()
    };
    if let Some(lo) = zone.link("lo")? {
        zone.set_link(lo.index, &up)?;
    }
    for nic in nics {
        let l = zone
            .link(&nic.spec.interface)?
            .ok_or_else(|| NetError::NoSuchLink {
                what: "link in the zone",
                name: nic.spec.interface.clone(),
            })?;
        for (j, ip) in nic.spec.ips.iter().enumerate() {
            let c = Cidr::parse(&format!("$.nics[{}].ips[{j}]", nic.index), ip)?;
            zone.add_address(l.index, &c)?;
        }
        zone.set_link(l.index, &up)?;
    }
    for nic in nics.iter().filter(|n| n.spec.primary) {
        let l = zone.link(&nic.spec.interface)?;
        let mut families = Vec::new();
        for g in &nic.spec.gateways {
            let Ok(ip) = g.parse::<IpAddr>() else {
                continue;
            };
            // One default route per family: the first gateway of each.
            if families.contains(&ip.is_ipv4()) {
                continue;
            }
            families.push(ip.is_ipv4());
            zone.add_route(None, Some(ip), l.as_ref().map(|l| l.index))?;
        }
    }
    Ok(())
}

/// Remove zone `uuid`'s vNICs (host ends; their client ends go with
/// them) and what shaped them.
pub fn teardown(uuid: &str) -> Result<(), NetError> {
    let mut host = Netlink::open()?;
    for v in vnic::list(&mut host)? {
        if v.zone.as_deref() == Some(uuid) {
            vnic::delete(&mut host, &v.name, true)?;
        }
    }
    vnic::sweep(&mut host)
}

/// Add NICs to running zone `uuid` (init host pid `pid`), as `vmadm
/// update add_nics` does: made under the zone's number, if it has vNICs
/// already.
pub fn hot_add(uuid: &str, pid: i32, nics: &[NicPlan]) -> Result<Vec<String>, NetError> {
    let mut host = Netlink::open()?;
    let existing: Option<u32> = vnic::list(&mut host)?
        .into_iter()
        .filter(|v| v.zone.as_deref() == Some(uuid))
        .find_map(|v| v.name.strip_prefix('z')?.split_once('_')?.0.parse().ok());
    let Some(n) = existing else {
        return setup_numbered(uuid, pid, nics);
    };
    let ns = std::fs::File::open(format!("/proc/{pid}/ns/net")).map_err(|e| NetError::Sys {
        call: format!("open /proc/{pid}/ns/net"),
        errno: net::error::Errno(e.raw_os_error().unwrap_or(0)),
    })?;
    let mut made = Vec::new();
    for nic in nics {
        let name = vnic_name(n, &nic.spec.interface);
        match create_in_zone(&mut host, uuid, &ns, &name, nic) {
            Ok(_) => made.push(name),
            Err(e) => {
                for m in &made {
                    let _ = vnic::delete(&mut host, m, true);
                }
                return Err(e);
            }
        }
    }
    let mut zone = Netlink::open_in(ns.as_fd())?;
    if let Err(e) = configure(&mut zone, nics) {
        for m in &made {
            let _ = vnic::delete(&mut host, m, true);
        }
        return Err(e);
    }
    Ok(made)
}

fn setup_numbered(uuid: &str, pid: i32, nics: &[NicPlan]) -> Result<Vec<String>, NetError> {
    setup(uuid, pid, nics)
}

/// Remove the NICs named by `interfaces` from running zone `uuid`.
pub fn hot_remove(uuid: &str, interfaces: &[String]) -> Result<(), NetError> {
    let mut host = Netlink::open()?;
    for v in vnic::list(&mut host)? {
        if v.zone.as_deref() == Some(uuid) && interfaces.contains(&v.client) {
            vnic::delete(&mut host, &v.name, true)?;
        }
    }
    Ok(())
}

/// Apply `vmadm update`'s `add_nics`, `remove_nics` and `update_nics`
/// in `changes` to manifest object `m`'s `nics`. A NIC is named by its
/// MAC (as SmartOS does) or its interface.
pub fn merge_nic_changes(
    m: &mut serde_json::Map<String, serde_json::Value>,
    changes: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), crate::manifest::ManifestError> {
    use serde_json::Value;
    let bad = |p: String| crate::manifest::ManifestError { problems: vec![p] };
    let mut nics: Vec<Value> = match m.get("nics") {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    let same_mac = |a: &str, b: &str| match (MacAddr::parse("mac", a), MacAddr::parse("mac", b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    };
    let names = |nic: &Value, key: &str| -> bool {
        nic.get("interface").and_then(Value::as_str) == Some(key)
            || nic
                .get("mac")
                .and_then(Value::as_str)
                .is_some_and(|m| same_mac(m, key))
    };
    if let Some(v) = changes.get("remove_nics") {
        // An array, or (from `vmadm update UUID remove_nics=net1,net2`)
        // a comma-separated string.
        let keys: Vec<Value> = match v {
            Value::Array(a) => a.clone(),
            Value::String(s) => s
                .split(',')
                .map(|k| Value::String(k.trim().into()))
                .collect(),
            _ => {
                return Err(bad(
                    "$.remove_nics: expected an array of MACs or interfaces".into(),
                ))
            }
        };
        for (i, k) in keys.iter().enumerate() {
            let Some(k) = k.as_str() else {
                return Err(bad(format!(
                    "$.remove_nics[{i}]: expected a MAC or an interface"
                )));
            };
            let before = nics.len();
            nics.retain(|n| !names(n, k));
            if nics.len() == before {
                return Err(bad(format!(
                    "$.remove_nics[{i}]: {k:?} is not a NIC of this zone"
                )));
            }
        }
    }
    if let Some(v) = changes.get("update_nics") {
        let Value::Array(updates) = v else {
            return Err(bad("$.update_nics: expected an array of NICs".into()));
        };
        for (i, u) in updates.iter().enumerate() {
            let key = u
                .get("mac")
                .or_else(|| u.get("interface"))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    bad(format!(
                        "$.update_nics[{i}]: names no NIC (mac or interface)"
                    ))
                })?;
            let nic = nics.iter_mut().find(|n| names(n, key)).ok_or_else(|| {
                bad(format!(
                    "$.update_nics[{i}]: {key:?} is not a NIC of this zone"
                ))
            })?;
            if let (Value::Object(n), Value::Object(u)) = (nic, u) {
                for (k, v) in u {
                    n.insert(k.clone(), v.clone());
                }
            }
        }
    }
    if let Some(v) = changes.get("add_nics") {
        let Value::Array(added) = v else {
            return Err(bad("$.add_nics: expected an array of NICs".into()));
        };
        for a in added {
            let mut a = a.clone();
            // A new NIC's default name follows the others'.
            if let Value::Object(o) = &mut a {
                if !o.contains_key("interface") {
                    let taken = |i: usize| nics.iter().any(|n| names(n, &format!("net{i}")));
                    let free = (0..).find(|i| !taken(*i)).unwrap_or(0);
                    o.insert("interface".into(), format!("net{free}").into());
                }
            }
            nics.push(a);
        }
    }
    if changes.keys().any(|k| k.ends_with("_nics")) {
        m.insert("nics".into(), Value::Array(nics));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nics_protection_follows_its_allowances() {
        let mut n = NicSpec::new("net0");
        n.ips = vec!["192.0.2.10/24".into(), "2001:db8::a/64".into()];
        n.allowed_ips = vec!["198.51.100.0/24".into()];
        let p = props(&n);
        assert_eq!(p.protection, Protection::ALL);
        let ips: Vec<String> = p.allowed_ips.iter().map(|c| c.to_string()).collect();
        assert_eq!(ips, ["192.0.2.10/32", "2001:db8::a/128", "198.51.100.0/24"]);
        n.allow_ip_spoofing = true;
        n.allow_restricted_traffic = true;
        let p = props(&n);
        assert!(p.protection.mac && !p.protection.ip && !p.protection.restricted);
        assert_eq!(vnic_name(3, "net0"), "z3_net0");
    }

    #[test]
    fn nic_changes_name_nics_by_mac_or_interface() {
        let mut m = serde_json::json!({"nics": [
            {"interface": "net0", "mac": "02:08:20:00:00:01", "nic_tag": "a"},
            {"interface": "net1", "mac": "02:08:20:00:00:02", "nic_tag": "a"}]});
        let m = m.as_object_mut().unwrap();
        let ch = serde_json::json!({"remove_nics": ["2:8:20:0:0:1"],
            "add_nics": [{"nic_tag": "b"}], "update_nics": [{"interface": "net1", "vlan_id": 4}]});
        merge_nic_changes(m, ch.as_object().unwrap()).unwrap();
        let nics = m["nics"].as_array().unwrap();
        assert_eq!(nics.len(), 2);
        assert_eq!(nics[0]["vlan_id"], 4);
        assert_eq!(nics[1]["interface"], "net0");
        let ch = serde_json::json!({"remove_nics": ["net7"]});
        let e = merge_nic_changes(m, ch.as_object().unwrap()).unwrap_err();
        assert_eq!(
            e.problems,
            ["$.remove_nics[0]: \"net7\" is not a NIC of this zone"]
        );
    }
}
