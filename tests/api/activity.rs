//! The security activity page (#23): each user reads what happened on their
//! own account (sign-ins, from a new device or not, failed and throttled
//! ones, sign-outs, sessions ended, password changes, tokens, confirmations),
//! newest first and a page at a time, never anyone else's; "This wasn't me"
//! ends every other session and token.

use crate::helpers::{location, spawn_app, Browser, PASSWORD};
use reqwest::StatusCode;
use serde_json::Value;

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
const PHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

async fn activity(browser: &Browser<'_>, before: Option<i64>) -> Value {
    let before = before.map(|id| id.to_string());
    let fields: Vec<(&str, &str)> = before.iter().map(|id| ("before", id.as_str())).collect();
    let response = browser.post("/api/activity", &fields).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// The kinds of a page, newest first.
fn kinds(page: &Value) -> Vec<String> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["kind"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_owner_sees_what_happened_newest_first_and_which_device_was_theirs() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let laptop = Browser::new(&app, UA);
    laptop.sign_in("alice", PASSWORD).await;
    // A stranger guesses wrong; the phone signs in for the first time.
    let stranger = Browser::new(&app, PHONE);
    let failed = stranger
        .post(
            "/api/login",
            &[
                ("username", "alice"),
                ("password", "not her password at all"),
            ],
        )
        .await;
    assert_eq!(failed.status(), StatusCode::UNAUTHORIZED);
    let phone = Browser::new(&app, PHONE);
    phone.sign_in("alice", PASSWORD).await;
    let made = laptop.post("/api/tokens/new", &[]).await;
    assert_eq!(made.status(), StatusCode::OK);
    assert_eq!(
        laptop.post("/api/tokens/revoke", &[]).await.status(),
        StatusCode::OK
    );
    let phones = laptop.sessions().await;
    let phone_handle = phones
        .iter()
        .find(|session| session["current"] == false)
        .unwrap()["handle"]
        .as_str()
        .unwrap()
        .to_string();
    let ended = laptop
        .post("/api/sessions/revoke", &[("session", &phone_handle)])
        .await;
    assert_eq!(ended.status(), StatusCode::OK);
    // Someone at the open laptop guesses at the password prompt.
    let guessed = laptop
        .post("/api/confirm", &[("password", "a guess at the prompt")])
        .await;
    assert_eq!(guessed.status(), StatusCode::UNAUTHORIZED);
    let confirmed = laptop.post("/api/confirm", &[("password", PASSWORD)]).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let changed = laptop
        .post(
            "/api/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "plum trombone glacier sunset"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);

    let page = activity(&laptop, None).await;
    assert_eq!(
        kinds(&page),
        [
            "password_changed",
            "confirmed",
            "sign_in_failed",
            "session_ended",
            "tokens_revoked",
            "token_created",
            "signed_in_new_device",
            "sign_in_failed",
            "signed_in_new_device",
            // The sign-up's own session, on the browser that signed up.
            "signed_out",
            "signed_up",
        ]
    );
    assert_eq!(page["retention_days"], 90);
    assert!(page["older"].is_null(), "one page: {page}");
    let events = page["events"].as_array().unwrap();
    // This session's own events are marked, the phone's and the stranger's not.
    let this: Vec<bool> = events
        .iter()
        .map(|event| event["this_device"].as_bool().unwrap())
        .collect();
    assert_eq!(
        this,
        [true, true, true, true, true, true, false, false, true, false, false],
        "{page}"
    );
    assert_eq!(events[7]["device"], "Safari on iPhone", "{page}");
    assert_eq!(events[7]["client"], "127.0.0.1");
    // The page shows the same, rendered on the server.
    let html = laptop.page("/account/activity").await;
    assert!(html.contains("Signed in from a new device"), "{html}");
    assert!(html.contains("Wrong password entered"), "{html}");

    // A sign-out is the last thing the laptop's session records; the next
    // sign-in from it is from a known device.
    assert_eq!(
        laptop.post("/api/logout", &[]).await.status(),
        StatusCode::OK
    );
    laptop
        .sign_in("alice", "plum trombone glacier sunset")
        .await;
    let page = activity(&laptop, None).await;
    assert_eq!(kinds(&page)[..2], ["signed_in", "signed_out"]);
}

#[tokio::test]
async fn nobody_reads_another_users_activity_and_signed_out_reads_nothing() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    app.register("bob", PASSWORD).await;
    let alice = Browser::new(&app, UA);
    alice.sign_in("alice", PASSWORD).await;
    let bob = Browser::new(&app, PHONE);
    bob.sign_in("bob", PASSWORD).await;
    // Bob tries every cursor there is: only his own events come back.
    let alices = activity(&alice, None).await;
    let alices_id = alices["events"][0]["id"].as_i64().unwrap();
    for before in [None, Some(alices_id), Some(i64::MAX)] {
        let page = activity(&bob, before).await;
        for event in page["events"].as_array().unwrap() {
            // Bob's phone, or the browser he signed up on.
            assert!(
                ["Safari on iPhone", "Unknown device"].contains(&event["device"].as_str().unwrap()),
                "{page}"
            );
            assert_ne!(event["id"].as_i64(), Some(alices_id), "{page}");
        }
    }
    // Signed out: 401 and no list; the page sends to sign-in.
    let nobody = Browser::new(&app, UA);
    let refused = nobody.post("/api/activity", &[]).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let page = nobody
        .client
        .get(app.url("/account/activity"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&page).as_deref(),
        Some("/login?next=/account/activity")
    );
    let bad = alice.post("/api/activity", &[("before", "soon")]).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

/// Every event id on a page.
fn ids(page: &Value) -> Vec<i64> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn event_ids_tell_nothing_of_the_sites_volume() {
    // #35: ids were the site-wide row counter, so a user who signed in
    // twice learnt how many events everyone else had in between.
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    app.register("bob", PASSWORD).await;
    let alice = Browser::new(&app, UA);
    let bob = Browser::new(&app, PHONE);
    alice.sign_in("alice", PASSWORD).await;
    bob.sign_in("bob", PASSWORD).await;
    assert_eq!(
        alice.post("/api/logout", &[]).await.status(),
        StatusCode::OK
    );
    alice.sign_in("alice", PASSWORD).await;
    let mut seen = ids(&activity(&alice, None).await);
    seen.extend(ids(&activity(&bob, None).await));
    assert!(seen.len() >= 7, "{seen:?}");
    for (i, a) in seen.iter().enumerate() {
        for b in &seen[i + 1..] {
            assert!(
                a.abs_diff(*b) > 1_000_000,
                "ids in sequence tell the volume: {seen:?}"
            );
        }
        // Within what JavaScript holds exactly.
        assert!((1..=1_i64 << 53).contains(a), "{a}");
    }
}

#[tokio::test]
async fn a_long_activity_comes_a_page_at_a_time_and_old_events_go() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let laptop = Browser::new(&app, UA);
    laptop.sign_in("alice", PASSWORD).await;
    for _ in 0..24 {
        assert_eq!(
            laptop.post("/api/confirm/end", &[]).await.status(),
            StatusCode::OK
        );
        let confirmed = laptop.post("/api/confirm", &[("password", PASSWORD)]).await;
        assert_eq!(confirmed.status(), StatusCode::OK);
    }
    let first = activity(&laptop, None).await;
    assert_eq!(first["events"].as_array().unwrap().len(), 20);
    let older = first["older"].as_i64().expect("a second page");
    let second = activity(&laptop, Some(older)).await;
    assert_eq!(kinds(&second).len(), 7, "{second}");
    assert_eq!(
        kinds(&second)[4..],
        ["signed_in_new_device", "signed_out", "signed_up"]
    );
    assert!(second["older"].is_null());
    let html = laptop.page("/account/activity").await;
    assert!(
        html.contains(&format!("href=\"/account/activity?before={older}\"")),
        "a plain link to the older page: {html}"
    );

    // 91 days later nothing of it is shown; the sign-in then is.
    app.clock.advance(91 * 86_400);
    let again = Browser::new(&app, UA);
    again.sign_in("alice", PASSWORD).await;
    assert_eq!(
        kinds(&activity(&again, None).await),
        ["signed_in_new_device"]
    );
}

#[tokio::test]
async fn this_wasnt_me_ends_every_other_session_and_token_and_leads_to_the_password() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let laptop = Browser::new(&app, UA);
    laptop.sign_in("alice", PASSWORD).await;
    let thief = Browser::new(&app, PHONE);
    thief.sign_in("alice", PASSWORD).await;
    let token = thief.post("/api/tokens/new", &[]).await;
    let token: Value = token.json().await.unwrap();
    let token = token["token"].as_str().unwrap().to_string();

    // Outside the window it asks for the password first.
    app.clock.advance(901);
    let refused = laptop.form_post("/api/activity/not-me", &[]).await;
    assert_eq!(refused.status(), StatusCode::FOUND);
    assert_eq!(
        location(&refused).as_deref(),
        Some("/confirm?for=/api/activity/not-me&next=/account")
    );
    assert_eq!(thief.dashboard().await, StatusCode::OK, "nothing changed");
    let confirmed = laptop.post("/api/confirm", &[("password", PASSWORD)]).await;
    assert_eq!(confirmed.status(), StatusCode::OK);

    let done = laptop.form_post("/api/activity/not-me", &[]).await;
    assert_eq!(done.status(), StatusCode::FOUND);
    assert_eq!(
        location(&done).as_deref(),
        Some("/account?not_me=1#password-heading")
    );
    assert_ne!(thief.dashboard().await, StatusCode::OK);
    let me = reqwest::Client::new()
        .get(app.url("/api/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(laptop.dashboard().await, StatusCode::OK, "this one stays");
    assert_eq!(kinds(&activity(&laptop, None).await)[0], "not_me");
    let account = laptop.page("/account?not_me=1").await;
    assert!(account.contains("data-testid=\"not-me-done\""), "{account}");
}

/// A stranger hammering the account: their wrong passwords show, and once
/// the account is throttled, the refusals show once, however many there are.
#[tokio::test]
async fn a_flood_of_refused_sign_ins_shows_once_per_throttle_window() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let failures = app.settings.throttle.account_max_failures as usize;
    for attempt in 0..failures + 10 {
        // Each from a fresh browser, so none is a device the account trusts.
        let stranger = Browser::new(&app, PHONE);
        let refused = stranger
            .post(
                "/api/login",
                &[("username", "alice"), ("password", "a wrong guess, again")],
            )
            .await;
        let expected = if attempt < failures {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(refused.status(), expected, "attempt {attempt}");
    }
    // The owner, on the browser she always uses, is not locked out.
    app.clock
        .advance(app.settings.throttle.max_delay_secs as i64 + 1);
    let laptop = Browser::new(&app, UA);
    laptop.sign_in("alice", PASSWORD).await;
    let page = activity(&laptop, None).await;
    let kinds = kinds(&page);
    assert_eq!(kinds[0], "signed_in_new_device", "{page}");
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| *kind == "sign_in_throttled")
            .count(),
        1,
        "{page}"
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| *kind == "sign_in_failed")
            .count(),
        failures,
        "{page}"
    );
}
