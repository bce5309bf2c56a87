//! No one client address can take the connection slots everyone shares: it
//! holds its share and no more, and when every slot is taken the
//! connections that have sent the least make room for new visitors.

use crate::helpers::{spawn_app_with, test_settings, TestApp};
use reqwest::StatusCode;
use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
    time::{sleep, timeout, Instant},
};

/// Far shorter than the header timeout the attacks below would otherwise
/// hold slots for (30 s), far longer than a page takes.
const SERVED_WITHIN: Duration = Duration::from_secs(5);
const HALF_A_REQUEST: &[u8] = b"GET /login HTTP/1.1\r\nHost: x\r\n";
const VISITOR: &str = "127.0.0.2";

async fn app(max_connections: usize, per_address: usize, trusted: &[&str]) -> TestApp {
    let (mut settings, dir) = test_settings().await;
    settings.server.header_timeout_secs = 30;
    settings.server.max_connections = max_connections;
    settings.server.max_connections_per_address = per_address;
    settings.server.trusted_proxies = trusted.iter().map(|ip| ip.parse().unwrap()).collect();
    spawn_app_with(settings, Arc::new(dir)).await
}

/// A connection from the loopback address `from`.
async fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(from.parse().unwrap(), 0))
        .unwrap();
    socket.connect(to).await.expect("connect")
}

/// What the server sent before closing `stream`, or `None` if it is still
/// open after `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut answer = Vec::new();
    match timeout(wait, stream.read_to_end(&mut answer)).await {
        Err(_) => None,
        // A reset after the answer counts as closed too.
        Ok(_) => Some(String::from_utf8_lossy(&answer).into_owned()),
    }
}

/// Opens `count` connections from `from`, each sending `send` (and reading
/// the answer to a whole request, leaving it idle); returns those the server
/// kept open and how many it refused with 429.
async fn open_many(
    from: &str,
    to: SocketAddr,
    count: usize,
    send: &'static [u8],
) -> (Vec<TcpStream>, usize) {
    let mut kept = Vec::new();
    let mut refused = 0;
    for _ in 0..count {
        let mut stream = connect_from(from, to).await;
        let _ = stream.write_all(send).await;
        if send.ends_with(b"\r\n\r\n") {
            let mut head = [0u8; 12];
            if stream.read_exact(&mut head).await.is_err() {
                refused += 1;
                continue;
            }
            if head.starts_with(b"HTTP/1.1 429") {
                refused += 1;
                continue;
            }
            assert!(head.starts_with(b"HTTP/1.1 200"));
            // The rest of the short answer.
            sleep(Duration::from_millis(2)).await;
            let mut rest = [0u8; 4096];
            let _ = timeout(Duration::from_millis(50), stream.read(&mut rest)).await;
            kept.push(stream);
        } else {
            kept.push(stream);
        }
    }
    // Those refused without a whole request: closed, with a 429 when it got out.
    let mut still_open = Vec::new();
    for mut stream in kept {
        match closed_within(&mut stream, Duration::from_millis(20)).await {
            None => still_open.push(stream),
            Some(answer) => {
                assert!(
                    answer.is_empty() || answer.starts_with("HTTP/1.1 429"),
                    "{answer}"
                );
                refused += 1;
            }
        }
    }
    (still_open, refused)
}

/// A visitor from another address loads the sign-in page `times` times, each
/// on a new connection; how long the slowest took.
async fn visitor_loads(app: &TestApp, times: usize) -> Duration {
    let client = reqwest::Client::builder()
        .local_address(VISITOR.parse::<IpAddr>().unwrap())
        .pool_max_idle_per_host(0)
        .timeout(SERVED_WITHIN)
        .build()
        .unwrap();
    let mut slowest = Duration::ZERO;
    for _ in 0..times {
        let started = Instant::now();
        let page = client
            .get(app.url("/login"))
            .send()
            .await
            .expect("the visitor is served while the attack goes on");
        assert_eq!(page.status(), StatusCode::OK);
        page.text().await.unwrap();
        slowest = slowest.max(started.elapsed());
    }
    slowest
}

