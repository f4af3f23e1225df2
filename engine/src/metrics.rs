//! Aggregations as Prometheus metrics: snapshots rendered in the Prometheus text format and served over HTTP.
//!
//! Where it sits: beside [`crate::print`], at the end of DESIGN.md's flow.
//! The consuming loop ([`crate::run::Session`]) publishes merged
//! aggregation snapshots to an [`crate::run::session::AggregationFeed`]
//! when another thread asks; the HTTP thread started by [`serve`] asks on
//! each scrape and hands the snapshot to [`render`], which is pure (no
//! I/O, no clock). `lumen dtrace --metrics ADDR` wires the three together
//! (`crate::command`).
//!
//! # Format
//! Prometheus text exposition format 0.0.4, not OpenMetrics 1.0: it is
//! what `promtool check metrics` parses and lints, Prometheus scrapes
//! it natively, and it needs neither `# EOF` nor OpenMetrics' counter
//! family names (`foo` for samples `foo_total`), which the 0.0.4 parser
//! would read as two families. For `@calls[execname] = count();
//! @lat = quantize(x)` run by `-n 'syscall::read:entry …'`:
//!
//! ```text
//! # HELP dtrace_calls_total D aggregation @calls = count()
//! # TYPE dtrace_calls_total counter
//! dtrace_calls_total{program="syscall::read:entry",execname="sshd"} 12
//! # HELP dtrace_lat D aggregation @lat = quantize(value)
//! # TYPE dtrace_lat histogram
//! dtrace_lat_bucket{program="syscall::read:entry",le="-4611686018427387904"} 0
//! …
//! dtrace_lat_bucket{program="syscall::read:entry",le="0"} 0
//! dtrace_lat_bucket{program="syscall::read:entry",le="1"} 3
//! dtrace_lat_bucket{program="syscall::read:entry",le="3"} 5
//! …
//! dtrace_lat_bucket{program="syscall::read:entry",le="+Inf"} 12
//! dtrace_lat_count{program="syscall::read:entry"} 12
//! ```
//!
//! - **Names**: `dtrace_` + the aggregation's name in snake_case
//!   (`@bytesRead` → `dtrace_bytes_read`; promtool flags camelCase), the
//!   anonymous `@` → `dtrace_agg`; counters end in `_total`. Two
//!   aggregations that would share a name while they cannot share a
//!   family (different kinds, or the same `program` label) get the
//!   function's name appended, then a number ([`families`]).
//! - **Labels**: always `program` (which D program: the same query works
//!   whether a node runs one program or several), then one per key, in
//!   order, named after the key's expression as the compiler recorded it
//!   (`d_lang::ir::Aggregation::key_names`): `@[zonename, probefunc]` →
//!   `zonename`, `probefunc`; `self->x` → `x`; `args[1]` → `args1`;
//!   `stack()` → `stack`; `curpsinfo->pr_psargs` → `pr_psargs`; `keyN`
//!   for other expressions (constants, arithmetic) and for positions the
//!   program's clauses key with different expressions. Names are made
//!   valid label names and never `program` or `le` (`key_le`); a repeated
//!   one gets `_2`, `_3`… ([`key_labels`]). Key values are their text as
//!   printa() shows it, unpadded: integers at their size and sign, strings
//!   as they are, symbols as ``mod`func``, stacks as their frames one per
//!   line (innermost first), non-text bytes in hex. Label values escape
//!   `\`, `"` and newlines.
//! - **Types**: count → counter; sum → gauge (a sum may decrease); min,
//!   max, avg, stddev → gauge holding the integer printa() prints (the
//!   truncated mean, the integer standard deviation); quantize, lquantize,
//!   llquantize → histogram. clear() and trunc() look to Prometheus like a
//!   counter reset.
//! - **Histograms**: one `le` per D bucket, its upper bound (the largest
//!   integer it holds: quantize's `4` row holds 4..=7, so `le="7"`; its
//!   `-4` row holds −7..=−4, so `le="-4"`), the last bucket as `+Inf`;
//!   counts cumulative. Every bucket of the layout is written, not only the
//!   rows printa() shows, so a series' buckets never change between scrapes
//!   (rate() and histogram_quantile() need that): quantize costs 127
//!   buckets per key. `_count` is the total. There is no `_sum`: DTrace's
//!   distributions keep counts per bucket, not the values, so a sum could
//!   only be guessed; the 0.0.4 format does not require it and OpenMetrics
//!   only recommends it (and forbids it with negative buckets, which
//!   quantize has).
//! - **normalize()**: every value and every bucket count divided by the
//!   factor as printa() divides them (buckets one by one, then summed).
//! - **Order**: families by name, series by `program`, then keys in
//!   DTrace's key order: the text is the same for the same data.

