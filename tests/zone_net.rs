//! Zones on vNICs, end to end, as root: two zones on an etherstub talk
//! TCP both ways; `maxbw` holds a zone to its cap; anti-spoofing drops
//! and counts forged frames; NICs come and go with `vmadm update`.
//!
//! Traffic only ever flows between the zones a test makes, on an
//! etherstub of the test's own (a local nic tag), with documentation
//! addresses (198.51.100.0/24); every workload (`zone_net/nettool.c`) is
//! bounded in time.

mod common;

use common::{root, text, LUMEN};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The workloads, built once per test process.
fn nettool() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        common::compile_c(
            "nettool",
            include_str!("zone_net/nettool.c"),
            &["-O1", "-static"],
        )
    })
    .clone()
}

fn lumen(root: &Path, args: &[&str]) -> (i32, String, String) {
    let out = common::lumen_in(root, args, "");
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

fn ok(root: &Path, args: &[&str]) -> String {
    let (code, out, err) = lumen(root, args);
    assert_eq!(code, 0, "lumen {args:?}: {err}");
    out
}

/// A test's node: its LUMEN_ROOT, a local nic tag (an etherstub of its
/// own) and its zones, all removed on drop.
pub struct Node {
    dir: tempfile::TempDir,
    pub tag: String,
    zones: Vec<String>,
}

impl Node {
    pub fn new(name: &str) -> Node {
        let dir = tempfile::tempdir().expect("temp dir");
        let tag = format!("{name}{}", std::process::id() % 10_000);
        ok(dir.path(), &["nictagadm", "add", "-l", &tag]);
        Node {
            dir,
            tag,
            zones: Vec::new(),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Create a zone with `nics` (JSON), give it the workloads, boot it;
    /// its UUID.
    pub fn zone(&mut self, alias: &str, nics: &str) -> String {
        let manifest = format!(
            r#"{{"alias": "{alias}", "autoboot": false, "max_physical_memory": 256,
                "init": ["/bin/sh", "-c", "while true; do sleep 1; done"], "nics": {nics}}}"#
        );
        let out = common::lumen_in(self.root(), &["vmadm", "create"], &manifest);
        let err = text(&out.stderr);
        assert!(out.status.success(), "create: {err}");
        let uuid = err
            .split_whitespace()
            .last()
            .expect("the new zone's UUID")
            .to_string();
        self.zones.push(uuid.clone());
        let opt = self
            .root()
            .join("zones")
            .join(&uuid)
            .join("root")
            .join("opt");
        std::fs::create_dir_all(&opt).expect("opt");
        std::fs::set_permissions(&opt, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::copy(nettool(), opt.join("nettool")).expect("copy");
        ok(self.root(), &["vmadm", "start", &uuid]);
        uuid
    }

    /// A zone with one NIC of this node's tag at `ip`/24.
    pub fn zone_at(&mut self, alias: &str, ip: &str, extra: &str) -> String {
        let tag = self.tag.clone();
        self.zone(
            alias,
            &format!(r#"[{{"nic_tag": "{tag}", "ips": ["{ip}/24"] {extra}}}]"#),
        )
    }

    /// Run `nettool ARGS` in zone `uuid` and wait: its output.
    pub fn run(&self, uuid: &str, args: &[&str]) -> String {
        let mut a = vec!["zlogin", uuid, "/opt/nettool"];
        a.extend_from_slice(args);
        ok(self.root(), &a)
    }

    /// Start `nettool ARGS` in zone `uuid`, and wait until it says it
    /// listens.
    pub fn start(&self, uuid: &str, args: &[&str]) -> Child {
        use std::io::BufRead;
        let mut child = Command::new(LUMEN)
            .env("LUMEN_ROOT", self.root())
            .args(["zlogin", uuid, "/opt/nettool"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("zlogin");
        let mut line = String::new();
        let out = child.stdout.take().expect("stdout");
        let mut reader = std::io::BufReader::new(out);
        reader.read_line(&mut line).expect("read");
        assert_eq!(line.trim(), "listening", "{args:?}");
        child.stdout = Some(reader.into_inner());
        child
    }

    /// The vNIC of zone `uuid` (`zN_net0`).
    pub fn vnic(&self, uuid: &str) -> String {
        let rows = ok(
            self.root(),
            &["dladm", "show-vnic", "-p", "-o", "link,zone"],
        );
        rows.lines()
            .find_map(|l| l.strip_suffix(&format!(":{uuid}")).map(String::from))
            .unwrap_or_else(|| panic!("no vNIC of zone {uuid} in {rows}"))
    }

    pub fn prop(&self, vnic: &str, prop: &str) -> String {
        ok(
            self.root(),
            &[
                "dladm",
                "show-linkprop",
                "-c",
                "-o",
                "value",
                "-p",
                prop,
                vnic,
            ],
        )
        .trim()
        .to_string()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        for z in &self.zones {
            let _ = lumen(self.root(), &["vmadm", "delete", z]);
        }
        let _ = lumen(self.root(), &["nictagadm", "delete", &self.tag]);
    }
}

fn finish(child: Child) -> String {
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn two_zones_on_an_etherstub_exchange_tcp_both_ways() {
    if !root("two_zones_on_an_etherstub_exchange_tcp_both_ways") {
        return;
    }
    let mut node = Node::new("tcp");
    let a = node.zone_at(
        "tcp-a",
        "198.51.100.11",
        r#", "gateways": ["198.51.100.1"]"#,
    );
    let b = node.zone_at("tcp-b", "198.51.100.12", "");
    // The zone sees its NIC as net0, with its address and route, set
    // before its init ran; it cannot change them (no net_admin).
    let (_, addrs, _) = lumen(node.root(), &["zlogin", &a, "cat", "/proc/net/route"]);
    assert!(addrs.contains("net0"), "{addrs}");
    let server = node.start(&a, &["serve", "5000", "2"]);
    assert_eq!(
        node.run(&b, &["send", "198.51.100.11", "5000", "1000000"]),
        "got 1000000\n"
    );
    assert_eq!(
        node.run(&b, &["send", "198.51.100.11", "5000", "7"]),
        "got 7\n"
    );
    assert!(finish(server).contains("served 2"));
    let server = node.start(&b, &["serve", "5001", "1"]);
    assert_eq!(
        node.run(&a, &["send", "198.51.100.12", "5001", "2345678"]),
        "got 2345678\n"
    );
    assert!(finish(server).contains("served 1"));
    // dladm shows each zone's vNIC, over the tag's etherstub, in its zone.
    let va = node.vnic(&a);
    assert!(va.starts_with('z') && va.ends_with("_net0"), "{va}");
    let row = ok(
        node.root(),
        &[
            "dladm",
            "show-vnic",
            "-p",
            "-o",
            "over,macaddrtype,vid",
            &va,
        ],
    );
    assert_eq!(row.trim(), format!("{}0:fixed:0", node.tag));
    assert_eq!(
        node.prop(&va, "protection"),
        "mac-nospoof,ip-nospoof,restricted"
    );
    assert_eq!(node.prop(&va, "allowed-ips"), "198.51.100.11/32");
    // The zone's root cannot change its own address.
    let (code, _, _) = lumen(
        node.root(),
        &[
            "zlogin",
            &a,
            "ip",
            "addr",
            "add",
            "198.51.100.99/24",
            "dev",
            "net0",
        ],
    );
    assert_ne!(code, 0, "a zone changed its own address");
    // Stopped, the zone's vNIC is gone at once.
    ok(node.root(), &["vmadm", "stop", &a]);
    let vnics = ok(
        node.root(),
        &["dladm", "show-vnic", "-p", "-o", "link,zone"],
    );
    assert!(!vnics.contains(&a), "{vnics}");
}

#[test]
fn maxbw_holds_a_zone_to_10_mbit_both_ways() {
    if !root("maxbw_holds_a_zone_to_10_mbit_both_ways") {
        return;
    }
    let mut node = Node::new("bw");
    let a = node.zone_at("bw-a", "198.51.100.21", "");
    let b = node.zone_at("bw-b", "198.51.100.22", "");
    let va = node.vnic(&a);
    ok(
        node.root(),
        &["dladm", "set-linkprop", "-p", "maxbw=10M", &va],
    );
    assert_eq!(node.prop(&va, "maxbw"), "10");
    // TCP payload over 3 s, after a second for the sender to fill the
    // queue. 10 Mbit/s on the wire is ~9.6 Mbit/s of payload (Ethernet,
    // IP and TCP headers are ~4% of a full frame).
    let rate = |from: &str, to: &str, ip: &str, port: &str| -> f64 {
        let sink = node.start(to, &["sink", port, "3"]);
        node.run(from, &["blast", ip, port, "5"]);
        let out = finish(sink);
        let bytes: f64 = out
            .split_whitespace()
            .nth(1)
            .and_then(|b| b.parse().ok())
            .unwrap_or_else(|| panic!("sink said {out:?}"));
        bytes * 8.0 / 3.0 / 1e6
    };
    let out_of_a = rate(&a, &b, "198.51.100.22", "5100");
    let into_a = rate(&b, &a, "198.51.100.21", "5101");
    for (what, r) in [("from the zone", out_of_a), ("to the zone", into_a)] {
        assert!(
            (9.0..=11.0).contains(&r),
            "{what}: {r:.2} Mbit/s, not 10 ± 10%"
        );
    }
    // Without the cap the same path is far faster.
    ok(
        node.root(),
        &["dladm", "reset-linkprop", "-p", "maxbw", &va],
    );
    let free = rate(&a, &b, "198.51.100.22", "5102");
    assert!(free > 50.0, "uncapped: {free:.1} Mbit/s");
}

#[test]
fn forged_frames_are_dropped_and_counted_and_pass_without_protection() {
    if !root("forged_frames_are_dropped_and_counted_and_pass_without_protection") {
        return;
    }
    let mut node = Node::new("spoof");
    let a = node.zone_at("spoof-a", "198.51.100.31", "");
    let b = node.zone_at("spoof-b", "198.51.100.32", "");
    let (va, vb) = (node.vnic(&a), node.vnic(&b));
    let mac = |v: &str| {
        ok(
            node.root(),
            &["dladm", "show-vnic", "-p", "-o", "macaddress", v],
        )
        .trim()
        .to_string()
    };
    let (amac, bmac) = (mac(&va), mac(&vb));
    let forge = |src_mac: &str, src_ip: &str, n: &str| {
        node.run(
            &a,
            &[
                "forge",
                "net0",
                src_mac,
                src_ip,
                &bmac,
                "198.51.100.32",
                "6000",
                n,
            ],
        )
    };
    let recv = node.start(&b, &["udprecv", "6000", "3"]);
    assert_eq!(forge(&amac, "198.51.100.99", "5"), "sent 5\n");
    assert_eq!(forge("2:8:20:1:1:1", "198.51.100.31", "3"), "sent 3\n");
    assert_eq!(forge(&amac, "198.51.100.31", "4"), "sent 4\n");
    assert_eq!(finish(recv).trim().lines().last(), Some("udp 4"));
    assert_eq!(node.prop(&va, "ip-nospoof-drops"), "5");
    assert_eq!(node.prop(&va, "mac-nospoof-drops"), "3");
    assert_eq!(node.prop(&va, "restricted-drops"), "0");
    // Without protection the same frames pass, and nothing more is counted.
    ok(
        node.root(),
        &["dladm", "set-linkprop", "-p", "protection=none", &va],
    );
    let recv = node.start(&b, &["udprecv", "6000", "3"]);
    forge(&amac, "198.51.100.99", "5");
    forge("2:8:20:1:1:1", "198.51.100.31", "3");
    assert_eq!(finish(recv).trim().lines().last(), Some("udp 8"));
    // No classifier is left to count.
    assert_eq!(node.prop(&va, "ip-nospoof-drops"), "0");
}

#[test]
fn nics_come_and_go_with_vmadm_update_and_bad_tags_are_named() {
    if !root("nics_come_and_go_with_vmadm_update_and_bad_tags_are_named") {
        return;
    }
    let mut node = Node::new("upd");
    let a = node.zone_at("upd-a", "198.51.100.41", "");
    let b = node.zone_at("upd-b", "198.51.100.42", "");
    let tag = node.tag.clone();
    let add = format!(r#"{{"add_nics": [{{"nic_tag": "{tag}", "ips": ["203.0.113.41/24"]}}]}}"#);
    let out = common::lumen_in(node.root(), &["vmadm", "update", &a], &add);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (_, ifs, _) = lumen(node.root(), &["zlogin", &a, "cat", "/proc/net/dev"]);
    assert!(ifs.contains("net1"), "{ifs}");
    let get = ok(node.root(), &["vmadm", "get", &a]);
    assert!(get.contains("203.0.113.41/24"), "{get}");
    // Reached at once on its new address.
    let server = node.start(&a, &["serve", "5200", "1"]);
    let out = common::lumen_in(
        node.root(),
        &["vmadm", "update", &b],
        &add.replace(".41/", ".42/"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        node.run(&b, &["send", "203.0.113.41", "5200", "10"]),
        "got 10\n"
    );
    finish(server);
    ok(node.root(), &["vmadm", "update", &a, "remove_nics=net1"]).to_string();
    let (_, ifs, _) = lumen(node.root(), &["zlogin", &a, "cat", "/proc/net/dev"]);
    assert!(!ifs.contains("net1"), "{ifs}");
    // A tag the node does not have: named by its path, and nothing made.
    let manifest = r#"{"autoboot": true, "init": ["/bin/sh", "-c", "sleep 100"],
        "nics": [{"nic_tag": "nosuchtag", "ips": ["198.51.100.9/24"]}]}"#;
    let out = common::lumen_in(node.root(), &["vmadm", "create"], manifest);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("$.nics[0].nic_tag: \"nosuchtag\" is not a nic tag"),
        "{err}"
    );
    let vnics = ok(node.root(), &["dladm", "show-vnic", "-p", "-o", "zone"]);
    assert_eq!(
        vnics.lines().filter(|z| *z == a || *z == b).count(),
        3,
        "{vnics}"
    );
}

/// `lumen dtrace -q -n SCRIPT` started in the background, ready once its
/// probes are enabled (it prints "ready" from BEGIN); waits for it with
/// [`finish`].
fn trace(script: &str) -> Child {
    use std::io::BufRead;
    let mut child = Command::new(LUMEN)
        .args([
            "dtrace",
            "-q",
            "-n",
            &format!("BEGIN {{ printf(\"ready\\n\"); }} {script}"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lumen dtrace");
    let out = child.stdout.take().expect("stdout");
    let mut reader = std::io::BufReader::new(out);
    let mut line = String::new();
    reader.read_line(&mut line).expect("read");
    assert_eq!(line.trim(), "ready", "dtrace did not start");
    child.stdout = Some(reader.into_inner());
    child
}

/// End a trace as Ctrl-C would, once the traffic it counts is over
/// (not after a fixed time, which a loaded machine may outrun), and
/// return what it printed.
fn stop(child: Child) -> String {
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    finish(child)
}

/// `@[key] = value` rows of a finished trace: (key, value).
fn rows(out: &str) -> Vec<(String, i64)> {
    out.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let k = w.next()?.to_string();
            let v = w.next()?.parse().ok()?;
            Some((k, v))
        })
        .collect()
}

#[test]
fn d_names_the_zone_of_each_connection_and_packet() {
    if !root("d_names_the_zone_of_each_connection_and_packet") {
        return;
    }
    let mut node = Node::new("dz");
    let a = node.zone_at("dz-a", "198.51.100.51", "");
    let b = node.zone_at("dz-b", "198.51.100.52", "");
    let c = node.zone_at("dz-c", "198.51.100.53", "");
    let t = trace(
        "tcp:::accept-established { @acc[zonename] = count(); } \
         ip:::send /args[4]->ipv4_protocol == 17 && args[2]->ip_daddr == \"198.51.100.52\"/ \
         { @bytes[strjoin(\"bytes-\", zonename)] = sum(args[2]->ip_plength); }",
    );
    // 3 connections to zone a, 5 to zone b, all from zone c.
    let sa = node.start(&a, &["serve", "5300", "3"]);
    let sb = node.start(&b, &["serve", "5301", "5"]);
    for _ in 0..3 {
        node.run(&c, &["send", "198.51.100.51", "5300", "100"]);
    }
    for _ in 0..5 {
        node.run(&c, &["send", "198.51.100.52", "5301", "100"]);
    }
    finish(sa);
    finish(sb);
    // UDP from a and c to b, after the connections: ip:::send sums each
    // zone's IP payloads (datagram + 8-byte UDP header).
    let recv = node.start(&b, &["udprecv", "7000", "3"]);
    assert_eq!(
        node.run(&a, &["udpsend", "198.51.100.52", "7000", "100", "4"]),
        "sent 4\n"
    );
    assert_eq!(
        node.run(&c, &["udpsend", "198.51.100.52", "7000", "200", "7"]),
        "sent 7\n"
    );
    assert!(finish(recv).contains("udp 11"));
    let out = stop(t);
    let got = rows(&out);
    let count = |z: &str| got.iter().find(|(k, _)| k == z).map(|(_, v)| *v);
    assert_eq!(count(&a), Some(3), "{out}");
    assert_eq!(count(&b), Some(5), "{out}");
    assert_eq!(count(&c), None, "{out}");
    assert_eq!(count("global"), None, "{out}");
    assert_eq!(count(&format!("bytes-{a}")), Some(4 * 108), "{out}");
    assert_eq!(count(&format!("bytes-{c}")), Some(7 * 208), "{out}");
    assert_eq!(count(&format!("bytes-{b}")), None, "{out}");
}

#[test]
fn vnic_drop_sees_each_forged_frame_with_its_reason() {
    if !root("vnic_drop_sees_each_forged_frame_with_its_reason") {
        return;
    }
    let mut node = Node::new("vd");
    let a = node.zone_at("vd-a", "198.51.100.61", "");
    let b = node.zone_at("vd-b", "198.51.100.62", "");
    let (va, vb) = (node.vnic(&a), node.vnic(&b));
    let mac = |v: &str| {
        ok(
            node.root(),
            &["dladm", "show-vnic", "-p", "-o", "macaddress", v],
        )
        .trim()
        .to_string()
    };
    let (amac, bmac) = (mac(&va), mac(&vb));
    let t = trace(&format!(
        "vnic:::drop {{ @[strjoin(args[0], strjoin(\"/\", strjoin(args[2], strjoin(\"/\", zonename))))] = count(); }} \
         vnic:::tx /args[0] == \"{va}\"/ {{ @[\"tx\"] = count(); }} tick-5s {{ exit(0); }}"
    ));
    node.run(
        &a,
        &[
            "forge",
            "net0",
            &amac,
            "198.51.100.99",
            &bmac,
            "198.51.100.62",
            "6000",
            "6",
        ],
    );
    node.run(
        &a,
        &[
            "forge",
            "net0",
            "2:8:20:1:1:1",
            "198.51.100.61",
            &bmac,
            "198.51.100.62",
            "6000",
            "2",
        ],
    );
    node.run(
        &a,
        &[
            "forge",
            "net0",
            &amac,
            "198.51.100.61",
            &bmac,
            "198.51.100.62",
            "6000",
            "3",
        ],
    );
    let out = finish(t);
    let got = rows(&out);
    let count = |k: &str| got.iter().find(|(x, _)| x == k).map(|(_, v)| *v);
    assert_eq!(count(&format!("{va}/ip-nospoof/{a}")), Some(6), "{out}");
    assert_eq!(count(&format!("{va}/mac-nospoof/{a}")), Some(2), "{out}");
    // Every frame the zone sent went through tx, dropped or not.
    assert!(count("tx").is_some_and(|n| n >= 11), "{out}");
    assert_eq!(node.prop(&va, "ip-nospoof-drops"), "6");
}

#[test]
fn a_vm_on_the_etherstub_exchanges_frames_with_a_zone() {
    if !common::kvm("a_vm_on_the_etherstub_exchanges_frames_with_a_zone") {
        return;
    }
    let mut node = Node::new("vmz");
    // Its frames are of a private ethertype: allowed on both NICs.
    let z = node.zone_at(
        "vmz-z",
        "198.51.100.71",
        r#", "allow_restricted_traffic": true"#,
    );
    let pong = node.start(&z, &["pong", "net0", "50"]);
    let payload = node.root().join("net.bin");
    std::fs::write(
        &payload,
        hypervisor::guests::by_name("net").expect("the net test guest"),
    )
    .expect("payload");
    let tag = node.tag.clone();
    let manifest = format!(
        r#"{{"brand": "kvm", "alias": "vmz-vm", "ram": 32, "vcpus": 1, "payload": "{}",
            "boot_args": "wait=6000000",
            "nics": [{{"nic_tag": "{tag}", "mac": "02:4c:00:00:bb:01",
                       "allow_restricted_traffic": true}}]}}"#,
        payload.display()
    );
    let out = common::lumen_in(node.root(), &["vmadm", "create"], &manifest);
    let err = text(&out.stderr);
    assert!(out.status.success(), "create: {err}");
    let vm = err.split_whitespace().last().expect("uuid").to_string();
    node.zones.push(vm.clone());
    // The VM's NIC is a tap on the same etherstub, in the VM's zone.
    let vnics = ok(
        node.root(),
        &[
            "dladm",
            "show-vnic",
            "-p",
            "-o",
            "link,over,macaddress,zone",
        ],
    );
    assert!(
        vnics
            .lines()
            .any(|l| l.ends_with(&format!(":{tag}0:2\\:4c\\:0\\:0\\:bb\\:1:{vm}"))),
        "{vnics}"
    );
    // The guest broadcasts "lumen-ping"; the zone answers; the guest says so.
    let console = node
        .root()
        .join("zones")
        .join(&vm)
        .join("vm")
        .join("console.log");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut log = String::new();
    while std::time::Instant::now() < deadline {
        log = std::fs::read_to_string(&console).unwrap_or_default();
        if log.contains("net: rx ok") || log.contains("net: no") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(log.contains("net: rx ok"), "the guest's console: {log}");
    assert!(finish(pong).contains("ponged"));
}
