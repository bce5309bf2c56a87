//! The HTML shell and the router: which page answers which path. The
//! current-user context the pages share lives in `session_ui`.

use crate::{
    pages::{
        AccountRoute, ActivityRoute, ConfirmRoute, DashboardRoute, ForgotPasswordRoute,
        LandingPage, LoginPage, NotFound, NotMeLinkRoute, RegisterRoute, ResetPasswordRoute,
        VerifyEmailRoute,
    },
    session_ui::{with_current_user, AuthProvider, NavLink, Shown, SignedInPart},
};
use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes},
    path, Lazy, SsrMode,
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

/// Loads the app's JS and wasm and hydrates the page. Leptos's own
/// `HydrationScripts` also writes the script nonce into the preload links'
/// `crossorigin` attribute, where any markup on the page can read it; here the
/// nonce is only on the one inline script, where the CSP needs it.
#[component]
fn StartApp(options: LeptosOptions) -> impl IntoView {
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
        "import({js:?}).then(app => app.default({{ module_or_path: {wasm:?} }}).then(() => app.hydrate()));"
    );
    view! {
        <link rel="modulepreload" href=js crossorigin="anonymous"/>
        <link rel="preload" href=wasm r#as="fetch" r#type="application/wasm" crossorigin="anonymous"/>
        <script type="module" nonce=leptos::nonce::use_nonce()>{start}</script>
    }
}

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <AuthProvider>
                <Nav/>
                <main>
                    // Async: pages are sent whole once the user is known, so the
                    // first HTML is already right and works without JavaScript.
                    <Routes fallback=|| view! { <NotFound/> }>
                        <Route path=path!("/") view=LandingPage ssr=SsrMode::Async/>
                        <Route path=path!("/register") view={Lazy::<RegisterRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                        <Route path=path!("/dashboard") view={Lazy::<DashboardRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/account") view={Lazy::<AccountRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/account/activity") view={Lazy::<ActivityRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/confirm") view={Lazy::<ConfirmRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/email/verify") view={Lazy::<VerifyEmailRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/password/forgot") view={Lazy::<ForgotPasswordRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/password/reset") view={Lazy::<ResetPasswordRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/alerts/not-me") view={Lazy::<NotMeLinkRoute>::new()} ssr=SsrMode::Async/>
                    </Routes>
                </main>
            </AuthProvider>
        </Router>
    }
}

#[component]
fn Nav() -> impl IntoView {
    view! {
        <nav>
            <NavLink href="/" label="Home"/>
            {with_current_user(|user| match user {
                Some(user) => Shown::SignedIn(SignedInPart::Nav, user),
                None => Shown::View(view! {
                    <NavLink href="/login" label="Sign in"/>
                    <NavLink href="/register" label="Create account"/>
                }
                    .into_any()),
            })}
        </nav>
    }
}
