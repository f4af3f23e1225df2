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

/// Lower bounds of `llquantize(factor, low, high, nsteps)` buckets: the
/// underflow bucket (bound 0 when `factor^low` is 1, else `i64::MIN`), then
/// for each magnitude `m` the values `factor^m` rising by
/// `max(factor^(m+1) / nsteps, 1)` below `factor^(m+1)`, then the overflow
/// bucket at `factor^(high+1)`.
pub fn llquantize_bounds(factor: u16, low: u16, high: u16, nsteps: u16) -> Vec<i64> {
    let f = factor as i128;
    let mut bounds = vec![i64::MIN];
    for m in low..=high {
        let start = f.pow(m as u32);
        let next = start * f;
        let step = (next / nsteps.max(1) as i128).max(1);
        let mut v = start;
        while v < next && bounds.len() < 65536 {
            bounds.push(v.min(i64::MAX as i128) as i64);
            v += step;
        }
    }
    bounds.push(f.pow(high as u32 + 1).min(i64::MAX as i128) as i64);
    bounds
}

/// The bucket of a value: the last bucket whose lower bound is at most `v`.
pub fn llquantize_index(v: i64, bounds: &[i64]) -> usize {
    bounds.iter().rposition(|&b| b <= v).unwrap_or_default()
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
        let b = llquantize_bounds(10, 0, 1, 10);
        assert_eq!(
            b,
            vec![
                i64::MIN,
                1,
                2,
                3,
                4,
                5,
                6,
                7,
                8,
                9,
                10,
                20,
                30,
                40,
                50,
                60,
                70,
                80,
                90,
                100
            ]
        );
        assert_eq!(llquantize_index(0, &b), 0);
        assert_eq!(llquantize_index(25, &b), 11);
        assert_eq!(llquantize_index(1000, &b), 19);
        let b = llquantize_bounds(10, 0, 6, 20);
        assert_eq!(b[1..12].to_vec(), vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15]);
    }
}
