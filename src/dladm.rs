//! `lumen dladm`: Crossbow's datalink tool over the `net` crate
//! (etherstubs, vNICs, their properties, and `show-*` in Crossbow's
//! columns, parsable with `-p -o`), and `lumen nictagadm`, SmartOS's nic
//! tags.

use anyhow::{bail, Context, Result};
use net::netlink::Netlink;
use net::ofmt::Table;
use net::props::{parse_allowed_ips, parse_maxbw, Protection};
use net::vnic::{self, MacRequest, Placement, VnicProps, VnicRequest};
use net::{etherstub, show, MacAddr};
use std::path::PathBuf;

const USAGE: &str = "\
Usage: lumen dladm <command> [options]

  create-etherstub [-t] ETHERSTUB
  delete-etherstub [-t] ETHERSTUB
  show-etherstub [-p] [-o FIELD,..] [ETHERSTUB]
  create-vnic [-t] -l LINK [-m MAC|random] [-v VID] [-p PROP=VALUE[,..]] VNIC
                        LINK: an etherstub or a physical link
  delete-vnic [-t] VNIC
  show-vnic [-p] [-o FIELD,..] [-l LINK] [VNIC]
                        fields: LINK OVER SPEED MACADDRESS MACADDRTYPE VID ZONE
  show-link [-p] [-o FIELD,..] [-s] [LINK]
  show-ether [-p] [-o FIELD,..] [LINK]
  show-linkprop [-c] [-o FIELD,..] [-p PROP,..] [LINK]
                        (-c is parsable output here, as in Crossbow: -p names properties)
  set-linkprop [-t] -p PROP=VALUE[,..] VNIC
  reset-linkprop [-t] [-p PROP,..] VNIC
                        properties: maxbw (10M, 1G; Mbit/s when bare),
                        protection (mac-nospoof,ip-nospoof,restricted),
                        allowed-ips (addresses or prefixes), mtu

vNICs and etherstubs live in the kernel: they are gone after a reboot
(-t, temporary, is accepted and changes nothing); zones make theirs at boot.
";

/// Options of one verb: flags, flags with a value, and operands.
struct Opts {
    flags: Vec<char>,
    values: Vec<(char, String)>,
    operands: Vec<String>,
}

impl Opts {
    /// getopt(3) over `args`: `spec` lists the flags, `:` after one that
    /// takes a value.
    fn parse(verb: &str, spec: &str, args: &[String]) -> Result<Opts> {
        let mut o = Opts {
            flags: Vec::new(),
            values: Vec::new(),
            operands: Vec::new(),
        };
        let takes = |c: char| spec.find(c).map(|i| spec[i + 1..].starts_with(':'));
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a == "--" {
                o.operands.extend(it.by_ref().cloned());
                break;
            }
            let Some(letters) = a.strip_prefix('-').filter(|l| !l.is_empty()) else {
                o.operands.push(a.clone());
                continue;
            };
            for (i, c) in letters.char_indices() {
                match takes(c) {
                    None => bail!("{verb}: unknown option '-{c}'"),
                    Some(false) => o.flags.push(c),
                    Some(true) => {
                        let rest = &letters[i + c.len_utf8()..];
                        let v = if rest.is_empty() {
                            it.next()
                                .cloned()
                                .with_context(|| format!("{verb}: option '-{c}' needs a value"))?
                        } else {
                            rest.to_string()
                        };
                        o.values.push((c, v));
                        break;
                    }
                }
            }
        }
        Ok(o)
    }

    fn has(&self, c: char) -> bool {
        self.flags.contains(&c)
    }

    fn value(&self, c: char) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| *k == c)
            .map(|(_, v)| v.as_str())
    }

    fn one(&self, verb: &str, what: &str) -> Result<&str> {
        match self.operands.as_slice() {
            [one] => Ok(one),
            _ => bail!("{verb}: expected one {what}\n(see lumen dladm help)"),
        }
    }

    fn at_most_one(&self, verb: &str) -> Result<Option<&str>> {
        match self.operands.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            _ => bail!("{verb}: too many operands"),
        }
    }
}

