//! Docker's default seccomp policy (moby's `profiles/seccomp/default.json`)
//! for x86_64, compiled to classic BPF by `seccompiler` (Firecracker's
//! seccomp compiler) rather than hand-assembled or taken from libseccomp.
//!
//! What it does, as Docker does:
//! - any syscall not named below fails with `EPERM` (moby's
//!   `defaultErrnoRet: 1`), so programs see "not permitted", not a crash;
//! - [`ALLOW`] is allowed whatever the arguments;
//! - `personality`, `socket` and `clone` are allowed for some arguments;
//! - [`BY_CAP`] is allowed only when the process holds the capability,
//!   because the kernel would let such a process do it anyway, and Docker
//!   does not want the filter to make `--cap-add` useless;
//! - `clone3` fails with `ENOSYS` unless `CAP_SYS_ADMIN` is held: its
//!   flags live in memory the filter cannot read, and `ENOSYS` makes glibc
//!   fall back to `clone`, whose flags it can check.
//!
//! Where it differs from Docker, because a `seccompiler` filter checks a
//! single audit arch: the filter kills the process for any syscall made
//! through the i386 ABI (`int 0x80`), where Docker's filter also covers x86
//! and x32; and x32 syscalls (number | `0x4000_0000`) match no rule, so
//! they get `EPERM`. 32-bit programs therefore do not run under it.
//!
//! x86_64 only: the tables name `libc::SYS_*` constants, which differ (or
//! do not exist) on other architectures.
#![cfg(target_arch = "x86_64")]

use caps::Capability;
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};
use std::collections::{BTreeMap, HashSet};
use std::io;

/// Syscall numbers: libc's, plus the few libc 0.2.191 does not know.
#[allow(non_upper_case_globals)]
mod sys {
    // Local items shadow the glob, so once libc has one of these the local
    // copy still wins and nothing breaks.
    pub use libc::*;

    // From the kernel's arch/x86/entry/syscalls/syscall_64.tbl; each but
    // the `*xattrat` ones matches seccompiler's own x86_64 table (made from
    // Linux 6.12). The `*xattrat` ones came in Linux 6.13.
    pub const SYS_io_pgetevents: i64 = 333;
    pub const SYS_uretprobe: i64 = 335;
    pub const SYS_cachestat: i64 = 451;
    pub const SYS_map_shadow_stack: i64 = 453;
    pub const SYS_futex_wake: i64 = 454;
    pub const SYS_futex_wait: i64 = 455;
    pub const SYS_futex_requeue: i64 = 456;
    pub const SYS_statmount: i64 = 457;
    pub const SYS_listmount: i64 = 458;
    pub const SYS_setxattrat: i64 = 463;
    pub const SYS_getxattrat: i64 = 464;
    pub const SYS_listxattrat: i64 = 465;
    pub const SYS_removexattrat: i64 = 466;
}

/// `(name, number)` pairs from a list of `SYS_*` names, so a name that does
/// not exist on x86_64 fails to compile instead of silently allowing
/// nothing.
macro_rules! syscalls {
    ($($name:ident),* $(,)?) => {
        &[$((stringify!($name), sys::$name)),*]
    };
}

