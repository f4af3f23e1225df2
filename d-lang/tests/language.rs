//! Positive tests: every construct of the D language parses, resolves and
//! types as DTrace does. Constant folding lets precedence tests read values.

use d_lang::catalog::StaticCatalog;
use d_lang::ir::{Action, AggFunc, ExprKind, Program, Scope, Stmt};
use d_lang::{compile, CompileOptions, DescField, Origin};

fn file(src: &str) -> Program {
    let opts = CompileOptions::new(Origin::File("t.d".into()));
    match compile(src, &opts, &StaticCatalog::sample()) {
        Ok(p) => p,
        Err(d) => panic!("{src:?} failed: {}", d.body(true, true)),
    }
}

fn traced(src_expr: &str) -> d_lang::ir::Expr {
    traced_with("", src_expr)
}

fn traced_with(decls: &str, src_expr: &str) -> d_lang::ir::Expr {
    let p = file(&format!("{decls}\nBEGIN {{ trace({src_expr}); }}"));
    match p.clauses[0].body.last() {
        Some(Stmt::Action(Action::Trace(e))) => e.clone(),
        other => panic!("unexpected body {other:?}"),
    }
}

/// The folded constant value of an expression, as a signed number.
fn value(src_expr: &str) -> i64 {
    let e = traced(src_expr);
    match e.kind {
        ExprKind::Const(v) => v as i64,
        other => panic!("{src_expr} did not fold: {other:?}"),
    }
}

fn type_name(src_expr: &str) -> String {
    traced(src_expr).ty.name()
}

#[test]
fn c_precedence_and_associativity() {
    assert_eq!(value("1 + 2 * 3"), 7);
    assert_eq!(value("(1 + 2) * 3"), 9);
    assert_eq!(value("10 - 4 - 3"), 3);
    assert_eq!(value("100 / 10 / 5"), 2);
    assert_eq!(value("1 << 2 + 1"), 8);
    assert_eq!(value("1 | 2 ^ 3 & 1"), 3);
    assert_eq!(value("1 < 2 == 1"), 1);
    assert_eq!(value("5 > 3 && 2 > 1 || 0"), 1);
    assert_eq!(value("1 ^^ 1"), 0);
    assert_eq!(value("1 ^^ 0 && 0"), 1);
    assert_eq!(value("0 || 1 ^^ 1"), 0);
    assert_eq!(value("1 ? 2 : 3 ? 4 : 5"), 2);
    assert_eq!(value("0 ? 2 : 0 ? 4 : 5"), 5);
    assert_eq!(value("-7 / 2"), -3);
    assert_eq!(value("-7 % 3"), -1);
    assert_eq!(value("~0"), -1);
    assert_eq!(value("!5"), 0);
    assert_eq!(value("-(-3)"), 3);
    assert_eq!(value("+4"), 4);
    assert_eq!(value("(1, 2, 3)"), 3);
    assert_eq!(value("-1 >> 1"), -1);
    assert_eq!(value("0xffffffffU >> 4"), 0x0fffffff);
    assert_eq!(value("(char)300"), 44);
    assert_eq!(value("(unsigned char)-1"), 255);
    assert_eq!(value("(short)0x18000"), -32768);
}

#[test]
fn integer_literal_types() {
    assert_eq!(type_name("1"), "int");
    assert_eq!(type_name("1u"), "unsigned int");
    assert_eq!(type_name("1L"), "long");
    assert_eq!(type_name("1UL"), "unsigned long");
    assert_eq!(type_name("1ll"), "long long");
    assert_eq!(type_name("1ULL"), "unsigned long long");
    assert_eq!(type_name("2147483648"), "long");
    assert_eq!(type_name("0x80000000"), "unsigned int");
    assert_eq!(type_name("0x8000000000000000"), "unsigned long");
    assert_eq!(value("017"), 15);
    assert_eq!(value("0X1F"), 31);
    assert_eq!(type_name("'a'"), "int");
    assert_eq!(value("'a'"), 97);
    assert_eq!(value("'\\n'"), 10);
    assert_eq!(value("'\\0'"), 0);
    assert_eq!(value("'\\x41'"), 65);
    assert_eq!(value("'\\101'"), 65);
    assert_eq!(value("'\\377'"), -1);
    assert_eq!(value("'ab'"), 0x6162);
}

