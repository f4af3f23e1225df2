//! The Processes panel: who is on CPU, by process, command and zone.
//!
//! Its program is `panels/procs.d`. CPU% = the process's `@oncpu` samples
//! in the interval / (rate × seconds) × 100, the rate being the script's
//! `profile-N` (97 Hz): percent of one CPU, as top(1) shows it. Only
//! processes sampled in the interval are listed.

use super::table_panel::{state_only_panel, TablePanel, TablePanelState};
use super::{Context, PanelId};
use crate::format;
use crate::rates::Interval;
use crate::widgets::table::{Cell, Column, Row};
use std::collections::BTreeMap;

const COLUMNS: &[Column] = &[
    Column::number("PID", 7),
    Column::text("COMMAND", 0),
    Column::text("ZONE", 12),
    Column::number("CPU%", 6),
];

/// Column 3, CPU%: the default sort.
const SORT_CPU: usize = 3;

state_only_panel!(
    /// The Processes panel.
    ProcsPanel,
    PanelId::Procs,
    COLUMNS,
    SORT_CPU
);

impl TablePanel for ProcsPanel {
    const ID: PanelId = PanelId::Procs;
    const NO_ROWS: &'static str = "nothing on CPU (idle)";

    fn state(&self) -> &TablePanelState {
        &self.state
    }

    fn state_mut(&mut self) -> &mut TablePanelState {
        &mut self.state
    }

    fn interval_rows(&mut self, iv: &Interval, ctx: &Context) -> Vec<Row> {
        let hz = crate::scripts::profile_hz(&self.state.program.source);
        let secs = iv.seconds;
        // Keyed by the printed keys: an edited script with other keys
        // still lists (pid, execname, zonename) when it has them.
        let mut procs: BTreeMap<Vec<String>, i64> = BTreeMap::new();
        if let Some(a) = iv.get("oncpu") {
            for e in &a.entries {
                let Some(n) = e.value.scalar(1).filter(|&n| n > 0) else {
                    continue;
                };
                *procs
                    .entry(e.keys.iter().map(format::key).collect())
                    .or_default() += n;
            }
        }
        procs
            .into_iter()
            .map(|(keys, n)| {
                let cpu = n as f64 / (hz * secs) * 100.0;
                let pid = keys.first().cloned().unwrap_or_default();
                let pid_n = pid.parse::<f64>().unwrap_or(0.0);
                let zone = keys
                    .get(2)
                    .map(|z| ctx.zones.display(z))
                    .unwrap_or_default();
                Row {
                    key: keys.join("/"),
                    cells: vec![
                        Cell::num(pid, pid_n),
                        Cell::text(keys.get(1).cloned().unwrap_or_default()),
                        Cell::text(zone),
                        Cell::num(format::percent(cpu), cpu),
                    ],
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panels::Panel;
    use crate::program::Status;
    use crate::test_utils::{agg, lines, render_panel};
    use engine::model::aggregation::{AggFunc, AggValue};
    use engine::model::value::Value;
    use std::time::{Duration, Instant};

    const WEB: &str = "a1b2c3d4-0000-4000-8000-000000000001";

    fn key(pid: i64, exec: &str, zone: &str) -> Vec<Value> {
        vec![
            Value::int(pid, 4, false),
            Value::str(exec),
            Value::str(zone),
        ]
    }

    #[test]
    fn processes_on_cpu_busiest_first() {
        let mut p = ProcsPanel::new();
        p.state.program.status = Status::Running;
        let t0 = Instant::now();
        p.restart(0, t0);
        let ctx = Context {
            zones: crate::panels::Zones::new(vec![crate::panels::ZoneInfo {
                uuid: WEB.into(),
                alias: Some("web".into()),
                running: true,
            }]),
            exit_reason: |_| "",
            ncpus: 2,
            pool: Default::default(),
        };
        let aggs = vec![agg(
            "oncpu",
            AggFunc::Count,
            vec![
                (key(4242, "cat", WEB), AggValue::Scalar(97)),
                (key(1, "systemd", "global"), AggValue::Scalar(0)),
                (key(77, "lumen", "global"), AggValue::Scalar(2)),
            ],
        )];
        p.ingest(&aggs, "", t0 + Duration::from_secs(1), &ctx);
        let buf = render_panel(&p, 44, 6, true);
        assert_eq!(
            lines(&buf),
            [
                "┏ Processes ━━━━━━━━━━━━━━━━━━━━ last 1.0s ┓",
                "┃    PID COMMAND        ZONE          CPU%▼┃",
                "┃   4242 cat            web           100.0┃",
                "┃     77 lumen          global          2.1┃",
                "┃procs.d: running · e edits the D source   ┃",
                "┗━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┛",
            ]
        );
    }
}