/// Allowed whatever the arguments: moby's big `SCMP_ACT_ALLOW` entry, less
/// the names that do not exist on x86_64 (the i386 `*32`, `*64`-suffixed
/// time and file calls, `socketcall`, `ipc`, `send`, `recv`, ...), plus the
/// entries moby gates on amd64 or on the kernel version, which always hold
/// here:
/// - `arch_prctl` (amd64, x32) and `modify_ldt` (amd64, x32, x86);
/// - `ptrace`, `process_vm_readv`, `process_vm_writev`, which moby allows
///   from Linux 4.8 on, when ptrace stopped being a way around seccomp.
///
/// Not sure moby has these (all new since Linux 6.5, and they are harmless
/// extensions of calls that are allowed, so leaving them out would only
/// break new libcs): `cachestat`, `map_shadow_stack`, `futex_wake`,
/// `futex_wait`, `futex_requeue`, `statmount`, `listmount`, `mseal`,
/// `uretprobe`, the four `*xattrat`. Also unsure: `name_to_handle_at`
/// (older profiles gated it on `CAP_SYS_ADMIN`; newer ones allow it) and
/// `adjtimex`/`clock_adjtime`, which moby allows because the kernel itself
/// refuses to *set* the clock without `CAP_SYS_TIME`. Left out though some
/// profile may have it: `memfd_secret`, `lsm_*`, `open_tree_attr`; the
/// `io_uring_*` calls are left out as moby has done since 2023.
pub const ALLOW: &[(&str, i64)] = syscalls![
    SYS_accept,
    SYS_accept4,
    SYS_access,
    SYS_adjtimex,
    SYS_alarm,
    SYS_arch_prctl,
    SYS_bind,
    SYS_brk,
    SYS_cachestat,
    SYS_capget,
    SYS_capset,
    SYS_chdir,
    SYS_chmod,
    SYS_chown,
    SYS_clock_adjtime,
    SYS_clock_getres,
    SYS_clock_gettime,
    SYS_clock_nanosleep,
    SYS_close,
    SYS_close_range,
    SYS_connect,
    SYS_copy_file_range,
    SYS_creat,
    SYS_dup,
    SYS_dup2,
    SYS_dup3,
    SYS_epoll_create,
    SYS_epoll_create1,
    SYS_epoll_ctl,
    SYS_epoll_ctl_old,
    SYS_epoll_pwait,
    SYS_epoll_pwait2,
    SYS_epoll_wait,
    SYS_epoll_wait_old,
    SYS_eventfd,
    SYS_eventfd2,
    SYS_execve,
    SYS_execveat,
    SYS_exit,
    SYS_exit_group,
    SYS_faccessat,
    SYS_faccessat2,
    SYS_fadvise64,
    SYS_fallocate,
    SYS_fanotify_mark,
    SYS_fchdir,
    SYS_fchmod,
    SYS_fchmodat,
    SYS_fchmodat2,
    SYS_fchown,
    SYS_fchownat,
    SYS_fcntl,
    SYS_fdatasync,
    SYS_fgetxattr,
    SYS_flistxattr,
    SYS_flock,
    SYS_fork,
    SYS_fremovexattr,
    SYS_fsetxattr,
    SYS_fstat,
    SYS_fstatfs,
    SYS_fsync,
    SYS_ftruncate,
    SYS_futex,
    SYS_futex_requeue,
    SYS_futex_wait,
    SYS_futex_waitv,
    SYS_futex_wake,
    SYS_futimesat,
    SYS_get_robust_list,
    SYS_get_thread_area,
    SYS_getcpu,
    SYS_getcwd,
    SYS_getdents,
    SYS_getdents64,
    SYS_getegid,
    SYS_geteuid,
    SYS_getgid,
    SYS_getgroups,
    SYS_getitimer,
    SYS_getpeername,
    SYS_getpgid,
    SYS_getpgrp,
    SYS_getpid,
    SYS_getppid,
    SYS_getpriority,
    SYS_getrandom,
    SYS_getresgid,
    SYS_getresuid,
    SYS_getrlimit,
    SYS_getrusage,
    SYS_getsid,
    SYS_getsockname,
    SYS_getsockopt,
    SYS_gettid,
    SYS_gettimeofday,
    SYS_getuid,
    SYS_getxattr,
    SYS_getxattrat,
    SYS_inotify_add_watch,
    SYS_inotify_init,
    SYS_inotify_init1,
    SYS_inotify_rm_watch,
    SYS_io_cancel,
    SYS_io_destroy,
    SYS_io_getevents,
    SYS_io_pgetevents,
    SYS_io_setup,
    SYS_io_submit,
    SYS_ioctl,
    SYS_ioprio_get,
    SYS_ioprio_set,
    SYS_kill,
    SYS_landlock_add_rule,
    SYS_landlock_create_ruleset,
    SYS_landlock_restrict_self,
    SYS_lchown,
    SYS_lgetxattr,
    SYS_link,
    SYS_linkat,
    SYS_listen,
    SYS_listmount,
    SYS_listxattr,
    SYS_listxattrat,
    SYS_llistxattr,
    SYS_lremovexattr,
    SYS_lseek,
    SYS_lsetxattr,
    SYS_lstat,
    SYS_madvise,
    SYS_map_shadow_stack,
    SYS_membarrier,
    SYS_memfd_create,
    SYS_mincore,
    SYS_mkdir,
    SYS_mkdirat,
    SYS_mknod,
    SYS_mknodat,
    SYS_mlock,
    SYS_mlock2,
    SYS_mlockall,
    SYS_mmap,
    SYS_modify_ldt,
    SYS_mprotect,
    SYS_mq_getsetattr,
    SYS_mq_notify,
    SYS_mq_open,
    SYS_mq_timedreceive,
    SYS_mq_timedsend,
    SYS_mq_unlink,
    SYS_mremap,
    SYS_mseal,
    SYS_msgctl,
    SYS_msgget,
    SYS_msgrcv,
    SYS_msgsnd,
    SYS_msync,
    SYS_munlock,
    SYS_munlockall,
    SYS_munmap,
    SYS_name_to_handle_at,
    SYS_nanosleep,
    SYS_newfstatat,
    SYS_open,
    SYS_openat,
    SYS_openat2,
    SYS_pause,
    SYS_pidfd_open,
    SYS_pidfd_send_signal,
    SYS_pipe,
    SYS_pipe2,
    SYS_pkey_alloc,
    SYS_pkey_free,
    SYS_pkey_mprotect,
    SYS_poll,
    SYS_ppoll,
    SYS_prctl,
    SYS_pread64,
    SYS_preadv,
    SYS_preadv2,
    SYS_prlimit64,
    SYS_process_mrelease,
    SYS_process_vm_readv,
    SYS_process_vm_writev,
    SYS_pselect6,
    SYS_ptrace,
    SYS_pwrite64,
    SYS_pwritev,
    SYS_pwritev2,
    SYS_read,
    SYS_readahead,
    SYS_readlink,
    SYS_readlinkat,
    SYS_readv,
    SYS_recvfrom,
    SYS_recvmmsg,
    SYS_recvmsg,
    SYS_remap_file_pages,
    SYS_removexattr,
    SYS_removexattrat,
    SYS_rename,
    SYS_renameat,
    SYS_renameat2,
    SYS_restart_syscall,
    SYS_rmdir,
    SYS_rseq,
    SYS_rt_sigaction,
    SYS_rt_sigpending,
    SYS_rt_sigprocmask,
    SYS_rt_sigqueueinfo,
    SYS_rt_sigreturn,
    SYS_rt_sigsuspend,
    SYS_rt_sigtimedwait,
    SYS_rt_tgsigqueueinfo,
    SYS_sched_get_priority_max,
    SYS_sched_get_priority_min,
    SYS_sched_getaffinity,
    SYS_sched_getattr,
    SYS_sched_getparam,
    SYS_sched_getscheduler,
    SYS_sched_rr_get_interval,
    SYS_sched_setaffinity,
    SYS_sched_setattr,
    SYS_sched_setparam,
    SYS_sched_setscheduler,
    SYS_sched_yield,
    SYS_seccomp,
    SYS_select,
    SYS_semctl,
    SYS_semget,
    SYS_semop,
    SYS_semtimedop,
    SYS_sendfile,
    SYS_sendmmsg,
    SYS_sendmsg,
    SYS_sendto,
    SYS_set_robust_list,
    SYS_set_thread_area,
    SYS_set_tid_address,
    SYS_setfsgid,
    SYS_setfsuid,
    SYS_setgid,
    SYS_setgroups,
    SYS_setitimer,
    SYS_setpgid,
    SYS_setpriority,
    SYS_setregid,
    SYS_setresgid,
    SYS_setresuid,
    SYS_setreuid,
    SYS_setrlimit,
    SYS_setsid,
    SYS_setsockopt,
    SYS_setuid,
    SYS_setxattr,
    SYS_setxattrat,
    SYS_shmat,
    SYS_shmctl,
    SYS_shmdt,
    SYS_shmget,
    SYS_shutdown,
    SYS_sigaltstack,
    SYS_signalfd,
    SYS_signalfd4,
    SYS_socketpair,
    SYS_splice,
    SYS_stat,
    SYS_statfs,
    SYS_statmount,
    SYS_statx,
    SYS_symlink,
    SYS_symlinkat,
    SYS_sync,
    SYS_sync_file_range,
    SYS_syncfs,
    SYS_sysinfo,
    SYS_tee,
    SYS_tgkill,
    SYS_time,
    SYS_timer_create,
    SYS_timer_delete,
    SYS_timer_getoverrun,
    SYS_timer_gettime,
    SYS_timer_settime,
    SYS_timerfd_create,
    SYS_timerfd_gettime,
    SYS_timerfd_settime,
    SYS_times,
    SYS_tkill,
    SYS_truncate,
    SYS_umask,
    SYS_uname,
    SYS_unlink,
    SYS_unlinkat,
    SYS_uretprobe,
    SYS_utime,
    SYS_utimensat,
    SYS_utimes,
    SYS_vfork,
    SYS_vmsplice,
    SYS_wait4,
    SYS_waitid,
    SYS_write,
    SYS_writev,
];