use crate::model::aggregation::{
    keys_cmp, lquantize_levels, quantize_bucket_value, AggFunc, AggValue, Aggregation,
    LlquantizeLayout, QUANTIZE_BUCKETS, QUANTIZE_ZERO_BUCKET,
};
use crate::model::value::{sign_extend, Value};
use std::collections::HashSet;
use std::fmt::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The Content-Type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One D program's aggregations, as one scrape sees them.
#[derive(Debug, Clone, Copy)]
pub struct MetricSource<'a> {
    /// The program's name: the value of the `program` label.
    pub program: &'a str,
    /// Its aggregations, merged across CPUs.
    pub aggregations: &'a [Aggregation],
}

/// What Prometheus is told a family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn of(func: &AggFunc) -> Kind {
        match func {
            AggFunc::Count => Kind::Counter,
            AggFunc::Quantize | AggFunc::Lquantize { .. } | AggFunc::Llquantize { .. } => {
                Kind::Histogram
            }
            _ => Kind::Gauge,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }

    /// The sample names a family called `name` writes besides `name`:
    /// none may be taken by another family.
    fn derived(self, name: &str) -> Vec<String> {
        match self {
            Kind::Histogram => ["_bucket", "_count", "_sum"]
                .iter()
                .map(|s| format!("{name}{s}"))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// One metric family: aggregations of the same kind and name from
/// different programs.
struct Family<'a> {
    name: String,
    kind: Kind,
    /// (program, aggregation), at most one per program.
    members: Vec<(&'a str, &'a Aggregation)>,
}

/// Render every source's aggregations as Prometheus text (format in the
/// module docs). Empty aggregations write nothing (DTrace prints nothing
/// for them either); no source at all gives an empty text.
pub fn render(sources: &[MetricSource<'_>]) -> String {
    let mut out = String::new();
    for family in families(sources) {
        write_family(&family, &mut out);
    }
    out
}

/// Group the aggregations into families sorted by name. Names are given
/// in a fixed order (program, then first-use order) from every
/// aggregation, empty or not, so a name never moves once data arrives.
fn families<'a>(sources: &[MetricSource<'a>]) -> Vec<Family<'a>> {
    let mut all: Vec<(&'a str, &'a Aggregation)> = sources
        .iter()
        .flat_map(|s| s.aggregations.iter().map(move |a| (s.program, a)))
        .collect();
    all.sort_by(|a, b| a.0.cmp(b.0).then(a.1.id.cmp(&b.1.id)));
    let mut families: Vec<Family<'a>> = Vec::new();
    // Every sample name written, so that no family's derived names
    // (`x_bucket`) collide with another's.
    let mut taken: HashSet<String> = HashSet::new();
    for (program, agg) in all {
        let kind = Kind::of(&agg.func);
        let stem = format!(
            "dtrace_{}",
            if agg.name.is_empty() {
                "agg".to_string()
            } else {
                snake_case(&agg.name)
            }
        );
        let candidates = std::iter::once(stem.clone())
            .chain(std::iter::once(format!("{stem}_{}", agg.func.name())))
            .chain((2..).map(|n| format!("{stem}_{}_{n}", agg.func.name())));
        for candidate in candidates {
            let name = match kind {
                Kind::Counter => format!("{}_total", candidate.trim_end_matches("_total")),
                _ => candidate,
            };
            if let Some(f) = families.iter_mut().find(|f| f.name == name) {
                if f.kind == kind && f.members.iter().all(|(p, _)| *p != program) {
                    f.members.push((program, agg));
                    break;
                }
                continue;
            }
            let mut names = kind.derived(&name);
            names.push(name.clone());
            if names.iter().any(|n| taken.contains(n)) {
                continue;
            }
            taken.extend(names);
            families.push(Family {
                name,
                kind,
                members: vec![(program, agg)],
            });
            break;
        }
    }
    families.sort_by(|a, b| a.name.cmp(&b.name));
    families
}

/// `bytesRead` → `bytes_read`, `HTTPReqs` → `http_reqs`; anything but
/// ASCII letters, digits and `_` becomes `_` (D names have none, but a
/// metric name must not carry them).
fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut s = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next_lower,
                _ => false,
            };
            if boundary && !s.ends_with('_') {
                s.push('_');
            }
            s.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() || c == '_' {
            s.push(c);
        } else {
            s.push('_');
        }
    }
    s
}

/// The aggregation as D declares it, for HELP: `@lat = quantize(value)`.
fn declaration(agg: &Aggregation) -> String {
    let call = match agg.func {
        AggFunc::Count => "count()".to_string(),
        AggFunc::Lquantize { base, limit, step } => {
            format!("lquantize(value, {base}, {limit}, {step})")
        }
        AggFunc::Llquantize {
            factor,
            low,
            high,
            nsteps,
        } => format!("llquantize(value, {factor}, {low}, {high}, {nsteps})"),
        other => format!("{}(value)", other.name()),
    };
    let mut s = format!("@{} = {call}", agg.name);
    if agg.normalization > 1 {
        let _ = write!(s, ", normalized by {}", agg.normalization);
    }
    s
}

