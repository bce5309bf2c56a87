//! The account page: a user sees where they are signed in, ends any of those
//! sessions or all but this one, and changes their password. Each "browser"
//! here is a client with its own cookie jar and User-Agent.

use crate::helpers::{
    client_with, cookie_pair, handle_of, location, session_set_cookie, spawn_app, Browser, PASSWORD,
};
use reqwest::{header, StatusCode};
use serde_json::Value;
use std::sync::Arc;

const CHROME_ON_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const FIREFOX_ON_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";
const NEW_PASSWORD: &str = "plum trombone glacier sunset";

#[tokio::test]
async fn the_list_shows_each_browser_newest_first_and_marks_this_one() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let laptop = Browser::new(&app, CHROME_ON_LINUX);
    let desktop = Browser::new(&app, FIREFOX_ON_WINDOWS);
    let signed_in = laptop.sign_in("alice", PASSWORD).await;
    let laptop_cookie = cookie_pair(&session_set_cookie(&signed_in, "session").unwrap());
    app.clock.advance(5);
    desktop.sign_in("alice", PASSWORD).await;

    let response = laptop.post("/api/sessions", &[]).await;
    let body = response.text().await.unwrap();
    let session_id = laptop_cookie.trim_start_matches("session=");
    assert!(!body.contains(session_id), "a session id left the server");
    let sessions: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(sessions.len(), 2);
    // The desktop signed in last, so it was active last.
    assert_eq!(sessions[0]["device"], "Firefox on Windows 10");
    assert_eq!(sessions[0]["current"], false);
    assert_eq!(sessions[1]["device"], "Chrome on Linux");
    assert_eq!(sessions[1]["current"], true);
    assert_eq!(sessions[1]["client"], "127.0.0.1");
    assert_eq!(sessions[1]["remembered"], true);

    // Another user sees only their own.
    app.register("bob", PASSWORD).await;
    let bobs = Browser::new(&app, CHROME_ON_LINUX);
    bobs.sign_in("bob", PASSWORD).await;
    assert_eq!(bobs.sessions().await.len(), 1);

    let page = laptop.client.get(app.url("/account")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("This device") && html.contains("Firefox on Windows 10"));
    assert!(html.contains("Sign out everywhere else"));
}

#[tokio::test]
async fn the_account_page_and_its_calls_need_a_live_session() {
    let app = spawn_app().await;
    let page = app.get("/account").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&page).as_deref(), Some("/login?next=/account"));

    let stranger = Browser::new(&app, CHROME_ON_LINUX);
    for (path, fields) in [
        ("/api/sessions", vec![]),
        ("/api/sessions/revoke", vec![("others", "on")]),
        (
            "/api/password",
            vec![
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
            ],
        ),
    ] {
        let response = stranger.post(path, &fields).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["code"], "session_ended", "{path}");
        assert_eq!(
            error["message"],
            "Your session has ended. Please sign in again."
        );
        // Without JavaScript the browser is sent to sign in again.
        let form = stranger.form_post(path, &fields).await;
        assert_eq!(form.status(), StatusCode::FOUND, "{path}");
        assert_eq!(location(&form).as_deref(), Some("/login?ended=1"), "{path}");
    }
}

