//! The README's API example, run line for line with bash against the built
//! server: what a reader copies works as written.

use crate::instance;

use instance::{base_env, Instance, BINARY};
use std::process::Command;

/// The first `sh` block after the README's "API for scripts and apps" heading.
fn readme_example() -> String {
    let readme = repository_file("README.md");
    let section = readme
        .split_once("## API for scripts and apps")
        .expect("the README has an API section")
        .1;
    let block = section.split_once("```sh\n").expect("an sh block").1;
    block
        .split_once("```")
        .expect("a closed block")
        .0
        .to_string()
}

#[test]
fn the_readme_api_example_runs_as_written() {
    let example = readme_example();
    assert!(
        example.contains("BASE=http://127.0.0.1:3000\n"),
        "{example}"
    );
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("app.db").display());
    let server = Instance::spawn(&[("DATABASE_URL", &database)]).ready();
    let base = server.base();
    let env = |command: &mut Command| {
        base_env(command);
        command
            .env("DATABASE_URL", &database)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", server.port));
    };

    // The example as written; only the address is this server's, and
    // `persistent-login` is the binary just built.
    let script = example.replace("BASE=http://127.0.0.1:3000", &format!("BASE={base}"));
    let bin_dir = std::path::Path::new(BINARY).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut run = Command::new("bash");
    env(&mut run);
    let output = run
        .args(["-e", "-o", "pipefail", "-c", &script])
        .env("PATH", path)
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );

    // Each answer has the shape the README's comments show.
    let lines: Vec<&str> = stdout.lines().collect();
    let me = lines
        .iter()
        .find(|line| line.starts_with('{'))
        .expect("the /api/me answer");
    let me: serde_json::Value = serde_json::from_str(me).unwrap();
    assert_eq!(me["username"], "alice");
    assert_eq!(me["authenticated_by"], "token");
    assert!(me["expires_at"].as_i64().is_some());
    let challenge = lines
        .iter()
        .find(|line| line.to_ascii_lowercase().starts_with("www-authenticate"))
        .expect("the refusal after revocation");
    assert_eq!(
        challenge.trim_end(),
        "www-authenticate: Bearer realm=\"persistent-login\", error=\"invalid_token\", error_description=\"the token has been revoked\""
    );
    assert!(
        stdout.contains("1 bearer token(s) of \"alice\" revoked"),
        "{stdout}"
    );
}

/// A file of the repository, as text.
fn repository_file(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The `POST /api/…` paths a table names at the start of its rows, in `text`
/// (rows start with `prefix`: `| ` in the README, `//! | ` in the code).
fn table_paths(text: &str, prefix: &str) -> std::collections::BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix(prefix)?.strip_prefix("`POST "))
        .filter_map(|rest| Some(rest.split_once('`')?.0.to_string()))
        .collect()
}

#[test]
fn both_endpoint_tables_name_every_server_function_and_nothing_else() {
    let served: std::collections::BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .collect();
    assert!(served.contains("/api/login"), "{served:?}");

    let readme = repository_file("README.md");
    let endpoints = readme
        .split_once("## HTTP endpoints")
        .expect("the README lists its endpoints")
        .1;
    let endpoints = endpoints
        .split_once("\n## ")
        .map_or(endpoints, |(table, _)| table);
    let code = repository_file("src/auth/mod.rs");

    for (name, listed) in [
        ("the README", table_paths(endpoints, "| ")),
        ("src/auth/mod.rs", table_paths(&code, "//! | ")),
    ] {
        let missing: Vec<_> = served.difference(&listed).collect();
        let unknown: Vec<_> = listed.difference(&served).collect();
        assert!(
            missing.is_empty() && unknown.is_empty(),
            "{name}: server functions it does not list {missing:?}; rows no server function answers {unknown:?}"
        );
    }
}
