//! How long refreshes take, measured inside: the engine's thread reading
//! every panel's aggregations and the zone registry (gather), then the UI
//! applying them and drawing a frame (render). `--report-timing` prints
//! the summary.

use std::fmt;
use std::time::Duration;

/// Every refresh's gather and render times.
#[derive(Debug, Default, Clone)]
pub struct Timing {
    gather: Vec<Duration>,
    render: Vec<Duration>,
}

impl Timing {
    /// Record one refresh.
    pub fn record(&mut self, gather: Duration, render: Duration) {
        self.gather.push(gather);
        self.render.push(render);
    }

    /// How many refreshes were recorded.
    pub fn refreshes(&self) -> usize {
        self.gather.len()
    }
}

/// mean, p50, max of `v`, in milliseconds.
fn stats(v: &[Duration]) -> (f64, f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let ms = |d: &Duration| d.as_secs_f64() * 1e3;
    let mut s: Vec<f64> = v.iter().map(ms).collect();
    s.sort_by(f64::total_cmp);
    let mean = s.iter().sum::<f64>() / s.len() as f64;
    (mean, s[s.len() / 2], s[s.len() - 1])
}

impl fmt::Display for Timing {
    /// `timing: refreshes=N`, then `gather_ms`, `render_ms` and
    /// `refresh_ms` (their sum) lines of `mean= p50= max=`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "timing: refreshes={}", self.refreshes())?;
        let total: Vec<Duration> = self
            .gather
            .iter()
            .zip(&self.render)
            .map(|(g, r)| *g + *r)
            .collect();
        for (name, v) in [
            ("gather_ms", &self.gather),
            ("render_ms", &self.render),
            ("refresh_ms", &total),
        ] {
            let (mean, p50, max) = stats(v);
            writeln!(f, "timing: {name} mean={mean:.3} p50={p50:.3} max={max:.3}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lines() {
        let mut t = Timing::default();
        t.record(Duration::from_millis(1), Duration::from_millis(2));
        t.record(Duration::from_millis(3), Duration::from_millis(2));
        assert_eq!(
            t.to_string(),
            "timing: refreshes=2\n\
             timing: gather_ms mean=2.000 p50=3.000 max=3.000\n\
             timing: render_ms mean=2.000 p50=2.000 max=2.000\n\
             timing: refresh_ms mean=4.000 p50=5.000 max=5.000\n"
        );
    }
}
