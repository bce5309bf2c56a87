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
    routes::{
        ACCOUNT_PAGE, ACTIVITY_PAGE, CONFIRM_PAGE, DASHBOARD_PAGE, FORGOT_PASSWORD_PAGE,
        NOT_ME_LINK_PAGE, RESET_PASSWORD_PAGE, SIGN_IN_PAGE, VERIFY_EMAIL_PAGE,
    },
    session_ui::{viewer, NavLink},
    tabs::TabsInStep,
};
use leptos::prelude::*;

/// The product's name, last in every page's title.
const SITE_NAME: &str = "Persistent login";

pub fn shell(options: LeptosOptions) -> impl IntoView {
    let page = Page::for_path(&address::path());
    // "Sign in · Persistent login": tabs, the history and screen readers
    // tell the pages apart.
    let title = match page {
        Some(Page { title, .. }) if title != SITE_NAME => format!("{title} · {SITE_NAME}"),
        Some(_) => SITE_NAME.to_string(),
        None => format!("Page not found · {SITE_NAME}"),
    };
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <title>{title}</title>
                // Rendered on the server only: the page has one title and one
                // stylesheet, so the browser bundle carries no head management.
                // `id="leptos"` lets `cargo leptos watch` reload the CSS in place.
                <link rel="stylesheet" id="leptos" href="/pkg/persistent-login.css"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <StartApp options/>
            </head>
            <body>
                <App page/>
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

/// A page: its path, its title and what renders it.
#[derive(Clone, Copy)]
pub struct Page {
    pub path: &'static str,
    pub title: &'static str,
    pub render: fn() -> AnyView,
}

impl Page {
    /// The page at `path`, if any.
    pub fn for_path(path: &str) -> Option<Page> {
        PAGES.iter().copied().find(|page| page.path == path)
    }
}

/// Every page. The server answers each of these paths with the shell
/// around its page (`server::startup` registers them), and any other path
/// that names no file with "Page not found". The pages are rendered on the
/// server alone and linked by plain links (a page load), so no client-side
/// router is needed; nor a server-side one, whose route tree, built and
/// matched per request, cost a quarter of a page (BENCHMARKS.md, "Islands").
pub const PAGES: &[Page] = &[
    page("/", SITE_NAME, || view! { <LandingPage/> }.into_any()),
    page("/register", "Create an account", || {
        view! { <RegisterPage/> }.into_any()
    }),
    page(SIGN_IN_PAGE, "Sign in", || {
        view! { <LoginPage/> }.into_any()
    }),
    page(DASHBOARD_PAGE, "Dashboard", || {
        view! { <DashboardPage/> }.into_any()
    }),
    page(ACCOUNT_PAGE, "Your account", || {
        view! { <AccountPage/> }.into_any()
    }),
    page(ACTIVITY_PAGE, "Security activity", || {
        view! { <ActivityPage/> }.into_any()
    }),
    page(CONFIRM_PAGE, "Confirm it's you", || {
        view! { <ConfirmPage/> }.into_any()
    }),
    page(VERIFY_EMAIL_PAGE, "Confirm your email address", || {
        view! { <VerifyEmailPage/> }.into_any()
    }),
    page(FORGOT_PASSWORD_PAGE, "Forgot your password?", || {
        view! { <ForgotPasswordPage/> }.into_any()
    }),
    page(RESET_PASSWORD_PAGE, "Choose a new password", || {
        view! { <ResetPasswordPage/> }.into_any()
    }),
    page(NOT_ME_LINK_PAGE, "This wasn't me", || {
        view! { <NotMeLinkPage/> }.into_any()
    }),
];

const fn page(path: &'static str, title: &'static str, render: fn() -> AnyView) -> Page {
    Page {
        path,
        title,
        render,
    }
}

/// `page`, rendered on the server from the session and sent whole (so the
/// first HTML is already right and works without JavaScript); "Page not
/// found" for none. The islands in it are what the browser hydrates.
#[component]
pub fn App(page: Option<Page>) -> impl IntoView {
    let user = viewer();
    let shown = user.as_ref().map(|user| user.username.clone());
    let current = page.map(|page| page.path);
    let page = page.map_or_else(|| view! { <NotFound/> }.into_any(), |page| (page.render)());
    view! {
        <Nav user current/>
        <main>{page}</main>
        <TabsInStep shown/>
        <LocalTimes/>
    }
}

/// The links, the one to `current` (the page's path) marked.
#[component]
fn Nav(user: Option<CurrentUser>, current: Option<&'static str>) -> impl IntoView {
    let signed_in = user.map(|user| {
        view! {
            <span class="who" data-testid="nav-user">{user.username}</span>
            <NavLink href=DASHBOARD_PAGE label="Dashboard" current/>
            <NavLink href=ACCOUNT_PAGE label="Account" current/>
            <SignOutButton/>
        }
    });
    let signed_out = signed_in.is_none().then(|| {
        view! {
            <NavLink href=SIGN_IN_PAGE label="Sign in" current/>
            <NavLink href="/register" label="Create account" current/>
        }
    });
    view! {
        <nav>
            <NavLink href="/" label="Home" current/>
            {signed_in}
            {signed_out}
        </nav>
    }
}
