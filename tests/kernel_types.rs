//! Kernel types from BTF in D: `curthread->…`, pointer chains, casts to
//! kernel struct pointers, sizeof/offsetof, bit-fields — checked against
//! the kernel's own values.

use engine::btf::KernelBtf;
use std::process::Command;

const LUMEN: &str = env!("CARGO_BIN_EXE_lumen");

fn btf() -> Option<&'static KernelBtf> {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    match (root, KernelBtf::kernel()) {
        (true, Some(b)) => Some(b),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("root and /sys/kernel/btf/vmlinux are required under CI=true")
        }
        _ => {
            eprintln!("skipping: needs root and kernel BTF");
            None
        }
    }
}

fn run(script: &str) -> String {
    let out = Command::new(LUMEN)
        .args(["dtrace", "-q", "-n", script])
        .output()
        .expect("run lumen");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn curthread_members_match_the_builtins() {
    if btf().is_none() {
        return;
    }
    let s = run(
        "BEGIN { printf(\"%d %d %d %s|\", curthread->tgid == pid, curthread->pid == tid, \
         curthread->real_parent->tgid == ppid, curthread->comm); exit(0); }",
    );
    assert_eq!(s, "1 1 1 lumen|\n");
}

#[test]
fn sizeof_and_offsetof_agree_with_btf() {
    let Some(b) = btf() else {
        return;
    };
    let id = b.lookup("struct task_struct").expect("task_struct");
    let size = b.d_type(id).size();
    let (off, _) = b.member("task_struct", "tgid").expect("tgid");
    let s = run("BEGIN { printf(\"%d %d\", sizeof (struct task_struct), \
         offsetof(struct task_struct, tgid)); exit(0); }");
    assert_eq!(s, format!("{size} {off}\n"));
}

#[test]
fn casts_of_addresses_to_kernel_struct_pointers() {
    if btf().is_none() {
        return;
    }
    // The same task reached through a cast of its address.
    let s = run(
        "BEGIN { t = (uint64_t)curthread; p = (struct task_struct *)t; \
         printf(\"%d\", p->tgid == pid); exit(0); }",
    );
    assert_eq!(s, "1\n");
}

#[test]
fn bit_fields_read_the_same_bits_as_a_manual_extraction() {
    let Some(b) = btf() else {
        return;
    };
    let id = b.lookup("struct task_struct").expect("task_struct");
    let d_lang::types::Type::Sou(s) = b.d_type(id) else {
        panic!("task_struct is not a struct");
    };
    let fields: Vec<_> = s.members.iter().filter(|m| m.bits.is_some()).collect();
    assert!(!fields.is_empty(), "task_struct has no bit-fields here");
    for m in fields.iter().take(6) {
        let (shift, width) = m.bits.expect("bit-field");
        let unit = m.ty.size().clamp(1, 8);
        let utype = match unit {
            1 => "uint8_t",
            2 => "uint16_t",
            4 => "uint32_t",
            _ => "uint64_t",
        };
        let mask = if width >= 64 {
            u64::MAX
        } else {
            (1u64 << width) - 1
        };
        let script = format!(
            "BEGIN {{ a = curthread->{name}; \
             b = (*({utype} *)((uint64_t)curthread + {off}) >> {shift}) & {mask}; \
             printf(\"%d\", (uint64_t)a == b); exit(0); }}",
            name = m.name,
            off = m.offset,
        );
        assert_eq!(run(&script), "1\n", "{}", m.name);
    }
}

#[test]
fn kernel_symbols_by_address() {
    if btf().is_none() {
        return;
    }
    // A text symbol every kernel has; its address symbolizes back to it.
    let s = run("BEGIN { printf(\"%a|\", (uint64_t)&`jiffies_to_msecs); \
         x = *(uint8_t *)&`jiffies_to_msecs; printf(\"%d\", x == x); exit(0); }");
    assert_eq!(s, "vmlinux`jiffies_to_msecs|1\n");
    // Without a type (data symbols have none in BTF) a read needs a cast.
    let out = Command::new(LUMEN)
        .args(["dtrace", "-q", "-n", "BEGIN { trace(`jiffies_to_msecs); }"])
        .output()
        .expect("run lumen");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("name its type with a cast: *(TYPE *)&`jiffies_to_msecs"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn translators_give_psinfo_and_lwpsinfo() {
    if btf().is_none() {
        return;
    }
    let s = run(
        "BEGIN { printf(\"%d %d %d %s|%s %d %d|\", curpsinfo->pr_pid == pid, \
         curpsinfo->pr_ppid == ppid, curpsinfo->pr_uid == uid, curpsinfo->pr_fname, \
         curlwpsinfo->pr_name, curlwpsinfo->pr_lwpid == tid, curlwpsinfo->pr_onpro == cpu); \
         printf(\"%d %d\", xlate<psinfo_t *>(curthread)->pr_pid == pid, \
         xlate<psinfo_t *>(curthread->real_parent)->pr_pid == ppid); exit(0); }",
    );
    assert_eq!(s, "1 1 1 lumen|lumen 1 1|1 1\n");
    // A member this system does not translate is a clear compile error.
    let out = Command::new(LUMEN)
        .args(["dtrace", "-n", "BEGIN { trace(curpsinfo->pr_psargs); }"])
        .output()
        .expect("run lumen");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("translator member pr_psargs is not defined for psinfo_t"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn dtrace_out(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(LUMEN)
        .arg("dtrace")
        .args(args)
        .output()
        .expect("run lumen");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn fbt_probes_are_listed_with_btf_argument_types() {
    if btf().is_none() {
        return;
    }
    let (code, out, err) = dtrace_out(&["-l", "-n", "fbt::vfs_read:"]);
    assert_eq!(code, Some(0), "{err}");
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    let tail: Vec<Vec<&str>> = rows.iter().map(|r| r[1..].to_vec()).collect();
    assert_eq!(
        tail,
        vec![
            vec!["fbt", "vmlinux", "vfs_read", "entry"],
            vec!["fbt", "vmlinux", "vfs_read", "return"]
        ]
    );
    let (code, out, err) = dtrace_out(&["-l", "-v", "-n", "fbt::vfs_read:entry"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("args[0]: struct file *"), "{out}");
    assert!(out.contains("args[1]: char *"), "{out}");
    assert!(out.contains("args[2]: uint64_t"), "{out}");
    // Globs over function names.
    let (_, out, _) = dtrace_out(&["-l", "-n", "fbt::vfs_rea*:entry"]);
    assert!(out.lines().any(|l| l.contains(" vfs_read ")), "{out}");
}

#[test]
fn fbt_arguments_are_type_checked() {
    if btf().is_none() {
        return;
    }
    let (code, _, err) =
        dtrace_out(&["-n", "fbt::vfs_read:entry { x = args[0]->no_such_member; }"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("no_such_member is not a member of struct file"),
        "{err}"
    );
}

#[test]
fn fbt_runs_or_the_trampoline_refusal_is_clear() {
    if btf().is_none() {
        return;
    }
    let (code, out, err) = dtrace_out(&[
        "-q",
        "-n",
        "fbt::vfs_read:entry { @ = count(); } tick-200ms { exit(0); }",
    ]);
    if code == Some(1) {
        // This machine's kernel (nested, PVM) refuses BPF trampolines.
        assert!(
            err.contains(
                "cannot trace fbt:vmlinux:vfs_read:entry: fbt: kernel refuses BPF trampolines"
            ),
            "{err}"
        );
    } else {
        assert_eq!(code, Some(0), "{err}");
        let n: u64 = out.trim().parse().expect("a count");
        assert!(n > 0, "{out}");
    }
}

#[test]
fn lock_subroutines_read_linux_locks() {
    if btf().is_none() {
        return;
    }
    // An unlocked mutex; Linux mutexes are adaptive.
    let s = run(
        "BEGIN { m = &curthread->signal->cred_guard_mutex; printf(\"%d %d %d %d\", \
         mutex_owned(m), mutex_owner(m) == 0, mutex_type_adaptive(m), mutex_type_spin(m)); \
         exit(0); }",
    );
    assert_eq!(s, "0 1 1 0\n");
    // mmap_lock just after it was taken, for reading or for writing.
    let out = Command::new(LUMEN)
        .args([
            "dtrace",
            "-q",
            "-n",
            "sdt:mmap_lock::mmap_lock_acquire_returned /pid == $target && args[3]/ { \
             @[args[2], rw_write_held(&args[0]->mmap_lock), rw_read_held(&args[0]->mmap_lock), \
             rw_iswriter(&args[0]->mmap_lock)] = count(); }",
            "-c",
            "/bin/true",
        ])
        .output()
        .expect("run lumen");
    let s = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Vec<u64>> = s
        .lines()
        .map(|l| {
            l.split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect()
        })
        .filter(|r: &Vec<u64>| r.len() == 5)
        .collect();
    // Taken for writing: held by a writer, not by readers.
    let writes: Vec<&Vec<u64>> = rows.iter().filter(|r| r[0] == 1).collect();
    assert!(!writes.is_empty(), "{s}");
    assert!(writes.iter().all(|r| r[1..4] == [1, 0, 1]), "{s}");
    // Taken for reading: held by readers.
    assert!(
        rows.iter().any(|r| r[..4] == [0, 0, 1, 0] && r[4] > 0),
        "{s}"
    );
}
