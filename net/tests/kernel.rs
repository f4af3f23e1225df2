//! `net` against the running kernel, as root: etherstubs, vNICs, their
//! properties and their classifier. Links are named after the test and
//! this process, and removed even when a test fails.

use net::netlink::Netlink;
use net::props::Protection;
use net::vnic::{self, MacRequest, Placement, VnicProps, VnicRequest};
use net::{etherstub, Cidr, MacAddr};

fn root(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: needs root under CI=true");
    }
    eprintln!("skipping {test}: not root");
    false
}

/// A name unique to this process and `tag` (Crossbow-style: ends in a digit).
fn name(tag: &str) -> String {
    format!("t{tag}{}", std::process::id() % 100_000)
}

/// Deletes the links it names when dropped.
struct Cleanup(Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Ok(mut nl) = Netlink::open() else { return };
        for n in self.0.iter().rev() {
            if let Ok(Some(l)) = nl.link(n) {
                let _ = net::traffic::remove(&mut nl, &l);
                let _ = nl.del_link(l.index);
            }
        }
    }
}

#[test]
fn etherstubs_come_and_go() {
    if !root("etherstubs_come_and_go") {
        return;
    }
    let stub = name("es");
    let _c = Cleanup(vec![stub.clone()]);
    let mut nl = Netlink::open().unwrap();
    let l = etherstub::create(&mut nl, &stub).unwrap();
    assert_eq!(l.kind.as_deref(), Some("bridge"));
    // The host's stack stays off it: no ARP answers, no IPv6.
    let sysctl = |p: &str| {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    assert_eq!(
        sysctl(&format!("/proc/sys/net/ipv4/conf/{stub}/arp_ignore")),
        "8"
    );
    assert_eq!(
        sysctl(&format!("/proc/sys/net/ipv4/conf/{stub}/rp_filter")),
        "1"
    );
    assert!(etherstub::list(&mut nl)
        .unwrap()
        .iter()
        .any(|l| l.name == stub));
    let e = etherstub::create(&mut nl, &stub).unwrap_err().to_string();
    assert!(e.contains("already exists"), "{e}");
    let e = etherstub::create(&mut nl, "stub").unwrap_err().to_string();
    assert!(e.starts_with("etherstub: \"stub\""), "{e}");
    etherstub::delete(&mut nl, &stub).unwrap();
    assert!(nl.link(&stub).unwrap().is_none());
    let e = etherstub::delete(&mut nl, &stub).unwrap_err().to_string();
    assert!(e.contains("does not exist"), "{e}");
    let e = etherstub::delete(&mut nl, "lo").unwrap_err().to_string();
    assert!(
        e.contains("does not exist") || e.contains("not an etherstub"),
        "{e}"
    );
}

#[test]
fn a_vnic_over_an_etherstub_with_every_property() {
    if !root("a_vnic_over_an_etherstub_with_every_property") {
        return;
    }
    let stub = name("vs");
    let vn = name("vn");
    let _c = Cleanup(vec![stub.clone(), format!("{vn}_h")]);
    let mut nl = Netlink::open().unwrap();
    etherstub::create(&mut nl, &stub).unwrap();
    let mac = MacAddr::parse("-m", "2:8:20:aa:bb:1").unwrap();
    let props = VnicProps {
        maxbw: Some(10_000_000),
        protection: Protection::ALL,
        allowed_ips: vec![
            Cidr::parse("allowed-ips", "192.0.2.10").unwrap(),
            Cidr::parse("allowed-ips", "2001:db8::/64").unwrap(),
        ],
    };
    let v = vnic::create(
        &mut nl,
        &VnicRequest {
            name: &vn,
            over: &stub,
            mac: MacRequest::Fixed(mac),
            vid: 12,
            props: props.clone(),
            placement: Placement::Global,
        },
    )
    .unwrap();
    assert_eq!(v.mac, Some(mac));
    let got = vnic::find(&mut nl, &vn).unwrap();
    assert_eq!(got.over, stub);
    assert_eq!(got.vid, 12);
    assert_eq!(got.props, props);
    assert_eq!(got.client, vn);
    let client = nl.link(&vn).unwrap().expect("the client end");
    assert_eq!(client.mac, Some(mac));
    // The classifier is attached on both sides, and the ifb exists.
    assert_eq!(net::traffic::drops(&mut nl, &got).unwrap(), [(0, 0); 3]);
    let ifb = format!("lmifb{}", got.host.index);
    assert!(nl.link(&ifb).unwrap().is_some());
    // Lifting the cap removes the ifb; the classifier stays.
    let mut less = props.clone();
    less.maxbw = None;
    vnic::set_props(&mut nl, &vn, less.clone(), None, None).unwrap();
    assert!(nl.link(&ifb).unwrap().is_none());
    assert_eq!(vnic::find(&mut nl, &vn).unwrap().props, less);
    vnic::delete(&mut nl, &vn, false).unwrap();
    assert!(nl.link(&vn).unwrap().is_none());
    assert!(nl.link(&format!("{vn}_h")).unwrap().is_none());
    etherstub::delete(&mut nl, &stub).unwrap();
}

#[test]
fn bad_vnics_leave_nothing() {
    if !root("bad_vnics_leave_nothing") {
        return;
    }
    let stub = name("bs");
    let vn = name("bv");
    let _c = Cleanup(vec![stub.clone(), format!("{vn}_h")]);
    let mut nl = Netlink::open().unwrap();
    etherstub::create(&mut nl, &stub).unwrap();
    let req = |over: &'static str| VnicRequest {
        name: "x0",
        over,
        mac: MacRequest::Random,
        vid: 0,
        props: VnicProps::default(),
        placement: Placement::Global,
    };
    let e = vnic::create(&mut nl, &req("nosuch0"))
        .unwrap_err()
        .to_string();
    assert_eq!(e, "link \"nosuch0\" does not exist");
    let e = vnic::create(&mut nl, &req("lo")).unwrap_err().to_string();
    assert!(e.contains("lo: is a loopback link"), "{e}");
    let mut r = req("lo");
    r.over = &stub;
    r.name = &vn;
    r.vid = 4095;
    let e = vnic::create(&mut nl, &r).unwrap_err().to_string();
    assert!(e.starts_with("vid: \"4095\""), "{e}");
    // Too many allowed addresses to record: refused before anything is made.
    r.vid = 0;
    r.props.allowed_ips = (0..20)
        .map(|i| Cidr::parse("a", &format!("2001:db8::{i:x}/128")).unwrap())
        .collect();
    let e = vnic::create(&mut nl, &r).unwrap_err().to_string();
    assert!(e.starts_with("allowed-ips:"), "{e}");
    assert!(nl.link(&vn).unwrap().is_none());
    assert!(nl.link(&format!("{vn}_h")).unwrap().is_none());
}
