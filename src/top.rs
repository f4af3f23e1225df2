//! `lumen top`: the live dashboard (the `tui` crate), given what only the
//! binary knows: the zone registry's names, the zones pool's datasets and
//! the VMM's exit reasons.

use anyhow::Result;
use clap::Parser;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "lumen top",
    about = "Live dashboards: zones, VMs and processes, each panel a D script",
    disable_version_flag = true
)]
struct Args {
    /// Seconds between refreshes (0.25 to 30; `+` and `-` change it).
    #[arg(
        short = 'd',
        long = "interval",
        default_value_t = 1.0,
        value_name = "SECONDS"
    )]
    interval: f64,
    /// No colours (also when the NO_COLOR environment variable is set).
    #[arg(long = "no-color")]
    no_color: bool,
    /// Also serve every panel's aggregations as Prometheus metrics at
    /// http://ADDR/metrics (`HOST:PORT`, or `:PORT` for every interface),
    /// as of the last refresh, labelled program="zones.d" and so on.
    #[arg(long, value_name = "ADDR")]
    metrics: Option<String>,
    /// Run this many seconds without a terminal (frames are drawn into a
    /// screen written to /dev/null), then exit: for measuring the cost.
    #[arg(long, value_name = "SECONDS", hide = true)]
    headless: Option<f64>,
    /// At exit, print how long refreshes took (gather and render).
    #[arg(long, hide = true)]
    report_timing: bool,
}

/// Run `lumen top ARGS`.
pub fn run(args: &[String]) -> Result<u8> {
    let args = match Args::try_parse_from(
        std::iter::once("lumen top".to_owned()).chain(args.iter().cloned()),
    ) {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return Ok(code);
        }
    };
    if !(0.25..=30.0).contains(&args.interval) {
        anyhow::bail!("top: the interval must be 0.25 to 30 seconds");
    }
    // NO_COLOR (no-color.org): set and not empty means no colour.
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let headless = match args.headless {
        Some(s) if s.is_finite() && s > 0.0 => Some(Duration::from_secs_f64(s)),
        Some(_) => anyhow::bail!("top: --headless takes a positive number of seconds"),
        None => None,
    };
    // Started before the terminal is taken, so that a bad address or a
    // port in use is an ordinary error message; kept until the end.
    let metrics = match &args.metrics {
        Some(addr) => {
            let store = tui::MetricsStore::default();
            let server = tui::metrics::serve(addr, store.clone())?;
            let at = server.local_addr();
            eprintln!("lumen top: serving metrics on http://{at}/metrics");
            Some((server, store, at.to_string()))
        }
        None => None,
    };
    let timing = tui::run(tui::Options {
        interval: Duration::from_secs_f64(args.interval),
        color: !(args.no_color || no_color_env),
        headless,
        exit_reason: hypervisor::vcpu::exit_reason_name,
        zones: Box::new(zone_list),
        pool: Box::new(PoolReader::default().into_source()),
        metrics: metrics
            .as_ref()
            .map(|(_, store, at)| (store.clone(), at.clone())),
    })?;
    drop(metrics);
    if args.report_timing {
        eprint!("{timing}");
    }
    Ok(0)
}

/// The registry's zones with their aliases and whether they run; `None`
/// if it cannot be read now (say, a zone's directory is being deleted as
/// it is listed), and the dashboard keeps the list it had: an empty list
/// in its place would drop every zone's row for a refresh.
fn zone_list() -> Option<Vec<tui::ZoneInfo>> {
    let reg = zones::Registry::from_env().ok()?;
    let list = reg.list().ok()?;
    Some(
        list.into_iter()
            .map(|z| tui::ZoneInfo {
                uuid: z.manifest.uuid,
                alias: z.manifest.alias,
                running: z.state == zones::registry::ZoneState::Running,
            })
            .collect(),
    )
}

/// Reads the zones pool for the Storage panel: at most every
/// [`PoolReader::EVERY`], since a pool of a thousand datasets takes a
/// good part of a refresh to list (`zfs list` of 1,000: ~150 ms); in
/// between, the last listing stands.
#[derive(Default)]
struct PoolReader {
    last: Option<std::time::Instant>,
}

impl PoolReader {
    const EVERY: Duration = Duration::from_secs(5);

    fn into_source(mut self) -> impl FnMut() -> tui::PoolListing + Send {
        move || {
            if self.last.is_some_and(|t| t.elapsed() < Self::EVERY) {
                return tui::PoolListing::Unread;
            }
            self.last = Some(std::time::Instant::now());
            pool_listing().unwrap_or(tui::PoolListing::Unread)
        }
    }
}

/// The zones pool's filesystems and volumes with their space, and its
/// devices (the panel tells each dataset's zone from its name); `None`
/// if it cannot be read now.
fn pool_listing() -> Option<tui::PoolListing> {
    use storage::dataset::Kind;
    use storage::name::AnyName;
    let pools = storage::pool::Pools::from_env().ok()?;
    if !pools.exists(zones::datasets::POOL) {
        return Some(tui::PoolListing::NoPool);
    }
    let pool = pools.open(zones::datasets::POOL).ok()?;
    let entries = pool.entries().ok()?;
    let mut cache = storage::props::ListingCache::default();
    let mut datasets = Vec::new();
    for e in entries.iter().filter(|e| e.kind != Kind::Snapshot) {
        let AnyName::Dataset(name) = &e.name else {
            continue;
        };
        let name = name.to_string();
        let props = pool.properties_cached(&entries, e, &mut cache).ok()?;
        let number = |prop: &str| {
            props
                .iter()
                .find(|p| p.name == prop)
                .and_then(|p| p.exact.parse::<u64>().ok())
        };
        datasets.push(tui::DatasetInfo {
            used: number("used").unwrap_or(0),
            quota: number("quota").filter(|&q| q > 0),
            name,
        });
    }
    let devices = pool
        .device_numbers()
        .into_iter()
        .map(|(major, minor)| (i64::from(major) << 20) | i64::from(minor))
        .collect();
    Some(tui::PoolListing::Pool(tui::PoolInfo {
        name: zones::datasets::POOL.to_string(),
        devices,
        datasets,
    }))
}
