use crate::helpers::{cookie_pair, session_set_cookie, spawn_app, spawn_app_with, test_settings};
use reqwest::StatusCode;
use std::sync::Arc;

#[tokio::test]
async fn a_remembered_session_survives_a_server_restart() {
    let app = spawn_app().await;
    let signed_in = app.signed_in_as("alice", true).await;
    let cookie = cookie_pair(&session_set_cookie(&signed_in, "session").unwrap());
    let database = app.settings.database.url.clone();

    let app = app.restart().await;
    assert_eq!(app.settings.database.url, database);
    assert_eq!(
        app.get_with_cookie("/dashboard", &cookie).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_idle_session_expires_on_the_server_even_if_the_cookie_is_replayed() {
    let (mut settings, dir) = test_settings().await;
    // Minutes, not seconds: on a busy machine real seconds pass between the
    // requests too, beside the ones the test clock moves on.
    settings.session.idle_timeout_secs = 120;
    settings.session.absolute_lifetime_secs = 3_600;
    settings.session.refresh_interval_secs = 60;
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
        app.clock.advance(180);
        assert_eq!(
            app.get_with_cookie("/dashboard", &cookie).await.status(),
            StatusCode::SEE_OTHER,
            "{name}"
        );
    }
}

#[tokio::test]
async fn activity_slides_the_idle_timeout_but_not_the_absolute_lifetime() {
    let (mut settings, dir) = test_settings().await;
    // Minutes, not seconds, as above.
    settings.session.idle_timeout_secs = 180;
    settings.session.absolute_lifetime_secs = 480;
    settings.session.refresh_interval_secs = 60;
    let app = spawn_app_with(settings, Arc::new(dir)).await;
    let signed_in = app.signed_in_as("alice", true).await;
    let cookie = cookie_pair(&session_set_cookie(&signed_in, "session").unwrap());
    // Active every 2 min for 6 min: past the 3 min idle timeout thanks to sliding…
    for _ in 0..3 {
        app.clock.advance(120);
        assert_eq!(
            app.get_with_cookie("/dashboard", &cookie).await.status(),
            StatusCode::OK
        );
    }
    // …but not past the 8 min absolute lifetime, though the idle timeout would allow 9.
    app.clock.advance(120);
    assert_eq!(
        app.get_with_cookie("/dashboard", &cookie).await.status(),
        StatusCode::SEE_OTHER
    );
}
