use crate::helpers::{client_with, cookie_pair, location, session_set_cookie, spawn_app, PASSWORD};
use reqwest::{header, StatusCode};
use std::{sync::Arc, time::Duration};

#[tokio::test]
async fn sign_out_deletes_the_session_so_a_copied_cookie_opens_nothing() {
    let app = spawn_app().await;
    let signed_in = app.signed_in_as("alice", true).await;
    let stolen = cookie_pair(&session_set_cookie(&signed_in, "session").unwrap());

    let response = app.logout().await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(location(&response).as_deref(), Some("/login?signed_out=1"));
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

/// Sign-out while the same browser's other page loads are in flight, each due
/// to slide the session's expiry (load, answer, save): none of those saves may
/// bring the session back, and the old cookie must open nothing afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sign_out_stays_signed_out_whatever_page_loads_were_in_flight() {
    const ROUNDS: usize = 12;
    const PAGE_LOADS: usize = 10;
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    for round in 0..ROUNDS {
        let signed_in = app.login("alice", PASSWORD, true).await;
        assert_eq!(signed_in.status(), StatusCode::OK);
        let cookie = cookie_pair(&session_set_cookie(&signed_in, "session").unwrap());
        // Every page load below is due to slide the expiry.
        app.clock
            .advance(app.settings.session.refresh_interval_secs as i64);

        let loads: Vec<_> = (0..PAGE_LOADS)
            .map(|_| {
                let client = client_with(Arc::default());
                let (url, cookie) = (app.url("/dashboard"), cookie.clone());
                tokio::spawn(async move {
                    client
                        .get(url)
                        .header(header::COOKIE, cookie)
                        .send()
                        .await
                        .expect("page load")
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(2)).await;
        let signed_out = client_with(Arc::default())
            .post(app.url("/api/logout"))
            .header(header::COOKIE, &cookie)
            .send()
            .await
            .expect("sign-out");
        assert_eq!(signed_out.status(), StatusCode::OK);
        for load in loads {
            let answer = load.await.unwrap();
            assert!(answer.status().is_success() || answer.status().is_redirection());
        }

        let replay = app.get_with_cookie("/dashboard", &cookie).await;
        assert_eq!(replay.status(), StatusCode::SEE_OTHER, "round {round}");
        // Nor does any later answer hand the cookie back.
        let set_again = session_set_cookie(&replay, "session");
        assert!(
            set_again
                .as_deref()
                .is_none_or(|cookie| cookie.starts_with("session=;")),
            "round {round}: {set_again:?}"
        );
    }
}
