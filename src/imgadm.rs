//! `lumen imgadm`: SmartOS's image tool over `zones::images` (`import`,
//! `list`, `get`, `delete`): images are `zones/UUID@final` on the zones pool.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use zones::images;

const USAGE: &str = "\
Usage: lumen imgadm <command> [options]

  import [-m MANIFEST] FILE|DIR   a root file system (tarball or directory) or, for a
                                  manifest of type zvol, a disk image, as zones/UUID@final;
                                  the manifest defaults to FILE.json or DIR/../NAME.json
  list [-H] [-j]                  installed images (UUID NAME VERSION OS TYPE PUB)
  get UUID                        an image's manifest
  delete UUID                     remove an image no zone or disk is cloned from
";

/// Run `imgadm` with `args` (after `imgadm`); the exit status.
pub fn run(args: &[String]) -> Result<u8> {
    let Some(verb) = args.first() else {
        eprint!("{USAGE}");
        return Ok(2);
    };
    let rest = &args[1..];
    let root = storage::pool::lumen_root();
    match verb.as_str() {
        "import" => {
            let mut manifest = None;
            let mut source = None;
            let mut it = rest.iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "-m" => {
                        manifest = Some(PathBuf::from(
                            it.next().context("imgadm import: -m needs a file")?,
                        ))
                    }
                    s if s.starts_with('-') => bail!("imgadm import: unknown option {s}"),
                    s => source = Some(PathBuf::from(s)),
                }
            }
            let source = source.context("usage: imgadm import [-m MANIFEST] FILE|DIR")?;
            let manifest = match manifest {
                Some(m) => m,
                None => beside(&source).with_context(|| {
                    format!(
                        "imgadm import: no manifest given (-m) and none beside {}",
                        source.display()
                    )
                })?,
            };
            let pool = images::open_pool(&root)?;
            pool.sweep()?;
            let image = images::import(&pool, &manifest, &source)?;
            eprintln!(
                "Imported image {} ({}@{})",
                image.uuid,
                image.field("name"),
                image.field("version")
            );
            Ok(0)
        }
        "list" => {
            let scripted = rest.iter().any(|a| a == "-H");
            let json = rest.iter().any(|a| a == "-j");
            let pool = images::open_pool(&root)?;
            let list = images::list(&pool)?;
            if json {
                let v: Vec<serde_json::Value> = list
                    .iter()
                    .map(|i| serde_json::Value::Object(i.manifest.clone()))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
                return Ok(0);
            }
            let cols = ["uuid", "name", "version", "os", "type", "published_at"];
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|i| {
                    cols.iter()
                        .map(|c| {
                            if *c == "uuid" {
                                i.uuid.clone()
                            } else {
                                i.field(c)
                            }
                        })
                        .collect()
                })
                .collect();
            if scripted {
                for r in rows {
                    println!("{}", r.join("\t"));
                }
                return Ok(0);
            }
            let headers = ["UUID", "NAME", "VERSION", "OS", "TYPE", "PUB"];
            let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
            for r in &rows {
                for (w, v) in widths.iter_mut().zip(r) {
                    *w = (*w).max(v.len());
                }
            }
            let line = |cells: Vec<String>| {
                cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| format!("{c:<w$}"))
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            };
            println!("{}", line(headers.iter().map(|h| h.to_string()).collect()));
            for r in rows {
                println!("{}", line(r));
            }
            Ok(0)
        }
        "get" => {
            let [uuid] = rest else {
                bail!("usage: imgadm get UUID")
            };
            let pool = images::open_pool(&root)?;
            let image = images::list(&pool)?
                .into_iter()
                .find(|i| &i.uuid == uuid)
                .with_context(|| format!("image {uuid} is not installed"))?;
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::Value::Object(image.manifest))?
            );
            Ok(0)
        }
        "delete" => {
            let [uuid] = rest else {
                bail!("usage: imgadm delete UUID")
            };
            let pool = images::open_pool(&root)?;
            pool.sweep()?;
            images::delete(&pool, uuid)?;
            eprintln!("Deleted image {uuid}");
            Ok(0)
        }
        "help" | "--help" => {
            print!("{USAGE}");
            Ok(0)
        }
        other => {
            eprintln!("imgadm: unknown command '{other}'");
            eprint!("{USAGE}");
            Ok(2)
        }
    }
}

/// A manifest beside an image: `FILE.json`, or `NAME.imgmanifest` (SmartOS's
/// exported images) for `NAME.tar.gz`.
fn beside(source: &Path) -> Option<PathBuf> {
    let mut json = source.as_os_str().to_owned();
    json.push(".json");
    let name = source.file_name()?.to_string_lossy().into_owned();
    let stem = name.split('.').next().unwrap_or(&name).to_string();
    [
        PathBuf::from(json),
        source.with_file_name(format!("{stem}.imgmanifest")),
        source.with_file_name(format!("{stem}.json")),
    ]
    .into_iter()
    .find(|p| p.is_file())
}
