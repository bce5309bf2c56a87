//! An account's email address (#24), proven with a real SMTP server
//! (`scripts/smtp_sink.py`): the link a message carries verifies it once,
//! before it expires and while the password is unchanged; an address
//! another account has gets a notice and the same answer; the mail server
//! going away loses nothing and delays no answer; two instances sharing one
//! outbox send each message once.

use crate::helpers::{location, spawn_app_with, Browser, TestApp, PASSWORD};
use crate::mail::{activity_kinds, app_with_mail_and, code, follow, mail_settings};
use crate::smtp::{Mail, SmtpSink};
use reqwest::StatusCode;
use serde_json::Value;
use std::{sync::Arc, time::Duration};

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
const VERIFY_PAGE: &str = "/email/verify";

/// An app whose mail goes to a sink of its own, its links to a public site.
async fn app_with_mail() -> (TestApp, SmtpSink) {
    app_with_mail_and(|settings| settings.mail.site_url = "https://accounts.example.com".into())
        .await
}

async fn status(browser: &Browser<'_>) -> Value {
    let response = browser.post("/api/email/status", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// `alice`, signed in on a browser of her own.
async fn alice<'a>(app: &'a TestApp) -> Browser<'a> {
    app.register("alice", PASSWORD).await;
    let browser = Browser::new(app, UA);
    browser.sign_in("alice", PASSWORD).await;
    browser
}

fn verification_token(mail: &Mail) -> String {
    mail.token_for(VERIFY_PAGE).expect("a verification link")
}

#[tokio::test]
async fn an_address_given_at_sign_up_is_verified_once_by_its_link_followed_in_a_browser() {
    let (app, sink) = app_with_mail().await;
    let registered = app.register_with_email("alice", "Alice@Example.com").await;
    assert_eq!(registered.status(), StatusCode::OK);
    assert_eq!(
        location(&registered).as_deref(),
        Some("/dashboard?check_inbox=1"),
        "the dashboard says a link is on its way"
    );
    let mail = sink.wait_for("Alice@Example.com", 1).await.remove(0);
    assert_eq!(mail.subject, "Confirm your email address");
    let link = mail.link_to(VERIFY_PAGE).unwrap();
    assert!(
        link.starts_with("https://accounts.example.com/email/verify?token="),
        "links lead to mail.site_url: {link}"
    );
    let token = verification_token(&mail);

    // Following the link on another device (not signed in): the token leaves
    // the address bar at once, and the page asks before it acts.
    let phone = Browser::new(&app, UA);
    follow(&app, &phone, VERIFY_PAGE, &token).await;
    let page = phone.page(VERIFY_PAGE).await;
    assert!(
        page.contains("Alice@Example.com"),
        "the page names the address"
    );
    let state: Value = phone
        .post("/api/email/link", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state["Valid"]["address"], "Alice@Example.com");

    let verified = phone.form_post("/api/email/verify", &[]).await;
    assert!(verified.status().is_redirection());
    assert_eq!(location(&verified).as_deref(), Some("/email/verify?done=1"));
    // Once only, by the session or by the token itself.
    let (again, code_again) = code(phone.post("/api/email/verify", &[]).await).await;
    assert_eq!(
        (again, code_again.as_str()),
        (StatusCode::NOT_FOUND, "link_invalid")
    );
    let (reused, _) = code(phone.post("/api/email/verify", &[("token", &token)]).await).await;
    assert_eq!(reused, StatusCode::NOT_FOUND);

    let laptop = Browser::new(&app, UA);
    laptop.sign_in("alice", PASSWORD).await;
    let shown = status(&laptop).await;
    assert_eq!(shown["verified"], "Alice@Example.com");
    assert_eq!(shown["pending"], Value::Null);
    let kinds = activity_kinds(&laptop).await;
    assert!(
        kinds.iter().any(|kind| kind == "email_verified"),
        "{kinds:?}"
    );
    assert_eq!(sink.messages().len(), 1, "one message in all");
}

