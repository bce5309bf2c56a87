use crate::helpers::{cookie_pair, location, session_set_cookie, spawn_app};
use reqwest::StatusCode;

#[tokio::test]
async fn sign_out_deletes_the_session_so_a_copied_cookie_opens_nothing() {
    let app = spawn_app().await;
    let signed_in = app.signed_in_as("alice", true).await;
    let stolen = cookie_pair(&session_set_cookie(&signed_in, "session").unwrap());

    let response = app.logout().await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(location(&response).as_deref(), Some("/login"));
    let cleared = session_set_cookie(&response, "session").expect("cookie cleared");
    assert!(
        cleared.to_ascii_lowercase().contains("max-age=0"),
        "{cleared}"
    );

    let replay = app.get_with_cookie("/dashboard", &stolen).await;
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn after_sign_out_the_dashboard_redirects() {
    let app = spawn_app().await;
    app.signed_in_as("alice", false).await;
    assert_eq!(app.get("/dashboard").await.status(), StatusCode::OK);
    app.logout().await;
    assert_eq!(app.get("/dashboard").await.status(), StatusCode::SEE_OTHER);
}
