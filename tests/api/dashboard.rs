use crate::helpers::{location, spawn_app};
use reqwest::StatusCode;

#[tokio::test]
async fn an_anonymous_visitor_is_redirected_to_sign_in_by_the_server() {
    let app = spawn_app().await;
    let response = app.get("/dashboard").await;
    assert!(matches!(
        response.status(),
        StatusCode::SEE_OTHER | StatusCode::FOUND
    ));
    assert_eq!(
        location(&response).as_deref(),
        Some("/login?next=/dashboard")
    );
}

#[tokio::test]
async fn the_first_html_of_the_dashboard_holds_the_user_and_session_times() {
    let app = spawn_app().await;
    app.signed_in_as("alice", true).await;
    let response = app.get("/dashboard").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"data-testid="username">alice<"#), "{html}");
    assert!(
        html.contains(r#"data-testid="signed-in-at">20"#),
        "session start shown"
    );
    assert!(
        html.contains(r#"data-testid="idle-expires-at">20"#),
        "idle expiry shown"
    );
    assert!(html.contains("Sign out"));
}

/// A session shows the ends that apply to it: a kept one its idle timeout
/// and its cap; one that ends with the browser says so, and its idle
/// timeout, without a cap thirty days off.
#[tokio::test]
async fn the_dashboard_shows_the_ends_that_apply() {
    let app = spawn_app().await;
    app.signed_in_as("kept", true).await;
    let kept = app.get("/dashboard").await.text().await.unwrap();
    assert!(kept.contains(r#"data-testid="absolute-expires-at">20"#));
    assert!(kept.contains(r#"data-testid="remembered">yes<"#));

    app.signed_in_as("browser", false).await;
    let browser = app.get("/dashboard").await.text().await.unwrap();
    assert!(!browser.contains("Ends at the latest"));
    assert!(browser.contains(r#"data-testid="idle-expires-at">20"#));
    assert!(browser.contains("no: ends when the browser closes"));
}

#[tokio::test]
async fn the_landing_page_links_to_sign_in_or_to_the_dashboard() {
    let app = spawn_app().await;
    let anonymous = app.get("/").await.text().await.unwrap();
    assert!(anonymous.contains(r#"href="/login""#) && anonymous.contains(r#"href="/register""#));
    app.signed_in_as("alice", false).await;
    let signed_in = app.get("/").await.text().await.unwrap();
    assert!(signed_in.contains("Go to your dashboard"), "{signed_in}");
}

#[tokio::test]
async fn an_unknown_page_is_404() {
    let app = spawn_app().await;
    assert_eq!(
        app.get("/no-such-page").await.status(),
        StatusCode::NOT_FOUND
    );
}