fn write_family(f: &Family<'_>, out: &mut String) {
    let mut members: Vec<&(&str, &Aggregation)> = f
        .members
        .iter()
        .filter(|(_, a)| !a.entries.is_empty())
        .collect();
    if members.is_empty() {
        return;
    }
    members.sort_by(|a, b| a.0.cmp(b.0));
    // One HELP line per family: the distinct declarations, in program order.
    let mut help: Vec<String> = Vec::new();
    for (_, agg) in &members {
        let d = declaration(agg);
        if !help.contains(&d) {
            help.push(d);
        }
    }
    let _ = writeln!(
        out,
        "# HELP {} D aggregation {}",
        f.name,
        escape_help(&help.join("; "))
    );
    let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.name());
    for (program, agg) in members {
        let mut entries: Vec<_> = agg.entries.iter().collect();
        entries.sort_by(|a, b| keys_cmp(&a.keys, &b.keys, 0));
        let bounds = upper_bounds(&agg.func);
        let arity = agg.entries.iter().map(|e| e.keys.len()).max().unwrap_or(0);
        let names = key_labels(&agg.key_names, arity);
        for e in entries {
            let mut labels = format!("program=\"{}\"", escape_label(program));
            for (name, k) in names.iter().zip(&e.keys) {
                let _ = write!(labels, ",{name}=\"{}\"", escape_label(&key_text(k)));
            }
            let normal = agg.normalization;
            match &e.value {
                AggValue::Buckets(counts) => {
                    write_histogram(&f.name, &labels, &bounds, counts, normal, out)
                }
                v @ AggValue::Stddev { .. } => {
                    let _ = writeln!(out, "{}{{{labels}}} {}", f.name, v.stddev(normal));
                }
                v => {
                    let _ = writeln!(
                        out,
                        "{}{{{labels}}} {}",
                        f.name,
                        v.scalar(normal).unwrap_or(0)
                    );
                }
            }
        }
    }
}

/// The `_bucket` lines (cumulative) and `_count` of one key. Counts are
/// divided by `normal` bucket by bucket, as printa() shows them, then
/// summed: each `le`'s value is the sum of the rows printa() prints up to
/// it.
fn write_histogram(
    name: &str,
    labels: &str,
    bounds: &[Option<i64>],
    counts: &[i64],
    normal: u64,
    out: &mut String,
) {
    let normal = normal.max(1) as i64;
    let mut cumulative: i64 = 0;
    for (i, bound) in bounds.iter().enumerate() {
        let count = counts.get(i).copied().unwrap_or(0).wrapping_div(normal);
        cumulative = cumulative.wrapping_add(count);
        let le = bound.map_or_else(|| "+Inf".to_string(), |b| b.to_string());
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
    }
    let _ = writeln!(out, "{name}_count{{{labels}}} {cumulative}");
}

