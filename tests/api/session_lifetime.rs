use crate::helpers::{cookie_pair, session_set_cookie, spawn_app, spawn_app_with, test_settings};
use reqwest::StatusCode;
use std::sync::Arc;

#[tokio::test]
async fn a_remembered_session_survives_a_server_restart() {
    let app = spawn_app().await;
    let signed_in = app.signed_in_as("alice", true).await;
    let cookie = cookie_pair(&session_set_cookie(&signed_in, "session").unwrap());
    let database = app.database_file();

    let app = app.restart().await;
    assert_eq!(app.database_file(), database);
    assert_eq!(
        app.get_with_cookie("/dashboard", &cookie).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_idle_session_expires_on_the_server_even_if_the_cookie_is_replayed() {
    let (mut settings, dir) = test_settings();
    settings.session.idle_timeout_secs = 2;
    settings.session.absolute_lifetime_secs = 60;
    settings.session.refresh_interval_secs = 1;
    let app = spawn_app_with(settings, Arc::new(dir)).await;
    for remember in [true, false] {
        let name = if remember {
            "remembered"
        } else {
            "browser-only"
        };
        let signed_in = app.signed_in_as(name, remember).await;
        let cookie = cookie_pair(&session_set_cookie(&signed_in, "session").unwrap());
        assert_eq!(
            app.get_with_cookie("/dashboard", &cookie).await.status(),
            StatusCode::OK
        );
        app.clock.advance(3);
        assert_eq!(
            app.get_with_cookie("/dashboard", &cookie).await.status(),
            StatusCode::SEE_OTHER,
            "{name}"
        );
    }
}

#[tokio::test]
async fn activity_slides_the_idle_timeout_but_not_the_absolute_lifetime() {
    let (mut settings, dir) = test_settings();
    settings.session.idle_timeout_secs = 3;
    settings.session.absolute_lifetime_secs = 8;
    settings.session.refresh_interval_secs = 1;
    let app = spawn_app_with(settings, Arc::new(dir)).await;
    let signed_in = app.signed_in_as("alice", true).await;
    let cookie = cookie_pair(&session_set_cookie(&signed_in, "session").unwrap());
    // Active every 2 s for 6 s: past the 3 s idle timeout thanks to sliding…
    for _ in 0..3 {
        app.clock.advance(2);
        assert_eq!(
            app.get_with_cookie("/dashboard", &cookie).await.status(),
            StatusCode::OK
        );
    }
    // …but not past the 8 s absolute lifetime, though the idle timeout would allow 9 s.
    app.clock.advance(2);
    assert_eq!(
        app.get_with_cookie("/dashboard", &cookie).await.status(),
        StatusCode::SEE_OTHER
    );
}
