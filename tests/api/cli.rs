//! The admin command line, run as the built binary against the database of a
//! running server: what it does shows on the web at once.

use crate::helpers;

use helpers::{spawn_app_with, test_settings, Browser, TestApp, PASSWORD};
use reqwest::StatusCode;
use std::{
    io::Write,
    process::{Command, Output, Stdio},
    sync::Arc,
};

const BINARY: &str = env!("CARGO_BIN_EXE_persistent-login");

/// Runs the binary with `args` on `app`'s database and session store,
/// `stdin` on its input.
fn admin(app: &TestApp, args: &[&str], stdin: &str) -> Output {
    let mut command = Command::new(BINARY);
    if let Some(url) = app.settings.session.redis_url() {
        command
            .env("SESSION_STORE", "redis")
            .env("REDIS_URL", url)
            .env("SESSION_KEY_PREFIX", &app.settings.session.key_prefix);
    }
    let mut child = command
        .args(args)
        .env("DATABASE_URL", &app.settings.database.url)
        .env_remove("APP_CONFIG")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn app() -> TestApp {
    let (settings, dir) = test_settings().await;
    spawn_app_with(settings, Arc::new(dir)).await
}

#[tokio::test]
async fn every_command_has_help() {
    let app = app().await;
    for args in [
        vec!["--help"],
        vec!["users", "--help"],
        vec!["users", "create", "--help"],
        vec!["users", "list", "--help"],
        vec!["users", "delete", "--help"],
        vec!["sessions", "--help"],
        vec!["sessions", "list", "--help"],
        vec!["sessions", "revoke", "--help"],
        vec!["sessions", "purge", "--help"],
        vec!["serve", "--help"],
        vec!["tokens", "--help"],
        vec!["tokens", "revoke", "--help"],
        vec!["tokens", "new-key", "--help"],
        vec!["events", "--help"],
        vec!["events", "list", "--help"],
    ] {
        let output = admin(&app, &args, "");
        assert!(output.status.success(), "{args:?}");
        assert!(
            stdout(&output).contains("Usage: persistent-login"),
            "{args:?}"
        );
    }
    let wrong = admin(&app, &["users", "frobnicate"], "");
    assert_eq!(wrong.status.code(), Some(2));
    assert!(stderr(&wrong).contains("unrecognized subcommand"));
}

#[tokio::test]
async fn a_user_created_on_the_command_line_signs_in_on_the_web() {
    let app = app().await;
    let created = admin(
        &app,
        &["users", "create", "alice", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert!(created.status.success(), "{}", stderr(&created));
    assert!(stdout(&created).contains(r#"created user "alice""#));
    assert_eq!(
        app.login("alice", PASSWORD, false).await.status(),
        StatusCode::OK
    );
    let listed = stdout(&admin(&app, &["users", "list"], ""));
    assert!(
        listed.contains("alice") && listed.contains("1 user(s)"),
        "{listed}"
    );

    // The sign-up rules, with clear errors and exit code 1.
    for (name, password, message) in [
        ("Alice", PASSWORD, "That username is already taken."),
        ("bob", "password", "too easy to guess"),
        ("bob", "short", "at least 8 characters"),
        ("bad\u{202e}name", PASSWORD, "Username may contain"),
    ] {
        let refused = admin(
            &app,
            &["users", "create", name, "--password-stdin"],
            &format!("{password}\n"),
        );
        assert_eq!(refused.status.code(), Some(1), "{name}");
        assert!(
            stderr(&refused).contains(message),
            "{name}: {}",
            stderr(&refused)
        );
    }
    // No terminal to prompt on, and no --password-stdin.
    let no_terminal = admin(&app, &["users", "create", "carol"], "");
    assert_eq!(no_terminal.status.code(), Some(1));
    assert!(stderr(&no_terminal).contains("--password-stdin"));
    assert!(!stdout(&admin(&app, &["users", "list"], "")).contains("carol"));
}

#[tokio::test]
async fn sessions_ended_on_the_command_line_open_nothing_on_the_web() {
    let app = app().await;
    app.register("alice", PASSWORD).await;
    let laptop = Browser::new(&app, "laptop");
    let phone = Browser::new(&app, "phone");
    for browser in [&laptop, &phone] {
        browser.sign_in("alice", PASSWORD).await;
        // The phone signs in later, so it is listed first.
        app.clock.advance(5);
    }
    let listed = stdout(&admin(&app, &["sessions", "list", "alice"], ""));
    assert!(listed.contains("2 session(s)"), "{listed}");
    // The first column of the newest session (the phone's).
    let handle = listed
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();

    let revoked = admin(
        &app,
        &["sessions", "revoke", "alice", "--handle", &handle],
        "",
    );
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert_eq!(phone.dashboard().await, StatusCode::SEE_OTHER);
    assert_eq!(laptop.dashboard().await, StatusCode::OK);

    let again = admin(
        &app,
        &["sessions", "revoke", "alice", "--handle", &handle],
        "",
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("no session with that handle"));

    let all = admin(&app, &["sessions", "revoke", "alice", "--all"], "");
    assert!(stdout(&all).contains("1 session(s)"), "{}", stdout(&all));
    assert_eq!(laptop.dashboard().await, StatusCode::SEE_OTHER);
    let unknown = admin(&app, &["sessions", "list", "nobody"], "");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains(r#"no user named "nobody""#));
}

#[tokio::test]
async fn deleting_a_user_ends_their_sessions_and_their_sign_in() {
    let app = app().await;
    app.signed_in_as("alice", true).await;
    app.register("bob", PASSWORD).await;
    let deleted = admin(&app, &["users", "delete", "alice"], "");
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    assert!(stdout(&deleted).contains("1 session(s) ended"));
    assert_eq!(app.get("/dashboard").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.login("alice", PASSWORD, false).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("bob", PASSWORD, false).await.status(),
        StatusCode::OK
    );
    let again = admin(&app, &["users", "delete", "alice"], "");
    assert_eq!(again.status.code(), Some(1));
}

/// SQLite once gave the highest id to the next account after its user was
/// deleted, and a bearer token names its user by id: the deleted user's token
/// opened the new account. Ids are never given out twice, on every database.
#[tokio::test]
async fn a_deleted_users_token_opens_nothing_for_the_next_account_registered() {
    let app = app().await;
    app.register("alice", PASSWORD).await;
    let token = app.token_for("alice").await;
    let me = || async {
        reqwest::Client::new()
            .get(app.url("/api/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
    };
    assert_eq!(me().await.status(), StatusCode::OK);

    let deleted = admin(&app, &["users", "delete", "alice"], "");
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    app.register("mallory", PASSWORD).await;
    let answer = me().await;
    assert_eq!(
        answer.status(),
        StatusCode::UNAUTHORIZED,
        "the deleted user's token opened {:?}",
        answer.text().await
    );
    let listed = stdout(&admin(&app, &["users", "list"], ""));
    assert!(
        listed.contains("mallory") && !listed.contains("alice"),
        "{listed}"
    );
}

/// The operator reads a user's security activity as the user's page shows
/// it, and their own revocations appear on it.
#[tokio::test]
async fn events_list_shows_a_users_activity() {
    let app = app().await;
    app.signed_in_as("alice", true).await;
    let revoked = admin(&app, &["sessions", "revoke", "alice", "--all"], "");
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    let listed = admin(&app, &["events", "list", "--user", "alice"], "");
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = stdout(&listed);
    let kinds: Vec<&str> = text
        .lines()
        .skip(1)
        .filter(|line| !line.contains("event(s)"))
        .filter_map(|line| line.split_whitespace().nth(4))
        .collect();
    assert_eq!(
        kinds,
        [
            "ended_by_administrator",
            "signed_in_new_device",
            "signed_out",
            "signed_up"
        ],
        "{text}"
    );
    assert!(text.contains("4 event(s) (kept 90 days)"), "{text}");
    let unknown = admin(&app, &["events", "list", "--user", "nobody"], "");
    assert_eq!(unknown.status.code(), Some(1));
}

#[tokio::test]
async fn purge_deletes_expired_sessions_now() {
    let app = app().await;
    app.signed_in_as("alice", true).await;
    if helpers::on_redis() {
        // Redis deletes each record at its expiry by itself.
        let purged = admin(&app, &["sessions", "purge"], "");
        assert!(purged.status.success(), "{}", stderr(&purged));
        assert!(stdout(&purged).contains("nothing to purge"));
        assert_eq!(app.get("/dashboard").await.status(), StatusCode::OK);
        return;
    }
    let pool = app.database().await;
    // An expired record, in the store's encoding of its expiry on each backend.
    sqlx::query(
        "INSERT INTO tower_sessions (id, data, expiry_date) \
         VALUES ('old', $1, '2000-01-01T00:00:00Z')",
    )
    .bind(vec![0x80_u8])
    .execute(&pool)
    .await
    .unwrap();
    let purged = admin(&app, &["sessions", "purge"], "");
    assert!(purged.status.success(), "{}", stderr(&purged));
    assert!(
        stdout(&purged).contains("1 expired session(s) deleted"),
        "{}",
        stdout(&purged)
    );
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM tower_sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 1, "the live session stays");
    assert_eq!(app.get("/dashboard").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn signing_out_everywhere_on_the_command_line_refuses_the_users_bearer_tokens() {
    let app = app().await;
    app.register("alice", PASSWORD).await;
    let token = || app.token_for("alice");
    let me = |token: String| {
        let client = reqwest::Client::new();
        let url = app.url("/api/me");
        async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };

    let first = token().await;
    assert_eq!(me(first.clone()).await, StatusCode::OK);
    let output = admin(&app, &["sessions", "revoke", "alice", "--all"], "");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("1 bearer token(s) of \"alice\" revoked"),
        "{}",
        stdout(&output)
    );
    assert_eq!(me(first).await, StatusCode::UNAUTHORIZED);

    let second = token().await;
    assert_eq!(me(second.clone()).await, StatusCode::OK);
    let output = admin(&app, &["tokens", "revoke", "alice"], "");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(me(second).await, StatusCode::UNAUTHORIZED);
    let unknown = admin(&app, &["tokens", "revoke", "nobody"], "");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("no user named \"nobody\""));
}

#[tokio::test]
async fn new_key_prints_keys_the_server_accepts_and_differs_each_time() {
    use persistent_login::auth::ssr::tokens::jwt::{TokenAlgorithm, TokenKeys};
    let app = app().await;
    let first = stdout(&admin(&app, &["tokens", "new-key", "--kid", "k1"], ""));
    let second = stdout(&admin(&app, &["tokens", "new-key", "--kid", "k1"], ""));
    assert_ne!(first, second);
    let entry = first.trim();
    assert!(entry.starts_with("k1="), "{entry}");
    let keys = TokenKeys::parse(TokenAlgorithm::Hs256, entry, None).unwrap();
    assert_eq!(keys.signing_kid(), Some("k1"));

    let eddsa = stdout(&admin(
        &app,
        &["tokens", "new-key", "--eddsa", "--kid", "e1"],
        "",
    ));
    let mut lines = eddsa.lines();
    let private = lines.next().unwrap();
    let public = lines
        .next()
        .unwrap()
        .trim_start_matches("# verify-only instances: ");
    assert_eq!(
        TokenKeys::parse(TokenAlgorithm::EdDsa, private, None)
            .unwrap()
            .signing_kid(),
        Some("e1")
    );
    let verifier = TokenKeys::parse(TokenAlgorithm::EdDsa, public, None).unwrap();
    assert_eq!(verifier.signing_kid(), None);
}

#[test]
fn a_database_url_the_binary_cannot_serve_or_open_is_refused_at_start_and_creates_nothing() {
    for url in [
        "postgres://app:s3cret@127.0.0.1:5432/app",
        "mysql://root@localhost/app",
    ] {
        let dir = tempfile::tempdir().unwrap();
        for args in [&[][..], &["users", "list"][..]] {
            let output = Command::new(BINARY)
                .args(args)
                .current_dir(dir.path())
                .env("DATABASE_URL", url)
                .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
                .env("LEPTOS_OUTPUT_NAME", "persistent-login")
                .env_remove("APP_CONFIG")
                .output()
                .unwrap();
            let said = format!("{}{}", stdout(&output), stderr(&output));
            assert_eq!(output.status.code(), Some(1), "{args:?} {url}: {said}");
            assert!(said.contains("DATABASE_URL"), "{args:?} {url}: {said}");
            assert!(!said.contains("s3cret"), "the password was printed: {said}");
            let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
            assert!(left.is_empty(), "{args:?} {url} created {left:?}");
        }
    }
}
