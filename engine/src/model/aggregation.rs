//! Aggregations as the consumer holds them: functions, values, bucket layouts, per-CPU merging, DTrace's sort order and trunc().
//!
//! Bucket layouts are the contract with codegen, which writes the buckets
//! in the kernel:
//! - quantize: [`QUANTIZE_BUCKETS`] (127) buckets; index
//!   [`QUANTIZE_ZERO_BUCKET`] (63) holds 0, index 63+1+k holds
//!   [2^k, 2^(k+1)), index 63−1−k holds (−2^(k+1), −2^k]; the extremes
//!   also take everything beyond ([`quantize_bucket`]).
//! - lquantize(x, base, limit, step): `levels + 2` buckets, levels =
//!   (limit − base) / step; index 0 is `< base`, 1 + i is
//!   [base + i·step, base + (i+1)·step), the last is
//!   `>= base + levels·step` ([`lquantize_bucket`]).
//! - llquantize(x, factor, low, high, nsteps): Oracle's layout with negative
//!   rows, see [`LlquantizeLayout`].
//!
//! Sorting follows dt_aggregate.c (D-REFERENCE §2): variable (first-use
//! order), then value, then keys; options in [`AggSortOptions`].

use super::value::Value;
use std::cmp::Ordering;

/// An aggregating function, with its constant arguments: the compiler's
/// own type, so the printer and the code that fills the buckets agree.
pub use d_lang::ir::AggFunc;

/// An aggregation value, per key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AggValue {
    /// count, sum, min, max.
    Scalar(i64),
    /// avg: how many values and their sum.
    Avg {
        /// Number of values.
        count: u64,
        /// Their sum.
        total: i64,
    },
    /// stddev: count, sum and sum of squares.
    Stddev {
        /// Number of values.
        count: u64,
        /// Their sum.
        total: i64,
        /// The sum of their squares.
        total_sq: u128,
    },
    /// quantize, lquantize, llquantize: counts per bucket (module docs).
    Buckets(Vec<i64>),
}

impl AggValue {
    /// The value of an entry that holds no data: what printa() of several
    /// aggregations shows for a key one of them lacks (all zero).
    pub fn zero(func: &AggFunc) -> AggValue {
        match func {
            AggFunc::Avg => AggValue::Avg { count: 0, total: 0 },
            AggFunc::Stddev => AggValue::Stddev {
                count: 0,
                total: 0,
                total_sq: 0,
            },
            AggFunc::Quantize | AggFunc::Lquantize { .. } | AggFunc::Llquantize { .. } => {
                AggValue::Buckets(vec![0; func.bucket_count()])
            }
            _ => AggValue::Scalar(0),
        }
    }

    /// Fold another CPU's value for the same key into this one: counts,
    /// sums and buckets add, min and max keep the extreme. Both sides must
    /// hold real data (a CPU that never fired has no entry).
    pub fn merge(&mut self, other: &AggValue, func: &AggFunc) {
        match (self, other) {
            (AggValue::Scalar(a), AggValue::Scalar(b)) => {
                *a = match func {
                    AggFunc::Min => (*a).min(*b),
                    AggFunc::Max => (*a).max(*b),
                    _ => a.wrapping_add(*b),
                }
            }
            (AggValue::Avg { count, total }, AggValue::Avg { count: c, total: t }) => {
                *count = count.wrapping_add(*c);
                *total = total.wrapping_add(*t);
            }
            (
                AggValue::Stddev {
                    count,
                    total,
                    total_sq,
                },
                AggValue::Stddev {
                    count: c,
                    total: t,
                    total_sq: q,
                },
            ) => {
                *count = count.wrapping_add(*c);
                *total = total.wrapping_add(*t);
                *total_sq = total_sq.wrapping_add(*q);
            }
            (AggValue::Buckets(a), AggValue::Buckets(b)) => {
                if a.len() < b.len() {
                    a.resize(b.len(), 0);
                }
                for (x, y) in a.iter_mut().zip(b) {
                    *x = x.wrapping_add(*y);
                }
            }
            (me, other) => *me = other.clone(),
        }
    }

