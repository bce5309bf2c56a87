//! What no route answers: the app's own files (`/pkg/…` wasm, JS and CSS,
//! `/favicon.svg`) from the site root, else the "Page not found" page.
//!
//! The files are served outside Leptos's reactive runtime. Leptos's own
//! `file_and_error_handler` gives each file an owner made with `Owner::new()`,
//! which takes as its parent whatever owner the worker thread last left set:
//! often a page still rendering on that thread. The file then ran the page
//! context (`headers::provide_page_policy`) under that page's owner and took
//! that page's response headers (`ResponseOptions` is drained into the first
//! answer that reads it), so the page went out with the files' policy
//! (`default-src 'none'`) and started dead in the browser (#35, item 0).

use axum::{
    body::Body,
    extract::Request,
    http::{Method, StatusCode},
    response::{IntoResponse, Response},
};
use std::{future::Future, path::Path, pin::Pin};
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// Renders the "Page not found" page for a request (a Leptos page handler).
pub type PageRenderer =
    std::sync::Arc<dyn Fn(Request) -> Pin<Box<dyn Future<Output = Response> + Send>> + Send + Sync>;

/// The fallback: a file under `site_root` for a `GET` or `HEAD` that names
/// one, else the not-found page with 404.
#[derive(Clone)]
pub struct FilesOrNotFound {
    files: ServeDir,
    not_found: PageRenderer,
}

impl FilesOrNotFound {
    pub fn new(site_root: &Path, not_found: PageRenderer) -> Self {
        Self {
            files: ServeDir::new(site_root)
                .precompressed_gzip()
                .precompressed_br(),
            not_found,
        }
    }

    pub async fn answer(self, request: Request) -> Response {
        let request = if matches!(*request.method(), Method::GET | Method::HEAD) {
            // The file service needs only the path and the request's headers
            // (ranges, conditional and encoding headers); the page needs all.
            let (parts, body) = request.into_parts();
            let probe = Request::from_parts(parts.clone(), Body::empty());
            match self.files.clone().oneshot(probe).await {
                Ok(found) if found.status() != StatusCode::NOT_FOUND => {
                    return found.into_response();
                }
                Ok(_) => Request::from_parts(parts, body),
                Err(never) => match never {},
            }
        } else {
            request
        };
        let mut page = (self.not_found)(request).await;
        if page.status() == StatusCode::OK {
            *page.status_mut() = StatusCode::NOT_FOUND;
        }
        page
    }
}
