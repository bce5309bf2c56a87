//! The HTML shell, the router, and the current-user context that the
//! navigation, the protected route and the dashboard all read.

use crate::{
    auth::{get_current_user, AppError, CurrentUser, Login, Logout},
    pages::{
        AccountRoute, DashboardRoute, LandingPage, LoginPage, NotFound, RegisterRoute, WelcomeBack,
    },
};
use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes},
    hooks::use_location,
    path, Lazy, SsrMode,
};
use std::sync::Arc;

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

/// Pages only a signed-in user may see: the server redirects anonymous
/// requests for them, and an open tab leaves them when its session ends.
pub const PROTECTED_PAGES: &[&str] = &["/dashboard", "/account"];

/// Where a user whose session has ended is sent (the server sends plain form
/// posts there itself).
pub const SESSION_ENDED_PAGE: &str = "/login?ended=1";

/// The signed-in state and the two actions every page may use (sign in, sign
/// out), provided once under the router. The user is re-read from the server
/// after each of them. The other actions live on their own pages, so that
/// their code loads with the page (a lazy route), and report their effect on
/// the session through [`Auth::session_changed`] and [`Auth::session_ended`].
#[derive(Clone, Copy)]
pub struct Auth {
    pub user: Resource<Result<Option<CurrentUser>, AppError>>,
    pub login: ServerAction<Login>,
    pub logout: ServerAction<Logout>,
}

impl Auth {
    /// The current user, or `None` when signed out (or unknown after an error).
    pub async fn viewer(self) -> Option<CurrentUser> {
        self.user.await.ok().flatten()
    }

    /// An action on another page changed this user's sessions: re-read the
    /// user here and tell this browser's other tabs.
    pub fn session_changed(self) {
        self.user.refetch();
        #[cfg(feature = "hydrate")]
        crate::tabs::announce();
    }

    /// A server function found this session gone: sign in again (a plain form
    /// post is redirected there by the server).
    pub fn session_ended(self) {
        leptos_router::hooks::use_navigate()(SESSION_ENDED_PAGE, Default::default());
    }
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

/// What `render` makes of the current user (`None` when signed out), once it
/// is known: on the server before the page is sent, in the browser again
/// after each change. Every part of a page that depends on the user goes
/// through this one function, so the browser bundle holds its suspense code
/// once (each distinct `<Transition>` adds about 4 KB of wasm).
pub fn with_viewer(
    render: impl Fn(Option<CurrentUser>) -> Shown + Send + Sync + 'static,
) -> AnyView {
    viewer_transition(Arc::new(render))
}

/// What a part of a page shows for the current user.
pub enum Shown {
    /// This view.
    View(AnyView),
    /// This signed-in part (see [`signed_in_view`]), once its code is loaded.
    SignedIn(SignedInPart, CurrentUser),
}

type Render = Arc<dyn Fn(Option<CurrentUser>) -> Shown + Send + Sync>;

fn viewer_transition(render: Render) -> AnyView {
    let auth = use_auth();
    view! {
        <Transition fallback=|| ()>
            {move || {
                let render = render.clone();
                Suspend::new(async move {
                    match render(auth.viewer().await) {
                        Shown::View(view) => view,
                        Shown::SignedIn(part, user) => signed_in_view(part, user).await,
                    }
                })
            }}
        </Transition>
    }
    .into_any()
}

/// The parts of the pages every visitor may open (`/`, `/login`, …) that
/// only a signed-in user sees.
#[derive(Clone, Copy)]
pub enum SignedInPart {
    Nav,
    Welcome,
}

/// A signed-in user's part of a shared page. Its code is a wasm chunk of its
/// own, fetched when a signed-in user is first shown such a part, so an
/// anonymous visitor's first load does not carry it. A page the server
/// rendered with these parts (the navigation's part carries
/// `data-signed-in`) loads the chunk before it hydrates: a `Suspend` hydrates
/// only what its future gives at once ([`load_signed_in_parts`]).
#[lazy]
pub fn signed_in_view(part: SignedInPart, user: CurrentUser) -> AnyView {
    match part {
        SignedInPart::Nav => view! { <NavSignedIn user/> }.into_any(),
        SignedInPart::Welcome => view! { <WelcomeBack user/> }.into_any(),
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
                    </Routes>
                </main>
            </AuthProvider>
        </Router>
    }
}

/// Creates the actions inside the router (so a failed plain-form post can show
/// its error) and the current-user resource that follows them.
#[component]
fn AuthProvider(children: Children) -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let logout = ServerAction::<Logout>::new();
    let user = Resource::new(
        move || (login.version().get(), logout.version().get()),
        |_| get_current_user(),
    );
    let auth = Auth {
        user,
        login,
        logout,
    };
    provide_context(auth);
    #[cfg(feature = "hydrate")]
    crate::tabs::keep_in_step(auth);
    children()
}

#[component]
fn Nav() -> impl IntoView {
    view! {
        <nav>
            <NavLink href="/" label="Home"/>
            {with_viewer(|viewer| match viewer {
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

/// Loads [`signed_in_view`]'s code, if the page was rendered with it.
#[cfg(feature = "hydrate")]
pub async fn load_signed_in_parts(page: &leptos::web_sys::HtmlElement) {
    if let Ok(Some(_)) = page.query_selector("[data-signed-in]") {
        __preload_signed_in_view().await;
    }
}

#[component]
fn NavSignedIn(user: CurrentUser) -> impl IntoView {
    view! {
        <span class="who" data-testid="nav-user" data-signed-in="">{user.username}</span>
        <NavLink href="/dashboard" label="Dashboard"/>
        <NavLink href="/account" label="Account"/>
        <SignOutButton/>
    }
}

/// A link of the navigation, marked `aria-current="page"` while its page is
/// shown. A plain `<a>`: the router follows it on the client all the same.
#[component]
fn NavLink(href: &'static str, label: &'static str) -> impl IntoView {
    let pathname = use_location().pathname;
    let current = move || (pathname.get() == href).then_some("page");
    view! { <a href=href aria-current=current>{label}</a> }
}

/// A plain POST form: signs out without a page load when scripts run, and as
/// an ordinary form post when they do not.
#[component]
pub fn SignOutButton() -> impl IntoView {
    let auth = use_auth();
    view! {
        <ActionForm action=auth.logout>
            <button type="submit" class="link-button">"Sign out"</button>
        </ActionForm>
    }
}
