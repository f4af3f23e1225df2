//! `lumen zpool`: ZFS's pool tool over the `storage` crate (`create`,
//! `list`, `status`, `destroy`, `export`, `import`, `scrub`, `iostat`).

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use storage::pool::{CreateOptions, Pool, Pools};
use storage::props::{format_time, nicenum, parse_size};

const USAGE: &str = "\
Usage: lumen zpool <command> [options]

  create [-f] [-m MOUNTPOINT] [-s SIZE] [NAME [DEVICE|FILE]]
                     a pool on a device, or on a sparse file on a loop device;
                     with no device, a file under LUMEN_ROOT/pools; with no
                     name, the default pool `zones`
  list [-Hp] [-o property[,...]] [NAME]...
  status [NAME]...
  destroy [-f] NAME
  export NAME
  import [-d DIR]... [NAME]
  scrub NAME
  iostat [NAME] [interval [count]]
";

/// Run `zpool` with `args` (after `zpool`); the exit status.
pub fn run(args: &[String]) -> Result<u8> {
    let Some(verb) = args.first() else {
        eprint!("{USAGE}");
        return Ok(2);
    };
    let rest = &args[1..];
    let pools = Pools::from_env().context("opening the pools")?;
    match verb.as_str() {
        "create" => create(&pools, rest),
        "list" => list(&pools, rest),
        "status" => status(&pools, rest),
        "destroy" => {
            let name = rest
                .iter()
                .find(|a| !a.starts_with('-'))
                .context("usage: zpool destroy [-f] NAME")?;
            pools.destroy(name)?;
            Ok(0)
        }
        "export" => match rest {
            [n] => {
                pools.export(n)?;
                Ok(0)
            }
            _ => bail!("usage: zpool export NAME"),
        },
        "import" => import(&pools, rest),
        "scrub" => match rest {
            [n] => {
                let mut pool = pools.open(n)?;
                let p = pool.scrub()?;
                println!(
                    "scrub of pool '{n}' repaired {} with {} errors ({} scanned)",
                    nicenum(p.corrected_errors),
                    p.read_errors + p.csum_errors + p.verify_errors,
                    nicenum(p.data_bytes_scrubbed + p.tree_bytes_scrubbed)
                );
                Ok(u8::from(p.uncorrectable_errors > 0))
            }
            _ => bail!("usage: zpool scrub NAME"),
        },
        "iostat" => iostat(&pools, rest),
        "help" | "--help" => {
            print!("{USAGE}");
            Ok(0)
        }
        other => {
            eprintln!("zpool: unknown command '{other}'");
            eprint!("{USAGE}");
            Ok(2)
        }
    }
}

fn create(pools: &Pools, args: &[String]) -> Result<u8> {
    let mut opts = CreateOptions::default();
    let mut words = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-f" => opts.force = true,
            "-m" => {
                opts.mountpoint = Some(PathBuf::from(
                    it.next().context("zpool create: -m needs a mountpoint")?,
                ))
            }
            "-s" => {
                let v = it.next().context("zpool create: -s needs a size")?;
                opts.size =
                    Some(parse_size(v).with_context(|| format!("zpool create: bad size '{v}'"))?);
            }
            s if s.starts_with('-') => bail!("zpool create: unknown option {s}"),
            s => words.push(s),
        }
    }
    let (name, vdev) = match words[..] {
        [] => ("zones", None),
        [n] => (n, None),
        [n, v] => (n, Some(PathBuf::from(v))),
        _ => bail!(
            "zpool create: one device or file per pool (no mirrors or raidz on btrfs here yet)"
        ),
    };
    if name == "zones" && opts.mountpoint.is_some() {
        bail!("zpool create: the zones pool is mounted where the zone registry lives (LUMEN_ROOT/zones); -m cannot move it");
    }
    opts.vdev = vdev;
    pools.create(name, &opts)?;
    Ok(0)
}

const LIST_COLS: &[&str] = &[
    "name", "size", "alloc", "free", "ckpoint", "expandsz", "frag", "cap", "dedup", "health",
    "altroot",
];