/// `-p` property lists as Crossbow reads them: `a=1,b=x,y` is `a` = `1`
/// and `b` = `x,y` (an element without `=` continues the last value).
fn prop_list(text: &str) -> Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for part in text.split(',') {
        match part.split_once('=') {
            Some((k, v)) => out.push((k.trim().to_string(), v.trim().to_string())),
            None => match out.last_mut() {
                Some((_, v)) => {
                    v.push(',');
                    v.push_str(part.trim());
                }
                None => bail!("-p: {part:?} is not PROP=VALUE"),
            },
        }
    }
    Ok(out)
}

/// Apply `PROP=VALUE` settings to `props` (and the MTU).
fn set_props(
    list: &[(String, String)],
    props: &mut VnicProps,
    mtu: &mut Option<u32>,
) -> Result<()> {
    for (k, v) in list {
        match k.as_str() {
            "maxbw" => props.maxbw = Some(parse_maxbw("maxbw", v)?),
            "protection" => props.protection = Protection::parse("protection", v)?,
            "allowed-ips" => props.allowed_ips = parse_allowed_ips("allowed-ips", v)?,
            "mtu" => match v.parse::<u32>() {
                Ok(m) if (68..=65535).contains(&m) => *mtu = Some(m),
                _ => bail!("mtu: {v:?} is not an MTU (68 to 65535)"),
            },
            "zone" => {
                bail!("zone: is read-only here; a zone's vNICs come from its manifest (nics)")
            }
            other => {
                bail!("{other}: not a property of a vNIC (maxbw, protection, allowed-ips, mtu)")
            }
        }
    }
    Ok(())
}

fn table(o: &Opts, all: &[net::ofmt::Field], default: &[&str], parsable: bool) -> Result<Table> {
    Ok(Table::new(all, default, o.value('o'), parsable)?)
}

/// `LUMEN_ROOT`, as the zone registry reads it.
fn lumen_root() -> PathBuf {
    std::env::var_os("LUMEN_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/lib/lumen"))
}

/// A netlink socket in the namespace of vNIC `v`'s client end: its
/// zone's, reached through the zone's init.
fn client_netlink(v: &vnic::Vnic) -> Result<Option<Netlink>> {
    let Some(uuid) = &v.zone else {
        return Ok(None);
    };
    let registry = zones::Registry::open().context("opening the zone registry")?;
    let pid = registry
        .init_pid(uuid)
        .with_context(|| format!("the zone of vNIC {}", v.name))?;
    let ns = std::fs::File::open(format!("/proc/{pid}/ns/net"))
        .with_context(|| format!("the network namespace of zone {uuid}"))?;
    use std::os::fd::AsFd;
    Ok(Some(Netlink::open_in(ns.as_fd())?))
}

/// Run `dladm` with `args` (after `dladm`); the exit status.
pub fn run(args: &[String]) -> Result<u8> {
    let Some(verb) = args.first() else {
        eprint!("{USAGE}");
        return Ok(2);
    };
    match dladm(verb, &args[1..]) {
        Ok(status) => Ok(status),
        Err(e) => {
            eprintln!("dladm: {e:#}");
            Ok(1)
        }
    }
}

