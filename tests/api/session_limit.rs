//! An account keeps at most `session.max_per_user` sessions: a sign-in past
//! it ends the least recently active one, whose browser is told its session
//! has ended, and the account page says which ended and why. Exactly the
//! limit holds when sign-ins arrive at once. Run on SQLite, PostgreSQL and
//! with the sessions in Redis, like the whole suite.

use crate::helpers::{spawn_app_with, test_settings, Browser, TestApp, PASSWORD};
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::Arc;

const CHROME_ON_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const FIREFOX_ON_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";
const SAFARI_ON_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15";
const EDGE_ON_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0";

async fn app_with_limit(max_per_user: usize) -> TestApp {
    let (mut settings, dir) = test_settings().await;
    settings.session.max_per_user = max_per_user;
    // Ten sign-ins of one account at once are more than the sign-in
    // throttle lets through while they are in flight; it is not under test.
    settings.throttle.account_max_failures = 100;
    settings.throttle.address_max_failures = 100;
    spawn_app_with(settings, Arc::new(dir)).await
}

/// Past the refresh interval, so a request moves the session's last activity.
fn a_while_later(app: &TestApp) {
    app.clock
        .advance(app.settings.session.refresh_interval_secs as i64 + 1);
}

#[tokio::test]
async fn past_the_limit_a_sign_in_ends_the_least_recently_active_session_and_the_account_page_says_why(
) {
    let app = app_with_limit(3).await;
    app.register("alice", PASSWORD).await;
    let forgotten = Browser::new(&app, FIREFOX_ON_WINDOWS);
    let laptop = Browser::new(&app, CHROME_ON_LINUX);
    let mac = Browser::new(&app, SAFARI_ON_MAC);
    forgotten.sign_in("alice", PASSWORD).await;
    a_while_later(&app);
    laptop.sign_in("alice", PASSWORD).await;
    a_while_later(&app);
    mac.sign_in("alice", PASSWORD).await;
    a_while_later(&app);
    // The laptop is used again: the forgotten browser is now the least
    // recently active, though the laptop signed in after it.
    assert_eq!(laptop.dashboard().await, StatusCode::OK);
    assert_eq!(laptop.sessions().await.len(), 3);
    a_while_later(&app);
    assert_eq!(laptop.dashboard().await, StatusCode::OK);

    let new = Browser::new(&app, EDGE_ON_WINDOWS);
    let signing_in_at = app.clock.now();
    new.sign_in("alice", PASSWORD).await;
    let signed_in_at = app.clock.now();

    // The forgotten browser's session has ended.
    let refused = forgotten.post("/api/sessions", &[]).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["code"], "session_ended");
    assert_eq!(
        error["message"],
        "Your session has ended. Please sign in again."
    );
    assert_ne!(forgotten.dashboard().await, StatusCode::OK);
    // The others go on.
    for browser in [&laptop, &mac, &new] {
        assert_eq!(browser.dashboard().await, StatusCode::OK);
    }
    let listed = new.sessions().await;
    let devices: Vec<&str> = listed
        .iter()
        .map(|session| session["device"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 3, "{devices:?}");
    assert!(!devices.iter().any(|device| device.starts_with("Firefox")));

    // The account page says which session ended, and why.
    let ended: Value = new
        .post("/api/sessions/ended", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ended["max_per_user"], 3);
    let sessions = ended["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{ended}");
    assert!(sessions[0]["device"]
        .as_str()
        .unwrap()
        .starts_with("Firefox on Windows"));
    // Ended by that sign-in (the clock runs on: a second may pass during it).
    let ended_at = sessions[0]["ended_at"].as_i64().unwrap();
    assert!(
        (signing_in_at..=signed_in_at).contains(&ended_at),
        "{ended_at} not in {signing_in_at}..={signed_in_at}"
    );
    let page = new.page("/account").await;
    assert!(page.contains("Signed out to make room"), "{page}");
    assert!(page.contains("at most 3 devices at once"));
    assert!(page.contains("Firefox on Windows"));
}

#[tokio::test]
async fn a_user_within_the_limit_is_told_nothing_and_zero_means_no_limit() {
    let app = app_with_limit(0).await;
    app.register("alice", PASSWORD).await;
    let mut browsers = Vec::new();
    for _ in 0..6 {
        let browser = Browser::new(&app, CHROME_ON_LINUX);
        browser.sign_in("alice", PASSWORD).await;
        browsers.push(browser);
    }
    for browser in &browsers {
        assert_eq!(browser.dashboard().await, StatusCode::OK);
    }
    let ended: Value = browsers[0]
        .post("/api/sessions/ended", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ended["sessions"].as_array().unwrap().len(), 0);
    let page = browsers[0].page("/account").await;
    assert!(!page.contains("Signed out to make room"));
}

#[tokio::test]
async fn concurrent_sign_ins_past_the_limit_leave_exactly_the_limit() {
    let app = app_with_limit(3).await;
    app.register("alice", PASSWORD).await;
    let mut everyone: Vec<Browser> = Vec::new();
    for round in 0..3 {
        let browsers: Vec<Browser> = (0..10)
            .map(|_| Browser::new(&app, CHROME_ON_LINUX))
            .collect();
        let url = app.url("/api/login");
        let sign_ins: Vec<_> = browsers
            .iter()
            .map(|browser| {
                let (client, url) = (browser.client.clone(), url.clone());
                tokio::spawn(async move {
                    client
                        .post(url)
                        .form(&[
                            ("username", "alice"),
                            ("password", PASSWORD),
                            ("remember", "on"),
                        ])
                        .send()
                        .await
                        .unwrap()
                })
            })
            .collect();
        for sign_in in sign_ins {
            let answer = sign_in.await.unwrap();
            assert_eq!(
                answer.status(),
                StatusCode::OK,
                "round {round}: {:?}",
                answer.text().await
            );
        }
        everyone.extend(browsers);
        // Sign-ins within one second are equally recent, so which three
        // stay is open; that three stay, of every browser so far, is not.
        let mut live = Vec::new();
        for browser in &everyone {
            if browser.dashboard().await == StatusCode::OK {
                live.push(browser);
            }
        }
        assert_eq!(live.len(), 3, "round {round}");
        assert_eq!(live[0].sessions().await.len(), 3, "round {round}");
        a_while_later(&app);
    }
}
