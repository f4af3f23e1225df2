//! `lumen vmadm` on a registry in a temporary LUMEN_ROOT: create, list,
//! get, delete, and manifest errors with their JSON paths. The zones here
//! have `"autoboot": false`, so create does not boot them (tests/zones.rs
//! boots zones).

mod common;

use common::text;

fn vmadm(root: &std::path::Path, args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    let args: Vec<&str> = std::iter::once("vmadm")
        .chain(args.iter().copied())
        .collect();
    let out = common::lumen_in(root, &args, stdin);
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn create_list_get_delete() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let (code, _, err) = vmadm(
        root,
        &["create"],
        r#"{"uuid": "11111111-1111-4111-8111-111111111111", "alias": "web0", "autoboot": false,
            "max_physical_memory": 512, "nics": [{"nic_tag": "admin"}]}"#,
    );
    assert_eq!(code, Some(0), "{err}");
    // nics are a zone's own now (checked; the tag is needed at boot).
    assert_eq!(
        err,
        "Successfully created VM 11111111-1111-4111-8111-111111111111\n"
    );
    let (code, _, err) = vmadm(
        root,
        &["create"],
        r#"{"uuid": "22222222-2222-4222-8222-222222222222", "alias": "db0", "autoboot": false,
            "max_physical_memory": 2048}"#,
    );
    assert_eq!(code, Some(0), "{err}");
    let (_, out, _) = vmadm(root, &["list"], "");
    assert_eq!(
        out,
        "UUID                                  TYPE  RAM   STATE    ALIAS\n\
         11111111-1111-4111-8111-111111111111  OS    512   stopped  web0\n\
         22222222-2222-4222-8222-222222222222  OS    2048  stopped  db0\n"
    );
    let (_, out, _) = vmadm(root, &["list", "-p", "-o", "alias,ram", "-s", "-ram"], "");
    assert_eq!(out, "db0:2048\nweb0:512\n");
    let (_, out, _) = vmadm(root, &["get", "11111111-1111-4111-8111-111111111111"], "");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["alias"], "web0");
    assert_eq!(v["state"], "stopped");
    assert_eq!(v["nics"][0]["nic_tag"], "admin");
    let (code, _, err) = vmadm(
        root,
        &["delete", "11111111-1111-4111-8111-111111111111"],
        "",
    );
    assert_eq!(code, Some(0), "{err}");
    let (_, out, _) = vmadm(root, &["list", "-H", "-o", "alias"], "");
    assert_eq!(out, "db0\n");
}

#[test]
fn bad_manifests_name_the_field_and_leave_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, _, err) = vmadm(
        dir.path(),
        &["create"],
        r#"{"cpu_cap": "half", "customer_metadata": {"role": 7}}"#,
    );
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        "lumen: invalid manifest: $.cpu_cap: expected a non-negative integer, found \"half\"; \
         $.customer_metadata.role: expected a string, found 7\n"
    );
    let (_, out, _) = vmadm(dir.path(), &["list", "-H"], "");
    assert_eq!(out, "");
    let (code, _, err) = vmadm(dir.path(), &["get", "no-such"], "");
    assert_eq!(code, Some(1));
    assert!(err.contains("no such zone: no-such"), "{err}");
}