#[tokio::test]
async fn ending_another_session_signs_that_browser_out_on_its_next_request() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let laptop = Browser::new(&app, CHROME_ON_LINUX);
    let old_laptop = Browser::new(&app, FIREFOX_ON_WINDOWS);
    laptop.sign_in("alice", PASSWORD).await;
    old_laptop.sign_in("alice", PASSWORD).await;
    assert_eq!(old_laptop.dashboard().await, StatusCode::OK);

    let other = handle_of(&laptop.sessions().await, false);
    let response = laptop
        .post("/api/sessions/revoke", &[("session", &other)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    assert_eq!(old_laptop.dashboard().await, StatusCode::SEE_OTHER);
    assert_eq!(laptop.dashboard().await, StatusCode::OK);
    assert_eq!(laptop.sessions().await.len(), 1);

    // Ended already: the same handle is now unknown.
    let again = laptop
        .post("/api/sessions/revoke", &[("session", &other)])
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let error: Value = again.json().await.unwrap();
    assert_eq!(error["code"], "unknown_session");
}

#[tokio::test]
async fn another_users_session_cannot_be_told_from_one_that_does_not_exist() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    app.register("bob", PASSWORD).await;
    let alice = Browser::new(&app, CHROME_ON_LINUX);
    let bob = Browser::new(&app, CHROME_ON_LINUX);
    alice.sign_in("alice", PASSWORD).await;
    bob.sign_in("bob", PASSWORD).await;
    let bobs_handle = handle_of(&bob.sessions().await, true);

    let theirs = alice
        .post("/api/sessions/revoke", &[("session", &bobs_handle)])
        .await;
    let unknown = alice
        .post(
            "/api/sessions/revoke",
            &[("session", "00000000000000000000000000000000")],
        )
        .await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(theirs.text().await.unwrap(), unknown.text().await.unwrap());
    assert_eq!(bob.dashboard().await, StatusCode::OK);

    // Neither a handle nor `others`, or both: a malformed request.
    let neither = alice.post("/api/sessions/revoke", &[]).await;
    assert_eq!(neither.status(), StatusCode::BAD_REQUEST);
    let both = alice
        .post(
            "/api/sessions/revoke",
            &[("session", &bobs_handle), ("others", "on")],
        )
        .await;
    assert_eq!(both.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn signing_out_everywhere_else_keeps_only_this_browser() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let here = Browser::new(&app, CHROME_ON_LINUX);
    let elsewhere: Vec<_> = (0..3)
        .map(|_| Browser::new(&app, FIREFOX_ON_WINDOWS))
        .collect();
    here.sign_in("alice", PASSWORD).await;
    for browser in &elsewhere {
        browser.sign_in("alice", PASSWORD).await;
    }
    assert_eq!(here.sessions().await.len(), 4);

    // Without JavaScript: a form post, then back to the account page.
    let response = here
        .form_post("/api/sessions/revoke", &[("others", "on")])
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let back = location(&response).unwrap();
    assert_eq!(back, "/account?signed_out=others#sessions-heading");
    let page = here.page(back.split('#').next().unwrap()).await;
    assert!(
        page.contains("Every other session is signed out."),
        "the account page says what was done"
    );

    for browser in &elsewhere {
        assert_eq!(browser.dashboard().await, StatusCode::SEE_OTHER);
    }
    let left = here.sessions().await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["current"], true);
}

