//! `lumen zfs`: ZFS's dataset tool over the `storage` crate (`create`,
//! `destroy`, `list`, `get`, `set`, `snapshot`, `rollback`, `clone`,
//! `promote`, `rename`, `send`, `receive`), with ZFS's columns and formats.

use anyhow::{bail, Context, Result};
use std::io::IsTerminal;
use storage::dataset::{CreateOptions, Entry, Kind};
use storage::name::{AnyName, DatasetName, SnapshotName};
use storage::pool::{Pool, Pools};
use storage::props::{self, Prop};

const USAGE: &str = "\
Usage: lumen zfs <command> [options]

  create [-p] [-o property=value]... [-V size] FILESYSTEM|VOLUME
  destroy [-r] FILESYSTEM|VOLUME|SNAPSHOT
  snapshot [-r] FILESYSTEM@SNAPNAME...
  rollback [-r] SNAPSHOT
  clone [-o property=value]... SNAPSHOT FILESYSTEM|VOLUME
  promote CLONE
  rename FILESYSTEM|VOLUME|SNAPSHOT NEWNAME
  list [-rHp] [-o property[,...]] [-s property]... [-S property]... [-t type[,...]] [NAME]...
  get [-rHp] [-o field[,...]] all|property[,...] [NAME]...
  set property=value... FILESYSTEM|VOLUME...
  send [-R] [-i SNAPSHOT] SNAPSHOT          (the stream to standard output)
  receive [-F] FILESYSTEM|VOLUME            (the stream from standard input)

Properties: type creation used available referenced mounted quota refquota
mountpoint compression readonly origin volsize guid
";

/// Run `zfs` with `args` (after `zfs`); the exit status.
pub fn run(args: &[String]) -> Result<u8> {
    let Some(verb) = args.first() else {
        eprint!("{USAGE}");
        return Ok(2);
    };
    let rest = &args[1..];
    let pools = Pools::from_env().context("opening the pools")?;
    match verb.as_str() {
        "create" => create(&pools, rest),
        "destroy" => destroy(&pools, rest),
        "snapshot" | "snap" => snapshot(&pools, rest),
        "rollback" => rollback(&pools, rest),
        "clone" => clone(&pools, rest),
        "promote" => match rest {
            [c] => {
                let c = DatasetName::parse(c)?;
                open(&pools, c.pool(), true)?.promote(&c)?;
                Ok(0)
            }
            _ => bail!("usage: zfs promote CLONE"),
        },
        "rename" => match rest {
            [a, b] => {
                let (a, b) = (AnyName::parse(a)?, AnyName::parse(b)?);
                open(&pools, a.dataset().pool(), true)?.rename(&a, &b)?;
                Ok(0)
            }
            _ => bail!("usage: zfs rename NAME NEWNAME"),
        },
        "list" => list(&pools, rest),
        "get" => get(&pools, rest),
        "set" => set(&pools, rest),
        "send" => send(&pools, rest),
        "receive" | "recv" => receive(&pools, rest),
        "help" | "--help" => {
            print!("{USAGE}");
            Ok(0)
        }
        other => {
            eprintln!("zfs: unknown command '{other}'");
            eprint!("{USAGE}");
            Ok(2)
        }
    }
}

/// Open pool `name`; before a change, sweep away what killed commands left.
fn open(pools: &Pools, name: &str, changing: bool) -> Result<Pool> {
    let pool = pools.open(name)?;
    if changing {
        pool.sweep()?;
    }
    Ok(pool)
}

fn prop_arg(text: &str) -> Result<(String, String)> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => bail!("zfs: bad property '{text}': expected property=value"),
    }
}