#[test]
fn usual_arithmetic_conversions() {
    // D does not promote narrow integers to int (D-ERRTAGS §3.1).
    assert_eq!(type_name("(char)1 + (char)1"), "char");
    assert_eq!(type_name("1u + 1"), "unsigned int");
    assert_eq!(type_name("1 + 1L"), "long");
    assert_eq!(type_name("1u + 1L"), "long");
    assert_eq!(type_name("1UL + 1L"), "unsigned long");
    assert_eq!(type_name("timestamp - timestamp"), "uint64_t");
    assert_eq!(type_name("pid"), "pid_t");
    // Equal rank and sign keep the left operand's type, as dt_type_promote does.
    assert_eq!(type_name("pid + 1"), "pid_t");
    assert_eq!(type_name("execname == \"x\""), "int");
    assert_eq!(type_name("arg0"), "int64_t");
    assert_eq!(type_name("walltimestamp"), "int64_t");
    assert_eq!(type_name("1 << 40L"), "int");
}

#[test]
fn string_literals_and_escapes() {
    let e = traced("\"a\\tb\\n\\\\\\\"\\x41\\101\\a\\v\\f\\b\\r\\?\\'\"");
    match e.kind {
        ExprKind::Str(s) => assert_eq!(s, b"a\tb\n\\\"AA\x07\x0b\x0c\x08\r?'"),
        k => panic!("{k:?}"),
    }
    match traced("\"ab\" \"cd\"").kind {
        ExprKind::Str(s) => assert_eq!(s, b"abcd"),
        k => panic!("{k:?}"),
    }
    assert_eq!(type_name("\"s\""), "string");
}

#[test]
fn probe_descriptions() {
    let p = file("syscall::read:entry, syscall::write:entry { }");
    assert_eq!(p.matched_probes(), 2);
    assert!(p.clauses[0].default_action);
    let p = file("syscall::*read*:entry { }");
    assert_eq!(p.matched_probes(), 1);
    let p = file("syscall:::entry { }");
    assert_eq!(p.matched_probes(), 9);
    let p = file("syscall::[rw]*:return { }");
    assert_eq!(p.matched_probes(), 2);
    let p = file("syscall::?ead:entry { }");
    assert_eq!(p.matched_probes(), 1);
    let p = file("read:entry { }");
    assert_eq!(p.matched_probes(), 1);
    let p = file(":::BEGIN { }");
    assert_eq!(p.clauses[0].probes[0].name, "BEGIN");
    let p = file("profile-97 { } tick-1s { }");
    assert_eq!(p.clauses.len(), 2);
    // The same probe named twice in one clause is enabled once.
    let p = file("syscall::read:entry, syscall::rea?:entry { }");
    assert_eq!(p.matched_probes(), 1);
    let p = file("sched:::on-cpu, proc:::exec-success { }");
    assert_eq!(p.matched_probes(), 2);
}

#[test]
fn probe_specifier_kinds() {
    let cat = StaticCatalog::sample();
    let run = |origin: Origin, src: &str| {
        compile(src, &CompileOptions::new(origin), &cat).map(|p| p.matched_probes())
    };
    assert_eq!(run(Origin::Spec(DescField::Name), "BEGIN"), Ok(1));
    assert_eq!(run(Origin::Spec(DescField::Provider), "syscall"), Ok(18));
    assert_eq!(
        run(Origin::Spec(DescField::Module), "syscall:vmlinux"),
        Ok(18)
    );
    assert_eq!(run(Origin::Spec(DescField::Function), "read"), Ok(2));
    assert_eq!(
        run(
            Origin::Spec(DescField::Function),
            "syscall::read{ trace(1) }"
        ),
        Ok(2)
    );
    assert_eq!(run(Origin::ProbeId, "2"), Ok(1));
    assert!(run(Origin::ProbeId, "9999").is_err());
    // A bare description is only allowed outside script files.
    assert!(run(Origin::File("f.d".into()), "BEGIN").is_err());
}

#[test]
fn predicates_and_division() {
    let p = file("BEGIN /1 / 2 == 0/ { trace(4 / 2); }");
    assert!(p.clauses[0].predicate.is_some());
    let p = file("syscall::read:entry /arg0 / 2 > 1 && pid != $pid/ { }");
    assert!(p.clauses[0].predicate.is_some());
    let p = file("BEGIN /pid/ /* a comment */ { }");
    assert!(p.clauses[0].predicate.is_some());
    let p = file("BEGIN\n/ execname == \"ls\" /\n{\n}\n");
    assert!(p.clauses[0].predicate.is_some());
}

