//! `lumen dladm` end to end, as root: Crossbow's columns parsed back from
//! `-p -o`, bad input refused by name with nothing made, and creates
//! killed at random moments leaving only what `dladm` shows and deletes.
//! Links are named after this process so parallel runs do not meet.

mod common;

use common::{root, text, LUMEN};
use std::process::Command;
use std::time::Duration;

fn dladm(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(LUMEN)
        .arg("dladm")
        .args(args)
        .output()
        .expect("run lumen dladm");
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

fn ok(args: &[&str]) -> String {
    let (code, out, err) = dladm(args);
    assert_eq!(code, 0, "dladm {args:?}: {err}");
    out
}

fn tag(t: &str) -> String {
    format!("d{t}{}", std::process::id() % 100_000)
}

/// Removes vNICs and etherstubs by name when dropped.
struct Links {
    vnics: Vec<String>,
    stubs: Vec<String>,
}

impl Drop for Links {
    fn drop(&mut self) {
        for v in &self.vnics {
            let _ = dladm(&["delete-vnic", v]);
        }
        for s in &self.stubs {
            let _ = dladm(&["delete-etherstub", s]);
        }
    }
}

/// Split a parsable line at unescaped ':' and unescape the fields.
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.last_mut().unwrap().push(n);
                }
            }
            ':' => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out
}

#[test]
fn show_vnic_has_crossbows_columns_and_parses_back() {
    if !root("show_vnic_has_crossbows_columns_and_parses_back") {
        return;
    }
    let stub = tag("s");
    let (a, b) = (tag("a"), tag("b"));
    let _l = Links {
        vnics: vec![a.clone(), b.clone()],
        stubs: vec![stub.clone()],
    };
    ok(&["create-etherstub", &stub]);
    ok(&["create-vnic", "-l", &stub, "-m", "2:8:20:0:a:1", &a]);
    ok(&[
        "create-vnic",
        "-t",
        "-l",
        &stub,
        "-v",
        "42",
        "-p",
        "maxbw=25M",
        &b,
    ]);
    let table = ok(&["show-vnic"]);
    let mut lines = table.lines();
    assert_eq!(
        lines.next().unwrap(),
        "LINK         OVER       SPEED  MACADDRESS        MACADDRTYPE       VID"
    );
    let row_a = table.lines().find(|l| l.starts_with(&a)).expect("row of a");
    assert_eq!(
        row_a,
        format!("{a:<13}{stub:<11}0      2:8:20:0:a:1      fixed             0")
    );
    // Every column back from -p -o, in a chosen order.
    let parsable = ok(&[
        "show-vnic",
        "-p",
        "-o",
        "LINK,OVER,SPEED,MACADDRESS,MACADDRTYPE,VID,ZONE",
    ]);
    let rows: Vec<Vec<String>> = parsable
        .lines()
        .map(fields)
        .filter(|f| f[0] == a || f[0] == b)
        .collect();
    assert_eq!(rows.len(), 2, "{parsable}");
    assert_eq!(
        rows[0],
        [&a, &stub, "0", "2:8:20:0:a:1", "fixed", "0", "--"]
    );
    assert_eq!(rows[1][0], b);
    assert_eq!(rows[1][2], "25");
    assert_eq!(rows[1][4], "random");
    assert_eq!(rows[1][5], "42");
    let mac = &rows[1][3];
    assert!(mac.starts_with("2:8:20:"), "{mac}");
    // One field: no escaping, as libofmt.
    assert_eq!(
        ok(&["show-vnic", "-p", "-o", "macaddress", &a]),
        "2:8:20:0:a:1\n"
    );
    // -p needs -o; -o names real fields.
    let (code, _, err) = dladm(&["show-vnic", "-p"]);
    assert_eq!((code, err.trim()), (1, "dladm: -p requires -o"));
    let (code, _, err) = dladm(&["show-vnic", "-o", "LINK,SPEEED"]);
    assert_eq!(
        (code, err.trim()),
        (1, "dladm: invalid output field 'SPEEED'")
    );
    // show-link and show-linkprop know the vNIC.
    let links = ok(&["show-link", "-p", "-o", "link,class,over", &b]);
    assert_eq!(fields(links.trim()), [&b, "vnic", &stub]);
    let props = ok(&[
        "show-linkprop",
        "-c",
        "-o",
        "property,perm,value",
        "-p",
        "maxbw,zone",
        &b,
    ]);
    assert_eq!(props, "maxbw:rw:25\nzone:r-:--\n");
    ok(&["delete-vnic", &a]);
    ok(&["delete-vnic", &b]);
    ok(&["delete-etherstub", &stub]);
    assert!(!ok(&["show-vnic", "-p", "-o", "link"]).contains(&a));
}