    /// clear(): zero the value as dt_aggregate.c does, min to `i64::MAX`
    /// and max to `i64::MIN` (so a cleared min prints 9223372036854775807).
    pub fn clear(&mut self, func: &AggFunc) {
        *self = match func {
            AggFunc::Min => AggValue::Scalar(i64::MAX),
            AggFunc::Max => AggValue::Scalar(i64::MIN),
            _ => AggValue::zero(func),
        };
    }

    /// The integer printed for a scalar value, divided by the normalization
    /// factor `normal`: the value for count/sum/min/max, the truncated mean
    /// for avg (0 if empty), the standard deviation for stddev. `None` for
    /// buckets.
    ///
    /// unverified: DTrace divides 64-bit values by the (unsigned) factor,
    /// which garbles negative values when normalized; Lumen divides signed.
    pub fn scalar(&self, normal: u64) -> Option<i64> {
        let n = normal.max(1) as i64;
        match *self {
            AggValue::Scalar(v) => Some(v.wrapping_div(n)),
            AggValue::Avg { count, total } => Some(if count == 0 {
                0
            } else {
                total.wrapping_div(n).wrapping_div(count as i64)
            }),
            AggValue::Stddev { .. } => Some(self.stddev(normal) as i64),
            AggValue::Buckets(_) => None,
        }
    }

    /// dt_stddev(): integer sqrt(avg(x²) − avg(x)²), both normalized; 0 for
    /// anything but a stddev value with data.
    pub fn stddev(&self, normal: u64) -> u64 {
        let AggValue::Stddev {
            count,
            total,
            total_sq,
        } = *self
        else {
            return 0;
        };
        if count == 0 {
            return 0;
        }
        let n = u128::from(normal.max(1));
        let avg_of_squares = total_sq / n / n / u128::from(count);
        let norm_avg = total / normal.max(1) as i64 / count as i64;
        let sq = u128::from(norm_avg.unsigned_abs()) * u128::from(norm_avg.unsigned_abs());
        isqrt(avg_of_squares.saturating_sub(sq))
    }
}

/// Floor of the square root of a 128-bit value.
fn isqrt(v: u128) -> u64 {
    if v == 0 {
        return 0;
    }
    let mut x = (v as f64).sqrt() as u128;
    while x.checked_mul(x).is_none_or(|sq| sq > v) {
        x -= 1;
    }
    while (x + 1).checked_mul(x + 1).is_some_and(|sq| sq <= v) {
        x += 1;
    }
    x as u64
}

/// One key tuple and its value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AggEntry {
    /// The keys, in order (empty for `@a = count()`).
    pub keys: Vec<Value>,
    /// The merged value.
    pub value: AggValue,
}

/// An aggregation variable's snapshot, merged over CPUs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregation {
    /// The name without `@` (`""` for the anonymous `@`).
    pub name: String,
    /// The aggregating function.
    pub func: AggFunc,
    /// One name per key position from the compiler
    /// (`d_lang::codegen::AggObj::key_names`: `zonename`, `args1`, `keyN`
    /// when there is none), for labelling keys. May be shorter than the
    /// keys (empty for aggregations built by hand): readers fall back to
    /// `keyN` past its end.
    pub key_names: Vec<String>,
    /// The entries, in no particular order.
    pub entries: Vec<AggEntry>,
    /// First-use order of the variable in the program: the sort's first
    /// criterion.
    pub id: u32,
    /// normalize()'s factor (1 = none); values print divided by it.
    pub normalization: u64,
}

impl Aggregation {
    /// An empty aggregation.
    pub fn new(name: &str, id: u32, func: AggFunc) -> Aggregation {
        Aggregation {
            name: name.to_string(),
            func,
            key_names: Vec::new(),
            entries: Vec::new(),
            id,
            normalization: 1,
        }
    }

    /// Add `value` for `keys`, merging with an existing entry (per-CPU
    /// snapshots are folded in this way).
    pub fn merge_entry(&mut self, keys: &[Value], value: &AggValue) {
        match self.entries.iter_mut().find(|e| e.keys == keys) {
            Some(e) => e.value.merge(value, &self.func),
            None => self.entries.push(AggEntry {
                keys: keys.to_vec(),
                value: value.clone(),
            }),
        }
    }