/// The upper bound of each bucket of a distribution: the largest integer
/// it holds; `None` for the last (everything above, `+Inf`). Bucket
/// layouts are [`crate::model::aggregation`]'s. Empty for scalar functions.
pub fn upper_bounds(func: &AggFunc) -> Vec<Option<i64>> {
    match *func {
        AggFunc::Quantize => (0..QUANTIZE_BUCKETS)
            .map(|i| match i {
                // Negative buckets are labelled by their upper end:
                // `-4` holds -7..=-4.
                i if i < QUANTIZE_ZERO_BUCKET => Some(quantize_bucket_value(i)),
                i if i == QUANTIZE_BUCKETS - 1 => None,
                // Zero and positive buckets by their lower end: `4` holds
                // 4..=7, up to the next label.
                i => Some(quantize_bucket_value(i + 1) - 1),
            })
            .collect(),
        AggFunc::Lquantize { base, limit, step } => {
            let levels = lquantize_levels(base, limit, step) as i64;
            let (base, step) = (i64::from(base), i64::from(step));
            // 0 is `< base`; 1 + j holds [base + j·step, base + (j+1)·step).
            (0..=levels)
                .map(|i| Some(base + i * step - 1))
                .chain(std::iter::once(None))
                .collect()
        }
        AggFunc::Llquantize {
            factor,
            low,
            high,
            nsteps,
        } => {
            let layout = LlquantizeLayout::new(factor, low, high, nsteps);
            let l = layout.rows.len();
            let row_end = |j: usize| layout.rows.get(j + 1).copied().unwrap_or(layout.high_bound);
            (0..layout.bucket_count())
                .map(|i| match i {
                    // `<= -H`, then the negative rows: labelled by their
                    // upper end, as quantize's.
                    i if i <= l => Some(layout.bucket_value(i)),
                    // |v| < S.
                    i if i == l + 1 => Some(layout.low_bound - 1),
                    i if i <= 2 * l + 1 => Some(row_end(i - l - 2) - 1),
                    _ => None,
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Label names every series has, which key labels must not take.
const RESERVED_LABELS: [&str; 2] = ["program", "le"];

/// The label names of an aggregation's `arity` keys, from the compiler's
/// `names` (`keyN` past their end or where one is empty). Each is made a
/// valid Prometheus label name: characters outside `[a-zA-Z0-9_]` become
/// `_`; one that starts with a digit, starts with `__` (Prometheus
/// reserves those) or is `program` or `le` gets a `key_` prefix. A name
/// already taken in the series (`@[arg0, arg0]`) gets `_2`, `_3`…, so
/// no label is written twice.
fn key_labels(names: &[String], arity: usize) -> Vec<String> {
    let mut taken: HashSet<String> = RESERVED_LABELS.iter().map(|s| s.to_string()).collect();
    let mut out = Vec::with_capacity(arity);
    for i in 0..arity {
        let base = match names.get(i).map(|n| label_name(n)) {
            Some(n) if !n.is_empty() => n,
            _ => format!("key{i}"),
        };
        let name = std::iter::once(base.clone())
            .chain((2..).map(|n| format!("{base}_{n}")))
            .find(|n| !taken.contains(n))
            .unwrap_or(base);
        taken.insert(name.clone());
        out.push(name);
    }
    out
}

/// `name` as a label name (rules in [`key_labels`]); empty stays empty.
fn label_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let clashes = clean.starts_with(|c: char| c.is_ascii_digit())
        || clean.starts_with("__")
        || RESERVED_LABELS.contains(&clean.as_str());
    if clashes {
        format!("key_{clean}")
    } else {
        clean
    }
}

/// A key's text as printa() shows it, without the column padding.
fn key_text(key: &Value) -> String {
    match key {
        &Value::Int { bits, size, .. } => match size {
            1 => (bits as u8).to_string(),
            2 => (bits as u16).to_string(),
            4 => sign_extend(bits, 4).to_string(),
            _ => (bits as i64).to_string(),
        },
        Value::Str(s) => String::from_utf8_lossy(s).into_owned(),
        Value::Bytes(b) => bytes_text(b),
        Value::Stack(_) | Value::UStack { .. } => {
            let mut s = String::new();
            crate::print::stack::format_any(key, 0, &mut s);
            s.trim_matches('\n').to_string()
        }
        &Value::Addr { addr, pid, kind } => crate::print::stack::addr_text(addr, pid, kind),
    }
}

/// Raw bytes as a label: text if they are printable up to trailing NULs
/// (as DTrace decides to print them as a string), else `0x` and hex.
fn bytes_text(b: &[u8]) -> String {
    let end = b.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
    let text = &b[..end];
    if text
        .iter()
        .all(|&c| (b' '..=b'~').contains(&c) || c == b'\t')
    {
        String::from_utf8_lossy(text).into_owned()
    } else {
        let mut s = String::from("0x");
        for c in b {
            let _ = write!(s, "{c:02x}");
        }
        s
    }
}

/// A label value as the text format quotes it: `\` `"` and newline escaped.
fn escape_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// HELP text: `\` and newline escaped (quotes stay as they are).
fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Why the metrics endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The address is not `HOST:PORT` or `:PORT`, or does not resolve
    /// (user's fault).
    #[error("bad metrics address '{addr}': {reason}")]
    Address {
        /// The address as typed.
        addr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Listening failed (port in use, no permission, address not local).
    #[error("cannot listen for metrics on {addr}: {reason}")]
    Bind {
        /// The address as typed.
        addr: String,
        /// The system's reason.
        reason: String,
    },
    /// The serving thread could not be started.
    #[error("cannot start the metrics thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// The HTTP endpoint [`serve`] started: serves until dropped.
pub struct MetricsServer {
    server: Arc<tiny_http::Server>,
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MetricsServer {
    /// The address it listens on (the real port when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    /// Stop taking requests and wait for the one being answered (its
    /// render may wait up to its snapshot timeout); tiny_http's accept
    /// thread closes the listener a moment later.
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl std::fmt::Debug for MetricsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsServer")
            .field("addr", &self.addr)
            .finish()
    }
}

/// What `/` answers: where the metrics are.
const INDEX: &str = "Lumen dtrace: the running D program's aggregations are at /metrics\n";

/// Serve `render()`'s text at `GET /metrics` on `addr` (`HOST:PORT`, or
/// `:PORT` for every IPv4 interface), from a background thread, one
/// request at a time; `/` says where the metrics are, anything else is
/// 404. Port 0 picks a free port ([`MetricsServer::local_addr`]).
pub fn serve(
    addr: &str,
    render: impl Fn() -> String + Send + Sync + 'static,
) -> Result<MetricsServer, MetricsError> {
    // `:9100` as node_exporter and Prometheus write it: every interface.
    let spec = match addr.strip_prefix(':') {
        Some(port) => format!("0.0.0.0:{port}"),
        None => addr.to_string(),
    };
    let bad = |reason: String| MetricsError::Address {
        addr: addr.to_string(),
        reason,
    };
    let resolved = spec
        .to_socket_addrs()
        .map_err(|e| bad(e.to_string()))?
        .next()
        .ok_or_else(|| bad("resolves to no address".into()))?;
    let server = tiny_http::Server::http(resolved).map_err(|e| MetricsError::Bind {
        addr: addr.to_string(),
        reason: match e.downcast_ref::<std::io::Error>() {
            Some(io) => crate::error::reason(io),
            None => e.to_string(),
        },
    })?;
    let local = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| bad("not an IP address".into()))?;
    let server = Arc::new(server);
    let stopping = Arc::new(AtomicBool::new(false));
    let thread = {
        let server = Arc::clone(&server);
        let stopping = Arc::clone(&stopping);
        std::thread::Builder::new()
            .name("lumen-metrics".into())
            .spawn(move || loop {
                match server.recv() {
                    Ok(request) => answer(request, &render),
                    // unblock() from Drop; other errors are one failed
                    // connection, not a reason to stop serving.
                    Err(_) if stopping.load(Ordering::SeqCst) => break,
                    Err(_) => continue,
                }
            })
            .map_err(MetricsError::Thread)?
    };
    Ok(MetricsServer {
        server,
        addr: local,
        stopping,
        thread: Some(thread),
    })
}

fn header(name: &str, value: &str) -> Option<tiny_http::Header> {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

/// Answer one request. A render that panics answers 500 rather than
/// leaving the endpoint dead for the rest of the run.
fn answer(request: tiny_http::Request, render: &(impl Fn() -> String + ?Sized)) {
    use tiny_http::{Method, Response};
    let path = request.url().split('?').next().unwrap_or("");
    let readable = matches!(request.method(), Method::Get | Method::Head);
    let text = |body: String, status: u16, content_type: &str| {
        let mut r = Response::from_string(body).with_status_code(status);
        if let Some(h) = header("Content-Type", content_type) {
            r.add_header(h);
        }
        r
    };
    let plain = "text/plain; charset=utf-8";
    let response = match (path, readable) {
        ("/metrics", true) => {
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(render)) {
                Ok(body) => text(body, 200, CONTENT_TYPE),
                Err(_) => text("rendering the metrics failed\n".into(), 500, plain),
            }
        }
        ("/", true) => text(INDEX.into(), 200, plain),
        ("/metrics" | "/", false) => {
            let mut r = text("only GET and HEAD\n".into(), 405, plain);
            if let Some(h) = header("Allow", "GET, HEAD") {
                r.add_header(h);
            }
            r
        }
        _ => text(
            "not found: the metrics are at /metrics\n".into(),
            404,
            plain,
        ),
    };
    // A scraper that hung up has nobody to tell.
    let _ = request.respond(response);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::aggregation::{lquantize_bucket, quantize_bucket, AggEntry};
    use std::io::{Read, Write as _};

    fn agg(
        name: &str,
        id: u32,
        func: AggFunc,
        entries: Vec<(Vec<Value>, AggValue)>,
    ) -> Aggregation {
        Aggregation {
            name: name.into(),
            func,
            key_names: Vec::new(),
            id,
            normalization: 1,
            entries: entries
                .into_iter()
                .map(|(keys, value)| AggEntry { keys, value })
                .collect(),
        }
    }

    /// `a` with the compiler's key names.
    fn named(mut a: Aggregation, names: &[&str]) -> Aggregation {
        a.key_names = names.iter().map(|n| n.to_string()).collect();
        a
    }

    fn one(program: &str, aggs: &[Aggregation]) -> String {
        render(&[MetricSource {
            program,
            aggregations: aggs,
        }])
    }

    /// The `_bucket` lines of `text` whose count changes, plus the first
    /// and `+Inf`: the full layout is long, the tests look at the steps.
    fn steps(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut last: Option<String> = None;
        for l in text.lines().filter(|l| l.contains("_bucket{")) {
            let count = l.rsplit(' ').next().unwrap_or("").to_string();
            if last.as_ref() != Some(&count) || l.contains("+Inf") {
                out.push(l.to_string());
            }
            last = Some(count);
        }
        out
    }

    #[test]
    fn count_with_string_keys() {
        let a = named(
            agg(
                "calls",
                0,
                AggFunc::Count,
                vec![
                    (vec![Value::str("sshd")], AggValue::Scalar(12)),
                    (vec![Value::str("bash")], AggValue::Scalar(3)),
                ],
            ),
            &["execname"],
        );
        assert_eq!(
            one("syscall::read:entry", &[a]),
            "# HELP dtrace_calls_total D aggregation @calls = count()\n\
             # TYPE dtrace_calls_total counter\n\
             dtrace_calls_total{program=\"syscall::read:entry\",execname=\"bash\"} 3\n\
             dtrace_calls_total{program=\"syscall::read:entry\",execname=\"sshd\"} 12\n"
        );
    }

    #[test]
    fn scalars_are_gauges_with_printed_values() {
        let aggs = [
            agg(
                "",
                0,
                AggFunc::Avg,
                vec![(
                    vec![],
                    AggValue::Avg {
                        count: 3,
                        total: 10,
                    },
                )],
            ),
            // Fewer names than keys (hand-built): the rest are `keyN`.
            named(
                agg(
                    "bytesRead",
                    1,
                    AggFunc::Sum,
                    vec![(
                        vec![Value::int(-1, 4, true), Value::int(-1, 2, true)],
                        AggValue::Scalar(-5),
                    )],
                ),
                &["pid"],
            ),
            agg(
                "sd",
                2,
                AggFunc::Stddev,
                vec![(
                    vec![],
                    AggValue::Stddev {
                        count: 2,
                        total: 3,
                        total_sq: 5,
                    },
                )],
            ),
        ];
        assert_eq!(
            one("p", &aggs),
            "# HELP dtrace_agg D aggregation @ = avg(value)\n\
             # TYPE dtrace_agg gauge\n\
             dtrace_agg{program=\"p\"} 3\n\
             # HELP dtrace_bytes_read D aggregation @bytesRead = sum(value)\n\
             # TYPE dtrace_bytes_read gauge\n\
             dtrace_bytes_read{program=\"p\",pid=\"-1\",key1=\"65535\"} -5\n\
             # HELP dtrace_sd D aggregation @sd = stddev(value)\n\
             # TYPE dtrace_sd gauge\n\
             dtrace_sd{program=\"p\"} 1\n"
        );
    }

    #[test]
    fn normalization_divides_as_printa() {
        let mut a = agg(
            "ns",
            0,
            AggFunc::Sum,
            vec![(vec![], AggValue::Scalar(12_345))],
        );
        a.normalize(1000);
        assert_eq!(
            one("p", &[a]),
            "# HELP dtrace_ns D aggregation @ns = sum(value), normalized by 1000\n\
             # TYPE dtrace_ns gauge\n\
             dtrace_ns{program=\"p\"} 12\n"
        );
    }

    #[test]
    fn escaping() {
        let a = agg(
            "x",
            0,
            AggFunc::Max,
            vec![(vec![Value::str("a\\b\"c\"\nd")], AggValue::Scalar(1))],
        );
        assert_eq!(
            one("say \"hi\"", &[a]),
            "# HELP dtrace_x D aggregation @x = max(value)\n\
             # TYPE dtrace_x gauge\n\
             dtrace_x{program=\"say \\\"hi\\\"\",key0=\"a\\\\b\\\"c\\\"\\nd\"} 1\n"
        );
        assert_eq!(escape_help("a\\b\nc\""), "a\\\\b\\nc\"");
        assert_eq!(bytes_text(b"abc\0\0"), "abc");
        assert_eq!(bytes_text(&[1, 2, 0xff]), "0x0102ff");
    }

    fn quantized(values: &[i64]) -> AggValue {
        let mut b = vec![0; QUANTIZE_BUCKETS];
        for &v in values {
            b[quantize_bucket(v)] += 1;
        }
        AggValue::Buckets(b)
    }

    #[test]
    fn quantize_with_negative_zero_and_positive_buckets() {
        let a = agg(
            "lat",
            0,
            AggFunc::Quantize,
            vec![(vec![], quantized(&[-5, -1, 0, 0, 1, 4, 7, 8]))],
        );
        let text = one("p", &[a]);
        assert!(text.starts_with(
            "# HELP dtrace_lat D aggregation @lat = quantize(value)\n\
             # TYPE dtrace_lat histogram\n"
        ));
        // Every bucket of the layout, +Inf last, then the count.
        assert_eq!(text.matches("dtrace_lat_bucket{").count(), QUANTIZE_BUCKETS);
        assert!(text.ends_with(
            "dtrace_lat_bucket{program=\"p\",le=\"+Inf\"} 8\n\
             dtrace_lat_count{program=\"p\"} 8\n"
        ));
        assert!(!text.contains("_sum"));
        let b = |le: &str, n: u32| format!("dtrace_lat_bucket{{program=\"p\",le=\"{le}\"}} {n}");
        assert_eq!(
            steps(&text),
            [
                b("-4611686018427387904", 0),
                // -5 is in the `-4` row, which holds -7..=-4.
                b("-4", 1),
                b("-1", 2),
                b("0", 4),
                b("1", 5),
                b("7", 7),
                b("15", 8),
                b("+Inf", 8),
            ]
        );
    }

    #[test]
    fn lquantize_buckets_and_normalization() {
        let f = AggFunc::Lquantize {
            base: 0,
            limit: 30,
            step: 10,
        };
        let mut b = vec![0; f.bucket_count()];
        for v in [-3, 0, 9, 10, 25, 30, 99] {
            b[lquantize_bucket(v, 0, 30, 10)] += 10;
        }
        // A key named `le` (a D variable may be) must not shadow the
        // bucket label.
        let mut a = named(
            agg(
                "l",
                0,
                f,
                vec![(vec![Value::int(7, 8, true)], AggValue::Buckets(b))],
            ),
            &["le"],
        );
        a.normalize(10);
        assert_eq!(
            one("p", &[a]),
            "# HELP dtrace_l D aggregation @l = lquantize(value, 0, 30, 10), normalized by 10\n\
             # TYPE dtrace_l histogram\n\
             dtrace_l_bucket{program=\"p\",key_le=\"7\",le=\"-1\"} 1\n\
             dtrace_l_bucket{program=\"p\",key_le=\"7\",le=\"9\"} 3\n\
             dtrace_l_bucket{program=\"p\",key_le=\"7\",le=\"19\"} 4\n\
             dtrace_l_bucket{program=\"p\",key_le=\"7\",le=\"29\"} 5\n\
             dtrace_l_bucket{program=\"p\",key_le=\"7\",le=\"+Inf\"} 7\n\
             dtrace_l_count{program=\"p\",key_le=\"7\"} 7\n"
        );
    }

    /// Every bound is the largest value of its bucket: it falls in the
    /// bucket, the next integer in the next one.
    #[test]
    fn upper_bounds_match_the_bucket_layouts() {
        let check = |func: AggFunc, bucket: &dyn Fn(i64) -> usize| {
            let bounds = upper_bounds(&func);
            assert_eq!(bounds.len(), func.bucket_count(), "{func:?}");
            assert_eq!(bounds.last(), Some(&None));
            for (i, b) in bounds.iter().enumerate().take(bounds.len() - 1) {
                let b = b.unwrap_or_else(|| panic!("{func:?} bucket {i} has no bound"));
                assert_eq!(bucket(b), i, "{func:?}: {b} in bucket {i}");
                assert_eq!(
                    bucket(b + 1),
                    i + 1,
                    "{func:?}: {} in bucket {}",
                    b + 1,
                    i + 1
                );
            }
        };
        check(AggFunc::Quantize, &quantize_bucket);
        for (base, limit, step) in [(0, 10, 1), (-10, 100, 10), (0, 100, 30), (5, 6, 1)] {
            check(AggFunc::Lquantize { base, limit, step }, &|v| {
                lquantize_bucket(v, base, limit, step)
            });
        }
        for (factor, low, high, nsteps) in
            [(10, 0, 2, 10), (2, 0, 3, 4), (10, 1, 2, 20), (10, 1, 1, 10)]
        {
            let layout = LlquantizeLayout::new(factor, low, high, nsteps);
            check(
                AggFunc::Llquantize {
                    factor,
                    low,
                    high,
                    nsteps,
                },
                &|v| layout.bucket(v),
            );
        }
        assert!(upper_bounds(&AggFunc::Count).is_empty());
    }

    #[test]
    fn llquantize_le() {
        let f = AggFunc::Llquantize {
            factor: 10,
            low: 1,
            high: 1,
            nsteps: 10,
        };
        let layout = LlquantizeLayout::new(10, 1, 1, 10);
        let mut b = vec![0; layout.bucket_count()];
        for v in [-25, 3, 12] {
            b[layout.bucket(v)] += 1;
        }
        let text = one(
            "p",
            &[agg("ll", 0, f, vec![(vec![], AggValue::Buckets(b))])],
        );
        let bucket =
            |le: &str, n: u32| format!("dtrace_ll_bucket{{program=\"p\",le=\"{le}\"}} {n}");
        assert_eq!(
            steps(&text),
            [
                bucket("-100", 0),
                bucket("-20", 1),
                bucket("9", 2),
                bucket("19", 3),
                bucket("+Inf", 3),
            ]
        );
    }

    #[test]
    fn key_label_names() {
        let labels = |names: &[&str], arity| {
            let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            key_labels(&names, arity)
        };
        assert_eq!(
            labels(&["zonename", "probefunc"], 2),
            ["zonename", "probefunc"]
        );
        // Reserved, invalid and empty names.
        assert_eq!(
            labels(&["program", "le", "1st", "__x", "a-b.c", ""], 6),
            [
                "key_program",
                "key_le",
                "key_1st",
                "key___x",
                "a_b_c",
                "key5"
            ]
        );
        // Repeats are numbered, skipping names already taken.
        assert_eq!(
            labels(&["arg0", "arg0", "arg0_2", "arg0"], 4),
            ["arg0", "arg0_2", "arg0_2_2", "arg0_3"]
        );
        // A fallback that meets a real name is numbered too.
        assert_eq!(labels(&["key1"], 2), ["key1", "key1_2"]);
        assert!(labels(&["x"], 0).is_empty());
    }

    #[test]
    fn names_and_collisions() {
        assert_eq!(snake_case("bytesRead"), "bytes_read");
        assert_eq!(snake_case("HTTPReqs"), "http_reqs");
        assert_eq!(snake_case("a1B"), "a1_b");
        assert_eq!(snake_case("already_snake"), "already_snake");
        let count = |name: &str, id| {
            agg(
                name,
                id,
                AggFunc::Count,
                vec![(vec![], AggValue::Scalar(1))],
            )
        };
        let sum = |name: &str, id| agg(name, id, AggFunc::Sum, vec![(vec![], AggValue::Scalar(2))]);
        // @ and @agg in one program: the second gets the function's name.
        let a = [count("", 0), count("agg", 1)];
        let text = one("p", &a);
        assert!(
            text.contains("\ndtrace_agg_total{program=\"p\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("\ndtrace_agg_count_total{program=\"p\"} 1\n"),
            "{text}"
        );
        // The same name in two programs: one family, two series; with
        // different functions: two families.
        let p = [count("x", 0), count("calls_total", 1)];
        let q = [count("x", 0), sum("calls", 1)];
        let text = render(&[
            MetricSource {
                program: "q",
                aggregations: &q,
            },
            MetricSource {
                program: "p",
                aggregations: &p,
            },
        ]);
        assert_eq!(
            text,
            "# HELP dtrace_calls D aggregation @calls = sum(value)\n\
             # TYPE dtrace_calls gauge\n\
             dtrace_calls{program=\"q\"} 2\n\
             # HELP dtrace_calls_total D aggregation @calls_total = count()\n\
             # TYPE dtrace_calls_total counter\n\
             dtrace_calls_total{program=\"p\"} 1\n\
             # HELP dtrace_x_total D aggregation @x = count()\n\
             # TYPE dtrace_x_total counter\n\
             dtrace_x_total{program=\"p\"} 1\n\
             dtrace_x_total{program=\"q\"} 1\n"
        );
        // A gauge named like a histogram's samples moves aside.
        let h = [
            agg("lat", 0, AggFunc::Quantize, vec![(vec![], quantized(&[1]))]),
            sum("lat_count", 1),
        ];
        let text = one("p", &h);
        assert!(
            text.contains("# TYPE dtrace_lat_count_sum gauge\n"),
            "{text}"
        );
        // Empty aggregations write nothing, and nothing at all is empty.
        assert_eq!(one("p", &[agg("e", 0, AggFunc::Count, vec![])]), "");
        assert_eq!(render(&[]), "");
    }

    fn get(addr: SocketAddr, method: &str, path: &str) -> (String, String) {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut resp = String::new();
        s.read_to_string(&mut resp).expect("read");
        let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
        (head.to_string(), body.to_string())
    }

    #[test]
    fn serves_metrics_index_and_404() {
        let server = serve("127.0.0.1:0", || "x_total 1\n".to_string()).expect("serve");
        let addr = server.local_addr();
        assert_ne!(addr.port(), 0);
        let (head, body) = get(addr, "GET", "/metrics");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
            "{head}"
        );
        assert_eq!(body, "x_total 1\n");
        let (head, body) = get(addr, "GET", "/");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(body.contains("/metrics"), "{body}");
        let (head, _) = get(addr, "GET", "/nope");
        assert!(head.starts_with("HTTP/1.1 404"), "{head}");
        let (head, _) = get(addr, "POST", "/metrics");
        assert!(head.starts_with("HTTP/1.1 405"), "{head}");
        drop(server);
        // tiny_http's accept thread closes the listener once it sees the
        // stop flag, a moment after the drop.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::net::TcpStream::connect(addr).is_ok() {
            assert!(std::time::Instant::now() < deadline, "still listening");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    #[test]
    fn address_errors_name_the_address() {
        let e = serve("no-port-here", String::new).expect_err("bad address");
        assert!(matches!(e, MetricsError::Address { .. }), "{e:?}");
        assert!(e.to_string().contains("'no-port-here'"), "{e}");
        let first = serve("127.0.0.1:0", String::new).expect("serve");
        let taken = first.local_addr().to_string();
        let e = serve(&taken, String::new).expect_err("port in use");
        assert_eq!(
            e.to_string(),
            format!("cannot listen for metrics on {taken}: Address already in use")
        );
    }
}