#[tokio::test]
async fn two_hundred_half_sent_connections_from_one_address_hold_its_share_and_others_are_served() {
    let app = app(100, 64, &[]).await;
    let (held, refused) = open_many("127.0.0.1", app.address, 200, HALF_A_REQUEST).await;
    assert_eq!(held.len(), 64, "the address holds exactly its share");
    assert_eq!(refused, 136);

    // The attacker opens a new connection whenever one is refused.
    let address = app.address;
    let reopening = tokio::spawn(async move {
        loop {
            let mut stream = connect_from("127.0.0.1", address).await;
            let _ = stream.write_all(HALF_A_REQUEST).await;
            let _ = closed_within(&mut stream, Duration::from_secs(1)).await;
        }
    });
    let slowest = visitor_loads(&app, 20).await;
    reopening.abort();
    assert!(slowest < SERVED_WITHIN, "{slowest:?}");
    drop(held);
}

#[tokio::test]
async fn two_hundred_idle_keep_alive_connections_from_one_address_hold_its_share_and_others_are_served(
) {
    let app = app(100, 64, &[]).await;
    let (held, refused) = open_many(
        "127.0.0.1",
        app.address,
        200,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    assert_eq!(held.len(), 64, "the address holds exactly its share");
    assert_eq!(refused, 136);
    visitor_loads(&app, 20).await;
    drop(held);
}

#[tokio::test]
async fn when_every_slot_is_taken_the_connections_that_sent_least_make_room() {
    let app = app(100, 64, &[]).await;
    // Three addresses, each within its share, together past every slot.
    let mut held = Vec::new();
    for attacker in ["127.0.0.3", "127.0.0.4", "127.0.0.5"] {
        let (mut kept, refused) = open_many(attacker, app.address, 64, HALF_A_REQUEST).await;
        assert_eq!(refused, 0, "within its share, nothing is refused");
        held.append(&mut kept);
    }
    // Connections past the hundredth closed the oldest to make room.
    let mut open = 0;
    for stream in &mut held {
        if closed_within(stream, Duration::from_millis(10))
            .await
            .is_none()
        {
            open += 1;
        }
    }
    assert_eq!(open, 100, "every slot taken, none more");
    visitor_loads(&app, 20).await;
}

#[tokio::test]
async fn an_idle_connection_makes_room_before_a_half_sent_one() {
    let app = app(2, 0, &[]).await;
    let mut half_sent = connect_from("127.0.0.3", app.address).await;
    half_sent.write_all(HALF_A_REQUEST).await.unwrap();
    let mut idle = connect_from("127.0.0.4", app.address).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0u8; 12];
    idle.read_exact(&mut head).await.unwrap();
    assert!(head.starts_with(b"HTTP/1.1 200"));
    // Past the time a new connection is spared.
    sleep(Duration::from_millis(1_200)).await;

    visitor_loads(&app, 1).await;
    let answered_before = closed_within(&mut idle, SERVED_WITHIN)
        .await
        .expect("the idle connection was closed to make room");
    assert!(answered_before.ends_with("ok"), "{answered_before}");
    assert_eq!(
        closed_within(&mut half_sent, Duration::from_millis(200)).await,
        None,
        "the half-sent request keeps its slot while an idle one could go"
    );
}

#[tokio::test]
async fn a_trusted_proxy_has_no_share_since_every_visitor_behind_it_shares_its_address() {
    let app = app(100, 2, &["127.0.0.1"]).await;
    let (held, refused) = open_many("127.0.0.1", app.address, 10, HALF_A_REQUEST).await;
    assert_eq!((held.len(), refused), (10, 0));
    // Another address still has its share.
    let (others, refused) = open_many("127.0.0.6", app.address, 4, HALF_A_REQUEST).await;
    assert_eq!((others.len(), refused), (2, 2));
}
