//! End-to-end tests of `lumen dtrace`: the built binary, its output and exit status.
//!
//! Tests that need kernel probes (root and tracefs) skip with a note when
//! they are missing, except under `CI=true`, where they fail.

mod common;

use common::{dtrace, kernel_probes, text, LUMEN};
use std::path::Path;
use std::process::Command;

const HEADER: &str = "   ID   PROVIDER            MODULE                          FUNCTION NAME\n";

#[test]
fn no_arguments_is_a_usage_error() {
    let out = dtrace(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("Usage: dtrace [-32|-64]"));
    assert!(out.stdout.is_empty());
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let out = dtrace(&["-k", "-n", "BEGIN"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("dtrace: invalid option -- 'k'\nUsage: dtrace"));
}

#[test]
fn missing_flag_argument_is_a_usage_error() {
    let out = dtrace(&["-q", "-n"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("dtrace: option requires an argument -- 'n'\n"));
}

#[test]
fn bad_option_name() {
    let out = dtrace(&["-x", "nosuchopt", "-n", "BEGIN"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "dtrace: failed to set -x nosuchopt: Invalid option name\n"
    );
}

#[test]
fn bad_option_value() {
    let out = dtrace(&["-xbufsize=12q", "-n", "BEGIN"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "dtrace: failed to set -x bufsize: Invalid value for specified option\n"
    );
    // A flag takes no value; a boolean takes yes/no words and numbers.
    let out = dtrace(&["-x", "errtags=1", "-n", "BEGIN"]);
    assert_eq!(
        text(&out.stderr),
        "dtrace: failed to set -x errtags: Invalid value for specified option\n"
    );
    let out = dtrace(&["-x", "quiet=yes", "-n", "BEGIN { exit(0); }"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    // quiet=no leaves it off: the matched-probes notice is printed.
    let out = dtrace(&["-x", "quiet=no", "-n", "BEGIN { exit(0); }"]);
    assert!(
        text(&out.stderr).contains("matched 1 probe"),
        "{}",
        text(&out.stderr)
    );
    for (option, message) in [
        ("strsize=1", "Invalid value for specified option"),
        ("strsize=8g", "Value too large for defined data type"),
        (
            "version=abc",
            "Version is not properly formatted or is too large",
        ),
        (
            "version=7.0",
            "Requested version is not supported by compiler",
        ),
        ("iregs=2", "Insufficient registers to generate code"),
        ("stdc=q", "Invalid value for specified option"),
    ] {
        let out = dtrace(&["-x", option, "-n", "BEGIN { exit(0); }"]);
        let name = option.split('=').next().unwrap_or(option);
        assert_eq!(out.status.code(), Some(1), "{option}");
        assert_eq!(
            text(&out.stderr),
            format!("dtrace: failed to set -x {name}: {message}\n")
        );
    }
}

#[test]
fn options_only_the_command_line_may_set() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("pragma.d");
    std::fs::write(
        &script,
        "#pragma D option cpppath=/bin/cpp\nBEGIN { exit(0); }\n",
    )
    .unwrap();
    let out = dtrace(&["-x", "errtags", "-s", script.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).ends_with(
            "[D_PRAGMA_OPTSET] line 1: failed to set option 'cpppath' to '/bin/cpp': Option cannot be used from within a D program\n"
        ),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn version() {
    let out = dtrace(&["-V"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("dtrace: Lumen dtrace "));
}

#[test]
fn unsupported_flag() {
    let out = dtrace(&["-A", "-s", "x.d"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "dtrace: -A is not supported by Lumen yet\n"
    );
}

#[test]
fn list_begin_exactly() {
    let out = dtrace(&["-l", "-n", "BEGIN"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "{HEADER}    1     dtrace                                                     BEGIN\n"
        )
    );
}

#[test]
fn list_verbose_dtrace_probe() {
    let out = dtrace(&["-l", "-v", "-n", "dtrace:::END"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        format!(
            "{HEADER}    2     dtrace                                                     END\n\
             \n\tProbe Description Attributes\n\t\tIdentifier Names: Stable\n\t\tData Semantics:   Stable\n\
             \t\tDependency Class: Common\n\n\tArgument Attributes\n\t\tIdentifier Names: Stable\n\
             \t\tData Semantics:   Stable\n\t\tDependency Class: Common\n\n\tArgument Types\n\t\tNone\n\n"
        )
    );
}

#[test]
fn list_nothing_matched() {
    let out = dtrace(&["-l", "-n", "nosuch:::"]);
    assert_eq!(out.status.code(), Some(1));
    // Without kernel probes a second line says why; the first is DTrace's.
    assert!(text(&out.stderr)
        .starts_with("dtrace: failed to match nosuch:::: No probe matches description\n"));
    assert_eq!(text(&out.stdout), HEADER);
}

#[test]
fn list_on_demand_profile_probe() {
    let out = dtrace(&["-l", "-n", "tick-7ms"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let row = stdout.lines().nth(1).expect("a probe row");
    assert!(
        row.ends_with("    profile                                                     tick-7ms"),
        "{row}"
    );
}

#[test]
fn list_syscall_read_entry() {
    if !kernel_probes("list_syscall_read_entry") {
        return;
    }
    let out = dtrace(&["-l", "-n", "syscall::read:entry"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let rows: Vec<&str> = stdout.lines().collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert_eq!(rows[0], HEADER.trim_end());
    assert!(
        rows[1].ends_with("    syscall           vmlinux                              read entry"),
        "{}",
        rows[1]
    );
}

#[test]
fn list_verbose_syscall_argument_types() {
    if !kernel_probes("list_verbose_syscall_argument_types") {
        return;
    }
    let out = dtrace(&["-l", "-v", "-n", "syscall::read:entry"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "\tArgument Types\n\t\targs[0]: unsigned int\n\t\targs[1]: char *\n\t\targs[2]: size_t\n\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("\t\tIdentifier Names: Evolving\n"));
}

#[test]
fn list_tracepoints_as_sdt() {
    if !kernel_probes("list_tracepoints_as_sdt") {
        return;
    }
    let out = dtrace(&["-l", "-v", "-n", "sdt:sched::sched_process_exec"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(stdout.contains(" sdt             sched "), "{stdout}");
    assert!(
        stdout.contains("\t\targs[0]: string\n\t\targs[1]: pid_t\n"),
        "{stdout}"
    );
}

#[test]
fn invoked_as_dtrace() {
    let dir = tempfile::tempdir().expect("temp dir");
    let link = dir.path().join("dtrace");
    std::os::unix::fs::symlink(LUMEN, &link).expect("symlink");
    let out = Command::new(&link)
        .args(["-l", "-n", "BEGIN"])
        .output()
        .expect("run dtrace link");
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).ends_with(" BEGIN\n"));
    let out = Command::new(&link).output().expect("run dtrace link");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("Usage: dtrace"));
}

#[test]
fn lumen_usage() {
    let out = Command::new(LUMEN)
        .arg("--help")
        .output()
        .expect("run lumen");
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("dtrace"));
    let out = Command::new(LUMEN).output().expect("run lumen");
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(LUMEN)
        .arg("frobnicate")
        .output()
        .expect("run lumen");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("lumen: unknown command 'frobnicate'"));
}

fn write_script(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).expect("write script");
    path.display().to_string()
}

#[test]
fn cpp_with_define() {
    if Command::new("cpp").arg("--version").output().is_err() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "cpp is missing under CI"
        );
        eprintln!("skipping cpp_with_define: no cpp");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let script = write_script(
        dir.path(),
        "defined.d",
        "#!/usr/sbin/dtrace -s\n#ifndef LUMEN_TEST\n#error LUMEN_TEST is not defined\n#endif\nBEGIN { trace(LUMEN_TEST); }\n",
    );
    let out = dtrace(&["-C", "-D", "LUMEN_TEST=1", "-e", "-s", &script]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = dtrace(&["-C", "-e", "-s", &script]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).ends_with(&format!(
            "dtrace: failed to compile script {script}: Preprocessor failed to process input program\n"
        )),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn missing_script_file() {
    let out = dtrace(&["-e", "-s", "/nonexistent/script.d"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr)
        .ends_with("dtrace: failed to open /nonexistent/script.d: No such file or directory\n"));
}

#[test]
fn running_a_program_prints_the_matched_notice() {
    let out = dtrace(&["-n", "BEGIN { exit(0); }"]);
    if out.status.code() != Some(0)
        && std::env::var("CI").as_deref() != Ok("true")
        && !text(&out.stderr).contains("matched")
    {
        eprintln!("skipping: cannot run BPF here: {}", text(&out.stderr));
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "dtrace: description 'BEGIN ' matched 1 probe\n"
    );
    let out = dtrace(&["-q", "-n", "BEGIN { exit(0); }"]);
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn compile_only_succeeds() {
    let out = dtrace(&["-e", "-n", "BEGIN { trace(1); }"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
}

#[test]
fn compile_error_in_specifier() {
    let out = dtrace(&["-e", "-n", "BEGIN { x = ; }"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("dtrace: invalid probe specifier BEGIN { x = ; }: "),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn compile_error_in_script_has_line_and_tag() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = write_script(dir.path(), "bad.d", "BEGIN\n{\n\tx = ;\n}\n");
    let out = dtrace(&["-e", "-s", &script]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "dtrace: failed to compile script {script}: line 3: "
        )),
        "{stderr}"
    );
    // Not a terminal: no caret snippet.
    assert!(!stderr.contains(" | "), "{stderr}");
    let out = dtrace(&["-x", "errtags", "-e", "-s", &script]);
    assert!(
        text(&out.stderr).starts_with(&format!(
            "dtrace: failed to compile script {script}: [D_SYNTAX] line 3: "
        )),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn zero_matches_without_z_is_a_compile_error() {
    let out = dtrace(&["-e", "-n", "nosuch:::{}"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with(
        "dtrace: invalid probe specifier nosuch:::{}: probe description nosuch::: does not match any probes"
    ));
    let out = dtrace(&["-Z", "-e", "-n", "nosuch:::{}"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn intermediate_form_on_stdout() {
    let out = dtrace(&["-S", "-e", "-n", "BEGIN { trace(1); }"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("dtrace:::BEGIN"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn output_file_is_appended() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("out.txt");
    std::fs::write(&file, "before\n").expect("seed output file");
    let path = file.display().to_string();
    let out = dtrace(&["-o", &path, "-l", "-n", "BEGIN"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let written = std::fs::read_to_string(&file).expect("read output file");
    assert_eq!(
        written,
        format!("before\n{HEADER}    1     dtrace                                                     BEGIN\n")
    );
}

#[test]
fn an_operand_no_program_names_is_d_macro_unused() {
    // Compile only (-e): the check is the compiler's, before anything runs.
    let out = dtrace(&["-e", "-x", "errtags", "-n", "BEGIN { exit(0); }", "foo"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "dtrace: invalid probe specifier BEGIN { exit(0); }: [D_MACRO_UNUSED] extraneous argument 'foo' ($1 is not referenced)\n"
    );
    // Named ($$1), or allowed by -x argref: fine.
    let out = dtrace(&["-e", "-n", "BEGIN { trace($$1); }", "foo"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = dtrace(&["-e", "-x", "argref", "-n", "BEGIN { exit(0); }", "foo"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Only the last operand is checked, and a name in an earlier program
    // counts for the later ones (not the other way round).
    let out = dtrace(&["-e", "-n", "BEGIN { trace($$2); }", "a", "b"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = dtrace(&[
        "-e",
        "-n",
        "BEGIN { trace($$1); }",
        "-n",
        "END { exit(0); }",
        "foo",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = dtrace(&[
        "-e",
        "-n",
        "END { exit(0); }",
        "-n",
        "BEGIN { trace($$1); }",
        "foo",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

#[test]
fn macro_variables_of_the_tracer() {
    // The user-space backend runs BEGIN without privileges; the tracer
    // inherits this test's process group and session.
    let out = dtrace(&[
        "-q",
        "-x",
        "backend=user",
        "-n",
        "BEGIN { printf(\"%d %d %d\", $pgid, $sid, $euid); exit(0); }",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // SAFETY: these calls have no preconditions.
    let (pgid, sid, euid) = unsafe { (libc::getpgrp(), libc::getsid(0), libc::geteuid()) };
    assert_eq!(text(&out.stdout).trim(), format!("{pgid} {sid} {euid}"));
}

#[test]
fn a_kernel_data_symbol_comes_from_kallsyms_or_system_map_or_the_error_names_both() {
    if !kernel_probes(
        "a_kernel_data_symbol_comes_from_kallsyms_or_system_map_or_the_error_names_both",
    ) {
        return;
    }
    let kallsyms = std::fs::read_to_string("/proc/kallsyms").unwrap_or_default();
    let in_kallsyms = kallsyms
        .lines()
        .any(|l| l.split_whitespace().nth(2) == Some("max_pfn"));
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let map = format!("/boot/System.map-{}", release.trim());
    let in_map = std::fs::read_to_string(&map)
        .unwrap_or_default()
        .lines()
        .any(|l| l.split_whitespace().nth(2) == Some("max_pfn"));
    let out = dtrace(&["-e", "-n", "BEGIN { trace(vmlinux`max_pfn); }"]);
    if in_kallsyms || in_map {
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    } else {
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        assert!(
            err.contains("failed to resolve `max_pfn: Unknown symbol name")
                && err.contains("/proc/kallsyms")
                && err.contains("/boot/System.map-"),
            "{err}"
        );
    }
}

#[test]
fn programs_on_one_command_line_share_variables_and_aggregations() {
    // As in DTrace, every -n/-s program of a run sees the globals and
    // aggregations the earlier ones made, and their clauses run in order.
    let out = dtrace(&[
        "-q",
        "-n",
        "BEGIN { @a = count(); x = 41; }",
        "-n",
        "BEGIN { x++; exit(0); }",
        "-n",
        "END { printa(\"%@d \", @a); printf(\"%d\\n\", x); }",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "1 42\n\n");
    // Each program's notice and errors are its own.
    let out = dtrace(&["-n", "BEGIN { exit(0); }", "-n", "END { }"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("dtrace: description 'END ' matched 1 probe\n"));
    let out = dtrace(&["-n", "BEGIN { x = 1; }", "-n", "END { trace(y); }"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "dtrace: invalid probe specifier END { trace(y); }: in action list: failed to resolve y: Unknown variable name\n"
    );
}

#[test]
fn lgrp_is_the_cpus_numa_node() {
    // sysfs links each CPU to its node: cpuN/nodeM.
    for backend in ["kernel", "user"] {
        let out = dtrace(&[
            "-q",
            "-x",
            &format!("backend={backend}"),
            "-n",
            "BEGIN { printf(\"%d %d\\n\", cpu, lgrp); exit(0); }",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let line = text(&out.stdout);
        let mut words = line.split_whitespace();
        let (cpu, node) = (words.next().expect("cpu"), words.next().expect("lgrp"));
        let link = format!("/sys/devices/system/cpu/cpu{cpu}/node{node}");
        assert!(
            std::path::Path::new(&link).exists(),
            "{backend}: {link} does not exist"
        );
    }
}