/// Allowed whatever the arguments when the process holds the capability:
/// moby's entries with `includes.caps`. Each is something the kernel lets
/// the capability do anyway, so a zone given the capability can use it.
/// (`clone`'s entry here also lifts the namespace-flag rule, and
/// `CAP_SYS_ADMIN` also turns off the `clone3` → `ENOSYS` filter.)
///
/// Dropped because they do not exist on x86_64: `umount` (only `umount2`
/// does), `stime` and `clock_settime64`.
pub const BY_CAP: &[(Capability, &[(&str, i64)])] = &[
    (
        Capability::CAP_DAC_READ_SEARCH,
        syscalls![SYS_open_by_handle_at],
    ),
    (
        Capability::CAP_SYS_ADMIN,
        syscalls![
            SYS_bpf,
            SYS_clone,
            SYS_clone3,
            SYS_fanotify_init,
            SYS_fsconfig,
            SYS_fsmount,
            SYS_fsopen,
            SYS_fspick,
            SYS_lookup_dcookie,
            SYS_mount,
            SYS_mount_setattr,
            SYS_move_mount,
            SYS_open_tree,
            SYS_perf_event_open,
            SYS_quotactl,
            SYS_quotactl_fd,
            SYS_setdomainname,
            SYS_sethostname,
            SYS_setns,
            SYS_syslog,
            SYS_umount2,
            SYS_unshare,
        ],
    ),
    (Capability::CAP_SYS_BOOT, syscalls![SYS_reboot]),
    (Capability::CAP_SYS_CHROOT, syscalls![SYS_chroot]),
    (
        Capability::CAP_SYS_MODULE,
        syscalls![SYS_delete_module, SYS_init_module, SYS_finit_module],
    ),
    (Capability::CAP_SYS_PACCT, syscalls![SYS_acct]),
    (
        Capability::CAP_SYS_PTRACE,
        syscalls![
            SYS_kcmp,
            SYS_pidfd_getfd,
            SYS_process_madvise,
            SYS_process_vm_readv,
            SYS_process_vm_writev,
            SYS_ptrace,
        ],
    ),
    (Capability::CAP_SYS_RAWIO, syscalls![SYS_iopl, SYS_ioperm]),
    (
        Capability::CAP_SYS_TIME,
        syscalls![SYS_settimeofday, SYS_clock_settime],
    ),
    (Capability::CAP_SYS_TTY_CONFIG, syscalls![SYS_vhangup]),
    (
        Capability::CAP_SYS_NICE,
        syscalls![
            SYS_get_mempolicy,
            SYS_mbind,
            SYS_set_mempolicy,
            SYS_set_mempolicy_home_node,
        ],
    ),
    (Capability::CAP_SYSLOG, syscalls![SYS_syslog]),
    (Capability::CAP_BPF, syscalls![SYS_bpf]),
    (Capability::CAP_PERFMON, syscalls![SYS_perf_event_open]),
];

