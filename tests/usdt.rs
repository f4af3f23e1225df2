//! The `usdt` provider: a C program's SystemTap SDT probes (from
//! `<sys/sdt.h>`, with is-enabled semaphores), traced with `-c`.

mod common;

use common::{dtrace, root, text};
use std::path::PathBuf;
use std::process::Command;

/// `tick` fires (guarded by its semaphore) once per loop turn with
/// (i, i * 1000, "label"); `hello__world` fires once with -7. The program
/// prints how many turns saw the semaphore raised.
const PROGRAM: &str = r#"
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
__extension__ unsigned short lumentest_tick_semaphore __attribute__((unused)) __attribute__((section(".probes")));
__extension__ unsigned short lumentest_hello__world_semaphore __attribute__((unused)) __attribute__((section(".probes")));
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 5;
    long seen = 0;
    const char *label = "label";
    puts(label); /* its page is touched: probes cannot fault pages in */
    for (int i = 0; i < n; i++) {
        if (lumentest_tick_semaphore) {
            seen++;
            STAP_PROBE3(lumentest, tick, i, (long)i * 1000, label);
        }
    }
    STAP_PROBE1(lumentest, hello__world, -7);
    printf("seen %ld\n", seen);
    return 0;
}
"#;

fn program() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    // gcc fails without <sys/sdt.h> (Debian's systemtap-sdt-dev).
    BIN.get_or_init(|| common::compile_c("sdtprog", PROGRAM, &["-O1"]))
        .clone()
}

#[test]
fn each_probe_fires_as_often_as_the_program_fired_it() {
    if !root("each_probe_fires_as_often_as_the_program_fired_it") {
        return;
    }
    let cmd = format!("{} 777", program().display());
    let out = dtrace(&[
        "-q",
        "-n",
        "lumentest$target:::tick { @ticks = count(); @sum = sum(args[1]); \
         @last = max(args[0]); } \
         lumentest$target:::tick /args[0] == 3/ { printf(\"%s %s %s\\n\", probemod, probefunc, \
         copyinstr(arg2)); } \
         lumentest$target:::hello-world { printf(\"hello %d\\n\", args[0]); }",
        "-c",
        &cmd,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    // The program saw its semaphore raised on every turn.
    assert!(
        s.starts_with("seen 777\n") || s.contains("seen 777\n"),
        "{s}"
    );
    assert!(s.contains("sdtprog main label\n"), "{s}");
    assert!(s.contains("hello -7\n"), "{s}");
    let sum: i64 = (0..777).map(|i| i * 1000).sum();
    assert!(
        s.ends_with(&format!("\n {:>16}\n {:>16}\n {:>16}\n", 777, sum, 776)),
        "{s}"
    );
}

#[test]
fn semaphores_are_raised_only_while_traced() {
    if !root("semaphores_are_raised_only_while_traced") {
        return;
    }
    // Untraced: the guarded probe never runs its argument code.
    let out = Command::new(program()).arg("10").output().expect("run");
    assert_eq!(text(&out.stdout), "label\nseen 0\n");
    // Tracing another probe of the program leaves tick's semaphore down.
    let cmd = format!("{} 10", program().display());
    let out = dtrace(&[
        "-q",
        "-n",
        "lumentest$target:::hello-world { printf(\"hello\\n\"); }",
        "-c",
        &cmd,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("seen 0\n"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stdout).contains("hello\n"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn usdt_probes_are_listed_with_their_types() {
    if !root("usdt_probes_are_listed_with_their_types") {
        return;
    }
    let cmd = format!("{} 1", program().display());
    let out = dtrace(&["-l", "-v", "-n", "lumentest*:::tick", "-c", &cmd]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let row = s.lines().nth(1).unwrap_or("");
    let words: Vec<&str> = row.split_whitespace().collect();
    assert!(words.len() == 5 && words[1].starts_with("lumentest"), "{s}");
    assert_eq!(&words[2..], ["sdtprog", "main", "tick"], "{s}");
    assert!(s.contains("args[0]: int32_t"), "{s}");
    assert!(s.contains("args[1]: int64_t"), "{s}");
    assert!(s.contains("args[2]: uint64_t"), "{s}");
}

#[test]
fn the_lumen_provider_is_listed_from_the_lumen_binary() {
    if !root("the_lumen_provider_is_listed_from_the_lumen_binary") {
        return;
    }
    let out = dtrace(&["-l", "-v", "-n", "lumen*:::"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let names: Vec<String> = s
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|p| p.starts_with("lumen"))
        })
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            format!("{}:{}", w[2], w[w.len() - 1])
        })
        .collect();
    assert_eq!(names, ["lumen:start", "lumen:exit"], "{s}");
    // Typed from Lumen's catalogue (probes::catalogue()).
    assert!(s.contains("args[0]: int32_t"), "{s}");
    // Every probe, unfiltered, includes them.
    let all = text(&dtrace(&["-l"]).stdout);
    let lumen_rows = all
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|p| p.starts_with("lumen"))
        })
        .count();
    assert_eq!(lumen_rows, 2, "{all}");
}

#[test]
fn another_lumen_is_traced_through_its_own_probes() {
    if !root("another_lumen_is_traced_through_its_own_probes") {
        return;
    }
    // A running tracer, grabbed with -p: its lumen:::exit fires with the
    // status it exits with.
    let mut other = Command::new(common::LUMEN)
        // Long enough for the tracer below to start and attach on a
        // loaded machine (a debug build reads the symbols of a 100 MB
        // binary to name the probe's function).
        .args(["dtrace", "-q", "-n", "tick-4s { exit(4); }"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start a lumen");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let pid = other.id().to_string();
    let script = format!("lumen{pid}:::exit {{ printf(\"exit %d\\n\", args[0]); }}");
    let out = dtrace(&["-q", "-n", &script, "-p", &pid]);
    let _ = other.wait();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "exit 4\n\n");
}

#[test]
fn bpftrace_lists_the_lumen_binarys_probes() {
    if !root("bpftrace_lists_the_lumen_binarys_probes") {
        return;
    }
    let Ok(out) = Command::new("bpftrace")
        .args(["-l", &format!("usdt:{}:*", common::LUMEN)])
        .output()
    else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "bpftrace is required under CI=true"
        );
        eprintln!("skipping: bpftrace is not installed");
        return;
    };
    let s = text(&out.stdout);
    // The lumen provider's probes, and the zone provider's the zone tools fire.
    let mut probes: Vec<&str> = s
        .lines()
        .filter(|l| l.contains(":lumen:"))
        .map(|l| l.rsplit(':').next().unwrap_or(""))
        .collect();
    probes.sort();
    assert_eq!(probes, ["exit", "start"], "{s}{}", text(&out.stderr));
    assert!(s.lines().any(|l| l.ends_with(":zone:boot")), "{s}");
}

