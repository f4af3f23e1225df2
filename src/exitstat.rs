//! `lumen vmadm exitstat`: `perf kvm stat report`'s table of VM exits —
//! reason, samples, samples%, time%, min, max, avg (± relative error of
//! the mean) — and a latency distribution per reason, for one VMM.
//!
//! The numbers come from a D program on the VMM's `vmm` probes (time from
//! `exit-entry` to `exit-return`: how long the VMM took to handle the exit
//! in user space), run in this process as a live program
//! (`engine::live`) tracing the VMM as `-p` would; this module reads its
//! aggregations as data and lays them out.

use anyhow::{Context, Result};
use engine::live::{LiveOptions, LiveProgram, LiveTarget};
use engine::model::aggregation::{AggValue, Aggregation};
use engine::model::value::Value;
use std::io::Write;
use std::time::{Duration, Instant};

/// The D program: per exit reason (`arg2`), the handling time's count,
/// sum, min, max and standard deviation, and its distribution by name.
pub fn script() -> String {
    let mut s = String::from("BEGIN {");
    for reason in 0..=30u32 {
        s.push_str(&format!(
            " reason[{reason}] = \"{}\";",
            hypervisor::vcpu::exit_reason_name(reason)
        ));
    }
    s.push_str(
        " }
vmm$target:::exit-entry { self->ts = timestamp; }
vmm$target:::exit-return /self->ts/ {
    this->d = timestamp - self->ts;
    @n[arg2] = count(); @t[arg2] = sum(this->d);
    @lo[arg2] = min(this->d); @hi[arg2] = max(this->d); @sd[arg2] = stddev(this->d);
    @q[reason[arg2]] = quantize(this->d);
    self->ts = 0;
}
",
    );
    s
}

/// One reason's line of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct ExitRow {
    pub reason: u32,
    pub samples: u64,
    pub total_ns: u64,
    pub min_ns: u64,
    pub max_ns: u64,
    pub stddev_ns: u64,
}

/// The table's rows from the program's aggregations (`@n @t @lo @hi @sd`,
/// keyed by exit reason).
pub fn rows(aggs: &[Aggregation]) -> Vec<ExitRow> {
    let by_name = |name: &str| aggs.iter().find(|a| a.name == name);
    let value = |name: &str, reason: i64| -> u64 {
        let Some(a) = by_name(name) else {
            return 0;
        };
        a.entries
            .iter()
            .find(|e| e.keys.first().and_then(Value::as_i64) == Some(reason))
            .map_or(0, |e| match &e.value {
                AggValue::Stddev { .. } => e.value.stddev(1),
                v => v.scalar(1).map_or(0, |x| x.max(0) as u64),
            })
    };
    let Some(counts) = by_name("n") else {
        return Vec::new();
    };
    counts
        .entries
        .iter()
        .filter_map(|e| e.keys.first().and_then(Value::as_i64))
        .filter_map(|r| {
            Some(ExitRow {
                reason: u32::try_from(r).ok()?,
                samples: value("n", r),
                total_ns: value("t", r),
                min_ns: value("lo", r),
                max_ns: value("hi", r),
                stddev_ns: value("sd", r),
            })
        })
        .collect()
}

/// `perf kvm stat report`'s table for `rows` (sorted by samples, most first).
pub fn table(target: &str, rows: &[ExitRow]) -> String {
    let mut rows = rows.to_vec();
    rows.sort_by(|a, b| b.samples.cmp(&a.samples).then(a.reason.cmp(&b.reason)));
    let samples: u64 = rows.iter().map(|r| r.samples).sum();
    let time: u64 = rows.iter().map(|r| r.total_ns).sum();
    let pct = |part: u64, whole: u64| {
        if whole == 0 {
            0.0
        } else {
            part as f64 * 100.0 / whole as f64
        }
    };
    let us = |ns: f64| ns / 1000.0;
    let mut out = format!("\nAnalyze events for {target}, all VCPUs:\n\n");
    out.push_str(&format!(
        "{:>20} {:>10} {:>9} {:>9} {:>11} {:>11} {:>16} \n\n",
        "VM-EXIT", "Samples", "Samples%", "Time%", "Min Time", "Max Time", "Avg time"
    ));
    for r in &rows {
        let avg = if r.samples == 0 {
            0.0
        } else {
            r.total_ns as f64 / r.samples as f64
        };
        // The relative standard error of the mean, as perf reports it: the
        // sample standard deviation over √n, as a share of the mean.
        let rel = if r.samples < 2 || avg == 0.0 {
            0.0
        } else {
            r.stddev_ns as f64 / ((r.samples - 1) as f64).sqrt() / avg * 100.0
        };
        out.push_str(&format!(
            "{:>20} {:>10} {:>8.2}% {:>8.2}% {:>9.2}us {:>9.2}us {:>9.2}us ( +-{:>7.2}% )\n",
            hypervisor::vcpu::exit_reason_name(r.reason),
            r.samples,
            pct(r.samples, samples),
            pct(r.total_ns, time),
            us(r.min_ns as f64),
            us(r.max_ns as f64),
            us(avg),
            rel
        ));
    }
    out.push_str(&format!(
        "\nTotal Samples:{samples}, Total events handled time:{:.2}us.\n\n",
        us(time as f64)
    ));
    out
}

