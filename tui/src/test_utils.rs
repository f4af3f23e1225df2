//! Fixtures for the crate's tests: aggregations built by hand and a
//! rendered buffer read back as lines of text.

use engine::model::aggregation::{AggEntry, AggFunc, AggValue, Aggregation};
use engine::model::value::Value;
use ratatui::buffer::Buffer;

/// An aggregation `name` of `func` with `entries`.
pub fn agg(name: &str, func: AggFunc, entries: Vec<(Vec<Value>, AggValue)>) -> Aggregation {
    let mut a = Aggregation::new(name, 0, func);
    for (keys, value) in entries {
        a.entries.push(AggEntry { keys, value });
    }
    a
}

/// A count() aggregation keyed by one string.
pub fn counts(name: &str, entries: &[(&str, i64)]) -> Aggregation {
    agg(
        name,
        AggFunc::Count,
        entries
            .iter()
            .map(|&(k, n)| (vec![Value::str(k)], AggValue::Scalar(n)))
            .collect(),
    )
}

/// The panels' latency layout, llquantize(x, 10, 2, 9, 10).
pub const LLQ: AggFunc = AggFunc::Llquantize {
    factor: 10,
    low: 2,
    high: 9,
    nsteps: 10,
};

/// Buckets of `func` holding `n` values at each of `values`.
pub fn buckets(func: &AggFunc, values: &[(i64, i64)]) -> AggValue {
    let layout = crate::latency::Layout::of(func).expect("a quantize-family function");
    let mut b = vec![0i64; func.bucket_count()];
    for &(v, n) in values {
        b[layout.index(v)] += n;
    }
    AggValue::Buckets(b)
}

/// Each row of `buf` as text, trailing blanks kept (cells are compared
/// exactly).
pub fn lines(buf: &Buffer) -> Vec<String> {
    let area = buf.area;
    (area.top()..area.bottom())
        .map(|y| {
            (area.left()..area.right())
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}

/// Row `y` of `buf` without trailing blanks.
pub fn line(buf: &Buffer, y: u16) -> String {
    lines(buf)
        .get(y as usize)
        .map(|l| l.trim_end().to_string())
        .unwrap_or_default()
}

/// The characters of `line` from column `from` on.
pub fn from_col(line: &str, from: usize) -> String {
    line.chars().skip(from).collect()
}

/// Draw `panel` on a `w`×`h` ratatui `TestBackend` terminal without
/// colour; the backend's buffer.
pub fn render_panel(panel: &dyn crate::panels::Panel, w: u16, h: u16, focused: bool) -> Buffer {
    let mut t =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).expect("a test terminal");
    t.draw(|f| {
        let area = f.area();
        panel.draw(
            area,
            f.buffer_mut(),
            &crate::theme::Theme { color: false },
            focused,
        )
    })
    .expect("draw");
    t.backend().buffer().clone()
}
