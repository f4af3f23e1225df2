//! Latency distributions: a quantize-family aggregation's buckets as
//! labelled rows, and their percentiles through an `hdrhistogram`.
//!
//! Resolution: the kernel keeps only bucket counts, so a percentile is
//! known to within its D bucket. Each bucket's count is recorded at the
//! bucket's lower edge (the number DTrace prints beside it), and a
//! percentile read from the histogram is brought back down to the lower
//! edge of the D bucket it falls in: "p99 = 3µs" means the 99th
//! percentile lies in [3µs, next edge). With the panels'
//! `llquantize(x, 10, 2, 9, 10)` the next edge is 10% to 100% higher (a
//! decade in ten linear steps, coarsest at its start); with `quantize()`
//! it is twice as high. The histogram's own precision (3 significant
//! digits) is far finer than any D bucket, so it adds no error.

use engine::model::aggregation::{
    lquantize_bucket, lquantize_levels, quantize_bucket, quantize_bucket_value, AggFunc,
    LlquantizeLayout,
};
use hdrhistogram::Histogram;

/// Where a bucket starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// The bucket holds values from this one up to the next bucket's edge
    /// (the number DTrace prints beside it).
    From(i64),
    /// The bucket holds every value below this one: llquantize's middle
    /// bucket (`< 100`), lquantize's underflow (`< base`).
    Below(i64),
}

impl Edge {
    /// The edge as text, `unit` formatting the number: `1.2µs`, `<100ns`.
    pub fn text(self, unit: impl Fn(i64) -> String) -> String {
        match self {
            Edge::From(v) => unit(v),
            Edge::Below(v) => format!("<{}", unit(v)),
        }
    }

    /// A number to sort by: a `Below` edge sorts just under its bound.
    pub fn sort_value(self) -> f64 {
        match self {
            Edge::From(v) => v as f64,
            Edge::Below(v) => v as f64 - 0.5,
        }
    }
}

/// One bucket of a distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Where it starts.
    pub edge: Edge,
    /// How many values fell in it.
    pub count: i64,
}

/// The layout of one quantize-family function: bucket index ↔ value.
#[derive(Debug, Clone)]
pub enum Layout {
    /// quantize(): powers of two.
    Quantize,
    /// lquantize(base, limit, step).
    Linear {
        /// Lower bound.
        base: i32,
        /// Upper bound.
        limit: i32,
        /// Width.
        step: u16,
    },
    /// llquantize(): log-linear rows.
    LogLinear(LlquantizeLayout),
}

impl Layout {
    /// The layout of `func`; `None` for the scalar functions.
    pub fn of(func: &AggFunc) -> Option<Layout> {
        match *func {
            AggFunc::Quantize => Some(Layout::Quantize),
            AggFunc::Lquantize { base, limit, step } => Some(Layout::Linear { base, limit, step }),
            AggFunc::Llquantize {
                factor,
                low,
                high,
                nsteps,
            } => Some(Layout::LogLinear(LlquantizeLayout::new(
                factor, low, high, nsteps,
            ))),
            _ => None,
        }
    }

    /// Where bucket `i` starts.
    pub fn edge(&self, i: usize) -> Edge {
        match self {
            Layout::Quantize => Edge::From(quantize_bucket_value(i)),
            &Layout::Linear { base, limit, step } => {
                let levels = lquantize_levels(base, limit, step);
                let i = i.min(levels + 1);
                if i == 0 {
                    Edge::Below(i64::from(base))
                } else {
                    Edge::From(i64::from(base) + (i as i64 - 1) * i64::from(step))
                }
            }
            Layout::LogLinear(l) if i == l.zero_bucket() && l.low_bound > 1 => {
                Edge::Below(l.low_bound)
            }
            Layout::LogLinear(l) => Edge::From(l.bucket_value(i)),
        }
    }

    /// The bucket holding `v`.
    pub fn index(&self, v: i64) -> usize {
        match self {
            Layout::Quantize => quantize_bucket(v),
            &Layout::Linear { base, limit, step } => lquantize_bucket(v, base, limit, step),
            Layout::LogLinear(l) => l.bucket(v),
        }
    }

    /// The buckets of `counts`, labelled.
    pub fn buckets(&self, counts: &[i64]) -> Vec<Bucket> {
        counts
            .iter()
            .enumerate()
            .map(|(i, &count)| Bucket {
                edge: self.edge(i),
                count,
            })
            .collect()
    }
}

/// The percentiles a panel shows, in the distribution's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percentiles {
    /// How many values the distribution holds.
    pub count: u64,
    /// Median: where its bucket starts.
    pub p50: Edge,
    /// 99th percentile: where its bucket starts.
    pub p99: Edge,
}

