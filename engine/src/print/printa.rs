//! printa() and end-of-run output: aggregation entries in DTrace's columns and order (D-REFERENCE §2).
//!
//! An entry prints its keys, then its value(s), then `\n`. Several
//! aggregations given to one printa() are joined on their keys (a key one
//! of them lacks shows that one's zero value).

use super::distribution::distribution;
use super::printf::{render_printa, AggArg, PrintfError, TimeZone};
use super::stack::{format_any, STACK_INDENT};
use super::trace::{bytes, string_column, sym};
use crate::model::aggregation::{
    keys_cmp, value_cmp, value_order, AggFunc, AggSortOptions, AggValue, Aggregation,
};
use crate::model::value::{sign_extend, Value};
use d_lang::printf::Format;
use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt::Write;

/// The column string keys take (`  %-50s`).
pub const KEY_STRING_WIDTH: usize = 50;

/// Append one key as the default printa() prints it (dt_consume.c
/// `dt_print_datum`): 8-byte integers ` %16d` signed, 4-byte ` %8d` (as a
/// C int), 2- and 1-byte ` %5d`/` %3d` zero-extended; strings two blanks
/// and left 50; stacks as stack() does, so the value lands on the next line.
pub fn key_column(key: &Value, out: &mut String) {
    match key {
        &Value::Int { bits, size, .. } => {
            let _ = match size {
                1 => write!(out, " {:>3}", bits as u8),
                2 => write!(out, " {:>5}", bits as u16),
                4 => write!(out, " {:>8}", sign_extend(bits, 4)),
                _ => write!(out, " {:>16}", bits as i64),
            };
        }
        Value::Str(s) => string_column(s, KEY_STRING_WIDTH, false, out),
        Value::Bytes(b) => bytes(b, KEY_STRING_WIDTH, false, out),
        Value::Stack(_) | Value::UStack { .. } => {
            format_any(key, STACK_INDENT, out);
        }
        &Value::Addr { addr, pid, kind } => sym(addr, pid, kind, out),
    }
}

/// Append one value as the default printa() prints it: ` %16d` for
/// count, sum, min, max and avg (signed), ` %16u` for stddev, the
/// distribution for the quantize family; divided by `normal`.
pub fn value_column(func: &AggFunc, value: &AggValue, normal: u64, out: &mut String) {
    match value {
        AggValue::Buckets(b) => distribution(func, b, normal, out),
        AggValue::Stddev { .. } => {
            let _ = write!(out, " {:>16}", value.stddev(normal));
        }
        _ => {
            let _ = write!(out, " {:>16}", value.scalar(normal).unwrap_or(0));
        }
    }
}

/// One printed line: a key tuple and each aggregation's value for it.
struct Row<'a> {
    keys: &'a [Value],
    values: Vec<Option<&'a AggValue>>,
}

/// Join the aggregations' entries on their keys, in first-seen order.
fn joined<'a>(aggs: &[&'a Aggregation]) -> Vec<Row<'a>> {
    let mut rows: Vec<Row<'a>> = Vec::new();
    let mut index: HashMap<&'a [Value], usize> = HashMap::new();
    for (a, agg) in aggs.iter().enumerate() {
        for e in &agg.entries {
            let r = *index.entry(&e.keys).or_insert_with(|| {
                rows.push(Row {
                    keys: &e.keys,
                    values: vec![None; aggs.len()],
                });
                rows.len() - 1
            });
            rows[r].values[a] = Some(&e.value);
        }
    }
    rows
}

/// Sort joined rows as dt_aggregate.c's `dt_aggregate_bundlecmp`: values
/// (aggregation `sort_pos` first), then keys; keys first with
/// `aggsortkey`; all reversed with `aggsortrev`.
fn sort_rows(rows: &mut [Row<'_>], aggs: &[&Aggregation], opts: &AggSortOptions) {
    let zeros: Vec<AggValue> = aggs.iter().map(|a| AggValue::zero(&a.func)).collect();
    let order = value_order(aggs.len(), opts.sortpos);
    rows.sort_by(|a, b| {
        let values = || {
            order
                .iter()
                .map(|&i| {
                    let va = a.values[i].unwrap_or(&zeros[i]);
                    let vb = b.values[i].unwrap_or(&zeros[i]);
                    value_cmp(&aggs[i].func, va, vb)
                })
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        };
        let keys = || keys_cmp(a.keys, b.keys, opts.sortkeypos);
        let o = if opts.sortkey {
            keys().then_with(values)
        } else {
            values().then_with(keys)
        };
        if opts.sortrev {
            o.reverse()
        } else {
            o
        }
    });
}

/// The sorted, joined rows of `aggs`.
fn sorted_rows<'a>(aggs: &[&'a Aggregation], opts: &AggSortOptions) -> Vec<Row<'a>> {
    let mut rows = joined(aggs);
    sort_rows(&mut rows, aggs, opts);
    rows
}

