//! The `--split` trap, closed at start-up.
//!
//! The account, dashboard and sign-in parts load as their own wasm chunks
//! (`#[lazy_route]`, `#[lazy]`). Only a split build (`cargo leptos watch
//! --split`, `build --split`, `serve --split`) rewrites the placeholder
//! module those chunks are imported from; without the flag the browser cannot
//! resolve it, and nothing on any page becomes interactive, silently. So the
//! server looks at the site it is about to serve and refuses to start on an
//! unsplit one, naming the command to use. A server with no site built at all
//! (the Rust tests, the admin commands) has nothing to check.

use std::path::{Path, PathBuf};

/// What an unsplit build leaves in the site's JavaScript.
const UNSPLIT_MARK: &str = "__wasm_split_placeholder__";

/// The site was built without `--split`.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} was built without --split, so no page would become interactive in the browser \
     (its lazy routes import a placeholder only a split build resolves). \
     Build with `cargo leptos watch --split` (or `cargo leptos build --split`, \
     `cargo leptos serve --split`); scripts/run.sh does",
    .0.display()
)]
pub struct UnsplitBuild(pub PathBuf);

/// Checks the app's JavaScript in `pkg_dir` (`{output_name}.js`, with or
/// without a content hash in its name).
pub fn check(pkg_dir: &Path, output_name: &str) -> Result<(), UnsplitBuild> {
    let Ok(entries) = std::fs::read_dir(pkg_dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(output_name) && name.ends_with(".js")) {
            continue;
        }
        let Ok(script) = std::fs::read_to_string(&path) else {
            continue;
        };
        if script.contains(UNSPLIT_MARK) {
            return Err(UnsplitBuild(path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(files: &[(&str, &str)]) -> tempfile::TempDir {
        let folder = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(folder.path().join(name), text).unwrap();
        }
        folder
    }

    #[test]
    fn an_unsplit_build_is_refused_naming_the_command() {
        let pkg = site(&[(
            "app.js",
            "import * as __wbg_star0 from '__wasm_split_placeholder__';",
        )]);
        let refused = check(pkg.path(), "app").unwrap_err().to_string();
        assert!(refused.contains("app.js"), "{refused}");
        assert!(refused.contains("cargo leptos watch --split"), "{refused}");
    }

    #[test]
    fn a_split_build_a_hashed_name_and_no_site_at_all_pass() {
        let split = site(&[
            (
                "app.js",
                "import { __wasm_split_load_a } from './__wasm_split.js';",
            ),
            ("other.js", UNSPLIT_MARK),
        ]);
        assert!(check(split.path(), "app").is_ok());
        let hashed = site(&[("app.0f3a.js", UNSPLIT_MARK)]);
        assert!(check(hashed.path(), "app").is_err());
        let none = tempfile::tempdir().unwrap();
        assert!(check(&none.path().join("pkg"), "app").is_ok());
    }
}
