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
