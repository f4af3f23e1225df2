//! `lumen top`: the live dashboard (the `tui` crate), given what only the
//! binary knows: the zone registry's names and the VMM's exit reasons.

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
