//! `lumen vmadm exitstat`: `perf kvm stat report`'s table of VM exits —
//! reason, samples, samples%, time%, min, max, avg (± relative error of
//! the mean) — and a latency distribution per reason, for one VMM.
//!
//! The numbers come from a D program on the VMM's `vmm` probes (time from
//! `exit-entry` to `exit-return`: how long the VMM took to handle the exit
//! in user space), run by `lumen dtrace` like any user's script would be;
//! this module only lays out what that program prints.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

/// The D program; `@@INTERVAL@@` is replaced by the reporting clause.
const SCRIPT: &str = r#"#pragma D option quiet
vmm$target:::exit-entry { self->ts = timestamp; }
vmm$target:::exit-return /self->ts/ {
    this->d = timestamp - self->ts;
    @n[arg2] = count(); @t[arg2] = sum(this->d);
    @lo[arg2] = min(this->d); @hi[arg2] = max(this->d); @sd[arg2] = stddev(this->d);
    @q[reason[arg2]] = quantize(this->d);
    self->ts = 0;
}
@@INTERVAL@@
END /!done/ { printa("R %d %@d %@d %@d %@d %@d\n", @n, @t, @lo, @hi, @sd); printa(@q); printf("T\n"); }
"#;

/// The D program for `interval` seconds between reports (none: one report
/// at the end), ending after `count` reports if given.
pub fn script(interval: Option<u32>, count: Option<u32>) -> String {
    let mut names = String::from("BEGIN { reports = 0; done = 0;");
    for reason in 0..=30u32 {
        names.push_str(&format!(
            " reason[{reason}] = \"{}\";",
            hypervisor::vcpu::exit_reason_name(reason)
        ));
    }
    names.push_str(" }\n");
    let mut report = match interval {
        Some(secs) => format!(
            "tick-{secs}s {{ printa(\"R %d %@d %@d %@d %@d %@d\\n\", @n, @t, @lo, @hi, @sd); printa(@q); \
             printf(\"T\\n\"); trunc(@n); trunc(@t); trunc(@lo); trunc(@hi); trunc(@sd); trunc(@q); reports++; }}"
        ),
        None => String::new(),
    };
    if let (Some(secs), Some(count)) = (interval, count) {
        // The last report was just printed: END must not print another.
        report.push_str(&format!(
            "\ntick-{secs}s /reports == {count}/ {{ done = 1; exit(0); }}"
        ));
    }
    names + &SCRIPT.replace("@@INTERVAL@@", &report)
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

/// Parse an `R reason count sum min max stddev` line.
pub fn parse_row(line: &str) -> Option<ExitRow> {
    let mut f = line
        .strip_prefix("R ")?
        .split_whitespace()
        .map(|w| w.parse::<u64>().ok());
    let mut next = || f.next().flatten();
    Some(ExitRow {
        reason: u32::try_from(next()?).ok()?,
        samples: next()?,
        total_ns: next()?,
        min_ns: next()?,
        max_ns: next()?,
        stddev_ns: next()?,
    })
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

/// Trace the VMM `pid` and print the table (and the distributions) every
/// `interval` seconds, or once when the VMM exits or on ^C.
pub fn run(pid: u32, interval: Option<u32>, count: Option<u32>) -> Result<u8> {
    let me = std::env::current_exe().context("finding the lumen binary")?;
    let mut child = Command::new(me)
        .args([
            "dtrace",
            "-q",
            "-p",
            &pid.to_string(),
            "-n",
            &script(interval, count),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .context("starting lumen dtrace")?;
    let Some(stdout) = child.stdout.take() else {
        bail!("lumen dtrace has no output pipe");
    };
    let target = format!("pid(s) {pid}");
    let mut rows = Vec::new();
    let mut rest = String::new();
    let mut out = std::io::stdout().lock();
    for line in BufReader::new(stdout).lines() {
        let line = line.context("reading lumen dtrace's output")?;
        if let Some(row) = parse_row(&line) {
            rows.push(row);
        } else if line == "T" {
            write!(out, "{}{}", table(&target, &rows), rest)?;
            out.flush()?;
            rows.clear();
            rest.clear();
        } else {
            rest.push_str(&line);
            rest.push('\n');
        }
    }
    let status = child.wait().context("waiting for lumen dtrace")?;
    Ok(status
        .code()
        .and_then(|c| u8::try_from(c).ok())
        .unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_and_lay_out_as_perf_does() {
        let io = parse_row("R 2 4 40000 2000 16000 5000").unwrap();
        let mmio = parse_row("R 6 1 3000 3000 3000 0").unwrap();
        assert_eq!(parse_row("R 2 x"), None);
        assert_eq!(parse_row("  IO"), None);
        let t = table("pid(s) 7", &[mmio, io]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[1], "Analyze events for pid(s) 7, all VCPUs:");
        assert_eq!(
            lines[3],
            "             VM-EXIT    Samples  Samples%     Time%    Min Time    Max Time         Avg time "
        );
        // IO first (most samples): 4 of 5 samples, 40 of 43 µs.
        assert_eq!(
            lines[5],
            "                  IO          4    80.00%    93.02%      2.00us     16.00us     10.00us ( +-  28.87% )"
        );
        assert_eq!(
            lines[6],
            "                MMIO          1    20.00%     6.98%      3.00us      3.00us      3.00us ( +-   0.00% )"
        );
        assert_eq!(
            lines[8],
            "Total Samples:5, Total events handled time:43.00us."
        );
    }

    #[test]
    fn the_script_names_every_reason_and_reports_per_interval() {
        let s = script(Some(2), Some(3));
        assert!(s.contains("reason[2] = \"IO\";"));
        assert!(s.contains("tick-2s {"));
        assert!(s.contains("tick-2s /reports == 3/"));
        assert!(!script(None, None).contains("tick-"));
    }
}
