use crate::helpers::{
    cookie_attributes, handle_of, location, session_set_cookie, spawn_app, spawn_app_with,
    test_settings, Browser, PASSWORD,
};
use reqwest::StatusCode;
use std::sync::Arc;

#[tokio::test]
async fn remember_me_sets_a_persistent_http_only_lax_cookie_for_one_day() {
    let app = spawn_app().await;
    let response = app.signed_in_as("alice", true).await;
    let cookie = session_set_cookie(&response, "session").expect("session cookie set");
    let attributes = cookie_attributes(&cookie);
    assert!(attributes.contains(&"httponly".to_string()), "{cookie}");
    assert!(attributes.contains(&"samesite=lax".to_string()), "{cookie}");
    assert!(attributes.contains(&"path=/".to_string()), "{cookie}");
    assert!(
        !attributes.iter().any(|a| a.starts_with("domain")),
        "{cookie}"
    );
    assert!(
        !attributes.contains(&"secure".to_string()),
        "plain HTTP by default: {cookie}"
    );
    let max_age: i64 = attributes
        .iter()
        .find_map(|a| a.strip_prefix("max-age="))
        .expect("Max-Age present")
        .parse()
        .unwrap();
    assert!((86_300..=86_400).contains(&max_age), "one day: {max_age}");
}

#[tokio::test]
async fn without_remember_me_the_cookie_ends_with_the_browser() {
    let app = spawn_app().await;
    let response = app.signed_in_as("alice", false).await;
    let cookie = session_set_cookie(&response, "session").expect("session cookie set");
    let attributes = cookie_attributes(&cookie);
    assert!(
        !attributes
            .iter()
            .any(|a| a.starts_with("max-age") || a.starts_with("expires")),
        "{cookie}"
    );
    assert!(attributes.contains(&"httponly".to_string()), "{cookie}");
}

#[tokio::test]
async fn the_cookie_is_secure_when_configured_for_https() {
    let (mut settings, dir) = test_settings().await;
    settings.cookie.secure = true;
    let app = spawn_app_with(settings, Arc::new(dir)).await;
    let response = app.signed_in_as("alice", true).await;
    let cookie = session_set_cookie(&response, "session").expect("session cookie set");
    assert!(
        cookie_attributes(&cookie).contains(&"secure".to_string()),
        "{cookie}"
    );
}

#[tokio::test]
async fn sign_in_goes_to_a_local_next_page_or_the_dashboard() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let fields = |next: &'static str| {
        [
            ("username", "alice"),
            ("password", PASSWORD),
            ("next", next),
        ]
    };
    let local = app
        .post_form("/api/login", &fields("/dashboard?from=mail"))
        .await;
    assert_eq!(location(&local).as_deref(), Some("/dashboard?from=mail"));
    let foreign = app
        .post_form("/api/login", &fields("https://evil.example/"))
        .await;
    assert_eq!(location(&foreign).as_deref(), Some("/dashboard"));
    let protocol_relative = app.post_form("/api/login", &fields("//evil.example")).await;
    assert_eq!(location(&protocol_relative).as_deref(), Some("/dashboard"));
}

#[tokio::test]
async fn wrong_password_and_unknown_user_answer_identically() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let wrong = app.login("alice", "not the password", false).await;
    let unknown = app.login("nobody-here", "not the password", false).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert!(session_set_cookie(&wrong, "session").is_none());
    assert!(session_set_cookie(&unknown, "session").is_none());
    let wrong_body = wrong.text().await.unwrap();
    assert_eq!(wrong_body, unknown.text().await.unwrap());
    assert!(
        wrong_body.contains("Invalid username or password"),
        "{wrong_body}"
    );
}

#[tokio::test]
async fn usernames_are_matched_without_regard_to_case() {
    let app = spawn_app().await;
    app.register("Alice", PASSWORD).await;
    assert_eq!(
        app.login("alice", PASSWORD, false).await.status(),
        StatusCode::OK
    );
    let page = app.get("/dashboard").await.text().await.unwrap();
    assert!(page.contains("Alice"), "shows the name as registered");
}