#[tokio::test]
async fn a_link_past_its_lifetime_or_sent_before_a_password_change_does_not_work() {
    let (app, sink) = app_with_mail().await;
    let browser = alice(&app).await;
    let set = browser
        .post("/api/email", &[("email", "alice@example.com")])
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    let first = verification_token(&sink.wait_for("alice@example.com", 1).await[0]);
    app.clock.advance(24 * 3_600);
    let (expired, _) = code(
        browser
            .post("/api/email/verify", &[("token", &first)])
            .await,
    )
    .await;
    assert_eq!(expired, StatusCode::NOT_FOUND, "24 hours later");

    // A fresh link, then the password changes: the link dies with it.
    browser.sign_in("alice", PASSWORD).await;
    let resent = browser
        .post("/api/email", &[("email", "alice@example.com")])
        .await;
    assert_eq!(resent.status(), StatusCode::OK);
    let second = verification_token(&sink.wait_for("alice@example.com", 2).await[1]);
    let changed = browser
        .post(
            "/api/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "an entirely new passphrase"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let (dead, _) = code(
        browser
            .post("/api/email/verify", &[("token", &second)])
            .await,
    )
    .await;
    assert_eq!(dead, StatusCode::NOT_FOUND);
    assert_eq!(status(&browser).await["verified"], Value::Null);
}

