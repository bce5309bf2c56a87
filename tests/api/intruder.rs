//! Recovery shuts an intruder out (#35): someone with Alice's stolen password
//! signs in (the re-authentication window opens) and adds a passkey of their
//! own. Whichever way Alice recovers — "This wasn't me" in the alert's mail,
//! on the activity page, or a password reset — the passkey signs in no more,
//! the intruder's browser is trusted no more (their next sign-in is reported),
//! Alice's own browser stays trusted, and her activity names the passkeys
//! removed.

use crate::authenticator::Authenticator;
use crate::helpers::{location, Browser, TestApp, PASSWORD};
use crate::mail::{app_with_mail, follow, verified};
use crate::passkeys::{add_passkey, assertion, sign_in_with, ORIGIN};
use crate::smtp::SmtpSink;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

const ADDRESS: &str = "alice@example.com";
const LAPTOP: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
const INTRUDER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const NEW_PASSWORD: &str = "plum trombone glacier sunset";
/// The intruder names their passkey as Alice might name hers.
const INTRUDERS_PASSKEY: &str = "Laptop";

fn alerts(sink: &SmtpSink) -> usize {
    sink.messages_to(ADDRESS)
        .into_iter()
        .filter(|mail| mail.subject.starts_with("New sign-in"))
        .count()
}

/// Waits until `count` alerts have come, then a moment more for any other.
async fn alerts_once_sent(sink: &SmtpSink, count: usize) -> usize {
    let started = std::time::Instant::now();
    while alerts(sink) < count && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    alerts(sink)
}

/// Alice's laptop, signed in; the intruder's browser, signed in with her
/// password and holding a passkey it added; the "This wasn't me" link the
/// intruder's sign-in mailed her.
async fn intruder_with_a_passkey<'a>(
    app: &'a TestApp,
    sink: &SmtpSink,
) -> (Browser<'a>, Browser<'a>, Authenticator, String) {
    verified(app, sink, "alice", ADDRESS).await;
    let laptop = Browser::new(app, LAPTOP);
    laptop.sign_in("alice", PASSWORD).await;
    let intruder = Browser::new(app, INTRUDER);
    intruder.sign_in("alice", PASSWORD).await;
    assert_eq!(alerts_once_sent(sink, 1).await, 1, "the intruder's sign-in");
    let alert = sink
        .messages_to(ADDRESS)
        .into_iter()
        .find(|mail| mail.subject.starts_with("New sign-in"))
        .unwrap();
    let not_me = alert.token_for("/alerts/not-me").expect("a link");
    let mut device = Authenticator::new(ORIGIN);
    let added = add_passkey(&intruder, &mut device, INTRUDERS_PASSKEY).await;
    assert_eq!(added.status(), StatusCode::OK, "inside the window");
    // Before any recovery the passkey works, from the intruder's trusted
    // browser, and no alert goes out.
    assert_eq!(
        intruder.post("/api/logout", &[]).await.status(),
        StatusCode::OK
    );
    let credential = assertion(&intruder, &mut device).await;
    assert_eq!(
        sign_in_with(&intruder, &credential).await.status(),
        StatusCode::OK
    );
    assert_eq!(alerts_once_sent(sink, 1).await, 1, "a trusted browser");
    (laptop, intruder, device, not_me)
}

/// The intruder's passkey is refused and signs nobody in.
async fn passkey_refused(intruder: &Browser<'_>, device: &mut Authenticator) {
    let credential = assertion(intruder, device).await;
    let answer = sign_in_with(intruder, &credential).await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "the passkey");
    assert_eq!(intruder.dashboard().await, StatusCode::SEE_OTHER);
}

/// Alice's activity names the passkey a recovery removed.
async fn removal_shown(owner: &Browser<'_>) {
    let activity: Value = owner.post("/api/activity", &[]).await.json().await.unwrap();
    let removed: Vec<&Value> = activity["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["kind"] == "passkey_removed_by_recovery")
        .collect();
    assert_eq!(removed.len(), 1, "{activity:#}");
    assert_eq!(removed[0]["detail"], INTRUDERS_PASSKEY);
}

#[tokio::test]
async fn the_alerts_link_then_a_new_password_shut_the_intruders_passkey_and_browser_out() {
    let (app, sink) = app_with_mail().await;
    let (laptop, intruder, mut device, not_me) = intruder_with_a_passkey(&app, &sink).await;

    // Alice reads the alert on her laptop and follows "This wasn't me".
    follow(&app, &laptop, "/alerts/not-me", &not_me).await;
    let done = laptop.form_post("/api/alerts/not-me", &[]).await;
    assert_eq!(location(&done).as_deref(), Some("/password/reset"));
    assert_eq!(intruder.dashboard().await, StatusCode::SEE_OTHER);
    passkey_refused(&intruder, &mut device).await;
    // The password still works until Alice sets a new one, but the
    // intruder's browser is a new device again: she is told.
    intruder.sign_in("alice", PASSWORD).await;
    assert_eq!(alerts_once_sent(&sink, 2).await, 2, "reported");

    let reset = laptop
        .form_post(
            "/api/password/reset",
            &[
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(location(&reset).as_deref(), Some("/dashboard"));
    assert_eq!(intruder.dashboard().await, StatusCode::SEE_OTHER);
    let old = intruder
        .post(
            "/api/login",
            &[("username", "alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    passkey_refused(&intruder, &mut device).await;
    removal_shown(&laptop).await;
    // Alice's laptop is still hers: signing in there again alerts nobody.
    laptop.sign_in("alice", NEW_PASSWORD).await;
    assert_eq!(alerts_once_sent(&sink, 2).await, 2, "her own browser");
}

#[tokio::test]
async fn this_wasnt_me_on_the_activity_page_shuts_the_intruders_passkey_and_browser_out() {
    let (app, sink) = app_with_mail().await;
    let (laptop, intruder, mut device, _) = intruder_with_a_passkey(&app, &sink).await;

    let done = laptop.post("/api/activity/not-me", &[]).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert_eq!(intruder.dashboard().await, StatusCode::SEE_OTHER);
    passkey_refused(&intruder, &mut device).await;
    removal_shown(&laptop).await;
    intruder.sign_in("alice", PASSWORD).await;
    assert_eq!(alerts_once_sent(&sink, 2).await, 2, "reported");
    laptop.sign_in("alice", PASSWORD).await;
    assert_eq!(alerts_once_sent(&sink, 2).await, 2, "her own browser");
}

#[tokio::test]
async fn a_password_reset_shuts_the_intruders_passkey_and_browser_out() {
    let (app, sink) = app_with_mail().await;
    let (laptop, intruder, mut device, _) = intruder_with_a_passkey(&app, &sink).await;

    let asked = laptop
        .post("/api/password/forgot", &[("login", "alice")])
        .await;
    assert_eq!(asked.status(), StatusCode::OK);
    let started = std::time::Instant::now();
    let token = loop {
        let reset = sink
            .messages_to(ADDRESS)
            .into_iter()
            .find(|mail| mail.subject == "Reset your password");
        if let Some(mail) = reset {
            break mail.token_for("/password/reset").expect("a reset link");
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no reset link");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let reset = laptop
        .post(
            "/api/password/reset",
            &[
                ("token", token.as_str()),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(reset.status(), StatusCode::OK);
    assert_eq!(intruder.dashboard().await, StatusCode::SEE_OTHER);
    passkey_refused(&intruder, &mut device).await;
    removal_shown(&laptop).await;
    laptop.sign_in("alice", NEW_PASSWORD).await;
    assert_eq!(alerts_once_sent(&sink, 1).await, 1, "her own browser");
}
