//! Slow or idle clients cannot hold connections: headers, bodies and idle
//! keep-alive connections have time limits, and open connections a bound.

use crate::helpers::{spawn_app_with, test_settings, TestApp};
use reqwest::StatusCode;
use std::{sync::Arc, time::Duration};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::{sleep, timeout, Instant},
};

/// The configured limits are one second, so each wait below is far longer.
const PATIENCE: Duration = Duration::from_secs(10);

async fn app_with_short_limits(max_connections: usize) -> TestApp {
    let (mut settings, dir) = test_settings().await;
    settings.server.header_timeout_secs = 1;
    settings.server.body_timeout_secs = 1;
    settings.server.max_connections = max_connections;
    spawn_app_with(settings, Arc::new(dir)).await
}

/// A sign-in whose body (100 bytes announced) has only begun: its request is
/// being answered, waiting for the rest.
async fn half_a_body(app: &TestApp) -> TcpStream {
    let mut stream = TcpStream::connect(app.address).await.unwrap();
    stream
        .write_all(
            b"POST /api/login HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nu",
        )
        .await
        .unwrap();
    stream
}

/// Reads until the server closes the connection; what it sent before that.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .expect("read");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let app = app_with_short_limits(16).await;
    let mut stream = TcpStream::connect(app.address).await.unwrap();
    stream
        .write_all(b"GET /login HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    until_closed(&mut stream).await;
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let app = app_with_short_limits(16).await;
    let mut stream = TcpStream::connect(app.address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_body_sent_a_byte_at_a_time_gets_408() {
    let app = app_with_short_limits(16).await;
    let mut stream = half_a_body(&app).await;
    let trickle = async {
        for _ in 0..20 {
            sleep(Duration::from_millis(300)).await;
            if stream.write_all(b"x").await.is_err() {
                break;
            }
        }
    };
    timeout(PATIENCE, trickle).await.unwrap();
    let answer = until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

/// A connection whose request is being answered (here: its body is still
/// coming) is never closed to make room, so past the bound a new connection
/// waits until one closes. (Idle and half-sent ones make room:
/// `connection_slots.rs`.)
#[tokio::test]
async fn when_every_slot_is_answering_a_new_connection_waits_until_one_closes() {
    let app = app_with_short_limits(2).await;
    let mut sending = Vec::new();
    for _ in 0..2 {
        sending.push(half_a_body(&app).await);
    }
    sleep(Duration::from_millis(100)).await;
    let client = reqwest::Client::new();
    let waiting = client
        .get(app.url("/healthz"))
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(waiting.is_err(), "answered beyond the bound: {waiting:?}");
    drop(sending.pop());
    let answered = client
        .get(app.url("/healthz"))
        .timeout(PATIENCE)
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), StatusCode::OK);
}

/// A sign-in whose client goes away before the answer is still carried to
/// its end on the server: nothing it began (a database transaction, a
/// throttle count to give back) is left half done.
#[tokio::test]
async fn a_sign_in_whose_client_leaves_is_finished_all_the_same() {
    let (mut settings, dir) = test_settings().await;
    // A hash slow enough that the client is gone well before it ends.
    settings.password.argon2_memory_kib = 19_456;
    settings.password.argon2_iterations = 4;
    let app = spawn_app_with(settings, Arc::new(dir)).await;
    app.register("alice", crate::helpers::PASSWORD).await;
    let body = format!(
        "username=alice&password={}",
        crate::helpers::PASSWORD.replace(' ', "+")
    );
    let mut stream = TcpStream::connect(app.address).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    sleep(Duration::from_millis(20)).await;
    drop(stream);

    // The sign-in's last step (trusting this browser) happens after the hash.
    let database = app.database().await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let trusted: i64 = sqlx::query_scalar("SELECT count(*) FROM trusted_devices")
            .fetch_one(&database)
            .await
            .unwrap();
        if trusted == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the abandoned sign-in was dropped half-way"
        );
        sleep(Duration::from_millis(50)).await;
    }
}
