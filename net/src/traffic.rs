//! A vNIC's traffic control: what its properties become on its host end.
//!
//! - `maxbw` shapes both directions with a token bucket (`tbf`):
//!   traffic *to* the client on the host end's own egress queue; traffic
//!   *from* the client, which arrives on the host end's ingress where no
//!   queue exists, is redirected by the classifier to an `ifb` device of
//!   the vNIC's whose egress queue shapes it, and which hands it back to
//!   the host end's ingress. Both shapers live in the host's namespace,
//!   out of the client's reach (a zone holding `net_admin` still cannot
//!   lift its cap). The kernel here has no `police` action, and policing
//!   would cost TCP much of its rate anyway.
//! - `protection`, the VLAN id and the redirect are the classifier
//!   ([`crate::antispoof`]) on a `clsact` qdisc: one program on ingress,
//!   one on egress.
//!
//! A vNIC with none of these has no qdisc and no program at all.

use crate::antispoof::{self, IngressConfig};
use crate::bpf::{self, Map};
use crate::error::{NetError, Result};
use crate::link::{self, Owned};
use crate::netlink::{tbf_options, Link, LinkChange, Netlink};
use crate::props::{DropReason, VnicProps};
use crate::record::Vnic;
use netlink_packet_route::tc::{TcAttribute, TcBpfFlags, TcFilterBpfOption, TcHandle, TcOption};

const CLSACT: TcHandle = TcHandle {
    major: 0xffff,
    minor: 0xfff1,
};
const CLSACT_HANDLE: TcHandle = TcHandle {
    major: 0xffff,
    minor: 0,
};
const INGRESS: TcHandle = TcHandle {
    major: 0xffff,
    minor: 0xfff2,
};
const EGRESS: TcHandle = TcHandle {
    major: 0xffff,
    minor: 0xfff3,
};
/// The priority of Lumen's filters on a vNIC.
const PRIO: u16 = 1;

/// The name of vNIC `host`'s ifb (its host end's ifindex keeps it unique
/// and within Linux's 15 bytes).
fn ifb_name(host: &Link) -> String {
    format!("lmifb{}", host.index)
}

/// Token bucket parameters for `bits` per second: a burst of 10 ms of
/// traffic (at least 16 KiB, so full-size frames and small GSO batches
/// pass whole), and a queue of 50 ms beyond it.
fn bucket(bits: u64) -> (u64, u32, u32) {
    let rate = (bits / 8).max(1);
    let burst = (rate / 100).clamp(16 << 10, u64::from(u32::MAX / 4)) as u32;
    let limit = (rate / 20 + u64::from(burst)).min(u64::from(u32::MAX / 2)) as u32;
    (rate, burst, limit)
}

/// Make the host end's traffic control match `v`'s properties (`old`:
/// what they were, if known).
pub fn apply(nl: &mut Netlink, v: &Vnic, old: Option<&VnicProps>) -> Result<()> {
    let host = &v.host;
    let p = &v.props;
    // To the client: the host end's own queue.
    match p.maxbw {
        Some(bits) => {
            let (rate, burst, limit) = bucket(bits);
            nl.qdisc_replace(
                host.index,
                TcHandle::ROOT,
                TcHandle { major: 1, minor: 0 },
                "tbf",
                tbf_options(rate, burst, limit),
            )?;
        }
        None if old.is_none_or(|o| o.maxbw.is_some()) => {
            nl.qdisc_del(host.index, TcHandle::ROOT)?;
        }
        None => {}
    }
    // From the client: the ifb.
    let redirect = match p.maxbw {
        Some(bits) => Some(ifb(nl, v, bits)?),
        None => {
            remove_ifb(nl, host)?;
            None
        }
    };
    let ingress_cfg = IngressConfig {
        mac: if p.protection.mac { v.mac } else { None },
        ips: p.protection.ip.then(|| p.allowed_ips.clone()),
        restricted: p.protection.restricted,
        vid: v.vid,
        redirect,
    };
    let ingress = ingress_cfg != IngressConfig::default();
    let egress = p.protection.any() || v.vid != 0;
    if !ingress && !egress {
        return nl.qdisc_del(host.index, CLSACT);
    }
    let has_clsact = nl
        .qdiscs(host.index)?
        .iter()
        .any(|(parent, kind)| *parent == CLSACT && kind == "clsact");
    if !has_clsact {
        nl.qdisc_replace(host.index, CLSACT, CLSACT_HANDLE, "clsact", Vec::new())?;
    }
    if ingress {
        let counters = match counters(nl, host)? {
            Some(m) => m,
            None => Map::create(bpf::MAP_PERCPU_ARRAY, 4, 16, 3, "lumen_drops")?,
        };
        let (mut insns, relocs) = antispoof::ingress(&ingress_cfg);
        for at in relocs {
            insns[at].imm = counters.fd().as_raw_fd_i32();
        }
        let prog = load(&v.name, "lumen_vnic_in", &insns)?;
        attach(nl, host.index, INGRESS, &prog, "lumen_vnic_in")?;
    } else {
        nl.filter_del(host.index, INGRESS, PRIO)?;
    }
    if egress {
        let prog = load(&v.name, "lumen_vnic_out", &antispoof::egress(v.vid))?;
        attach(nl, host.index, EGRESS, &prog, "lumen_vnic_out")?;
    } else {
        nl.filter_del(host.index, EGRESS, PRIO)?;
    }
    Ok(())
}

