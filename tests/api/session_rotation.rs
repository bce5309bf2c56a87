//! A signed-in session's id is replaced after `session.rotation_interval_secs`
//! (#22): the same session under a new id, with no sign-out for tabs or
//! requests in flight, none for a lost answer, and the end of the session
//! when a copy of a replaced id comes back. Run on SQLite, PostgreSQL and
//! with the sessions in Redis, like the whole suite.

use crate::helpers::{
    cookie_pair, session_set_cookie, spawn_app_with, test_settings, TestApp, PASSWORD,
};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use tokio::task::JoinHandle;

const INTERVAL: i64 = 600;
const GRACE: i64 = 60;

async fn app(interval: u64) -> TestApp {
    let (mut settings, dir) = test_settings().await;
    settings.session.rotation_interval_secs = interval;
    settings.session.rotation_grace_secs = GRACE as u64;
    spawn_app_with(settings, Arc::new(dir)).await
}

/// Alice signs in ("keep me signed in"); her session cookie, as `name=value`.
async fn signed_in(app: &TestApp) -> String {
    let response = app.signed_in_as("alice", true).await;
    cookie_pair(&session_set_cookie(&response, "session").expect("a session cookie"))
}

/// The session cookie a response sets, as `name=value`, if any.
fn new_cookie(response: &Response) -> Option<String> {
    session_set_cookie(response, "session").map(|set| cookie_pair(&set))
}

async fn dashboard(app: &TestApp, cookie: &str) -> Response {
    app.get_with_cookie("/dashboard", cookie).await
}