#[tokio::test]
async fn the_verified_address_stays_until_a_new_one_is_proven_and_changing_it_is_sensitive() {
    let (app, sink) = app_with_mail().await;
    let browser = alice(&app).await;
    browser
        .post("/api/email", &[("email", "old@example.com")])
        .await;
    let token = verification_token(&sink.wait_for("old@example.com", 1).await[0]);
    browser
        .post("/api/email/verify", &[("token", &token)])
        .await;

    browser
        .post("/api/email", &[("email", "new@example.com")])
        .await;
    let shown = status(&browser).await;
    assert_eq!(shown["verified"], "old@example.com");
    assert_eq!(shown["pending"], "new@example.com");
    // "Send the link again": a new link; only the newest works.
    let resent = browser.post("/api/email/resend", &[]).await;
    assert_eq!(resent.status(), StatusCode::OK);
    let links = sink.wait_for("new@example.com", 2).await;
    let (stale, _) = code(
        browser
            .post(
                "/api/email/verify",
                &[("token", &verification_token(&links[0]))],
            )
            .await,
    )
    .await;
    assert_eq!(stale, StatusCode::NOT_FOUND);
    let fresh = browser
        .post(
            "/api/email/verify",
            &[("token", &verification_token(&links[1]))],
        )
        .await;
    assert_eq!(fresh.status(), StatusCode::OK);
    let shown = status(&browser).await;
    assert_eq!(shown["verified"], "new@example.com");
    assert_eq!(shown["pending"], Value::Null);
    let (nothing, rule) = code(browser.post("/api/email/resend", &[]).await).await;
    assert_eq!(
        (nothing, rule.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input")
    );

    // Past the re-authentication window, changing it asks for the password.
    app.clock
        .advance(app.settings.session.reauth_window_secs as i64 + 1);
    let (refused, why) = code(
        browser
            .post("/api/email", &[("email", "third@example.com")])
            .await,
    )
    .await;
    assert_eq!(
        (refused, why.as_str()),
        (StatusCode::FORBIDDEN, "reauth_required")
    );
    assert!(sink.messages_to("third@example.com").is_empty());
    let no_js = browser
        .form_post("/api/email", &[("email", "third@example.com")])
        .await;
    assert_eq!(
        location(&no_js).as_deref(),
        Some("/confirm?for=/api/email&next=/account")
    );
}

#[tokio::test]
async fn an_address_another_account_has_gets_a_notice_and_the_form_answers_the_same() {
    let (app, sink) = app_with_mail().await;
    let browser = alice(&app).await;
    browser
        .post("/api/email", &[("email", "shared@example.com")])
        .await;
    let token = verification_token(&sink.wait_for("shared@example.com", 1).await[0]);
    browser
        .post("/api/email/verify", &[("token", &token)])
        .await;

    app.register("bob", PASSWORD).await;
    let bob = Browser::new(&app, UA);
    bob.sign_in("bob", PASSWORD).await;
    let taken = bob
        .form_post("/api/email", &[("email", "SHARED@example.com")])
        .await;
    let fresh = bob
        .form_post("/api/email", &[("email", "bob@example.com")])
        .await;
    assert_eq!(taken.status(), fresh.status());
    assert_eq!(location(&taken), location(&fresh), "the same answer");
    let notice = sink.wait_for("shared@example.com", 2).await.remove(1);
    assert_eq!(
        notice.subject,
        "Your email address was entered on another account"
    );
    assert_eq!(
        notice.link_to(VERIFY_PAGE),
        None,
        "a notice carries no link"
    );
    assert_eq!(status(&bob).await["pending"], "bob@example.com");

    // Asked for alone, the taken address waits like any other: shown as
    // pending, and sent again with 200 (#35), the owner told again.
    let carol = Browser::new(&app, UA);
    app.register("carol", PASSWORD).await;
    carol.sign_in("carol", PASSWORD).await;
    let asked = carol
        .post("/api/email", &[("email", "Shared@example.com")])
        .await;
    assert_eq!(asked.status(), StatusCode::OK);
    assert_eq!(status(&carol).await["pending"], "Shared@example.com");
    let again = carol.post("/api/email/resend", &[]).await;
    assert_eq!(again.status(), StatusCode::OK, "as for any address");
    let told = sink.wait_for("shared@example.com", 4).await;
    assert!(told[2..]
        .iter()
        .all(|mail| mail.link_to(VERIFY_PAGE).is_none()));
}

#[tokio::test]
async fn of_two_accounts_waiting_for_one_address_the_first_to_verify_keeps_it() {
    let (app, sink) = app_with_mail().await;
    let alice = alice(&app).await;
    app.register("bob", PASSWORD).await;
    let bob = Browser::new(&app, UA);
    bob.sign_in("bob", PASSWORD).await;
    alice
        .post("/api/email", &[("email", "one@example.com")])
        .await;
    bob.post("/api/email", &[("email", "one@example.com")])
        .await;
    let links = sink.wait_for("one@example.com", 2).await;
    let first = alice
        .post(
            "/api/email/verify",
            &[("token", &verification_token(&links[0]))],
        )
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    let (second, why) = code(
        bob.post(
            "/api/email/verify",
            &[("token", &verification_token(&links[1]))],
        )
        .await,
    )
    .await;
    assert_eq!(
        (second, why.as_str()),
        (StatusCode::CONFLICT, "email_taken")
    );
    assert_eq!(status(&bob).await["verified"], Value::Null);
}

#[tokio::test]
async fn what_is_not_an_address_is_refused_and_links_are_throttled() {
    let (app, sink) = app_with_mail().await;
    for bad in [
        "alice",
        "alice@localhost",
        "a b@example.com",
        // Accepted by the grammar, delivered by nobody; a name that reads
        // backwards, or with a character nobody sees (#35).
        "\"a\\\"b\"@example.com",
        "a@[127.0.0.1]",
        "\u{202E}moc.elpmaxe@ecila",
        "al\u{200B}ice@example.com",
        "",
    ] {
        let (refused, why) = code(
            app.post_form(
                "/api/register",
                &[
                    ("username", "carol"),
                    ("password", PASSWORD),
                    ("email", bad),
                ],
            )
            .await,
        )
        .await;
        if bad.is_empty() {
            assert_eq!(refused, StatusCode::OK, "the address is optional");
        } else {
            assert_eq!(
                (refused, why.as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
                "{bad}"
            );
        }
    }
    let browser = alice(&app).await;
    let per_account = app.settings.throttle.mail_per_account;
    for _ in 0..per_account {
        let sent = browser
            .post("/api/email", &[("email", "alice@example.com")])
            .await;
        assert_eq!(sent.status(), StatusCode::OK);
    }
    let throttled = browser
        .post("/api/email", &[("email", "alice@example.com")])
        .await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.headers().contains_key("retry-after"));
    let resend = browser.post("/api/email/resend", &[]).await;
    assert_eq!(resend.status(), StatusCode::TOO_MANY_REQUESTS);
    sink.wait_for("alice@example.com", per_account as usize)
        .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(sink.messages().len(), per_account as usize);
}

#[tokio::test]
async fn while_the_mail_server_is_away_requests_answer_at_once_and_every_message_arrives_once() {
    let (app, mut sink) = app_with_mail().await;
    let browser = alice(&app).await;
    sink.stop();
    let started = std::time::Instant::now();
    for who in ["dave", "erin", "frank"] {
        let registered = app
            .register_with_email(who, &format!("{who}@example.com"))
            .await;
        assert_eq!(registered.status(), StatusCode::OK);
    }
    let set = browser
        .post("/api/email", &[("email", "alice@example.com")])
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "no request waits for the mail server"
    );
    // The sender has tried and failed; the messages wait in the outbox.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let database = app.database().await;
    let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox WHERE attempts > 0")
        .fetch_one(&database)
        .await
        .unwrap();
    assert!(waiting >= 1, "tried while the server was away");

    sink.start_again();
    app.clock.advance(900);
    for who in ["dave", "erin", "frank", "alice"] {
        sink.wait_for(&format!("{who}@example.com"), 1).await;
    }
    // Later turns send nothing again.
    app.clock.advance(900);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let messages = sink.messages();
    assert_eq!(messages.len(), 4, "{messages:?}");
    let mut ids: Vec<&str> = messages
        .iter()
        .map(|mail| mail.message_id.as_str())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox")
        .fetch_one(&database)
        .await
        .unwrap();
    assert_eq!(left, 0, "delivered messages leave the outbox");
}

