//! The layers of `src/` point one way. Every module path a file names
//! (`crate::…`, `super::…`, `self::…`, `$crate::…`, through `use` groups) is
//! resolved to the file that defines it, and each such edge must go from a
//! higher layer to a lower one, stay inside its layer, or end at a shared
//! leaf. Adding a back edge (the store importing the auth rules, a page
//! importing the app shell) fails this test and names the line. And no files
//! import one another in a cycle, inside one folder or across folders.
//!
//! The layers, top to bottom (README, "How the code is laid out"):
//! entry → server → app shell → pages → session UI → auth → auth rules →
//! store seam; the leaves (route paths, cookie helpers, the shared auth
//! types and error) may be imported from anywhere and import only leaves.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// Layers from the top; a file belongs to the first whose prefix matches.
const LAYERS: &[(&str, &[&str])] = &[
    ("leaf", LEAVES),
    ("entry", &["main.rs", "lib.rs", "admin.rs"]),
    ("store seam", &["server/store/"]),
    ("server", &["server/"]),
    ("app shell", &["app.rs"]),
    ("pages", &["pages/"]),
    ("session UI", &["session_ui.rs", "tabs.rs", "passkeys.rs"]),
    ("auth rules", &["auth/ssr/"]),
    ("auth", &["auth/"]),
];

const LEAVES: &[&str] = &[
    "routes.rs",
    "address.rs",
    "cookies.rs",
    "clock.rs",
    "digest.rs",
    "auth/types.rs",
    "auth/error.rs",
    "auth/password.rs",
];

/// Which layer may import which (besides its own and the leaves): each one
/// only those below it.
const ORDER: &[&str] = &[
    "entry",
    "server",
    "app shell",
    "pages",
    "session UI",
    "auth",
    "auth rules",
    "store seam",
];

fn layer_of(file: &str) -> &'static str {
    LAYERS
        .iter()
        .find(|(_, prefixes)| {
            prefixes.iter().any(|prefix| {
                file == *prefix || (prefix.ends_with('/') && file.starts_with(prefix))
            })
        })
        .map(|(name, _)| *name)
        .unwrap_or_else(|| panic!("{file} is in no layer: add it to LAYERS"))
}

fn allowed(from: &str, to: &str) -> bool {
    if from == to || to == "leaf" {
        return true;
    }
    if from == "leaf" {
        return false;
    }
    let rank = |layer: &str| ORDER.iter().position(|name| *name == layer).unwrap();
    rank(from) < rank(to)
}

/// `auth/ssr/mod.rs` → `["auth", "ssr"]`.
fn module_of(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, root: &Path, out: &mut Vec<String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, root, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let relative = path.strip_prefix(root).unwrap();
            out.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// The text without comments and string literals (a path in a doc comment
/// or a message is no import).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if text[i..].starts_with("//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if text[i..].starts_with("/*") {
            i += text[i..].find("*/").map_or(bytes.len() - i, |end| end + 2);
        } else if bytes[i] == b'"' && !text[..i].ends_with('\'') {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else {
            let ch = text[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap().to_string()];
    };
    let prefix = &tree[..open];
    let body = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let (mut parts, mut depth, mut current) = (Vec::new(), 0, String::new());
    for ch in body.chars() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if ch == ',' && depth == 0 {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(ch);
        }
    }
    parts.push(current);
    parts
        .into_iter()
        .filter(|part| !part.is_empty())
        .flat_map(|part| expand(&format!("{prefix}{part}")))
        .collect()
}

/// Every path the code names that starts at the crate, `super` or `self`.
fn named_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    // `use` items, groups expanded.
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        let tail = &rest[at + 4..];
        rest = tail;
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let Some(end) = tail.find(';') else { break };
        // `use super::*` is a test module reaching its own file.
        paths.extend(
            expand(&tail[..end])
                .into_iter()
                .filter(|path| path != "super::*"),
        );
    }
    // Paths written inline: `crate::a::b`, `super::x`, `$crate::…`.
    for start in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(start) {
            let at = from + at;
            from = at + start.len();
            let before = code[..at].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: String = code[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            // `a::{…}` and `a::*` are `use` items, expanded above.
            if !path.ends_with("::") {
                paths.push(path);
            }
        }
    }
    paths
}

/// The file a path names, from `module` (the naming file's module).
fn resolve(path: &str, module: &[String], files: &BTreeMap<Vec<String>, String>) -> Option<String> {
    let mut segments: Vec<&str> = path.split("::").collect();
    let mut base: Vec<String> = match segments.first() {
        Some(&"crate") | Some(&"$crate") => {
            segments.remove(0);
            Vec::new()
        }
        Some(&"super") | Some(&"self") => {
            let mut base = module.to_vec();
            while let Some(&"super") | Some(&"self") = segments.first() {
                if segments.remove(0) == "super" {
                    base.pop();
                }
            }
            base
        }
        _ => return None,
    };
    let mut found = files.get(&base).cloned();
    for segment in segments {
        base.push(segment.to_string());
        match files.get(&base) {
            Some(file) => found = Some(file.clone()),
            None => break,
        }
    }
    found
}

/// A facade's `pub use a::b::Item` points at the file defining `Item`:
/// re-exports are followed, as `import_cycles.py` does.
fn reexports(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("pub use ") {
        let tail = &rest[at + 8..];
        rest = tail;
        if let Some(end) = tail.find(';') {
            out.extend(expand(&tail[..end]));
        }
    }
    out
}

