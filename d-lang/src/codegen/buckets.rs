//! Bucket layouts of `quantize`, `lquantize` and `llquantize`, shared by the
//! code that fills buckets in the kernel and the consumer that prints them.

/// Buckets of `quantize`: 63 negative, zero, 63 positive.
pub const QUANTIZE_BUCKETS: usize = 127;
/// Index of the bucket holding 0.
pub const QUANTIZE_ZERO: usize = 63;

/// The lower bound (the printed label) of quantize bucket `i`.
pub fn quantize_value(i: usize) -> i64 {
    use std::cmp::Ordering::*;
    match i.cmp(&QUANTIZE_ZERO) {
        Less => -(1i64.wrapping_shl((QUANTIZE_ZERO - 1 - i) as u32)),
        Equal => 0,
        Greater => 1i64.wrapping_shl((i - QUANTIZE_ZERO - 1) as u32),
    }
}

/// The bucket a value falls in: the largest power of two not above it
/// (positive), or the negated largest power of two not above its magnitude.
pub fn quantize_index(v: i64) -> usize {
    if v == 0 {
        QUANTIZE_ZERO
    } else if v > 0 {
        QUANTIZE_ZERO + 1 + (63 - v.leading_zeros() as usize)
    } else {
        let m = v.unsigned_abs();
        let k = 63 - m.leading_zeros() as usize;
        (QUANTIZE_ZERO - 1).saturating_sub(k)
    }
}

/// Buckets of `lquantize(base, limit, step)`.
pub fn lquantize_buckets(base: i32, limit: i32, step: u16) -> usize {
    ((limit as i64 - base as i64) / step.max(1) as i64) as usize + 2
}

/// The bucket of a value: 0 below `base`, the last at or above `limit`.
pub fn lquantize_index(v: i64, base: i32, limit: i32, step: u16) -> usize {
    let n = lquantize_buckets(base, limit, step);
    if v < base as i64 {
        0
    } else if v >= base as i64 + (n as i64 - 2) * step as i64 {
        n - 1
    } else {
        1 + ((v - base as i64) / step as i64) as usize
    }
}

/// The rows of `llquantize(factor, low, high, nsteps)`, Oracle DTrace for
/// Linux style: for each magnitude m in `low..=high`, lower bounds from
/// `factor^m` in steps of `factor^(m+1) / nsteps` (1 if that is at most 1)
/// below `factor^(m+1)`; magnitudes that overflow 64 bits are dropped.
/// Returns the rows, `S = factor^low` and `H = factor^(high+1)`.
///
/// With L rows there are `2L + 3` buckets: 0 for `v <= -H`; `1..=L` the
/// negative rows, most negative first; `L + 1` for `|v| < S`; `L + 2 ..=
/// 2L + 1` the positive rows; `2L + 2` for `v >= H`. The consumer's
/// `LlquantizeLayout` prints the same layout.
pub fn llquantize_rows(factor: u16, low: u16, high: u16, nsteps: u16) -> (Vec<i64>, i64, i64) {
    let factor = i64::from(factor.max(2));
    let nsteps = i64::from(nsteps.max(1));
    let mut value: i64 = 1;
    for _ in 0..low {
        value = value.saturating_mul(factor);
    }
    let low_bound = value;
    let mut rows = Vec::new();
    for _ in low..=high {
        let Some(next) = value.checked_mul(factor) else {
            break;
        };
        let step = if next > nsteps { next / nsteps } else { 1 };
        while value < next && rows.len() < 65536 {
            rows.push(value);
            value += step;
        }
        value = next;
    }
    (rows, low_bound, value)
}

/// Number of llquantize buckets: `2L + 3`.
pub fn llquantize_buckets(factor: u16, low: u16, high: u16, nsteps: u16) -> usize {
    2 * llquantize_rows(factor, low, high, nsteps).0.len() + 3
}

/// The llquantize bucket of `v` (layout in [`llquantize_rows`]).
pub fn llquantize_index(v: i64, rows: &[i64], low_bound: i64, high_bound: i64) -> usize {
    let l = rows.len();
    let mag = v.unsigned_abs();
    if mag < low_bound as u64 {
        return l + 1;
    }
    if mag >= high_bound as u64 {
        return if v < 0 { 0 } else { 2 * l + 2 };
    }
    let k = rows.partition_point(|&r| r as u64 <= mag).saturating_sub(1);
    if v < 0 {
        l - k
    } else {
        l + 2 + k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantize_layout_is_dtraces() {
        assert_eq!(quantize_index(0), 63);
        assert_eq!(quantize_index(1), 64);
        assert_eq!(quantize_index(2), 65);
        assert_eq!(quantize_index(3), 65);
        assert_eq!(quantize_index(4), 66);
        assert_eq!(quantize_index(-1), 62);
        assert_eq!(quantize_index(-3), 61);
        assert_eq!(quantize_index(i64::MAX), 126);
        assert_eq!(quantize_index(i64::MIN), 0);
        for i in 0..QUANTIZE_BUCKETS {
            assert_eq!(quantize_index(quantize_value(i)), i, "bucket {i}");
        }
    }

    #[test]
    fn lquantize_layout() {
        assert_eq!(lquantize_buckets(0, 10, 1), 12);
        assert_eq!(lquantize_index(-1, 0, 10, 1), 0);
        assert_eq!(lquantize_index(0, 0, 10, 1), 1);
        assert_eq!(lquantize_index(9, 0, 10, 1), 10);
        assert_eq!(lquantize_index(10, 0, 10, 1), 11);
        assert_eq!(lquantize_index(55, 0, 100, 10), 6);
    }

    #[test]
    fn llquantize_layout() {
        let (rows, lo, hi) = llquantize_rows(10, 0, 1, 10);
        assert_eq!(
            rows,
            vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30, 40, 50, 60, 70, 80, 90]
        );
        assert_eq!((lo, hi), (1, 100));
        let l = rows.len();
        assert_eq!(llquantize_index(0, &rows, lo, hi), l + 1);
        assert_eq!(llquantize_index(1, &rows, lo, hi), l + 2);
        assert_eq!(llquantize_index(25, &rows, lo, hi), l + 2 + 10);
        assert_eq!(llquantize_index(1000, &rows, lo, hi), 2 * l + 2);
        assert_eq!(llquantize_index(-1, &rows, lo, hi), l);
        assert_eq!(llquantize_index(-95, &rows, lo, hi), 1);
        assert_eq!(llquantize_index(-100, &rows, lo, hi), 0);
        assert_eq!(llquantize_buckets(10, 0, 1, 10), 2 * 18 + 3);
        let (rows, _, _) = llquantize_rows(10, 0, 6, 20);
        assert_eq!(rows[..11].to_vec(), vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15]);
    }
}
