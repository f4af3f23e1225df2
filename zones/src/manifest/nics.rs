//! NICs (SmartOS's `nics[]`): a zone's vNICs or a VM's taps, each field
//! checked by its JSON path.

use super::check::{kind, Check};
use serde_json::{Map, Value};

/// One NIC (SmartOS's `nics[]`). In an OS zone: a vNIC over the link
/// of `nic_tag`, seen in the zone as `interface` with `ips` and a default
/// route through the primary NIC's gateway, set before the zone's init
/// runs. In a `kvm` VM: a tap, on the link of `nic_tag` when there is
/// one (else a tap of the zone's own, `interface`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NicSpec {
    /// Its name in the zone (`net0`… by default).
    pub interface: String,
    /// The nic tag whose link it goes over.
    pub nic_tag: Option<String>,
    /// Its MAC (`xx:xx:xx:xx:xx:xx`); one derived from the zone's UUID
    /// and the interface when the manifest has none, so it is the same
    /// on every boot, as the MAC vmadm picks once.
    pub mac: Option<String>,
    /// Addresses with prefixes (`192.0.2.10/24`).
    pub ips: Vec<String>,
    /// Gateways; the primary NIC's give the default routes.
    pub gateways: Vec<String>,
    /// VLAN id (0: none).
    pub vlan_id: u16,
    /// The NIC whose gateways are the zone's default routes (the first,
    /// when none says so).
    pub primary: bool,
    /// Let the zone send from addresses it was not given.
    pub allow_ip_spoofing: bool,
    /// Let the zone send from other MACs.
    pub allow_mac_spoofing: bool,
    /// Let the zone send frames other than IPv4, IPv6 and ARP.
    pub allow_restricted_traffic: bool,
    /// Addresses the zone may also send from (besides `ips`).
    pub allowed_ips: Vec<String>,
}

impl NicSpec {
    /// A NIC of `interface` with nothing else set.
    pub fn new(interface: &str) -> NicSpec {
        NicSpec {
            interface: interface.into(),
            nic_tag: None,
            mac: None,
            ips: Vec::new(),
            gateways: Vec::new(),
            vlan_id: 0,
            primary: false,
            allow_ip_spoofing: false,
            allow_mac_spoofing: false,
            allow_restricted_traffic: false,
            allowed_ips: Vec::new(),
        }
    }

    /// The NIC as `vmadm get` shows it.
    pub fn to_value(&self, vm: bool) -> Value {
        let mut o = Map::new();
        o.insert("interface".into(), self.interface.clone().into());
        if let Some(t) = &self.nic_tag {
            o.insert("nic_tag".into(), t.clone().into());
        }
        if let Some(mac) = &self.mac {
            o.insert("mac".into(), mac.clone().into());
        }
        let strings = |v: &[String]| Value::Array(v.iter().map(|s| s.clone().into()).collect());
        if !self.ips.is_empty() {
            o.insert("ips".into(), strings(&self.ips));
        }
        if !self.gateways.is_empty() {
            o.insert("gateways".into(), strings(&self.gateways));
        }
        if self.vlan_id != 0 {
            o.insert("vlan_id".into(), self.vlan_id.into());
        }
        if self.primary {
            o.insert("primary".into(), true.into());
        }
        for (k, v) in [
            ("allow_ip_spoofing", self.allow_ip_spoofing),
            ("allow_mac_spoofing", self.allow_mac_spoofing),
            ("allow_restricted_traffic", self.allow_restricted_traffic),
        ] {
            if v {
                o.insert(k.into(), true.into());
            }
        }
        if !self.allowed_ips.is_empty() {
            o.insert("allowed_ips".into(), strings(&self.allowed_ips));
        }
        if vm {
            o.insert("model".into(), "virtio".into());
        }
        Value::Object(o)
    }
}

