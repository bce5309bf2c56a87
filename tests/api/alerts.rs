//! New-device alerts (#24), with a real SMTP server: a sign-in from a
//! browser that never signed in to the account mails its verified address
//! the device, the address and the time, with a "This wasn't me" link that
//! ends that session and every token without signing in, then leads to a
//! new password. Never for the account's first sign-in, never when the
//! owner turned alerts off, never without a verified address.

use crate::helpers::{location, Browser, PASSWORD};
use crate::mail::{activity_kinds, app_with_mail, follow, verified};
use crate::smtp::{Mail, SmtpSink};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

const LAPTOP: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
const PHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const NOT_ME_PAGE: &str = "/alerts/not-me";

fn alerts(sink: &SmtpSink, address: &str) -> Vec<Mail> {
    sink.messages_to(address)
        .into_iter()
        .filter(|mail| mail.subject.starts_with("New sign-in"))
        .collect()
}

/// The alerts `address` has received once the sender has had its turn.
async fn alerts_after_a_turn(sink: &SmtpSink, address: &str) -> Vec<Mail> {
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    alerts(sink, address)
}

async fn wait_for_alerts(sink: &SmtpSink, address: &str, count: usize) -> Vec<Mail> {
    let started = std::time::Instant::now();
    loop {
        let found = alerts(sink, address);
        if found.len() >= count {
            return found;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no alert");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_new_browser_is_reported_and_the_alert_link_ends_that_session_and_every_token() {
    let (app, sink) = app_with_mail().await;
    let address = "alice@example.com";
    verified(&app, &sink, "alice", address).await;
    let laptop = Browser::new(&app, LAPTOP);
    laptop.sign_in("alice", PASSWORD).await;
    assert!(
        alerts_after_a_turn(&sink, address).await.is_empty(),
        "not for the first sign-in"
    );

    let phone = Browser::new(&app, PHONE);
    phone.sign_in("alice", PASSWORD).await;
    let alert = wait_for_alerts(&sink, address, 1).await.remove(0);
    assert_eq!(alert.subject, "New sign-in to your account \"alice\"");
    assert!(
        alert.body.contains("Device: Safari on iPhone"),
        "{}",
        alert.body
    );
    assert!(alert.body.contains("Address: 127.0.0.1"), "{}", alert.body);
    let token = alert.token_for(NOT_ME_PAGE).expect("a link");

    // The laptop again (its device cookie), and a bearer token: no alert.
    laptop.sign_in("alice", PASSWORD).await;
    let bearer = app.token_for("alice").await;
    assert_eq!(alerts_after_a_turn(&sink, address).await.len(), 1);

    // Someone at the mailbox, signed in nowhere, follows the link.
    let mailbox = Browser::new(&app, LAPTOP);
    follow(&app, &mailbox, NOT_ME_PAGE, &token).await;
    let state: Value = mailbox
        .post("/api/alerts/not-me/link", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state["Valid"]["username"], "alice");
    // The page names the sign-in the alert was about, as the mail did.
    let sign_in = &state["Valid"]["sign_in"];
    assert_eq!(sign_in["device"], "Safari on iPhone", "{state}");
    assert_eq!(sign_in["client"], "127.0.0.1");
    assert!(sign_in["at"].as_i64().is_some_and(|at| at > 0), "{state}");
    let page = mailbox.page(NOT_ME_PAGE).await;
    assert!(
        page.contains(r#"data-testid="not-me-device">Safari on iPhone<"#),
        "the page names the device"
    );
    let done = mailbox.form_post("/api/alerts/not-me", &[]).await;
    assert!(done.status().is_redirection());
    assert_eq!(location(&done).as_deref(), Some("/password/reset"));
    assert_eq!(
        phone.dashboard().await,
        StatusCode::SEE_OTHER,
        "that session ended"
    );
    assert_eq!(
        laptop.dashboard().await,
        StatusCode::SEE_OTHER,
        "every other session too: an intruder may hold more than the one reported"
    );
    assert_eq!(
        app.bearer_status(&bearer).await,
        StatusCode::UNAUTHORIZED,
        "every token revoked"
    );
    let again = mailbox
        .post("/api/alerts/not-me", &[("token", &token)])
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND, "once only");

    // On to a new password, in the same browser, with no other link.
    let reset = mailbox
        .post(
            "/api/password/reset",
            &[
                ("new_password", "plum trombone glacier sunset"),
                ("confirm_password", "plum trombone glacier sunset"),
            ],
        )
        .await;
    assert_eq!(reset.status(), StatusCode::OK);
    assert_eq!(
        laptop.dashboard().await,
        StatusCode::SEE_OTHER,
        "now every session"
    );
    let kinds = activity_kinds(&mailbox).await;
    assert!(
        ["not_me", "password_reset"]
            .iter()
            .all(|kind| kinds.iter().any(|seen| seen == kind)),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn no_alert_when_turned_off_or_without_a_verified_address() {
    let (app, sink) = app_with_mail().await;
    // bob has no verified address: new browsers tell nobody.
    app.register_with_email("bob", "bob@example.com").await;
    Browser::new(&app, LAPTOP).sign_in("bob", PASSWORD).await;
    let bobs_phone = Browser::new(&app, PHONE);
    bobs_phone.sign_in("bob", PASSWORD).await;
    let refused = bobs_phone
        .post("/api/email/alerts", &[("enabled", "on")])
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let address = "alice@example.com";
    verified(&app, &sink, "alice", address).await;
    let laptop = Browser::new(&app, LAPTOP);
    laptop.sign_in("alice", PASSWORD).await;
    let off = laptop.form_post("/api/email/alerts", &[]).await;
    assert_eq!(
        location(&off).as_deref(),
        Some("/account?alerts_saved=1#email-heading")
    );
    let status: Value = laptop
        .post("/api/email/status", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["new_device_alerts"], false);
    Browser::new(&app, PHONE).sign_in("alice", PASSWORD).await;
    assert!(
        alerts_after_a_turn(&sink, address).await.is_empty(),
        "turned off"
    );

    // Turning them on or off again is a sensitive action.
    app.clock
        .advance(app.settings.session.reauth_window_secs as i64 + 1);
    let late = laptop.post("/api/email/alerts", &[("enabled", "on")]).await;
    assert_eq!(late.status(), StatusCode::FORBIDDEN);
    laptop.sign_in("alice", PASSWORD).await;
    let on = laptop.post("/api/email/alerts", &[("enabled", "on")]).await;
    assert_eq!(on.status(), StatusCode::OK);
    Browser::new(&app, PHONE).sign_in("alice", PASSWORD).await;
    wait_for_alerts(&sink, address, 1).await;
    assert!(
        sink.messages_to("bob@example.com").len() == 1,
        "bob's verification only"
    );
}

/// Alice, with a verified address and a laptop; a phone signs in (alerted)
/// twice, from two new browsers: the two alerts' "This wasn't me" tokens.
async fn two_alerts<'a>(
    app: &'a crate::helpers::TestApp,
    sink: &SmtpSink,
) -> (Browser<'a>, String, String) {
    let address = "alice@example.com";
    verified(app, sink, "alice", address).await;
    let laptop = Browser::new(app, LAPTOP);
    laptop.sign_in("alice", PASSWORD).await;
    Browser::new(app, PHONE).sign_in("alice", PASSWORD).await;
    Browser::new(app, PHONE).sign_in("alice", PASSWORD).await;
    let alerts = wait_for_alerts(sink, address, 2).await;
    let token = |mail: &Mail| mail.token_for(NOT_ME_PAGE).expect("a link");
    (laptop, token(&alerts[0]), token(&alerts[1]))
}

/// Links are bound to the address they went to (#35): once the account's
/// verified address is another, an alert's link and a reset link sent to
/// the old one open nothing.
#[tokio::test]
async fn links_sent_to_an_address_the_account_has_left_open_nothing() {
    let (app, sink) = app_with_mail().await;
    let (laptop, not_me, _) = two_alerts(&app, &sink).await;
    let stranger = Browser::new(&app, LAPTOP);
    let forgot = stranger
        .post("/api/password/forgot", &[("login", "alice")])
        .await;
    assert_eq!(forgot.status(), StatusCode::OK);
    let reset = loop {
        let found = sink
            .messages_to("alice@example.com")
            .into_iter()
            .find(|mail| mail.subject == "Reset your password");
        if let Some(mail) = found {
            break mail.token_for("/password/reset").unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    // Alice moves to a new address (the old mailbox is no longer hers).
    let asked = laptop
        .post("/api/email", &[("email", "alice@example.org")])
        .await;
    assert_eq!(asked.status(), StatusCode::OK);
    let link = sink.wait_for("alice@example.org", 1).await.remove(0);
    let verify = link.token_for("/email/verify").unwrap();
    let proven = laptop
        .post("/api/email/verify", &[("token", &verify)])
        .await;
    assert_eq!(proven.status(), StatusCode::OK);

    let old_mailbox = Browser::new(&app, LAPTOP);
    follow(&app, &old_mailbox, "/password/reset", &reset).await;
    let state: Value = old_mailbox
        .post("/api/password/reset/link", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state, "Invalid", "the reset link shows as dead");
    let used = old_mailbox
        .post(
            "/api/password/reset",
            &[
                ("token", &reset),
                ("new_password", "plum trombone glacier sunset"),
                ("confirm_password", "plum trombone glacier sunset"),
            ],
        )
        .await;
    assert_eq!(used.status(), StatusCode::NOT_FOUND);
    let alert = old_mailbox
        .post("/api/alerts/not-me", &[("token", &not_me)])
        .await;
    assert_eq!(alert.status(), StatusCode::NOT_FOUND);
    assert_eq!(laptop.dashboard().await, StatusCode::OK, "nothing ended");
}

/// An alert's link grants no more than a reset link (#35): used, the
/// other alerts' links die; past a reset link's lifetime it still signs
/// every device out, but leads to "Forgot your password?" instead of a new
/// password.
#[tokio::test]
async fn an_alerts_link_grants_no_more_than_a_reset_link() {
    let (app, sink) = app_with_mail().await;
    let (laptop, first, second) = two_alerts(&app, &sink).await;
    app.clock
        .advance(app.settings.recovery.reset_link_minutes as i64 * 60 + 1);
    let mailbox = Browser::new(&app, LAPTOP);
    let done = mailbox
        .form_post("/api/alerts/not-me", &[("token", &first)])
        .await;
    assert_eq!(
        location(&done).as_deref(),
        Some("/password/forgot?signed_out=1")
    );
    assert_eq!(
        laptop.dashboard().await,
        StatusCode::SEE_OTHER,
        "signed out"
    );
    let state: Value = mailbox
        .post("/api/password/reset/link", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state, "Invalid", "no new password from a day-old alert");
    let other = mailbox
        .post("/api/alerts/not-me", &[("token", &second)])
        .await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND, "one used, all dead");
}
