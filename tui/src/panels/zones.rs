//! The Zones panel: per zone, CPU%, system calls per second and their
//! p50/p99 latency, with the selected zone's latency histogram beside.
//!
//! Its program is `panels/zones.d` (see there for the aggregations). Each
//! refresh takes the difference from the previous snapshot ([`rates`]):
//! - CPU% = `@oncpu` samples / (rate × seconds) × 100, where rate is the
//!   script's `profile-N` (97 Hz) and samples count only non-idle threads:
//!   percent of one CPU, so a zone keeping two CPUs busy shows 200%.
//! - syscalls/s = the number of calls that returned in the interval (the
//!   total of `@latency`'s buckets) / seconds.
//! - p50/p99 from `@latency`'s buckets through an hdrhistogram, to the
//!   resolution of a bucket ([`latency`]).
//!
//! [`rates`]: crate::rates
//! [`latency`]: crate::latency

use super::table_panel::{add_buckets, edge_cell, TablePanel, TablePanelState};
use super::{Context, PanelId, GLOBAL};
use crate::format;
use crate::latency::{percentiles, Bucket, Layout};
use crate::rates::Interval;
use crate::theme::Theme;
use crate::widgets::histogram;
use crate::widgets::table::{Cell, Column, Row};
use engine::model::aggregation::AggValue;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Widget;
use std::collections::BTreeMap;

const COLUMNS: &[Column] = &[
    Column::text("ZONE", 0),
    Column::number("CPU%", 6),
    Column::number("SYSCALLS/s", 11),
    Column::number("P50", 7),
    Column::number("P99", 7),
];

/// Column 1, CPU%: the default sort, busiest first.
const SORT_CPU: usize = 1;

/// From this body width on, the histogram sits beside the table.
const HISTOGRAM_FROM_WIDTH: u16 = 72;

/// The Zones panel.
pub struct ZonesPanel {
    state: TablePanelState,
    /// The last interval's latency buckets per zonename.
    latency: BTreeMap<String, Vec<Bucket>>,
    /// zonename → the name shown.
    names: BTreeMap<String, String>,
    ncpus: usize,
}

/// One zone's numbers over an interval.
#[derive(Default)]
struct ZoneRow {
    samples: i64,
    latency: Option<(Layout, Vec<i64>)>,
}

impl Default for ZonesPanel {
    fn default() -> Self {
        ZonesPanel::new()
    }
}

impl ZonesPanel {
    /// The panel, its program not started yet.
    pub fn new() -> ZonesPanel {
        ZonesPanel {
            state: TablePanelState::new(PanelId::Zones, COLUMNS, SORT_CPU),
            latency: BTreeMap::new(),
            names: BTreeMap::new(),
            ncpus: 1,
        }
    }
}

impl TablePanel for ZonesPanel {
    const ID: PanelId = PanelId::Zones;
    const NO_ROWS: &'static str = "no zones";

    fn state(&self) -> &TablePanelState {
        &self.state
    }

    fn state_mut(&mut self) -> &mut TablePanelState {
        &mut self.state
    }

    fn info(&self, seconds: f64) -> String {
        format!("CPU% of one CPU ({} CPUs) · last {seconds:.1}s", self.ncpus)
    }

