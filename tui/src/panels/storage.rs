//! The Storage panel: per dataset of the zones pool, the space it uses
//! against its quota, and per zone the block I/O it issued to the pool —
//! requests/s, bytes/s and their p50/p99 latency — on its dataset's row.
//!
//! Two sources, because neither has both: the I/O comes from the
//! panel's program, `panels/storage.d` (`@latency` and `@bytes`, keyed by
//! zone and device; each refresh takes the difference from the previous
//! snapshot), and the space from the storage crate's listing of the pool
//! ([`PoolListing`]), read with each refresh as the zone list is.
//!
//! Where I/O lands: every dataset of a pool sits on the pool's device(s),
//! and the block layer does not know which dataset a request is for, so
//! the panel counts the requests a zone's threads issued to those devices
//! and shows them on the zone's own dataset (`POOL/UUID`); the host's
//! (`global`, which includes page-cache writeback done on zones' behalf)
//! show on the pool's top dataset. A zone's delegated dataset and its
//! VM's disks share its numbers, on its root's row. Without a pool the
//! panel still shows each zone's I/O, to every device, with no dataset.

use super::table_panel::{add_buckets, edge_cell, state_only_panel, TablePanel, TablePanelState};
use super::{Context, PanelId, GLOBAL};
use crate::format;
use crate::latency::{percentiles, Layout};
use crate::rates::Interval;
use crate::widgets::table::{Cell, Column, Row};
use engine::model::aggregation::AggValue;
use std::collections::BTreeMap;

/// A dataset (filesystem or volume) of the zones pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetInfo {
    /// Its name, `zones/UUID`.
    pub name: String,
    /// Bytes it uses, its descendants' included (ZFS's `used`).
    pub used: u64,
    /// Its quota in bytes, if it has one.
    pub quota: Option<u64>,
}

/// The zones pool at a refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolInfo {
    /// Its name (`zones`): its top dataset is named so.
    pub name: String,
    /// Its devices as D's `b_edev` (`major << 20 | minor`).
    pub devices: Vec<i64>,
    /// Its filesystems and volumes (not snapshots), in name order.
    pub datasets: Vec<DatasetInfo>,
}

/// What the storage crate said of the zones pool at the last refresh.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PoolListing {
    /// Not read yet.
    #[default]
    Unread,
    /// The node has no zones pool.
    NoPool,
    /// The pool.
    Pool(PoolInfo),
}

const COLUMNS: &[Column] = &[
    Column::text("ZONE", 12),
    Column::text("DATASET", 0),
    Column::number("OPS/s", 6),
    Column::number("BYTES/s", 8),
    Column::number("P50", 6),
    Column::number("P99", 6),
    Column::number("USED", 6),
    Column::number("QUOTA", 6),
    Column::number("USE%", 5),
];

/// Column 3, bytes/s: the default sort, busiest first.
const SORT_BYTES: usize = 3;

state_only_panel!(
    /// The Storage panel.
    StoragePanel,
    PanelId::Storage,
    COLUMNS,
    SORT_BYTES
);

