//! The vNIC classifier: a tc BPF program Lumen writes instruction by
//! instruction with the D compiler's assembler (`d_lang::codegen::asm`),
//! loads itself ([`crate::bpf`]) and attaches to the vNIC's host end.
//!
//! On ingress (frames the client sends) it enforces Crossbow's
//! `protection`:
//! - `mac-nospoof`: the source MAC, and an ARP sender's hardware address,
//!   must be the vNIC's;
//! - `restricted`: only IPv4, IPv6 and ARP frames pass;
//! - `ip-nospoof`: an IPv4 source, an ARP sender address and an IPv6
//!   source must be in `allowed-ips` (IPv4 0.0.0.0 passes, for DHCP and
//!   ARP probes; so do IPv6 `::` and link-local `fe80::/10`, for neighbour
//!   discovery);
//!
//! then tags the frame with the vNIC's VLAN id, and, under `maxbw`,
//! redirects it to the vNIC's `ifb` shaper. A dropped frame is counted by
//! reason (packets and bytes, in a per-CPU array of [`DropReason`]s) and
//! marked ([`crate::props::DROP_MARK`]) so the tracer's `vnic:::drop` can
//! say why. The allowed MAC and addresses are immediates: a change of
//! properties writes and swaps in a new program, keeping the counters.
//!
//! On egress (frames to the client) a second program keeps VLANs apart:
//! it passes only frames tagged with the vNIC's VLAN id (and untags them),
//! or only untagged frames for a vNIC without one.

use crate::addr::Cidr;
use crate::mac::MacAddr;
use crate::props::{DropReason, DROP_MARK};
use d_lang::codegen::asm::{Asm, Label};
use d_lang::codegen::insn::{helper, reg::*, Alu, Cond, Insn, Size};
use std::net::IpAddr;

/// `TC_ACT_OK`: pass the frame on.
pub const TC_ACT_OK: i32 = 0;
/// `TC_ACT_SHOT`: drop it.
pub const TC_ACT_SHOT: i32 = 2;

// struct __sk_buff offsets.
const SKB_LEN: i16 = 0;
const SKB_MARK: i16 = 8;
const SKB_VLAN_PRESENT: i16 = 20;
const SKB_VLAN_TCI: i16 = 24;
const SKB_DATA: i16 = 76;
const SKB_DATA_END: i16 = 80;

// Ethertypes as a little-endian u16 load of their network-order bytes.
const ETH_IPV4: i32 = 0x0008;
const ETH_ARP: i32 = 0x0608;
const ETH_IPV6: i32 = 0xdd86;

/// What the ingress program enforces and does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IngressConfig {
    /// `mac-nospoof`: the only source MAC allowed.
    pub mac: Option<MacAddr>,
    /// `ip-nospoof`: the sources allowed.
    pub ips: Option<Vec<Cidr>>,
    /// `restricted`.
    pub restricted: bool,
    /// VLAN id to tag with (0: none).
    pub vid: u16,
    /// The ifindex of the `ifb` to redirect to (`maxbw`).
    pub redirect: Option<u32>,
}

/// The map index of the drop counters in the ingress program's
/// relocations.
pub const COUNTERS_MAP: usize = 0;

