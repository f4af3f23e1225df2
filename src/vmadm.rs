//! `lumen vmadm`: SmartOS's zone tool over the `zones` registry (`create`,
//! `list`, `get`, `update`, `delete`, `start`, `stop`, `reboot`, `info`),
//! and `lumen zlogin`.

use anyhow::{bail, Context, Result};
use std::io::Read;
use zones::registry::Zone;
use zones::Registry;

const USAGE: &str = "\
Usage: lumen vmadm <command> [options]

  create [-f FILE]             create a zone from a JSON manifest (stdin without -f)
                               and boot it (unless the manifest has autoboot false)
  list [-H] [-p] [-o F,..] [-s F,..]
                               list zones (columns UUID TYPE RAM STATE ALIAS)
  get UUID                     print a zone's manifest as JSON
  delete UUID                  delete a zone (stopping it first if it runs)
  start UUID                   boot a zone
  stop [-F] UUID               stop a zone (SIGTERM to its init, SIGKILL after 5 s; -F at once)
  reboot UUID                  stop and boot a zone
  autoboot                     boot every stopped zone whose autoboot is true (at node boot)
  update UUID key=value ... | update UUID -f FILE
                               change manifest fields (a running zone's caps at once)
  info UUID                    a kvm VM's VMM, vCPU threads, consoles, devices and their counters (JSON)
  console UUID                 attach to a kvm VM's serial console (escape: ^])
  exitstat UUID [interval [count]]
                               VM exits by reason, as perf kvm stat reports them
";

/// Run `vmadm` with `args` (after `vmadm`); the exit status.
pub fn run(args: &[String]) -> Result<u8> {
    let Some(verb) = args.first() else {
        eprint!("{USAGE}");
        return Ok(2);
    };
    let rest = &args[1..];
    let registry = Registry::open().context("opening the zone registry")?;
    match verb.as_str() {
        "create" => create(&registry, rest),
        "list" => list(&registry, rest),
        "get" => {
            let uuid = one_uuid(rest, "get")?;
            let zone = registry.get(uuid)?;
            let mut v = zone.manifest.to_value();
            if let Some(m) = v.as_object_mut() {
                m.insert("state".into(), zone.state.to_string().into());
                // How it last stopped, as SmartOS records it (and why).
                for (k, val) in registry.exit_record(uuid).unwrap_or_default() {
                    m.insert(k, val);
                }
            }
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(0)
        }
        "delete" => {
            let uuid = one_uuid(rest, "delete")?;
            registry.delete(uuid)?;
            eprintln!("Successfully deleted VM {uuid}");
            Ok(0)
        }
        "start" => {
            let uuid = one_uuid(rest, "start")?;
            registry.start(uuid)?;
            // As SmartOS: a started zone comes back when the node boots,
            // a stopped one does not, so the node reboots into the state
            // its operator left it in.
            set_autoboot(&registry, uuid, true)?;
            eprintln!("Successfully started VM {uuid}");
            Ok(0)
        }
        "reboot" => {
            let uuid = one_uuid(rest, "reboot")?;
            registry.reboot(uuid)?;
            eprintln!("Successfully completed reboot for VM {uuid}");
            Ok(0)
        }
        "update" => update(&registry, rest),
        "info" => info(&registry, rest),
        "autoboot" => {
            if !rest.is_empty() {
                bail!("usage: vmadm autoboot");
            }
            autoboot(&registry)
        }
        "console" => {
            let uuid = one_uuid(rest, "console")?;
            let zone = vm_zone(&registry, uuid, "console")?;
            if zone.state != zones::ZoneState::Running {
                bail!("vmadm console: VM {uuid} is not running");
            }
            let socket = registry
                .zone_dir(uuid)
                .join(zones::kvm::HOST_DIR)
                .join(zones::kvm::CONSOLE_SOCKET);
            hypervisor::attach(&socket).with_context(|| format!("console of VM {uuid}"))?;
            Ok(0)
        }
        "exitstat" => {
            let (uuid, interval, count) = match rest {
                [u] => (u, None, None),
                [u, i] => (u, Some(number(i, "interval")?), None),
                [u, i, c] => (u, Some(number(i, "interval")?), Some(number(c, "count")?)),
                _ => bail!("usage: vmadm exitstat UUID [interval [count]]"),
            };
            vm_zone(&registry, uuid, "exitstat")?;
            let pid = registry.command_pid(uuid)?;
            crate::exitstat::run(pid as u32, interval, count)
        }
        "stop" => {
            let (force, uuid) = match rest {
                [f, u] if f == "-F" => (true, u.as_str()),
                [u] => (false, u.as_str()),
                _ => bail!("usage: vmadm stop [-F] UUID"),
            };
            registry.halt(uuid, force, std::time::Duration::from_secs(5))?;
            set_autoboot(&registry, uuid, false)?;
            eprintln!("Successfully completed stop for VM {uuid}");
            Ok(0)
        }
        "help" | "--help" => {
            print!("{USAGE}");
            Ok(0)
        }
        other => {
            eprintln!("vmadm: unknown command '{other}'");
            eprint!("{USAGE}");
            Ok(2)
        }
    }
}

/// Record `autoboot` in a zone's manifest (only when it changes).
fn set_autoboot(registry: &Registry, uuid: &str, on: bool) -> Result<()> {
    if registry.get(uuid)?.manifest.autoboot != on {
        registry.update(uuid, &serde_json::json!({ "autoboot": on }))?;
    }
    Ok(())
}

/// `vmadm autoboot`: boot every stopped zone whose manifest says
/// `autoboot`, as a SmartOS node does when it boots (run it from the
/// node's init system). Every zone is tried; the status says whether all
/// booted.
fn autoboot(registry: &Registry) -> Result<u8> {
    let mut failed = 0;
    for zone in registry.list()? {
        let uuid = zone.manifest.uuid.as_str();
        if !zone.manifest.autoboot || zone.state == zones::ZoneState::Running {
            continue;
        }
        match registry.start(uuid) {
            Ok(_) => eprintln!("Successfully started VM {uuid}"),
            Err(e) => {
                eprintln!("vmadm autoboot: VM {uuid}: {e}");
                failed += 1;
            }
        }
    }
    Ok(u8::from(failed > 0))
}

fn number(text: &str, what: &str) -> Result<u32> {
    match text.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => bail!("vmadm: {what} {text:?} is not a positive whole number"),
    }
}

