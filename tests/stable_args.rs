//! Translated `args[]` of the stable providers — `bufinfo_t`/`devinfo_t`
//! of io, `lwpsinfo_t`/`psinfo_t` of proc and sched — checked against
//! what known workloads do.

mod common;

use common::{dtrace, root, text};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::Command;

fn program(name: &str, source: &str) -> PathBuf {
    common::compile_c(name, source, &["-O1"])
}

/// A loop device over a scratch file, detached on drop.
struct Loop(String);

impl Loop {
    fn new(image: &std::path::Path) -> Loop {
        let f = std::fs::File::create(image).expect("image");
        f.set_len(4 << 20).expect("size image");
        let out = Command::new("losetup")
            .args(["-f", "--show"])
            .arg(image)
            .output()
            .expect("losetup");
        assert!(out.status.success(), "losetup: {}", text(&out.stderr));
        Loop(text(&out.stdout).trim().to_string())
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.0]).status();
    }
}

#[test]
fn io_start_args_describe_the_request() {
    if !root("io_start_args_describe_the_request") {
        return;
    }
    // Five direct 28 KiB writes to a loop device of our own: nothing else
    // issues I/O to it, so every request is ours, as dd made it.
    let image =
        std::path::PathBuf::from("/var/tmp").join(format!("lumen-io-{}.img", std::process::id()));
    let lo = Loop::new(&image);
    let minor = std::fs::metadata(&lo.0).expect("loop device").rdev();
    let script = format!(
        "io:::start /args[1]->dev_major == {} && args[1]->dev_minor == {}/ {{ \
         printf(\"%d %d %d %x\\n\", args[0]->b_bcount, args[0]->b_blkno, \
         args[0]->b_lblkno, args[0]->b_flags); }}",
        libc::major(minor),
        libc::minor(minor)
    );
    let cmd = format!(
        "dd if=/dev/zero of={} bs=28k count=5 oflag=direct status=none",
        lo.0
    );
    let out = dtrace(&["-q", "-n", &script, "-c", &cmd]);
    drop(lo);
    let _ = std::fs::remove_file(&image);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Sizes in bytes, block numbers in 512-byte sectors, B_WRITE.
    assert_eq!(
        text(&out.stdout),
        "28672 0 0 100\n28672 56 56 100\n28672 112 112 100\n28672 168 168 100\n28672 224 224 100\n\n"
    );
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

#[test]
fn proc_create_lwp_create_and_exit_reasons() {
    if !root("proc_create_lwp_create_and_exit_reasons") {
        return;
    }
    // Two threads, then three children: one exits 3, two are killed.
    let bin = program(
        "lifecycle",
        "#include <pthread.h>\n#include <unistd.h>\n#include <sys/wait.h>\n#include <signal.h>\n\
         static void *f(void *a) { return a; }\n\
         int main(void) {\n\
           pthread_t t[2]; for (int i = 0; i < 2; i++) pthread_create(&t[i], 0, f, 0);\n\
           for (int i = 0; i < 2; i++) pthread_join(t[i], 0);\n\
           pid_t p = fork(); if (p == 0) _exit(3); waitpid(p, 0, 0);\n\
           p = fork(); if (p == 0) { pause(); _exit(0); } kill(p, SIGKILL); waitpid(p, 0, 0);\n\
           p = fork(); if (p == 0) { pause(); _exit(0); } kill(p, SIGTERM); waitpid(p, 0, 0);\n\
           return 0;\n\
         }\n",
    );
    let out = dtrace(&[
        "-q",
        "-n",
        "proc:::create /pid == $target/ { printf(\"create %s %d\\n\", args[0]->pr_fname, \
         args[0]->pr_pid > pid); } \
         proc:::lwp-create /pid == $target/ { printf(\"lwp-create %s %d\\n\", args[1]->pr_fname, \
         args[0]->pr_lwpid > pid); } \
         proc:::exit /progenyof($target)/ { printf(\"exit %d %d\\n\", args[0], pid == $target); }",
        "-c",
        bin.to_str().expect("path"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // CLD_EXITED 1, CLD_KILLED 2 (the child's own exit code 3 is not the reason).
    assert_eq!(
        text(&out.stdout),
        "lwp-create lifecycle 1\nlwp-create lifecycle 1\n\
         create lifecycle 1\nexit 1 0\n\
         create lifecycle 1\nexit 2 0\n\
         create lifecycle 1\nexit 2 0\n\
         exit 1 1\n\n"
    );
}