#[test]
fn variables_of_every_scope() {
    let p = file(
        "self int depth; this string s; int g; uint64_t start;\n\
         BEGIN { g = 1; self->depth++; this->s = \"x\"; start = timestamp; a[pid, \"k\"] = 3; self->t[1] = 2; }\n\
         END { trace(g); trace(a[1, \"z\"]); trace(self->t[4]); }",
    );
    let scopes: Vec<_> = p
        .variables
        .iter()
        .map(|v| (v.name.as_str(), v.scope, v.keys.is_some()))
        .collect();
    assert!(scopes.contains(&("depth", Scope::Thread, false)));
    assert!(scopes.contains(&("s", Scope::Clause, false)));
    assert!(scopes.contains(&("g", Scope::Global, false)));
    assert!(scopes.contains(&("a", Scope::Global, true)));
    assert!(scopes.contains(&("t", Scope::Thread, true)));
    let a = p.variables.iter().find(|v| v.name == "a").unwrap();
    let keys: Vec<_> = a.keys.as_ref().unwrap().iter().map(|t| t.name()).collect();
    assert_eq!(keys, vec!["pid_t", "string"]);
    let start = p.variables.iter().find(|v| v.name == "start").unwrap();
    assert_eq!(start.ty.name(), "uint64_t");
}

#[test]
fn declared_associative_arrays() {
    let p = file(
        "int counts[string, int];\nBEGIN { counts[\"a\", 1] = 2; trace(counts[execname, pid]); }",
    );
    let v = p.variables.iter().find(|v| v.name == "counts").unwrap();
    assert_eq!(v.keys.as_ref().unwrap().len(), 2);
}

#[test]
fn assignment_operators_and_incdec() {
    let p = file("BEGIN { x = 1; x += 2; x -= 1; x *= 3; x /= 2; x %= 5; x <<= 1; x >>= 1; x &= 7; x |= 8; x ^= 1; x++; ++x; x--; --x; y = x = 4; }");
    assert_eq!(p.clauses[0].body.len(), 16);
}

#[test]
fn casts_sizeof_offsetof_stringof() {
    assert_eq!(value("sizeof (int)"), 4);
    assert_eq!(value("sizeof (char *)"), 8);
    assert_eq!(value("sizeof (uint16_t)"), 2);
    assert_eq!(value("sizeof (long long)"), 8);
    assert_eq!(value("sizeof (int [10])"), 40);
    assert_eq!(value("sizeof pid"), 4);
    assert_eq!(value("sizeof (execname)"), 256);
    assert_eq!(type_name("sizeof (int)"), "size_t");
    let decl = "struct s { char c; int i; long l; short sh; };";
    assert_eq!(
        traced_with(decl, "offsetof(struct s, l)").as_const(),
        Some(8)
    );
    assert_eq!(traced_with(decl, "sizeof (struct s)").as_const(), Some(24));
    assert_eq!(
        traced_with(decl, "offsetof(struct s, sh)").as_const(),
        Some(16)
    );
    assert_eq!(type_name("stringof(pid)"), "string");
    assert_eq!(type_name("(char *)arg0"), "char *");
    assert_eq!(type_name("(uint64_t)pid"), "uint64_t");
    assert_eq!(type_name("*(int *)arg0"), "int");
    assert_eq!(type_name("((char *)arg0)[3]"), "char");
    assert_eq!(type_name("(string)(char *)arg0"), "string");
}