/// `personality` personas moby allows: `PER_LINUX`, `PER_LINUX32`
/// (`0x8`), `UNAME26` (`0x20000`), `PER_LINUX32|UNAME26` and `0xffffffff`,
/// which only asks for the current persona. Anything else, notably
/// `READ_IMPLIES_EXEC` or `ADDR_NO_RANDOMIZE`, would weaken the process's
/// memory protections.
const PERSONAS: [u64; 5] = [0x0, 0x8, 0x2_0000, 0x2_0008, 0xffff_ffff];

/// The `clone` flags that make namespaces (`CLONE_NEWNS`, `NEWCGROUP`,
/// `NEWUTS`, `NEWIPC`, `NEWUSER`, `NEWPID`, `NEWNET`): moby's `2114060288`.
const CLONE_NAMESPACE_FLAGS: u64 = 0x7E02_0000;

/// Why a policy could not be built or installed.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// seccompiler refused a rule or the filter (e.g. too long for BPF).
    #[error("compiling the seccomp filter: {0}")]
    Compile(#[from] seccompiler::BackendError),
    /// A program longer than `struct sock_fprog`'s 16-bit length.
    #[error("a seccomp filter of {0} instructions is too long to install")]
    TooLong(usize),
    /// Setting `PR_SET_NO_NEW_PRIVS`, which the kernel requires of a
    /// process without `CAP_SYS_ADMIN` before it takes a filter.
    #[error("prctl(PR_SET_NO_NEW_PRIVS): {0}")]
    NoNewPrivs(#[source] io::Error),
    /// `seccomp(SECCOMP_SET_MODE_FILTER)` itself.
    #[error("seccomp(SECCOMP_SET_MODE_FILTER): {0}")]
    Install(#[source] io::Error),
}

/// A compiled policy: BPF programs ready for `seccomp(2)`.
#[derive(Debug, Clone)]
pub struct Policy {
    /// In the order to install them. Several because a seccompiler filter
    /// has one action for the syscalls it names and one for the rest, and
    /// `clone3` needs a third (`ENOSYS`). The kernel runs every filter and
    /// keeps the most restrictive action; among equal actions (EPERM and
    /// ENOSYS are both `SECCOMP_RET_ERRNO`) the newest filter's wins. In
    /// kernel/seccomp.c, `seccomp_run_filters` starts from
    /// `ret = SECCOMP_RET_ALLOW`, walks from `current->seccomp.filter`
    /// (the newest) along `f->prev` (older ones), and replaces `ret` only
    /// when `ACTION_ONLY(cur_ret) < ACTION_ONLY(ret)` — strictly lower, and
    /// `ACTION_ONLY` masks off the errno — so the first ERRNO met on that
    /// newest-to-oldest walk is the one returned. Hence the `ENOSYS` filter
    /// goes last; its "allow everything else" cannot loosen the main
    /// filter, ALLOW being the highest action. The test
    /// `clone3_enosys_needs_the_newer_filter` checks this on the running
    /// kernel.
    programs: Vec<BpfProgram>,
}

/// Docker's default policy for a process holding `caps` (its capability
/// bounding set), compiled; build it before fork, as compiling allocates.
pub fn docker_default(caps: &HashSet<Capability>) -> Result<Policy, SeccompError> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> =
        ALLOW.iter().map(|&(_, nr)| (nr, Vec::new())).collect();
    for (cap, syscalls) in BY_CAP {
        if caps.contains(cap) {
            // An empty rule list means "whatever the arguments", which also
            // replaces any argument rule (`clone` under CAP_SYS_ADMIN).
            rules.extend(syscalls.iter().map(|&(_, nr)| (nr, Vec::new())));
        }
    }
    // Argument rules, only where nothing allows the call outright (rules
    // of one syscall are OR-ed, so an outright allow would win anyway).
    //
    // They compare the low 32 bits of the argument (`Dword`) where moby's
    // libseccomp compares all 64: the kernel reads only those 32 bits of
    // each (`personality(unsigned int)`, `socket(int family, ...)`, and
    // `clone` takes `lower_32_bits(clone_flags)`). Comparing 64 bits would
    // let `socket(0x1_0000_0028, ...)` past a "not 40" rule and still make
    // an AF_VSOCK socket.
    let personality = PERSONAS
        .iter()
        .map(|&persona| arg0(SeccompCmpOp::Eq, persona))
        .collect::<Result<Vec<_>, _>>()?;
    // AF_VSOCK talks to the host's hypervisor and other VMs, outside the
    // zone's network namespace; recent moby refuses it.
    let socket = vec![arg0(SeccompCmpOp::Ne, libc::AF_VSOCK as u64)?];
    // New namespaces would let the zone out of the filter's assumptions
    // (a new user namespace gives every capability within it).
    let clone = vec![arg0(SeccompCmpOp::MaskedEq(CLONE_NAMESPACE_FLAGS), 0)?];
    for (nr, arg_rules) in [
        (libc::SYS_personality, personality),
        (libc::SYS_socket, socket),
        (libc::SYS_clone, clone),
    ] {
        rules.entry(nr).or_insert(arg_rules);
    }

    let main = SeccompFilter::new(
        rules,
        SeccompAction::Errno(libc::EPERM as u32),
        SeccompAction::Allow,
        TargetArch::x86_64,
    )?;
    let mut programs = vec![BpfProgram::try_from(main)?];
    if !caps.contains(&Capability::CAP_SYS_ADMIN) {
        let clone3 = SeccompFilter::new(
            BTreeMap::from([(libc::SYS_clone3, Vec::new())]),
            SeccompAction::Allow,
            SeccompAction::Errno(libc::ENOSYS as u32),
            TargetArch::x86_64,
        )?;
        // Newest filter wins between equal actions: see `Policy::programs`.
        programs.push(BpfProgram::try_from(clone3)?);
    }
    for program in &programs {
        // Checked here so `install` cannot fail on it.
        if u16::try_from(program.len()).is_err() {
            return Err(SeccompError::TooLong(program.len()));
        }
    }
    Ok(Policy { programs })
}

/// A policy that allows `syscalls` and nothing else (EPERM): for a
/// process of ours whose every call is known, such as a zone's zsched.
/// Short, so cheap to install, and far narrower than Docker's.
pub fn only(syscalls: &[i64]) -> Result<Policy, SeccompError> {
    let filter = SeccompFilter::new(
        syscalls.iter().map(|&nr| (nr, Vec::new())).collect(),
        SeccompAction::Errno(libc::EPERM as u32),
        SeccompAction::Allow,
        TargetArch::x86_64,
    )?;
    let program = BpfProgram::try_from(filter)?;
    if u16::try_from(program.len()).is_err() {
        return Err(SeccompError::TooLong(program.len()));
    }
    Ok(Policy {
        programs: vec![program],
    })
}

/// A rule on the low 32 bits of the first argument.
fn arg0(op: SeccompCmpOp, value: u64) -> Result<SeccompRule, SeccompError> {
    let condition = SeccompCondition::new(0, SeccompCmpArgLen::Dword, op, value)?;
    Ok(SeccompRule::new(vec![condition])?)
}

/// `struct sock_fprog` over seccompiler's `sock_filter`, whose layout is the
/// kernel's (and libc's) but which is its own type.
#[repr(C)]
struct SockFprog {
    len: libc::c_ushort,
    filter: *const seccompiler::sock_filter,
}

impl Policy {
    /// Install in the calling thread (after `PR_SET_NO_NEW_PRIVS`, which
    /// install sets itself if needed); only syscalls, no allocation, safe
    /// in a forked child.
    ///
    /// "If needed": the kernel takes a filter from a thread without
    /// `CAP_SYS_ADMIN` only once no_new_privs is set (so a filter cannot
    /// confuse a setuid program into misbehaving). Like Docker without
    /// `--security-opt no-new-privileges`, a caller that still has
    /// `CAP_SYS_ADMIN` keeps setuid binaries working; one that wants
    /// no_new_privs anyway sets it itself. Other threads are not filtered.
    ///
    /// On an error after the first filter went in, the thread keeps that
    /// filter (they cannot be removed): the caller should give up on it.
    pub fn install(&self) -> Result<(), SeccompError> {
        for program in &self.programs {
            let fprog = SockFprog {
                len: u16::try_from(program.len())
                    .map_err(|_| SeccompError::TooLong(program.len()))?,
                filter: program.as_ptr(),
            };
            let set_filter = || {
                // SAFETY: `fprog` points at `program`, alive for the call;
                // the kernel copies the program in.
                let rc = unsafe {
                    libc::syscall(
                        libc::SYS_seccomp,
                        libc::SECCOMP_SET_MODE_FILTER,
                        0,
                        &fprog as *const SockFprog,
                    )
                };
                if rc == 0 {
                    Ok(())
                } else {
                    Err(io::Error::last_os_error())
                }
            };
            match set_filter() {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::EACCES) => {
                    // SAFETY: a prctl with integer arguments.
                    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
                        return Err(SeccompError::NoNewPrivs(io::Error::last_os_error()));
                    }
                    set_filter().map_err(SeccompError::Install)?;
                }
                Err(e) => return Err(SeccompError::Install(e)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;
    use std::process::Command;
    use std::time::Instant;

    /// Set in the copy of the test binary that runs a test under a filter.
    const CHILD: &str = "LUMEN_SECCOMP_TEST_CHILD";

    /// Runs `check` in a fresh copy of this test binary (running only the
    /// test `name`), since a filter cannot be removed and would cripple
    /// the harness. Re-executing rather than forking: the harness is
    /// multi-threaded, and the checks allocate, spawn threads and exec.
    fn in_child(name: &str, check: impl FnOnce()) {
        if std::env::var_os(CHILD).is_some() {
            check();
            return;
        }
        // `module_path!()` starts with the crate's name, test paths don't.
        let module = module_path!()
            .split_once("::")
            .map_or(module_path!(), |(_, rest)| rest);
        let test = format!("{module}::{name}");
        let out = Command::new(std::env::current_exe().expect("the test binary's path"))
            .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .expect("re-running the test binary");
        let stdout = String::from_utf8_lossy(&out.stdout);
        print!("{stdout}");
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        assert!(
            out.status.success(),
            "{test} under the filter: {}",
            out.status
        );
        // Guards against a wrong test path, which would run nothing.
        assert!(stdout.contains("1 passed"), "{test} did not run");
    }

    /// Docker's default capabilities.
    fn docker_caps() -> HashSet<Capability> {
        use Capability::*;
        HashSet::from([
            CAP_CHOWN,
            CAP_DAC_OVERRIDE,
            CAP_FSETID,
            CAP_FOWNER,
            CAP_MKNOD,
            CAP_NET_RAW,
            CAP_SETGID,
            CAP_SETUID,
            CAP_SETFCAP,
            CAP_SETPCAP,
            CAP_NET_BIND_SERVICE,
            CAP_SYS_CHROOT,
            CAP_KILL,
            CAP_AUDIT_WRITE,
        ])
    }

    /// Compiles and installs the policy for `caps` in this (child) process.
    fn install(caps: &HashSet<Capability>) {
        docker_default(caps)
            .expect("compiling the policy")
            .install()
            .expect("installing the policy");
    }

    /// A raw syscall: its result, or its errno.
    fn call(nr: libc::c_long, args: &[u64]) -> Result<i64, i32> {
        let a = |i: usize| args.get(i).copied().unwrap_or(0);
        // SAFETY: each caller passes arguments the kernel only reads as
        // integers, or pointers to live values, or null.
        let rc = unsafe { libc::syscall(nr, a(0), a(1), a(2), a(3), a(4), a(5)) };
        if rc == -1 {
            Err(io::Error::last_os_error().raw_os_error().unwrap_or(0))
        } else {
            Ok(rc)
        }
    }

    /// Asserts `result` is the errno `want` (a syscall's, by `name`).
    #[track_caller]
    fn assert_errno(name: &str, result: Result<i64, i32>, want: i32) {
        assert_eq!(
            result,
            Err(want),
            "{name}: want {}, got {result:?}",
            io::Error::from_raw_os_error(want)
        );
    }

    fn cstr(s: &str) -> CString {
        CString::new(s).expect("no NUL")
    }

    /// A path that does not exist, so calls that reach the kernel fail
    /// harmlessly with ENOENT.
    const NOWHERE: &str = "/nonexistent-lumen-seccomp-test";

    /// raw `clone(flags)` without a new stack, i.e. a fork: a child that
    /// gets through exits at once; the parent reaps it.
    fn raw_clone(flags: u64) -> Result<i64, i32> {
        let rc = call(libc::SYS_clone, &[flags | libc::SIGCHLD as u64]);
        match rc {
            // SAFETY: the child leaves at once without touching anything.
            Ok(0) => unsafe { libc::_exit(0) },
            Ok(pid) => {
                // SAFETY: reaping our own child.
                unsafe { libc::waitpid(pid as i32, std::ptr::null_mut(), 0) };
            }
            Err(_) => {}
        }
        rc
    }

    #[test]
    fn tables_are_consistent_and_compile() {
        let mut seen = HashSet::new();
        for &(name, nr) in ALLOW {
            assert!(seen.insert(nr), "{name} listed twice");
        }
        // The argument-gated calls and Docker's famous refusals must not
        // sneak into the unconditional list.
        for name in [
            "SYS_personality",
            "SYS_socket",
            "SYS_clone",
            "SYS_clone3",
            "SYS_keyctl",
            "SYS_add_key",
            "SYS_request_key",
            "SYS_open_by_handle_at",
            "SYS_kexec_load",
            "SYS_kexec_file_load",
            "SYS_init_module",
            "SYS_finit_module",
            "SYS_bpf",
            "SYS_perf_event_open",
            "SYS_mount",
            "SYS_umount2",
            "SYS_unshare",
            "SYS_setns",
            "SYS_swapon",
            "SYS_swapoff",
            "SYS_pivot_root",
            "SYS_userfaultfd",
            "SYS_syslog",
            "SYS_reboot",
            "SYS_iopl",
            "SYS_ioperm",
            "SYS_quotactl",
            "SYS_io_uring_setup",
        ] {
            assert!(!ALLOW.iter().any(|&(n, _)| n == name), "{name} is in ALLOW");
        }
        let all: HashSet<Capability> = caps::all();
        for caps in [HashSet::new(), docker_caps(), all] {
            let policy = docker_default(&caps).expect("compiles");
            assert!(!policy.programs.is_empty());
        }
    }

    #[test]
    fn docker_caps_keep_docker_refusals() {
        in_child("docker_caps_keep_docker_refusals", || {
            install(&docker_caps());
            let eperm = libc::EPERM;

            assert!(call(libc::SYS_getpid, &[]).expect("getpid") > 0);
            let mut fs_base = 0u64;
            call(
                libc::SYS_arch_prctl,
                &[
                    0x1003, /* ARCH_GET_FS */
                    &mut fs_base as *mut u64 as u64,
                ],
            )
            .expect("arch_prctl(ARCH_GET_FS)");

            // KEYCTL_GET_KEYRING_ID of KEY_SPEC_SESSION_KEYRING: fine for
            // the kernel, refused by the filter.
            assert_errno(
                "keyctl",
                call(libc::SYS_keyctl, &[0, -3i64 as u64, 0]),
                eperm,
            );
            assert_errno("add_key", call(libc::SYS_add_key, &[]), eperm);
            assert_errno("bpf", call(libc::SYS_bpf, &[0, 0, 0]), eperm);
            assert_errno(
                "perf_event_open",
                call(libc::SYS_perf_event_open, &[0, 0, -1i64 as u64]),
                eperm,
            );
            let (none, nowhere, tmpfs) = (cstr("none"), cstr(NOWHERE), cstr("tmpfs"));
            assert_errno(
                "mount",
                call(
                    libc::SYS_mount,
                    &[
                        none.as_ptr() as u64,
                        nowhere.as_ptr() as u64,
                        tmpfs.as_ptr() as u64,
                    ],
                ),
                eperm,
            );
            assert_errno(
                "unshare(CLONE_NEWNS)",
                call(libc::SYS_unshare, &[libc::CLONE_NEWNS as u64]),
                eperm,
            );
            // The kernel would say EINVAL to a null clone_args.
            assert_errno("clone3", call(libc::SYS_clone3, &[0, 0]), libc::ENOSYS);
            assert_errno(
                "clone(CLONE_NEWNS)",
                raw_clone(libc::CLONE_NEWNS as u64),
                eperm,
            );
            // More of the refusals, each with arguments the kernel would
            // accept or answer with something other than EPERM.
            assert_errno("userfaultfd", call(libc::SYS_userfaultfd, &[0]), eperm);
            // SYSLOG_ACTION_SIZE_BUFFER
            assert_errno("syslog", call(libc::SYS_syslog, &[10, 0, 0]), eperm);
            // Wrong magic: the kernel would say EINVAL.
            assert_errno("reboot", call(libc::SYS_reboot, &[0, 0, 0]), eperm);
            assert_errno(
                "open_by_handle_at",
                call(libc::SYS_open_by_handle_at, &[-1i64 as u64, 0, 0]),
                eperm,
            );
            assert_errno("setns", call(libc::SYS_setns, &[-1i64 as u64, 0]), eperm);
            // No syscall has this number: the default action, not ENOSYS.
            assert_errno("syscall 999", call(999, &[]), eperm);

            // glibc's fork is clone without namespace flags.
            // SAFETY: the child only calls _exit.
            match unsafe { libc::fork() } {
                // SAFETY: leaving the child.
                0 => unsafe { libc::_exit(7) },
                pid => {
                    assert!(pid > 0, "fork: {}", io::Error::last_os_error());
                    let mut status = 0;
                    // SAFETY: reaping our own child.
                    unsafe { libc::waitpid(pid, &mut status, 0) };
                    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 7);
                }
            }
            // glibc tries clone3 first and falls back to clone on ENOSYS.
            assert_eq!(std::thread::spawn(|| 6 * 7).join().expect("thread"), 42);

            assert!(call(libc::SYS_personality, &[0xffff_ffff]).is_ok());
            assert_errno(
                "personality(READ_IMPLIES_EXEC)",
                call(libc::SYS_personality, &[0x040_0000]),
                eperm,
            );

            let inet = call(
                libc::SYS_socket,
                &[libc::AF_INET as u64, libc::SOCK_STREAM as u64, 0],
            )
            .expect("socket(AF_INET, SOCK_STREAM)");
            // SAFETY: closing the socket just made.
            unsafe { libc::close(inet as i32) };
            for family in [libc::AF_VSOCK as u64, 0x1_0000_0000 | libc::AF_VSOCK as u64] {
                assert_errno(
                    &format!("socket({family:#x})"),
                    call(libc::SYS_socket, &[family, libc::SOCK_STREAM as u64, 0]),
                    eperm,
                );
            }

            // CAP_SYS_CHROOT is granted: chroot reaches the kernel.
            assert_errno(
                "chroot",
                call(libc::SYS_chroot, &[nowhere.as_ptr() as u64]),
                libc::ENOENT,
            );
            // Allowed from Linux 4.8 on; pid 0 is nobody, so ESRCH.
            assert_errno(
                "ptrace",
                call(libc::SYS_ptrace, &[libc::PTRACE_PEEKDATA as u64, 0, 0, 0]),
                libc::ESRCH,
            );
        });
    }

    #[test]
    fn sys_admin_reaches_the_kernel() {
        in_child("sys_admin_reaches_the_kernel", || {
            let mut caps = docker_caps();
            caps.insert(Capability::CAP_SYS_ADMIN);
            install(&caps);

            // Each call gets arguments the kernel refuses with its own
            // errno, so nothing happens to this process or the host.
            let (none, nowhere, tmpfs) = (cstr("none"), cstr(NOWHERE), cstr("tmpfs"));
            assert_errno(
                "mount",
                call(
                    libc::SYS_mount,
                    &[
                        none.as_ptr() as u64,
                        nowhere.as_ptr() as u64,
                        tmpfs.as_ptr() as u64,
                    ],
                ),
                libc::ENOENT,
            );
            // 0x1 is no CLONE_* flag unshare knows.
            assert_errno(
                "unshare(0x1)",
                call(libc::SYS_unshare, &[0x1]),
                libc::EINVAL,
            );
            assert_errno("clone3", call(libc::SYS_clone3, &[0, 0]), libc::EINVAL);
            // A new mount namespace sharing the filesystem info is invalid.
            assert_errno(
                "clone(CLONE_NEWNS|CLONE_FS)",
                raw_clone((libc::CLONE_NEWNS | libc::CLONE_FS) as u64),
                libc::EINVAL,
            );
            assert_errno("bpf", call(libc::SYS_bpf, &[1000, 0, 0]), libc::EINVAL);
            assert_errno(
                "perf_event_open",
                call(libc::SYS_perf_event_open, &[0, 0, -1i64 as u64]),
                libc::EFAULT,
            );
            assert_errno(
                "setns",
                call(libc::SYS_setns, &[-1i64 as u64, 0]),
                libc::EBADF,
            );
            // Still refused: not gated on any capability.
            assert_errno("add_key", call(libc::SYS_add_key, &[]), libc::EPERM);
            assert_errno(
                "personality(READ_IMPLIES_EXEC)",
                call(libc::SYS_personality, &[0x040_0000]),
                libc::EPERM,
            );
        });
    }

    #[test]
    fn exec_works_under_the_policy() {
        in_child("exec_works_under_the_policy", || {
            install(&docker_caps());
            // std spawns with glibc's posix_spawn, which uses clone3 and
            // falls back to clone only on ENOSYS: without the ENOSYS
            // filter (plain EPERM) this spawn fails.
            let status = Command::new("/bin/true")
                .status()
                .expect("running /bin/true");
            assert!(status.success(), "/bin/true: {status}");
        });
    }

    #[test]
    fn clone3_enosys_needs_the_newer_filter() {
        in_child("clone3_enosys_needs_the_newer_filter", || {
            let policy = docker_default(&docker_caps()).expect("compiles");
            assert_eq!(policy.programs.len(), 2);
            // The ENOSYS filter first, the main one last: now the main
            // filter's EPERM is the newest ERRNO and wins.
            let reversed = Policy {
                programs: policy.programs.iter().rev().cloned().collect(),
            };
            reversed.install().expect("installing");
            assert_errno("clone3", call(libc::SYS_clone3, &[0, 0]), libc::EPERM);
        });
    }

    /// Best per-call time of `rounds` rounds of `per_round` calls of `nr`.
    fn ns_per_call(nr: libc::c_long, arg: u64, rounds: u32, per_round: u32) -> f64 {
        (0..rounds)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..per_round {
                    // SAFETY: getppid and a personality query take integers.
                    unsafe { libc::syscall(nr, arg) };
                }
                start.elapsed().as_nanos() as f64 / f64::from(per_round)
            })
            .fold(f64::INFINITY, f64::min)
    }

    #[test]
    fn measure_filter_size_and_cost() {
        in_child("measure_filter_size_and_cost", || {
            let policy = docker_default(&docker_caps()).expect("compiles");
            let lens: Vec<usize> = policy.programs.iter().map(Vec::len).collect();
            let mut admin = docker_caps();
            admin.insert(Capability::CAP_SYS_ADMIN);
            let admin_lens: Vec<usize> = docker_default(&admin)
                .expect("compiles")
                .programs
                .iter()
                .map(Vec::len)
                .collect();
            println!(
                "seccomp: {} syscalls allowed outright; BPF instructions: {lens:?} \
                 (main, clone3) with Docker's caps, {admin_lens:?} with CAP_SYS_ADMIN",
                ALLOW.len()
            );

            // The best of many short rounds: this machine's 2 cores are
            // shared with other builds, and a short round is more likely to
            // run undisturbed.
            let (rounds, calls) = (50, 20_000);
            // seccompiler's filter is a linear chain in syscall-number
            // order: each syscall that is not the one made costs two
            // instructions (JEQ, JA) before the right one is reached.
            // personality(0xffffffff) only reads the persona, but its rule
            // reads an argument, so the kernel must run the BPF for it;
            // getppid's verdict never depends on arguments, so the kernel's
            // per-syscall cache of constant ALLOWs (Linux 5.11+) skips BPF.
            let query = 0xffff_ffff;
            let before = (
                ns_per_call(libc::SYS_getppid, 0, rounds, calls),
                ns_per_call(libc::SYS_personality, query, rounds, calls),
            );
            policy.install().expect("installing");
            let after = (
                ns_per_call(libc::SYS_getppid, 0, rounds, calls),
                ns_per_call(libc::SYS_personality, query, rounds, calls),
            );
            println!(
                "seccomp: ns per call, best of {rounds} x {calls}: getppid {:.1} without the \
                 filter, {:.1} with; personality(0xffffffff) {:.1} without, {:.1} with",
                before.0, after.0, before.1, after.1
            );
        });
    }
}
