//! D's built-in variables, actions, subroutines and aggregating functions,
//! with their types and prototypes: one table each, as `dt_open.c` has.

/// A built-in variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum BuiltinVar {
    Arg(u8),
    Caller,
    Ucaller,
    Cpu,
    Curthread,
    Curpsinfo,
    Curlwpsinfo,
    Cwd,
    Epid,
    Errno,
    Execname,
    Gid,
    Id,
    Ipl,
    Pid,
    Ppid,
    Probefunc,
    Probemod,
    Probename,
    Probeprov,
    Root,
    Stackdepth,
    Tid,
    Timestamp,
    Uid,
    Ustackdepth,
    Vtimestamp,
    Walltimestamp,
    Zonename,
    Zoneid,
    Chip,
    Lgrp,
    Pset,
}

/// Name, D type (as type text) and variable, for every built-in but `args[]`.
pub const VARIABLES: &[(&str, &str, BuiltinVar)] = &[
    ("arg0", "int64_t", BuiltinVar::Arg(0)),
    ("arg1", "int64_t", BuiltinVar::Arg(1)),
    ("arg2", "int64_t", BuiltinVar::Arg(2)),
    ("arg3", "int64_t", BuiltinVar::Arg(3)),
    ("arg4", "int64_t", BuiltinVar::Arg(4)),
    ("arg5", "int64_t", BuiltinVar::Arg(5)),
    ("arg6", "int64_t", BuiltinVar::Arg(6)),
    ("arg7", "int64_t", BuiltinVar::Arg(7)),
    ("arg8", "int64_t", BuiltinVar::Arg(8)),
    ("arg9", "int64_t", BuiltinVar::Arg(9)),
    ("caller", "uintptr_t", BuiltinVar::Caller),
    ("chip", "chipid_t", BuiltinVar::Chip),
    ("cpu", "processorid_t", BuiltinVar::Cpu),
    ("curlwpsinfo", "lwpsinfo_t *", BuiltinVar::Curlwpsinfo),
    ("curpsinfo", "psinfo_t *", BuiltinVar::Curpsinfo),
    ("curthread", "struct task_struct *", BuiltinVar::Curthread),
    ("cwd", "string", BuiltinVar::Cwd),
    ("epid", "uint64_t", BuiltinVar::Epid),
    ("errno", "int", BuiltinVar::Errno),
    ("execname", "string", BuiltinVar::Execname),
    ("gid", "gid_t", BuiltinVar::Gid),
    ("id", "uint_t", BuiltinVar::Id),
    ("ipl", "uint_t", BuiltinVar::Ipl),
    ("lgrp", "lgrp_id_t", BuiltinVar::Lgrp),
    ("pid", "pid_t", BuiltinVar::Pid),
    ("ppid", "pid_t", BuiltinVar::Ppid),
    ("probefunc", "string", BuiltinVar::Probefunc),
    ("probemod", "string", BuiltinVar::Probemod),
    ("probename", "string", BuiltinVar::Probename),
    ("probeprov", "string", BuiltinVar::Probeprov),
    ("pset", "psetid_t", BuiltinVar::Pset),
    ("root", "string", BuiltinVar::Root),
    ("stackdepth", "uint32_t", BuiltinVar::Stackdepth),
    ("tid", "id_t", BuiltinVar::Tid),
    ("timestamp", "uint64_t", BuiltinVar::Timestamp),
    ("uid", "uid_t", BuiltinVar::Uid),
    ("ucaller", "uint64_t", BuiltinVar::Ucaller),
    ("ustackdepth", "uint32_t", BuiltinVar::Ustackdepth),
    ("vtimestamp", "uint64_t", BuiltinVar::Vtimestamp),
    ("walltimestamp", "int64_t", BuiltinVar::Walltimestamp),
    ("zoneid", "zoneid_t", BuiltinVar::Zoneid),
    ("zonename", "string", BuiltinVar::Zonename),
];

/// Look a built-in variable up by name.
pub fn variable(name: &str) -> Option<(&'static str, BuiltinVar)> {
    VARIABLES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, t, v)| (*t, *v))
}

/// What a built-in function is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FuncKind {
    /// Returns a value.
    Subroutine,
    /// Records data or acts; returns nothing (some, like `stack()`, also
    /// produce a value usable as an aggregation key).
    Action,
    /// Only as the value of an aggregation.
    Aggregating,
}

/// Properties of an action that the clause checks care about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ActionFlags {
    /// Records data into the principal buffer (`trace`, `printf`…).
    pub records: bool,
    /// Needs `-w`.
    pub destructive: bool,
}