#[tokio::test]
async fn two_instances_sharing_one_outbox_send_each_message_once() {
    let sink = SmtpSink::start();
    let (mut settings, storage) = mail_settings(&sink).await;
    settings.throttle.sign_ups_per_address = 100;
    // Each sign-up with an address is a message this client asks for.
    settings.throttle.mail_per_address = 100;
    let storage = Arc::new(storage);
    let first = spawn_app_with(settings.clone(), storage.clone()).await;
    let second = spawn_app_with(settings, storage).await;
    let count = 12;
    let registrations = (0..count).map(|n| {
        let app = if n % 2 == 0 { &first } else { &second };
        async move {
            let name = format!("user{n}");
            let response = app
                .register_with_email(&name, &format!("{name}@example.com"))
                .await;
            assert_eq!(response.status(), StatusCode::OK);
        }
    });
    futures_join_all(registrations).await;
    for n in 0..count {
        sink.wait_for(&format!("user{n}@example.com"), 1).await;
    }
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(sink.messages().len(), count, "each message once");
}

/// Runs the futures at once and waits for all.
async fn futures_join_all<F: std::future::Future<Output = ()>>(futures: impl Iterator<Item = F>) {
    let mut set = Vec::new();
    for future in futures {
        set.push(future);
    }
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = set.into_iter().map(Box::pin).collect();
    std::future::poll_fn(move |cx| {
        pinned.retain_mut(|future| future.as_mut().poll(cx).is_pending());
        if pinned.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
}

/// Strangers cannot pause an owner's own requests (#35): "Forgot your
/// password?" naming alice until it is throttled leaves her address change
/// and "Send the link again" working.
#[tokio::test]
async fn forgot_password_requests_by_strangers_do_not_pause_the_owners_address_change() {
    let (app, sink) = app_with_mail_and(|settings| settings.throttle.mail_per_address = 100).await;
    let browser = alice(&app).await;
    let stranger = Browser::new(&app, UA);
    let limit = app.settings.throttle.mail_per_account;
    for _ in 0..limit {
        let asked = stranger
            .post("/api/password/forgot", &[("login", "alice")])
            .await;
        assert_eq!(asked.status(), StatusCode::OK);
    }
    let paused = stranger
        .post("/api/password/forgot", &[("login", "alice")])
        .await;
    assert_eq!(paused.status(), StatusCode::TOO_MANY_REQUESTS);

    let mine = browser
        .post("/api/email", &[("email", "alice@example.com")])
        .await;
    assert_eq!(mine.status(), StatusCode::OK);
    assert_eq!(
        browser.post("/api/email/resend", &[]).await.status(),
        StatusCode::OK
    );
    sink.wait_for("alice@example.com", 2).await;
}
