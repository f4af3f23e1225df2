//! Issue 13's "must show": the classic container escapes, each made as
//! root inside a zone, fail and leave the host unchanged; and the same
//! program run in a `runc run` container of runc's default spec, printed
//! side by side, so a zone's boundary is measured against a known one.
//!
//! The attempts are one static C program (`zone_escape/escape.c`) that
//! prints `NAME VERDICT DETAIL` per attempt and undoes whatever it managed.
//! The host then looks for itself: the secret file's text in the output,
//! a file in its `/usr`, its `core_pattern`, every hierarchy's
//! `release_agent` and the payload's marker, the zone's own limits, and
//! who owns a file the container's root made. Host evidence of an escape
//! turns a verdict into ESCAPED whatever the program said, and whatever
//! it changed is put back.
//!
//! Needs root, cgroup v1 controllers, `gcc` with a static libc, and
//! `runc` (Debian's); under CI=true a missing one fails the test.

mod common;

use common::text;
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The attempts, in the program's order (and the table's).
const ATTACKS: &[&str] = &[
    "release_agent",
    "open_by_handle_at",
    "remount_usr_rw",
    "cgroup_pids.max",
    "cgroup_cpu.cfs_quota_us",
    "cgroup_memory.limit_in_bytes",
    "mknod_blockdev",
    "bpf",
    "perf_event_open",
    "core_pattern",
    "sysrq_trigger",
    "init_module",
    "finit_module",
    "kexec_load",
    "keyctl",
    "dmesg",
    "file_owner",
];

/// Where runc's default spec, on this kind of host, does not block an
/// attempt, and why. Every other attempt is expected blocked there too
/// (or n/a where the host's kernel lacks the feature).
const RUNC_DIFFERS: &[(&str, &str, &str)] = &[
    (
        "keyctl",
        "ESCAPED",
        "no seccomp and no user namespace: container root's user keyring is host root's",
    ),
    (
        "file_owner",
        "ESCAPED",
        "no user namespace: container root is host uid 0",
    ),
];

/// The first host uid a zone's ids may map to: zone root must be none of
/// the host's own system ids.
const FIRST_ZONE_UID: u32 = 65_536;

/// The attempts whose syscall the host kernel may lack altogether
/// (`escape probe` tells, as real root, with harmless arguments).
const PROBED: &[&str] = &[
    "bpf",
    "perf_event_open",
    "init_module",
    "finit_module",
    "kexec_load",
    "sysrq_trigger",
];

#[derive(Clone, Debug)]
struct Verdict {
    verdict: String,
    detail: String,
}

impl Verdict {
    fn escaped(&mut self, why: &str) {
        self.verdict = "ESCAPED".into();
        self.detail = format!("{} [host: {why}]", self.detail.trim_end_matches("; "));
    }
}

/// The program, built once.
fn program() -> PathBuf {
    common::compile_c(
        "escape",
        include_str!("zone_escape/escape.c"),
        &["-O1", "-static"],
    )
}