/// Zone `uuid`, which must be a kvm VM for `verb`.
fn vm_zone(registry: &Registry, uuid: &str, verb: &str) -> Result<Zone> {
    let zone = registry.get(uuid)?;
    if zone.manifest.vm.is_none() {
        bail!(
            "vmadm {verb}: {uuid} is an OS zone ({}); {verb} is for kvm VMs",
            zone.manifest.brand.as_str()
        );
    }
    Ok(zone)
}

/// `vmadm info UUID`: a kvm VM's VMM, vCPU threads, consoles, devices and their counters, as JSON.
fn info(registry: &Registry, args: &[String]) -> Result<u8> {
    let uuid = one_uuid(args, "info")?;
    let zone = vm_zone(registry, uuid, "info")?;
    let Some(vm) = &zone.manifest.vm else {
        bail!("vmadm info: {uuid} is not a VM");
    };
    let dir = registry.zone_dir(uuid).join(zones::kvm::HOST_DIR);
    let mut out = serde_json::Map::new();
    out.insert("uuid".into(), uuid.into());
    out.insert("state".into(), zone.state.to_string().into());
    out.insert("ram".into(), vm.ram.into());
    out.insert("vcpus".into(), vm.vcpus.into());
    if zone.state == zones::ZoneState::Running {
        let pid = registry.command_pid(uuid)?;
        out.insert("vmm_pid".into(), pid.into());
        // The vCPU threads, by name, with their host thread ids and states.
        let mut threads = Vec::new();
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for t in tasks.flatten() {
                let tid = t.file_name().to_string_lossy().into_owned();
                let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
                let comm = comm.trim();
                if let Some(index) = comm.strip_prefix("vcpu") {
                    let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
                    let state = stat
                        .rsplit(')')
                        .next()
                        .and_then(|r| r.split_whitespace().next())
                        .unwrap_or("?");
                    threads.push(serde_json::json!({"vcpu": index.parse::<u32>().unwrap_or(0), "tid": tid.parse::<u64>().unwrap_or(0), "state": state}));
                }
            }
        }
        threads.sort_by_key(|t| t["vcpu"].as_u64());
        out.insert("vcpu_threads".into(), threads.into());
    }
    out.insert(
        "console".into(),
        serde_json::json!({
            "log": dir.join(zones::kvm::CONSOLE_LOG),
            "socket": dir.join(zones::kvm::CONSOLE_SOCKET),
        }),
    );
    let disks: Vec<serde_json::Value> = vm
        .disks
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let path = d.path.clone().map(std::path::PathBuf::from).unwrap_or_else(|| registry.disk_path(uuid, i));
            serde_json::json!({"device": format!("virtio-blk{i}"), "path": path, "read_only": d.read_only})
        })
        .collect();
    out.insert("disks".into(), disks.into());
    // The virtio devices' counters, as the VMM last wrote them (each
    // second while it runs, and at its end).
    let metrics = std::fs::read_to_string(dir.join(zones::kvm::METRICS)).ok();
    if let Some(counters) = metrics.and_then(|m| serde_json::from_str::<serde_json::Value>(&m).ok())
    {
        out.insert("metrics".into(), counters);
    }
    let nics: Vec<serde_json::Value> = vm
        .nics
        .iter()
        .enumerate()
        .map(|(i, n)| serde_json::json!({"device": format!("virtio-net{i}"), "tap": n.interface, "mac": n.mac}))
        .collect();
    out.insert("nics".into(), nics.into());
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::Value::Object(out))?
    );
    Ok(0)
}