    fn interval_rows(&mut self, iv: &Interval, ctx: &Context) -> Vec<Row> {
        self.ncpus = ctx.ncpus;
        let hz = crate::scripts::profile_hz(&self.state.program.source);
        let mut zones: BTreeMap<String, ZoneRow> = BTreeMap::new();
        // The host and every running zone have a row, busy or not.
        zones.entry(GLOBAL.to_string()).or_default();
        for uuid in ctx.zones.running() {
            zones.entry(uuid.to_string()).or_default();
        }
        if let Some(a) = iv.get("oncpu") {
            for e in &a.entries {
                let (Some(zone), Some(n)) = (e.keys.first(), e.value.scalar(1)) else {
                    continue;
                };
                zones.entry(format::key(zone)).or_default().samples += n;
            }
        }
        if let Some(a) = iv.get("latency") {
            if let Some(layout) = Layout::of(&a.func) {
                for e in &a.entries {
                    let (Some(zone), AggValue::Buckets(b)) = (e.keys.first(), &e.value) else {
                        continue;
                    };
                    let row = zones.entry(format::key(zone)).or_default();
                    add_buckets(&mut row.latency, &layout, b);
                }
            }
        }
        // Only the host and running zones: a halted or deleted zone's key
        // stays in the aggregations (its delta 0). Its baseline stays in
        // the tracker, so if it boots again its first interval counts from
        // its last snapshot, not from the program's start.
        zones.retain(|zone, _| ctx.zones.shown(zone));
        let secs = iv.seconds;
        let mut rows = Vec::with_capacity(zones.len());
        self.latency.clear();
        self.names.clear();
        for (zone, z) in zones {
            let name = ctx.zones.display(&zone);
            let cpu = z.samples as f64 / (hz * secs) * 100.0;
            let (calls, p) = match &z.latency {
                Some((layout, counts)) => {
                    self.latency.insert(zone.clone(), layout.buckets(counts));
                    (counts.iter().sum::<i64>(), percentiles(layout, counts))
                }
                None => (0, None),
            };
            rows.push(Row {
                key: zone.clone(),
                cells: vec![
                    Cell::text(name.clone()),
                    Cell::num(format::percent(cpu), cpu),
                    Cell::num(format::rate(calls as f64 / secs), calls as f64 / secs),
                    edge_cell(p.map(|p| p.p50)),
                    edge_cell(p.map(|p| p.p99)),
                ],
            });
            self.names.insert(zone, name);
        }
        rows
    }

    /// The table, and the histogram beside it if there is room.
    fn split(&self, body: Rect) -> (Rect, Option<Rect>) {
        if body.width < HISTOGRAM_FROM_WIDTH {
            return (body, None);
        }
        let hist_w = body.width * 2 / 5;
        let table = Rect {
            width: body.width - hist_w - 1,
            ..body
        };
        let hist = Rect {
            x: body.x + table.width + 1,
            width: hist_w,
            ..body
        };
        (table, Some(hist))
    }

