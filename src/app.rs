//! The HTML shell, the navigation and the router: which page answers which
//! path. Everything here is rendered on the server only.

use crate::{
    auth::CurrentUser,
    pages::{
        AccountPage, ActivityPage, ConfirmPage, DashboardPage, ForgotPasswordPage, LandingPage,
        LoginPage, NotFound, NotMeLinkPage, RegisterPage, ResetPasswordPage, SignOutButton,
        VerifyEmailPage,
    },
    session_ui::{viewer, NavLink},
    tabs::TabsInStep,
};
use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

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
/// document order (an island inside another is hydrated with it); then marks the page (`body[data-hydrated]`) for the tests
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
                 if (island.parentElement.closest('leptos-island')) continue; \
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

/// The pages, rendered on the server from the session; the islands in them
/// are what the browser hydrates.
#[component]
pub fn App() -> impl IntoView {
    let user = viewer();
    let shown = user.as_ref().map(|user| user.username.clone());
    view! {
        <Router>
            <Nav user/>
            <main>
                // Async: pages are sent whole, so the first HTML is already
                // right and works without JavaScript.
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=LandingPage ssr=SsrMode::Async/>
                    <Route path=path!("/register") view=RegisterPage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/dashboard") view=DashboardPage ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/activity") view=ActivityPage ssr=SsrMode::Async/>
                    <Route path=path!("/confirm") view=ConfirmPage ssr=SsrMode::Async/>
                    <Route path=path!("/email/verify") view=VerifyEmailPage ssr=SsrMode::Async/>
                    <Route path=path!("/password/forgot") view=ForgotPasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/password/reset") view=ResetPasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/alerts/not-me") view=NotMeLinkPage ssr=SsrMode::Async/>
                </Routes>
            </main>
            <TabsInStep shown/>
        </Router>
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
