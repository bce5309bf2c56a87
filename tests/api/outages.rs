//! Backends that go away under a running app: throwaway Redis and PostgreSQL
//! servers of the test's own (never the machine's), stopped as a crash would
//! stop them and started again on the same data.

use crate::instance;
use crate::services;

use instance::{client, session_cookie, Instance};
use persistent_login::server::store::scratch::ScratchDatabase;
use reqwest::{header, Client, Response, StatusCode};
use services::{Backend, ThrowawayPostgres, ThrowawayRedis};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery";

async fn register(client: &Client, app: &Instance, username: &str) {
    let fields = [("username", username), ("password", PASSWORD)];
    let registered = client
        .post(app.url("/api/register"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::OK);
}

/// Signs in (keep me signed in) and gives back the session cookie.
async fn sign_in(client: &Client, app: &Instance, username: &str) -> String {
    let fields = [
        ("username", username),
        ("password", PASSWORD),
        ("remember", "on"),
    ];
    let signed_in = client
        .post(app.url("/api/login"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);
    session_cookie(&signed_in).expect("a session cookie")
}

async fn dashboard(client: &Client, app: &Instance, cookie: &str) -> Response {
    client
        .get(app.url("/dashboard"))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
}

async fn get(client: &Client, app: &Instance, path: &str) -> Response {
    client.get(app.url(path)).send().await.unwrap()
}

fn retry_after(response: &Response) -> Option<&str> {
    response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
}

/// Log lines that say `text`.
fn lines_saying(app: &Instance, text: &str) -> usize {
    app.log().lines().filter(|line| line.contains(text)).count()
}

/// A backend stops and comes back under `app`, where `alice` is signed in
/// (`cookie`) and `bob` has an account.
async fn an_outage_is_answered_and_survived(
    app: &Instance,
    cookie: &str,
    backend: &mut dyn Backend,
) {
    let client = client();
    assert_eq!(
        dashboard(&client, app, cookie).await.status(),
        StatusCode::OK
    );
    backend.stop();

    // Pages that need the backend: 503, Retry-After and a page that says so.
    for _ in 0..10 {
        let page = dashboard(&client, app, cookie).await;
        assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry_after(&page), Some("5"));
        assert!(page
            .text()
            .await
            .unwrap()
            .contains("The service is briefly unavailable. Please try again in 5 seconds."));
    }
    // A sign-in form posted without JavaScript: back to the form, which
    // shows the error.
    let posted = client
        .post(app.url("/api/login"))
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, app.url("/login"))
        .form(&[("username", "bob"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::FOUND);
    let back = posted.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let form = client.get(&back).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK, "{back}");
    assert!(form
        .text()
        .await
        .unwrap()
        .contains("The service is briefly unavailable."));
    // A script's sign-in: the status and Retry-After.
    let scripted = client
        .post(app.url("/api/login"))
        .form(&[("username", "bob"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(scripted.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry_after(&scripted), Some("5"));
    // A passkey sign-in, begun or answered: the same.
    for (path, fields) in [
        ("/api/passkeys/sign-in/options", &[][..]),
        ("/api/passkeys/sign-in", &[("credential", "{}")][..]),
    ] {
        let passkey = client
            .post(app.url(path))
            .header(header::COOKIE, cookie)
            .form(fields)
            .send()
            .await
            .unwrap();
        assert_eq!(passkey.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(retry_after(&passkey), Some("5"), "{path}");
    }

    // Alive, not ready.
    assert_eq!(get(&client, app, "/healthz").await.status(), StatusCode::OK);
    let readyz = get(&client, app, "/readyz").await;
    assert_eq!(readyz.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry_after(&readyz), Some("5"));

    // Back by itself, with every session stored before the outage.
    backend.start_again();
    let deadline = Instant::now() + Duration::from_secs(15);
    while get(&client, app, "/readyz").await.status() != StatusCode::OK {
        assert!(Instant::now() < deadline, "not ready again after 15 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = dashboard(&client, app, cookie).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("alice"));
    sign_in(&client, app, "bob").await;

    // One line when it went, one when it came back; nothing per request.
    assert_eq!(lines_saying(app, "backend unavailable"), 1, "{}", app.log());
    assert_eq!(
        lines_saying(app, "backend available again"),
        1,
        "{}",
        app.log()
    );
    assert_eq!(lines_saying(app, "ERROR"), 1, "{}", app.log());
}

#[tokio::test]
async fn a_redis_outage_is_answered_503_and_survived() {
    let database = ScratchDatabase::create().await;
    let mut redis = ThrowawayRedis::start();
    let url = redis.url();
    let app = Instance::spawn(&[
        ("DATABASE_URL", database.url()),
        ("SESSION_STORE", "redis"),
        ("REDIS_URL", &url),
    ])
    .ready();
    let client = client();
    register(&client, &app, "alice").await;
    register(&client, &app, "bob").await;
    let cookie = sign_in(&client, &app, "alice").await;
    an_outage_is_answered_and_survived(&app, &cookie, &mut redis).await;
}

#[tokio::test]
async fn a_postgresql_outage_is_answered_503_and_survived() {
    let mut postgres = ThrowawayPostgres::start();
    let url = postgres.url();
    let app = Instance::spawn(&[("DATABASE_URL", &url)]).ready();
    let client = client();
    register(&client, &app, "alice").await;
    register(&client, &app, "bob").await;
    let cookie = sign_in(&client, &app, "alice").await;
    an_outage_is_answered_and_survived(&app, &cookie, &mut postgres).await;
}