/// The ingress program: instructions and map relocations (one:
/// [`COUNTERS_MAP`]).
pub fn ingress(cfg: &IngressConfig) -> (Vec<Insn>, Vec<usize>) {
    let mut a = Asm::new();
    let pass = a.label();
    let drops: Vec<Label> = DropReason::ALL.iter().map(|_| a.label()).collect();
    // The verifier refuses unreachable code: only the reasons this
    // configuration can drop for get their counting stub.
    let used = std::cell::Cell::new([false; 3]);
    let drop = |r: DropReason| {
        let mut u = used.get();
        u[r as usize] = true;
        used.set(u);
        drops[r as usize]
    };
    // r6 = skb, r7 = data, r8 = data_end.
    a.push(Insn::mov64_reg(R6, R1));
    a.push(Insn::ldx(Size::W, R7, R6, SKB_DATA));
    a.push(Insn::ldx(Size::W, R8, R6, SKB_DATA_END));
    // A frame shorter than its Ethernet header goes on untouched: the
    // stack drops runts itself.
    let end_at = |a: &mut Asm, bytes: i32, short: Label| {
        a.push(Insn::mov64_reg(R2, R7));
        a.push(Insn::alu64_imm(Alu::Add, R2, bytes));
        a.jmp_reg(Cond::Gt, R2, R8, short);
    };
    end_at(&mut a, 14, pass);
    if let Some(mac) = cfg.mac {
        // Source MAC: bytes 6..12.
        mac_is(&mut a, 6, mac, drop(DropReason::MacSpoof));
    }
    // r9 = ethertype.
    a.push(Insn::ldx(Size::H, R9, R7, 12));
    if cfg.restricted {
        let ok = a.label();
        for t in [ETH_IPV4, ETH_ARP, ETH_IPV6] {
            a.jmp_imm(Cond::Eq, R9, t, ok);
        }
        a.ja(drop(DropReason::Restricted));
        a.bind(ok);
    }
    let arp_mac = cfg.mac.is_some();
    if cfg.ips.is_some() || arp_mac {
        let ips = cfg.ips.as_deref();
        let not_arp = a.label();
        a.jmp_imm(Cond::Ne, R9, ETH_ARP, not_arp);
        // ARP for IPv4 over Ethernet: sender hardware address at 22,
        // sender protocol address at 28. A short ARP frame is a lie.
        let bad = if arp_mac {
            drop(DropReason::MacSpoof)
        } else {
            drop(DropReason::IpSpoof)
        };
        end_at(&mut a, 42, bad);
        if let Some(mac) = cfg.mac {
            mac_is(&mut a, 22, mac, drop(DropReason::MacSpoof));
        }
        if let Some(ips) = ips {
            ipv4_allowed(&mut a, 28, ips, drop(DropReason::IpSpoof));
        }
        a.ja(pass);
        a.bind(not_arp);
        if let Some(ips) = ips {
            let not_v4 = a.label();
            a.jmp_imm(Cond::Ne, R9, ETH_IPV4, not_v4);
            end_at(&mut a, 34, drop(DropReason::IpSpoof));
            ipv4_allowed(&mut a, 26, ips, drop(DropReason::IpSpoof));
            a.ja(pass);
            a.bind(not_v4);
            let not_v6 = a.label();
            a.jmp_imm(Cond::Ne, R9, ETH_IPV6, not_v6);
            end_at(&mut a, 54, drop(DropReason::IpSpoof));
            ipv6_allowed(&mut a, 22, ips, drop(DropReason::IpSpoof));
            a.bind(not_v6);
        }
    }
    a.bind(pass);
    if cfg.vid != 0 {
        // Tag with the vNIC's VLAN (802.1Q; the tag rides in the skb's
        // metadata across the etherstub, as a NIC's offload would carry it).
        let tagged = a.label();
        a.push(Insn::mov64_reg(R1, R6));
        a.push(Insn::mov64_imm(R2, 0x0081)); // htons(ETH_P_8021Q)
        a.push(Insn::mov64_imm(R3, i32::from(cfg.vid)));
        a.push(Insn::call(helper::SKB_VLAN_PUSH));
        a.jmp_imm(Cond::Eq, R0, 0, tagged);
        a.push(Insn::mov64_imm(R0, TC_ACT_SHOT));
        a.push(Insn::exit());
        a.bind(tagged);
    }
    if let Some(ifb) = cfg.redirect {
        // maxbw: through the ifb's shaper, which hands the frame back to
        // this link's ingress (skipping this program) once it may go.
        a.push(Insn::mov64_imm(R1, ifb as i32));
        a.push(Insn::mov64_imm(R2, 0));
        a.push(Insn::call(helper::REDIRECT));
        a.push(Insn::exit());
    } else {
        a.push(Insn::mov64_imm(R0, TC_ACT_OK));
        a.push(Insn::exit());
    }
    // The drops: count (packets, bytes) under the reason, mark, drop.
    let used = used.get();
    if !used.iter().any(|u| *u) {
        let (insns, relocs) = a.finish().unwrap_or_default();
        return (insns, relocs.into_iter().map(|r| r.insn).collect());
    }
    let counted = a.label();
    for r in DropReason::ALL {
        if !used[r as usize] {
            continue;
        }
        a.bind(drops[r as usize]);
        a.push(Insn::mov64_imm(R9, r as i32));
        a.ja(counted);
    }
    a.bind(counted);
    let marked = a.label();
    a.push(Insn::stx(Size::W, FP, -4, R9));
    a.ld_map(R1, COUNTERS_MAP);
    a.push(Insn::mov64_reg(R2, FP));
    a.push(Insn::alu64_imm(Alu::Add, R2, -4));
    a.push(Insn::call(helper::MAP_LOOKUP_ELEM));
    a.jmp_imm(Cond::Eq, R0, 0, marked);
    // Per-CPU slots: no other CPU writes them, so plain adds suffice.
    a.push(Insn::ldx(Size::DW, R1, R0, 0));
    a.push(Insn::alu64_imm(Alu::Add, R1, 1));
    a.push(Insn::stx(Size::DW, R0, 0, R1));
    a.push(Insn::ldx(Size::W, R1, R6, SKB_LEN));
    a.push(Insn::ldx(Size::DW, R2, R0, 8));
    a.push(Insn::alu64_reg(Alu::Add, R2, R1));
    a.push(Insn::stx(Size::DW, R0, 8, R2));
    a.bind(marked);
    a.push(Insn::mov64_reg(R1, R9));
    a.push(Insn::alu64_imm(Alu::Or, R1, DROP_MARK as i32));
    a.push(Insn::stx(Size::W, R6, SKB_MARK, R1));
    a.push(Insn::mov64_imm(R0, TC_ACT_SHOT));
    a.push(Insn::exit());
    // Labels are all bound and jumps short: finishing cannot fail.
    let (insns, relocs) = a.finish().unwrap_or_default();
    (insns, relocs.into_iter().map(|r| r.insn).collect())
}

