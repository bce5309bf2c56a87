//! Mail aimed at someone else's address (#35, finding 7): a message with a
//! link is counted against the address it goes to, whoever asks for it and
//! from wherever (sign-ups with an address, an address set or sent again,
//! "Forgot your password?"); a sign-up with an address counts on its client's
//! mail limit too; and a verification message, which goes to an address
//! nobody has proven, carries nothing the asker typed but that address.

use crate::helpers::{Browser, TestApp, PASSWORD};
use crate::mail::{app_with_mail_and, verified};
use reqwest::StatusCode;
use std::{sync::Arc, time::Duration};

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
const VICTIM: &str = "victim@example.com";

/// A sign-up of `username` with `email`, from the client `forwarded_for`
/// behind the trusted proxy.
async fn sign_up_from(
    app: &TestApp,
    username: &str,
    email: &str,
    forwarded_for: &str,
) -> StatusCode {
    app.client
        .post(app.url("/api/register"))
        .header("x-forwarded-for", forwarded_for)
        .form(&[
            ("username", username),
            ("password", PASSWORD),
            ("email", email),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

/// Lets the sender deliver what it will, then the messages `address` got.
async fn settled_count(sink: &crate::smtp::SmtpSink, address: &str) -> usize {
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    sink.messages_to(address).len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_address_gets_no_more_than_its_limit_whoever_asks_and_from_wherever() {
    let (app, sink) = app_with_mail_and(|settings| {
        settings.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        settings.throttle.mail_per_recipient = 4;
    })
    .await;
    let app = Arc::new(app);
    // Twelve clients at once, each signing up once with the same stranger's
    // address: before #35 every one of them reached it.
    let attempts: Vec<_> = (0..12)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                sign_up_from(
                    &app,
                    &format!("aim{i}"),
                    VICTIM,
                    &format!("203.0.113.{}", i + 1),
                )
                .await
            })
        })
        .collect();
    let mut admitted = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            StatusCode::OK => admitted += 1,
            // Refused past the limit, or by a busy hasher (its count given back).
            status => assert!(
                [
                    StatusCode::TOO_MANY_REQUESTS,
                    StatusCode::SERVICE_UNAVAILABLE
                ]
                .contains(&status),
                "{status}"
            ),
        }
    }
    assert!(admitted <= 4, "{admitted} sign-ups mailed the same address");
    // Whatever the busy hasher gave back is taken by the next clients; then
    // the address is paused.
    let mut next = 100;
    while admitted < 4 {
        next += 1;
        let status = sign_up_from(
            &app,
            &format!("aim{next}"),
            VICTIM,
            &format!("203.0.113.{next}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        admitted += 1;
    }
    assert_eq!(
        sign_up_from(&app, "aimlast", VICTIM, "198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // An account of its own, from yet another client, cannot aim there
    // either, by the address form or by sending it again.
    let carol = Browser::new(&app, UA);
    assert_eq!(
        sign_up_from(&app, "carol", "carol@example.com", "198.51.100.2").await,
        StatusCode::OK
    );
    carol.sign_in("carol", PASSWORD).await;
    let aimed = carol.post("/api/email", &[("email", VICTIM)]).await;
    assert_eq!(aimed.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(aimed.headers().contains_key("retry-after"));
    assert_eq!(settled_count(&sink, VICTIM).await, 4);
    // Other addresses are not held up by it.
    assert_eq!(sink.wait_for("carol@example.com", 1).await.len(), 1);

    // A window later the address may be mailed again.
    app.clock
        .advance(i64::try_from(app.settings.throttle.mail_window_secs).unwrap() + 1);
    let confirmed = carol.post("/api/confirm", &[("password", PASSWORD)]).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    assert_eq!(
        carol
            .post("/api/email", &[("email", VICTIM)])
            .await
            .status(),
        StatusCode::OK
    );
    sink.wait_for(VICTIM, 5).await;
}

#[tokio::test]
async fn a_sign_up_with_an_address_counts_on_its_clients_mail_limit() {
    let (app, sink) = app_with_mail_and(|settings| settings.throttle.mail_per_address = 3).await;
    for i in 0..3 {
        let address = format!("person{i}@example.com");
        let signed_up = app
            .register_with_email(&format!("person{i}"), &address)
            .await;
        assert_eq!(signed_up.status(), StatusCode::OK);
    }
    let fourth = app
        .register_with_email("person3", "person3@example.com")
        .await;
    assert_eq!(fourth.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(fourth.headers().contains_key("retry-after"));
    // Signing up without an address sends nothing, and is not held up.
    assert_eq!(
        app.register("person4", PASSWORD).await.status(),
        StatusCode::OK
    );
    // Nor is "Forgot your password?" any way around it: it is the same limit.
    let forgot = app
        .post_form("/api/password/forgot", &[("login", "person0")])
        .await;
    assert_eq!(forgot.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(settled_count(&sink, "person3@example.com").await, 0);
    assert_eq!(sink.messages().len(), 3);
}

#[tokio::test]
async fn a_reset_link_past_its_addresss_limit_is_not_sent_and_the_answer_says_nothing() {
    let (app, sink) = app_with_mail_and(|settings| {
        settings.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        settings.throttle.mail_per_recipient = 3;
    })
    .await;
    // One message already: the verification link.
    verified(&app, &sink, "alice", "alice@example.com").await;
    // Asked for by her name and by her address (each its own per-name
    // count), from four clients: every answer is the same.
    for (i, login) in ["alice", "alice@example.com", "alice", "alice@example.com"]
        .iter()
        .enumerate()
    {
        let asked = app
            .client
            .post(app.url("/api/password/forgot"))
            .header("x-forwarded-for", format!("203.0.113.{}", i + 1))
            .form(&[("login", login)])
            .send()
            .await
            .unwrap();
        assert_eq!(asked.status(), StatusCode::OK, "{login}");
    }
    sink.wait_for("alice@example.com", 3).await;
    let got = settled_count(&sink, "alice@example.com").await;
    assert_eq!(got, 3, "one verification and two reset links, then none");
}

#[tokio::test]
async fn a_verification_message_carries_nothing_the_asker_typed_but_the_address() {
    let (app, sink) = app_with_mail_and(|_| {}).await;
    // A name chosen to read as a link, or as a message, in someone's mailbox.
    let name = "www.prize-claim.example/win-now";
    let signed_up = app.register_with_email(name, VICTIM).await;
    assert_eq!(signed_up.status(), StatusCode::OK);
    let mail = sink.wait_for(VICTIM, 1).await.remove(0);
    assert!(!mail.body.contains("prize"), "{}", mail.body);
    assert!(!mail.subject.contains("prize"), "{}", mail.subject);
    assert!(mail.body.contains(VICTIM), "{}", mail.body);
    // The link still works for the one who can read it.
    let token = mail
        .token_for("/email/verify")
        .expect("a verification link");
    let done = app
        .post_form("/api/email/verify", &[("token", &token)])
        .await;
    assert_eq!(done.status(), StatusCode::OK);
}
