//! The `cpc` provider on the live kernel: probes fire every COUNT events of
//! a perf counter, listed from what this machine's perf exposes.

mod common;

use common::{compile_c, dtrace, root, text};

/// Touches N fresh anonymous pages: at least N user-mode page faults.
const TOUCH: &str = r#"
#include <stdlib.h>
#include <sys/mman.h>
int main(int argc, char **argv) {
    long n = atol(argv[1]);
    volatile char *p = mmap(0, n * 4096, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    for (long i = 0; i < n; i++) p[i * 4096] = 1;
    return 0;
}
"#;

fn count_of(stdout: &[u8]) -> u64 {
    let out = text(stdout);
    out.trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a count: {out:?}"))
}

#[test]
fn page_faults_user_1_sees_every_fresh_page() {
    if !root("cpc page faults") {
        return;
    }
    let bin = compile_c("cpc_touch", TOUCH, &["-O2"]);
    for pages in [500u64, 3000] {
        let cmd = format!("{} {pages}", bin.display());
        let out = dtrace(&[
            "-q",
            "-n",
            "cpc:::page_faults-user-1 /pid == $target/ { @ = count(); } \
             END { printa(\"%@d\\n\", @); }",
            "-c",
            &cmd,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let n = count_of(&out.stdout);
        assert!(n >= pages, "{n} page faults seen for {pages} fresh pages");
        // The program's own start-up faults a few hundred more at most.
        assert!(n < pages + 2000, "{n} page faults for {pages} pages");
    }
}

#[test]
fn kernel_mode_counts_no_user_faults_and_arg1_is_the_user_pc() {
    if !root("cpc modes") {
        return;
    }
    let bin = compile_c("cpc_touch_modes", TOUCH, &["-O2"]);
    let cmd = format!("{} 400", bin.display());
    let out = dtrace(&[
        "-q",
        "-n",
        "cpc:::page_faults-kernel-1 /pid == $target/ { @k = count(); } \
         cpc:::page_faults-user-1 /pid == $target && arg1 != 0 && arg0 == 0/ { @u = count(); } \
         END { printa(\"%@d \", @k); printa(\"%@d\\n\", @u); }",
        "-c",
        &cmd,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    let nums: Vec<u64> = line
        .split_whitespace()
        .map(|w| w.parse().expect("count"))
        .collect();
    // printa of an empty aggregation prints nothing: no kernel-mode
    // faults at all leaves only the user count.
    let user = *nums.last().expect("user count");
    assert!(user >= 400, "{line}");
    if nums.len() == 2 {
        assert!(nums[0] < user, "kernel-mode faults {line}");
    }
}

#[test]
fn listing_shows_the_software_counters_in_three_modes() {
    let out = dtrace(&["-l", "-P", "cpc"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    for name in [
        "cpu_clock-all-10000000",
        "page_faults-user-1000",
        "context_switches-kernel-1000",
        "major_faults-all-1000",
    ] {
        assert!(listing.contains(name), "{name} missing from\n{listing}");
    }
    // Any count is made on demand, and listed once made.
    let out = dtrace(&["-l", "-n", "cpc:::page_faults-user-1"]);
    assert!(text(&out.stdout).contains("page_faults-user-1\n"));
}

#[test]
fn bad_counts_and_unknown_events_are_refused() {
    let out = dtrace(&["-n", "cpc:::cpu_clock-all-1000 { }"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("smallest count allowed"),
        "{}",
        text(&out.stderr)
    );
    let out = dtrace(&["-n", "cpc:::page_faults-sometimes-1 { }"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("does not match any probes"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn cpu_clock_fires_on_a_busy_cpu() {
    if !root("cpc cpu_clock") {
        return;
    }
    let bin = compile_c("cpc_touch_clock", TOUCH, &["-O2"]);
    // 1 ms of CPU time per firing: touching 80 MB takes well over 1 ms.
    let out = dtrace(&[
        "-q",
        "-n",
        "cpc:::cpu_clock-user-1000000 /pid == $target/ { @ = count(); } \
         END { printa(\"%@d\\n\", @); }",
        "-c",
        &format!("{} 20000", bin.display()),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(count_of(&out.stdout) > 0);
}