/// `if the 6 bytes at data+off are not mac goto bad`.
fn mac_is(a: &mut Asm, off: i16, mac: MacAddr, bad: Label) {
    let m = mac.0;
    a.push(Insn::ldx(Size::W, R2, R7, off));
    a.jmp32_imm(
        Cond::Ne,
        R2,
        u32::from_le_bytes([m[0], m[1], m[2], m[3]]) as i32,
        bad,
    );
    a.push(Insn::ldx(Size::H, R2, R7, off + 4));
    a.jmp32_imm(
        Cond::Ne,
        R2,
        i32::from(u16::from_le_bytes([m[4], m[5]])),
        bad,
    );
}

/// The network-order bytes of a `len`-bit prefix mask `bytes` long.
fn mask_bytes(len: u8, bytes: usize) -> Vec<u8> {
    (0..bytes)
        .map(|i| {
            let bits = (i32::from(len) - 8 * i as i32).clamp(0, 8);
            (0xff00u16 >> bits) as u8
        })
        .collect()
}

/// `if the IPv4 address at data+off is neither 0.0.0.0 nor in ips goto bad`.
fn ipv4_allowed(a: &mut Asm, off: i16, ips: &[Cidr], bad: Label) {
    let ok = a.label();
    a.push(Insn::ldx(Size::W, R3, R7, off));
    a.jmp32_imm(Cond::Eq, R3, 0, ok);
    for c in ips {
        let IpAddr::V4(v4) = c.addr else { continue };
        let mb = mask_bytes(c.len, 4);
        let mask = u32::from_le_bytes([mb[0], mb[1], mb[2], mb[3]]);
        let want = u32::from_le_bytes(v4.octets()) & mask;
        a.push(Insn::mov64_reg(R4, R3));
        a.push(Insn::alu32_imm(Alu::And, R4, mask as i32));
        a.jmp32_imm(Cond::Eq, R4, want as i32, ok);
    }
    a.ja(bad);
    a.bind(ok);
}

/// `if the IPv6 address at data+off is not ::, link-local or in ips goto bad`.
fn ipv6_allowed(a: &mut Asm, off: i16, ips: &[Cidr], bad: Label) {
    let ok = a.label();
    // r2..r5: the address as four little-endian words.
    let words = [R2, R3, R4, R5];
    for (i, r) in words.iter().enumerate() {
        a.push(Insn::ldx(Size::W, *r, R7, off + 4 * i as i16));
    }
    // fe80::/10: first byte 0xfe, top two bits of the second 10.
    a.push(Insn::mov64_reg(R1, R2));
    a.push(Insn::alu32_imm(Alu::And, R1, 0xc0ff));
    a.jmp32_imm(Cond::Eq, R1, 0x80fe, ok);
    // :: (duplicate address detection).
    a.push(Insn::mov64_reg(R1, R2));
    for r in &words[1..] {
        a.push(Insn::alu64_reg(Alu::Or, R1, *r));
    }
    a.jmp_imm(Cond::Eq, R1, 0, ok);
    for c in ips {
        let IpAddr::V6(v6) = c.addr else { continue };
        let next = a.label();
        let mb = mask_bytes(c.len, 16);
        let o = v6.octets();
        for (i, r) in words.iter().enumerate() {
            let m = u32::from_le_bytes([mb[4 * i], mb[4 * i + 1], mb[4 * i + 2], mb[4 * i + 3]]);
            if m == 0 {
                continue;
            }
            let want = u32::from_le_bytes([o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]]) & m;
            a.push(Insn::mov64_reg(R1, *r));
            a.push(Insn::alu32_imm(Alu::And, R1, m as i32));
            a.jmp32_imm(Cond::Ne, R1, want as i32, next);
        }
        a.ja(ok);
        a.bind(next);
    }
    a.ja(bad);
    a.bind(ok);
}