fn create(pools: &Pools, args: &[String]) -> Result<u8> {
    let mut opts = CreateOptions::default();
    let mut name = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-p" => opts.parents = true,
            "-o" => opts.properties.push(prop_arg(
                it.next().context("zfs create: -o needs property=value")?,
            )?),
            "-V" => {
                let v = it.next().context("zfs create: -V needs a size")?;
                opts.volsize = Some(
                    props::parse_size(v).with_context(|| format!("zfs create: bad size '{v}'"))?,
                );
            }
            "-s" => {} // volumes are always sparse here
            s if s.starts_with('-') => bail!("zfs create: unknown option {s}"),
            s => {
                if name.replace(s).is_some() {
                    bail!("usage: zfs create [-p] [-o property=value]... [-V size] NAME");
                }
            }
        }
    }
    let name = DatasetName::parse(name.context("zfs create: missing dataset name")?)?;
    open(pools, name.pool(), true)?.create(&name, &opts)?;
    Ok(0)
}

fn destroy(pools: &Pools, args: &[String]) -> Result<u8> {
    let (recursive, name) = match args {
        [f, n] if f == "-r" || f == "-R" => (true, n),
        [n] => (false, n),
        _ => bail!("usage: zfs destroy [-r] NAME"),
    };
    let name = AnyName::parse(name)?;
    open(pools, name.dataset().pool(), true)?.destroy(&name, recursive)?;
    Ok(0)
}

fn snapshot(pools: &Pools, args: &[String]) -> Result<u8> {
    let recursive = args.iter().any(|a| a == "-r");
    let names: Vec<&String> = args.iter().filter(|a| *a != "-r").collect();
    if names.is_empty() {
        bail!("usage: zfs snapshot [-r] FILESYSTEM@SNAPNAME...");
    }
    for n in names {
        let s = SnapshotName::parse(n)?;
        open(pools, s.dataset.pool(), true)?.snapshot(&s, recursive)?;
    }
    Ok(0)
}

fn rollback(pools: &Pools, args: &[String]) -> Result<u8> {
    let (recursive, name) = match args {
        [f, n] if f == "-r" || f == "-R" => (true, n),
        [n] => (false, n),
        _ => bail!("usage: zfs rollback [-r] SNAPSHOT"),
    };
    let s = SnapshotName::parse(name)?;
    open(pools, s.dataset.pool(), true)?.rollback(&s, recursive)?;
    Ok(0)
}

fn clone(pools: &Pools, args: &[String]) -> Result<u8> {
    let mut properties = Vec::new();
    let mut names = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-o" => properties.push(prop_arg(
                it.next().context("zfs clone: -o needs property=value")?,
            )?),
            "-p" => {}
            s if s.starts_with('-') => bail!("zfs clone: unknown option {s}"),
            s => names.push(s),
        }
    }
    let [s, t] = names[..] else {
        bail!("usage: zfs clone [-o property=value]... SNAPSHOT FILESYSTEM");
    };
    let (s, t) = (SnapshotName::parse(s)?, DatasetName::parse(t)?);
    let pool = open(pools, s.dataset.pool(), true)?;
    pool.clone_snapshot(&s, &t)?;
    for (k, v) in properties {
        pool.set_property(&t, &k, &v)?;
    }
    Ok(0)
}

fn set(pools: &Pools, args: &[String]) -> Result<u8> {
    let (assignments, names): (Vec<&String>, Vec<&String>) =
        args.iter().partition(|a| a.contains('='));
    if assignments.is_empty() || names.is_empty() {
        bail!("usage: zfs set property=value... FILESYSTEM|VOLUME...");
    }
    for n in names {
        let d = DatasetName::parse(n)?;
        let pool = open(pools, d.pool(), true)?;
        for a in &assignments {
            let (k, v) = prop_arg(a)?;
            pool.set_property(&d, &k, &v)?;
        }
    }
    Ok(0)
}

/// The header of a column.
fn header(p: &str) -> String {
    match p {
        "available" => "AVAIL".into(),
        "referenced" => "REFER".into(),
        "compression" => "COMPRESS".into(),
        "readonly" => "RDONLY".into(),
        other => other.to_uppercase(),
    }
}

