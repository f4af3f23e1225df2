//! The VMs panel: per VM (a kvm-brand zone) and exit reason, exits per
//! second and how long the VMM took to handle them (p50/p99).
//!
//! Its program is `panels/vms.d`. Each refresh takes the difference from
//! the previous snapshot:
//! - exits/s = `@exits[zone, reason]` (kvm:::userspace-exit, each KVM_RUN
//!   that returned to the VMM) / seconds; reasons named as KVM names them.
//! - p50/p99 of `@handling[zone, reason]`: from the exit to the vCPU
//!   thread's next ioctl(2) (KVM_RUN again), per bucket ([`latency`]).
//! - rows `kernel #N`: exits the kernel handled itself, from kvm:::exit to
//!   kvm:::entry by hardware exit reason N (`@kernel`); VMX/SVM hosts only.
//!
//! [`latency`]: crate::latency

use super::table_panel::{add_buckets, edge_cell, state_only_panel, TablePanel, TablePanelState};
use super::{Context, PanelId};
use crate::format;
use crate::latency::{percentiles, Layout};
use crate::rates::Interval;
use crate::widgets::table::{Cell, Column, Row};
use engine::model::aggregation::AggValue;
use std::collections::BTreeMap;

const COLUMNS: &[Column] = &[
    Column::text("VM", 0),
    Column::text("REASON", 14),
    Column::number("EXITS/s", 8),
    Column::number("P50", 7),
    Column::number("P99", 7),
];

/// Column 2, exits/s: the default sort.
const SORT_EXITS: usize = 2;

state_only_panel!(
    /// The VMs panel.
    VmsPanel,
    PanelId::Vms,
    COLUMNS,
    SORT_EXITS
);

/// Where an exit was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    /// By the VMM (KVM_RUN returned): KVM's exit reasons.
    Vmm,
    /// Inside the kernel: hardware exit reasons.
    Kernel,
}

#[derive(Default)]
struct ExitRow {
    exits: i64,
    latency: Option<(Layout, Vec<i64>)>,
}

/// The (zone, reason) of an entry keyed `[zonename, reason]`.
fn zone_reason(keys: &[engine::model::value::Value]) -> Option<(String, u32)> {
    let zone = format::key(keys.first()?);
    let reason = u32::try_from(keys.get(1)?.as_i64()?).ok()?;
    Some((zone, reason))
}

impl TablePanel for VmsPanel {
    const ID: PanelId = PanelId::Vms;
    const NO_ROWS: &'static str = "no VM exits (VMs are kvm-brand zones)";

    fn state(&self) -> &TablePanelState {
        &self.state
    }

    fn state_mut(&mut self) -> &mut TablePanelState {
        &mut self.state
    }

    fn info(&self, seconds: f64) -> String {
        format!("VMM handling time · last {seconds:.1}s")
    }