trait RawI32 {
    fn as_raw_fd_i32(&self) -> i32;
}

impl RawI32 for std::os::fd::BorrowedFd<'_> {
    fn as_raw_fd_i32(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.as_raw_fd()
    }
}

fn load(
    vnic: &str,
    name: &str,
    insns: &[d_lang::codegen::insn::Insn],
) -> Result<std::os::fd::OwnedFd> {
    bpf::prog_load(bpf::PROG_SCHED_CLS, name, &antispoof::encode(insns)).map_err(|(errno, log)| {
        NetError::Verifier {
            link: vnic.into(),
            errno,
            log,
        }
    })
}

fn attach(
    nl: &mut Netlink,
    index: u32,
    parent: TcHandle,
    prog: &std::os::fd::OwnedFd,
    name: &str,
) -> Result<()> {
    use std::os::fd::AsRawFd;
    nl.filter_replace(
        index,
        parent,
        PRIO,
        "bpf",
        vec![
            TcOption::Bpf(TcFilterBpfOption::ProgFd(prog.as_raw_fd() as u32)),
            TcOption::Bpf(TcFilterBpfOption::ProgName(name.into())),
            // Direct action: the program's return value is the verdict.
            TcOption::Bpf(TcFilterBpfOption::Flags(TcBpfFlags::DirectAction)),
        ],
    )
}

/// The ifb that shapes vNIC `v`'s incoming traffic at `bits` per second,
/// made if missing; its ifindex.
fn ifb(nl: &mut Netlink, v: &Vnic, bits: u64) -> Result<u32> {
    let name = ifb_name(&v.host);
    let l = match nl.link(&name)? {
        Some(l) => l,
        None => {
            nl.create_ifb(&name, link::GROUP)?;
            let l = nl.link(&name)?.ok_or_else(|| NetError::NoSuchLink {
                what: "ifb",
                name: name.clone(),
            })?;
            nl.set_link(
                l.index,
                &LinkChange {
                    alias: Some(link::ifb_alias(&v.name)),
                    up: Some(true),
                    ..LinkChange::default()
                },
            )?;
            l
        }
    };
    let (rate, burst, limit) = bucket(bits);
    nl.qdisc_replace(
        l.index,
        TcHandle::ROOT,
        TcHandle { major: 1, minor: 0 },
        "tbf",
        tbf_options(rate, burst, limit),
    )?;
    Ok(l.index)
}

fn remove_ifb(nl: &mut Netlink, host: &Link) -> Result<()> {
    if let Some(l) = nl.link(&ifb_name(host))? {
        if matches!(link::owned(&l), Some(Owned::Ifb { .. })) {
            nl.del_link(l.index)?;
        }
    }
    Ok(())
}

/// Undo everything of `host`'s (before it is deleted: its qdiscs go with
/// it, its ifb does not).
pub fn remove(nl: &mut Netlink, host: &Link) -> Result<()> {
    remove_ifb(nl, host)
}

/// The drop counters of the classifier attached to `host`, if any.
fn counters(nl: &mut Netlink, host: &Link) -> Result<Option<Map>> {
    for f in nl.filters(host.index, INGRESS)? {
        for a in &f.attributes {
            let TcAttribute::Options(opts) = a else {
                continue;
            };
            for o in opts {
                if let TcOption::Bpf(TcFilterBpfOption::ProgId(id)) = o {
                    // The classifier uses one map: its counters.
                    if let Some(map) = bpf::prog_map_ids(*id)?.first() {
                        let fd = bpf::map_by_id(*map)?;
                        return Ok(Some(Map::from_fd(fd, 4, 16, true)));
                    }
                }
            }
        }
    }
    Ok(None)
}

/// Frames and bytes the classifier of vNIC `v` dropped, by reason (in
/// [`DropReason::ALL`]'s order); zeros when it has no classifier.
pub fn drops(nl: &mut Netlink, v: &Vnic) -> Result<[(u64, u64); 3]> {
    let mut out = [(0u64, 0u64); 3];
    let Some(map) = counters(nl, &v.host)? else {
        return Ok(out);
    };
    for r in DropReason::ALL {
        let Some(bytes) = map.lookup(&(r as u32).to_ne_bytes())? else {
            continue;
        };
        for cpu in bytes.chunks_exact(16) {
            let word = |i: usize| {
                let mut w = [0u8; 8];
                w.copy_from_slice(&cpu[i..i + 8]);
                u64::from_ne_bytes(w)
            };
            out[r as usize].0 += word(0);
            out[r as usize].1 += word(8);
        }
    }
    Ok(out)
}