/// Whether a column is a number (right-aligned).
fn numeric(p: &str) -> bool {
    matches!(
        p,
        "used" | "available" | "referenced" | "quota" | "refquota" | "volsize"
    )
}

/// Print rows as ZFS does: with a header and aligned columns, or (`-H`)
/// tab-separated without one.
fn print_table(cols: &[&str], headers: &[String], rows: &[Vec<String>], scripted: bool) {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if scripted {
        for r in rows {
            let _ = writeln!(out, "{}", r.join("\t"));
        }
        return;
    }
    let mut widths: Vec<usize> = headers.iter().map(String::len).collect();
    for r in rows {
        for (w, v) in widths.iter_mut().zip(r) {
            *w = (*w).max(v.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            let last = i + 1 == cells.len();
            if i > 0 {
                s.push_str("  ");
            }
            if numeric(cols.get(i).copied().unwrap_or("")) {
                s.push_str(&format!("{c:>w$}"));
            } else if last {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}"));
            }
        }
        s
    };
    let _ = writeln!(out, "{}", line(headers));
    for r in rows {
        let _ = writeln!(out, "{}", line(r));
    }
}

/// A pool, its entries, and the indexes of those a listing shows.
type Selection = (Pool, Vec<Entry>, Vec<usize>);

/// The pools and entries a listing covers: the names given (with their
/// descendants under `-r`), or everything.
fn selected(pools: &Pools, names: &[&String], recursive: bool) -> Result<Vec<Selection>> {
    let mut out = Vec::new();
    if names.is_empty() {
        for p in pools.names()? {
            let pool = pools.open(&p)?;
            let entries = pool.entries()?;
            let all = (0..entries.len()).collect();
            out.push((pool, entries, all));
        }
        return Ok(out);
    }
    for n in names {
        let name = AnyName::parse(n)?;
        let pool = pools.open(name.dataset().pool())?;
        let entries = pool.entries()?;
        let picked: Vec<usize> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.name == name
                    || (recursive
                        && matches!(&name, AnyName::Dataset(d) if e.name.dataset().is_within(d)))
            })
            .map(|(i, _)| i)
            .collect();
        if picked.is_empty() {
            bail!("cannot open '{name}': dataset does not exist");
        }
        out.push((pool, entries, picked));
    }
    Ok(out)
}

/// The output flags `zfs list`, `zfs get` and `zpool list` share: `-H`
/// (scripted: no header, tabs), `-p` (exact numbers) and `-o` (columns).
pub(crate) struct TableFlags {
    pub(crate) scripted: bool,
    pub(crate) exact: bool,
    pub(crate) cols: Vec<String>,
}

impl TableFlags {
    /// Flags unset, showing `cols`.
    pub(crate) fn new(cols: &[&str]) -> TableFlags {
        TableFlags {
            scripted: false,
            exact: false,
            cols: cols.iter().map(|c| c.to_string()).collect(),
        }
    }

