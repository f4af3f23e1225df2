//! Robustness: the front end never panics and always returns a program or a
//! diagnostic, over 100,000 mutated and generated inputs per run.
//!
//! Inputs come from the examples and a seed corpus, mutated at byte and token
//! level, spliced together, and from a random grammar of D clauses. The seed
//! is fixed so a failure reproduces; set `LUMEN_FUZZ_SEED` to explore others
//! and `LUMEN_FUZZ_CASES` to change the count.

use d_lang::catalog::StaticCatalog;
use d_lang::{compile, CompileOptions, DescField, Origin};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// xorshift64*: small, fast and deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const SEEDS: &[&str] = &[
    "BEGIN { trace(1); exit(0); }",
    "syscall::read:entry /pid == $pid/ { self->ts = timestamp; }",
    "syscall::read:return /self->ts/ { @[execname] = quantize(timestamp - self->ts); self->ts = 0; }",
    "profile-997 /arg0/ { @k[stack()] = count(); } tick-1s { printa(\"%k %@d\\n\", @k); trunc(@k, 5); }",
    "typedef struct s { int a : 3; char b[4]; union { int x; long y; } u; } s_t; s_t v; BEGIN { v.a = 1; trace(sizeof (s_t)); }",
    "inline int N = 4 * (2 + 1); enum e { A, B = N, C }; BEGIN { trace(C); trace(N << 2); }",
    "#pragma D option quiet\n#pragma D option bufsize=4m\nEND { printf(\"%s %d %5.2x %-10s\\n\", execname, pid, 255, \"x\"); }",
    "BEGIN { x[1, \"a\"] = 2; y = x[1, \"a\"] ? strjoin(\"a\", \"b\") : \"c\"; trace(y); }",
    "syscall::openat:entry { self->s = speculation(); speculate(self->s); printf(\"%s\", copyinstr(arg1)); }",
    "struct info { int id; }; translator struct info < int v > { id = v * 2; }; BEGIN { trace(xlate<struct info>(3).id); }",
    "BEGIN { @l = lquantize(pid, 0, 100, 10); @ll = llquantize(pid, 10, 0, 6, 20); @a[probefunc] = avg(1); printa(@a); }",
    "sdt:sched::sched_switch { @[stringof(args[0]), args[1]] = count(); }",
    "BEGIN { if (pid > 0) { trace(1); } else trace(2); this->x = (char)pid; trace(this->x); }",
    "proc:::exec-success { trace(curpsinfo->pr_psargs); trace(curlwpsinfo->pr_lwpid); }",
];

const TOKENS: &[&str] = &[
    "@",
    "@a",
    "self->",
    "this->",
    "->",
    ".",
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    "/",
    ";",
    ",",
    "\"",
    "'",
    "$1",
    "$$1",
    "$target",
    "$pid",
    "#pragma D option ",
    "#pragma D ",
    "\n#",
    "int ",
    "string ",
    "struct ",
    "union ",
    "enum ",
    "typedef ",
    "inline ",
    "translator ",
    "sizeof ",
    "offsetof(",
    "stringof ",
    "xlate<",
    "?",
    ":",
    "=",
    "+=",
    "<<=",
    "++",
    "--",
    "&&",
    "^^",
    "||",
    "!",
    "~",
    "*",
    "&",
    "-",
    "0x",
    "0",
    "1.5",
    "'\\x'",
    "99999999999999999999",
    "\\",
    "/*",
    "*/",
    "//",
    "count()",
    "quantize(",
    "lquantize(x, 0, ",
    "printa(",
    "printf(\"%",
    "%@d",
    "%hhd",
    "%*.*s",
    "trace(",
    "exit(",
    "stack(",
    "args[",
    "arg0",
    "curthread->",
    "`",
    "syscall:::",
    "profile-",
    "tick-",
    ":::",
    "*",
    "BEGIN",
    "END",
    "é",
    "\0",
    "\t",
    "\n",
    " ",
];

const EXPR_ATOMS: &[&str] = &[
    "1",
    "0",
    "-1",
    "0xff",
    "'c'",
    "\"s\"",
    "pid",
    "execname",
    "timestamp",
    "arg0",
    "args[0]",
    "x",
    "self->t",
    "this->u",
    "a[1]",
    "curpsinfo->pr_pid",
    "sizeof (int)",
    "(char)300",
    "cpu",
    "probefunc",
];
const BINOPS: &[&str] = &[
    "+", "-", "*", "/", "%", "<<", ">>", "<", ">", "<=", ">=", "==", "!=", "&", "^", "|", "&&",
    "^^", "||", ",",
];

fn gen_expr(rng: &mut Rng, depth: usize) -> String {
    if depth == 0 || rng.below(4) == 0 {
        return rng.pick(EXPR_ATOMS).to_string();
    }
    match rng.below(7) {
        0 => format!("({})", gen_expr(rng, depth - 1)),
        1 => format!(
            "{}{}",
            rng.pick(&["-", "!", "~", "*", "&", "+"]),
            gen_expr(rng, depth - 1)
        ),
        2 => format!(
            "{} ? {} : {}",
            gen_expr(rng, depth - 1),
            gen_expr(rng, depth - 1),
            gen_expr(rng, depth - 1)
        ),
        3 => format!(
            "{}({})",
            rng.pick(&[
                "strlen",
                "copyinstr",
                "stringof",
                "lltostr",
                "htons",
                "trace"
            ]),
            gen_expr(rng, depth - 1)
        ),
        4 => format!(
            "({}){}",
            rng.pick(&["int", "char *", "uint64_t", "string", "void"]),
            gen_expr(rng, depth - 1)
        ),
        _ => format!(
            "{} {} {}",
            gen_expr(rng, depth - 1),
            rng.pick(BINOPS),
            gen_expr(rng, depth - 1)
        ),
    }
}

