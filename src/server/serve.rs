//! The HTTP/1.1 server loop: hyper under our own accept loop, so that slow or
//! idle clients cannot hold connections for ever (axum's `serve` sets no
//! timeouts and no bound).
//!
//! - `header_timeout`: a client gets this long to send a request's headers,
//!   counted from the moment the connection waits for them, so it also closes
//!   an idle keep-alive connection;
//! - the body timeout is `http::body_limit`'s (408);
//! - `max_connections`: past it no new connection is accepted until one
//!   closes (they wait in the kernel's backlog).
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
use std::{convert::Infallible, future::Future, sync::Arc, time::Duration};
use tokio::{net::TcpListener, sync::Semaphore};
use tower::Service;

/// How long a graceful shutdown waits for open requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `shutdown` completes, then lets open
/// requests finish (up to `SHUTDOWN_GRACE`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
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
        // Small keep-alive answers would otherwise wait ~40 ms for Nagle's algorithm.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::warn!(%error, "cannot set TCP_NODELAY");
        }
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let answer = tokio::spawn(router.clone().call(request.map(Body::new)));
            async move {
                let response: Response = match answer.await {
                    Ok(Ok(response)) => response,
                    Ok(Err(never)) => match never {},
                    Err(error) => {
                        tracing::error!(%error, "a request's task failed");
                        StatusCode::INTERNAL_SERVER_ERROR.into_response()
                    }
                };
                Ok::<_, Infallible>(response)
            }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that goes away or times out is no server error.
            let _ = connection.await;
            drop(permit);
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