/// A built-in function: prototype and kind.
#[derive(Debug, Clone, Copy)]
pub struct Func {
    /// Name.
    pub name: &'static str,
    /// Kind.
    pub kind: FuncKind,
    /// Return type text (`void` for actions).
    pub ret: &'static str,
    /// Parameter type texts; `@` is an aggregation, `*` any type, `...` more of anything.
    pub params: &'static [&'static str],
    /// How many parameters are required.
    pub required: usize,
    /// Action properties.
    pub flags: ActionFlags,
}

const REC: ActionFlags = ActionFlags {
    records: true,
    destructive: false,
};
const DESTR: ActionFlags = ActionFlags {
    records: true,
    destructive: true,
};
const NONE: ActionFlags = ActionFlags {
    records: false,
    destructive: false,
};

const fn f(
    name: &'static str,
    kind: FuncKind,
    ret: &'static str,
    params: &'static [&'static str],
    required: usize,
    flags: ActionFlags,
) -> Func {
    Func {
        name,
        kind,
        ret,
        params,
        required,
        flags,
    }
}

use FuncKind::{Action as A, Aggregating as G, Subroutine as S};

/// Every built-in function.
pub const FUNCS: &[Func] = &[
    // Aggregating functions.
    f("avg", G, "void", &["*"], 1, NONE),
    f("count", G, "void", &[], 0, NONE),
    f(
        "llquantize",
        G,
        "void",
        &["*", "int", "int", "int", "int", "*"],
        5,
        NONE,
    ),
    f(
        "lquantize",
        G,
        "void",
        &["*", "int", "int", "int", "*"],
        3,
        NONE,
    ),
    f("max", G, "void", &["*"], 1, NONE),
    f("min", G, "void", &["*"], 1, NONE),
    f("quantize", G, "void", &["*", "*"], 1, NONE),
    f("stddev", G, "void", &["*"], 1, NONE),
    f("sum", G, "void", &["*"], 1, NONE),
    // Data-recording and other actions.
    f("breakpoint", A, "void", &[], 0, DESTR),
    f("chill", A, "void", &["int"], 1, DESTR),
    f("clear", A, "void", &["@"], 1, NONE),
    f("commit", A, "void", &["int"], 1, NONE),
    f(
        "copyout",
        A,
        "void",
        &["void *", "uintptr_t", "size_t"],
        3,
        DESTR,
    ),
    f(
        "copyoutstr",
        A,
        "void",
        &["string", "uintptr_t", "size_t"],
        3,
        DESTR,
    ),
    f("denormalize", A, "void", &["@"], 1, NONE),
    f("discard", A, "void", &["int"], 1, NONE),
    f("exit", A, "void", &["int"], 1, REC),
    f("freopen", A, "void", &["string", "..."], 1, DESTR),
    f("ftruncate", A, "void", &[], 0, REC),
    f("jstack", A, "stack", &["uint32_t", "uint32_t"], 0, REC),
    f("normalize", A, "void", &["@", "uint64_t"], 2, NONE),
    f("panic", A, "void", &[], 0, DESTR),
    f("print", A, "void", &["*"], 1, REC),
    f("printa", A, "void", &["@", "..."], 1, REC),
    f("printf", A, "void", &["string", "..."], 1, REC),
    f("raise", A, "void", &["int"], 1, DESTR),
    f("setopt", A, "void", &["string", "string"], 1, NONE),
    f("speculate", A, "void", &["int"], 1, NONE),
    f("stack", A, "stack", &["uint32_t"], 0, REC),
    f("stop", A, "void", &[], 0, DESTR),
    f("system", A, "void", &["string", "..."], 1, DESTR),
    f("trace", A, "void", &["*"], 1, REC),
    f(
        "tracemem",
        A,
        "void",
        &["void *", "size_t", "size_t"],
        2,
        REC,
    ),
    // DTrace's prototype is `void(@, [int64_t])`.
    f("trunc", A, "void", &["@", "int64_t"], 1, NONE),
    f("ustack", A, "ustack", &["uint32_t", "uint32_t"], 0, REC),
    // Symbol-address conversions (values usable as keys and in printf).
    f("func", A, "_symaddr", &["uintptr_t"], 1, REC),
    f("mod", A, "_modaddr", &["uintptr_t"], 1, REC),
    f("sym", A, "_symaddr", &["uintptr_t"], 1, REC),
    f("uaddr", A, "_usymaddr", &["uint64_t"], 1, REC),
    f("ufunc", A, "_usymaddr", &["uint64_t"], 1, REC),
    f("umod", A, "_umodaddr", &["uint64_t"], 1, REC),
    f("usym", A, "_usymaddr", &["uint64_t"], 1, REC),
    // Subroutines.
    f("alloca", S, "void *", &["size_t"], 1, NONE),
    f("basename", S, "string", &["string"], 1, NONE),
    f("bcopy", S, "void", &["void *", "void *", "size_t"], 3, NONE),
    f("cleanpath", S, "string", &["string"], 1, NONE),
    f("copyin", S, "void *", &["uintptr_t", "size_t"], 2, NONE),
    f("copyinstr", S, "string", &["uintptr_t", "size_t"], 1, NONE),
    f(
        "copyinto",
        S,
        "void",
        &["uintptr_t", "size_t", "void *"],
        3,
        NONE,
    ),
    f("d_path", S, "string", &["struct path *"], 1, NONE),
    f("dirname", S, "string", &["string"], 1, NONE),
    f("getmajor", S, "dev_t", &["dev_t"], 1, NONE),
    f("getminor", S, "dev_t", &["dev_t"], 1, NONE),
    f("htonl", S, "uint32_t", &["uint32_t"], 1, NONE),
    f("htonll", S, "uint64_t", &["uint64_t"], 1, NONE),
    f("htons", S, "uint16_t", &["uint16_t"], 1, NONE),
    f("index", S, "int", &["string", "string", "int"], 2, NONE),
    f("inet_ntoa", S, "string", &["void *"], 1, NONE),
    f("inet_ntoa6", S, "string", &["void *"], 1, NONE),
    f("inet_ntop", S, "string", &["int", "void *"], 2, NONE),
    f("link_ntop", S, "string", &["int", "void *"], 2, NONE),
    f("lltostr", S, "string", &["int64_t", "int"], 1, NONE),
    f("mutex_owned", S, "int", &["void *"], 1, NONE),
    f("mutex_owner", S, "void *", &["void *"], 1, NONE),
    f("mutex_type_adaptive", S, "int", &["void *"], 1, NONE),
    f("mutex_type_spin", S, "int", &["void *"], 1, NONE),
    f("ntohl", S, "uint32_t", &["uint32_t"], 1, NONE),
    f("ntohll", S, "uint64_t", &["uint64_t"], 1, NONE),
    f("ntohs", S, "uint16_t", &["uint16_t"], 1, NONE),
    f("progenyof", S, "int", &["pid_t"], 1, NONE),
    f("rand", S, "int", &[], 0, NONE),
    f("rindex", S, "int", &["string", "string", "int"], 2, NONE),
    f("rw_iswriter", S, "int", &["void *"], 1, NONE),
    f("rw_read_held", S, "int", &["void *"], 1, NONE),
    f("rw_write_held", S, "int", &["void *"], 1, NONE),
    f("speculation", S, "int", &[], 0, NONE),
    f("strchr", S, "string", &["string", "char"], 2, NONE),
    f("strjoin", S, "string", &["string", "string"], 2, NONE),
    f("strlen", S, "size_t", &["string"], 1, NONE),
    f("strrchr", S, "string", &["string", "char"], 2, NONE),
    f("strstr", S, "string", &["string", "string"], 2, NONE),
    // DTrace's prototype is `string(const char *, const char *)`: the
    // first argument may be NULL (written 0 here), which continues the
    // previous tokenisation. Code generation rejects anything but a string
    // or the constant 0.
    f("strtok", S, "string", &["*", "string"], 2, NONE),
    f("strtoll", S, "int64_t", &["string", "int"], 1, NONE),
    f("substr", S, "string", &["string", "int", "int"], 2, NONE),
    f("tolower", S, "string", &["string"], 1, NONE),
    f("toupper", S, "string", &["string"], 1, NONE),
];

/// Look a built-in function up by name.
pub fn func(name: &str) -> Option<&'static Func> {
    FUNCS.iter().find(|f| f.name == name)
}

impl Func {
    /// The prototype as DTrace prints it in messages, e.g. `trace( )`.
    pub fn display_name(&self) -> String {
        format!("{}( )", self.name)
    }

    /// Maximum number of arguments, or `None` for varargs.
    pub fn max_args(&self) -> Option<usize> {
        if self.params.last() == Some(&"...") {
            None
        } else {
            Some(self.params.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_unique_and_parse() {
        let mut names: Vec<_> = FUNCS.iter().map(|f| f.name).collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len());
        let mut v: Vec<_> = VARIABLES.iter().map(|v| v.0).collect();
        v.sort();
        let n = v.len();
        v.dedup();
        assert_eq!(n, v.len());
        for f in FUNCS {
            assert!(f.required <= f.params.len(), "{}", f.name);
        }
        assert_eq!(func("printf").and_then(|f| f.max_args()), None);
        assert_eq!(func("trace").and_then(|f| f.max_args()), Some(1));
    }
}