    /// Take argument `a` if it is one of these flags (`-o` takes its
    /// value from `rest`; `missing` says so when there is none).
    pub(crate) fn take<'a>(
        &mut self,
        a: &str,
        rest: &mut impl Iterator<Item = &'a String>,
        missing: &'static str,
    ) -> Result<bool> {
        match a {
            "-H" => self.scripted = true,
            "-p" => self.exact = true,
            "-Hp" | "-pH" => (self.scripted, self.exact) = (true, true),
            "-o" => {
                self.cols = rest
                    .next()
                    .context(missing)?
                    .split(',')
                    .map(String::from)
                    .collect()
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

fn list(pools: &Pools, args: &[String]) -> Result<u8> {
    let mut flags = TableFlags::new(&["name", "used", "available", "referenced", "mountpoint"]);
    let mut recursive = false;
    let mut sorts: Vec<(String, bool)> = Vec::new();
    let mut types: Option<Vec<String>> = None;
    let mut names = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if flags.take(a, &mut it, "zfs list: -o needs properties")? {
            continue;
        }
        match a.as_str() {
            "-r" => recursive = true,
            "-s" | "-S" => sorts.push((
                it.next().context("zfs list: -s needs a property")?.clone(),
                a == "-S",
            )),
            "-t" => {
                types = Some(
                    it.next()
                        .context("zfs list: -t needs types")?
                        .split(',')
                        .map(String::from)
                        .collect(),
                )
            }
            s if s.starts_with('-') => bail!("zfs list: unknown option {s}"),
            _ => names.push(a),
        }
    }
    let TableFlags {
        scripted,
        exact,
        cols,
    } = flags;
    let cols: Vec<&'static str> = cols
        .iter()
        .map(|c| match c.as_str() {
            "name" => Ok("name"),
            c => props::canonical(c).with_context(|| format!("zfs list: invalid property '{c}'")),
        })
        .collect::<Result<_>>()?;
    let wanted = |k: Kind| match &types {
        None => k != Kind::Snapshot || !names.is_empty(),
        Some(t) => t.iter().any(|t| {
            t == "all"
                || t == k.as_str()
                || (t == "snap" && k == Kind::Snapshot)
                || (t == "fs" && k == Kind::Filesystem)
                || (t == "vol" && k == Kind::Volume)
        }),
    };
    let mut rows: Vec<(Vec<String>, Vec<Prop>)> = Vec::new();
    let names_only = cols.iter().all(|c| *c == "name") && sorts.is_empty();
    for (pool, entries, picked) in selected(pools, &names, recursive)? {
        let mut cache = props::ListingCache::default();
        for i in picked {
            let e = &entries[i];
            // Snapshots show when asked for by type or by name.
            let named = names
                .iter()
                .any(|n| AnyName::parse(n).is_ok_and(|x| x == e.name));
            if !wanted(e.kind) && !named {
                continue;
            }
            let ps = if names_only {
                Vec::new()
            } else {
                pool.properties_cached(&entries, e, &mut cache)?
            };
            let cells = cols
                .iter()
                .map(|c| match *c {
                    "name" => e.name.to_string(),
                    c => ps.iter().find(|p| p.name == c).map_or("-".into(), |p| {
                        if exact {
                            p.exact.clone()
                        } else {
                            p.human.clone()
                        }
                    }),
                })
                .collect();
            rows.push((cells, ps));
        }
    }
    for (key, desc) in sorts.iter().rev() {
        let key = props::canonical(key).unwrap_or("name");
        let idx_name = key == "name";
        rows.sort_by(|a, b| {
            let v = |r: &(Vec<String>, Vec<Prop>)| {
                r.1.iter()
                    .find(|p| p.name == key)
                    .map(|p| p.exact.clone())
                    .unwrap_or_default()
            };
            let ord = if idx_name {
                std::cmp::Ordering::Equal
            } else {
                match (v(a).parse::<u64>(), v(b).parse::<u64>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    _ => v(a).cmp(&v(b)),
                }
            };
            if *desc {
                ord.reverse()
            } else {
                ord
            }
        });
    }
    let headers: Vec<String> = cols.iter().map(|c| header(c)).collect();
    let rows: Vec<Vec<String>> = rows.into_iter().map(|r| r.0).collect();
    print_table(&cols, &headers, &rows, scripted);
    Ok(0)
}

fn get(pools: &Pools, args: &[String]) -> Result<u8> {
    let mut flags = TableFlags::new(&["name", "property", "value", "source"]);
    let mut recursive = false;
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if flags.take(a, &mut it, "zfs get: -o needs fields")? {
            continue;
        }
        match a.as_str() {
            "-r" => recursive = true,
            s if s.starts_with('-') => bail!("zfs get: unknown option {s}"),
            _ => rest.push(a),
        }
    }
    let Some((which, names)) = rest.split_first() else {
        bail!("usage: zfs get [-rHp] [-o field[,...]] all|property[,...] [NAME]...");
    };
    let wanted: Vec<&'static str> = if *which == "all" {
        props::ALL.to_vec()
    } else {
        which
            .split(',')
            .map(|p| {
                props::canonical(p).with_context(|| format!("zfs get: invalid property '{p}'"))
            })
            .collect::<Result<_>>()?
    };
    let TableFlags {
        scripted,
        exact,
        cols: fields,
    } = flags;
    for f in &fields {
        if !matches!(f.as_str(), "name" | "property" | "value" | "source") {
            bail!("zfs get: invalid field '{f}' (name, property, value, source)");
        }
    }
    let mut rows = Vec::new();
    let names: Vec<&String> = names.to_vec();
    for (pool, entries, picked) in selected(pools, &names, recursive)? {
        let mut cache = props::ListingCache::default();
        for i in picked {
            let e = &entries[i];
            let ps = pool.properties_cached(&entries, e, &mut cache)?;
            for w in &wanted {
                let Some(p) = ps.iter().find(|p| p.name == *w) else {
                    continue;
                };
                rows.push(
                    fields
                        .iter()
                        .map(|f| match f.as_str() {
                            "name" => e.name.to_string(),
                            "property" => p.name.to_string(),
                            "value" => {
                                if exact {
                                    p.exact.clone()
                                } else {
                                    p.human.clone()
                                }
                            }
                            _ => p.source.to_string(),
                        })
                        .collect::<Vec<_>>(),
                );
            }
        }
    }
    let cols: Vec<&str> = fields.iter().map(|_| "").collect();
    let headers: Vec<String> = fields.iter().map(|f| f.to_uppercase()).collect();
    print_table(&cols, &headers, &rows, scripted);
    Ok(0)
}