/// The user's sessions as the account page's call lists them.
async fn sessions(app: &TestApp, cookie: &str) -> Vec<Value> {
    let response = reqwest::Client::new()
        .post(app.url("/api/sessions"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// `count` dashboard requests carrying `cookie`, sent at once, in flight.
fn page_loads(app: &TestApp, cookie: &str, count: usize) -> Vec<JoinHandle<Response>> {
    (0..count)
        .map(|_| {
            let (url, cookie) = (app.url("/dashboard"), cookie.to_string());
            tokio::spawn(async move {
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap()
                    .get(url)
                    .header("cookie", cookie)
                    .send()
                    .await
                    .unwrap()
            })
        })
        .collect()
}

/// Twenty dashboard requests carrying `cookie`, all sent at once; their answers.
async fn twenty_at_once(app: &TestApp, cookie: &str) -> Vec<Response> {
    let mut pages = Vec::new();
    for load in page_loads(app, cookie, 20) {
        pages.push(load.await.unwrap());
    }
    pages
}

/// Past the interval: the next request rotates. Its new cookie.
async fn rotate(app: &TestApp, cookie: &str) -> String {
    app.clock.advance(INTERVAL + 1);
    let page = dashboard(app, cookie).await;
    assert_eq!(page.status(), StatusCode::OK);
    let rotated = new_cookie(&page).expect("a new session id");
    assert_ne!(rotated, cookie);
    rotated
}

#[tokio::test]
async fn after_the_interval_a_session_gets_a_new_id_and_stays_the_same_session() {
    let app = app(INTERVAL as u64).await;
    let first = signed_in(&app).await;
    let before = sessions(&app, &first).await;
    // Within the interval the id stays (the sliding expiry may send it again).
    app.clock.advance(INTERVAL - 10);
    let page = dashboard(&app, &first).await;
    assert!(new_cookie(&page).is_none_or(|cookie| cookie == first));

    let second = rotate(&app, &first).await;
    let after = sessions(&app, &second).await;
    assert_eq!(after.len(), 1);
    for field in ["handle", "signed_in_at", "remembered", "device"] {
        assert_eq!(after[0][field], before[0][field], "{field}");
    }
    assert_eq!(after[0]["current"], true);
    // The new cookie keeps "keep me signed in": it outlives the browser.
    let page = dashboard(&app, &second).await;
    assert_eq!(page.status(), StatusCode::OK);
    let third = rotate(&app, &second).await;
    let set = session_set_cookie(&dashboard(&app, &first).await, "session");
    assert!(
        set.is_some_and(|set| set.contains("Max-Age=0")),
        "the oldest id is refused"
    );
    let _ = third;
}

#[tokio::test]
async fn the_replaced_id_is_served_as_the_new_one_within_the_grace_even_twenty_at_once() {
    let app = app(INTERVAL as u64).await;
    let first = signed_in(&app).await;
    let second = rotate(&app, &first).await;
    // The new id is used, then twenty requests still carrying the old one
    // (other tabs, requests in flight) arrive at once within the grace.
    assert_eq!(dashboard(&app, &second).await.status(), StatusCode::OK);
    app.clock.advance(GRACE - 5);
    for page in twenty_at_once(&app, &first).await {
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(new_cookie(&page).as_deref(), Some(second.as_str()));
    }
    assert_eq!(sessions(&app, &second).await.len(), 1);
}

#[tokio::test]
async fn twenty_requests_at_once_across_a_rotation_get_one_new_id() {
    let app = app(INTERVAL as u64).await;
    let first = signed_in(&app).await;
    app.clock.advance(INTERVAL + 1);
    let mut new_ids = Vec::new();
    for page in twenty_at_once(&app, &first).await {
        assert_eq!(page.status(), StatusCode::OK);
        new_ids.push(new_cookie(&page).expect("each answer names the new id"));
    }
    new_ids.dedup();
    assert_eq!(new_ids.len(), 1, "{new_ids:?}");
    assert_ne!(new_ids[0], first);
    assert_eq!(sessions(&app, &new_ids[0]).await.len(), 1);
}

#[tokio::test]
async fn a_lost_rotation_answer_leaves_the_user_signed_in() {
    let app = app(INTERVAL as u64).await;
    let first = signed_in(&app).await;
    // The answer carrying the new id never reaches the browser.
    let second = rotate(&app, &first).await;
    app.clock.advance(GRACE * 3);
    let page = dashboard(&app, &first).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(new_cookie(&page).as_deref(), Some(second.as_str()));
}

#[tokio::test]
async fn a_copied_cookie_used_after_the_grace_ends_the_session_for_both() {
    let app = app(INTERVAL as u64).await;
    let copied = signed_in(&app).await;
    let owners = rotate(&app, &copied).await;
    assert_eq!(dashboard(&app, &owners).await.status(), StatusCode::OK);
    app.clock.advance(GRACE + 1);

    // The thief's copy comes back: the session ends, within this request,
    // and the sign-in page it is sent to says why.
    let thief = dashboard(&app, &copied).await;
    assert_eq!(thief.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        thief.headers()["location"],
        "/login?ended=reused&next=/dashboard"
    );
    assert!(new_cookie(&thief).is_some_and(|cookie| cookie == "session="));
    let told = reqwest::Client::new()
        .get(app.url("/login?ended=reused&next=/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(told.contains("it was used from two places"), "{told}");
    let owner = dashboard(&app, &owners).await;
    assert_eq!(
        owner.status(),
        StatusCode::SEE_OTHER,
        "the owner signs in again too"
    );
    let api = reqwest::Client::new()
        .post(app.url("/api/sessions"))
        .header("cookie", &owners)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);

    // Signed in again, the owner finds why on their activity page.
    let again = app.login("alice", PASSWORD, true).await;
    let cookie = new_cookie(&again).expect("signed in again");
    let page: Value = reqwest::Client::new()
        .post(app.url("/api/activity"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["events"][1]["kind"], "session_reused", "{page}");
}

#[tokio::test]
async fn signing_out_with_the_replaced_id_in_the_grace_ends_the_session() {
    let app = app(INTERVAL as u64).await;
    let first = signed_in(&app).await;
    let second = rotate(&app, &first).await;
    let out = reqwest::Client::new()
        .post(app.url("/api/logout"))
        .header("cookie", &first)
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success() || out.status().is_redirection());
    assert_eq!(
        dashboard(&app, &second).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn with_rotation_off_the_id_never_changes() {
    let app = app(0).await;
    let first = signed_in(&app).await;
    app.clock.advance(INTERVAL * 10);
    let page = dashboard(&app, &first).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(new_cookie(&page).is_none_or(|cookie| cookie == first));
}

#[tokio::test]
async fn a_program_presenting_a_reused_id_gets_401_session_reused() {
    let app = app(INTERVAL as u64).await;
    let copied = signed_in(&app).await;
    let owners = rotate(&app, &copied).await;
    assert_eq!(dashboard(&app, &owners).await.status(), StatusCode::OK);
    app.clock.advance(GRACE + 1);
    let api = reqwest::Client::new()
        .post(app.url("/api/sessions"))
        .header("cookie", &copied)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    let error: Value = api.json().await.unwrap();
    assert_eq!(error["code"], "session_reused");
    assert_eq!(
        error["message"],
        "Your session was ended for your safety: it was used from two places. Please sign in again."
    );
}

/// The race of `logout.rs` across a rotation: page loads that rotate the id
/// run while the browser signs out with the old one. Afterwards neither the
/// old id nor any new one handed out opens anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sign_out_during_a_rotation_ends_the_session_under_every_id() {
    let app = app(INTERVAL as u64).await;
    app.register("alice", crate::helpers::PASSWORD).await;
    for round in 0..8 {
        let signed_in = app.login("alice", crate::helpers::PASSWORD, true).await;
        let cookie = cookie_pair(&session_set_cookie(&signed_in, "session").unwrap());
        app.clock.advance(INTERVAL + 1);
        let loads = page_loads(&app, &cookie, 10);
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        let signed_out = reqwest::Client::new()
            .post(app.url("/api/logout"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(signed_out.status(), StatusCode::OK, "round {round}");
        let mut handed_out = vec![cookie];
        for load in loads {
            let page = load.await.unwrap();
            assert!(
                page.status() == StatusCode::OK || page.status() == StatusCode::SEE_OTHER,
                "round {round}: {}",
                page.status()
            );
            handed_out.extend(new_cookie(&page).filter(|cookie| cookie != "session="));
        }
        for id in handed_out {
            let replay = dashboard(&app, &id).await;
            assert_eq!(
                replay.status(),
                StatusCode::SEE_OTHER,
                "round {round}: {id}"
            );
        }
    }
}

/// A session write that meets a rotation lands on the new id (#35): "End the
/// re-authentication window now", sent beside three `GET /api/me` that carry
/// the same cookie, one of which rotates the id, takes effect every time;
/// the next sensitive action asks for the password again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_write_racing_a_rotation_is_not_lost() {
    let app = app(INTERVAL as u64).await;
    let mut cookie = signed_in(&app).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let post = |path: &str, cookie: &str, fields: Vec<(&'static str, &'static str)>| {
        let request = client
            .post(app.url(path))
            .header("cookie", cookie.to_string())
            .form(&fields);
        async move { request.send().await.unwrap() }
    };
    let mut lost = Vec::new();
    for round in 0..12 {
        // The window opens (a new id)...
        let confirmed = post("/api/confirm", &cookie, vec![("password", PASSWORD)]).await;
        assert_eq!(confirmed.status(), StatusCode::OK, "round {round}");
        cookie = new_cookie(&confirmed).unwrap_or(cookie);
        // ...and, once the id is due, is ended while other requests rotate it.
        app.clock.advance(INTERVAL + 1);
        let me = (0..3)
            .map(|_| {
                let (url, cookie) = (app.url("/api/me"), cookie.clone());
                tokio::spawn(async move {
                    reqwest::Client::new()
                        .get(url)
                        .header("cookie", cookie)
                        .send()
                        .await
                        .unwrap()
                })
            })
            .collect::<Vec<_>>();
        let ended = post("/api/confirm/end", &cookie, vec![]).await;
        assert_eq!(ended.status(), StatusCode::OK, "round {round}");
        let mut cookies = vec![new_cookie(&ended)];
        for answer in me {
            cookies.push(new_cookie(&answer.await.unwrap()));
        }
        cookie = cookies.into_iter().flatten().last().unwrap_or(cookie);
        let asked = post("/api/tokens/new", &cookie, vec![]).await;
        if asked.status() != StatusCode::FORBIDDEN {
            lost.push(format!("round {round}: {}", asked.status()));
        }
    }
    assert!(lost.is_empty(), "the window stayed open: {lost:?}");
}