#[tokio::test]
async fn empty_or_over_long_credentials_are_422() {
    let app = spawn_app().await;
    assert_eq!(
        app.login("", PASSWORD, false).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.login("alice", "", false).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let long = "p".repeat(300);
    assert_eq!(
        app.login("alice", &long, false).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn a_plain_form_post_without_javascript_is_redirected() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let response = app
        .client
        .post(app.url("/api/login"))
        .header("accept", "text/html")
        .header("referer", app.url("/login?next=/dashboard"))
        .form(&[
            ("username", "alice"),
            ("password", PASSWORD),
            ("next", "/dashboard"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response).as_deref(), Some("/dashboard"));

    let failed = app
        .client
        .post(app.url("/api/login"))
        .header("accept", "text/html")
        .header("referer", app.url("/login"))
        .form(&[("username", "alice"), ("password", "wrong password")])
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), StatusCode::FOUND);
    let back = location(&failed).unwrap();
    assert!(back.contains("/login") && back.contains("__err="), "{back}");
    let page = app
        .client
        .get(back)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Invalid username or password"),
        "the form shows why"
    );
}

#[tokio::test]
async fn the_production_configuration_uses_a_secure_host_prefixed_cookie() {
    let (test, dir) = test_settings().await;
    let production = persistent_login::server::config::Settings::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/production.toml"
    ))
    .unwrap();
    production.validate().unwrap();
    let mut settings = test;
    settings.cookie = production.cookie;
    let app = spawn_app_with(settings, Arc::new(dir)).await;
    app.register("alice", PASSWORD).await;
    let response = app.login("alice", PASSWORD, true).await;
    let cookie = session_set_cookie(&response, "__Host-session").expect("__Host- cookie");
    let attributes = cookie_attributes(&cookie);
    assert!(attributes.contains(&"secure".to_string()), "{cookie}");
    assert!(attributes.contains(&"path=/".to_string()), "{cookie}");
    assert!(
        !attributes.iter().any(|a| a.starts_with("domain")),
        "{cookie}"
    );
}

#[tokio::test]
async fn a_one_megabyte_password_is_refused_before_any_work() {
    let app = spawn_app().await;
    let huge = "p".repeat(1_000_000);
    let started = std::time::Instant::now();
    let response = app.login("alice", &huge, false).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// "Keep me signed in" asked after the sign-in (a passkey picked from the
/// autofill signs in before the box can be ticked): the dashboard offers it,
/// and taking it dates this browser's cookie for the same session.
#[tokio::test]
async fn a_browser_session_can_be_kept_signed_in_afterwards() {
    let app = spawn_app().await;
    let browser = Browser::new(&app, "Mozilla/5.0 (X11; Linux x86_64) Chrome/150.0");
    let signed_up = browser
        .post(
            "/api/register",
            &[("username", "alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(signed_up.status(), StatusCode::OK);
    let handle = handle_of(&browser.sessions().await, true);
    let dashboard = browser.page("/dashboard").await;
    assert!(
        dashboard.contains(r#"data-testid="keep-signed-in""#),
        "offered"
    );
    assert!(dashboard.contains("no: ends when the browser closes"));

    let kept = browser.form_post("/api/sessions/keep", &[]).await;
    assert_eq!(kept.status(), StatusCode::FOUND);
    assert_eq!(location(&kept).as_deref(), Some("/dashboard?kept=1"));
    let cookie = session_set_cookie(&kept, "session").expect("the cookie is sent again");
    let max_age: i64 = cookie_attributes(&cookie)
        .iter()
        .find_map(|a| a.strip_prefix("max-age=").map(str::to_string))
        .expect("a dated cookie now")
        .parse()
        .unwrap();
    assert!((86_300..=86_400).contains(&max_age), "one day: {max_age}");

    let sessions = browser.sessions().await;
    assert_eq!(sessions.len(), 1, "the same session, not a second one");
    assert_eq!(handle_of(&sessions, true), handle);
    assert_eq!(sessions[0]["remembered"], true, "{sessions:?}");
    let dashboard = browser.page("/dashboard?kept=1").await;
    assert!(dashboard.contains(r#"data-testid="kept""#), "told");
    assert!(
        !dashboard.contains(r#"data-testid="keep-signed-in""#),
        "no longer offered"
    );

    // Asked again (a second tab), nothing changes; asked with no session,
    // the answer says so.
    assert_eq!(
        browser.post("/api/sessions/keep", &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(browser.sessions().await.len(), 1);
    let stranger = Browser::new(&app, "curl/8");
    assert_eq!(
        stranger.post("/api/sessions/keep", &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
}
