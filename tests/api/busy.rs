//! When every password-hashing thread stays busy, a sign-in waits a bounded
//! time and is then answered 503 with `Retry-After`: never a hang, never a 500.

use crate::helpers::{spawn_app, spawn_app_with, test_settings, TestApp, PASSWORD};
use persistent_login::server::config::Settings;
use reqwest::StatusCode;
use std::{sync::Arc, time::Duration};

/// One slow hashing thread and no time to wait for it; throttling out of the way.
async fn app_with_one_busy_hashing_thread(adjust: impl FnOnce(&mut Settings)) -> Arc<TestApp> {
    let (mut settings, dir) = test_settings().await;
    settings.password.argon2_memory_kib = 19_456;
    settings.password.argon2_iterations = 8;
    settings.password.max_concurrent_hashes = 1;
    settings.password.hash_queue_timeout_ms = 1;
    settings.password.hash_queue_max = 1;
    settings.throttle.account_max_failures = 100;
    adjust(&mut settings);
    Arc::new(spawn_app_with(settings, Arc::new(dir)).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_ins_that_find_no_hashing_thread_in_time_get_503_with_retry_after() {
    const SIGN_INS: usize = 8;
    // Each retried sign-up below is a sign-up attempt from this address.
    let app = app_with_one_busy_hashing_thread(|settings| {
        settings.throttle.sign_ups_per_address = 1_000;
    })
    .await;
    // The dummy hash made at start may hold the thread for a moment.
    let mut registered = app.register("alice", PASSWORD).await.status();
    for _ in 0..50 {
        if registered != StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        registered = app.register("alice", PASSWORD).await.status();
    }
    assert_eq!(registered, StatusCode::OK);
    let sign_ins: Vec<_> = (0..SIGN_INS)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                let response = app.login("alice", PASSWORD, false).await;
                let status = response.status();
                let retry_after = response.headers().get("retry-after").cloned();
                (status, retry_after, response.text().await.unwrap())
            })
        })
        .collect();
    let mut busy = 0;
    for sign_in in sign_ins {
        let (status, retry_after, body) = sign_in.await.unwrap();
        match status {
            StatusCode::OK => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                busy += 1;
                assert_eq!(retry_after.unwrap(), "1");
                assert!(body.contains(r#""code":"busy""#), "{body}");
                assert!(body.contains("The server is busy"), "{body}");
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert!(
        busy > 0,
        "at least one of {SIGN_INS} found the one thread busy"
    );
    // With the thread free again, sign-in works.
    assert_eq!(
        app.login("alice", PASSWORD, false).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_server_answers_before_the_dummy_hash_is_made() {
    let app = spawn_app().await;
    let started = std::time::Instant::now();
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(1));
    // An unknown user's sign-in waits for the dummy hash like any other.
    assert_eq!(
        app.login("nobody", PASSWORD, false).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sign_in_refused_as_busy_is_not_counted_as_a_guess() {
    let app = app_with_one_busy_hashing_thread(|_| {}).await;
    // Wrong passwords, many at once: those refused as busy checked nothing.
    let guesses: Vec<_> = (0..8)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(
                async move { app.login("nobody", "wrong password!", false).await.status() },
            )
        })
        .collect();
    let mut statuses = Vec::new();
    for guess in guesses {
        statuses.push(guess.await.unwrap());
    }
    let checked = statuses
        .iter()
        .filter(|status| **status == StatusCode::UNAUTHORIZED)
        .count();
    let busy = statuses
        .iter()
        .filter(|status| **status == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    assert!(busy > 0, "{statuses:?}");
    assert_eq!(checked + busy, 8, "{statuses:?}");
    let database = app.database().await;
    let counted: i64 = sqlx::query_scalar(
        "SELECT count FROM throttle WHERE scope = 'sign_in_account' AND subject = 'nobody'",
    )
    .fetch_one(&database)
    .await
    .unwrap();
    assert_eq!(counted, checked as i64, "{statuses:?}");
}
