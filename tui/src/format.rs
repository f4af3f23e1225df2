//! Numbers as the panels print them: latencies with units, rates and
//! percentages in a few columns, keys as DTrace prints them.

use engine::model::value::Value;

/// A duration in nanoseconds with a unit and at most three significant
/// digits: `850ns`, `1.2µs`, `35µs`, `120ms`, `2.5s`.
pub fn nanos(ns: i64) -> String {
    let v = ns as f64;
    let a = v.abs();
    let (scaled, unit) = if a < 1e3 {
        return format!("{ns}ns");
    } else if a < 1e6 {
        (v / 1e3, "µs")
    } else if a < 1e9 {
        (v / 1e6, "ms")
    } else {
        (v / 1e9, "s")
    };
    if scaled.abs() < 10.0 {
        format!("{scaled:.1}{unit}")
    } else {
        format!("{scaled:.0}{unit}")
    }
}

/// An event rate per second in at most six columns: `0`, `3.5`, `1234`,
/// `12.3k`, `1.23M`.
pub fn rate(per_s: f64) -> String {
    let a = per_s.abs();
    if a == 0.0 {
        "0".to_string()
    } else if a < 10.0 {
        format!("{per_s:.1}")
    } else if a < 10_000.0 {
        format!("{per_s:.0}")
    } else if a < 1e6 {
        format!("{:.1}k", per_s / 1e3)
    } else {
        format!("{:.2}M", per_s / 1e6)
    }
}

/// A percentage with one decimal: `0.0`, `12.5`, `199.0`.
pub fn percent(p: f64) -> String {
    format!("{p:.1}")
}

/// A size in bytes as `zfs list` prints one: powers of 1024 with a
/// one-letter unit, a decimal below ten: `512`, `96K`, `1.5G`, `12T`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
    if n < 1024 {
        return n.to_string();
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if v < 10.0 {
        format!("{v:.1}{}", UNITS[unit])
    } else {
        format!("{v:.0}{}", UNITS[unit])
    }
}

/// A count with thousands kept short: `999`, `12.3k`, `4.56M`.
pub fn count(n: i64) -> String {
    if n.abs() < 100_000 {
        n.to_string()
    } else {
        rate(n as f64)
    }
}

/// An aggregation key as printa() prints it, without its padding (a
/// stack's frames joined on one line).
pub fn key(v: &Value) -> String {
    let mut s = String::new();
    engine::print::printa::key_column(v, &mut s);
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nanos_keep_three_digits_and_a_unit() {
        assert_eq!(nanos(0), "0ns");
        assert_eq!(nanos(850), "850ns");
        assert_eq!(nanos(1_200), "1.2µs");
        assert_eq!(nanos(35_000), "35µs");
        assert_eq!(nanos(120_000_000), "120ms");
        assert_eq!(nanos(2_500_000_000), "2.5s");
    }

    #[test]
    fn rates_fit_six_columns() {
        assert_eq!(rate(0.0), "0");
        assert_eq!(rate(3.54), "3.5");
        assert_eq!(rate(1234.4), "1234");
        assert_eq!(rate(12_345.0), "12.3k");
        assert_eq!(rate(1_234_567.0), "1.23M");
    }

    #[test]
    fn keys_print_as_printa_without_padding() {
        assert_eq!(key(&Value::str("global")), "global");
        assert_eq!(key(&Value::int(42, 4, true)), "42");
        assert_eq!(key(&Value::int(-1, 8, true)), "-1");
    }
}