#[test]
fn structs_unions_enums_typedefs_bitfields() {
    let decls = "typedef struct pt { int x; int y; unsigned a : 3; unsigned b : 5; unsigned long c : 60; } pt_t;\n\
                 union u { int i; char c[8]; long l; };\n\
                 enum e { A, B = 10, C };\n\
                 typedef enum e e_t;\n\
                 pt_t p; union u uu; e_t ev;";
    assert_eq!(traced_with(decls, "sizeof (pt_t)").as_const(), Some(24));
    assert_eq!(traced_with(decls, "sizeof (union u)").as_const(), Some(8));
    assert_eq!(traced_with(decls, "C").as_const(), Some(11));
    assert_eq!(traced_with(decls, "offsetof(pt_t, y)").as_const(), Some(4));
    match traced_with(decls, "p.c").kind {
        ExprKind::Member { offset, bits, .. } => assert_eq!((offset, bits), (16, Some((0, 60)))),
        k => panic!("{k:?}"),
    }
    let e = traced_with(decls, "p.b");
    match e.kind {
        ExprKind::Member { offset, bits, .. } => {
            assert_eq!(offset, 8);
            assert_eq!(bits, Some((3, 5)));
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(traced_with(decls, "uu.c").ty.name(), "char [8]");
    assert_eq!(traced_with(decls, "ev").ty.name(), "e_t");
    // D variables live in dynamic storage: their address cannot be taken.
    let opts = CompileOptions::new(Origin::File("t.d".into()));
    let e = compile(
        &format!("{decls}\nBEGIN {{ trace((&p)->y); }}"),
        &opts,
        &StaticCatalog::sample(),
    )
    .unwrap_err();
    assert_eq!(e.tag, d_lang::ErrTag::D_ADDROF_VAR);
}

#[test]
fn pointers_arrays_and_function_pointers_in_declarations() {
    let decls =
        "int *ip; char **argv; int (*fp)(int, char *); int *arr[4]; int (*parr)[4]; char buf[16];";
    let p = file(&format!("{decls}\nBEGIN {{ }}"));
    let ty = |n: &str| p.variables.iter().find(|v| v.name == n).unwrap().ty.name();
    assert_eq!(ty("ip"), "int *");
    assert_eq!(ty("argv"), "char **");
    assert_eq!(ty("fp"), "int (*)(int, char *)");
    assert_eq!(ty("arr"), "int *[4]");
    assert_eq!(ty("parr"), "int (*)[4]");
    assert_eq!(ty("buf"), "char [16]");
}

#[test]
fn inlines_and_translators() {
    let src = "inline int MAX = 10 * 2;\n\
               inline string NAME = \"lumen\";\n\
               struct info { int id; string who; };\n\
               translator struct info < int v > { id = v + MAX; who = NAME; };\n\
               BEGIN { trace(MAX); trace(NAME); trace(xlate<struct info>(pid).id); x = xlate<struct info *>(1); }";
    let p = file(src);
    match &p.clauses[0].body[0] {
        Stmt::Action(Action::Trace(e)) => assert_eq!(e.as_const(), Some(20)),
        s => panic!("{s:?}"),
    }
}

#[test]
fn pragmas() {
    let p = file(
        "#pragma D option quiet\n#pragma D option bufsize=8m\n#pragma D option switchrate=10hz\n#pragma D option aggsortkey\n\
         #pragma D depends_on provider syscall\n#pragma D depends_on module vmlinux\n\
         #pragma D attributes Evolving/Evolving/Common provider syscall\n#pragma D binding \"1.0\" myfunc\n\
         #pragma ident \"whatever\"\nBEGIN { }",
    );
    let names: Vec<_> = p
        .options
        .iter()
        .map(|o| (o.name.as_str(), o.value.as_deref()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("quiet", None),
            ("bufsize", Some("8m")),
            ("switchrate", Some("10hz")),
            ("aggsortkey", None)
        ]
    );
}

#[test]
fn comments_everywhere() {
    file("/* lead */ BEGIN /* between */ /* again */ { /* in */ trace(1); // line\n } // trailing\n/* end */");
}

#[test]
fn macro_arguments() {
    let mut opts = CompileOptions::new(Origin::File("t.d".into()));
    opts.macro_args = vec!["t.d".into(), "100".into(), "read".into(), "-5".into()];
    opts.pid = 4242;
    opts.ppid = 1;
    opts.uid = 0;
    opts.gid = 0;
    opts.target = Some(77);
    let src = "syscall::$2:entry /pid == $target && $1 > 0/ { trace($$2); trace($pid); trace($ppid + $uid + $gid); trace($3); trace($$0); }";
    let p = compile(src, &opts, &StaticCatalog::sample()).unwrap();
    assert_eq!(p.clauses[0].probes[0].function, "read");
    let consts: Vec<_> = p.clauses[0]
        .body
        .iter()
        .filter_map(|s| match s {
            Stmt::Action(Action::Trace(e)) => Some(e.clone()),
            _ => None,
        })
        .collect();
    assert!(matches!(&consts[0].kind, ExprKind::Str(s) if s == b"read"));
    assert_eq!(consts[1].as_const(), Some(4242));
    assert_eq!(consts[2].as_const(), Some(1));
    assert_eq!(consts[3].as_const().map(|v| v as i64), Some(-5));
    assert!(matches!(&consts[4].kind, ExprKind::Str(s) if s == b"t.d"));
}

#[test]
fn aggregations_of_every_function() {
    let p = file(
        "syscall::read:return { @c = count(); @s[execname] = sum(arg0); @a[pid] = avg(arg0); @mn = min(arg0); @mx = max(arg0);\n\
         @sd = stddev(arg0); @q = quantize(arg0); @q2 = quantize(arg0, 2); @l = lquantize(arg0, -10, 100, 10);\n\
         @ll = llquantize(arg0, 10, 0, 6, 20); @[probefunc, stack()] = count(); @u[ustack(5)] = count(); @ks[sym(arg0), func(arg1), mod(arg2)] = count(); }\n\
         END { printa(@c); printa(\"%@d\\n\", @c); printa(\"%s %@d %@d\\n\", @s, @s); normalize(@s, 10); denormalize(@s); trunc(@q); trunc(@q, 5); clear(@c); }",
    );
    let funcs: Vec<_> = p.aggregations.iter().map(|a| a.func).collect();
    assert!(funcs.contains(&AggFunc::Lquantize {
        base: -10,
        limit: 100,
        step: 10
    }));
    assert!(funcs.contains(&AggFunc::Llquantize {
        factor: 10,
        low: 0,
        high: 6,
        nsteps: 20
    }));
    assert_eq!(p.aggregations.len(), 13);
    let anon = p.aggregations.iter().find(|a| a.name.is_empty()).unwrap();
    assert_eq!(anon.keys[1].name(), "stack");
}

#[test]
fn actions_and_subroutines() {
    file(
        "syscall::openat:entry {\n\
           printf(\"%s %d %5.2f %-10s %x %X %o %c %p %e %g %S %Y %u %i %lld %hd %ld %%\\n\", execname, pid, 1, \"x\", 255, 255, 8, 'c', arg0, 1, 2, \"s\", walltimestamp, 3, 4, 5L, 6, 7L);\n\
           printf(\"%*d %.*s\\n\", 5, 6, 3, \"abcd\");\n\
           trace(copyinstr(arg1)); trace(copyinstr(arg1, 32)); x = copyin(arg1, 8); trace(strlen(execname));\n\
           trace(strjoin(\"a\", execname)); trace(substr(execname, 1)); trace(substr(execname, 1, 2)); trace(index(execname, \"a\"));\n\
           trace(rindex(execname, \"a\")); trace(strchr(execname, 'a')); trace(strrchr(execname, 'a')); trace(strstr(execname, \"a\"));\n\
           trace(strtok(execname, \"/\")); trace(lltostr(12)); trace(toupper(execname)); trace(tolower(execname));\n\
           trace(basename(\"/a/b\")); trace(dirname(\"/a/b\")); trace(cleanpath(\"/a/../b\")); trace(htons(1)); trace(htonl(1));\n\
           trace(htonll(1)); trace(ntohs(1)); trace(ntohl(1)); trace(ntohll(1)); trace(rand()); trace(progenyof(1));\n\
           trace(getmajor(1)); trace(getminor(1)); trace(inet_ntoa((void *)arg0)); trace(inet_ntop(2, (void *)arg0));\n\
           tracemem(arg1, 16); stack(); stack(5); ustack(); ustack(5, 100); trace(stackdepth); trace(ustackdepth);\n\
           trace(caller); trace(ucaller); print(pid); this->p = alloca(16); bcopy((void *)arg0, this->p, 16);\n\
           setopt(\"quiet\"); setopt(\"bufsize\", \"8m\"); self->spec = speculation(); exit(0);\n\
         }",
    );
}

#[test]
fn speculations_in_order() {
    file(
        "syscall::read:entry { self->s = speculation(); speculate(self->s); printf(\"%d\", 1); }\n\
         syscall::read:return /self->s && arg0 < 0/ { commit(self->s); }\n\
         syscall::read:return /self->s && arg0 >= 0/ { discard(self->s); self->s = 0; }",
    );
}

#[test]
fn destructive_actions_are_marked() {
    let p = file("BEGIN { system(\"echo %d\", pid); raise(9); stop(); chill(100); copyoutstr(\"x\", arg0, 2); }");
    assert!(p.destructive);
    let p = file("BEGIN { trace(1); }");
    assert!(!p.destructive);
}

#[test]
fn if_else_statements_and_blocks() {
    let p = file("BEGIN { if (pid > 1) { trace(1); } else if (pid == 0) trace(2); else { trace(3); } { trace(4); } }");
    assert!(matches!(p.clauses[0].body[0], Stmt::If(..)));
}

#[test]
fn typed_probe_arguments() {
    assert_eq!(
        file("syscall::read:entry { trace(args[2]); }").clauses[0]
            .body
            .len(),
        1
    );
    let e = {
        let p = file("syscall::open:entry { trace(args[0]); }");
        match &p.clauses[0].body[0] {
            Stmt::Action(Action::Trace(e)) => e.clone(),
            s => panic!("{s:?}"),
        }
    };
    assert_eq!(e.ty.name(), "const char *");
    let p = file("sdt:sched::sched_switch { @[stringof(args[0]), args[1]] = count(); }");
    assert_eq!(p.aggregations[0].keys[0].name(), "string");
    assert_eq!(p.aggregations[0].keys[1].name(), "pid_t");
}

#[test]
fn shebang_line_is_ignored() {
    file("#!/usr/sbin/dtrace -qs\nBEGIN { exit(0); }");
}

#[test]
fn string_comparison_and_concatenation_rules() {
    assert_eq!(type_name("execname < \"m\""), "int");
    assert_eq!(type_name("(char *)arg0 == execname"), "int");
    assert_eq!(type_name("pid > 1 ? execname : \"none\""), "string");
    assert_eq!(type_name("strjoin(execname, \"x\")"), "string");
}

#[test]
fn intermediate_form_prints_typed_ir() {
    let p = file("syscall::read:entry /pid == 1/ { @[execname] = count(); self->ts = timestamp; }");
    let text = p.to_string();
    assert!(text.contains("probe "), "{text}");
    assert!(text.contains("syscall:vmlinux:read:entry"), "{text}");
    assert!(
        text.contains("predicate (== pid:pid_t 1:int):int"),
        "{text}"
    );
    assert!(text.contains("@[execname:string] <- count()"), "{text}");
    assert!(
        text.contains("(= self->ts:uint64_t timestamp:uint64_t):uint64_t"),
        "{text}"
    );
}

#[test]
fn provider_declarations_parse() {
    file("provider lumen { probe start(int, char *); probe done__now(uint64_t); };\nBEGIN { }");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!(
        "BEGIN {{ trace({}1{}); }}",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let opts = CompileOptions::new(Origin::File("t.d".into()));
    let e = compile(&deep, &opts, &StaticCatalog::sample()).unwrap_err();
    assert_eq!(e.tag, d_lang::ErrTag::D_SYNTAX);
    let long_chain = format!("BEGIN {{ trace(1{}); }}", " + 1".repeat(20000));
    assert!(compile(&long_chain, &opts, &StaticCatalog::sample()).is_err());
    let unary = format!("BEGIN {{ trace({}1); }}", "-".repeat(20000));
    assert!(compile(&unary, &opts, &StaticCatalog::sample()).is_err());
    let moderate = format!("BEGIN {{ trace({}1{}); }}", "(".repeat(40), ")".repeat(40));
    assert!(compile(&moderate, &opts, &StaticCatalog::sample()).is_ok());
}

#[test]
fn stable_types_from_the_prelude() {
    assert_eq!(type_name("curpsinfo->pr_pid"), "pid_t");
    assert_eq!(type_name("curpsinfo->pr_fname"), "char [16]");
    assert_eq!(type_name("curlwpsinfo->pr_lwpid"), "id_t");
    assert_eq!(type_name("(bufinfo_t *)arg0"), "bufinfo_t *");
    assert_eq!(value("sizeof (devinfo_t)"), 4 * 3 + 256 * 3);
    assert_eq!(type_name("((fileinfo_t *)arg0)->fi_pathname"), "string");
}