    /// The selected zone's syscall latency histogram.
    fn draw_beside(&self, hist_area: Rect, buf: &mut Buffer, theme: &Theme) {
        let Some(row) = self.state.table.selected_row() else {
            return;
        };
        if hist_area.height == 0 {
            return;
        }
        let name = self.names.get(&row.key).cloned().unwrap_or_default();
        Line::styled(format!("syscall latency: {name}"), theme.header()).render(
            Rect {
                height: 1,
                ..hist_area
            },
            buf,
        );
        let buckets = self.latency.get(&row.key).map_or(&[][..], |b| &b[..]);
        histogram::draw(
            buckets,
            format::nanos,
            Rect {
                y: hist_area.y + 1,
                height: hist_area.height - 1,
                ..hist_area
            },
            buf,
            theme,
            "no system calls in the interval",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panels::Panel;
    use crate::panels::{ZoneInfo, Zones};
    use crate::program::Status;
    use crate::test_utils::{agg, buckets, from_col, lines, render_panel, LLQ};
    use engine::model::aggregation::Aggregation;
    use engine::model::value::Value;
    use std::time::{Duration, Instant};

    const WEB: &str = "a1b2c3d4-0000-4000-8000-000000000001";

    /// Zone "web" as the registry lists it, running or not.
    fn web(running: bool) -> ZoneInfo {
        ZoneInfo {
            uuid: WEB.into(),
            alias: Some("web".into()),
            running,
        }
    }

    /// What panels read when the registry lists `zones`.
    fn registry(zones: Vec<ZoneInfo>) -> Context {
        Context {
            zones: Zones::new(zones),
            exit_reason: |_| "IO",
            ncpus: 2,
            pool: Default::default(),
        }
    }

    /// Web running.
    fn ctx() -> Context {
        registry(vec![web(true)])
    }

    /// zones.d's aggregations with web on CPU `web_samples` times in all,
    /// having made 2000 calls (1800 of 1–2µs, 200 of 30–40µs); the host
    /// 19 samples and 20 calls of 5µs.
    fn aggs(web_samples: i64) -> Vec<Aggregation> {
        vec![
            agg(
                "oncpu",
                engine::model::aggregation::AggFunc::Count,
                vec![
                    (vec![Value::str(WEB)], AggValue::Scalar(web_samples)),
                    (vec![Value::str("global")], AggValue::Scalar(19)),
                ],
            ),
            agg(
                "latency",
                LLQ,
                vec![
                    (
                        vec![Value::str(WEB)],
                        buckets(&LLQ, &[(1_500, 1800), (35_000, 200)]),
                    ),
                    (vec![Value::str("global")], buckets(&LLQ, &[(5_000, 20)])),
                ],
            ),
        ]
    }

    /// A panel whose program started at `t0`, fed two seconds of data at
    /// `t0` + 2 s: web on CPU 194 samples (100% of a CPU) making 1000
    /// calls/s; the host 19 samples (9.8%) and 10 calls/s.
    fn fed_at(t0: Instant) -> ZonesPanel {
        let mut p = ZonesPanel::new();
        p.state.program.status = Status::Running;
        p.state.program.generation = 1;
        p.restart(1, t0);
        p.ingest(&aggs(194), "", t0 + Duration::from_secs(2), &ctx());
        p
    }

    fn fed() -> ZonesPanel {
        fed_at(Instant::now())
    }

    /// The rows as drawn, each split into its cells' words (wide enough
    /// for a UUID in the ZONE column, no histogram beside; room for four).
    fn drawn_rows(p: &ZonesPanel) -> Vec<Vec<String>> {
        let buf = render_panel(p, 73, 8, true);
        lines(&buf)[2..6]
            .iter()
            .map(|l| {
                l.trim_matches('┃')
                    .split_whitespace()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter(|words| !words.is_empty())
            .collect()
    }

    #[test]
    fn rows_show_cpu_rate_and_percentiles() {
        let p = fed();
        let buf = render_panel(&p, 60, 6, true);
        assert_eq!(
            lines(&buf),
            [
                "┏ Zones ━━━━━━━━━━━━━ CPU% of one CPU (2 CPUs) · last 2.0s ┓",
                "┃ZONE                     CPU%▼  SYSCALLS/s     P50     P99┃",
                "┃web                      100.0        1000   1.0µs    30µs┃",
                "┃global                     9.8          10   5.0µs   5.0µs┃",
                "┃zones.d: running · e edits the D source                   ┃",
                "┗━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┛",
            ]
        );
    }

    #[test]
    fn the_selected_zones_histogram_is_beside_the_table() {
        let mut p = fed();
        p.state.table.move_by(1);
        let buf = render_panel(&p, 100, 7, false);
        let l = lines(&buf);
        assert_eq!(
            from_col(&l[1], 60),
            "syscall latency: global                │"
        );
        assert_eq!(
            from_col(&l[2], 60),
            "5.0µs ██████████████████████████████ 20│"
        );
        assert!(
            from_col(&l[3], 60).trim_end_matches('│').trim().is_empty(),
            "{}",
            l[3]
        );
    }

    #[test]
    fn filter_and_sort_apply_to_the_rows() {
        let mut p = fed();
        p.state.table.set_filter("glob");
        p.state.table.cycle_sort();
        let buf = render_panel(&p, 60, 5, true);
        let l = lines(&buf);
        assert!(l[0].starts_with("┏ Zones [/glob] ━"), "{}", l[0]);
        assert_eq!(
            l[1],
            "┃ZONE                      CPU% SYSCALLS/s▼     P50     P99┃"
        );
        assert!(l[2].starts_with("┃global "), "{}", l[2]);
    }

    #[test]
    fn a_compile_error_is_shown_in_the_panel() {
        let mut p = ZonesPanel::new();
        p.state.program.status =
            Status::Failed("zones.d: line 3: syntax error near \"{\"".to_string());
        let buf = render_panel(&p, 50, 5, true);
        assert_eq!(
            lines(&buf),
            [
                "┏ Zones ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓",
                "┃zones.d: line 3: syntax error near \"{\"          ┃",
                "┃                                                ┃",
                "┃zones.d: line 3: syntax error near \"{\"          ┃",
                "┗━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┛",
            ]
        );
    }

    #[test]
    fn rates_come_from_the_difference_between_snapshots() {
        let mut p = fed();
        let t = Instant::now() + Duration::from_secs(60);
        // Nothing new in the next interval: zero, not the running total.
        p.state.tracker.restart(1, t);
        p.ingest(&[], "", t + Duration::from_secs(1), &ctx());
        let row = p.state.table.view().next().expect("a row");
        assert_eq!(row.cells[1].text, "0.0");
        assert_eq!(row.cells[2].text, "0");
        assert_eq!(row.cells[3].text, "-");
    }

    #[test]
    fn a_zone_that_halted_leaves_at_the_next_refresh() {
        let t0 = Instant::now();
        let mut p = fed_at(t0);
        assert_eq!(drawn_rows(&p).len(), 2, "web and the host at first");
        // Its keys stay in the aggregations (nothing new: 0 this interval);
        // the registry read with them says it no longer runs.
        p.ingest(
            &aggs(194),
            "",
            t0 + Duration::from_secs(3),
            &registry(vec![web(false)]),
        );
        let buf = render_panel(&p, 60, 6, true);
        assert_eq!(
            lines(&buf),
            [
                "┏ Zones ━━━━━━━━━━━━━ CPU% of one CPU (2 CPUs) · last 1.0s ┓",
                "┃ZONE                     CPU%▼  SYSCALLS/s     P50     P99┃",
                "┃global                     0.0           0       -       -┃",
                "┃                                                          ┃",
                "┃zones.d: running · e edits the D source                   ┃",
                "┗━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┛",
            ]
        );
    }

    #[test]
    fn a_deleted_zone_leaves_at_the_next_refresh() {
        let t0 = Instant::now();
        let mut p = fed_at(t0);
        // Gone from the registry altogether, but busy in its last interval
        // (its last threads exiting): it still goes.
        p.ingest(
            &aggs(250),
            "",
            t0 + Duration::from_secs(3),
            &registry(vec![]),
        );
        assert_eq!(drawn_rows(&p), [["global", "0.0", "0", "-", "-"]]);
    }

    #[test]
    fn a_restarted_zone_comes_back_with_its_own_interval() {
        let t0 = Instant::now();
        let mut p = fed_at(t0);
        // Halted at 3 s, having run a little more while it stopped.
        p.ingest(
            &aggs(200),
            "",
            t0 + Duration::from_secs(3),
            &registry(vec![web(false)]),
        );
        assert_eq!(drawn_rows(&p).len(), 1);
        // Booted again (the same UUID, so the same keys): 97 samples in
        // the last second is 100% of a CPU, counted from the snapshot at
        // 3 s and not from the program's start (297 samples: 306%).
        p.ingest(&aggs(297), "", t0 + Duration::from_secs(4), &ctx());
        assert_eq!(
            drawn_rows(&p),
            [
                ["web", "100.0", "0", "-", "-"],
                ["global", "0.0", "0", "-", "-"],
            ]
        );
    }

    #[test]
    fn a_running_zone_is_listed_by_alias_while_idle() {
        let t0 = Instant::now();
        let mut p = fed_at(t0);
        let db = ZoneInfo {
            uuid: "d0000000-0000-4000-8000-00000000000d".into(),
            alias: Some("db".into()),
            running: true,
        };
        let nameless = ZoneInfo {
            uuid: "e0000000-0000-4000-8000-00000000000e".into(),
            alias: None,
            running: true,
        };
        p.ingest(
            &aggs(291),
            "",
            t0 + Duration::from_secs(3),
            &registry(vec![web(true), db, nameless]),
        );
        let names: Vec<String> = drawn_rows(&p).into_iter().map(|r| r[0].clone()).collect();
        assert_eq!(
            names,
            [
                "web",
                "db",
                "e0000000-0000-4000-8000-00000000000e",
                "global"
            ]
        );
    }

    #[test]
    fn before_the_registry_is_read_zones_show_by_uuid() {
        let t0 = Instant::now();
        let mut p = ZonesPanel::new();
        p.state.program.status = Status::Running;
        p.state.program.generation = 1;
        p.restart(1, t0);
        let unread = Context {
            zones: Zones::default(),
            exit_reason: |_| "IO",
            ncpus: 2,
            pool: Default::default(),
        };
        p.ingest(&aggs(194), "", t0 + Duration::from_secs(2), &unread);
        let names: Vec<String> = drawn_rows(&p).into_iter().map(|r| r[0].clone()).collect();
        assert_eq!(names, [WEB, "global"]);
    }
}
