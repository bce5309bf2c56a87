//! Security properties a reviewer checks, over HTTP (see SECURITY.md).

use crate::helpers::{cookie_pair, location, session_set_cookie, spawn_app, PASSWORD};
use reqwest::StatusCode;

#[tokio::test]
async fn sign_in_replaces_the_session_id_and_the_old_one_dies() {
    let app = spawn_app().await;
    let first = app.signed_in_as("alice", true).await;
    let before = cookie_pair(&session_set_cookie(&first, "session").unwrap());
    app.register("bob", PASSWORD).await;
    let second = app.login("bob", PASSWORD, true).await;
    let after = cookie_pair(&session_set_cookie(&second, "session").unwrap());
    assert_ne!(before, after, "a new id at sign-in");
    assert_eq!(
        app.get_with_cookie("/dashboard", &before).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.get_with_cookie("/dashboard", &after).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn sign_out_by_get_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.signed_in_as("alice", true).await;
    let response = app.get("/api/logout").await;
    assert!(response.status().is_client_error(), "{}", response.status());
    assert_eq!(app.get("/dashboard").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn cross_origin_posts_are_refused_with_403() {
    let app = spawn_app().await;
    app.signed_in_as("alice", true).await;
    let from_elsewhere = app
        .post_from_origin("/api/logout", "https://evil.example")
        .await;
    assert_eq!(from_elsewhere.status(), StatusCode::FORBIDDEN);
    let fetch_metadata_only = app
        .client
        .post(app.url("/api/logout"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(fetch_metadata_only.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/dashboard").await.status(),
        StatusCode::OK,
        "still signed in"
    );

    let same_origin = app
        .client
        .post(app.url("/api/logout"))
        .header("origin", format!("http://{}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), StatusCode::OK);
    assert_eq!(
        location(&same_origin).as_deref(),
        Some("/login?signed_out=1")
    );
}

#[tokio::test]
async fn tampered_truncated_or_random_cookies_are_anonymous_not_errors() {
    let app = spawn_app().await;
    let signed_in = app.signed_in_as("alice", true).await;
    let genuine = cookie_pair(&session_set_cookie(&signed_in, "session").unwrap());
    let value = genuine.trim_start_matches("session=");
    let truncated = format!("session={}", &value[..value.len() / 2]);
    let mut flipped = value.to_string().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let flipped = format!("session={}", String::from_utf8(flipped).unwrap());
    for cookie in [
        truncated.as_str(),
        flipped.as_str(),
        "session=AAAAAAAAAAAAAAAAAAAAAA",
        "session=%00%ff<script>",
        "session=",
    ] {
        assert_eq!(
            app.get_with_cookie("/dashboard", cookie).await.status(),
            StatusCode::SEE_OTHER,
            "{cookie}"
        );
    }
    assert_eq!(
        app.get_with_cookie("/dashboard", &genuine).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn raising_the_argon2_parameters_upgrades_a_hash_at_the_next_sign_in() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let pool = app.database().await;
    let stored_hash = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT password_hash FROM users WHERE username_key = 'alice'",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    assert!(stored_hash().await.contains("m=64,t=1,p=1"));

    let mut app = app;
    app.settings.password.argon2_memory_kib = 128;
    app.settings.password.argon2_iterations = 2;
    let app = app.restart().await;
    assert_eq!(
        app.login("alice", PASSWORD, false).await.status(),
        StatusCode::OK
    );
    let upgraded = stored_hash().await;
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=128,t=2,p=1$"),
        "{upgraded}"
    );
    assert_eq!(
        app.login("alice", PASSWORD, false).await.status(),
        StatusCode::OK,
        "the new hash verifies"
    );
}

#[tokio::test]
async fn pages_carry_a_nonce_based_csp_and_the_other_security_headers() {
    let app = spawn_app().await;
    let response = app.get("/login").await;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let policy = header("content-security-policy");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a script nonce")
        .to_string();
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "strict-origin-when-cross-origin");
    assert_eq!(header("cache-control"), "no-store");
    let html = response.text().await.unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "inline scripts carry the nonce"
    );
    // Only there: no other attribute or text of the page holds it.
    assert_eq!(
        html.matches(nonce.as_str()).count(),
        html.matches(&format!("<script nonce=\"{nonce}\">")).count()
            + html
                .matches(&format!("<script type=\"module\" nonce=\"{nonce}\">"))
                .count(),
        "{html}"
    );
    assert!(html.contains("crossorigin=\"anonymous\""), "{html}");

    let second = app.get("/login").await;
    let second_policy = second.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(!second_policy.contains(&nonce), "a fresh nonce per page");

    let api = app.post_form("/api/me", &[]).await;
    assert!(api.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    assert_eq!(api.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn unknown_user_and_wrong_password_cost_the_same_time() {
    let (mut settings, dir) = crate::helpers::test_settings().await;
    // The real (OWASP) cost, so that skipping the hash would show.
    settings.password = Default::default();
    settings.throttle.account_max_failures = 1_000;
    settings.throttle.address_max_failures = 1_000;
    let app = crate::helpers::spawn_app_with(settings, std::sync::Arc::new(dir)).await;
    app.register("alice", PASSWORD).await;

    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..15 {
        for (username, timings) in [("alice", &mut wrong), ("nobody", &mut unknown)] {
            let started = std::time::Instant::now();
            let response = app.login(username, "not the password", false).await;
            timings.push(started.elapsed().as_secs_f64());
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
    }
    let median = |timings: &mut Vec<f64>| {
        timings.sort_by(f64::total_cmp);
        timings[timings.len() / 2]
    };
    let (wrong, unknown) = (median(&mut wrong), median(&mut unknown));
    let ratio = unknown / wrong;
    assert!(
        (0.5..=2.0).contains(&ratio),
        "median unknown-user {unknown:.4}s vs wrong-password {wrong:.4}s"
    );
}

/// Answers refused by the outer layers carry the security headers too.
#[tokio::test]
async fn refusals_carry_the_security_headers() {
    let app = spawn_app().await;
    let too_large = app.register("dave", &"x".repeat(64 * 1024)).await;
    let cross_origin = app
        .post_from_origin("/api/logout", "https://evil.example")
        .await;
    for (response, status) in [
        (too_large, StatusCode::PAYLOAD_TOO_LARGE),
        (cross_origin, StatusCode::FORBIDDEN),
    ] {
        assert_eq!(response.status(), status);
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{status}");
        assert_eq!(headers["x-frame-options"], "DENY", "{status}");
        assert!(headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'"));
    }
}

/// The origin check compares scheme and port too; a state change with no
/// `Host` at all is refused.
#[tokio::test]
async fn another_port_or_scheme_is_another_origin_and_a_post_needs_a_host() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    app.signed_in_as("alice", true).await;
    let port = app.address.port();
    for origin in [
        format!("http://127.0.0.1:{}", port + 1),
        format!("https://127.0.0.1:{port}"),
    ] {
        let response = app.post_from_origin("/api/logout", &origin).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin}");
    }
    assert_eq!(app.get("/dashboard").await.status(), StatusCode::OK);

    let mut stream = tokio::net::TcpStream::connect(app.address).await.unwrap();
    stream
        .write_all(b"POST /api/logout HTTP/1.0\r\nContent-Length: 0\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.0 400"), "{answer}");
}

#[tokio::test]
async fn the_production_configuration_sends_hsts_on_every_answer() {
    let (mut settings, dir) = crate::helpers::test_settings().await;
    let production =
        persistent_login::server::config::Settings::from_file("config/production.toml").unwrap();
    settings.server.hsts_max_age_secs = production.server.hsts_max_age_secs;
    let app = crate::helpers::spawn_app_with(settings, std::sync::Arc::new(dir)).await;
    for response in [app.get("/login").await, app.get("/nowhere").await] {
        assert_eq!(
            response.headers()["strict-transport-security"],
            "max-age=31536000"
        );
    }
    let development = spawn_app().await;
    assert!(!development
        .get("/login")
        .await
        .headers()
        .contains_key("strict-transport-security"));
}

/// The no-JavaScript error path reads the error from the URL; a crafted link
/// can choose which of the app's own messages shows, never its text.
#[tokio::test]
async fn a_crafted_error_link_shows_only_messages_the_app_writes() {
    use base64::{engine::general_purpose::URL_SAFE, Engine};
    let app = spawn_app().await;
    let page = |error: &str| {
        let url = format!("/login?__path=/api/login&__err={}", URL_SAFE.encode(error));
        let app = &app;
        async move { app.get(&url).await.text().await.unwrap() }
    };
    let free_text =
        page(r#"{"code":"invalid_input","message":"Your account is locked. Call 555-0100."}"#)
            .await;
    assert!(!free_text.contains("555-0100"), "{free_text}");
    assert!(!free_text.contains("locked"), "{free_text}");

    let with_rule =
        page(r#"{"code":"invalid_input","message":"Call 555-0100.","rule":"password_empty"}"#)
            .await;
    assert!(!with_rule.contains("555-0100"), "{with_rule}");
    assert!(
        with_rule.contains("Password must not be empty."),
        "{with_rule}"
    );
}

/// The policy of a page (its script nonce), and whether every script the
/// page carries is allowed by it.
fn page_nonce_allows_its_scripts(policy: &str, html: &str) -> Result<(), String> {
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .ok_or_else(|| format!("no script nonce in the page's policy: {policy}"))?;
    let scripts = html.matches("<script").count();
    let allowed = html.matches(&format!("nonce=\"{nonce}\"")).count();
    if scripts == 0 || scripts != allowed {
        return Err(format!(
            "{allowed} of {scripts} scripts carry the nonce {nonce}"
        ));
    }
    Ok(())
}

/// A browser downloads the app's files right after each page. While files
/// download beside them, every page still comes with its own policy (a nonce
/// its scripts carry), never the files' `default-src 'none'`, which would
/// leave it unstyled and dead; and every file comes whole, with the files'
/// policy. Pages signed in and not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_keep_their_own_policy_while_the_apps_files_download_beside_them() {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir(&pkg).unwrap();
    let files: Vec<(String, Vec<u8>)> = [
        ("persistent-login.js", 40_000),
        ("persistent-login.wasm", 400_000),
        ("persistent-login.css", 8_000),
    ]
    .into_iter()
    .map(|(name, size)| {
        let bytes: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
        std::fs::write(pkg.join(name), &bytes).unwrap();
        (format!("/pkg/{name}"), bytes)
    })
    .collect();
    let (settings, storage) = crate::helpers::test_settings().await;
    let app = crate::helpers::spawn_app_serving(
        settings,
        std::sync::Arc::new(storage),
        site.path().to_str().unwrap(),
    )
    .await;
    app.signed_in_as("alice", true).await;
    let app = std::sync::Arc::new(app);

    let downloads = (0..4).map(|_| {
        let (app, files) = (app.clone(), files.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut wrong = Vec::new();
            for round in 0..60 {
                let (path, bytes) = &files[round % files.len()];
                let response = client.get(app.url(path)).send().await.unwrap();
                let status = response.status();
                let policy = response.headers()["content-security-policy"].clone();
                let whole = response.bytes().await.unwrap()[..] == bytes[..];
                if status != StatusCode::OK
                    || policy != "default-src 'none'; frame-ancestors 'none'"
                    || !whole
                {
                    wrong.push(format!("{path}: {status}, whole: {whole}, {policy:?}"));
                }
            }
            wrong
        })
    });
    let signed_in = ["/", "/dashboard", "/account", "/account/activity", "/login"];
    let pages = (0..3).map(|task| {
        let app = app.clone();
        tokio::spawn(async move {
            // Two "tabs" of alice's browser, and a stranger's browser.
            let client = if task < 2 {
                app.client.clone()
            } else {
                reqwest::Client::new()
            };
            let mut broken = Vec::new();
            for round in 0..25 {
                let path = signed_in[round % signed_in.len()];
                let response = client.get(app.url(path)).send().await.unwrap();
                let policy = response.headers()["content-security-policy"]
                    .to_str()
                    .unwrap()
                    .to_string();
                let html = response.text().await.unwrap();
                if let Err(why) = page_nonce_allows_its_scripts(&policy, &html) {
                    broken.push(format!("{path}: {why}"));
                }
            }
            broken
        })
    });
    let pages: Vec<_> = pages.collect();
    let mut files_wrong = Vec::new();
    for download in downloads.collect::<Vec<_>>() {
        files_wrong.extend(download.await.unwrap());
    }
    let mut broken = Vec::new();
    for page in pages {
        broken.extend(page.await.unwrap());
    }
    assert!(
        broken.is_empty() && files_wrong.is_empty(),
        "{} of 75 pages broken: {broken:#?}\n{} of 240 files wrong: {files_wrong:#?}",
        broken.len(),
        files_wrong.len()
    );
}
