//! The workspace's shape, checked from its own source. In every crate the
//! modules' `crate::` and `super::` paths form a graph that must have no
//! cycle, so that each reads top-down (the compiler's stages as libdtrace's
//! do: lexer → parser → resolve → ir → codegen, over shared leaves such as
//! `span`, `diag`, `token`, `types`); no module of the D compiler reaches
//! back into its `lib.rs`; and no file holds more than 800 lines before its
//! tests (STYLE.md: a longer one wants splitting by idea).
//!
//! Only the code before a file's `#[cfg(test)]` counts (tests sit at the
//! foot of each file), `//` comments are dropped, and an edge is drawn
//! between top-level modules: `resolve/expr.rs` naming `crate::ir::Expr` is
//! `resolve → ir`. Run with `--nocapture` to print the graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Most lines a file may hold before its tests (STYLE.md: split by idea).
const MAX_LINES: usize = 800;

/// The crates checked, by folder (the binary's is `src/` at the root).
const CRATES: &[&str] = &[
    "probes",
    "d-lang",
    "engine",
    "hypervisor",
    "zones",
    "storage",
    "net",
    "tui",
    ".",
];

/// One source file: its path under `src/`, module path, and non-test code.
struct Source {
    path: PathBuf,
    module: Vec<String>,
    code: String,
}

fn collect(dir: &Path, root: &Path, out: &mut Vec<Source>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read src dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, root, out);
            continue;
        }
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if !name.ends_with(".rs") || name == "tests.rs" || name == "test_utils.rs" {
            continue;
        }
        let rel = p.strip_prefix(root).expect("under src").to_path_buf();
        let mut module: Vec<String> = rel
            .iter()
            .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string())
            .collect();
        if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
            module.pop();
        }
        let text = std::fs::read_to_string(&p).expect("read source");
        let code: String = text
            .lines()
            .take_while(|l| !l.trim_start().starts_with("#[cfg(test)]"))
            .map(|l| match l.find("//") {
                Some(i) => &l[..i],
                None => l,
            })
            .collect::<Vec<_>>()
            .join("\n");
        out.push(Source {
            path: rel,
            module,
            code,
        });
    }
}

/// The sources of crate `folder`.
fn sources(folder: &str) -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(folder)
        .join("src");
    let mut out = Vec::new();
    collect(&root, &root, &mut out);
    assert!(
        out.len() > 3,
        "{folder}: found only {} source files",
        out.len()
    );
    out
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The first segments a path names after `prefix::`: one, or each item of
/// a `{…}` group.
fn heads(after: &str) -> Vec<String> {
    let Some(group) = after.strip_prefix('{') else {
        return vec![ident(after).to_string()];
    };
    let mut out = Vec::new();
    let (mut depth, mut item_start) = (0usize, 0usize);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                out.push(ident(group[item_start..].trim_start()).to_string());
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(ident(group[item_start..].trim_start()).to_string());
                item_start = i + 1;
            }
            _ => {}
        }
    }
    out.retain(|h| !h.is_empty() && h != "self");
    out
}

/// Absolute first segments (the top-level module, or a `lib.rs` item) of
/// every `crate::` and `super::` path in `src`.
fn references(src: &Source) -> Vec<String> {
    let code = &src.code;
    let mut out = Vec::new();
    let word_start = |i: usize| {
        code[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
    };
    for (i, _) in code.match_indices("crate::") {
        if word_start(i) {
            out.extend(heads(&code[i + "crate::".len()..]));
        }
    }
    for (i, _) in code.match_indices("super::") {
        if !word_start(i) {
            continue;
        }
        let mut rest = &code[i..];
        let mut up = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            up += 1;
            rest = r;
        }
        let base = &src.module[..src.module.len().saturating_sub(up)];
        match base.first() {
            Some(top) => out.push(top.clone()),
            None => out.extend(heads(rest)),
        }
    }
    out
}

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The graph between top-level modules, and the `lib.rs` items each file uses.
fn graph(all: &[Source]) -> (Graph, Vec<String>) {
    let modules: BTreeSet<&str> = all
        .iter()
        .filter_map(|s| s.module.first().map(String::as_str))
        .collect();
    let mut g = Graph::new();
    let mut from_root = Vec::new();
    for s in all {
        let Some(top) = s.module.first() else {
            continue;
        };
        let edges = g.entry(top.clone()).or_default();
        for head in references(s) {
            if !modules.contains(head.as_str()) {
                from_root.push(format!("{} uses crate::{head}", s.path.display()));
            } else if &head != top {
                edges.insert(head);
            }
        }
    }
    (g, from_root)
}

/// A cycle in `g`, as the modules along it, if there is one.
fn find_cycle(g: &Graph) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &Graph,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == n) {
            let mut cycle = path[at..].to_vec();
            cycle.push(n.to_string());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, g, done, path) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    g.keys()
        .find_map(|n| visit(n, g, &mut done, &mut Vec::new()))
}

#[test]
fn every_crates_modules_form_a_dag() {
    let mut problems = Vec::new();
    for folder in CRATES {
        let all = sources(folder);
        let (g, from_root) = graph(&all);
        println!("{folder}:");
        for (m, deps) in &g {
            let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
            println!("  {m} -> {}", deps.join(", "));
        }
        // The compiler's stages take what they share from modules, never
        // from the crate root that assembles them.
        if *folder == "d-lang" && !from_root.is_empty() {
            problems.push(format!(
                "d-lang modules import from lib.rs (move the item to a module):\n{}",
                from_root.join("\n")
            ));
        }
        if let Some(cycle) = find_cycle(&g) {
            problems.push(format!("{folder}: module cycle: {}", cycle.join(" -> ")));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_file_is_over_800_lines_before_its_tests() {
    let mut long = Vec::new();
    for folder in CRATES {
        for s in sources(folder) {
            let n = s.code.lines().count();
            let path = Path::new(folder).join("src").join(&s.path);
            let path = path.strip_prefix("./").unwrap_or(&path);
            if n > MAX_LINES {
                long.push(format!("{}: {n} lines", path.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "split these by idea (at most {MAX_LINES} lines before the tests):\n{}",
        long.join("\n")
    );
}

/// The checker itself: a planted cycle and a planted `lib.rs` import are found.
#[test]
fn the_checker_finds_cycles_and_root_imports() {
    let src = |path: &str, module: &[&str], code: &str| Source {
        path: PathBuf::from(path),
        module: module.iter().map(|s| s.to_string()).collect(),
        code: code.to_string(),
    };
    let planted = [
        src("a.rs", &["a"], "use crate::b::X;"),
        src("b/mod.rs", &["b"], "use crate::{c::Y, CompileOptions};"),
        src(
            "b/x.rs",
            &["b", "x"],
            "use super::super::a::Z; use super::W;",
        ),
        src("c.rs", &["c"], "fn f() -> crate::a::T { todo!() }"),
    ];
    let (g, from_root) = graph(&planted);
    assert_eq!(from_root, ["b/mod.rs uses crate::CompileOptions"]);
    assert!(g["b"].contains("a") && g["b"].contains("c"));
    assert!(find_cycle(&g).is_some());
    let (g, _) = graph(&planted[..2]);
    assert_eq!(find_cycle(&g), None);
}