/// Every import edge of `src/`: the naming file, the file defining what it
/// names (through facades), and the path as written.
fn import_edges() -> Vec<(String, String, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut names = Vec::new();
    rust_files(&root, &root, &mut names);
    let files: BTreeMap<Vec<String>, String> = names
        .iter()
        .filter(|file| file.as_str() != "main.rs")
        .map(|file| (module_of(file), file.clone()))
        .collect();
    // Items a facade re-exports, by the module path they are named through.
    let mut facade: BTreeMap<Vec<String>, String> = BTreeMap::new();
    for file in &names {
        let code = code_only(&fs::read_to_string(root.join(file)).unwrap());
        let module = module_of(file);
        for path in reexports(&code) {
            let item = path.rsplit("::").next().unwrap().to_string();
            let relative = if path.starts_with("crate::")
                || path.starts_with("super::")
                || path.starts_with("self::")
            {
                path.clone()
            } else {
                format!("self::{path}")
            };
            let target = resolve(&relative, &module, &files);
            if let Some(target) = target {
                let mut named = module.clone();
                named.push(item);
                facade.insert(named, target);
            }
        }
    }

    let mut edges = Vec::new();
    for file in &names {
        let code = code_only(&fs::read_to_string(root.join(file)).unwrap());
        let module = if file == "main.rs" {
            Vec::new()
        } else {
            module_of(file)
        };
        for path in named_paths(&code) {
            let Some(mut target) = resolve(&path, &module, &files) else {
                continue;
            };
            // Through a facade to the defining file.
            let mut segments: Vec<String> = Vec::new();
            let absolute = {
                let mut base = if path.starts_with("crate::") || path.starts_with("$crate::") {
                    Vec::new()
                } else {
                    module.clone()
                };
                for segment in path.split("::") {
                    match segment {
                        "crate" | "$crate" | "self" => {}
                        "super" => {
                            base.pop();
                        }
                        other => base.push(other.to_string()),
                    }
                }
                base
            };
            for segment in absolute {
                segments.push(segment);
                if let Some(defined) = facade.get(&segments) {
                    target = defined.clone();
                }
            }
            if &target != file {
                edges.push((file.clone(), target, path));
            }
        }
    }
    edges
}

/// The groups of files that reach one another through imports (the cycles),
/// each sorted, with the edges inside it.
fn cycles(edges: &[(String, String, String)]) -> Vec<Vec<String>> {
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, to, _) in edges {
        graph.entry(from).or_default().insert(to);
    }
    let reach = |start: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![start];
        while let Some(file) = stack.pop() {
            for next in graph.get(file).into_iter().flatten() {
                if seen.insert(*next) {
                    stack.push(next);
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&str, BTreeSet<&str>> =
        graph.keys().map(|file| (*file, reach(file))).collect();
    let mut groups: BTreeSet<Vec<String>> = BTreeSet::new();
    for (file, from_here) in &reached {
        let group: Vec<String> = from_here
            .iter()
            .filter(|other| reached.get(*other).is_some_and(|back| back.contains(file)))
            .map(|other| other.to_string())
            .collect();
        if group.len() > 1 {
            groups.insert(group);
        }
    }
    groups.into_iter().collect()
}

#[test]
fn every_import_points_down_the_layers() {
    let mut back_edges = BTreeSet::new();
    for (file, target, path) in import_edges() {
        let (from, to) = (layer_of(&file), layer_of(&target));
        if !allowed(from, to) {
            back_edges.insert(format!("{file} ({from}) -> {target} ({to}): `{path}`"));
        }
    }
    assert!(
        back_edges.is_empty(),
        "imports against the layers:\n{}",
        back_edges.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// No import cycle, inside a folder or across folders: files that need one
/// another are one concern split in two, or a library and its user tangled.
#[test]
fn no_files_import_one_another_in_a_cycle() {
    let edges = import_edges();
    let found = cycles(&edges);
    let described: Vec<String> = found
        .iter()
        .map(|group| {
            let inside: BTreeSet<String> = edges
                .iter()
                .filter(|(from, to, _)| group.contains(from) && group.contains(to))
                .map(|(from, to, path)| format!("  {from} -> {to}: `{path}`"))
                .collect();
            let inside: Vec<String> = inside.into_iter().collect();
            format!("{}\n{}", group.join(", "), inside.join("\n"))
        })
        .collect();
    assert!(found.is_empty(), "import cycles:\n{}", described.join("\n"));
}

#[test]
fn the_checker_sees_a_cycle() {
    let edge = |from: &str, to: &str| (from.to_string(), to.to_string(), String::new());
    let edges = [
        edge("a.rs", "b.rs"),
        edge("b.rs", "c.rs"),
        edge("c.rs", "a.rs"),
        edge("c.rs", "d.rs"),
        edge("e.rs", "d.rs"),
    ];
    assert_eq!(cycles(&edges), [["a.rs", "b.rs", "c.rs"]]);
    assert!(cycles(&edges[3..]).is_empty());
}

#[test]
fn the_checker_sees_a_back_edge() {
    // The store seam naming the auth rules, as it once did; a comment is no import.
    let code = code_only("use crate::auth::ssr::{SignedIn, SIGNED_IN_KEY}; // crate::app\n");
    assert_eq!(
        named_paths(&code),
        [
            "crate::auth::ssr::SignedIn",
            "crate::auth::ssr::SIGNED_IN_KEY"
        ]
    );
    assert!(!allowed(
        layer_of("server/store/sessions/sql.rs"),
        layer_of("auth/ssr/session.rs")
    ));
    assert!(!allowed(layer_of("pages/login.rs"), layer_of("app.rs")));
    assert!(allowed(layer_of("app.rs"), layer_of("pages/login.rs")));
    assert!(allowed(
        layer_of("server/store/sessions/redis.rs"),
        layer_of("routes.rs")
    ));
    assert!(!allowed(
        layer_of("routes.rs"),
        layer_of("server/store/sessions/redis.rs")
    ));
}
