//! The HTML shell, the navigation and the page table: which page answers
//! which path. Everything here is rendered on the server only.

use crate::{
    address,
    auth::CurrentUser,
    pages::{
        AccountPage, ActivityPage, ConfirmPage, DashboardPage, ForgotPasswordPage, LandingPage,
        LocalTimes, LoginPage, NotFound, NotMeLinkPage, RegisterPage, ResetPasswordPage,
        SignOutButton, VerifyEmailPage,
    },
    session_ui::{viewer, NavLink},
    tabs::TabsInStep,
};
use leptos::prelude::*;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <title>"Persistent login"</title>
                // Rendered on the server only: the page has one title and one
                // stylesheet, so the browser bundle carries no head management.
                // `id="leptos"` lets `cargo leptos watch` reload the CSS in place.
                <link rel="stylesheet" id="leptos" href="/pkg/persistent-login.css"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <StartApp options/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Loads the app's JS and wasm and hydrates each island on the page, in
/// document order (an island inside another is hydrated with it, one among
/// an island's server-rendered children on its own); then marks the page (`body[data-hydrated]`) for the tests
/// and the bench. Leptos's own `HydrationScripts` also writes the script nonce
/// into the preload links' `crossorigin` attribute, where any markup on the
/// page can read it; here the nonce is only on the one inline script, where
/// the CSP needs it.
#[component]
fn StartApp(options: LeptosOptions) -> impl IntoView {
    // Islands mode: on the server, only what is inside an island is rendered
    // for hydration (as Leptos's `HydrationScripts islands=true` does).
    if let Some(shared) = Owner::current_shared_context() {
        shared.set_is_hydrating(false);
    }
    // The same for every page of this process: made once.
    static FILES: std::sync::OnceLock<(String, String, String)> = std::sync::OnceLock::new();
    let (js, wasm, start) = FILES.get_or_init(|| {
        let pkg = format!("/{}", options.site_pkg_dir);
        let js = format!("{pkg}/{}.js", options.output_name);
        // cargo-leptos names the wasm after the crate; a plain cargo build adds `_bg`.
        let wasm_suffix = if option_env!("LEPTOS_OUTPUT_NAME").is_some() {
            ""
        } else {
            "_bg"
        };
        let wasm = format!("{pkg}/{}{wasm_suffix}.wasm", options.output_name);
        let start = format!(
            "import({js:?}).then(async app => {{ \
               await app.default({{ module_or_path: {wasm:?} }}); app.hydrate(); \
               for (const island of document.querySelectorAll('leptos-island')) {{ \
                 if (island.parentElement.closest('leptos-island, leptos-children')?.localName === 'leptos-island') continue; \
                 const hydrate = app[island.dataset.component]; \
                 if (!hydrate) {{ console.error('no code for the island', island.dataset.component); return; }} \
                 await hydrate(island); \
               }} \
               document.body.setAttribute('data-hydrated', ''); }});"
        );
        (js, wasm, start)
    });
    view! {
        <link rel="modulepreload" href=js.as_str() crossorigin="anonymous"/>
        <link rel="preload" href=wasm.as_str() r#as="fetch" r#type="application/wasm" crossorigin="anonymous"/>
        <script type="module" nonce=leptos::nonce::use_nonce()>{start.as_str()}</script>
    }
}

/// What renders a page.
pub type Page = fn() -> AnyView;

/// Every page: its path and what renders it. The server answers each of
/// these paths with the shell around its page (`server::startup` registers
/// them), and any other path that names no file with "Page not found". The
/// pages are rendered on the server alone and linked by plain links (a page
/// load), so no client-side router is needed; nor a server-side one, whose
/// route tree, built and matched per request, cost a quarter of a page
/// (BENCHMARKS.md, "Islands").
pub const PAGES: &[(&str, Page)] = &[
    ("/", || view! { <LandingPage/> }.into_any()),
    ("/register", || view! { <RegisterPage/> }.into_any()),
    ("/login", || view! { <LoginPage/> }.into_any()),
    ("/dashboard", || view! { <DashboardPage/> }.into_any()),
    ("/account", || view! { <AccountPage/> }.into_any()),
    ("/account/activity", || view! { <ActivityPage/> }.into_any()),
    ("/confirm", || view! { <ConfirmPage/> }.into_any()),
    ("/email/verify", || view! { <VerifyEmailPage/> }.into_any()),
    ("/password/forgot", || {
        view! { <ForgotPasswordPage/> }.into_any()
    }),
    ("/password/reset", || {
        view! { <ResetPasswordPage/> }.into_any()
    }),
    ("/alerts/not-me", || view! { <NotMeLinkPage/> }.into_any()),
];

/// The page this request asks for, rendered on the server from the session,
/// sent whole (so the first HTML is already right and works without
/// JavaScript); the islands in it are what the browser hydrates.
#[component]
pub fn App() -> impl IntoView {
    let user = viewer();
    let shown = user.as_ref().map(|user| user.username.clone());
    let path = address::path();
    let page = PAGES
        .iter()
        .find(|(page, _)| *page == path)
        .map_or_else(|| view! { <NotFound/> }.into_any(), |(_, page)| page());
    view! {
        <Nav user/>
        <main>{page}</main>
        <TabsInStep shown/>
        <LocalTimes/>
    }
}

#[component]
fn Nav(user: Option<CurrentUser>) -> impl IntoView {
    let signed_in = user.map(|user| {
        view! {
            <span class="who" data-testid="nav-user">{user.username}</span>
            <NavLink href="/dashboard" label="Dashboard"/>
            <NavLink href="/account" label="Account"/>
            <SignOutButton/>
        }
    });
    let signed_out = signed_in.is_none().then(|| {
        view! {
            <NavLink href="/login" label="Sign in"/>
            <NavLink href="/register" label="Create account"/>
        }
    });
    view! {
        <nav>
            <NavLink href="/" label="Home"/>
            {signed_in}
            {signed_out}
        </nav>
    }
}