    /// Fold every entry of `other` (another CPU's snapshot of the same
    /// variable) into this one.
    pub fn merge(&mut self, other: &Aggregation) {
        for e in &other.entries {
            self.merge_entry(&e.keys, &e.value);
        }
    }

    /// normalize(@a, n): values print divided by `n` (0 is taken as 1).
    pub fn normalize(&mut self, n: u64) {
        self.normalization = n.max(1);
    }

    /// denormalize(@a): values print as they are.
    pub fn denormalize(&mut self) {
        self.normalization = 1;
    }

    /// clear(@a): keep the keys, reset the values ([`AggValue::clear`]).
    pub fn clear(&mut self) {
        let func = self.func;
        for e in &mut self.entries {
            e.value.clear(&func);
        }
    }

    /// trunc(@a, n): keep the `n` entries with the largest values (`n` > 0)
    /// or the `-n` smallest (`n` < 0); trunc(@a) is `n` = 0, removing all.
    /// Ties go by keys, as dt_consume.c's `dt_trunc` walks (value-sorted,
    /// ignoring the aggsort options).
    pub fn trunc(&mut self, n: i64) {
        let keep = n.unsigned_abs() as usize;
        let func = self.func;
        let mut idx: Vec<usize> = (0..self.entries.len()).collect();
        idx.sort_by(|&a, &b| {
            let (a, b) = (&self.entries[a], &self.entries[b]);
            let o =
                value_cmp(&func, &a.value, &b.value).then_with(|| keys_cmp(&a.keys, &b.keys, 0));
            if n > 0 {
                o.reverse()
            } else {
                o
            }
        });
        idx.truncate(keep);
        idx.sort_unstable();
        let mut i = 0;
        self.entries.retain(|_| {
            let kept = idx.binary_search(&i).is_ok();
            i += 1;
            kept
        });
    }
}

/// The aggregation sorting options (`-x aggsort…`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AggSortOptions {
    /// `aggsortkey`: keys first, then values.
    pub sortkey: bool,
    /// `aggsortrev`: reverse the whole order (variable order too).
    pub sortrev: bool,
    /// `aggsortpos`: which aggregation of a multi-aggregation printa() sorts
    /// first (out of range → 0).
    pub sortpos: usize,
    /// `aggsortkeypos`: the key to compare first, wrapping around.
    pub sortkeypos: usize,
}

/// Compare two key tuples: fewer keys first, then key by key from
/// `key_pos` (wrapping), each by [`Value::key_cmp`].
pub fn keys_cmp(a: &[Value], b: &[Value], key_pos: usize) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| {
        let n = a.len();
        (0..n)
            .map(|j| (j + key_pos) % n)
            .map(|k| a[k].key_cmp(&b[k]))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    })
}

/// Compare two values of function `func` as dt_aggregate.c's
/// `dt_aggregate_valcmp`: scalars signed, avg by truncated mean, stddev by
/// standard deviation, distributions by Σ count × bucket value, then by the
/// count at zero.
pub fn value_cmp(func: &AggFunc, a: &AggValue, b: &AggValue) -> Ordering {
    match (a, b) {
        (AggValue::Scalar(x), AggValue::Scalar(y)) => x.cmp(y),
        (AggValue::Avg { .. }, AggValue::Avg { .. }) => a.scalar(1).cmp(&b.scalar(1)),
        (AggValue::Stddev { .. }, AggValue::Stddev { .. }) => a.stddev(1).cmp(&b.stddev(1)),
        (AggValue::Buckets(x), AggValue::Buckets(y)) => {
            let (sx, sy) = (weighted_sum(func, x), weighted_sum(func, y));
            sx.partial_cmp(&sy)
                .unwrap_or(Ordering::Equal)
                .then_with(|| zero_count(func, x).cmp(&zero_count(func, y)))
        }
        _ => Ordering::Equal,
    }
}

