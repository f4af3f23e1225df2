//! Translated `args[]` of the stable providers — `bufinfo_t`/`devinfo_t`
//! of io, `lwpsinfo_t`/`psinfo_t` of proc and sched — checked against
//! what known workloads do.

mod common;

use common::{dtrace, root, text};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::Command;

fn program(name: &str, source: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lumen-stable-args-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let src = dir.join(format!("{name}.c"));
    let bin = dir.join(name);
    std::fs::write(&src, source).expect("write source");
    let st = Command::new("gcc")
        .args(["-O1", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()
        .expect("gcc");
    assert!(st.success(), "gcc failed for {name}");
    bin
}

#[test]
fn io_start_args_describe_the_request() {
    if !root("io_start_args_describe_the_request") {
        return;
    }
    // Five direct 28 KiB writes reach the block layer as they are. The
    // block layer may issue them from a kernel thread, so they are picked
    // out by their unusual size rather than by pid.
    let file =
        std::path::PathBuf::from("/var/tmp").join(format!("lumen-io-{}", std::process::id()));
    let cmd = format!(
        "dd if=/dev/zero of={} bs=28k count=5 oflag=direct status=none",
        file.display()
    );
    let out = dtrace(&[
        "-q",
        "-n",
        "io:::start /args[0]->b_bcount == 28672 && args[0]->b_flags == 0x100/ { \
         @n = count(); @dev[args[1]->dev_major] = count(); @blk = min(args[0]->b_blkno); }",
        "-c",
        &cmd,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let dev = std::fs::metadata(&file).expect("file written").dev();
    let _ = std::fs::remove_file(&file);
    let s = text(&out.stdout);
    let lines: Vec<Vec<i64>> = s
        .lines()
        .map(|l| {
            l.split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect()
        })
        .filter(|v: &Vec<i64>| !v.is_empty())
        .collect();
    // @n, then @dev (the file's disk: whole disk or partition share the
    // major), then @blk: a real sector.
    assert_eq!(lines[0], vec![5], "{s}");
    assert_eq!(lines[1], vec![libc::major(dev) as i64, 5], "{s}");
    assert!(lines[2][0] > 0, "{s}");
}

#[test]
fn signal_send_names_the_receiver() {
    if !root("signal_send_names_the_receiver") {
        return;
    }
    let bin = program(
        "sigwl",
        "#include <signal.h>\n#include <unistd.h>\nstatic void h(int s) { (void)s; }\nint main(void) { signal(SIGUSR1, h); for (int i = 0; i < 3; i++) raise(SIGUSR1); return 0; }\n",
    );
    let out = dtrace(&[
        "-q",
        "-n",
        "proc:::signal-send /args[1]->pr_pid == $target/ { \
         printf(\"%s %d %d\\n\", args[1]->pr_fname, args[0]->pr_lwpid == $target, args[2]); }",
        "-c",
        bin.to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "sigwl 1 10\nsigwl 1 10\nsigwl 1 10\n\n");
}

#[test]
fn wakeup_names_the_woken_thread() {
    if !root("wakeup_names_the_woken_thread") {
        return;
    }
    let bin = program(
        "napper",
        "#include <time.h>\n#include <unistd.h>\n#include <sys/syscall.h>\nint main(void) { struct timespec t = {0, 2000000}; for (int i = 0; i < 4; i++) syscall(SYS_nanosleep, &t, 0); return 0; }\n",
    );
    let out = dtrace(&[
        "-q",
        "-n",
        "sched:::wakeup /args[1]->pr_fname == \"napper\"/ { \
         @[args[0]->pr_lwpid == $target, args[1]->pr_pid == $target] = count(); }",
        "-c",
        bin.to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let counts: Vec<Vec<i64>> = text(&out.stdout)
        .lines()
        .map(|l| {
            l.split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect()
        })
        .filter(|v: &Vec<i64>| v.len() == 3)
        .collect();
    // Each timed sleep ends in a wakeup of that thread (exec may add one).
    assert_eq!(counts.len(), 1, "{}", text(&out.stdout));
    assert_eq!(&counts[0][..2], &[1, 1]);
    assert!(counts[0][2] >= 4, "{}", text(&out.stdout));
}

#[test]
fn a_translated_argument_is_only_a_view() {
    if !root("a_translated_argument_is_only_a_view") {
        return;
    }
    let out = dtrace(&["-n", "io:::start { trace(args[0]); }"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("only its members can be used"),
        "{}",
        text(&out.stderr)
    );
    let out = dtrace(&["-n", "io:::start { trace(args[2]->fi_name); }"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("this member of args[2] is not available for io:::start"),
        "{}",
        text(&out.stderr)
    );
}
