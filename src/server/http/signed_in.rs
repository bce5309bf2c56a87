//! Who is signed in, resolved once per request from the session (idle and
//! absolute expiry applied) and handed on as an `Option<SignedIn>` extension;
//! and the protected pages, which send an anonymous visitor to sign in first.

use super::no_store::is_static_asset;
use crate::{
    auth::{
        ssr::{
            session::{self, ReusedSession},
            AuthService, SignedIn,
        },
        AppError,
    },
    routes::{with_next, PROTECTED_PAGES, SESSION_REUSED_PAGE, SIGN_IN_PAGE},
    server::store::SessionFault,
};
use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use std::sync::Arc;
use tower_sessions::Session;

use super::rotation::{Found, RequestStore};

/// Resolves who is signed in (applying idle and absolute expiry) once per
/// request and hands it on as an `Option<SignedIn>` extension. Static assets skip it, so
/// loading the app's wasm and JS costs no session-store read.
pub async fn resolve_signed_in(
    State(auth): State<AuthService>,
    mut request: Request,
    next: Next,
) -> Response {
    if is_static_asset(request.uri().path()) {
        return next.run(request).await;
    }
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        tracing::error!("session layer missing");
        return AppError::Internal.into_response();
    };
    match session::resolve(&session, &auth.policy, auth.clock.now()).await {
        Ok(signed_in) => {
            let reused = request
                .extensions()
                .get::<Arc<RequestStore>>()
                .is_some_and(|store| matches!(store.found(), Found::Reused { .. }));
            if reused && signed_in.is_none() {
                request.extensions_mut().insert(ReusedSession);
            }
            request.extensions_mut().insert(signed_in);
            next.run(request).await
        }
        // The store seam has logged the outage once.
        Err(error) if SessionFault::of(&error) == SessionFault::Unavailable => {
            crate::server::outage::unavailable_page()
        }
        Err(error) => {
            tracing::error!(error = %error, "session read failed");
            AppError::Internal.into_response()
        }
    }
}

/// An anonymous request for one of `PROTECTED_PAGES` is redirected (303) to
/// `/login?next=<page>` before anything is rendered.
pub async fn require_sign_in(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let signed_in = request
        .extensions()
        .get::<Option<SignedIn>>()
        .is_some_and(Option::is_some);
    if !signed_in && PROTECTED_PAGES.contains(&path) {
        let target = request
            .uri()
            .path_and_query()
            .map_or(path, |path_and_query| path_and_query.as_str());
        // A session just ended because a copy of its cookie came back: the
        // sign-in page says so.
        let page = if request.extensions().get::<ReusedSession>().is_some() {
            SESSION_REUSED_PAGE
        } else {
            SIGN_IN_PAGE
        };
        return Redirect::to(&with_next(page, target)).into_response();
    }
    next.run(request).await
}