/// The value each bucket stands for when sorting (dt_aggregate.c's
/// `*quantizedsum`): lquantize's underflow counts as base − 1 and its
/// overflow as its bound + 1.
fn bucket_weight(func: &AggFunc, i: usize) -> f64 {
    match *func {
        AggFunc::Quantize => quantize_bucket_value(i) as f64,
        AggFunc::Lquantize { base, limit, step } => {
            let levels = lquantize_levels(base, limit, step);
            let base = i64::from(base);
            if i == 0 {
                (base - 1) as f64
            } else if i > levels {
                (base + levels as i64 * i64::from(step) + 1) as f64
            } else {
                (base + (i as i64 - 1) * i64::from(step)) as f64
            }
        }
        // unverified: Oracle's llquantize sort weights are not documented;
        // we weight by the bucket's label value.
        AggFunc::Llquantize {
            factor,
            low,
            high,
            nsteps,
        } => LlquantizeLayout::new(factor, low, high, nsteps).bucket_value(i) as f64,
        _ => 0.0,
    }
}

fn weighted_sum(func: &AggFunc, buckets: &[i64]) -> f64 {
    if let AggFunc::Llquantize {
        factor,
        low,
        high,
        nsteps,
    } = *func
    {
        let layout = LlquantizeLayout::new(factor, low, high, nsteps);
        return buckets
            .iter()
            .enumerate()
            .map(|(i, &c)| c as f64 * layout.bucket_value(i) as f64)
            .sum();
    }
    buckets
        .iter()
        .enumerate()
        .map(|(i, &c)| c as f64 * bucket_weight(func, i))
        .sum()
}

/// The count in the bucket holding 0, if the layout has one.
fn zero_count(func: &AggFunc, buckets: &[i64]) -> i64 {
    let at = |i: usize| buckets.get(i).copied().unwrap_or(0);
    match *func {
        AggFunc::Quantize => at(QUANTIZE_ZERO_BUCKET),
        AggFunc::Lquantize { base, limit, step } => {
            let levels = lquantize_levels(base, limit, step);
            (0..levels + 2)
                .find(|&i| bucket_weight(func, i) == 0.0)
                .map_or(0, at)
        }
        AggFunc::Llquantize {
            factor,
            low,
            high,
            nsteps,
        } => at(LlquantizeLayout::new(factor, low, high, nsteps).zero_bucket()),
        _ => 0,
    }
}

/// Number of quantize() buckets, and the one holding 0: code generation's
/// constants, the one set both sides read.
pub use d_lang::codegen::buckets::{QUANTIZE_BUCKETS, QUANTIZE_ZERO as QUANTIZE_ZERO_BUCKET};

/// The quantize() bucket of `v`: 0 → 63; v ≥ 1 → 64 + ⌊log2 v⌋; v ≤ −1 →
/// 62 − ⌊log2 |v|⌋, with i64::MIN in bucket 0 (the kernel's
/// `dtrace_aggregate_quantize`).
pub fn quantize_bucket(v: i64) -> usize {
    d_lang::codegen::buckets::quantize_index(v)
}

/// The label of quantize() bucket `i` (`DTRACE_QUANTIZE_BUCKETVAL`): 0 at
/// 63, 2^(i−64) above, −2^(62−i) below.
pub fn quantize_bucket_value(i: usize) -> i64 {
    d_lang::codegen::buckets::quantize_value(i)
}

/// lquantize()'s number of levels, (limit − base) / step (0 if invalid).
pub fn lquantize_levels(base: i32, limit: i32, step: u16) -> usize {
    if step == 0 || limit <= base {
        return 0;
    }
    ((i64::from(limit) - i64::from(base)) / i64::from(step)) as usize
}

/// The lquantize() bucket of `v` (see the module docs).
pub fn lquantize_bucket(v: i64, base: i32, limit: i32, step: u16) -> usize {
    if lquantize_levels(base, limit, step) == 0 {
        return 0;
    }
    d_lang::codegen::buckets::lquantize_index(v, base, limit, step)
}