/// The egress program: frames to the client pass only on the vNIC's VLAN
/// (untagged on the way out), or untagged for a vNIC without one.
pub fn egress(vid: u16) -> Vec<Insn> {
    let mut a = Asm::new();
    let shot = a.label();
    a.push(Insn::mov64_reg(R6, R1));
    a.push(Insn::ldx(Size::W, R2, R6, SKB_VLAN_PRESENT));
    if vid == 0 {
        a.jmp_imm(Cond::Ne, R2, 0, shot);
    } else {
        a.jmp_imm(Cond::Eq, R2, 0, shot);
        a.push(Insn::ldx(Size::W, R3, R6, SKB_VLAN_TCI));
        a.push(Insn::alu64_imm(Alu::And, R3, 0xfff));
        a.jmp_imm(Cond::Ne, R3, i32::from(vid), shot);
        a.push(Insn::mov64_reg(R1, R6));
        a.push(Insn::call(helper::SKB_VLAN_POP));
    }
    a.push(Insn::mov64_imm(R0, TC_ACT_OK));
    a.push(Insn::exit());
    a.bind(shot);
    a.push(Insn::mov64_imm(R0, TC_ACT_SHOT));
    a.push(Insn::exit());
    a.finish().map(|(i, _)| i).unwrap_or_default()
}

/// Instructions as the kernel reads them.
pub fn encode(insns: &[Insn]) -> Vec<u64> {
    insns
        .iter()
        .map(|i| u64::from_le_bytes(i.to_bytes()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_are_network_order_prefixes() {
        assert_eq!(mask_bytes(24, 4), [255, 255, 255, 0]);
        assert_eq!(mask_bytes(10, 4), [255, 0xc0, 0, 0]);
        assert_eq!(mask_bytes(0, 4), [0, 0, 0, 0]);
        assert_eq!(mask_bytes(32, 4), [255; 4]);
    }

    #[test]
    fn every_emitted_drop_is_reachable() {
        // mac-nospoof alone: no restricted or ip-nospoof stub (the verifier
        // refuses unreachable instructions).
        let (insns, relocs) = ingress(&IngressConfig {
            mac: Some(MacAddr([2, 8, 0x20, 1, 2, 3])),
            ..IngressConfig::default()
        });
        assert_eq!(relocs.len(), 1);
        let reasons = insns
            .iter()
            .filter(|i| i.code == Insn::mov64_imm(R9, 0).code && i.dst == R9 && i.src == 0)
            .count();
        // r9 = ethertype is a load; the one mov of r9 is MacSpoof's stub.
        assert_eq!(reasons, 1);
        let (_, relocs) = ingress(&IngressConfig {
            vid: 3,
            ..IngressConfig::default()
        });
        assert!(relocs.is_empty());
    }

    #[test]
    fn the_programs_assemble_with_one_counter_map() {
        let cfg = IngressConfig {
            mac: Some(MacAddr([2, 8, 0x20, 1, 2, 3])),
            ips: Some(vec![
                Cidr::parse("a", "192.0.2.7").unwrap(),
                Cidr::parse("a", "2001:db8::/64").unwrap(),
            ]),
            restricted: true,
            vid: 12,
            redirect: Some(9),
        };
        let (insns, relocs) = ingress(&cfg);
        assert_eq!(relocs.len(), 1);
        assert!(insns.len() > 40 && insns.len() < 200, "{}", insns.len());
        assert!(insns.iter().any(|i| *i == Insn::call(helper::REDIRECT)));
        assert!(insns
            .iter()
            .any(|i| *i == Insn::call(helper::SKB_VLAN_PUSH)));
        // Without any protection there is nothing to count.
        let (plain, _) = ingress(&IngressConfig::default());
        assert!(plain.len() < insns.len());
        assert!(egress(12)
            .iter()
            .any(|i| *i == Insn::call(helper::SKB_VLAN_POP)));
        assert!(!egress(0)
            .iter()
            .any(|i| *i == Insn::call(helper::SKB_VLAN_POP)));
    }
}
