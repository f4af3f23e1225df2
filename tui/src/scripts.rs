//! The default panels' D sources. They live as `.d` files in `tui/panels/`
//! so that users can read them, run them with `lumen dtrace -s`, and
//! start their own from them; `e` in a panel shows the one it runs.

/// The Zones panel: CPU samples and system call latency per zone.
pub const ZONES: &str = include_str!("../panels/zones.d");

/// The VMs panel: KVM exits by reason per VM zone, and how long they took.
pub const VMS: &str = include_str!("../panels/vms.d");

/// The Network panel: traffic and drops per zone and vNIC, TCP connections per zone.
pub const NETWORK: &str = include_str!("../panels/network.d");

/// The Storage panel: block I/O per zone and device (space per dataset
/// comes from the pool's listing, not from D).
pub const STORAGE: &str = include_str!("../panels/storage.d");

/// The Processes panel: CPU samples per process.
pub const PROCS: &str = include_str!("../panels/procs.d");

/// The D console's starting script (not run until the user runs it).
pub const CONSOLE: &str = include_str!("../panels/console.d");

/// The rate of the first `profile-N` probe named in `source` (outside
/// comments), in hertz: what CPU% divides samples by. 97 (the panels'
/// rate) if there is none.
pub fn profile_hz(source: &str) -> f64 {
    without_comments(source)
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '{' | '/' | ':'))
        .find_map(|word| {
            let t = engine::providers::profile::parse_timer(word)?;
            // profile-97 is a period of 10309278 ns: round the rate back.
            (t.kind == engine::providers::profile::TimerKind::Profile && t.period_ns > 0)
                .then(|| (1e11 / t.period_ns as f64).round() / 100.0)
        })
        .unwrap_or(97.0)
}

/// `source` with its `/* */` and `//` comments blanked out.
fn without_comments(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |end| &after[end + 2..]);
            out.push(' ');
        } else if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |end| &after[end..]);
        } else {
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            rest = chars.as_str();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sampling_rate_comes_from_the_script() {
        assert_eq!(profile_hz(ZONES), 97.0);
        assert_eq!(profile_hz("profile:::profile-199 { }"), 199.0);
        assert_eq!(profile_hz("profile-1ms\n{ }"), 1000.0);
        assert_eq!(profile_hz("tick-1s { }"), 97.0);
        assert_eq!(
            profile_hz("/* was profile-97 */ profile-499 { }"),
            499.0,
            "comments do not count"
        );
    }
}