fn dladm(verb: &str, rest: &[String]) -> Result<u8> {
    if matches!(verb, "help" | "--help" | "-h") {
        print!("{USAGE}");
        return Ok(0);
    }
    let mut nl = Netlink::open()?;
    // Whatever an interrupted command left that is no longer anyone's.
    vnic::sweep(&mut nl)?;
    let mut out = String::new();
    match verb {
        "create-etherstub" => {
            let o = Opts::parse(verb, "t", rest)?;
            etherstub::create(&mut nl, o.one(verb, "etherstub name")?)?;
        }
        "delete-etherstub" => {
            let o = Opts::parse(verb, "t", rest)?;
            etherstub::delete(&mut nl, o.one(verb, "etherstub name")?)?;
        }
        "show-etherstub" => {
            let o = Opts::parse(verb, "po:", rest)?;
            let t = table(&o, show::ETHERSTUB_FIELDS, &["LINK"], o.has('p'))?;
            let only = o.at_most_one(verb)?;
            if let Some(n) = only {
                etherstub::find(&mut nl, n)?;
            }
            out.push_str(&t.header());
            for l in etherstub::list(&mut nl)? {
                if only.is_none_or(|n| n == l.name) {
                    out.push_str(&t.row(|_| l.name.clone()));
                }
            }
        }
        "create-vnic" => {
            let o = Opts::parse(verb, "tl:m:v:p:", rest)?;
            let name = o.one(verb, "vNIC name")?;
            let over = o.value('l').context("create-vnic: -l LINK is required")?;
            let mac = match o.value('m') {
                None | Some("random") | Some("auto") => MacRequest::Random,
                Some("factory") => {
                    bail!("-m: factory MACs belong to physical NICs; give a MAC or random")
                }
                Some(m) => MacRequest::Fixed(MacAddr::parse("-m", m)?),
            };
            let vid = match o.value('v') {
                Some(v) => vnic::parse_vid("-v", v)?,
                None => 0,
            };
            let mut props = VnicProps::default();
            let mut mtu = None;
            if let Some(p) = o.value('p') {
                set_props(&prop_list(p)?, &mut props, &mut mtu)?;
            }
            vnic::create(
                &mut nl,
                &VnicRequest {
                    name,
                    over,
                    mac,
                    vid,
                    props,
                    placement: Placement::Global,
                },
            )?;
            if let Some(m) = mtu {
                let v = vnic::find(&mut nl, name)?;
                vnic::set_props(&mut nl, name, v.props, Some(m), None)?;
            }
        }
        "delete-vnic" => {
            let o = Opts::parse(verb, "t", rest)?;
            vnic::delete(&mut nl, o.one(verb, "vNIC name")?, false)?;
        }
        "show-vnic" => {
            let o = Opts::parse(verb, "po:l:", rest)?;
            let t = table(&o, show::VNIC_FIELDS, show::VNIC_DEFAULT, o.has('p'))?;
            let only = o.at_most_one(verb)?;
            let vnics = vnic::list(&mut nl)?;
            if let Some(n) = only {
                if !vnics.iter().any(|v| v.name == n) {
                    bail!("vnic {n:?} does not exist");
                }
            }
            out.push_str(&t.header());
            for v in &vnics {
                if only.is_some_and(|n| n != v.name) || o.value('l').is_some_and(|l| l != v.over) {
                    continue;
                }
                out.push_str(&t.row(|f| show::vnic_value(v, f)));
            }
        }
        "show-link" => {
            let o = Opts::parse(verb, "po:s", rest)?;
            let (fields, default) = if o.has('s') {
                (show::LINK_STATS_FIELDS, show::LINK_STATS_DEFAULT)
            } else {
                (show::LINK_FIELDS, show::LINK_DEFAULT)
            };
            let t = table(&o, fields, default, o.has('p'))?;
            let only = o.at_most_one(verb)?;
            let rows = show::links(&mut nl)?;
            if let Some(n) = only {
                if !rows.iter().any(|r| r.name == n) {
                    bail!("link {n:?} does not exist");
                }
            }
            out.push_str(&t.header());
            for r in rows.iter().filter(|r| only.is_none_or(|n| n == r.name)) {
                out.push_str(&t.row(|f| r.value(f)));
            }
        }
        "show-ether" => {
            let o = Opts::parse(verb, "po:", rest)?;
            let t = table(&o, show::ETHER_FIELDS, show::ETHER_DEFAULT, o.has('p'))?;
            let only = o.at_most_one(verb)?;
            let links = show::ethers(&mut nl)?;
            if let Some(n) = only {
                if !links.iter().any(|l| l.name == n) {
                    bail!("{n:?} is not a physical link");
                }
            }
            out.push_str(&t.header());
            for l in links.iter().filter(|l| only.is_none_or(|n| n == l.name)) {
                out.push_str(&t.row(|f| show::ether_value(l, f)));
            }
        }
        "show-linkprop" => {
            let o = Opts::parse(verb, "co:p:", rest)?;
            let t = table(
                &o,
                show::LINKPROP_FIELDS,
                show::LINKPROP_DEFAULT,
                o.has('c'),
            )?;
            let only = o.at_most_one(verb)?;
            let wanted: Option<Vec<&str>> =
                o.value('p').map(|p| p.split(',').map(str::trim).collect());
            let mut rows = Vec::new();
            let vnics = vnic::list(&mut nl)?;
            match only {
                Some(n) => match vnics.iter().find(|v| v.name == n) {
                    Some(v) => rows.extend(show::vnic_props(&mut nl, v)?),
                    None => {
                        let l = nl
                            .link(n)?
                            .with_context(|| format!("link {n:?} does not exist"))?;
                        rows.extend(show::link_props(&l));
                    }
                },
                None => {
                    for v in &vnics {
                        rows.extend(show::vnic_props(&mut nl, v)?);
                    }
                }
            }
            if let Some(w) = &wanted {
                for p in w {
                    if !rows.iter().any(|r| r.property == *p) {
                        bail!("{p}: not a property of {}", only.unwrap_or("any vNIC"));
                    }
                }
            }
            out.push_str(&t.header());
            for r in rows.iter().filter(|r| {
                wanted
                    .as_ref()
                    .is_none_or(|w| w.contains(&r.property.as_str()))
            }) {
                out.push_str(&t.row(|f| r.value(f)));
            }
        }
        "set-linkprop" | "reset-linkprop" => {
            let o = Opts::parse(verb, "tp:", rest)?;
            let name = o.one(verb, "vNIC name")?;
            let v = vnic::find(&mut nl, name)?;
            let mut props = v.props.clone();
            let mut mtu = None;
            if verb == "set-linkprop" {
                let p = o
                    .value('p')
                    .context("set-linkprop: -p PROP=VALUE is required")?;
                set_props(&prop_list(p)?, &mut props, &mut mtu)?;
            } else {
                let names: Vec<String> = match o.value('p') {
                    Some(p) => p.split(',').map(|s| s.trim().to_string()).collect(),
                    None => vec![
                        "maxbw".into(),
                        "protection".into(),
                        "allowed-ips".into(),
                        "mtu".into(),
                    ],
                };
                for n in names {
                    match n.as_str() {
                        "maxbw" => props.maxbw = None,
                        "protection" => props.protection = Protection::default(),
                        "allowed-ips" => props.allowed_ips.clear(),
                        "mtu" => mtu = Some(1500),
                        other => bail!("{other}: not a property of a vNIC (maxbw, protection, allowed-ips, mtu)"),
                    }
                }
            }
            let mut client = if mtu.is_some() {
                client_netlink(&v)?
            } else {
                None
            };
            vnic::set_props(&mut nl, name, props, mtu, client.as_mut())?;
        }
        other => {
            eprintln!("dladm: unknown command '{other}'");
            eprint!("{USAGE}");
            return Ok(2);
        }
    }
    print!("{out}");
    Ok(0)
}

