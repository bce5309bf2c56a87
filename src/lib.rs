//! Persistent-login reference application.
//!
//! Module tree, read top to bottom the way a request travels (`admin`, the
//! command line, is the binary's entry: it serves or runs an admin command):
//! `server` (config, startup, middleware; server only) → `app` (shell, router,
//! current-user context) → `pages` (one component per page) → `auth` (shared
//! types and the server functions) → `auth::ssr` (passwords, the typed session,
//! user queries; server only); `tabs` keeps every open tab of a browser in
//! step with the session (browser only); `passkeys` runs the browser's
//! passkey ceremonies.
#![forbid(unsafe_code)]
#![recursion_limit = "256"]

#[cfg(feature = "ssr")]
pub mod admin;
pub mod app;
pub mod auth;
#[cfg(feature = "ssr")]
pub mod clock;
#[cfg(feature = "ssr")]
pub mod cookies;
#[cfg(feature = "ssr")]
pub mod digest;
pub mod pages;
pub mod passkeys;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod server;
pub mod session_ui;
#[cfg(feature = "hydrate")]
mod tabs;

/// Browser entry point: hydrates the server-rendered HTML. Asynchronous,
/// because a lazy route (`pages::AccountRoute`, …) and a page's signed-in
/// parts (`session_ui::signed_in_view`) first load their wasm chunks.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // An Err means the executor is already set up, which is fine.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        let body = leptos::prelude::document().body();
        let Some(body) = body else { return };
        session_ui::load_signed_in_parts(&body).await;
        leptos::mount::hydrate_from_async(body.clone(), app::App)
            .await
            .forget();
        // A marker for end-to-end tests: interactive from here on.
        let _ = body.set_attribute("data-hydrated", "");
        // What waits for an interactive page is fetched in a task of its own,
        // after the marker.
        leptos::prelude::set_timeout(
            || {
                tabs::start();
                passkeys::start();
            },
            std::time::Duration::ZERO,
        );
    });
}