    fn interval_rows(&mut self, iv: &Interval, ctx: &Context) -> Vec<Row> {
        let mut exits: BTreeMap<(String, Side, u32), ExitRow> = BTreeMap::new();
        if let Some(a) = iv.get("exits") {
            for e in &a.entries {
                let (Some((zone, reason)), Some(n)) = (zone_reason(&e.keys), e.value.scalar(1))
                else {
                    continue;
                };
                exits.entry((zone, Side::Vmm, reason)).or_default().exits += n;
            }
        }
        for (name, side) in [("handling", Side::Vmm), ("kernel", Side::Kernel)] {
            let Some(a) = iv.get(name) else { continue };
            let Some(layout) = Layout::of(&a.func) else {
                continue;
            };
            for e in &a.entries {
                let (Some((zone, reason)), AggValue::Buckets(b)) = (zone_reason(&e.keys), &e.value)
                else {
                    continue;
                };
                let row = exits.entry((zone, side, reason)).or_default();
                add_buckets(&mut row.latency, &layout, b);
                if side == Side::Kernel {
                    // No count() for in-kernel exits: the distribution's
                    // total is their number.
                    row.exits += b.iter().sum::<i64>();
                }
            }
        }
        // By the Zones panel's rule: a VM that stopped or was deleted
        // keeps its keys in the aggregations, but not its rows.
        exits.retain(|(zone, _, _), _| ctx.zones.shown(zone));
        let secs = iv.seconds;
        exits
            .into_iter()
            .map(|((zone, side, reason), r)| {
                let p = r
                    .latency
                    .as_ref()
                    .and_then(|(layout, counts)| percentiles(layout, counts));
                let reason_text = match side {
                    Side::Vmm => (ctx.exit_reason)(reason).to_string(),
                    Side::Kernel => format!("kernel #{reason}"),
                };
                let per_s = r.exits as f64 / secs;
                Row {
                    key: format!("{zone}/{side:?}/{reason}"),
                    cells: vec![
                        Cell::text(ctx.zones.display(&zone)),
                        Cell::text(reason_text),
                        Cell::num(format::rate(per_s), per_s),
                        edge_cell(p.map(|p| p.p50)),
                        edge_cell(p.map(|p| p.p99)),
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
    use crate::panels::{ZoneInfo, Zones};
    use crate::program::Status;
    use crate::test_utils::{agg, buckets, lines, render_panel, LLQ};
    use engine::model::aggregation::{AggFunc, Aggregation};
    use engine::model::value::Value;
    use std::time::{Duration, Instant};

    const VM: &str = "b0000000-0000-4000-8000-00000000000b";

    /// What panels read when the registry lists VM "vm1", running or not
    /// (`None`: not listed, deleted).
    fn registry(vm1_running: Option<bool>) -> Context {
        let zones = vm1_running.map(|running| ZoneInfo {
            uuid: VM.into(),
            alias: Some("vm1".into()),
            running,
        });
        Context {
            zones: Zones::new(zones.into_iter().collect()),
            exit_reason: |n| match n {
                2 => "IO",
                5 => "HLT",
                _ => "UNKNOWN",
            },
            ncpus: 2,
            pool: Default::default(),
        }
    }

    fn ctx() -> Context {
        registry(Some(true))
    }

    fn key(zone: &str, reason: i64) -> Vec<Value> {
        vec![Value::str(zone), Value::int(reason, 4, false)]
    }

    /// vms.d's aggregations once vm1 has had `io` IO exits (100 of them
    /// handled in 100–200µs, the rest in 2–3µs) and 10 HLTs handled by
    /// the VMM, and 300 exits handled in the kernel.
    fn aggs(io: i64) -> Vec<Aggregation> {
        vec![
            agg(
                "exits",
                AggFunc::Count,
                vec![
                    (key(VM, 2), AggValue::Scalar(io)),
                    (key(VM, 5), AggValue::Scalar(10)),
                ],
            ),
            agg(
                "handling",
                LLQ,
                vec![
                    (
                        key(VM, 2),
                        buckets(&LLQ, &[(2_500, io - 100), (150_000, 100)]),
                    ),
                    (key(VM, 5), buckets(&LLQ, &[(50, 10)])),
                ],
            ),
            agg(
                "kernel",
                LLQ,
                vec![(key(VM, 30), buckets(&LLQ, &[(700, 300)]))],
            ),
        ]
    }

    /// A panel whose program started at `t0`, fed a second of vm1 at
    /// `t0` + 1 s: 5000 IO exits.
    fn fed_at(t0: Instant) -> VmsPanel {
        let mut p = VmsPanel::new();
        p.state.program.status = Status::Running;
        p.state.program.generation = 3;
        p.restart(3, t0);
        p.ingest(&aggs(5000), "", t0 + Duration::from_secs(1), &ctx());
        p
    }

    fn fed() -> VmsPanel {
        fed_at(Instant::now())
    }

    #[test]
    fn exits_by_reason_with_handling_percentiles() {
        let p = fed();
        let buf = render_panel(&p, 60, 7, false);
        assert_eq!(
            lines(&buf),
            [
                "┌ VMs ────────────────────── VMM handling time · last 1.0s ┐",
                "│VM                 REASON         EXITS/s▼     P50     P99│",
                "│vm1                IO                 5000   2.0µs   100µs│",
                "│vm1                kernel #30          300   700ns   700ns│",
                "│vm1                HLT                  10  <100ns  <100ns│",
                "│vms.d: running · e edits the D source                     │",
                "└──────────────────────────────────────────────────────────┘",
            ]
        );
    }

    #[test]
    fn no_vm_says_how_to_get_one() {
        let mut p = VmsPanel::new();
        p.state.program.status = Status::Running;
        p.restart(0, Instant::now());
        p.ingest(&[], "", Instant::now() + Duration::from_secs(1), &ctx());
        let buf = render_panel(&p, 60, 5, false);
        assert_eq!(
            lines(&buf)[2],
            "│no VM exits (VMs are kvm-brand zones)                     │"
        );
    }

    #[test]
    fn a_vm_that_stopped_or_was_deleted_leaves_at_the_next_refresh() {
        for (why, listed) in [("stopped", Some(false)), ("deleted", None)] {
            let t0 = Instant::now();
            let mut p = fed_at(t0);
            // The same totals (no exits since): its keys are still there.
            p.ingest(
                &aggs(5000),
                "",
                t0 + Duration::from_secs(2),
                &registry(listed),
            );
            let buf = render_panel(&p, 60, 5, false);
            assert_eq!(
                lines(&buf)[2],
                "│no VM exits (VMs are kvm-brand zones)                     │",
                "{why}"
            );
        }
    }

    #[test]
    fn a_restarted_vm_comes_back_by_alias() {
        let t0 = Instant::now();
        let mut p = fed_at(t0);
        p.ingest(
            &aggs(5000),
            "",
            t0 + Duration::from_secs(2),
            &registry(Some(false)),
        );
        // Booted again: 500 IO exits in its first second, counted from the
        // last snapshot (not 5500), by alias.
        p.ingest(&aggs(5500), "", t0 + Duration::from_secs(3), &ctx());
        let buf = render_panel(&p, 60, 7, false);
        let rows: Vec<Vec<String>> = lines(&buf)[2..5]
            .iter()
            .map(|l| {
                l.trim_matches('│')
                    .split("  ")
                    .map(str::trim)
                    .filter(|w| !w.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .collect();
        assert_eq!(
            rows,
            [
                ["vm1", "IO", "500", "2.0µs", "2.0µs"],
                ["vm1", "kernel #30", "0", "-", "-"],
                ["vm1", "HLT", "0", "-", "-"],
            ]
        );
    }
}
