//! vNICs: what they cost. `cargo bench --bench net`, as root.
//!
//! 1. Zone-to-zone TCP throughput over vNICs (veth pairs on an etherstub,
//!    anti-spoofing on, as a zone's NICs are by default) against the same
//!    two zones joined by a bare veth pair (no bridge, no classifier):
//!    a 3-second window of one TCP stream, each way, median of 3.
//! 2. The anti-spoofing classifier's cost per frame: `BPF_PROG_TEST_RUN`
//!    of the ingress program (mac-nospoof, ip-nospoof with two prefixes,
//!    restricted) on a 64-byte UDP/IPv4 frame, against a program that only
//!    returns, a million runs each.
//! 3. Zone boot (`vmadm create` with autoboot) with one vNIC against
//!    none, interleaved, median of 10.
//!
//! Traffic flows only between the bench's own zones, on its own
//! etherstub, with documentation addresses.

use net::antispoof::{self, IngressConfig};
use net::netlink::{LinkChange, Netlink, Netns, VethSpec};
use net::{Cidr, MacAddr};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const LUMEN: &str = env!("CARGO_BIN_EXE_lumen");

fn lumen(root: &Path, args: &[&str], stdin: &str) -> String {
    use std::io::Write;
    let mut c = Command::new(LUMEN)
        .env("LUMEN_ROOT", root)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lumen");
    if let Some(mut i) = c.stdin.take() {
        let _ = i.write_all(stdin.as_bytes());
    }
    let out = c.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "lumen {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn nettool() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lumen-bench-net-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bin = dir.join("nettool");
    let st = Command::new("gcc")
        .args(["-O2", "-static", "-o"])
        .arg(&bin)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/zone_net/nettool.c"))
        .status()
        .expect("gcc");
    assert!(st.success());
    bin
}