/// llquantize()'s bucket layout, Oracle DTrace for Linux style (with
/// negative rows).
///
/// The positive rows are illumos's: for each magnitude m in low..=high,
/// from factor^m in steps of factor^(m+1)/nsteps (1 if that is ≤ 1) up to
/// factor^(m+1). With L such rows, S = factor^low and H = factor^(high+1),
/// the 2L + 3 buckets are:
/// - 0: v ≤ −H (label `<= -H`);
/// - 1..=L: the negative rows, most negative first (label `-row`; a row
///   holds values from −row down to above −(next row));
/// - L+1: |v| < S (label `0` when S = 1, else `< S`, or `abs() < S` when
///   negative values were seen);
/// - L+2..=2L+1: the positive rows (label `row`);
/// - 2L+2: v ≥ H (label `>= H`).
///
/// unverified: the negative half follows D-REFERENCE §3's description of
/// Oracle's output, not its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlquantizeLayout {
    /// The positive rows' lower bounds, ascending.
    pub rows: Vec<i64>,
    /// factor^low.
    pub low_bound: i64,
    /// factor^(high+1).
    pub high_bound: i64,
}

impl LlquantizeLayout {
    /// The layout for llquantize(x, factor, low, high, nsteps). Magnitudes
    /// whose bounds overflow 64 bits are dropped.
    pub fn new(factor: u16, low: u16, high: u16, nsteps: u16) -> LlquantizeLayout {
        let (rows, low_bound, high_bound) =
            d_lang::codegen::buckets::llquantize_rows(factor, low, high, nsteps);
        LlquantizeLayout {
            rows,
            low_bound,
            high_bound,
        }
    }

    /// Number of buckets, 2L + 3.
    pub fn bucket_count(&self) -> usize {
        2 * self.rows.len() + 3
    }

    /// The bucket for |v| < factor^low.
    pub fn zero_bucket(&self) -> usize {
        self.rows.len() + 1
    }

    /// The bucket of `v`.
    pub fn bucket(&self, v: i64) -> usize {
        d_lang::codegen::buckets::llquantize_index(v, &self.rows, self.low_bound, self.high_bound)
    }

    /// The value bucket `i` stands for (its label's number; ±H for the
    /// overflows, 0 for the middle).
    pub fn bucket_value(&self, i: usize) -> i64 {
        let l = self.rows.len();
        match i {
            0 => -self.high_bound,
            i if i <= l => -self.rows[l - i],
            i if i == l + 1 => 0,
            i if i <= 2 * l + 1 => self.rows[i - l - 2],
            _ => self.high_bound,
        }
    }
}

