//! "Forgot your password?" (#24), with a real SMTP server: a link to the
//! account's verified address sets a new password once, within its
//! lifetime, and only while the password is the one it was sent under;
//! every session and token ends and the browser that used it is signed in.
//! The form answers the same for every name, known or not, and is
//! throttled per name and per client address.

use crate::helpers::{location, Browser, PASSWORD};
use crate::mail::{activity_kinds, app_with_mail, app_with_mail_and, code, follow, verified};
use crate::smtp::{Mail, SmtpSink};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
const RESET_PAGE: &str = "/password/reset";
const NEW_PASSWORD: &str = "plum trombone glacier sunset";

async fn forgot(browser: &Browser<'_>, login: &str) -> reqwest::Response {
    browser
        .post("/api/password/forgot", &[("login", login)])
        .await
}

/// The reset messages `address` has received.
fn resets(sink: &SmtpSink, address: &str) -> Vec<Mail> {
    sink.messages_to(address)
        .into_iter()
        .filter(|mail| mail.subject == "Reset your password")
        .collect()
}

async fn reset_link(sink: &SmtpSink, address: &str, count: usize) -> String {
    let started = std::time::Instant::now();
    loop {
        let mails = resets(sink, address);
        if mails.len() >= count {
            return mails[count - 1]
                .token_for(RESET_PAGE)
                .expect("a reset link");
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no reset link");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn reset(browser: &Browser<'_>, token: &str, password: &str) -> reqwest::Response {
    browser
        .post(
            "/api/password/reset",
            &[
                ("token", token),
                ("new_password", password),
                ("confirm_password", password),
            ],
        )
        .await
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_ends_every_session_and_token_and_signs_in_here() {
    let (app, sink) = app_with_mail().await;
    verified(&app, &sink, "alice", "alice@example.com").await;
    let laptop = Browser::new(&app, UA);
    laptop.sign_in("alice", PASSWORD).await;
    let token = app.token_for("alice").await;

    let phone = Browser::new(&app, UA);
    assert_eq!(forgot(&phone, "alice").await.status(), StatusCode::OK);
    let link = reset_link(&sink, "alice@example.com", 1).await;
    follow(&app, &phone, RESET_PAGE, &link).await;
    let state: Value = phone
        .post("/api/password/reset/link", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state["Valid"]["username"], "alice");

    // The browser that followed the link sets the password without the
    // token (its session holds it), as the page's form does.
    let done = phone
        .form_post(
            "/api/password/reset",
            &[
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert!(done.status().is_redirection(), "{}", done.status());
    assert_eq!(location(&done).as_deref(), Some("/dashboard"));
    assert_eq!(phone.dashboard().await, StatusCode::OK, "signed in here");
    assert_eq!(
        laptop.dashboard().await,
        StatusCode::SEE_OTHER,
        "signed out there"
    );
    assert_eq!(
        app.bearer_status(&token).await,
        StatusCode::UNAUTHORIZED,
        "tokens revoked"
    );
    let (used, why) = code(reset(&phone, &link, "another fine passphrase").await).await;
    assert_eq!(
        (used, why.as_str()),
        (StatusCode::NOT_FOUND, "link_invalid")
    );

    let old = Browser::new(&app, UA);
    let refused = old
        .post(
            "/api/login",
            &[("username", "alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    old.sign_in("alice", NEW_PASSWORD).await;
    let kinds = activity_kinds(&old).await;
    assert!(
        kinds.iter().any(|kind| kind == "password_reset"),
        "{kinds:?}"
    );

    // The address names the account too, in any case.
    assert_eq!(
        forgot(&old, "ALICE@example.com").await.status(),
        StatusCode::OK
    );
    reset_link(&sink, "alice@example.com", 2).await;
}

#[tokio::test]
async fn the_form_answers_the_same_whoever_is_named_and_mails_only_a_verified_address() {
    let (app, sink) = app_with_mail_and(|settings| settings.throttle.mail_per_address = 100).await;
    verified(&app, &sink, "alice", "alice@example.com").await;
    // bob gave an address but never verified it.
    app.register_with_email("bob", "bob@example.com").await;
    app.register("carol", PASSWORD).await;
    let browser = Browser::new(&app, UA);
    let mut answers = Vec::new();
    for login in [
        "alice",
        "alice@example.com",
        "bob",
        "bob@example.com",
        "carol",
        "nobody",
        "nobody@example.com",
    ] {
        let plain = browser
            .form_post("/api/password/forgot", &[("login", login)])
            .await;
        let scripted = forgot(&browser, login).await;
        let (status, body) = (scripted.status(), scripted.text().await.unwrap());
        answers.push((plain.status(), location(&plain), status, body));
    }
    assert!(
        answers.windows(2).all(|pair| pair[0] == pair[1]),
        "{answers:?}"
    );
    assert_eq!(answers[0].1.as_deref(), Some("/password/forgot?sent=1"));
    reset_link(&sink, "alice@example.com", 4).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(resets(&sink, "bob@example.com").is_empty(), "not verified");
    assert!(resets(&sink, "nobody@example.com").is_empty());
    let (empty, why) = code(forgot(&browser, "  ").await).await;
    assert_eq!(
        (empty, why.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input")
    );
}

#[tokio::test]
async fn a_link_past_its_half_hour_or_sent_before_a_password_change_resets_nothing() {
    let (app, sink) = app_with_mail().await;
    verified(&app, &sink, "alice", "alice@example.com").await;
    let browser = Browser::new(&app, UA);
    forgot(&browser, "alice").await;
    let first = reset_link(&sink, "alice@example.com", 1).await;
    app.clock
        .advance(app.settings.recovery.reset_link_minutes as i64 * 60);
    let (expired, _) = code(reset(&browser, &first, NEW_PASSWORD).await).await;
    assert_eq!(expired, StatusCode::NOT_FOUND);

    forgot(&browser, "alice").await;
    let second = reset_link(&sink, "alice@example.com", 2).await;
    browser.sign_in("alice", PASSWORD).await;
    let changed = browser
        .post(
            "/api/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a third passphrase here"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let (dead, _) = code(reset(&browser, &second, NEW_PASSWORD).await).await;
    assert_eq!(dead, StatusCode::NOT_FOUND, "the password changed since");

    // A refused new password leaves the link working.
    forgot(&browser, "alice").await;
    let third = reset_link(&sink, "alice@example.com", 3).await;
    let (short, rule) = code(reset(&browser, &third, "short").await).await;
    assert_eq!(
        (short, rule.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input")
    );
    let differ = browser
        .post(
            "/api/password/reset",
            &[
                ("token", third.as_str()),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", "something else entirely"),
            ],
        )
        .await;
    assert_eq!(differ.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reset(&browser, &third, NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn requests_are_throttled_per_name_known_or_not_and_per_client_address() {
    let (app, sink) = app_with_mail().await;
    verified(&app, &sink, "alice", "alice@example.com").await;
    let browser = Browser::new(&app, UA);
    let per_name = app.settings.throttle.mail_per_account;
    for login in ["alice", "nobody"] {
        for _ in 0..per_name {
            assert_eq!(forgot(&browser, login).await.status(), StatusCode::OK);
        }
        let throttled = forgot(&browser, login).await;
        assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS, "{login}");
        assert!(throttled.headers().contains_key("retry-after"));
    }
    // Many names from one address: each name new, the address's limit ends it.
    let per_address = app.settings.throttle.mail_per_address;
    let mut statuses = Vec::new();
    for n in 0..per_address {
        statuses.push(forgot(&browser, &format!("someone{n}")).await.status());
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    reset_link(&sink, "alice@example.com", per_name as usize).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(resets(&sink, "alice@example.com").len(), per_name as usize);
}

/// Following a mail link stores nothing on the server for the visit (#35):
/// the token waits in an HttpOnly cookie of its own, for an hour, and no
/// session is made, however many visits come.
#[tokio::test]
async fn following_a_link_stores_no_session_for_an_anonymous_visit() {
    let app = crate::helpers::spawn_app().await;
    let token = "ab".repeat(32);
    for (page, cookie) in [
        ("/password/reset", "link-reset"),
        ("/email/verify", "link-verify"),
        ("/alerts/not-me", "link-not-me"),
    ] {
        for _ in 0..50 {
            let visit = Browser::new(&app, UA);
            let followed = visit
                .client
                .get(app.url(&format!("{page}?token={token}")))
                .send()
                .await
                .unwrap();
            assert_eq!(followed.status(), StatusCode::SEE_OTHER, "{page}");
            assert_eq!(location(&followed).as_deref(), Some(page));
            assert!(
                crate::helpers::session_set_cookie(&followed, "session").is_none(),
                "{page}: no session"
            );
            let held = crate::helpers::session_set_cookie(&followed, cookie).expect("held");
            assert!(held.contains("HttpOnly"), "{held}");
            assert!(held.contains("Max-Age=3600"), "{held}");
            // The page reads it, and still makes no session.
            let shown = visit.client.get(app.url(page)).send().await.unwrap();
            assert_eq!(shown.status(), StatusCode::OK);
            assert!(crate::helpers::session_set_cookie(&shown, "session").is_none());
        }
    }
}
