//! The Network panel: per zone and vNIC, packets/s and bytes/s through
//! the vNIC, frames/s its anti-spoofing classifier drops, and the zone's
//! TCP connections/s.
//!
//! Its program is `panels/network.d`; each refresh takes the difference
//! from the previous snapshot of `@pkts`, `@bytes`, `@drops` (keyed by
//! zone and vNIC) and `@conns` (keyed by zone: shown on each of the
//! zone's rows, or on a row of its own, vNIC `-`, for a zone whose
//! connections use no vNIC, such as loopback ones).

use super::table_panel::{state_only_panel, TablePanel, TablePanelState};
use super::{Context, PanelId};
use crate::format;
use crate::rates::Interval;
use crate::widgets::table::{Cell, Column, Row};
use std::collections::BTreeMap;

const COLUMNS: &[Column] = &[
    Column::text("ZONE", 0),
    Column::text("VNIC", 9),
    Column::number("PKTS/s", 7),
    Column::number("BYTES/s", 8),
    Column::number("DROPS/s", 7),
    Column::number("CONN/s", 6),
];

/// Column 3, bytes/s: the default sort.
const SORT_BYTES: usize = 3;

state_only_panel!(
    /// The Network panel.
    NetworkPanel,
    PanelId::Network,
    COLUMNS,
    SORT_BYTES
);

#[derive(Default)]
struct Counts {
    pkts: i64,
    bytes: i64,
    drops: i64,
}

impl TablePanel for NetworkPanel {
    const ID: PanelId = PanelId::Network;
    const NO_ROWS: &'static str =
        "no traffic on vNICs (zones get them from nics[] in their manifests)";

    fn state(&self) -> &TablePanelState {
        &self.state
    }

    fn state_mut(&mut self) -> &mut TablePanelState {
        &mut self.state
    }

    fn interval_rows(&mut self, iv: &Interval, ctx: &Context) -> Vec<Row> {
        let mut rows: BTreeMap<(String, String), Counts> = BTreeMap::new();
        for name in ["pkts", "bytes", "drops"] {
            let Some(a) = iv.get(name) else { continue };
            for e in &a.entries {
                let (Some(zone), Some(vnic), Some(n)) = (
                    e.keys.first().map(format::key),
                    e.keys.get(1).map(format::key),
                    e.value.scalar(1),
                ) else {
                    continue;
                };
                let c = rows.entry((zone, vnic)).or_default();
                match name {
                    "pkts" => c.pkts += n,
                    "bytes" => c.bytes += n,
                    _ => c.drops += n,
                }
            }
        }
        let mut conns: BTreeMap<String, i64> = BTreeMap::new();
        if let Some(a) = iv.get("conns") {
            for e in &a.entries {
                if let (Some(zone), Some(n)) = (e.keys.first().map(format::key), e.value.scalar(1))
                {
                    *conns.entry(zone).or_default() += n;
                }
            }
        }
        for zone in conns.keys() {
            if !rows.keys().any(|(z, _)| z == zone) {
                rows.insert((zone.clone(), "-".into()), Counts::default());
            }
        }
        rows.retain(|(zone, _), _| ctx.zones.shown(zone));
        let secs = iv.seconds;
        rows.into_iter()
            .map(|((zone, vnic), c)| {
                let per = |n: i64| n as f64 / secs;
                let conn = per(conns.get(&zone).copied().unwrap_or(0));
                Row {
                    key: format!("{zone}/{vnic}"),
                    cells: vec![
                        Cell::text(ctx.zones.display(&zone)),
                        Cell::text(vnic),
                        Cell::num(format::rate(per(c.pkts)), per(c.pkts)),
                        Cell::num(format::rate(per(c.bytes)), per(c.bytes)),
                        Cell::num(format::rate(per(c.drops)), per(c.drops)),
                        Cell::num(format::rate(conn), conn),
                    ],
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panels::{Panel, ZoneInfo, Zones};
    use crate::program::Status;
    use crate::test_utils::{agg, lines, render_panel};
    use engine::model::aggregation::{AggFunc, AggValue, Aggregation};
    use engine::model::value::Value;
    use std::time::{Duration, Instant};

    const Z: &str = "a0000000-0000-4000-8000-00000000000a";

    fn ctx() -> Context {
        Context {
            zones: Zones::new(vec![ZoneInfo {
                uuid: Z.into(),
                alias: Some("web".into()),
                running: true,
            }]),
            exit_reason: |_| "UNKNOWN",
            ncpus: 2,
            pool: Default::default(),
        }
    }

    fn two(zone: &str, vnic: &str) -> Vec<Value> {
        vec![Value::str(zone), Value::str(vnic)]
    }

    fn aggs(pkts: i64) -> Vec<Aggregation> {
        vec![
            agg(
                "pkts",
                AggFunc::Count,
                vec![(two(Z, "z0_net0"), AggValue::Scalar(pkts))],
            ),
            agg(
                "bytes",
                AggFunc::Sum,
                vec![(two(Z, "z0_net0"), AggValue::Scalar(pkts * 100))],
            ),
            agg(
                "drops",
                AggFunc::Count,
                vec![(two(Z, "z0_net0"), AggValue::Scalar(3))],
            ),
            agg(
                "conns",
                AggFunc::Count,
                vec![
                    (vec![Value::str(Z)], AggValue::Scalar(7)),
                    (vec![Value::str("global")], AggValue::Scalar(2)),
                ],
            ),
        ]
    }

    #[test]
    fn rows_per_zone_and_vnic_with_the_zones_connections() {
        let t0 = Instant::now();
        let mut p = NetworkPanel::new();
        p.state.program.status = Status::Running;
        p.state.program.generation = 1;
        p.restart(1, t0);
        p.ingest(&aggs(500), "", t0 + Duration::from_secs(1), &ctx());
        let buf = render_panel(&p, 64, 6, false);
        let l = lines(&buf);
        assert!(l[1].contains("ZONE") && l[1].contains("CONN/s"), "{l:?}");
        let row = |s: &str| -> Vec<String> {
            s.trim_matches('│')
                .split_whitespace()
                .map(String::from)
                .collect()
        };
        assert_eq!(row(&l[2]), ["web", "z0_net0", "500", "50.0k", "3.0", "7.0"]);
        assert_eq!(row(&l[3]), ["global", "-", "0", "0", "0", "2.0"]);
    }
}