/// p50 and p99 of a distribution of non-negative values (latencies);
/// `None` if it is empty. Negative buckets (a clock that went backwards)
/// are left out.
pub fn percentiles(layout: &Layout, counts: &[i64]) -> Option<Percentiles> {
    // Three significant digits, resized as values come: far finer than
    // any D bucket (see the module docs).
    let mut h = Histogram::<u64>::new(3).ok()?;
    let mut n = 0u64;
    for b in layout.buckets(counts) {
        // A "below" bucket is recorded at 0 (its values lie in [0, bound)),
        // and maps back to itself below.
        let at = match b.edge {
            Edge::From(v) if v >= 0 => v,
            Edge::Below(v) if v > 0 => 0,
            _ => continue,
        };
        if b.count > 0 {
            h.record_n(at as u64, b.count as u64).ok()?;
            n += b.count as u64;
        }
    }
    if n == 0 {
        return None;
    }
    // value_at_quantile answers with the highest value equivalent to the
    // recorded one (at the histogram's precision): bring it back to the
    // D bucket's lower edge.
    let at = |q: f64| {
        let v = i64::try_from(h.value_at_quantile(q)).unwrap_or(i64::MAX);
        layout.edge(layout.index(v))
    };
    Some(Percentiles {
        count: n,
        p50: at(0.50),
        p99: at(0.99),
    })
}

/// The rows a histogram of `buckets` shows in at most `rows` lines: from
/// the first non-empty bucket through the last, and neighbours are merged
/// in pairs (keeping the lower one's edge) until they fit. Empty if there
/// is no data.
pub fn visible_rows(buckets: &[Bucket], rows: usize) -> Vec<Bucket> {
    let first = buckets.iter().position(|b| b.count != 0);
    let last = buckets.iter().rposition(|b| b.count != 0);
    let (Some(first), Some(last)) = (first, last) else {
        return Vec::new();
    };
    let mut shown: Vec<Bucket> = buckets[first..=last].to_vec();
    if rows == 0 {
        return Vec::new();
    }
    while shown.len() > rows {
        shown = shown
            .chunks(2)
            .map(|pair| Bucket {
                edge: pair[0].edge,
                count: pair.iter().map(|b| b.count).sum(),
            })
            .collect();
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn llq() -> Layout {
        Layout::of(&AggFunc::Llquantize {
            factor: 10,
            low: 2,
            high: 9,
            nsteps: 10,
        })
        .expect("layout")
    }

    #[test]
    fn percentiles_are_the_lower_edges_of_their_buckets() {
        let l = llq();
        let mut counts = vec![0i64; 200];
        // 90 calls of 1.0–1.999µs, 9 of 3–3.999µs, 1 of 200–299µs.
        counts[l.index(1_500)] = 90;
        counts[l.index(3_500)] = 9;
        counts[l.index(250_000)] = 1;
        let p = percentiles(&l, &counts).expect("data");
        assert_eq!(p.count, 100);
        assert_eq!(p.p50, Edge::From(1_000));
        assert_eq!(p.p99, Edge::From(3_000));
    }

    #[test]
    fn large_edges_survive_the_histograms_rounding() {
        // 1 ms is not exact at 3 significant digits; the answer must still
        // be the 1 ms bucket, not the 900 µs one below it.
        let l = llq();
        let mut counts = vec![0i64; 200];
        counts[l.index(1_000_000)] = 10;
        let p = percentiles(&l, &counts).expect("data");
        assert_eq!(
            (p.p50, p.p99),
            (Edge::From(1_000_000), Edge::From(1_000_000))
        );
    }

    #[test]
    fn quantize_percentiles() {
        let l = Layout::Quantize;
        let mut counts = vec![0i64; 127];
        counts[quantize_bucket(5)] = 50; // [4, 8)
        counts[quantize_bucket(100)] = 50; // [64, 128)
        let p = percentiles(&l, &counts).expect("data");
        assert_eq!((p.p50, p.p99), (Edge::From(4), Edge::From(64)));
        assert!(percentiles(&l, &[0; 127]).is_none());
    }

    #[test]
    fn fast_calls_fall_below_the_first_edge() {
        let l = llq();
        let mut counts = vec![0i64; 200];
        counts[l.index(40)] = 60;
        counts[l.index(5_000)] = 40;
        let p = percentiles(&l, &counts).expect("data");
        assert_eq!((p.p50, p.p99), (Edge::Below(100), Edge::From(5_000)));
        assert_eq!(p.p50.text(|v| format!("{v}ns")), "<100ns");
    }

    #[test]
    fn rows_merge_in_pairs_until_they_fit() {
        let b = |low, count| Bucket {
            edge: Edge::From(low),
            count,
        };
        let all = vec![b(0, 0), b(1, 1), b(2, 2), b(4, 3), b(8, 4), b(16, 0)];
        assert_eq!(
            visible_rows(&all, 10),
            vec![b(1, 1), b(2, 2), b(4, 3), b(8, 4)]
        );
        assert_eq!(visible_rows(&all, 2), vec![b(1, 3), b(4, 7)]);
        assert_eq!(visible_rows(&all, 0), vec![]);
        assert_eq!(visible_rows(&[b(1, 0)], 3), vec![]);
    }
}