fn gen_clause(rng: &mut Rng) -> String {
    let probe = rng.pick(&[
        "BEGIN",
        "END",
        "syscall::read:entry",
        "syscall:::return",
        "profile-97",
        "tick-1s",
        "sched:::on-cpu",
    ]);
    let pred = if rng.below(2) == 0 {
        format!("/{}/", gen_expr(rng, 3))
    } else {
        String::new()
    };
    let mut body = String::new();
    for _ in 0..rng.below(4) {
        let stmt = match rng.below(6) {
            0 => format!("x = {};", gen_expr(rng, 3)),
            1 => format!(
                "@{}[{}] = {}({});",
                rng.pick(&["", "a", "b"]),
                gen_expr(rng, 2),
                rng.pick(&["count", "sum", "avg", "quantize", "max"]),
                gen_expr(rng, 2)
            ),
            2 => format!("trace({});", gen_expr(rng, 3)),
            3 => format!(
                "printf(\"{}\", {});",
                rng.pick(&["%d", "%s", "%d %d", "%x\\n", "%@d"]),
                gen_expr(rng, 2)
            ),
            4 => format!("self->t = {};", gen_expr(rng, 3)),
            _ => format!("if ({}) {{ trace(1); }}", gen_expr(rng, 2)),
        };
        body.push_str(&stmt);
    }
    format!("{probe} {pred} {{ {body} }}\n")
}

fn mutate(rng: &mut Rng, corpus: &[String]) -> Vec<u8> {
    let mut b = corpus[rng.below(corpus.len())].clone().into_bytes();
    for _ in 0..1 + rng.below(4) {
        let len = b.len();
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len);
                b[i] = (rng.next() & 0x7f) as u8;
            }
            1 => {
                let i = rng.below(len + 1);
                let t = rng.pick(TOKENS).as_bytes().to_vec();
                b.splice(i..i, t);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let j = (i + 1 + rng.below(16)).min(len);
                b.drain(i..j);
            }
            3 => {
                let other = corpus[rng.below(corpus.len())].as_bytes();
                if !other.is_empty() {
                    let s = rng.below(other.len());
                    let e = (s + 1 + rng.below(64)).min(other.len());
                    let i = rng.below(len + 1);
                    b.splice(i..i, other[s..e].to_vec());
                }
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let j = (i + 1 + rng.below(32)).min(len);
                let dup = b[i..j].to_vec();
                b.splice(j..j, dup);
            }
            _ if len > 0 => b.truncate(rng.below(len)),
            _ => {}
        }
    }
    b
}

#[test]
fn front_end_never_panics() {
    let cases: usize = std::env::var("LUMEN_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let seed: u64 = std::env::var("LUMEN_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_1ee7_d00d);
    let mut rng = Rng(seed | 1);
    let mut corpus: Vec<String> = SEEDS.iter().map(|s| s.to_string()).collect();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("examples/")
        .flatten()
        .map(|e| e.path())
        .collect();
    paths.sort();
    for p in paths {
        if p.extension().and_then(|e| e.to_str()) == Some("d") {
            corpus.push(std::fs::read_to_string(&p).expect("example"));
        }
    }
    let catalog = StaticCatalog::sample();
    let (mut programs, mut diagnostics) = (0usize, 0usize);
    for i in 0..cases {
        let input = if i % 5 == 0 {
            (0..1 + rng.below(3))
                .map(|_| gen_clause(&mut rng))
                .collect::<String>()
        } else {
            String::from_utf8_lossy(&mutate(&mut rng, &corpus)).into_owned()
        };
        let origin = if i % 3 == 0 {
            Origin::Spec(DescField::Name)
        } else {
            Origin::File("fuzz.d".into())
        };
        let mut opts = CompileOptions::new(origin);
        opts.macro_args = vec!["fuzz.d".into(), "7".into()];
        // Most inputs do not name $1: without argref every one would stop
        // at D_MACRO_UNUSED before reaching the resolver.
        opts.argref = true;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            match compile(&input, &opts, &catalog) {
                Ok(p) => {
                    let _ = p.to_string();
                    Ok(())
                }
                Err(d) => {
                    let body = d.body(true, true);
                    assert!(!d.message.is_empty(), "empty message");
                    if let Some(span) = d.span {
                        assert!(
                            span.start <= span.end && span.end <= input.len(),
                            "span {span:?} outside input"
                        );
                    }
                    Err(body)
                }
            }
        }));
        match outcome {
            Ok(Ok(())) => programs += 1,
            Ok(Err(_)) => diagnostics += 1,
            Err(_) => panic!("front end panicked on case {i} (seed {seed}): {input:?}"),
        }
        if i % 1000 == 999 && rng.below(4) == 0 && input.len() < 4096 {
            corpus.push(input);
        }
    }
    assert_eq!(programs + diagnostics, cases);
    // Both outcomes occur, or the fuzzer is not exploring.
    assert!(programs > cases / 100, "only {programs} programs compiled");
    assert!(diagnostics > cases / 10, "only {diagnostics} diagnostics");
    println!("{cases} inputs: {programs} programs, {diagnostics} diagnostics");
}