fn list(pools: &Pools, args: &[String]) -> Result<u8> {
    let mut flags = crate::zfs::TableFlags::new(LIST_COLS);
    let mut names = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if flags.take(a, &mut it, "zpool list: -o needs properties")? {
            continue;
        }
        match a.as_str() {
            s if s.starts_with('-') => bail!("zpool list: unknown option {s}"),
            s => names.push(s.to_string()),
        }
    }
    let crate::zfs::TableFlags {
        scripted,
        exact,
        cols,
    } = flags;
    for c in &cols {
        if !LIST_COLS.contains(&c.as_str()) && c != "capacity" {
            bail!("zpool list: invalid property '{c}'");
        }
    }
    if names.is_empty() {
        names = pools.names()?;
    }
    let mut rows = Vec::new();
    for n in &names {
        let pool = pools.open(n)?;
        let u = pool.usage()?;
        let size = |v: u64| if exact { v.to_string() } else { nicenum(v) };
        let cap = (u.alloc * 100).checked_div(u.size).unwrap_or(0);
        rows.push(
            cols.iter()
                .map(|c| match c.as_str() {
                    "name" => n.clone(),
                    "size" => size(u.size),
                    "alloc" => size(u.alloc),
                    "free" => size(u.free),
                    "cap" | "capacity" => {
                        if exact {
                            cap.to_string()
                        } else {
                            format!("{cap}%")
                        }
                    }
                    "dedup" => {
                        if exact {
                            "1.00".into()
                        } else {
                            "1.00x".into()
                        }
                    }
                    "health" => u.health.to_string(),
                    _ => "-".into(),
                })
                .collect::<Vec<_>>(),
        );
    }
    if scripted {
        for r in rows {
            println!("{}", r.join("\t"));
        }
        return Ok(0);
    }
    let headers: Vec<String> = cols.iter().map(|c| c.to_uppercase()).collect();
    let mut widths: Vec<usize> = headers.iter().map(String::len).collect();
    for r in &rows {
        for (w, v) in widths.iter_mut().zip(r) {
            *w = (*w).max(v.len());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i == 0 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    println!("{}", line(&headers));
    for r in &rows {
        println!("{}", line(r));
    }
    Ok(0)
}

fn scan_line(pool: &Pool) -> String {
    let Some(s) = &pool.config.last_scrub else {
        return "none requested".into();
    };
    let n = |k: &str| s.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
    let secs = n("seconds");
    format!(
        "scrub repaired {} in {:02}:{:02}:{:02} with {} errors on {}",
        nicenum(n("repaired")),
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        n("errors"),
        format_time(n("start") + secs)
    )
}

fn status(pools: &Pools, args: &[String]) -> Result<u8> {
    let names = if args.is_empty() {
        pools.names()?
    } else {
        args.to_vec()
    };
    if names.is_empty() {
        println!("no pools available");
        return Ok(0);
    }
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let pool = pools.open(n)?;
        let u = pool.usage()?;
        let devices = pool.devices()?;
        println!("  pool: {n}");
        println!(" state: {}", u.health);
        println!("  scan: {}", scan_line(&pool));
        println!("config:\n");
        let width = devices
            .iter()
            .map(|d| d.path.display().to_string().len() + 2)
            .chain([n.len(), 4])
            .max()
            .unwrap_or(4);
        println!(
            "\t{:<width$}  {:<8} {:>5} {:>5} {:>5}",
            "NAME", "STATE", "READ", "WRITE", "CKSUM"
        );
        let (r, w, c) = devices.iter().fold((0, 0, 0), |a, d| {
            (a.0 + d.read, a.1 + d.write, a.2 + d.cksum)
        });
        println!(
            "\t{:<width$}  {:<8} {:>5} {:>5} {:>5}",
            n, u.health, r, w, c
        );
        for d in &devices {
            let state = if d.read + d.write + d.cksum > 0 {
                "DEGRADED"
            } else {
                "ONLINE"
            };
            println!(
                "\t{:<width$}  {:<8} {:>5} {:>5} {:>5}",
                format!("  {}", d.path.display()),
                state,
                d.read,
                d.write,
                d.cksum
            );
        }
        println!();
        if c > 0 {
            println!("errors: {c} data errors (checksum); run 'zpool scrub {n}'");
        } else {
            println!("errors: No known data errors");
        }
    }
    Ok(0)
}