/// The longest `interface` of an OS zone's NIC: its host end is named
/// `zN_INTERFACE` within a vNIC's 13 characters.
pub const ZONE_INTERFACE_MAX: usize = 8;

/// Check `nics` (at JSON path `$.nics`) of zone `uuid`; `vm`: a kvm VM's.
pub(super) fn nic_specs(c: &mut Check, uuid: &str, vm: bool) -> Vec<NicSpec> {
    let mut nics: Vec<NicSpec> = Vec::new();
    for (i, n) in c.array("nics").iter().enumerate() {
        let at = format!("nics[{i}]");
        let Some(obj) = c.object(&at, n) else {
            continue;
        };
        let mut nc = Check {
            obj,
            problems: Vec::new(),
        };
        let interface = nc.string("interface").unwrap_or_else(|| format!("net{i}"));
        let max = if vm { 15 } else { ZONE_INTERFACE_MAX };
        if interface.is_empty()
            || interface.len() > max
            || !interface
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            || interface == "lo"
        {
            nc.problems.push(format!(
                "$.interface: {interface:?} is not an interface name (1-{max} letters, digits, '_' or '-')"
            ));
        }
        if nics.iter().any(|n| n.interface == interface) {
            nc.problems.push(format!(
                "$.interface: {interface:?} is the name of another NIC"
            ));
        }
        let mut nic = NicSpec::new(&interface);
        nic.nic_tag = nc.string("nic_tag");
        if let Some(t) = &nic.nic_tag {
            if let Err(e) = net::nictag::check_tag("$.nic_tag", t) {
                nc.problems.push(e.to_string());
            }
        } else if !vm {
            nc.problems.push(
                "$.nic_tag: a zone's NIC needs the nic tag of the link it goes over                  (lumen nictagadm list)"
                    .into(),
            );
        }
        nic.mac = match nc.string("mac") {
            Some(m) => match net::MacAddr::parse("$.mac", &m) {
                Ok(mac) => Some(mac.padded()),
                Err(e) => {
                    nc.problems.push(e.to_string());
                    None
                }
            },
            None => Some(net::MacAddr::derived(&format!("{uuid}/{interface}")).padded()),
        };
        let strings = |nc: &mut Check, key: &str| -> Vec<String> {
            let mut out = Vec::new();
            for (j, v) in nc.array(key).iter().enumerate() {
                match v {
                    Value::String(s) => out.push(s.clone()),
                    v => nc.bad(&format!("{key}[{j}]"), "a string", v),
                }
            }
            out
        };
        nic.ips = strings(&mut nc, "ips");
        for (j, ip) in nic.ips.iter().enumerate() {
            let field = format!("$.ips[{j}]");
            if ip == "dhcp" || ip == "addrconf" {
                nc.problems.push(format!(
                    "{field}: {ip:?}: Lumen does not configure addresses dynamically; give                      each address with its prefix (192.0.2.10/24)"
                ));
            } else if !ip.contains('/') {
                nc.problems.push(format!(
                    "{field}: {ip:?} needs a prefix length (192.0.2.10/24)"
                ));
            } else if let Err(e) = net::Cidr::parse(&field, ip) {
                nc.problems.push(e.to_string());
            }
        }
        nic.gateways = strings(&mut nc, "gateways");
        for (j, g) in nic.gateways.iter().enumerate() {
            if g.parse::<std::net::IpAddr>().is_err() {
                nc.problems.push(format!(
                    "$.gateways[{j}]: {g:?} is not an IPv4 or IPv6 address"
                ));
            }
        }
        nic.allowed_ips = strings(&mut nc, "allowed_ips");
        for (j, a) in nic.allowed_ips.iter().enumerate() {
            if let Err(e) = net::Cidr::parse(&format!("$.allowed_ips[{j}]"), a) {
                nc.problems.push(e.to_string());
            }
        }
        if let Some(v) = nc.obj.get("vlan_id") {
            match v.as_u64() {
                Some(n) if n <= 4094 => nic.vlan_id = n as u16,
                _ => nc.problems.push(format!(
                    "$.vlan_id: {} is not a VLAN id (1 to 4094; 0 for none)",
                    kind(v)
                )),
            }
        }
        nic.primary = nc.boolean("primary").unwrap_or(false);
        nic.allow_ip_spoofing = nc.boolean("allow_ip_spoofing").unwrap_or(false);
        nic.allow_mac_spoofing = nc.boolean("allow_mac_spoofing").unwrap_or(false);
        nic.allow_restricted_traffic = nc.boolean("allow_restricted_traffic").unwrap_or(false);
        match nc.string("model").as_deref() {
            None | Some("virtio") => {}
            Some(m) => nc.problems.push(format!(
                "$.model: {m:?} is not a NIC model Lumen has (virtio)"
            )),
        }
        c.nested(&at, nc.problems);
        nics.push(nic);
    }
    match nics.iter().filter(|n| n.primary).count() {
        0 => {
            if let Some(first) = nics.first_mut() {
                first.primary = true;
            }
        }
        1 => {}
        _ => c
            .problems
            .push("$.nics: more than one NIC is primary".into()),
    }
    nics
}

