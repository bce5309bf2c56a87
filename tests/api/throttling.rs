//! Password guessing is throttled per account and per client address, in the
//! database; sign-ups are limited per address.

use crate::helpers::{spawn_app, spawn_app_with, test_settings, TestApp, PASSWORD};
use reqwest::StatusCode;
use std::sync::Arc;

async fn fail_times(app: &TestApp, username: &str, times: usize) {
    for attempt in 1..=times {
        let response = app.login(username, "wrong password!", false).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
}

#[tokio::test]
async fn five_failures_throttle_the_account_with_429_and_retry_after() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    app.register("bob", PASSWORD).await;
    fail_times(&app, "alice", 5).await;

    let throttled = app.login("alice", PASSWORD, false).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: i64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    assert!(throttled
        .text()
        .await
        .unwrap()
        .contains("Too many attempts"));

    // Another account from the same address is not affected.
    assert_eq!(
        app.login("bob", PASSWORD, false).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_accounts_are_throttled_exactly_like_real_ones() {
    let app = spawn_app().await;
    fail_times(&app, "nobody", 5).await;
    assert_eq!(
        app.login("nobody", PASSWORD, false).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn the_throttle_survives_a_server_restart() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    fail_times(&app, "alice", 5).await;
    let app = app.restart().await;
    assert_eq!(
        app.login("alice", PASSWORD, false).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_throttled_account_signs_in_again_once_the_delay_has_passed() {
    let (mut settings, dir) = test_settings().await;
    // Minutes, so that the real seconds a busy machine adds do not matter.
    settings.throttle.base_delay_secs = 60;
    settings.throttle.max_delay_secs = 120;
    let app = spawn_app_with(settings, Arc::new(dir)).await;
    app.register("alice", PASSWORD).await;
    fail_times(&app, "alice", 5).await;
    assert_eq!(
        app.login("alice", PASSWORD, false).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    app.clock.advance(120);
    assert_eq!(
        app.login("alice", PASSWORD, false).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn many_failures_from_one_address_throttle_that_address() {
    let (mut settings, dir) = test_settings().await;
    settings.throttle.address_max_failures = 3;
    let app = spawn_app_with(settings, Arc::new(dir)).await;
    app.register("carol", PASSWORD).await;
    for name in ["u1", "u2", "u3"] {
        assert_eq!(
            app.login(name, "wrong password!", false).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.login("carol", PASSWORD, false).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn sign_ups_are_limited_per_address() {
    let (mut settings, dir) = test_settings().await;
    settings.throttle.sign_ups_per_address = 3;
    let app = spawn_app_with(settings, Arc::new(dir)).await;
    for name in ["one", "two", "three"] {
        assert_eq!(
            app.register(name, PASSWORD).await.status(),
            StatusCode::OK,
            "{name}"
        );
    }
    let fourth = app.register("four", PASSWORD).await;
    assert_eq!(fourth.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(fourth.headers().contains_key("retry-after"));
}

/// Behind a trusted reverse proxy, each browser is counted by the address
/// the proxy forwards; without one, that header is anybody's and ignored.
#[tokio::test]
async fn behind_a_trusted_proxy_each_client_address_has_its_own_limit() {
    async fn sign_up_from(app: &TestApp, name: &str, forwarded_for: &str) -> StatusCode {
        app.client
            .post(app.url("/api/register"))
            .header("x-forwarded-for", forwarded_for)
            .form(&[("username", name), ("password", PASSWORD)])
            .send()
            .await
            .unwrap()
            .status()
    }
    let (mut settings, dir) = test_settings().await;
    settings.throttle.sign_ups_per_address = 2;
    settings.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    let behind_proxy = spawn_app_with(settings, Arc::new(dir)).await;
    for name in ["a1", "a2"] {
        assert_eq!(
            sign_up_from(&behind_proxy, name, "203.0.113.1").await,
            StatusCode::OK
        );
    }
    assert_eq!(
        sign_up_from(&behind_proxy, "a3", "203.0.113.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another browser behind the same proxy, and one that writes its own
    // hop before the proxy's: each is its own address.
    assert_eq!(
        sign_up_from(&behind_proxy, "b1", "203.0.113.2").await,
        StatusCode::OK
    );
    assert_eq!(
        sign_up_from(&behind_proxy, "a4", "198.51.100.9, 203.0.113.1").await,
        StatusCode::TOO_MANY_REQUESTS,
        "a spoofed first hop changes nothing"
    );

    let (mut settings, dir) = test_settings().await;
    settings.throttle.sign_ups_per_address = 2;
    let direct = spawn_app_with(settings, Arc::new(dir)).await;
    for (name, forwarded) in [("c1", "203.0.113.1"), ("c2", "203.0.113.2")] {
        assert_eq!(sign_up_from(&direct, name, forwarded).await, StatusCode::OK);
    }
    assert_eq!(
        sign_up_from(&direct, "c3", "203.0.113.3").await,
        StatusCode::TOO_MANY_REQUESTS,
        "no trusted proxy: the header does not make new addresses"
    );
}

/// A burst of wrong passwords sent at once: each guess is counted before its
/// hash starts, so no more than the limit are checked and the rest are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_guesses_are_each_counted_before_their_hash() {
    const GUESSES: usize = 16;
    let (mut settings, dir) = test_settings().await;
    // Several hashing threads, so guesses really run side by side.
    settings.password.max_concurrent_hashes = 4;
    let app = Arc::new(spawn_app_with(settings, Arc::new(dir)).await);
    app.register("alice", PASSWORD).await;
    let guesses: Vec<_> = (0..GUESSES)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.login("alice", "wrong password!", false).await.status() })
        })
        .collect();
    let mut answers = Vec::new();
    for guess in guesses {
        answers.push(guess.await.unwrap());
    }
    let checked = answers
        .iter()
        .filter(|status| **status == StatusCode::UNAUTHORIZED)
        .count();
    let refused = answers
        .iter()
        .filter(|status| **status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    let limit = app.settings.throttle.account_max_failures as usize;
    assert_eq!((checked, refused), (limit, GUESSES - limit), "{answers:?}");
    assert_eq!(
        app.login("alice", PASSWORD, false).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn successful_sign_ins_do_not_use_up_the_address_limit() {
    let (mut settings, dir) = test_settings().await;
    settings.throttle.address_max_failures = 3;
    let app = spawn_app_with(settings, Arc::new(dir)).await;
    app.register("carol", PASSWORD).await;
    for _ in 0..5 {
        assert_eq!(
            app.login("carol", PASSWORD, false).await.status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        app.login("nobody", "wrong password!", false).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// OWASP device cookies: a stranger's failures block strangers, not the
/// browser the owner has signed in with before; that browser's own failures
/// count on its own.
#[tokio::test]
async fn strangers_failures_do_not_lock_out_a_browser_that_signed_in_before() {
    let app = spawn_app().await;
    let first = app.signed_in_as("alice", true).await;
    assert!(crate::helpers::session_set_cookie(&first, "device").is_some());
    app.logout().await;

    let stranger = crate::helpers::client_with(Arc::default());
    let stranger_login = |password: &'static str| {
        stranger
            .post(app.url("/api/login"))
            .form(&[("username", "alice"), ("password", password)])
            .send()
    };
    for _ in 0..5 {
        assert_eq!(
            stranger_login("wrong password!").await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        stranger_login(PASSWORD).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    // The owner's browser signs in all the same.
    assert_eq!(
        app.login("alice", PASSWORD, true).await.status(),
        StatusCode::OK
    );
    app.logout().await;
    // Its own failures are counted, and block it in turn.
    fail_times(&app, "alice", 5).await;
    assert_eq!(
        app.login("alice", PASSWORD, true).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}
