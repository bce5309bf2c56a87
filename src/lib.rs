//! Persistent-login reference application.
//!
//! Module tree, read top to bottom the way a request travels (`admin`, the
//! command line, is the binary's entry: it serves or runs an admin command):
//! `server` (config, startup, middleware; server only) → `app` (shell, router,
//! navigation) → `pages` (one component per page, rendered on the server, with
//! islands where the browser must act) → `auth` (shared types and the server
//! functions) → `auth::ssr` (passwords, the typed session, user queries;
//! server only); `session_ui` is the signed-in user as pages see it, `address`
//! the page's address in both halves, `tabs` keeps every open tab of a browser
//! in step with the session, `passkeys` runs the browser's passkey ceremonies.
#![forbid(unsafe_code)]
#![recursion_limit = "256"]

pub mod address;
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
pub mod tabs;

/// Browser entry point, called by the page's start script (`app::StartApp`)
/// before it hydrates each island the server rendered: sets up Leptos's
/// islands mode (its reactive root and task executor).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // A panic's message in the console while developing; a release build
    // leaves out the formatting it needs.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