#[tokio::test]
async fn ending_this_very_session_from_the_list_signs_out_here() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let here = Browser::new(&app, CHROME_ON_LINUX);
    here.sign_in("alice", PASSWORD).await;
    let mine = handle_of(&here.sessions().await, true);
    let response = here
        .post("/api/sessions/revoke", &[("session", &mine)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let cleared = session_set_cookie(&response, "session").expect("cookie cleared");
    assert!(
        cleared.to_ascii_lowercase().contains("max-age=0"),
        "{cleared}"
    );
    assert_eq!(here.dashboard().await, StatusCode::SEE_OTHER);
}

/// A revocation while the revoked browser's page loads are in flight, each due
/// to slide its expiry: none of their saves may bring the session back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revoked_session_stays_ended_whatever_page_loads_were_in_flight() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let here = Browser::new(&app, CHROME_ON_LINUX);
    here.sign_in("alice", PASSWORD).await;
    for round in 0..8 {
        let other = Browser::new(&app, FIREFOX_ON_WINDOWS);
        let signed_in = other.sign_in("alice", PASSWORD).await;
        let cookie = cookie_pair(&session_set_cookie(&signed_in, "session").unwrap());
        app.clock
            .advance(app.settings.session.refresh_interval_secs as i64);
        let loads: Vec<_> = (0..10)
            .map(|_| {
                let (client, url, cookie) = (
                    client_with(Arc::default()),
                    app.url("/dashboard"),
                    cookie.clone(),
                );
                tokio::spawn(
                    async move { client.get(url).header(header::COOKIE, cookie).send().await },
                )
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        let revoked = here.post("/api/sessions/revoke", &[("others", "on")]).await;
        assert_eq!(revoked.status(), StatusCode::OK, "round {round}");
        for load in loads {
            load.await.unwrap().unwrap();
        }
        let replay = app.get_with_cookie("/dashboard", &cookie).await;
        assert_eq!(replay.status(), StatusCode::SEE_OTHER, "round {round}");
        assert_eq!(here.sessions().await.len(), 1, "round {round}");
    }
}

#[tokio::test]
async fn a_password_change_keeps_this_browser_under_a_new_id_and_ends_the_others() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let here = Browser::new(&app, CHROME_ON_LINUX);
    let elsewhere = Browser::new(&app, FIREFOX_ON_WINDOWS);
    let signed_in = here.sign_in("alice", PASSWORD).await;
    let old_cookie = cookie_pair(&session_set_cookie(&signed_in, "session").unwrap());
    elsewhere.sign_in("alice", PASSWORD).await;
    let handle = handle_of(&here.sessions().await, true);

    let response = here
        .post(
            "/api/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let new_cookie = cookie_pair(&session_set_cookie(&response, "session").expect("new id"));
    assert_ne!(new_cookie, old_cookie);

    assert_eq!(here.dashboard().await, StatusCode::OK);
    assert_eq!(elsewhere.dashboard().await, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get_with_cookie("/dashboard", &old_cookie)
            .await
            .status(),
        StatusCode::SEE_OTHER,
        "the old id opens nothing"
    );
    let left = here.sessions().await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["handle"], handle.as_str(), "the same session");

    let old = app.login("alice", PASSWORD, false).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = app.login("alice", NEW_PASSWORD, false).await;
    assert_eq!(new.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_password_change_keeps_the_sign_up_rules_and_shows_each_error() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let here = Browser::new(&app, CHROME_ON_LINUX);
    here.sign_in("alice", PASSWORD).await;
    let change = |new: &'static str, confirm: &'static str| {
        let here = &here;
        async move {
            let response = here
                .post(
                    "/api/password",
                    &[
                        ("current_password", PASSWORD),
                        ("new_password", new),
                        ("confirm_password", confirm),
                    ],
                )
                .await;
            let status = response.status();
            let error: Value = response.json().await.unwrap();
            (
                status,
                error["rule"].as_str().unwrap_or_default().to_string(),
            )
        }
    };
    for (new, confirm, rule) in [
        ("short", "short", "password_too_short"),
        ("password123", "password123", "password_too_easy"),
        (
            "alice in wonderland 1865",
            "alice in wonderland 1865",
            "password_contains_username",
        ),
        (NEW_PASSWORD, "something else entirely", "passwords_differ"),
        (PASSWORD, PASSWORD, "password_unchanged"),
    ] {
        assert_eq!(
            change(new, confirm).await,
            (StatusCode::UNPROCESSABLE_ENTITY, rule.to_string())
        );
    }
    // Nothing changed.
    assert_eq!(here.dashboard().await, StatusCode::OK);
    assert_eq!(
        app.login("alice", PASSWORD, false).await.status(),
        StatusCode::OK
    );

    // Without JavaScript the error comes back to the form in the URL.
    let form = here
        .form_post(
            "/api/password",
            &[
                ("current_password", "not my password"),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(form.status(), StatusCode::FOUND);
    let back = location(&form).unwrap();
    assert!(back.starts_with(&app.url("/account?")), "{back}");
    assert!(back.contains("__err="), "{back}");
    let page = here.client.get(&back).send().await.unwrap();
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("The current password is not correct."));

    // And a success is a redirect to the page with its notice.
    let form = here
        .form_post(
            "/api/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        location(&form).as_deref(),
        Some("/account?password_changed=1")
    );
}

/// Someone holding a copied session cookie (no device cookie) guesses the
/// current password: their guesses count on the account's sign-in throttle.
#[tokio::test]
async fn wrong_current_passwords_count_toward_the_accounts_sign_in_throttle() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let owner = Browser::new(&app, CHROME_ON_LINUX);
    let signed_in = owner.sign_in("alice", PASSWORD).await;
    let stolen = cookie_pair(&session_set_cookie(&signed_in, "session").unwrap());
    let thief = client_with(Arc::default());
    let guess = |password: &'static str| {
        let (thief, url, stolen) = (thief.clone(), app.url("/api/password"), stolen.clone());
        async move {
            thief
                .post(url)
                .header(header::COOKIE, stolen)
                .form(&[
                    ("current_password", password),
                    ("new_password", NEW_PASSWORD),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    for attempt in 1..=5 {
        let response = guess("wrong guess!").await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "guess {attempt}"
        );
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["code"], "wrong_password");
    }
    let throttled = guess(PASSWORD).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.headers().contains_key(header::RETRY_AFTER));
    // The account is throttled for sign-ins from unknown browsers too.
    assert_eq!(
        app.login("alice", PASSWORD, false).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // The password is unchanged and the owner still signed in.
    assert_eq!(owner.dashboard().await, StatusCode::OK);
}
