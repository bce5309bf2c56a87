//! The HTTP/1.1 server loop: hyper under our own accept loop, so that slow or
//! idle clients cannot hold connections for ever (axum's `serve` sets no
//! timeouts and no bound).
//!
//! - `header_timeout`: a client gets this long to send a request's headers,
//!   counted from the moment the connection waits for them, so it also closes
//!   an idle keep-alive connection;
//! - the body timeout is `http::body_limit`'s (408);
//! - connection slots (`slots`): a share per client address, and at most
//!   `max_connections` open; when all are taken the connection that has sent
//!   the least is closed to make room, and only when every one is answering
//!   a request does a new connection wait (in the kernel's backlog).
//!
//! Each request runs on a task of its own, so a client that goes away does not
//! cancel it half-way. A cancelled request could leave a database transaction
//! begun but never finished on its pooled connection (sqlx loses track of a
//! `BEGIN` whose answer arrives as the future is dropped), and every later
//! use of that connection failed; it also left the throttle's count of a
//! sign-in that then succeeded undone.

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::StatusCode,
    response::{IntoResponse, Response},
    Router,
};
use hyper::{body::Incoming, server::conn::http1, Request};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use std::{convert::Infallible, future::Future, net::IpAddr, sync::Arc, time::Duration};
use tokio::net::{TcpListener, TcpStream};
use tower::Service;

mod progress;
mod slots;

use progress::Counted;
use slots::{Admission, SlotRules, Slots};

/// How long a graceful shutdown waits for open requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub header_timeout: Duration,
    pub max_connections: usize,
    /// Open connections one client address may hold; 0: no share.
    pub max_connections_per_address: usize,
    /// Addresses without a share: the trusted proxies.
    pub exempt: Arc<[IpAddr]>,
}

/// What a client over its share of connections reads before the server
/// closes its connection.
const OVER_SHARE: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\n\
content-type: text/plain; charset=utf-8\r\nretry-after: 1\r\nconnection: close\r\n\
content-length: 45\r\n\r\nToo many open connections from your address.\n";

/// Serves `router` on `listener` until `shutdown` completes, then lets open
/// requests finish (up to `SHUTDOWN_GRACE`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Slots::new(SlotRules {
        max_total: limits.max_connections,
        per_address: limits.max_connections_per_address,
        exempt: limits.exempt.clone(),
    });
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    'accepting: loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let (slot, progress, closed) = loop {
            match slots.admit(peer.ip(), std::time::Instant::now()) {
                Admission::Admitted {
                    slot,
                    progress,
                    closed,
                } => break (slot, progress, closed),
                Admission::OverShare => {
                    refuse_over_share(&stream, peer.ip());
                    continue 'accepting;
                }
                Admission::Full => tokio::select! {
                    () = slots.freed() => {}
                    () = &mut shutdown => break 'accepting,
                },
            }
        };
        // Small keep-alive answers would otherwise wait ~40 ms for Nagle's algorithm.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::warn!(%error, "cannot set TCP_NODELAY");
        }
        let router = router.clone();
        let on_request = progress.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            on_request.request_began();
            let answer = tokio::spawn(router.clone().call(request.map(Body::new)));
            let progress = on_request.clone();
            async move {
                let response: Response = match answer.await {
                    Ok(Ok(response)) => response,
                    Ok(Err(never)) => match never {},
                    Err(error) => {
                        tracing::error!(%error, "a request's task failed");
                        StatusCode::INTERNAL_SERVER_ERROR.into_response()
                    }
                };
                progress.request_ended();
                Ok::<_, Infallible>(response)
            }
        });
        let io = TokioIo::new(Counted::new(stream, progress));
        let connection = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            tokio::select! {
                // A client that goes away or times out is no server error.
                _ = connection => {}
                // Its slot was taken back to make room: close it.
                _ = closed => {}
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still open after the shutdown grace period were dropped");
    }
    Ok(())
}

/// Answers 429 to a connection over its address's share and closes it,
/// without waiting for the client: a fresh socket's send buffer is empty, so
/// the short answer is written at once or not at all.
fn refuse_over_share(stream: &TcpStream, address: IpAddr) {
    tracing::debug!(%address, "connection refused: the address holds its share of connections");
    let _ = stream.try_write(OVER_SHARE);
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_over_share_answer_is_whole_http() {
        let text = std::str::from_utf8(super::OVER_SHARE).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 429 "));
        assert!(head.contains(&format!("\r\ncontent-length: {}", body.len())));
    }
}
