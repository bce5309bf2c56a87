//! The body limit: a body over `max_bytes` is refused with 413 before any
//! parsing, and one not received within `timeout` (a client sending a byte
//! now and then) with 408.

use crate::server::errors::Refusal;
use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::time::Duration;

/// How large a request body may be, and how long its sender may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub timeout: Duration,
}

/// Answers 413 to a body over `max_bytes`, before any parsing, and 408 to one
/// not received within `timeout` (a client sending a byte now and then).
pub async fn limit_body(
    State(limits): State<BodyLimits>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limits.max_bytes as u64) {
        return Refusal::BodyTooLarge.into_response();
    }
    if matches!(*request.method(), Method::GET | Method::HEAD) && declared.is_none() {
        return next.run(request).await;
    }
    // Bodies without a declared length (chunked) are read up to the limit.
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(limits.timeout, axum::body::to_bytes(body, limits.max_bytes)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(_)) => Refusal::BodyTooLarge.into_response(),
        Err(_) => Refusal::BodyTooSlow.into_response(),
    }
}