fn one_uuid<'a>(args: &'a [String], verb: &str) -> Result<&'a str> {
    match args {
        [uuid] => Ok(uuid),
        _ => bail!("usage: vmadm {verb} UUID"),
    }
}

fn create(registry: &Registry, args: &[String]) -> Result<u8> {
    let text = match args {
        [] => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading the manifest from standard input")?;
            s
        }
        [f, path] if f == "-f" => {
            std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?
        }
        _ => bail!("usage: vmadm create [-f FILE]"),
    };
    // As SmartOS: the zone boots unless its manifest says "autoboot": false.
    let (zone, _) = registry.provision(&text)?;
    for field in zone.manifest.unsupported_fields() {
        eprintln!("vmadm: warning: manifest field {field} is not supported yet (kept)");
    }
    eprintln!("Successfully created VM {}", zone.manifest.uuid);
    Ok(0)
}

/// A `list` field of a zone.
fn field(z: &Zone, name: &str) -> Option<String> {
    let m = &z.manifest;
    let num = |v: Option<u64>| v.map_or(String::from("-"), |n| n.to_string());
    Some(match name {
        "uuid" => m.uuid.clone(),
        "type" => if m.vm.is_some() { "KVM" } else { "OS" }.into(),
        "ram" => match &m.vm {
            Some(vm) => vm.ram.to_string(),
            None => num(m.max_physical_memory),
        },
        "max_physical_memory" => num(m.max_physical_memory),
        "vcpus" => m.vm.as_ref().map_or("-".into(), |vm| vm.vcpus.to_string()),
        "state" => z.state.to_string(),
        "alias" => m.alias.clone().unwrap_or_else(|| "-".into()),
        "hostname" => m.hostname.clone().unwrap_or_else(|| "-".into()),
        "brand" => m.brand.as_str().into(),
        "cpu_cap" => num(m.cpu_cap),
        "cpu_shares" => num(m.cpu_shares),
        "max_lwps" => num(m.max_lwps),
        "max_swap" => num(m.max_swap),
        "autoboot" => m.autoboot.to_string(),
        _ => return None,
    })
}

fn list(registry: &Registry, args: &[String]) -> Result<u8> {
    let mut header = true;
    let mut parsable = false;
    let mut fields: Vec<String> = ["uuid", "type", "ram", "state", "alias"]
        .map(String::from)
        .to_vec();
    let mut sort: Vec<String> = vec!["ram".into(), "uuid".into()];
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-H" => header = false,
            "-p" => {
                parsable = true;
                header = false;
            }
            "-o" | "-s" => {
                let Some(v) = it.next() else {
                    bail!("vmadm list: {a} needs a list of fields");
                };
                let list = v.split(',').map(String::from).collect();
                if a == "-o" {
                    fields = list;
                } else {
                    sort = list;
                }
            }
            other => bail!("vmadm list: unknown option {other}"),
        }
    }
    let probe = Zone {
        manifest: zones::Manifest::parse("{}")?,
        state: zones::ZoneState::Stopped,
    };
    for f in fields.iter().chain(sort.iter()) {
        if field(&probe, f.trim_start_matches('-')).is_none() {
            bail!("vmadm list: unknown field '{}'", f.trim_start_matches('-'));
        }
    }
    let mut zones = registry.list()?;
    zones.sort_by(|a, b| {
        for s in &sort {
            let (desc, key) = match s.strip_prefix('-') {
                Some(k) => (true, k),
                None => (false, s.as_str()),
            };
            let (x, y) = (field(a, key), field(b, key));
            // Numbers as numbers, the rest as text.
            let ord = match (
                x.as_deref().and_then(|v| v.parse::<u64>().ok()),
                y.as_deref().and_then(|v| v.parse::<u64>().ok()),
            ) {
                (Some(p), Some(q)) => p.cmp(&q),
                _ => x.cmp(&y),
            };
            let ord = if desc { ord.reverse() } else { ord };
            if ord.is_ne() {
                return ord;
            }
        }
        std::cmp::Ordering::Equal
    });
    let rows: Vec<Vec<String>> = zones
        .iter()
        .map(|z| {
            fields
                .iter()
                .map(|f| field(z, f).unwrap_or_default())
                .collect()
        })
        .collect();
    if parsable {
        for r in rows {
            println!("{}", r.join(":"));
        }
        return Ok(0);
    }
    let titles: Vec<String> = fields.iter().map(|f| f.to_uppercase()).collect();
    let widths: Vec<usize> = (0..fields.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].len())
                .chain(std::iter::once(titles[i].len()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s
    };
    if header {
        println!("{}", line(&titles));
    }
    for r in rows {
        println!("{}", line(&r));
    }
    Ok(0)
}