fn import(pools: &Pools, args: &[String]) -> Result<u8> {
    let mut dirs = Vec::new();
    let mut name = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-d" => dirs.push(PathBuf::from(
                it.next().context("zpool import: -d needs a directory")?,
            )),
            s if s.starts_with('-') => bail!("zpool import: unknown option {s}"),
            s => name = Some(s),
        }
    }
    match name {
        Some(n) => {
            pools.import(n, &dirs)?;
        }
        None => {
            let found = pools.importable(&dirs)?;
            if found.is_empty() {
                println!("no pools available to import");
            }
            for (n, v) in found {
                println!("   pool: {n}\n  state: ONLINE\n action: The pool can be imported using its name.\n config:\n\n\t{n}\n\t  {}\n", v.display());
            }
        }
    }
    Ok(0)
}

/// A count as ZFS prints operations: `0`, `12`, `1.50K`.
fn ops_count(n: u64) -> String {
    if n < 1024 {
        n.to_string()
    } else {
        nicenum(n)
    }
}

fn iostat(pools: &Pools, args: &[String]) -> Result<u8> {
    let mut names = Vec::new();
    let mut numbers = Vec::new();
    for a in args {
        match a.parse::<u64>() {
            Ok(n) if n > 0 => numbers.push(n),
            _ => names.push(a.clone()),
        }
    }
    let (interval, count) = match numbers[..] {
        [] => (None, Some(1)),
        [i] => (Some(i), None),
        [i, c] => (Some(i), Some(c)),
        _ => bail!("usage: zpool iostat [NAME] [interval [count]]"),
    };
    if names.is_empty() {
        names = pools.names()?;
    }
    let opened: Vec<Pool> = names
        .iter()
        .map(|n| pools.open(n))
        .collect::<Result<_, _>>()?;
    let width = names.iter().map(String::len).max().unwrap_or(4).max(10);
    println!(
        "{:<width$}  {:>11}  {:>12}  {:>12}",
        "", "capacity", "operations", "bandwidth"
    );
    println!(
        "{:<width$}  {:>5}  {:>5}  {:>5}  {:>5}  {:>5}  {:>5}",
        "pool", "alloc", "free", "read", "write", "read", "write"
    );
    println!("{}  {}", "-".repeat(width), ["-----"; 6].join("  "));
    let mut last: Vec<[u64; 4]> = opened.iter().map(|_| [0; 4]).collect();
    // The first report covers the time since the pool was imported (its
    // record's last write); later ones, the interval.
    let mut elapsed = opened
        .first()
        .and_then(|p| pools.imported_for(p.name()))
        .unwrap_or(1.0);
    let mut started = std::time::Instant::now();
    let mut n = 0u64;
    loop {
        for (i, p) in opened.iter().enumerate() {
            let u = p.usage()?;
            let now = p.io_counters().unwrap_or([0; 4]);
            let d: Vec<u64> = now
                .iter()
                .zip(&last[i])
                .map(|(a, b)| a.saturating_sub(*b))
                .collect();
            let secs = elapsed.max(1.0);
            let ops = |v: u64| ops_count((v as f64 / secs) as u64);
            let rate = |v: u64| nicenum((v as f64 / secs) as u64);
            println!(
                "{:<width$}  {:>5}  {:>5}  {:>5}  {:>5}  {:>5}  {:>5}",
                names[i],
                nicenum(u.alloc),
                nicenum(u.free),
                ops(d[0]),
                ops(d[2]),
                rate(d[1]),
                rate(d[3])
            );
            last[i] = now;
        }
        n += 1;
        if count.is_some_and(|c| n >= c) {
            return Ok(0);
        }
        let Some(i) = interval else { return Ok(0) };
        std::thread::sleep(std::time::Duration::from_secs(i));
        elapsed = started.elapsed().as_secs_f64();
        started = std::time::Instant::now();
    }
}