#[cfg(test)]
mod tests {
    use super::super::*;

    #[test]
    fn a_zones_nics_and_their_defaults() {
        let m = Manifest::parse(
            r#"{"uuid": "6a1d5b1e-0000-4000-8000-0000000000a1",
                "nics": [{"nic_tag": "admin", "ips": ["192.0.2.10/24", "2001:db8::a/64"],
                          "gateways": ["192.0.2.1"], "vlan_id": 12},
                         {"nic_tag": "internal", "mac": "2:8:20:0:0:7", "primary": true,
                          "allow_ip_spoofing": true}]}"#,
        )
        .unwrap();
        let (a, b) = (&m.nics[0], &m.nics[1]);
        assert_eq!(
            (a.interface.as_str(), b.interface.as_str()),
            ("net0", "net1")
        );
        assert!(!a.primary && b.primary);
        assert_eq!(b.mac.as_deref(), Some("02:08:20:00:00:07"));
        // A MAC of its own, the same on every parse.
        let again = Manifest::from_value(&m.to_value()).unwrap();
        assert_eq!(again.nics, m.nics);
        assert!(a.mac.as_deref().unwrap().starts_with("02:08:20:"));
        assert_eq!(a.vlan_id, 12);
    }

    #[test]
    fn bad_nics_are_named_by_their_paths() {
        let e = Manifest::parse(
            r#"{"nics": [{"ips": ["dhcp"]},
                         {"nic_tag": "a b", "ips": ["192.0.2.1", "192.0.2.1/40"], "gateways": ["gw"],
                          "vlan_id": 4095, "mac": "zz", "interface": "averylongname"},
                         {"nic_tag": "x", "primary": true}, {"nic_tag": "y", "primary": true}]}"#,
        )
        .expect_err("invalid");
        let p = e.problems.join("\n");
        for want in [
            "$.nics[0].nic_tag: a zone's NIC needs the nic tag",
            "$.nics[0].ips[0]: \"dhcp\": Lumen does not configure addresses dynamically",
            "$.nics[1].interface: \"averylongname\" is not an interface name",
            "$.nics[1].nic_tag: \"a b\" is not a nic tag",
            "$.nics[1].mac: \"zz\" is not a MAC address",
            "$.nics[1].ips[0]: \"192.0.2.1\" needs a prefix length",
            "$.nics[1].ips[1]: \"192.0.2.1/40\" has a bad prefix length",
            "$.nics[1].gateways[0]: \"gw\" is not an IPv4 or IPv6 address",
            "$.nics[1].vlan_id: 4095 is not a VLAN id",
            "$.nics: more than one NIC is primary",
        ] {
            assert!(p.contains(want), "missing {want:?} in\n{p}");
        }
    }
}
