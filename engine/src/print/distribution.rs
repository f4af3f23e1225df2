//! quantize(), lquantize() and llquantize() text: the `value ---- Distribution ---- count` tables (D-REFERENCE §3).

use crate::model::aggregation::{
    lquantize_levels, quantize_bucket_value, AggFunc, LlquantizeLayout, QUANTIZE_BUCKETS,
    QUANTIZE_ZERO_BUCKET,
};
use std::fmt::Write;

/// The table header, with its leading `\n` (dt_consume.c `dt_print_quanthdr`).
pub const HEADER: &str = "\n           value  ------------- Distribution ------------- count    \n";

/// The width of a bar.
const BAR: usize = 40;

/// Append the distribution of a quantize-family value: `\n`, the header,
/// then one row per shown bucket (from the first non-zero one − 1 through
/// the last non-zero one + 1). Counts print divided by `normal`; bar
/// lengths use the raw counts.
/// Scalar functions print nothing.
pub fn distribution(func: &AggFunc, buckets: &[i64], normal: u64, out: &mut String) {
    match *func {
        AggFunc::Quantize => quantize(buckets, normal, out),
        AggFunc::Lquantize { base, limit, step } => lquantize(
            buckets,
            base,
            step,
            lquantize_levels(base, limit, step),
            normal,
            out,
        ),
        AggFunc::Llquantize {
            factor,
            low,
            high,
            nsteps,
        } => llquantize(
            buckets,
            &LlquantizeLayout::new(factor, low, high, nsteps),
            normal,
            out,
        ),
        _ => {}
    }
}

/// `buckets` resized to `n` (missing buckets count 0).
fn sized(buckets: &[i64], n: usize) -> Vec<i64> {
    let mut v = buckets.to_vec();
    v.resize(n, 0);
    v
}

/// The shown range: first non-zero − 1 through last non-zero + 1, clamped;
/// `None` if every bucket is zero.
fn shown(data: &[i64]) -> Option<(usize, usize)> {
    let first = data.iter().position(|&c| c != 0)?;
    let last = data.iter().rposition(|&c| c != 0)?;
    Some((first.saturating_sub(1), (last + 1).min(data.len() - 1)))
}

fn quantize(buckets: &[i64], normal: u64, out: &mut String) {
    let data = sized(buckets, QUANTIZE_BUCKETS);
    // dt_print_quantize's scan stops short of the last bucket, so data only
    // there counts as "no data" (kept for fidelity).
    let (first, last) = match data[..QUANTIZE_BUCKETS - 1].iter().position(|&c| c != 0) {
        None => (QUANTIZE_ZERO_BUCKET - 1, QUANTIZE_ZERO_BUCKET + 1),
        Some(_) => shown(&data).unwrap_or((0, 0)),
    };
    rows(&data, first, last, normal, out, |i| {
        quantize_bucket_value(i).to_string()
    });
}

fn lquantize(buckets: &[i64], base: i32, step: u16, levels: usize, normal: u64, out: &mut String) {
    let data = sized(buckets, levels + 2);
    let (first, last) = shown(&data).unwrap_or((0, 2.min(levels + 1)));
    let base = i64::from(base);
    let step = i64::from(step);
    rows(&data, first, last, normal, out, |i| {
        if i == 0 {
            format!("< {base}")
        } else if i == levels + 1 {
            format!(">= {}", base + levels as i64 * step)
        } else {
            (base + (i as i64 - 1) * step).to_string()
        }
    });
}

fn llquantize(buckets: &[i64], layout: &LlquantizeLayout, normal: u64, out: &mut String) {
    let n = layout.bucket_count();
    let data = sized(buckets, n);
    let zero = layout.zero_bucket();
    // unverified: with no data, the rows around the middle bucket, as
    // quantize does.
    let (first, last) = shown(&data).unwrap_or((zero - 1, zero + 1));
    rows(&data, first, last, normal, out, |i| {
        if i == 0 {
            format!("<= {}", -layout.high_bound)
        } else if i == n - 1 {
            format!(">= {}", layout.high_bound)
        } else if i == zero {
            if layout.low_bound == 1 {
                "0".to_string()
            } else if data[..zero].iter().any(|&c| c != 0) {
                format!("abs() < {}", layout.low_bound)
            } else {
                format!("< {}", layout.low_bound)
            }
        } else {
            layout.bucket_value(i).to_string()
        }
    });
}