/// The zone dataset `name` of pool `pool` belongs to, by the names zones
/// give their datasets: `POOL/UUID` (its root), `POOL/UUID/…` (its
/// delegated dataset), `POOL/UUID-diskN` (its VM's disks), where UUID is
/// a zone the registry lists; images and the pool's own datasets belong
/// to none.
fn zone_of<'a>(name: &'a str, pool: &str, zones: &super::Zones) -> Option<&'a str> {
    let first = name
        .strip_prefix(pool)?
        .strip_prefix('/')?
        .split('/')
        .next()?;
    let uuid = match first.rsplit_once("-disk") {
        Some((u, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => u,
        _ => first,
    };
    zones.knows(uuid).then_some(uuid)
}

/// One zone's I/O over an interval.
#[derive(Default)]
struct ZoneIo {
    bytes: i64,
    latency: Option<(Layout, Vec<i64>)>,
}

/// The I/O cells of a row: ops/s, bytes/s, p50, p99 (`-` without I/O).
fn io_cells(io: Option<&ZoneIo>, secs: f64) -> Vec<Cell> {
    let Some(io) = io else {
        return vec![
            Cell::num("-", -1.0),
            Cell::num("-", -1.0),
            edge_cell(None),
            edge_cell(None),
        ];
    };
    let (ops, p) = match &io.latency {
        Some((layout, counts)) => (counts.iter().sum::<i64>(), percentiles(layout, counts)),
        None => (0, None),
    };
    let per = |n: i64| n as f64 / secs;
    vec![
        Cell::num(format::rate(per(ops)), per(ops)),
        Cell::num(format::rate(per(io.bytes)), per(io.bytes)),
        edge_cell(p.map(|p| p.p50)),
        edge_cell(p.map(|p| p.p99)),
    ]
}

/// The space cells of a row: used, quota, used as a percentage of it.
fn space_cells(d: Option<&DatasetInfo>) -> Vec<Cell> {
    let Some(d) = d else {
        return vec![
            Cell::num("-", -1.0),
            Cell::num("-", -1.0),
            Cell::num("-", -1.0),
        ];
    };
    let used = Cell::num(format::bytes(d.used), d.used as f64);
    match d.quota {
        Some(q) if q > 0 => {
            let pct = d.used as f64 / q as f64 * 100.0;
            vec![
                used,
                Cell::num(format::bytes(q), q as f64),
                Cell::num(format::percent(pct), pct),
            ]
        }
        _ => vec![used, Cell::num("none", -1.0), Cell::num("-", -1.0)],
    }
}

impl TablePanel for StoragePanel {
    const ID: PanelId = PanelId::Storage;
    const NO_ROWS: &'static str = "no block I/O and no zones pool (lumen zpool create)";

    fn state(&self) -> &TablePanelState {
        &self.state
    }

    fn state_mut(&mut self) -> &mut TablePanelState {
        &mut self.state
    }

    fn interval_rows(&mut self, iv: &Interval, ctx: &Context) -> Vec<Row> {
        let pool = match &ctx.pool {
            PoolListing::Pool(p) => Some(p),
            _ => None,
        };
        // Only requests to the pool's devices, where it has any.
        let counted = |dev: Option<i64>| match pool {
            Some(p) => dev.is_some_and(|d| p.devices.contains(&d)),
            None => true,
        };
        let mut io: BTreeMap<String, ZoneIo> = BTreeMap::new();
        if let Some(a) = iv.get("latency") {
            if let Some(layout) = Layout::of(&a.func) {
                for e in &a.entries {
                    let (Some(zone), AggValue::Buckets(b)) = (e.keys.first(), &e.value) else {
                        continue;
                    };
                    if counted(e.keys.get(1).and_then(|d| d.as_i64())) {
                        let z = io.entry(format::key(zone)).or_default();
                        add_buckets(&mut z.latency, &layout, b);
                    }
                }
            }
        }
        if let Some(a) = iv.get("bytes") {
            for e in &a.entries {
                let (Some(zone), Some(n)) = (e.keys.first(), e.value.scalar(1)) else {
                    continue;
                };
                if counted(e.keys.get(1).and_then(|d| d.as_i64())) {
                    io.entry(format::key(zone)).or_default().bytes += n;
                }
            }
        }
        let secs = iv.seconds;
        let mut rows = Vec::new();
        if let Some(p) = pool {
            for d in &p.datasets {
                let zone = zone_of(&d.name, &p.name, &ctx.zones);
                // The dataset whose row carries a zone's I/O: the zone's
                // root, or the pool's top dataset for the host.
                let io_zone = match zone {
                    Some(z) if d.name == format!("{}/{z}", p.name) => Some(z),
                    None if d.name == p.name => Some(GLOBAL),
                    _ => None,
                };
                let zone_name = match (zone, io_zone) {
                    (Some(z), _) => ctx.zones.display(z),
                    (None, Some(g)) => g.to_string(),
                    (None, None) => "-".to_string(),
                };
                let mut cells = vec![Cell::text(zone_name), Cell::text(d.name.clone())];
                cells.extend(io_cells(io_zone.and_then(|z| io.remove(z)).as_ref(), secs));
                cells.extend(space_cells(Some(d)));
                rows.push(Row {
                    key: d.name.clone(),
                    cells,
                });
            }
        }
        // I/O of zones with no dataset of their own here (and every
        // zone's, without a pool): a row without space.
        for (zone, z) in io {
            if !ctx.zones.shown(&zone) {
                continue;
            }
            let mut cells = vec![Cell::text(ctx.zones.display(&zone)), Cell::text("-")];
            cells.extend(io_cells(Some(&z), secs));
            cells.extend(space_cells(None));
            rows.push(Row {
                key: format!("{zone}/-"),
                cells,
            });
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panels::{Panel, ZoneInfo, Zones};
    use crate::program::Status;
    use crate::test_utils::{agg, buckets, lines, render_panel, LLQ};
    use engine::model::aggregation::{AggFunc, Aggregation};
    use engine::model::value::Value;
    use std::time::{Duration, Instant};

    const Z: &str = "a0000000-0000-4000-8000-00000000000a";
    /// The pool's loop device, 7:3, as b_edev.
    const POOL_DEV: i64 = (7 << 20) | 3;
    /// The host's own disk, 254:0.
    const HOST_DEV: i64 = 254 << 20;

    fn ctx(pool: PoolListing) -> Context {
        Context {
            zones: Zones::new(vec![ZoneInfo {
                uuid: Z.into(),
                alias: Some("web".into()),
                running: true,
            }]),
            exit_reason: |_| "UNKNOWN",
            ncpus: 2,
            pool,
        }
    }

    fn pool() -> PoolListing {
        let ds = |name: &str, used: u64, quota: Option<u64>| DatasetInfo {
            name: name.into(),
            used,
            quota,
        };
        PoolListing::Pool(PoolInfo {
            name: "zones".into(),
            devices: vec![POOL_DEV],
            datasets: vec![
                ds("zones", 3 << 30, None),
                ds(&format!("zones/{Z}"), 512 << 20, Some(2 << 30)),
                ds(&format!("zones/{Z}-disk0"), 1 << 30, None),
            ],
        })
    }

    fn key(zone: &str, dev: i64) -> Vec<Value> {
        vec![Value::str(zone), Value::int(dev, 8, true)]
    }

    /// `n` requests of 100 µs and 1 ms each, 64 KiB each, per zone and device.
    fn aggs(n: i64) -> Vec<Aggregation> {
        let lat = |n| buckets(&LLQ, &[(100_000, n), (1_000_000, n)]);
        vec![
            agg(
                "latency",
                LLQ,
                vec![
                    (key(Z, POOL_DEV), lat(n)),
                    (key(GLOBAL, POOL_DEV), lat(1)),
                    (key(Z, HOST_DEV), lat(50)),
                ],
            ),
            agg(
                "bytes",
                AggFunc::Sum,
                vec![
                    (key(Z, POOL_DEV), AggValue::Scalar(2 * n * 65536)),
                    (key(GLOBAL, POOL_DEV), AggValue::Scalar(2 * 65536)),
                    (key(Z, HOST_DEV), AggValue::Scalar(100 * 4096)),
                ],
            ),
        ]
    }

    fn rows(p: &StoragePanel, w: u16) -> Vec<Vec<String>> {
        let buf = render_panel(p, w, 8, false);
        lines(&buf)
            .iter()
            .skip(2)
            .take(4)
            .map(|s| {
                s.trim_matches('│')
                    .split_whitespace()
                    .map(String::from)
                    .collect()
            })
            .collect()
    }

    fn run(pool: PoolListing) -> StoragePanel {
        let t0 = Instant::now();
        let mut p = StoragePanel::new();
        p.state.program.status = Status::Running;
        p.state.program.generation = 1;
        p.restart(1, t0);
        p.ingest(&aggs(500), "", t0 + Duration::from_secs(1), &ctx(pool));
        p
    }

    #[test]
    fn a_zones_io_to_the_pool_shows_on_its_dataset_with_space_against_quota() {
        let p = run(pool());
        let r = rows(&p, 120);
        let root = format!("zones/{Z}");
        let disk = format!("zones/{Z}-disk0");
        // Sorted by bytes/s. The zone's 1000 requests to the pool (500 of
        // 100 µs, 500 of 1 ms, 64 KiB each) are on its root's row, not its
        // 100 to the host's own disk; its VM disk has no I/O of its own.
        assert_eq!(
            r[0],
            ["web", &root, "1000", "65.54M", "100µs", "1.0ms", "512M", "2.0G", "25.0"],
            "{r:?}"
        );
        assert_eq!(
            r[1],
            ["global", "zones", "2.0", "131.1k", "100µs", "1.0ms", "3.0G", "none", "-"],
            "{r:?}"
        );
        assert_eq!(
            r[2],
            ["web", &disk, "-", "-", "-", "-", "1.0G", "none", "-"],
            "{r:?}"
        );
    }

    #[test]
    fn without_a_pool_every_devices_io_is_the_zones() {
        let p = run(PoolListing::NoPool);
        let r = rows(&p, 120);
        assert_eq!(r[0][..4], ["web", "-", "1100", "65.95M"], "{r:?}");
        assert_eq!(r[1][..4], ["global", "-", "2.0", "131.1k"], "{r:?}");
        assert!(r[2].is_empty(), "{r:?}");
    }

    #[test]
    fn datasets_belong_to_the_zone_in_their_name() {
        let zones = ctx(PoolListing::Unread).zones;
        for name in [
            format!("zones/{Z}"),
            format!("zones/{Z}/data"),
            format!("zones/{Z}-disk0"),
            format!("zones/{Z}-disk12"),
        ] {
            assert_eq!(zone_of(&name, "zones", &zones), Some(Z), "{name}");
        }
        for name in [
            "zones".to_string(),
            "zones/b0000000-0000-4000-8000-00000000000b".to_string(),
            format!("zones/{Z}-diskx"),
            format!("zones/{Z}-disk"),
            format!("tank/{Z}"),
        ] {
            assert_eq!(zone_of(&name, "zones", &zones), None, "{name}");
        }
    }
}