fn run_host(bin: &Path, args: &[&str]) -> String {
    let out = Command::new(bin).args(args).output().expect("run escape");
    assert!(
        out.status.success(),
        "escape {args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// What the host sets up for both runs, and removes again on drop.
struct Host {
    bin: PathBuf,
    /// A secret file outside any container, on the filesystem of `/usr`.
    secret: PathBuf,
    secret_text: String,
    /// Its file handle, `TYPE:HEX`.
    handle: String,
    /// A host block device, `MAJOR:MINOR`, and the loop device behind it.
    blockdev: String,
    /// Whether host root can open it (a host may deny even itself its
    /// disks; then the attempt shows nothing).
    blockdev_opens: bool,
    loop_dev: Option<String>,
    loop_file: Option<PathBuf>,
    /// The description of a key in host root's user keyring, its id.
    key_desc: String,
    key_id: String,
    /// The host's own answers to the harmless syscalls.
    probe: BTreeMap<String, String>,
    core_pattern: String,
    release_agents: BTreeMap<PathBuf, String>,
}

impl Host {
    fn set_up() -> Host {
        let bin = program();
        let pid = std::process::id();
        // The handle must resolve through the container's /usr (a bind
        // of the host's), so the secret lives on that filesystem.
        let usr_dev = std::fs::metadata("/usr").expect("/usr").dev();
        let dir = [PathBuf::from("/var/tmp"), std::env::temp_dir()]
            .into_iter()
            .find(|d| std::fs::metadata(d).is_ok_and(|m| m.dev() == usr_dev))
            .expect("a writable directory on /usr's filesystem (/var/tmp or TMPDIR)");
        let secret = dir.join(format!("lumen-escape-secret-{pid}"));
        let secret_text = format!("host-secret-{pid}-do-not-read");
        std::fs::write(&secret, &secret_text).expect("write the secret");
        let handle = run_host(&bin, &["handle", &secret.display().to_string()])
            .trim()
            .to_string();
        let (blockdev, loop_dev, loop_file) = block_device(pid);
        let blockdev_opens = host_opens(&blockdev);
        let key_desc = format!("lumen-escape-key-{pid}");
        let key_id = run_host(&bin, &["addkey", &key_desc, &format!("host-key-{pid}")])
            .trim()
            .to_string();
        let probe = run_host(&bin, &["probe"])
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        Host {
            bin,
            secret,
            secret_text,
            handle,
            blockdev,
            blockdev_opens,
            loop_dev,
            loop_file,
            key_desc,
            key_id,
            probe,
            core_pattern: core_pattern(),
            release_agents: release_agents(),
        }
    }

    /// The program's arguments for one run.
    fn args(&self, tag: &str, host_root: &Path) -> Vec<String> {
        vec![
            "attacks".into(),
            format!("tag={tag}"),
            format!("host-root={}", host_root.display()),
            format!("handle={}", self.handle),
            format!("blockdev={}", self.blockdev),
            format!("key={}", self.key_desc),
        ]
    }

    /// The program's lines, with the host's own evidence folded in (and
    /// whatever an escape changed put back).
    fn judge(&self, output: &str, tag: &str, host_root: &Path) -> BTreeMap<String, Verdict> {
        let mut v: BTreeMap<String, Verdict> = output
            .lines()
            .filter_map(|l| {
                let mut f = l.splitn(3, ' ');
                let (name, verdict) = (f.next()?, f.next()?);
                Some((
                    name.to_string(),
                    Verdict {
                        verdict: verdict.to_string(),
                        detail: f.next().unwrap_or("").to_string(),
                    },
                ))
            })
            .collect();
        for a in ATTACKS {
            v.entry(a.to_string()).or_insert_with(|| Verdict {
                verdict: "missing".into(),
                detail: format!("no line from the program; its output:\n{output}"),
            });
        }
        let mut hit = |name: &str, why: &str| {
            if let Some(x) = v.get_mut(name) {
                x.escaped(why);
            }
        };
        if output.contains(&self.secret_text) {
            hit(
                "open_by_handle_at",
                "the secret file's text is in the output",
            );
        }
        let usr_file = PathBuf::from(format!("/usr/lumen-escape-{tag}"));
        if usr_file.exists() {
            let _ = std::fs::remove_file(&usr_file);
            hit("remount_usr_rw", "a file was left in /usr (removed)");
        }
        let now = core_pattern();
        if now != self.core_pattern {
            let _ = std::fs::write("/proc/sys/kernel/core_pattern", &self.core_pattern);
            hit(
                "core_pattern",
                &format!("core_pattern became {now:?} (restored)"),
            );
        }
        for (file, before) in &self.release_agents {
            let now = std::fs::read_to_string(file).unwrap_or_default();
            let now = now.trim_end();
            if now != before {
                let _ = std::fs::write(file, if before.is_empty() { "\n" } else { before });
                hit(
                    "release_agent",
                    &format!("{} became {now:?} (restored)", file.display()),
                );
            }
            if let Some(h) = file.parent() {
                let group = h.join(format!("escape-{tag}"));
                if group.exists() {
                    let _ = std::fs::remove_dir(&group);
                    hit(
                        "release_agent",
                        &format!("{} was left (removed)", group.display()),
                    );
                }
            }
        }
        for d in ["root", "opt", "var/tmp", ""] {
            let marker = host_root.join(d).join(format!("escape-ran-{tag}"));
            if marker.exists() {
                hit(
                    "release_agent",
                    &format!("the payload ran as host root: {}", marker.display()),
                );
            }
        }
        if let Some(o) = v.get_mut("file_owner") {
            let inside = o.detail.trim().to_string();
            let on_host = host_root.join(inside.trim_start_matches('/'));
            *o = match std::fs::metadata(&on_host) {
                Ok(m) if m.uid() >= FIRST_ZONE_UID => Verdict {
                    verdict: "blocked".into(),
                    detail: format!("{inside} is host uid {} gid {}", m.uid(), m.gid()),
                },
                Ok(m) => Verdict {
                    verdict: "ESCAPED".into(),
                    detail: format!(
                        "{inside} is host uid {} gid {}: container root is a host system id",
                        m.uid(),
                        m.gid()
                    ),
                },
                Err(e) => Verdict {
                    verdict: "unchecked".into(),
                    detail: format!(
                        "root found nowhere on its disk to create a file ({inside}: {e})"
                    ),
                },
            };
        }
        // What the host itself cannot do proves nothing either way.
        for a in ATTACKS {
            if let (Some(why), Some(x)) = (self.not_applicable(a), v.get_mut(*a)) {
                if x.verdict == "blocked" {
                    x.verdict = "n/a".into();
                    x.detail = format!("{} ({why})", x.detail.trim_end_matches("; "));
                }
            }
        }
        v
    }

    /// Why attempt `a` cannot be made meaningful on this host, if so.
    fn not_applicable(&self, a: &str) -> Option<String> {
        if a == "mknod_blockdev" && !self.blockdev_opens {
            return Some(format!("host root cannot open {} either", self.blockdev));
        }
        let missing = missing_on_host(a);
        (PROBED.contains(&a) && self.probe.get(a).map(String::as_str) == Some(missing))
            .then(|| format!("the host kernel has no such feature: {missing} as host root too"))
    }
}

/// How the host's probe says a feature is absent.
fn missing_on_host(attack: &str) -> &'static str {
    if attack == "sysrq_trigger" {
        "ENOENT"
    } else {
        "ENOSYS"
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.secret);
        let _ = Command::new(&self.bin)
            .args(["rmkey", &self.key_id])
            .output();
        if let Some(d) = &self.loop_dev {
            let _ = Command::new("losetup").args(["-d", d]).output();
        }
        if let Some(f) = &self.loop_file {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// A host block device the attempt may read: a loop device of our own
/// (the host itself may be kept from opening its disks, and a loop
/// device's first bytes are ours, so a read shows), else the root disk.
fn block_device(pid: u32) -> (String, Option<String>, Option<PathBuf>) {
    let file = std::env::temp_dir().join(format!("lumen-escape-disk-{pid}"));
    let mut data = format!("lumen-escape-disk-{pid}").into_bytes();
    data.resize(1 << 20, 0);
    std::fs::write(&file, &data).expect("write the loop file");
    let out = Command::new("losetup")
        .args(["-f", "--show"])
        .arg(&file)
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let dev = text(&o.stdout).trim().to_string();
            let rdev = std::fs::metadata(&dev).expect("loop device").rdev();
            (
                format!("{}:{}", libc::major(rdev), libc::minor(rdev)),
                Some(dev),
                Some(file),
            )
        }
        _ => {
            let _ = std::fs::remove_file(&file);
            let dev = std::fs::metadata("/").expect("/").dev();
            (
                format!("{}:{}", libc::major(dev), libc::minor(dev)),
                None,
                None,
            )
        }
    }
}

/// Whether host root can open block device `MAJOR:MINOR` (its node in
/// the host's /dev).
fn host_opens(blockdev: &str) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let Ok(entries) = std::fs::read_dir("/dev") else {
        return false;
    };
    entries.filter_map(Result::ok).any(|e| {
        e.metadata().is_ok_and(|m| {
            m.file_type().is_block_device()
                && format!("{}:{}", libc::major(m.rdev()), libc::minor(m.rdev())) == blockdev
                && std::fs::File::open(e.path()).is_ok()
        })
    })
}

