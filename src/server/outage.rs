//! What the app answers while the database or the session store is away
//! (the store seam's `Health` finds that out and logs it once): 503 with
//! `Retry-After` and a page that says so, and a readiness check for load
//! balancers (`GET /readyz`) beside the liveness one (`GET /healthz`).

use super::{errors::with_status_of, state::AppState};
use crate::{
    auth::{ssr::OUTAGE_RETRY_AFTER_SECS, AppError},
    server::store::first_unready,
};
use axum::{
    extract::State,
    response::{Html, IntoResponse, Response},
};

/// The error every request that needs the missing backend answers with.
pub fn outage() -> AppError {
    AppError::Unavailable {
        retry_after_secs: OUTAGE_RETRY_AFTER_SECS,
    }
}

/// The page a browser gets instead of the one it asked for.
pub fn unavailable_page() -> Response {
    let error = outage();
    let message = error.to_string();
    with_status_of(
        &error,
        Html(format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>Briefly unavailable</title></head><body><main>\
             <h1>Briefly unavailable</h1><p role=\"alert\">{message}</p>\
             </main></body></html>\n"
        )),
    )
}

/// `GET /readyz`: 200 while the database and the session store answer, 503
/// (naming which does not) until they do again.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let backends = [state.auth.database.health(), state.auth.sessions.health()];
    match first_unready(&backends).await {
        None => "ready".into_response(),
        Some(backend) => with_status_of(&outage(), format!("not ready: {backend} unavailable")),
    }
}