/// One report: the table, then each reason's distribution as `printa`
/// prints a quantize.
fn report(target: &str, aggs: &[Aggregation]) -> String {
    let mut out = table(target, &rows(aggs));
    if let Some(q) = aggs.iter().find(|a| a.name == "q") {
        engine::print::printa::print_all(&[q], &Default::default(), &mut out);
    }
    out
}

/// Trace the VMM `pid` and print the table (and the distributions) every
/// `interval` seconds (`count` times, if given), or once when the VMM
/// exits or on ^C.
pub fn run(pid: u32, interval: Option<u32>, count: Option<u32>) -> Result<u8> {
    let catalog = engine::LiveCatalog::open();
    let options = LiveOptions {
        targets: vec![LiveTarget::Pid(pid)],
        ..LiveOptions::default()
    };
    let mut program = LiveProgram::start_with("exitstat.d", &script(), &catalog, &options)
        .context("tracing the VMM")?;
    engine::run::session::install_signal_handlers();
    let signals = || engine::run::session::SIGNALS.load(std::sync::atomic::Ordering::SeqCst);
    let before = signals();
    let target = format!("pid(s) {pid}");
    let mut out = std::io::stdout().lock();
    let mut reports = 0;
    loop {
        let due = interval.map(|s| Instant::now() + Duration::from_secs(u64::from(s)));
        while !program.ended() && signals() == before && due.is_none_or(|d| Instant::now() < d) {
            program.step(100).context("reading the VMM's probes")?;
        }
        let aggs = program.aggregations().context("reading the aggregations")?;
        write!(out, "{}", report(&target, &aggs))?;
        out.flush()?;
        reports += 1;
        if program.ended() || signals() != before || count.is_some_and(|c| reports >= c) {
            break;
        }
        program.truncate().context("starting the next interval")?;
    }
    program.end().context("ending the trace")?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::model::aggregation::{AggEntry, AggFunc};

    fn agg(name: &str, func: AggFunc, entries: &[(i64, AggValue)]) -> Aggregation {
        let mut a = Aggregation::new(name, 0, func);
        a.entries = entries
            .iter()
            .map(|(k, v)| AggEntry {
                keys: vec![Value::int(*k, 8, false)],
                value: v.clone(),
            })
            .collect();
        a
    }

    #[test]
    fn rows_come_from_the_aggregations_and_lay_out_as_perf_does() {
        let aggs = vec![
            agg(
                "n",
                AggFunc::Count,
                &[(2, AggValue::Scalar(4)), (6, AggValue::Scalar(1))],
            ),
            agg(
                "t",
                AggFunc::Sum,
                &[(2, AggValue::Scalar(40000)), (6, AggValue::Scalar(3000))],
            ),
            agg(
                "lo",
                AggFunc::Min,
                &[(2, AggValue::Scalar(2000)), (6, AggValue::Scalar(3000))],
            ),
            agg(
                "hi",
                AggFunc::Max,
                &[(2, AggValue::Scalar(16000)), (6, AggValue::Scalar(3000))],
            ),
        ];
        let rows = rows(&aggs);
        assert_eq!(rows.len(), 2);
        let t = table("pid(s) 7", &rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[1], "Analyze events for pid(s) 7, all VCPUs:");
        assert_eq!(
            lines[3],
            "             VM-EXIT    Samples  Samples%     Time%    Min Time    Max Time         Avg time "
        );
        // IO first (most samples): 4 of 5 samples, 40 of 43 µs.
        assert!(
            lines[5].starts_with("                  IO          4    80.00%    93.02%      2.00us     16.00us     10.00us"),
            "{}",
            lines[5]
        );
        assert!(
            lines[6].starts_with("                MMIO          1    20.00%     6.98%      3.00us      3.00us      3.00us"),
            "{}",
            lines[6]
        );
        assert_eq!(
            lines[8],
            "Total Samples:5, Total events handled time:43.00us."
        );
    }

    #[test]
    fn the_script_names_every_reason() {
        let s = script();
        assert!(s.contains("reason[2] = \"IO\";"));
        assert!(s.contains("vmm$target:::exit-return"));
    }
}
