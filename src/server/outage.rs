//! What the app answers while the database or the session store is away
//! (the store seam's `Health` finds that out and logs it once): 503 with
//! `Retry-After` and a page that says so, and a readiness check for load
//! balancers (`GET /readyz`) beside the liveness one (`GET /healthz`).

use super::startup::AppState;
use crate::auth::{ssr::OUTAGE_RETRY_AFTER_SECS, AppError};
use axum::{
    extract::State,
    http::{header, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Response},
    Json,
};

fn outage() -> AppError {
    AppError::Unavailable {
        retry_after_secs: OUTAGE_RETRY_AFTER_SECS,
    }
}

fn with_retry_after(mut response: Response) -> Response {
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(OUTAGE_RETRY_AFTER_SECS),
    );
    response
}

/// The page a browser gets instead of the one it asked for.
pub fn unavailable_page() -> Response {
    let message = outage().to_string();
    with_retry_after(
        Html(format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>Briefly unavailable</title></head><body><main>\
             <h1>Briefly unavailable</h1><p role=\"alert\">{message}</p>\
             </main></body></html>\n"
        ))
        .into_response(),
    )
}

/// The answer for a program (`/api/me`): the app's error in its wire form.
pub fn unavailable_json() -> Response {
    with_retry_after(Json(outage()).into_response())
}

/// `GET /readyz`: 200 while the database and the session store answer, 503
/// (naming which does not) until they do again.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.auth.sessions.ready().await {
        Ok(()) => "ready".into_response(),
        Err(backend) => {
            with_retry_after(format!("not ready: {backend} unavailable").into_response())
        }
    }
}