/// `lumen zlogin UUID [command…]`: run a command in a running zone (a
/// login shell without one).
pub fn zlogin(args: &[String]) -> Result<u8> {
    let Some((uuid, command)) = args.split_first() else {
        bail!("usage: lumen zlogin UUID [command [arg ...]]");
    };
    let registry = Registry::open().context("opening the zone registry")?;
    // No command: an interactive login shell, on a terminal of the zone's
    // own when we have one to relay (SmartOS's zlogin does the same).
    let terminal = command.is_empty() && std::io::IsTerminal::is_terminal(&std::io::stdin());
    let command: Vec<String> = if command.is_empty() {
        vec!["/bin/sh".into(), "-l".into()]
    } else if command.len() == 1 && command[0].contains(' ') {
        // One quoted string runs through the zone's shell, as zlogin does.
        vec!["/bin/sh".into(), "-c".into(), command[0].clone()]
    } else {
        command.to_vec()
    };
    let status = registry.login(uuid, &command, terminal)?;
    Ok(u8::try_from(status & 0xff).unwrap_or(1))
}

fn update(registry: &Registry, args: &[String]) -> Result<u8> {
    let Some((uuid, rest)) = args.split_first() else {
        bail!("usage: vmadm update UUID key=value ... | -f FILE");
    };
    let changes: serde_json::Value = match rest {
        [f, path] if f == "-f" => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
            serde_json::from_str(&text).with_context(|| format!("{path}: not JSON"))?
        }
        [] => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            serde_json::from_str(&s).context("standard input: not JSON")?
        }
        pairs => {
            let mut m = serde_json::Map::new();
            for p in pairs {
                let Some((k, v)) = p.split_once('=') else {
                    bail!("vmadm update: {p}: expected key=value");
                };
                // Numbers and booleans as such, the rest as strings.
                let value = serde_json::from_str::<serde_json::Value>(v)
                    .ok()
                    .filter(|j| j.is_number() || j.is_boolean())
                    .unwrap_or_else(|| v.to_string().into());
                m.insert(k.to_string(), value);
            }
            serde_json::Value::Object(m)
        }
    };
    let mut changes = changes;
    // A VM's memory cap follows its RAM (as SmartOS sizes it) unless the
    // update sets the cap itself.
    if let (Some(ram), Some(obj)) = (
        changes.get("ram").and_then(|r| r.as_u64()),
        changes.as_object_mut(),
    ) {
        if registry.get(uuid)?.manifest.vm.is_some() && !obj.contains_key("max_physical_memory") {
            obj.insert(
                "max_physical_memory".into(),
                (ram + zones::manifest::VMM_MEMORY_OVERHEAD).into(),
            );
        }
    }
    registry.update(uuid, &changes)?;
    // Caps change at once; what the VMM was started with cannot.
    let zone = registry.get(uuid)?;
    if zone.manifest.vm.is_some() && zone.state == zones::ZoneState::Running {
        let later: Vec<&str> = zones::manifest::VM_FIELDS
            .iter()
            .copied()
            .filter(|k| changes.get(*k).is_some())
            .collect();
        if !later.is_empty() {
            eprintln!(
                "vmadm: VM {uuid} runs with its old {} until it next boots (vmadm reboot {uuid})",
                later.join(", ")
            );
        }
    }
    eprintln!("Successfully updated VM {uuid}");
    Ok(0)
}
