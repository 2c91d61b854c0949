//! The layers of `backend/src` run one way: a module may import only the modules its
//! row below allows. docs/architecture.md draws the same table.
//!
//! Every `crate::…` path in every file counts (`use` lines, grouped `use crate::{…}`,
//! and inline paths), so an upward import cannot hide in a function body.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each top-level module of the crate and the modules directly below it, lowest layer
/// first. A module may import what its row names and, transitively, what those may
/// import: the arrows of docs/architecture.md.
const LAYERS: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("error", &[]),
    ("metrics", &[]),
    ("otel", &[]),
    ("config", &["domain"]),
    ("db", &["domain", "error"]),
    ("net", &["config", "error", "metrics"]),
    ("cluster", &["config", "db", "metrics"]),
    ("engine", &["config", "db", "metrics"]),
    ("events", &["config", "db", "metrics", "otel"]),
    ("messages", &["net", "engine", "events"]),
    ("webhooks", &["net", "events"]),
    ("auth", &["config", "db", "metrics"]),
    ("sessions", &["messages"]),
    ("http", &["cluster", "webhooks", "auth", "sessions"]),
    ("startup", &["http"]),
    ("healthcheck", &[]),
    ("cli", &["startup", "healthcheck"]),
];

/// Everything `layer` may import: its row, and theirs, down to the leaves.
fn allowed(layer: &str) -> BTreeSet<&'static str> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> = vec![layer];
    while let Some(next) = todo.pop() {
        if let Some((_, below)) = LAYERS.iter().find(|(name, _)| *name == next) {
            for b in *below {
                if seen.insert(*b) {
                    todo.push(b);
                }
            }
        }
    }
    seen
}

/// Files at the crate root that are not a layer: the module list and the binary.
const ROOT_FILES: &[&str] = &["lib.rs", "main.rs"];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to: `sessions/task.rs` → `sessions`, `error.rs` → `error`.
fn layer_of(relative: &Path) -> String {
    let first = relative.components().next().expect("non-empty path").as_os_str().to_string_lossy().into_owned();
    first.strip_suffix(".rs").map(str::to_owned).unwrap_or(first)
}

fn strip_line_comments(source: &str) -> String {
    source.lines().map(|line| line.find("//").map_or(line, |i| &line[..i])).collect::<Vec<_>>().join("\n")
}

/// The first segment of every `crate::` path: `crate::a::b` → `a`, `crate::{a::x, b}` → `a`, `b`.
fn crate_imports(source: &str) -> Vec<String> {
    let code = strip_line_comments(source);
    let mut found = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let preceded_by_ident = rest[..at].chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if preceded_by_ident {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let end = group
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '{' => 1,
                        '}' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(group.len(), |(i, _)| i);
            let mut level = 0;
            let mut item = String::new();
            for c in group[..end].chars().chain(std::iter::once(',')) {
                match c {
                    '{' => level += 1,
                    '}' => level -= 1,
                    ',' if level == 0 => {
                        let first: String =
                            item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                        if !first.is_empty() {
                            found.push(first);
                        }
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
        } else {
            let first: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !first.is_empty() {
                found.push(first);
            }
        }
    }
    found
}

#[test]
fn the_scanner_sees_every_form_of_crate_path() {
    let source = "use crate::a::B;\nuse crate::{c::{D, E}, f};\nfn g() { crate::h::i(); }\n// crate::comment::x\nmy_crate::no::x;";
    assert_eq!(crate_imports(source), ["a", "c", "f", "h"]);
}

#[test]
fn the_rule_is_transitive_and_never_upward() {
    assert!(allowed("sessions").contains("db"), "through messages → events → db");
    assert!(allowed("http").contains("domain"));
    assert!(!allowed("sessions").contains("http"));
    assert!(!allowed("domain").contains("error"));
    for (name, _) in LAYERS {
        assert!(!allowed(name).contains(name), "`{name}` reaches itself: the table has a cycle");
    }
}

#[test]
fn no_module_imports_a_layer_above_it() {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    let mut imports_seen = 0;
    let mut layers_seen = BTreeSet::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("file under src");
        if ROOT_FILES.iter().any(|r| relative == Path::new(r)) {
            continue;
        }
        let layer = layer_of(relative);
        if !LAYERS.iter().any(|(name, _)| *name == layer) {
            violations.push(format!("{}: module `{layer}` has no row in LAYERS", relative.display()));
            continue;
        }
        let allowed = allowed(&layer);
        layers_seen.insert(layer.clone());
        let source = std::fs::read_to_string(file).expect("read source file");
        for import in crate_imports(&source) {
            imports_seen += 1;
            if import != layer && !allowed.contains(import.as_str()) {
                violations.push(format!("{}: imports crate::{import}, above layer `{layer}`", relative.display()));
            }
        }
    }
    assert!(imports_seen > 100, "the scan found only {imports_seen} crate imports; is it reading the sources?");
    let unused: Vec<_> = LAYERS.iter().map(|(n, _)| *n).filter(|n| !layers_seen.contains(*n)).collect();
    assert!(unused.is_empty(), "LAYERS names modules that do not exist: {unused:?}");
    assert!(violations.is_empty(), "upward imports:\n  {}", violations.join("\n  "));
}