#[test]
fn a_lumen_run_with_dash_c_fires_start_and_exit() {
    if !root("a_lumen_run_with_dash_c_fires_start_and_exit") {
        return;
    }
    let cmd = format!("{} dtrace -q -n BEGIN{{exit(3);}}", common::LUMEN);
    let out = dtrace(&[
        "-q",
        "-n",
        "lumen$target:::start { printf(\"start %d\\n\", args[0]); } \
         lumen$target:::exit { printf(\"exit %d\\n\", args[0]); }",
        "-c",
        &cmd,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Three arguments after `dtrace` (-q -n BEGIN{exit(3);}); it exits 3.
    let s = text(&out.stdout);
    assert!(s.contains("start 3\n"), "{s}");
    assert!(s.contains("exit 3\n"), "{s}");
}

/// One probe, `twosite:::hit`, fired from two places of one function
/// that keep its argument in different places: a register at the first
/// (the loop's counter), a constant at the second. Each site fires `n`
/// times. (Sites in different functions are different probes; sites in
/// one function are one probe, as the VMM's `vmm:::exit-entry` is.)
const TWO_SITES: &str = r#"
#include <sys/sdt.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 5;
    for (int i = 0; i < n; i++) {
        STAP_PROBE1(twosite, hit, 1000 + i);
    }
    for (int i = 0; i < n; i++) {
        STAP_PROBE1(twosite, hit, 7);
    }
    return 0;
}
"#;

#[test]
fn a_probe_whose_sites_keep_arguments_apart_is_traced_at_every_site() {
    if !root("a_probe_whose_sites_keep_arguments_apart_is_traced_at_every_site") {
        return;
    }
    let bin = common::compile_c("twosite", TWO_SITES, &["-O1"]);
    // The two sites really do keep the argument apart: the notes say so.
    let notes = Command::new("readelf")
        .args(["-n"])
        .arg(&bin)
        .output()
        .expect("readelf");
    let notes = text(&notes.stdout);
    let arg_specs: Vec<&str> = notes
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Arguments: "))
        .collect();
    assert_eq!(arg_specs.len(), 2, "{notes}");
    assert_ne!(arg_specs[0], arg_specs[1], "{notes}");
    let cmd = format!("{} 300", bin.display());
    let out = dtrace(&[
        "-q",
        "-n",
        "twosite$target:::hit { @all = count(); @[arg0 == 7 ? \"constant\" : \"counter\"] = count(); @sum = sum(arg0 == 7 ? 0 : arg0 - 1000); }",
        "-c",
        &cmd,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    // Every firing of both sites, each read where its site keeps it.
    let sum: i64 = (0..300).sum();
    let rows: Vec<Vec<&str>> = s.lines().map(|l| l.split_whitespace().collect()).collect();
    assert!(rows.contains(&vec!["600"]), "{s}");
    assert!(rows.contains(&vec!["counter", "300"]), "{s}");
    assert!(rows.contains(&vec!["constant", "300"]), "{s}");
    // The counter site's values were read from its register, not from
    // where the constant site keeps its argument.
    assert!(rows.contains(&vec![sum.to_string().as_str()]), "{s}");
    let warned = text(&out.stderr);
    assert!(!warned.contains("not traced"), "{warned}");
}

/// A provider file with typed arguments, as a C project keeps one for
/// `dtrace -h` and `dtrace -G`.
const PROVIDER_D: &str = "\
provider lumenapp {
    probe request(int id, char *method);
    probe query__done(uint64_t latency, string table);
    probe tick();
};
";

/// Fires request and tick every turn, and query-done only while its
/// is-enabled check says someone traces it; prints how many turns did.
const PROVIDER_APP: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include "provider.h"
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10;
    const char *method = "GET", *table = "users";
    printf("%s %s\n", method, table); /* touch their page: probes cannot fault it in */
    int enabled = 0;
    for (int i = 0; i < n; i++) {
        LUMENAPP_REQUEST(i, method);
        if (LUMENAPP_QUERY_DONE_ENABLED()) {
            enabled++;
            LUMENAPP_QUERY_DONE((uint64_t)i * 1000, table);
        }
        LUMENAPP_TICK();
    }
    printf("enabled %d\n", enabled);
    return 0;
}
"#;

/// Run `cmd` in `dir`, failing the test with its output if it fails.
fn run_in(dir: &std::path::Path, cmd: &mut Command) -> std::process::Output {
    let out = cmd.current_dir(dir).output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

#[test]
fn a_c_program_built_with_dash_h_and_dash_g_is_traced_exactly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("provider.d"), PROVIDER_D).unwrap();
    std::fs::write(d.join("app.c"), PROVIDER_APP).unwrap();
    let lumen = || {
        let mut c = Command::new(common::LUMEN);
        c.arg("dtrace");
        c
    };
    // -h writes provider.h next to provider.d; -G checks app.o and writes provider.o.
    run_in(d, lumen().args(["-h", "-s", "provider.d"]));
    let header = std::fs::read_to_string(d.join("provider.h")).unwrap();
    assert!(
        header.contains("#define\tLUMENAPP_QUERY_DONE_ENABLED()"),
        "{header}"
    );
    run_in(d, Command::new("gcc").args(["-O2", "-c", "app.c"]));
    run_in(d, lumen().args(["-G", "-s", "provider.d", "app.o"]));
    run_in(
        d,
        Command::new("gcc").args(["-o", "app", "app.o", "provider.o"]),
    );
    // Untraced, the is-enabled check is false.
    let out = run_in(d, Command::new(d.join("app")).arg("5"));
    assert_eq!(text(&out.stdout), "GET users\nenabled 0\n");
    if !root("a_c_program_built_with_dash_h_and_dash_g_is_traced_exactly") {
        return;
    }
    let cmd = format!("{} 250", d.join("app").display());
    let out = dtrace(&[
        "-q",
        "-n",
        "lumenapp$target:::request { @r[copyinstr(arg1)] = count(); @ids = sum(arg0); } \
         lumenapp$target:::query-done { @q[copyinstr(arg1)] = sum(arg0); } \
         lumenapp$target:::tick { @t = count(); } \
         END { printa(\"%s %@d\\n\", @r); printa(\"%@d\\n\", @ids); \
               printa(\"%s %@d\\n\", @q); printa(\"ticks %@d\\n\", @t); }",
        "-c",
        &cmd,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let ids: u64 = (0..250).sum();
    let latency: u64 = (0..250u64).map(|i| i * 1000).sum();
    assert_eq!(
        text(&out.stdout),
        format!("GET users\nenabled 250\nGET 250\n{ids}\nusers {latency}\nticks 250\n\n")
    );
}

#[test]
fn dash_g_refuses_an_object_firing_an_undeclared_probe() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(
        d.join("provider.d"),
        "provider lumenapp { probe request(int id, char *method); };\n",
    )
    .unwrap();
    std::fs::write(
        d.join("rogue.c"),
        "#include <sys/sdt.h>\nint main(void) { STAP_PROBE1(lumenapp, stray, 1); return 0; }\n",
    )
    .unwrap();
    run_in(d, Command::new("gcc").args(["-c", "rogue.c"]));
    let out = Command::new(common::LUMEN)
        .args(["dtrace", "-G", "-s", "provider.d", "rogue.o"])
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("probe lumenapp:::stray is not declared by provider lumenapp"),
        "{}",
        text(&out.stderr)
    );
    assert!(!d.join("provider.o").exists());
    // Modes are exclusive, and need a program.
    let out = Command::new(common::LUMEN)
        .args(["dtrace", "-h", "-G", "-s", "provider.d"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr)
        .starts_with("dtrace: only one of the [-GhlV] options can be specified at a time\n"));
}
