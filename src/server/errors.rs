//! The one place where an error becomes an HTTP answer: its status, its
//! `Retry-After` and its wire form.
//!
//! - An [`AppError`] answers with `AppError::status()` and its JSON wire form
//!   (`{"code": …, "message": …}`), whoever returns it: the JSON API, the
//!   outage answers, the layers.
//! - A server function's error leaves Leptos as a 500 marked with the
//!   `serverfnerror` header, carrying that same wire form; [`server_fn_status`]
//!   gives it the status of the error it carries. A plain form post (no
//!   JavaScript) is a redirect back to its form instead, and keeps it.
//! - The refusals of the HTTP layers, which come before any of the app's code
//!   (a body too large or too slow, a cross-origin post), are [`Refusal`]s.

use crate::auth::AppError;
use axum::{
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};

/// The header server_fn marks its error answers with.
const SERVER_FN_ERROR: &str = "serverfnerror";

/// A server function's error body is its wire form: a few hundred bytes.
const ERROR_BODY_LIMIT: usize = 16 * 1024;

fn status_of(error: &AppError) -> StatusCode {
    StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Puts the error's status and `Retry-After` on `response`.
fn apply(error: &AppError, response: &mut Response) {
    *response.status_mut() = status_of(error);
    set_retry_after(error, response.headers_mut());
}

fn set_retry_after(error: &AppError, headers: &mut header::HeaderMap) {
    if let Some(retry_after_secs) = error.retry_after_secs() {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = Json(&self).into_response();
        apply(&self, &mut response);
        response
    }
}

/// `body` (a page, a plain text) answered with `error`'s status and
/// `Retry-After`.
pub fn with_status_of(error: &AppError, body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    apply(error, &mut response);
    response
}

/// Gives a server function's error answer the status of the error it carries.
pub async fn server_fn_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, ERROR_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(%error, "a server function's error answer could not be read");
            return AppError::Internal.into_response();
        }
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = status_of(&error);
        set_retry_after(&error, &mut parts.headers);
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// What the HTTP layers refuse before the app sees a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The body is over the limit (413).
    BodyTooLarge,
    /// The body did not arrive within its time (408); the connection closes.
    BodyTooSlow,
    /// A state-changing request without `Host` (400).
    NoHost,
    /// A state-changing request from another origin (403).
    CrossOrigin,
}

impl Refusal {
    pub fn status(self) -> StatusCode {
        match self {
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTooSlow => StatusCode::REQUEST_TIMEOUT,
            Self::NoHost => StatusCode::BAD_REQUEST,
            Self::CrossOrigin => StatusCode::FORBIDDEN,
        }
    }

    fn message(self) -> &'static str {
        match self {
            Self::BodyTooLarge => "Request body too large",
            Self::BodyTooSlow => "Request body not received in time",
            Self::NoHost => "A Host header is required",
            Self::CrossOrigin => "Cross-origin request refused",
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = (self.status(), self.message()).into_response();
        if self == Self::BodyTooSlow {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{body::Body, routing::post, Router};
    use tower::ServiceExt;

    #[test]
    fn an_error_answers_with_its_own_status_retry_after_and_wire_form() {
        let response = AppError::TooManyAttempts {
            retry_after_secs: 42,
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "42");
        assert_eq!(
            AppError::InvalidCredentials.into_response().status(),
            StatusCode::UNAUTHORIZED
        );
    }

    async fn answer(error_body: &'static str, status: StatusCode) -> Response {
        let router = Router::new()
            .route(
                "/api/x",
                post(move || async move {
                    let mut response = (status, error_body).into_response();
                    response
                        .headers_mut()
                        .insert(SERVER_FN_ERROR, HeaderValue::from_static("/api/x"));
                    response
                }),
            )
            .layer(axum::middleware::from_fn(server_fn_status));
        let request = Request::post("/api/x").body(Body::empty()).unwrap();
        router.oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn a_server_function_error_gets_the_status_of_the_error_it_carries() {
        let busy = answer(
            r#"{"code":"busy","message":"x","retry_after_secs":3}"#,
            StatusCode::INTERNAL_SERVER_ERROR,
        )
        .await;
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.headers()[header::RETRY_AFTER], "3");
        let body = axum::body::to_bytes(busy.into_body(), 1024).await.unwrap();
        assert!(body.starts_with(br#"{"code":"busy""#));

        // A plain form post's redirect back to its form keeps its status.
        let redirected = answer(r#"{"code":"busy","message":"x"}"#, StatusCode::FOUND).await;
        assert_eq!(redirected.status(), StatusCode::FOUND);
    }
}