/// The order in which a multi-aggregation printa() compares values:
/// aggregation `sort_pos` first, then the others in argument order.
pub(crate) fn value_order(naggs: usize, sort_pos: usize) -> Vec<usize> {
    let first = if sort_pos < naggs { sort_pos } else { 0 };
    std::iter::once(first)
        .chain((0..naggs).filter(|&i| i != first))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Vec<Value> {
        vec![Value::str(s)]
    }

    #[test]
    fn quantize_layout() {
        assert_eq!(quantize_bucket(0), 63);
        assert_eq!(quantize_bucket(1), 64);
        assert_eq!(quantize_bucket(2), 65);
        assert_eq!(quantize_bucket(3), 65);
        assert_eq!(quantize_bucket(4), 66);
        assert_eq!(quantize_bucket(1023), 73);
        assert_eq!(quantize_bucket(1024), 74);
        assert_eq!(quantize_bucket(i64::MAX), 126);
        assert_eq!(quantize_bucket(-1), 62);
        assert_eq!(quantize_bucket(-2), 61);
        assert_eq!(quantize_bucket(-3), 61);
        assert_eq!(quantize_bucket(-4), 60);
        assert_eq!(quantize_bucket(i64::MIN), 0);
        assert_eq!(quantize_bucket(-(1 << 62)), 0);
        assert_eq!(quantize_bucket_value(63), 0);
        assert_eq!(quantize_bucket_value(64), 1);
        assert_eq!(quantize_bucket_value(66), 4);
        assert_eq!(quantize_bucket_value(126), 1 << 62);
        assert_eq!(quantize_bucket_value(62), -1);
        assert_eq!(quantize_bucket_value(0), -(1 << 62));
        for i in 0..QUANTIZE_BUCKETS {
            assert_eq!(quantize_bucket(quantize_bucket_value(i)), i);
        }
    }

    #[test]
    fn lquantize_layout() {
        assert_eq!(lquantize_levels(0, 10, 1), 10);
        assert_eq!(lquantize_levels(0, 100, 30), 3);
        assert_eq!(lquantize_bucket(-1, 0, 10, 1), 0);
        assert_eq!(lquantize_bucket(0, 0, 10, 1), 1);
        assert_eq!(lquantize_bucket(9, 0, 10, 1), 10);
        assert_eq!(lquantize_bucket(10, 0, 10, 1), 11);
        assert_eq!(lquantize_bucket(89, 0, 100, 30), 3);
        assert_eq!(lquantize_bucket(90, 0, 100, 30), 4);
        assert_eq!(lquantize_bucket(-5, -10, 10, 5), 2);
        assert_eq!(
            AggFunc::Lquantize {
                base: 0,
                limit: 10,
                step: 1
            }
            .bucket_count(),
            12
        );
    }

    #[test]
    fn llquantize_layout() {
        let l = LlquantizeLayout::new(10, 0, 2, 10);
        let want: Vec<i64> = (1..10)
            .chain((1..10).map(|i| i * 10))
            .chain((1..10).map(|i| i * 100))
            .collect();
        assert_eq!(l.rows, want);
        assert_eq!((l.low_bound, l.high_bound), (1, 1000));
        assert_eq!(l.bucket_count(), 57);
        assert_eq!(l.bucket(0), 28);
        assert_eq!(l.bucket(1), 29);
        assert_eq!(l.bucket(9), 37);
        assert_eq!(l.bucket(10), 38);
        assert_eq!(l.bucket(19), 38);
        assert_eq!(l.bucket(999), 56 - 1);
        assert_eq!(l.bucket(1000), 56);
        assert_eq!(l.bucket(-1), 27);
        assert_eq!(l.bucket(-999), 1);
        assert_eq!(l.bucket(-1000), 0);
        assert_eq!(l.bucket(i64::MIN), 0);
        for i in 0..l.bucket_count() {
            assert_eq!(l.bucket(l.bucket_value(i)), i, "bucket {i}");
        }
        // factor 2, 4 steps: widths grow once the magnitude passes nsteps.
        let l = LlquantizeLayout::new(2, 0, 3, 4);
        assert_eq!(l.rows, vec![1, 2, 3, 4, 6, 8, 12]);
        assert_eq!(l.high_bound, 16);
        let l = LlquantizeLayout::new(10, 1, 2, 20);
        assert_eq!(l.rows.len(), 36);
        assert_eq!(&l.rows[..3], &[10, 15, 20]);
        assert_eq!(&l.rows[17..20], &[95, 100, 150]);
        assert_eq!(l.bucket(5), l.zero_bucket());
        assert_eq!(l.bucket(-9), l.zero_bucket());
        assert_eq!(l.bucket(14), l.zero_bucket() + 1);
        assert_eq!(l.bucket(-14), l.zero_bucket() - 1);
    }

    #[test]
    fn layouts_agree_with_codegen() {
        use d_lang::codegen::buckets as cg;
        let samples: Vec<i64> = (-70..70)
            .chain(
                (0..63).flat_map(|k| [1i64 << k, (1i64 << k) - 1, -(1i64 << k), 1 - (1i64 << k)]),
            )
            .chain([i64::MIN, i64::MAX, 999, 1000, -999, -1000, 12_345])
            .collect();
        for i in 0..QUANTIZE_BUCKETS {
            assert_eq!(
                quantize_bucket_value(i),
                cg::quantize_value(i),
                "bucket {i}"
            );
        }
        for &v in &samples {
            assert_eq!(quantize_bucket(v), cg::quantize_index(v), "quantize {v}");
        }
        for (base, limit, step) in [(0, 10, 1), (-10, 100, 10), (0, 100, 30), (5, 6, 1)] {
            assert_eq!(
                lquantize_levels(base, limit, step) + 2,
                cg::lquantize_buckets(base, limit, step)
            );
            for &v in &samples {
                assert_eq!(
                    lquantize_bucket(v, base, limit, step),
                    cg::lquantize_index(v, base, limit, step),
                    "lquantize({v}, {base}, {limit}, {step})"
                );
            }
        }
        for (f, lo, hi, n) in [
            (10, 0, 2, 10),
            (2, 0, 3, 4),
            (10, 1, 2, 20),
            (10, 0, 18, 10),
        ] {
            let l = LlquantizeLayout::new(f, lo, hi, n);
            let (rows, s, h) = cg::llquantize_rows(f, lo, hi, n);
            assert_eq!((&l.rows, l.low_bound, l.high_bound), (&rows, s, h));
            assert_eq!(l.bucket_count(), cg::llquantize_buckets(f, lo, hi, n));
            for &v in &samples {
                assert_eq!(
                    l.bucket(v),
                    cg::llquantize_index(v, &rows, s, h),
                    "llquantize {v}"
                );
            }
        }
    }

    #[test]
    fn merge_per_cpu() {
        let mut a = AggValue::Scalar(5);
        a.merge(&AggValue::Scalar(3), &AggFunc::Min);
        assert_eq!(a, AggValue::Scalar(3));
        a.merge(&AggValue::Scalar(9), &AggFunc::Max);
        assert_eq!(a, AggValue::Scalar(9));
        a.merge(&AggValue::Scalar(1), &AggFunc::Sum);
        assert_eq!(a, AggValue::Scalar(10));
        let mut b = AggValue::Buckets(vec![1, 2, 3]);
        b.merge(&AggValue::Buckets(vec![1, 1, 1]), &AggFunc::Quantize);
        assert_eq!(b, AggValue::Buckets(vec![2, 3, 4]));
        let mut s = AggValue::Stddev {
            count: 1,
            total: 2,
            total_sq: 4,
        };
        s.merge(
            &AggValue::Stddev {
                count: 1,
                total: 4,
                total_sq: 16,
            },
            &AggFunc::Stddev,
        );
        assert_eq!(s.stddev(1), 1);
        let mut agg = Aggregation::new("a", 0, AggFunc::Count);
        agg.merge_entry(&k("x"), &AggValue::Scalar(1));
        agg.merge_entry(&k("y"), &AggValue::Scalar(1));
        let mut other = Aggregation::new("a", 0, AggFunc::Count);
        other.merge_entry(&k("x"), &AggValue::Scalar(2));
        agg.merge(&other);
        assert_eq!(agg.entries[0].value, AggValue::Scalar(3));
        assert_eq!(agg.entries.len(), 2);
    }

    #[test]
    fn scalars_and_stddev() {
        let avg = AggValue::Avg {
            count: 3,
            total: -10,
        };
        assert_eq!(avg.scalar(1), Some(-3));
        assert_eq!(AggValue::Avg { count: 0, total: 0 }.scalar(1), Some(0));
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, stddev 2.
        let xs = [2i64, 4, 4, 4, 5, 5, 7, 9];
        let sd = AggValue::Stddev {
            count: 8,
            total: xs.iter().sum(),
            total_sq: xs.iter().map(|&x| (x * x) as u128).sum(),
        };
        assert_eq!(sd.scalar(1), Some(2));
        // 1, 2: avg(x²) = 2 (truncated), avg = 1, sqrt(1) = 1.
        let sd = AggValue::Stddev {
            count: 2,
            total: 3,
            total_sq: 5,
        };
        assert_eq!(sd.stddev(1), 1);
        assert_eq!(AggValue::Scalar(1000).scalar(10), Some(100));
        assert_eq!(isqrt(u128::from(u64::MAX) * u128::from(u64::MAX)), u64::MAX);
        assert_eq!(isqrt(15), 3);
        assert_eq!(isqrt(16), 4);
    }

    #[test]
    fn clear_sets_sentinels() {
        let mut agg = Aggregation::new("m", 0, AggFunc::Min);
        agg.merge_entry(&k("x"), &AggValue::Scalar(1));
        agg.clear();
        assert_eq!(agg.entries[0].value, AggValue::Scalar(i64::MAX));
        let mut v = AggValue::Buckets(vec![1; 4]);
        v.clear(&AggFunc::Lquantize {
            base: 0,
            limit: 2,
            step: 1,
        });
        assert_eq!(v, AggValue::Buckets(vec![0; 4]));
    }

    #[test]
    fn key_order() {
        let a = [Value::str("b"), Value::int(1, 8, true)];
        let b = [Value::str("a"), Value::int(2, 8, true)];
        assert_eq!(keys_cmp(&a, &b, 0), Ordering::Greater);
        assert_eq!(keys_cmp(&a, &b, 1), Ordering::Less);
        assert_eq!(keys_cmp(&a, &b, 3), Ordering::Less);
        assert_eq!(keys_cmp(&a[..1], &b, 0), Ordering::Less);
        assert_eq!(keys_cmp(&[], &[], 5), Ordering::Equal);
    }

    #[test]
    fn value_order_of_distributions() {
        let q = AggFunc::Quantize;
        let mut small = vec![0; QUANTIZE_BUCKETS];
        small[quantize_bucket(2)] = 3; // 6
        let mut big = vec![0; QUANTIZE_BUCKETS];
        big[quantize_bucket(8)] = 1; // 8
        assert_eq!(
            value_cmp(
                &q,
                &AggValue::Buckets(small.clone()),
                &AggValue::Buckets(big)
            ),
            Ordering::Less
        );
        let mut zeros = small.clone();
        zeros[QUANTIZE_ZERO_BUCKET] = 5;
        assert_eq!(
            value_cmp(&q, &AggValue::Buckets(small), &AggValue::Buckets(zeros)),
            Ordering::Less
        );
        let l = AggFunc::Lquantize {
            base: 0,
            limit: 3,
            step: 1,
        };
        // Underflow weighs base − 1, overflow limit + 1.
        let under = AggValue::Buckets(vec![1, 0, 0, 0, 0]);
        let zero = AggValue::Buckets(vec![0, 1, 0, 0, 0]);
        let over = AggValue::Buckets(vec![0, 0, 0, 0, 1]);
        assert_eq!(value_cmp(&l, &under, &zero), Ordering::Less);
        assert_eq!(value_cmp(&l, &zero, &over), Ordering::Less);
        assert_eq!(bucket_weight(&l, 4), 4.0);
        assert_eq!(zero_count(&l, &[0, 7, 0, 0, 0]), 7);
        let a = AggValue::Avg { count: 2, total: 9 };
        let b = AggValue::Avg { count: 1, total: 5 };
        assert_eq!(value_cmp(&AggFunc::Avg, &a, &b), Ordering::Less);
    }

    #[test]
    fn trunc_keeps_extremes() {
        let mut agg = Aggregation::new("a", 0, AggFunc::Sum);
        for (key, v) in [("a", 5), ("b", 1), ("c", 9), ("d", 5), ("e", -2)] {
            agg.merge_entry(&k(key), &AggValue::Scalar(v));
        }
        let keys = |a: &Aggregation| {
            a.entries
                .iter()
                .map(|e| match &e.keys[0] {
                    Value::Str(s) => String::from_utf8_lossy(s).into_owned(),
                    _ => String::new(),
                })
                .collect::<Vec<_>>()
        };
        let mut top = agg.clone();
        top.trunc(2);
        assert_eq!(keys(&top), vec!["c", "d"]);
        let mut bottom = agg.clone();
        bottom.trunc(-2);
        assert_eq!(keys(&bottom), vec!["b", "e"]);
        let mut all = agg.clone();
        all.trunc(10);
        assert_eq!(all.entries.len(), 5);
        agg.trunc(0);
        assert!(agg.entries.is_empty());
    }

    #[test]
    fn value_orders() {
        assert_eq!(value_order(3, 0), vec![0, 1, 2]);
        assert_eq!(value_order(3, 2), vec![2, 0, 1]);
        assert_eq!(value_order(3, 7), vec![0, 1, 2]);
    }
}