#[test]
fn bad_input_names_the_field_and_makes_nothing() {
    if !root("bad_input_names_the_field_and_makes_nothing") {
        return;
    }
    let stub = tag("t");
    let v = tag("v");
    let _l = Links {
        vnics: vec![v.clone()],
        stubs: vec![stub.clone()],
    };
    ok(&["create-etherstub", &stub]);
    for (args, want) in [
        (
            vec!["-l", "nosuch0"],
            "dladm: link \"nosuch0\" does not exist".to_string(),
        ),
        (
            vec!["-l", &stub, "-m", "2:8:20:0:0"],
            "dladm: -m: \"2:8:20:0:0\" is not a MAC address".into(),
        ),
        (
            vec!["-l", &stub, "-m", "1:0:5e:0:0:1"],
            "dladm: -m: \"1:0:5e:0:0:1\" is a multicast address".into(),
        ),
        (
            vec!["-l", &stub, "-v", "4095"],
            "dladm: -v: \"4095\" is not a VLAN id".into(),
        ),
        (
            vec!["-l", &stub, "-v", "x"],
            "dladm: -v: \"x\" is not a VLAN id".into(),
        ),
        (
            vec!["-l", &stub, "-p", "maxbw=lots"],
            "dladm: maxbw: \"lots\"".into(),
        ),
        (
            vec!["-l", &stub, "-p", "allowed-ips=192.0.2.1/33"],
            "dladm: allowed-ips[0]: \"192.0.2.1/33\" has a bad prefix length".into(),
        ),
        (
            vec!["-l", &stub, "-p", "protection=everything"],
            "dladm: protection: \"everything\" is not a protection".into(),
        ),
        (vec!["-l", "lo"], "dladm: lo: is a loopback link".into()),
    ] {
        let mut a = vec!["create-vnic"];
        a.extend(args.iter().copied());
        a.push(&v);
        let (code, _, err) = dladm(&a);
        assert_eq!(code, 1, "{a:?}");
        assert!(err.starts_with(&want), "{a:?}: {err}");
        assert!(
            !ok(&["show-link", "-p", "-o", "link"]).contains(&v),
            "{a:?} left a link"
        );
    }
    let (code, _, err) = dladm(&["create-vnic", "-l", &stub, "bad-name"]);
    assert_eq!(code, 1);
    assert!(err.starts_with("dladm: vnic: \"bad-name\""), "{err}");
    let (_, _, err) = dladm(&["set-linkprop", "-p", "maxbw=1M", "nosuch0"]);
    assert_eq!(err.trim(), "dladm: vnic \"nosuch0\" does not exist");
    let (_, _, err) = dladm(&["delete-etherstub", "nosuch0"]);
    assert_eq!(err.trim(), "dladm: etherstub \"nosuch0\" does not exist");
}

/// Every Lumen link (group 0x4c4d) whose name contains `part`.
fn lumen_links(part: &str) -> Vec<String> {
    let mut nl = net::netlink::Netlink::open().expect("netlink");
    nl.links()
        .expect("links")
        .into_iter()
        .filter(|l| l.group == net::link::GROUP && l.name.contains(part))
        .map(|l| l.name)
        .collect()
}

#[test]
fn creates_killed_midway_leave_only_what_dladm_shows_and_deletes() {
    if !root("creates_killed_midway_leave_only_what_dladm_shows_and_deletes") {
        return;
    }
    let stub = tag("k");
    let v = tag("kv");
    let _l = Links {
        vnics: vec![v.clone()],
        stubs: vec![stub.clone()],
    };
    ok(&["create-etherstub", &stub]);
    // Seeded delays from 0 to ~12 ms: a create takes a few ms here.
    let mut seed: u64 = 0x5eed_1234;
    for round in 0..24 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = Duration::from_micros((seed >> 33) % 12_000);
        let mut child = Command::new(LUMEN)
            .args([
                "dladm",
                "create-vnic",
                "-l",
                &stub,
                "-p",
                "maxbw=5M,protection=mac-nospoof",
                &v,
            ])
            .spawn()
            .expect("spawn");
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        let listed: Vec<String> = ok(&["show-vnic", "-p", "-o", "link"])
            .lines()
            .filter(|l| l.starts_with(&v))
            .map(String::from)
            .collect();
        for name in &listed {
            ok(&["delete-vnic", name]);
        }
        let left = lumen_links(&v);
        assert!(
            left.is_empty(),
            "round {round} ({delay:?}): {left:?} left after deleting {listed:?}"
        );
        // No shaper outlives its vNIC (dladm sweeps them).
        ok(&["show-vnic"]);
        let ifbs = lumen_links("lmifb");
        let mut nl = net::netlink::Netlink::open().unwrap();
        for i in ifbs {
            // Named after its vNIC's host end, which must still be one.
            let host: u32 = i["lmifb".len()..].parse().unwrap();
            let owner = nl.link_by_index(host).unwrap();
            assert!(
                owner.as_ref().is_some_and(|o| matches!(
                    net::link::owned(o),
                    Some(net::link::Owned::Vnic(_))
                )),
                "round {round}: {i} outlived its vNIC ({owner:?})"
            );
        }
    }
}