/// printa(@a) and printa(@a, @b, …) with no format: `\n`, then the
/// entries joined on keys ([`print_entries`]).
pub fn print_joined<A: Borrow<Aggregation>>(aggs: &[A], opts: &AggSortOptions, out: &mut String) {
    out.push('\n');
    print_entries(aggs, opts, out);
}

/// The entries of one or more aggregations joined on keys, sorted: per
/// row the keys, each aggregation's value, `\n`.
pub fn print_entries<A: Borrow<Aggregation>>(aggs: &[A], opts: &AggSortOptions, out: &mut String) {
    let aggs: Vec<&Aggregation> = aggs.iter().map(Borrow::borrow).collect();
    let aggs = &aggs[..];
    for row in sorted_rows(aggs, opts) {
        for k in row.keys {
            key_column(k, out);
        }
        for (i, agg) in aggs.iter().enumerate() {
            let zero;
            let v = match row.values[i] {
                Some(v) => v,
                None => {
                    zero = AggValue::zero(&agg.func);
                    &zero
                }
            };
            value_column(&agg.func, v, agg.normalization, out);
        }
        out.push('\n');
    }
}

/// The end of a run: every given aggregation (the caller passes those
/// not yet printa'd) in one sorted pass: by variable (first-use order),
/// then as [`print_entries`] sorts; no separator between aggregations.
pub fn print_all<A: Borrow<Aggregation>>(aggs: &[A], opts: &AggSortOptions, out: &mut String) {
    let mut order: Vec<&Aggregation> = aggs.iter().map(Borrow::borrow).collect();
    order.sort_by_key(|a| a.id);
    if opts.sortrev {
        order.reverse();
    }
    for agg in order {
        print_entries(&[agg], opts, out);
    }
}

/// An aggregation value as a `%@` conversion receives it: the scalar
/// (mean for avg, standard deviation for stddev) normalized, or the
/// distribution's text.
pub fn agg_arg(func: &AggFunc, value: &AggValue, normal: u64) -> AggArg {
    match value {
        AggValue::Buckets(b) => {
            let mut s = String::new();
            distribution(func, b, normal, &mut s);
            AggArg::Text(s)
        }
        AggValue::Stddev { .. } => AggArg::Value(Value::int(value.stddev(normal) as i64, 8, false)),
        _ => AggArg::Value(Value::int(value.scalar(normal).unwrap_or(0), 8, true)),
    }
}

/// printa("format", @a, …): per sorted, joined row, the format rendered
/// with the keys as arguments and each `%@` taking the next aggregation's
/// value (no leading `\n`, no added `\n`).
///
/// unverified: DTrace types `%@d` of an aggregation by its record, which
/// may print negative sums unsigned; Lumen prints count, sum, min, max
/// and avg signed and stddev unsigned.
pub fn print_formatted<A: Borrow<Aggregation>>(
    fmt: &Format,
    aggs: &[A],
    opts: &AggSortOptions,
    out: &mut String,
) -> Result<(), PrintfError> {
    print_formatted_in(fmt, aggs, opts, TimeZone::Local, out)
}

