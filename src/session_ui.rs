//! The current user as every page sees it: the `Auth` context (the user and
//! the sign-in and sign-out actions), the one suspense every user-dependent
//! part goes through (`with_current_user`), the signed-in parts of the pages
//! everyone may open (a wasm chunk of their own), and the sign-out button.
//! Pages and the app shell import this; it imports neither.

use crate::{
    auth::{get_current_user, AppError, CurrentUser, FormLimits, Login, Logout},
    routes::{ACCOUNT_DELETED_PAGE, SESSION_ENDED_PAGE},
};
use leptos::prelude::*;
use leptos_router::hooks::use_location;
use std::sync::Arc;

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
    pub async fn current_user(self) -> Option<CurrentUser> {
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

    /// The user deleted their account: to the home page, which says so,
    /// signed out here and in this browser's other tabs.
    pub fn account_deleted(self) {
        leptos_router::hooks::use_navigate()(ACCOUNT_DELETED_PAGE, Default::default());
        self.session_changed();
    }
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

/// The lengths the forms allow, as the server is configured.
pub fn use_form_limits() -> FormLimits {
    expect_context::<FormLimits>()
}

/// On the server: the running configuration's limits, which the server
/// provides to every page. In the browser they arrive with the page
/// ([`SharedValue`]), so this runs there only for a page the server did not
/// render, which never happens.
fn configured_form_limits() -> FormLimits {
    use_context::<FormLimits>().unwrap_or_default()
}

/// What `render` makes of the current user (`None` when signed out), once it
/// is known: on the server before the page is sent, in the browser again
/// after each change. Every part of a page that depends on the user goes
/// through this one function, so the browser bundle holds its suspense code
/// once (each distinct `<Transition>` adds about 4 KB of wasm).
pub fn with_current_user(
    render: impl Fn(Option<CurrentUser>) -> Shown + Send + Sync + 'static,
) -> AnyView {
    current_user_transition(Arc::new(render))
}

/// What a part of a page shows for the current user.
pub enum Shown {
    /// This view.
    View(AnyView),
    /// This signed-in part (see [`signed_in_view`]), once its code is loaded.
    SignedIn(SignedInPart, CurrentUser),
}

type Render = Arc<dyn Fn(Option<CurrentUser>) -> Shown + Send + Sync>;

fn current_user_transition(render: Render) -> AnyView {
    let auth = use_auth();
    view! {
        <Transition fallback=|| ()>
            {move || {
                let render = render.clone();
                Suspend::new(async move {
                    match render(auth.current_user().await) {
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

/// Creates the actions inside the router (so a failed plain-form post can show
/// its error) and the current-user resource that follows them.
#[component]
pub fn AuthProvider(children: Children) -> impl IntoView {
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
    provide_context(SharedValue::new_str(configured_form_limits).into_inner());
    #[cfg(feature = "hydrate")]
    crate::tabs::keep_in_step(auth);
    children()
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
pub fn NavLink(href: &'static str, label: &'static str) -> impl IntoView {
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

/// The landing page's line for a signed-in user (see `signed_in_view`).
#[component]
fn WelcomeBack(user: CurrentUser) -> impl IntoView {
    view! {
        <p>"Signed in as " <strong>{user.username}</strong> ". "
            <a href="/dashboard">"Go to your dashboard"</a>
        </p>
    }
}