fn core_pattern() -> String {
    std::fs::read_to_string("/proc/sys/kernel/core_pattern").expect("core_pattern")
}

/// Every v1 hierarchy's release agent.
fn release_agents() -> BTreeMap<PathBuf, String> {
    std::fs::read_dir("/sys/fs/cgroup")
        .expect("/sys/fs/cgroup")
        .filter_map(|e| {
            let f = e.ok()?.path().join("release_agent");
            let v = std::fs::read_to_string(&f).ok()?;
            Some((f, v.trim_end().to_string()))
        })
        .collect()
}

/// A zone stopped and deleted on drop.
struct Zone<'a> {
    root: &'a Path,
    uuid: &'a str,
}

impl Drop for Zone<'_> {
    fn drop(&mut self) {
        let _ = common::lumen_in(self.root, &["vmadm", "stop", "-F", self.uuid], "");
        let _ = common::lumen_in(self.root, &["vmadm", "delete", self.uuid], "");
    }
}

/// The zone's own limits that the cgroup attempts go for.
const LIMITS: &[&str] = &[
    "pids/lumen/UUID/pids.max",
    "cpu/lumen/UUID/cpu.cfs_quota_us",
    "memory/lumen/UUID/memory.limit_in_bytes",
    "memory/lumen/UUID/memory.memsw.limit_in_bytes",
];