/// [`print_formatted`] with `%Y`/`%T` in zone `tz`.
pub fn print_formatted_in<A: Borrow<Aggregation>>(
    fmt: &Format,
    aggs: &[A],
    opts: &AggSortOptions,
    tz: TimeZone,
    out: &mut String,
) -> Result<(), PrintfError> {
    let aggs: Vec<&Aggregation> = aggs.iter().map(Borrow::borrow).collect();
    let aggs = &aggs[..];
    for row in sorted_rows(aggs, opts) {
        let args: Vec<AggArg> = aggs
            .iter()
            .enumerate()
            .map(|(i, agg)| match row.values[i] {
                Some(v) => agg_arg(&agg.func, v, agg.normalization),
                None => agg_arg(&agg.func, &AggValue::zero(&agg.func), agg.normalization),
            })
            .collect();
        render_printa(fmt, row.keys, &args, tz, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::distribution::HEADER;
    use super::*;
    use crate::model::aggregation::quantize_bucket;
    use crate::model::aggregation::QUANTIZE_BUCKETS;

    fn s(x: &str) -> Value {
        Value::str(x)
    }
    fn i8b(v: i64) -> Value {
        Value::int(v, 8, true)
    }

    fn agg(
        name: &str,
        id: u32,
        func: AggFunc,
        entries: Vec<(Vec<Value>, AggValue)>,
    ) -> Aggregation {
        let mut a = Aggregation::new(name, id, func);
        for (k, v) in entries {
            a.merge_entry(&k, &v);
        }
        a
    }

    fn counts(entries: &[(&str, i64)]) -> Aggregation {
        agg(
            "a",
            0,
            AggFunc::Count,
            entries
                .iter()
                .map(|&(k, v)| (vec![s(k)], AggValue::Scalar(v)))
                .collect(),
        )
    }

    /// A string-keyed line: `  key` left 50, then ` %16d` values.
    fn sline(key: &str, values: &[i64]) -> String {
        let mut l = format!("  {key:<50}");
        for v in values {
            l.push_str(&format!(" {v:>16}"));
        }
        l.push('\n');
        l
    }

    fn entries(aggs: &[&Aggregation], opts: AggSortOptions) -> String {
        let mut out = String::new();
        print_entries(aggs, &opts, &mut out);
        out
    }

    #[test]
    fn count_by_string_key() {
        let a = counts(&[("sshd", 12), ("bash", 3), ("zsh", 3)]);
        let mut out = String::new();
        print_joined(&[&a], &AggSortOptions::default(), &mut out);
        assert_eq!(
            out,
            [
                "\n".to_string(),
                sline("bash", &[3]),
                sline("zsh", &[3]),
                sline("sshd", &[12])
            ]
            .concat()
        );
        assert_eq!(
            sline("bash", &[3]),
            "  bash                                                              3\n"
        );
    }

    #[test]
    fn no_key_is_value_only() {
        let a = agg("", 0, AggFunc::Sum, vec![(vec![], AggValue::Scalar(-42))]);
        assert_eq!(
            entries(&[&a], AggSortOptions::default()),
            format!(" {:>16}\n", -42)
        );
    }

    #[test]
    fn integer_key_widths() {
        let a = agg(
            "a",
            0,
            AggFunc::Count,
            vec![
                (vec![Value::int(-1, 8, true)], AggValue::Scalar(1)),
                (vec![Value::int(-1, 4, true)], AggValue::Scalar(2)),
                (vec![Value::int(-1, 2, true)], AggValue::Scalar(3)),
                (vec![Value::int(-1, 1, true)], AggValue::Scalar(4)),
                (vec![Value::int(-1, 4, false)], AggValue::Scalar(5)),
            ],
        );
        // Keys of different sizes never mix in DTrace; this only checks columns.
        assert_eq!(
            entries(&[&a], AggSortOptions::default()),
            format!(
                " {:>16} {:>16}\n {:>8} {:>16}\n {:>5} {:>16}\n {:>3} {:>16}\n {:>8} {:>16}\n",
                -1, 1, -1, 2, 65535, 3, 255, 4, -1, 5
            )
        );
    }

    #[test]
    fn multiple_keys() {
        let a = agg(
            "a",
            0,
            AggFunc::Sum,
            vec![
                (
                    vec![s("bash"), Value::int(1234, 4, true)],
                    AggValue::Scalar(10),
                ),
                (
                    vec![s("bash"), Value::int(99, 4, true)],
                    AggValue::Scalar(10),
                ),
            ],
        );
        let line = |pid: i64| format!("  {:<50} {pid:>8} {:>16}\n", "bash", 10);
        assert_eq!(
            entries(&[&a], AggSortOptions::default()),
            [line(99), line(1234)].concat()
        );
    }

    #[test]
    fn avg_min_max_stddev_columns() {
        let avg = agg(
            "a",
            0,
            AggFunc::Avg,
            vec![(
                vec![s("x")],
                AggValue::Avg {
                    count: 4,
                    total: 10,
                },
            )],
        );
        assert_eq!(entries(&[&avg], Default::default()), sline("x", &[2]));
        let min = agg(
            "m",
            0,
            AggFunc::Min,
            vec![(vec![s("x")], AggValue::Scalar(i64::MIN))],
        );
        assert_eq!(
            entries(&[&min], Default::default()),
            sline("x", &[i64::MIN])
        );
        let sd = agg(
            "s",
            0,
            AggFunc::Stddev,
            vec![(
                vec![s("x")],
                AggValue::Stddev {
                    count: 2,
                    total: 2,
                    total_sq: 10,
                },
            )],
        );
        // avg(x²) = 5, avg = 1, sqrt(4) = 2.
        assert_eq!(entries(&[&sd], Default::default()), sline("x", &[2]));
    }

    #[test]
    fn normalized_values() {
        let mut a = counts(&[("x", 1000)]);
        a.normalize(100);
        assert_eq!(entries(&[&a], Default::default()), sline("x", &[10]));
        a.denormalize();
        assert_eq!(entries(&[&a], Default::default()), sline("x", &[1000]));
    }

    #[test]
    fn sort_options() {
        let a = counts(&[("b", 1), ("a", 2), ("c", 1)]);
        let d = AggSortOptions::default();
        assert_eq!(
            entries(&[&a], d),
            [sline("b", &[1]), sline("c", &[1]), sline("a", &[2])].concat()
        );
        let key = AggSortOptions { sortkey: true, ..d };
        assert_eq!(
            entries(&[&a], key),
            [sline("a", &[2]), sline("b", &[1]), sline("c", &[1])].concat()
        );
        let rev = AggSortOptions { sortrev: true, ..d };
        assert_eq!(
            entries(&[&a], rev),
            [sline("a", &[2]), sline("c", &[1]), sline("b", &[1])].concat()
        );
        let keyrev = AggSortOptions {
            sortkey: true,
            sortrev: true,
            ..d
        };
        assert_eq!(
            entries(&[&a], keyrev),
            [sline("c", &[1]), sline("b", &[1]), sline("a", &[2])].concat()
        );
    }

    #[test]
    fn aggsortkeypos() {
        let a = agg(
            "a",
            0,
            AggFunc::Count,
            vec![
                (vec![s("a"), i8b(2)], AggValue::Scalar(1)),
                (vec![s("b"), i8b(1)], AggValue::Scalar(1)),
            ],
        );
        let line = |k: &str, n: i64| format!("  {k:<50} {n:>16} {:>16}\n", 1);
        let opts = AggSortOptions {
            sortkey: true,
            sortkeypos: 1,
            ..Default::default()
        };
        assert_eq!(entries(&[&a], opts), [line("b", 1), line("a", 2)].concat());
        let opts = AggSortOptions {
            sortkey: true,
            ..Default::default()
        };
        assert_eq!(entries(&[&a], opts), [line("a", 2), line("b", 1)].concat());
    }

    #[test]
    fn joined_aggregations_and_aggsortpos() {
        let a = counts(&[("x", 1), ("y", 5)]);
        let b = agg(
            "b",
            1,
            AggFunc::Sum,
            vec![
                (vec![s("x")], AggValue::Scalar(100)),
                (vec![s("z")], AggValue::Scalar(50)),
            ],
        );
        let d = AggSortOptions::default();
        // Sorted on @a's value (z has none: 0), missing values print 0.
        assert_eq!(
            entries(&[&a, &b], d),
            [
                sline("z", &[0, 50]),
                sline("x", &[1, 100]),
                sline("y", &[5, 0])
            ]
            .concat()
        );
        let pos1 = AggSortOptions { sortpos: 1, ..d };
        assert_eq!(
            entries(&[&a, &b], pos1),
            [
                sline("y", &[5, 0]),
                sline("z", &[0, 50]),
                sline("x", &[1, 100])
            ]
            .concat()
        );
        let too_big = AggSortOptions { sortpos: 9, ..d };
        assert_eq!(entries(&[&a, &b], too_big), entries(&[&a, &b], d));
    }

    #[test]
    fn end_of_run_by_variable_order() {
        let second = agg("b", 1, AggFunc::Count, vec![(vec![], AggValue::Scalar(1))]);
        let first = counts(&[("k", 7)]);
        let mut out = String::new();
        print_all(&[&second, &first], &AggSortOptions::default(), &mut out);
        assert_eq!(out, [sline("k", &[7]), format!(" {:>16}\n", 1)].concat());
        let mut out = String::new();
        let rev = AggSortOptions {
            sortrev: true,
            ..Default::default()
        };
        print_all(&[&second, &first], &rev, &mut out);
        assert_eq!(out, [format!(" {:>16}\n", 1), sline("k", &[7])].concat());
    }

    fn quant(values: &[i64]) -> AggValue {
        let mut b = vec![0; QUANTIZE_BUCKETS];
        for &v in values {
            b[quantize_bucket(v)] += 1;
        }
        AggValue::Buckets(b)
    }

    #[test]
    fn quantize_entries() {
        let a = agg("q", 0, AggFunc::Quantize, vec![(vec![], quant(&[1]))]);
        let mut out = String::new();
        print_joined(&[&a], &AggSortOptions::default(), &mut out);
        let rows = "               0 |                                         0        \n\
                    \x20              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ 1        \n\
                    \x20              2 |                                         0        \n";
        assert_eq!(out, format!("\n{HEADER}{rows}\n"));
        let k = agg(
            "q",
            0,
            AggFunc::Quantize,
            vec![(vec![s("ls")], quant(&[1]))],
        );
        assert_eq!(
            entries(&[&k], Default::default()),
            format!("  {:<50}{HEADER}{rows}\n", "ls")
        );
        // Sorted by Σ bucket × count: ls (1) before cat (2).
        let two = agg(
            "q",
            0,
            AggFunc::Quantize,
            vec![(vec![s("cat")], quant(&[2])), (vec![s("ls")], quant(&[1]))],
        );
        let out = entries(&[&two], Default::default());
        assert!(
            out.find("ls").unwrap_or(usize::MAX) < out.find("cat").unwrap_or(0),
            "{out}"
        );
    }

    #[test]
    fn stack_keys_put_the_value_on_the_next_line() {
        let a = agg(
            "s",
            0,
            AggFunc::Count,
            vec![(vec![Value::Stack(vec![0x10, 0x20, 0])], AggValue::Scalar(3))],
        );
        assert_eq!(
            entries(&[&a], Default::default()),
            format!("\n{0}0x10\n{0}0x20\n {1:>16}\n", " ".repeat(14), 3)
        );
    }

    fn formatted(fmt: &str, aggs: &[&Aggregation]) -> String {
        let f = Format::parse(fmt).expect("format parses");
        let mut out = String::new();
        print_formatted_in(
            &f,
            aggs,
            &AggSortOptions::default(),
            TimeZone::Utc,
            &mut out,
        )
        .expect("renders");
        out
    }

    #[test]
    fn printa_with_format() {
        let a = counts(&[("sshd", 12), ("bash", 3)]);
        assert_eq!(
            formatted("%-10s %@5d\n", &[&a]),
            "bash           3\nsshd          12\n"
        );
        assert_eq!(formatted("%s\n", &[&a]), "bash\nsshd\n");
        let b = agg(
            "b",
            1,
            AggFunc::Avg,
            vec![(vec![s("bash")], AggValue::Avg { count: 2, total: 9 })],
        );
        assert_eq!(
            formatted("%s %@d %@d\n", &[&a, &b]),
            "bash 3 4\nsshd 12 0\n"
        );
        let q = agg(
            "q",
            0,
            AggFunc::Quantize,
            vec![(vec![s("ls")], quant(&[1]))],
        );
        let out = formatted("%s:%@d", &[&q]);
        assert!(out.starts_with(&format!("ls:{HEADER}")), "{out}");
        let sd = agg(
            "s",
            0,
            AggFunc::Stddev,
            vec![(
                vec![],
                AggValue::Stddev {
                    count: 2,
                    total: 2,
                    total_sq: 10,
                },
            )],
        );
        assert_eq!(formatted("sd=%@u\n", &[&sd]), "sd=2\n");
    }
}