/// Create (and boot) a zone with `nics` (JSON); its UUID.
fn zone(root: &Path, tool: &Path, nics: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let out = lumen(
        root,
        &["vmadm", "create"],
        &format!(
            r#"{{"autoboot": false, "init": ["/bin/sh", "-c", "while true; do sleep 1; done"], "nics": {nics}}}"#
        ),
    );
    let uuid = out.split_whitespace().last().expect("uuid").to_string();
    let opt = root.join("zones").join(&uuid).join("root/opt");
    std::fs::create_dir_all(&opt).expect("opt");
    std::fs::set_permissions(&opt, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::copy(tool, opt.join("nettool")).expect("copy");
    lumen(root, &["vmadm", "start", &uuid], "");
    uuid
}

/// Mbit/s of one TCP stream from zone `from` to zone `to` at `ip`.
fn stream(root: &Path, from: &str, to: &str, ip: &str, port: u16) -> f64 {
    use std::io::BufRead;
    let port = port.to_string();
    let mut sink = Command::new(LUMEN)
        .env("LUMEN_ROOT", root)
        .args(["zlogin", to, "/opt/nettool", "sink", &port, "3"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("sink");
    let mut r = std::io::BufReader::new(sink.stdout.take().expect("stdout"));
    let mut line = String::new();
    r.read_line(&mut line).expect("listening");
    lumen(
        root,
        &["zlogin", from, "/opt/nettool", "blast", ip, &port, "5"],
        "",
    );
    line.clear();
    r.read_line(&mut line).expect("window");
    let _ = sink.wait();
    let bytes: f64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|b| b.parse().ok())
        .unwrap_or(0.0);
    bytes * 8.0 / 3.0 / 1e6
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn init_pid(root: &Path, uuid: &str) -> u32 {
    let text = std::fs::read_to_string(root.join("zones").join(uuid).join("init")).expect("init");
    text.split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .expect("pid")
}

/// Join zones `a` and `b` by a bare veth pair (`bare0` in each) at
/// `ipa`/`ipb`.
fn bare_veth(root: &Path, a: &str, b: &str, ipa: &str, ipb: &str) {
    let mut host = Netlink::open().expect("netlink");
    let (pa, pb) = (init_pid(root, a), init_pid(root, b));
    let name = format!("lbench{}", std::process::id() % 10_000);
    host.create_veth(&VethSpec {
        name: name.clone(),
        mac: None,
        master: None,
        group: 0,
        peer_name: "bare0".into(),
        peer_mac: None,
        peer_netns: Netns::Pid(pb),
    })
    .expect("veth");
    let l = host.link(&name).expect("link").expect("made");
    host.move_link(l.index, Netns::Pid(pa), "bare0")
        .expect("move");
    for (pid, ip) in [(pa, ipa), (pb, ipb)] {
        let ns = std::fs::File::open(format!("/proc/{pid}/ns/net")).expect("ns");
        let mut z = Netlink::open_in(ns.as_fd()).expect("netlink in zone");
        let l = z.link("bare0").expect("link").expect("bare0");
        z.add_address(l.index, &Cidr::parse("ip", ip).expect("cidr"))
            .expect("address");
        z.set_link(
            l.index,
            &LinkChange {
                up: Some(true),
                ..LinkChange::default()
            },
        )
        .expect("up");
    }
}

/// Deletes the bench's zones and tag even when a step panics.
struct Cleanup<'a> {
    root: &'a Path,
    zones: Vec<String>,
    tag: String,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        for z in &self.zones {
            let _ = Command::new(LUMEN)
                .env("LUMEN_ROOT", self.root)
                .args(["vmadm", "delete", z])
                .output();
        }
        let _ = Command::new(LUMEN)
            .env("LUMEN_ROOT", self.root)
            .args(["nictagadm", "delete", &self.tag])
            .output();
    }
}

fn throughput() {
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path();
    let tool = nettool();
    let tag = format!("bn{}", std::process::id() % 10_000);
    lumen(root, &["nictagadm", "add", "-l", &tag], "");
    let nic = |ip: &str| format!(r#"[{{"nic_tag": "{tag}", "ips": ["{ip}/24"]}}]"#);
    let mut cleanup = Cleanup {
        root,
        zones: Vec::new(),
        tag: tag.clone(),
    };
    let a = zone(root, &tool, &nic("198.51.100.1"));
    cleanup.zones.push(a.clone());
    let b = zone(root, &tool, &nic("198.51.100.2"));
    cleanup.zones.push(b.clone());
    bare_veth(root, &a, &b, "203.0.113.1/24", "203.0.113.2/24");
    let mut vnic = Vec::new();
    let mut bare = Vec::new();
    for i in 0..3u16 {
        vnic.push(stream(root, &a, &b, "198.51.100.2", 5500 + i));
        bare.push(stream(root, &a, &b, "203.0.113.2", 5600 + i));
    }
    let (v, r) = (median(vnic.clone()), median(bare.clone()));
    println!("zone to zone TCP, one stream, 3 s windows:");
    println!("  over vNICs (etherstub, anti-spoofing): {v:.0} Mbit/s  (runs {vnic:.0?})");
    println!("  over a bare veth pair:                 {r:.0} Mbit/s  (runs {bare:.0?})");
    println!("  ratio: {:.2}", v / r);
}

fn classifier() {
    let mac = MacAddr([2, 8, 0x20, 1, 2, 3]);
    let cfg = IngressConfig {
        mac: Some(mac),
        ips: Some(vec![
            Cidr::parse("a", "198.51.100.7").expect("cidr"),
            Cidr::parse("a", "2001:db8::/64").expect("cidr"),
        ]),
        restricted: true,
        vid: 0,
        redirect: None,
    };
    let counters =
        net::bpf::Map::create(net::bpf::MAP_PERCPU_ARRAY, 4, 16, 3, "bench_drops").expect("map");
    let (mut insns, relocs) = antispoof::ingress(&cfg);
    for at in relocs {
        use std::os::fd::AsRawFd;
        insns[at].imm = counters.fd().as_raw_fd();
    }
    let load = |insns: &[d_lang::codegen::insn::Insn]| {
        net::bpf::prog_load(net::bpf::PROG_SCHED_CLS, "bench", &antispoof::encode(insns))
            .unwrap_or_else(|(e, log)| panic!("load: {e}\n{log}"))
    };
    let full = load(&insns);
    let empty = load(&[
        d_lang::codegen::insn::Insn::mov64_imm(0, 0),
        d_lang::codegen::insn::Insn::exit(),
    ]);
    // A UDP/IPv4 frame from the allowed MAC and address, 64 bytes.
    let mut frame = vec![0u8; 64];
    frame[..6].copy_from_slice(&[2, 8, 0x20, 9, 9, 9]);
    frame[6..12].copy_from_slice(&mac.0);
    frame[12] = 0x08;
    frame[14] = 0x45;
    frame[23] = 17;
    frame[26..30].copy_from_slice(&[192, 0, 2, 7]);
    frame[30..34].copy_from_slice(&[192, 0, 2, 8]);
    let mut spoofed = frame.clone();
    spoofed[26..30].copy_from_slice(&[192, 0, 2, 99]);
    let runs = 1_000_000;
    let t = |p: &std::os::fd::OwnedFd, f: &[u8]| {
        let mut v = Vec::new();
        for _ in 0..5 {
            v.push(f64::from(
                net::bpf::test_run(p.as_fd(), f, runs).expect("test run").1,
            ));
        }
        median(v)
    };
    let (base, pass, drop) = (t(&empty, &frame), t(&full, &frame), t(&full, &spoofed));
    println!("anti-spoofing classifier, BPF_PROG_TEST_RUN, {runs} runs (median of 5):");
    println!("  empty program:                 {base:.1} ns a frame");
    println!(
        "  classifier, frame passes:      {pass:.1} ns ({:+.1} ns)",
        pass - base
    );
    println!(
        "  classifier, spoof dropped:     {drop:.1} ns ({:+.1} ns)",
        drop - base
    );
}

fn boot() {
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path();
    let tag = format!("bb{}", std::process::id() % 10_000);
    lumen(root, &["nictagadm", "add", "-l", &tag], "");
    let mut with = Vec::new();
    let mut without = Vec::new();
    for i in 0..10 {
        for nic in [true, false] {
            let nics = if nic {
                format!(
                    r#"[{{"nic_tag": "{tag}", "ips": ["198.51.100.{}/24"]}}]"#,
                    10 + i
                )
            } else {
                "[]".into()
            };
            let manifest = format!(
                r#"{{"init": ["/bin/sh", "-c", "while true; do sleep 1; done"], "nics": {nics}}}"#
            );
            let t0 = Instant::now();
            let out = lumen(root, &["vmadm", "create"], &manifest);
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            let uuid = out.split_whitespace().last().expect("uuid").to_string();
            if nic { &mut with } else { &mut without }.push(ms);
            lumen(root, &["vmadm", "delete", &uuid], "");
        }
    }
    let (w, o) = (median(with.clone()), median(without.clone()));
    println!("zone boot (vmadm create, autoboot), median of 10:");
    println!("  no NIC:  {o:.1} ms  (runs {without:.1?})");
    println!("  one vNIC: {w:.1} ms  (runs {with:.1?}), {:+.1} ms", w - o);
    lumen(root, &["nictagadm", "delete", &tag], "");
}

fn main() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("bench net: needs root");
        return;
    }
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    classifier();
    boot();
    throughput();
}