fn limits(uuid: &str) -> BTreeMap<PathBuf, String> {
    LIMITS
        .iter()
        .map(|l| Path::new("/sys/fs/cgroup").join(l.replace("UUID", uuid)))
        .filter_map(|p| Some((p.clone(), std::fs::read_to_string(&p).ok()?)))
        .collect()
}

/// Every privilege the escapes could use, granted inside a zone through
/// `limit_priv`: what then holds is the user namespace alone (and the
/// mounts it locked), not the capability set or the seccomp policy that
/// follows it.
const ALL_THE_PRIVILEGES: &str = "default,sys_admin,sys_ptrace,dac_read_search,sys_module,\
    sys_boot,sys_rawio,net_admin,bpf,perfmon,syslog,sys_resource";

/// Run the attempts in a zone with finite limits (and `limit_priv`, if
/// given); the verdicts.
fn in_a_zone(host: &Host, uuid: &str, limit_priv: Option<&str>) -> BTreeMap<String, Verdict> {
    let dir = tempfile::tempdir().expect("temp dir");
    let limit_priv = limit_priv
        .map(|l| format!(r#""limit_priv": "{l}","#))
        .unwrap_or_default();
    let manifest = format!(
        r#"{{"uuid": "{uuid}", "autoboot": false, "cpu_cap": 50, "max_lwps": 100,
            "max_physical_memory": 512, {limit_priv}
            "init": ["/bin/sh", "-c", "while true; do sleep 1; done"]}}"#
    );
    let out = common::lumen_in(dir.path(), &["vmadm", "create"], &manifest);
    assert!(out.status.success(), "create: {}", text(&out.stderr));
    let _zone = Zone {
        root: dir.path(),
        uuid,
    };
    let root = dir.path().join("zones").join(uuid).join("root");
    // Readable by all: zone root may be an unprivileged host id.
    let opt = root.join("opt");
    std::fs::create_dir_all(&opt).expect("opt");
    std::fs::set_permissions(&opt, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::copy(&host.bin, opt.join("escape")).expect("copy");
    std::fs::set_permissions(opt.join("escape"), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    let out = common::lumen_in(dir.path(), &["vmadm", "start", uuid], "");
    assert!(out.status.success(), "start: {}", text(&out.stderr));
    let before = limits(uuid);
    assert_eq!(before.len(), LIMITS.len(), "the zone's limits: {before:?}");
    let tag = format!("lumen-{}", std::process::id());
    let args = host.args(&tag, &root);
    let mut cmd: Vec<&str> = vec!["zlogin", uuid, "/opt/escape"];
    cmd.extend(args.iter().map(String::as_str));
    let out = common::lumen_in(dir.path(), &cmd, "");
    let output = format!("{}{}", text(&out.stdout), text(&out.stderr));
    let mut v = host.judge(&output, &tag, &root);
    for (file, was) in before {
        let now = std::fs::read_to_string(&file).unwrap_or_default();
        if now != was {
            let _ = std::fs::write(&file, &was);
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .replace("memsw.", "");
            if let Some(x) = v.get_mut(&format!("cgroup_{name}")) {
                x.escaped(&format!(
                    "{} went {} -> {} (restored)",
                    file.display(),
                    was.trim(),
                    now.trim()
                ));
            }
        }
    }
    v
}

/// Run the attempts under `runc run` with its default spec; the verdicts.
fn in_runc(host: &Host) -> BTreeMap<String, Verdict> {
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle = dir.path();
    let rootfs = bundle.join("rootfs");
    for d in ["opt", "proc", "dev", "sys", "tmp", "usr", "root"] {
        std::fs::create_dir_all(rootfs.join(d)).expect("rootfs dir");
    }
    std::fs::copy(&host.bin, rootfs.join("opt/escape")).expect("copy");
    let st = Command::new("runc")
        .arg("spec")
        .current_dir(bundle)
        .status()
        .expect("runc spec");
    assert!(st.success(), "runc spec");
    let path = bundle.join("config.json");
    let mut spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("config.json"))
            .expect("runc's spec is JSON");
    let tag = format!("runc-{}", std::process::id());
    let mut args = vec!["/opt/escape".to_string()];
    args.extend(host.args(&tag, &rootfs));
    // Only what the comparison needs changes: our program, no terminal
    // (its lines come back on stdout), a writable root (the default's
    // read-only one would stop the file-owner check, not measure the
    // uid mapping), and the host's /usr bound read-only, as a zone's is,
    // so the remount and the file handle have something to go through.
    spec["process"]["args"] = serde_json::json!(args);
    spec["process"]["terminal"] = false.into();
    spec["root"]["readonly"] = false.into();
    spec["mounts"]
        .as_array_mut()
        .expect("mounts")
        .push(serde_json::json!({
            "destination": "/usr", "type": "bind", "source": "/usr",
            "options": ["rbind", "ro"]
        }));
    std::fs::write(&path, spec.to_string()).expect("write config.json");
    let id = format!("lumen-escape-{}", std::process::id());
    let out = Command::new("runc")
        .args(["run", "--bundle"])
        .arg(bundle)
        .arg(&id)
        .stdin(Stdio::null())
        .output()
        .expect("runc run");
    let _ = Command::new("runc").args(["delete", "-f", &id]).output();
    let output = format!("{}{}", text(&out.stdout), text(&out.stderr));
    host.judge(&output, &tag, &rootfs)
}

#[test]
fn escapes_fail_in_a_zone_as_they_do_under_runc() {
    let test = "escapes_fail_in_a_zone_as_they_do_under_runc";
    if !common::root(test) || !common::installed(test, "runc") {
        return;
    }
    let host = Host::set_up();
    let runc = in_runc(&host);
    let lumen = in_a_zone(&host, "e5ca9e00-0000-4000-8000-0000000000e1", None);
    // Defence in depth: the same zone with every privilege it could ask
    // for still holds, because its root is not the host's.
    let privileged = in_a_zone(
        &host,
        "e5ca9e00-0000-4000-8000-0000000000e2",
        Some(ALL_THE_PRIVILEGES),
    );

    // The table, side by side, then each verdict's detail.
    println!(
        "\nescape attempts as container root (block device {}{})",
        host.blockdev,
        host.loop_dev
            .as_deref()
            .map(|d| format!(", {d}"))
            .unwrap_or_default()
    );
    println!(
        "{:<30} {:<10} {:<16} {:<10} runc differs because",
        "attack", "lumen", "lumen+privs", "runc"
    );
    for a in ATTACKS {
        let why = RUNC_DIFFERS
            .iter()
            .find(|(n, ..)| n == a)
            .map_or("", |(.., why)| *why);
        println!(
            "{a:<30} {:<10} {:<16} {:<10} {why}",
            lumen[*a].verdict, privileged[*a].verdict, runc[*a].verdict
        );
    }
    println!("(lumen+privs: the zone's limit_priv is {ALL_THE_PRIVILEGES})");
    println!();
    for a in ATTACKS {
        println!(
            "{a}\n  lumen: {}\n  lumen+privs: {}\n  runc:  {}",
            lumen[*a].detail, privileged[*a].detail, runc[*a].detail
        );
    }

    // What each run must show: the zone blocks everything; runc gives
    // what its default spec gave when this test was written.
    let mut wrong = Vec::new();
    for a in ATTACKS {
        let blocked = if host.not_applicable(a).is_some() {
            "n/a"
        } else {
            "blocked"
        };
        for (name, run) in [("lumen", &lumen), ("lumen+privs", &privileged)] {
            if run[*a].verdict != blocked {
                wrong.push(format!(
                    "{name} {a}: {} (want {blocked}): {}",
                    run[*a].verdict, run[*a].detail
                ));
            }
        }
        let want = RUNC_DIFFERS
            .iter()
            .find(|(n, ..)| n == a)
            .map_or(blocked, |(_, v, _)| *v);
        if runc[*a].verdict != want {
            wrong.push(format!(
                "runc {a}: {} (want {want}): {}",
                runc[*a].verdict, runc[*a].detail
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}