/// The header and rows `first..=last`, labels right-justified in 16.
fn rows(
    data: &[i64],
    first: usize,
    last: usize,
    normal: u64,
    out: &mut String,
    label: impl Fn(usize) -> String,
) {
    let shown = &data[first..=last.max(first)];
    let total: f64 = shown.iter().map(|&c| (c as f64).abs()).sum();
    let positives = shown.iter().any(|&c| c > 0);
    let negatives = shown.iter().any(|&c| c < 0);
    out.push_str(HEADER);
    for (i, &count) in (first..).zip(shown) {
        let _ = write!(out, "{:>16} ", label(i));
        quant_line(count, normal, total, positives, negatives, out);
    }
}

/// One bar and count (dt_consume.c `dt_print_quantline`): `|`, `@`×depth,
/// blanks to 40, a blank, the count left-justified in 9. With negative
/// counts only, the bar grows leftwards to the `|`; with both signs, two
/// 20-column halves around the `|`.
fn quant_line(val: i64, normal: u64, total: f64, pos: bool, neg: bool, out: &mut String) {
    // unverified: DTrace divides by the unsigned factor; we divide signed.
    let shown = val.wrapping_div(normal.max(1) as i64);
    let depth = |len: usize| -> usize {
        if total == 0.0 {
            return 0;
        }
        let f = (val as f64).abs() * len as f64 / total;
        ((f + 0.5) as usize).min(len)
    };
    let ats = |n: usize| "@".repeat(n);
    let blanks = |n: usize| " ".repeat(n);
    if !neg {
        let d = if pos { depth(BAR) } else { 0 };
        let _ = writeln!(out, "|{}{} {shown:<9}", ats(d), blanks(BAR - d));
    } else if !pos {
        let d = depth(BAR);
        let _ = writeln!(out, "{}{}| {shown:<9}", blanks(BAR - d), ats(d));
    } else {
        let half = BAR / 2;
        let d = depth(half);
        if val <= 0 {
            let _ = writeln!(
                out,
                "{}{}|{} {shown:<9}",
                blanks(half - d),
                ats(d),
                blanks(half)
            );
        } else {
            let _ = writeln!(
                out,
                "{}|{}{} {shown:<9}",
                blanks(half),
                ats(d),
                blanks(half - d)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::aggregation::{lquantize_bucket, quantize_bucket};

    fn row(label: &str, bar: &str, count: i64) -> String {
        format!("{label:>16} {bar} {count:<9}\n")
    }
    fn pos_bar(n: usize) -> String {
        format!("|{}{}", "@".repeat(n), " ".repeat(40 - n))
    }

    fn quantized(values: impl IntoIterator<Item = i64>) -> Vec<i64> {
        let mut b = vec![0; QUANTIZE_BUCKETS];
        for v in values {
            b[quantize_bucket(v)] += 1;
        }
        b
    }

    fn text(func: AggFunc, buckets: &[i64], normal: u64) -> String {
        let mut s = String::new();
        distribution(&func, buckets, normal, &mut s);
        s
    }

    #[test]
    fn header_layout() {
        assert_eq!(
            HEADER,
            format!(
                "\n{:>16} {:>41} {:<9}\n",
                "value", "------------- Distribution -------------", "count"
            )
        );
    }

    #[test]
    fn quantize_zero_to_ten() {
        // 0..=10: 0 →1, 1 →1, 2-3 →2, 4-7 →4, 8-10 →3; total 11.
        let s = text(AggFunc::Quantize, &quantized(0..=10), 1);
        let want = [
            HEADER.to_string(),
            row("-1", &pos_bar(0), 0),
            row("0", &pos_bar(4), 1), // 40/11 = 3.6 → 4
            row("1", &pos_bar(4), 1),
            row("2", &pos_bar(7), 2),  // 80/11 = 7.3 → 7
            row("4", &pos_bar(15), 4), // 160/11 = 14.5 → 15
            row("8", &pos_bar(11), 3), // 120/11 = 10.9 → 11
            row("16", &pos_bar(0), 0),
        ]
        .concat();
        assert_eq!(s, want);
    }

    #[test]
    fn quantize_literal_rows() {
        let s = text(AggFunc::Quantize, &quantized([1]), 1);
        assert_eq!(
            s,
            "\n           value  ------------- Distribution ------------- count    \n\
             \x20              0 |                                         0        \n\
             \x20              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ 1        \n\
             \x20              2 |                                         0        \n"
        );
    }

    #[test]
    fn quantize_all_zero_shows_around_zero() {
        let s = text(AggFunc::Quantize, &[0; QUANTIZE_BUCKETS], 1);
        let want = [
            HEADER.to_string(),
            row("-1", &pos_bar(0), 0),
            row("0", &pos_bar(0), 0),
            row("1", &pos_bar(0), 0),
        ]
        .concat();
        assert_eq!(s, want);
    }

    #[test]
    fn quantize_only_last_bucket_counts_as_empty() {
        let mut b = vec![0; QUANTIZE_BUCKETS];
        b[QUANTIZE_BUCKETS - 1] = 1;
        let s = text(AggFunc::Quantize, &b, 1);
        assert!(s.ends_with(&row("1", &pos_bar(0), 0)), "{s}");
    }

    #[test]
    fn quantize_negative_values() {
        // Only negative values: the same rows, bars as for positives.
        let s = text(AggFunc::Quantize, &quantized([-1, -3, -3, -8]), 1);
        let want = [
            HEADER.to_string(),
            row("-16", &pos_bar(0), 0),
            row("-8", &pos_bar(10), 1),
            row("-4", &pos_bar(0), 0),
            row("-2", &pos_bar(20), 2),
            row("-1", &pos_bar(10), 1),
            row("0", &pos_bar(0), 0),
        ]
        .concat();
        assert_eq!(s, want);
    }

    #[test]
    fn negative_counts_draw_leftwards() {
        // Counts are negative (sum of negative increments): bars grow left.
        let mut b = vec![0; QUANTIZE_BUCKETS];
        b[quantize_bucket(1)] = -3;
        b[quantize_bucket(2)] = -1;
        let s = text(AggFunc::Quantize, &b, 1);
        let neg = |n: usize| format!("{}{}|", " ".repeat(40 - n), "@".repeat(n));
        let want = [
            HEADER.to_string(),
            format!("{:>16} {} {:<9}\n", "0", neg(0), 0),
            format!("{:>16} {} {:<9}\n", "1", neg(30), -3),
            format!("{:>16} {} {:<9}\n", "2", neg(10), -1),
            format!("{:>16} {} {:<9}\n", "4", neg(0), 0),
        ]
        .concat();
        assert_eq!(s, want);
    }

    #[test]
    fn mixed_sign_counts_split_the_bar() {
        let mut b = vec![0; QUANTIZE_BUCKETS];
        b[quantize_bucket(1)] = -1;
        b[quantize_bucket(2)] = 3;
        let s = text(AggFunc::Quantize, &b, 1);
        let left = |n: usize| format!("{}{}|{}", " ".repeat(20 - n), "@".repeat(n), " ".repeat(20));
        let right =
            |n: usize| format!("{}|{}{}", " ".repeat(20), "@".repeat(n), " ".repeat(20 - n));
        let want = [
            HEADER.to_string(),
            format!("{:>16} {} {:<9}\n", "0", left(0), 0),
            format!("{:>16} {} {:<9}\n", "1", left(5), -1),
            format!("{:>16} {} {:<9}\n", "2", right(15), 3),
            format!("{:>16} {} {:<9}\n", "4", left(0), 0),
        ]
        .concat();
        assert_eq!(s, want);
    }

    #[test]
    fn normalized_counts() {
        let mut b = vec![0; QUANTIZE_BUCKETS];
        b[quantize_bucket(4)] = 1000;
        let s = text(AggFunc::Quantize, &b, 10);
        assert!(s.contains(&row("4", &pos_bar(40), 100)), "{s}");
    }

    fn lq(values: &[i64], base: i32, limit: i32, step: u16) -> Vec<i64> {
        let mut b = vec![0; lquantize_levels(base, limit, step) + 2];
        for &v in values {
            b[lquantize_bucket(v, base, limit, step)] += 1;
        }
        b
    }

    #[test]
    fn lquantize_with_underflow_and_overflow() {
        let f = AggFunc::Lquantize {
            base: 0,
            limit: 10,
            step: 2,
        };
        let s = text(f, &lq(&[-5, 3, 3, 20], 0, 10, 2), 1);
        let want = [
            HEADER.to_string(),
            row("< 0", &pos_bar(10), 1),
            row("0", &pos_bar(0), 0),
            row("2", &pos_bar(20), 2),
            row("4", &pos_bar(0), 0),
            row("6", &pos_bar(0), 0),
            row("8", &pos_bar(0), 0),
            row(">= 10", &pos_bar(10), 1),
        ]
        .concat();
        assert_eq!(s, want);
    }

    #[test]
    fn lquantize_middle_rows_and_empty() {
        let f = AggFunc::Lquantize {
            base: -10,
            limit: 100,
            step: 10,
        };
        let s = text(f, &lq(&[25, 35], -10, 100, 10), 1);
        let want = [
            HEADER.to_string(),
            row("10", &pos_bar(0), 0),
            row("20", &pos_bar(20), 1),
            row("30", &pos_bar(20), 1),
            row("40", &pos_bar(0), 0),
        ]
        .concat();
        assert_eq!(s, want);
        // All zero: the first three rows.
        let s = text(f, &lq(&[], -10, 100, 10), 1);
        let want = [
            HEADER.to_string(),
            row("< -10", &pos_bar(0), 0),
            row("-10", &pos_bar(0), 0),
            row("0", &pos_bar(0), 0),
        ]
        .concat();
        assert_eq!(s, want);
        // limit not a multiple of step: the overflow label is base + levels·step.
        let f = AggFunc::Lquantize {
            base: 0,
            limit: 100,
            step: 30,
        };
        let s = text(f, &lq(&[95], 0, 100, 30), 1);
        assert!(s.ends_with(&row(">= 90", &pos_bar(40), 1)), "{s}");
    }

    fn llq(values: &[i64], l: &LlquantizeLayout) -> Vec<i64> {
        let mut b = vec![0; l.bucket_count()];
        for &v in values {
            b[l.bucket(v)] += 1;
        }
        b
    }

    #[test]
    fn llquantize_10_0_2_10() {
        let f = AggFunc::Llquantize {
            factor: 10,
            low: 0,
            high: 2,
            nsteps: 10,
        };
        let l = LlquantizeLayout::new(10, 0, 2, 10);
        let s = text(f, &llq(&[0, 5, 5, 15, 950, 5000], &l), 1);
        let want = [
            HEADER.to_string(),
            row("-1", &pos_bar(0), 0), // the (empty) row below the first
            row("0", &pos_bar(7), 1),  // 40/6 = 6.7 → 7
            row("1", &pos_bar(0), 0),
            row("2", &pos_bar(0), 0),
            row("3", &pos_bar(0), 0),
            row("4", &pos_bar(0), 0),
            row("5", &pos_bar(13), 2), // 13.3 → 13
            row("6", &pos_bar(0), 0),
            row("7", &pos_bar(0), 0),
            row("8", &pos_bar(0), 0),
            row("9", &pos_bar(0), 0),
            row("10", &pos_bar(7), 1),
            row("20", &pos_bar(0), 0),
            row("30", &pos_bar(0), 0),
            row("40", &pos_bar(0), 0),
            row("50", &pos_bar(0), 0),
            row("60", &pos_bar(0), 0),
            row("70", &pos_bar(0), 0),
            row("80", &pos_bar(0), 0),
            row("90", &pos_bar(0), 0),
            row("100", &pos_bar(0), 0),
            row("200", &pos_bar(0), 0),
            row("300", &pos_bar(0), 0),
            row("400", &pos_bar(0), 0),
            row("500", &pos_bar(0), 0),
            row("600", &pos_bar(0), 0),
            row("700", &pos_bar(0), 0),
            row("800", &pos_bar(0), 0),
            row("900", &pos_bar(7), 1),
            row(">= 1000", &pos_bar(7), 1),
        ]
        .concat();
        assert_eq!(s, want);
    }

    #[test]
    fn llquantize_negative_rows_and_labels() {
        let f = AggFunc::Llquantize {
            factor: 10,
            low: 1,
            high: 1,
            nsteps: 10,
        };
        let l = LlquantizeLayout::new(10, 1, 1, 10);
        assert_eq!(l.rows, vec![10, 20, 30, 40, 50, 60, 70, 80, 90]);
        let s = text(f, &llq(&[-25, 3, 12], &l), 1);
        // Negative values, positive counts: ordinary bars.
        let want = [
            HEADER.to_string(),
            row("-30", &pos_bar(0), 0),
            row("-20", &pos_bar(13), 1),
            row("-10", &pos_bar(0), 0),
            row("abs() < 10", &pos_bar(13), 1),
            row("10", &pos_bar(13), 1),
            row("20", &pos_bar(0), 0),
        ]
        .concat();
        assert_eq!(s, want);
        // Positive data only: `< 10`.
        let s = text(f, &llq(&[3], &l), 1);
        assert!(s.contains(&row("< 10", &pos_bar(40), 1)), "{s}");
        // Overflows both ways.
        let s = text(f, &llq(&[-100, 100], &l), 1);
        assert!(s.contains(&row("<= -100", &pos_bar(20), 1)), "{s}");
        assert!(s.ends_with(&row(">= 100", &pos_bar(20), 1)), "{s}");
        // No data: around the middle.
        let s = text(f, &llq(&[], &l), 1);
        assert_eq!(
            s,
            [
                HEADER.to_string(),
                row("-10", &pos_bar(0), 0),
                row("< 10", &pos_bar(0), 0),
                row("10", &pos_bar(0), 0)
            ]
            .concat()
        );
    }
}