fn send(pools: &Pools, args: &[String]) -> Result<u8> {
    let mut opts = storage::send::SendOptions::default();
    let mut name = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-R" => opts.replicate = true,
            "-i" | "-I" => {
                opts.from = Some(it.next().context("zfs send: -i needs a snapshot")?.clone())
            }
            s if s.starts_with('-') => bail!("zfs send: unknown option {s}"),
            s => {
                if name.replace(s).is_some() {
                    bail!("usage: zfs send [-R] [-i SNAPSHOT] SNAPSHOT");
                }
            }
        }
    }
    let s = SnapshotName::parse(name.context("usage: zfs send [-R] [-i SNAPSHOT] SNAPSHOT")?)?;
    if std::io::stdout().is_terminal() {
        bail!(
            "Error: Stream can not be written to a terminal.\nYou must redirect standard output."
        );
    }
    let pool = pools.open(s.dataset.pool())?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    pool.send(&s, &opts, &mut out)?;
    Ok(0)
}

fn receive(pools: &Pools, args: &[String]) -> Result<u8> {
    let mut opts = storage::receive::ReceiveOptions::default();
    let mut name = None;
    for a in args {
        match a.as_str() {
            "-F" => opts.force = true,
            s if s.starts_with('-') => bail!("zfs receive: unknown option {s}"),
            s => {
                if name.replace(s).is_some() {
                    bail!("usage: zfs receive [-F] FILESYSTEM");
                }
            }
        }
    }
    let d = DatasetName::parse(name.context("usage: zfs receive [-F] FILESYSTEM")?)?;
    if std::io::stdin().is_terminal() {
        bail!("Error: Backup stream can not be read from a terminal.\nYou must redirect standard input.");
    }
    let pool = open(pools, d.pool(), true)?;
    let stdin = std::io::stdin();
    let input = std::io::BufReader::with_capacity(1 << 20, stdin.lock());
    pool.receive(&d, input, &opts)?;
    Ok(0)
}