const NICTAG_USAGE: &str = "\
Usage: lumen nictagadm <command> [options]

  add TAG LINK        map nic tag TAG to LINK (an etherstub or a physical link)
  add -l TAG          a local nic tag, with an etherstub of its own (TAG0)
  delete TAG          remove a nic tag (a local tag's etherstub goes too)
  list [-p] [-d DELIM]
                      list nic tags (NAME MACADDRESS LINK TYPE)
  exists TAG...       exit 0 if every TAG exists
";

/// Run `nictagadm` with `args`; the exit status.
pub fn nictagadm(args: &[String]) -> Result<u8> {
    let Some(verb) = args.first() else {
        eprint!("{NICTAG_USAGE}");
        return Ok(2);
    };
    let rest = &args[1..];
    let root = lumen_root();
    let mut tags = net::nictag::NicTags::load(&root)?;
    let r: Result<u8> = (|| {
        match verb.as_str() {
            "add" => {
                let o = Opts::parse("add", "l", rest)?;
                let mut nl = Netlink::open()?;
                match (o.has('l'), o.operands.as_slice()) {
                    (true, [tag]) => {
                        tags.add(&mut nl, tag, None)?;
                    }
                    (false, [tag, link]) => {
                        tags.add(&mut nl, tag, Some(link))?;
                    }
                    _ => bail!("usage: nictagadm add TAG LINK | nictagadm add -l TAG"),
                }
            }
            "delete" => {
                let o = Opts::parse("delete", "f", rest)?;
                let tag = o.one("delete", "nic tag")?;
                tags.delete(&mut Netlink::open()?, tag)?;
            }
            "exists" => {
                let missing: Vec<&String> = rest.iter().filter(|t| tags.get(t).is_none()).collect();
                if rest.is_empty() || !missing.is_empty() {
                    return Ok(1);
                }
            }
            "list" => {
                let o = Opts::parse("list", "pd:L", rest)?;
                let mut nl = Netlink::open()?;
                let delim = o.value('d').unwrap_or(":");
                if !o.has('p') {
                    println!("{:<16}{:<18}{:<16}TYPE", "NAME", "MACADDRESS", "LINK");
                }
                for t in tags.list() {
                    let mac = if t.local {
                        "-".to_string()
                    } else {
                        nl.link(&t.link)?
                            .and_then(|l| l.mac)
                            .map_or_else(|| "-".into(), |m| m.padded())
                    };
                    let kind = if t.local { "etherstub" } else { "normal" };
                    if o.has('p') {
                        let esc = |s: &str| s.replace(delim, &format!("\\{delim}"));
                        println!(
                            "{}{delim}{}{delim}{}{delim}{kind}",
                            esc(&t.name),
                            esc(&mac),
                            esc(&t.link)
                        );
                    } else {
                        println!("{:<16}{:<18}{:<16}{kind}", t.name, mac, t.link);
                    }
                }
            }
            "help" | "--help" => print!("{NICTAG_USAGE}"),
            other => {
                eprintln!("nictagadm: unknown command '{other}'");
                eprint!("{NICTAG_USAGE}");
                return Ok(2);
            }
        }
        Ok(0)
    })();
    match r {
        Ok(s) => Ok(s),
        Err(e) => {
            eprintln!("nictagadm: {e:#}");
            Ok(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_lists_continue_values_without_an_equals() {
        let l = prop_list(
            "maxbw=10M,protection=mac-nospoof,ip-nospoof,allowed-ips=192.0.2.1,192.0.2.2",
        )
        .unwrap();
        assert_eq!(
            l,
            [
                ("maxbw".to_string(), "10M".to_string()),
                (
                    "protection".to_string(),
                    "mac-nospoof,ip-nospoof".to_string()
                ),
                ("allowed-ips".to_string(), "192.0.2.1,192.0.2.2".to_string()),
            ]
        );
        assert!(prop_list("oops").is_err());
    }

    #[test]
    fn getopt_takes_joined_and_separate_values() {
        let args: Vec<String> = ["-t", "-lstub0", "-m", "random", "vnic0"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let o = Opts::parse("create-vnic", "tl:m:v:p:", &args).unwrap();
        assert!(o.has('t'));
        assert_eq!(o.value('l'), Some("stub0"));
        assert_eq!(o.value('m'), Some("random"));
        assert_eq!(o.operands, ["vnic0"]);
        assert!(Opts::parse("x", "t", &["-q".to_string()]).is_err());
        assert!(Opts::parse("x", "l:", &["-l".to_string()]).is_err());
    }
}
