//! A notice for every credential change (#35), with a real SMTP server:
//! Alice's verified address hears of each change to her password, address,
//! passkeys, API tokens and alerts, with where and when it was made, and no
//! link that grants anything. An address change is told to the old address,
//! with the new one masked.

use crate::authenticator::Authenticator;
use crate::helpers::{Browser, PASSWORD};
use crate::mail::{app_with_mail, follow, verified};
use crate::passkeys::{add_passkey, ORIGIN};
use crate::smtp::{Mail, SmtpSink};
use reqwest::StatusCode;
use serde_json::Value;

const ADDRESS: &str = "alice@example.com";
const NEW_ADDRESS: &str = "alice.new@example.org";
const LAPTOP: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
const NEW_PASSWORD: &str = "plum trombone glacier sunset";

/// The `count`th message to `address` (from 1), once it has come: a notice
/// with `subject`, naming the laptop, without a link that grants anything.
async fn notice(sink: &SmtpSink, address: &str, count: usize, subject: &str) -> Mail {
    let mail = sink.wait_for(address, count).await.remove(count - 1);
    assert_eq!(mail.subject, subject, "{}", mail.body);
    assert!(
        mail.body.contains("Device: Firefox on Linux"),
        "{}",
        mail.body
    );
    assert!(mail.body.contains("Address: 127.0.0.1"), "{}", mail.body);
    assert!(!mail.body.contains("token="), "{}", mail.body);
    mail
}

#[tokio::test]
async fn every_credential_change_is_told_to_the_verified_address_without_a_link_that_grants() {
    let (app, sink) = app_with_mail().await;
    verified(&app, &sink, "alice", ADDRESS).await;
    let mut received = sink.messages_to(ADDRESS).len();
    let mut next = |subject: &'static str| {
        received += 1;
        (received, subject)
    };
    let laptop = Browser::new(&app, LAPTOP);
    laptop.sign_in("alice", PASSWORD).await;

    let changed = laptop
        .post(
            "/api/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let (n, subject) = next("Your password was changed");
    notice(&sink, ADDRESS, n, subject).await;

    assert_eq!(
        laptop.post("/api/tokens/new", &[]).await.status(),
        StatusCode::OK
    );
    let (n, subject) = next("An API token was created for your account");
    notice(&sink, ADDRESS, n, subject).await;

    let mut device = Authenticator::new(ORIGIN);
    let added = add_passkey(&laptop, &mut device, "https://evil.example/").await;
    assert_eq!(added.status(), StatusCode::OK);
    let id = added.json::<Value>().await.unwrap()["id"].to_string();
    let (n, subject) = next("A passkey was added to your account");
    let mail = notice(&sink, ADDRESS, n, subject).await;
    assert!(
        mail.body.contains("\"https: //evil.example/\""),
        "a typed name is quoted and no link: {}",
        mail.body
    );
    let removed = laptop.post("/api/passkeys/remove", &[("id", &id)]).await;
    assert_eq!(removed.status(), StatusCode::OK);
    let (n, subject) = next("A passkey was removed from your account");
    notice(&sink, ADDRESS, n, subject).await;

    let off = laptop.post("/api/email/alerts", &[]).await;
    assert_eq!(off.status(), StatusCode::OK);
    let (n, subject) = next("New-device alerts were turned off");
    notice(&sink, ADDRESS, n, subject).await;
    let on = laptop.post("/api/email/alerts", &[("enabled", "on")]).await;
    assert_eq!(on.status(), StatusCode::OK);

    // A new address, once proven: the old one is told, the new one masked.
    let asked = laptop.post("/api/email", &[("email", NEW_ADDRESS)]).await;
    assert_eq!(asked.status(), StatusCode::OK);
    let link = sink.wait_for(NEW_ADDRESS, 1).await.remove(0);
    let token = link.token_for("/email/verify").expect("a link");
    follow(&app, &laptop, "/email/verify", &token).await;
    let proven = laptop.post("/api/email/verify", &[]).await;
    assert_eq!(proven.status(), StatusCode::OK);
    let (n, subject) = next("Your account's email address was changed");
    let mail = notice(&sink, ADDRESS, n, subject).await;
    assert!(mail.body.contains("a***@example.org"), "{}", mail.body);
    assert!(!mail.body.contains(NEW_ADDRESS), "{}", mail.body);

    // A reset is told to the address now in use (after its own link).
    let forgot = laptop
        .post("/api/password/forgot", &[("login", "alice")])
        .await;
    assert_eq!(forgot.status(), StatusCode::OK);
    let reset = sink.wait_for(NEW_ADDRESS, 2).await.remove(1);
    let token = reset.token_for("/password/reset").expect("a reset link");
    let done = laptop
        .post(
            "/api/password/reset",
            &[
                ("token", token.as_str()),
                ("new_password", PASSWORD),
                ("confirm_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status(), StatusCode::OK);
    notice(&sink, NEW_ADDRESS, 3, "Your password was reset").await;
    assert_eq!(
        sink.messages_to(ADDRESS).len(),
        received,
        "the old address hears nothing more"
    );
}
