//! The signed-in user as pages see it. The server renders every page from the
//! session the session layer has already read ([`viewer`]): no suspense, no
//! second read. Islands get what they show as props and leave for another
//! page after a change to the session, which the server then renders afresh.
//! Pages and the app shell import this; it imports neither.

use crate::{
    address::go_to,
    auth::{CurrentUser, FormLimits, TokenLifetime},
    routes::SESSION_ENDED_PAGE,
};
use leptos::prelude::*;

/// The user this request is signed in as, on the server (`None` when signed
/// out). Server components call it; the browser renders none of them, so
/// there it is always `None`.
pub fn viewer() -> Option<CurrentUser> {
    #[cfg(feature = "ssr")]
    {
        /// The user once read for this page (the shell asks first).
        #[derive(Clone)]
        struct Viewer(Option<CurrentUser>);

        if let Some(Viewer(user)) = use_context::<Viewer>() {
            return user;
        }
        // Outside a request there is nobody, and nothing to complain of.
        use_context::<crate::auth::ssr::AuthService>()?;
        let user = crate::auth::ssr::RequestContext::get()
            .ok()
            .and_then(|cx| cx.current_user());
        provide_context(Viewer(user.clone()));
        user
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The lengths the forms allow, as the server is configured: a prop of the
/// islands with forms, so a changed setting shows in every form, with or
/// without JavaScript.
pub fn form_limits() -> FormLimits {
    use_context::<FormLimits>().unwrap_or_default()
}

/// How long a bearer token lasts, as the server is configured (a prop of
/// the account page's island).
pub fn token_lifetime() -> TokenLifetime {
    use_context::<TokenLifetime>().unwrap_or_default()
}

/// A server function found this session gone: sign in again (a plain form
/// post is redirected there by the server).
pub fn session_ended() {
    go_to(SESSION_ENDED_PAGE);
}

/// A link of the navigation, marked `aria-current="page"` when it leads to
/// `current`, the page shown (rendered on the server).
#[component]
pub fn NavLink(
    href: &'static str,
    label: &'static str,
    current: Option<&'static str>,
) -> impl IntoView {
    let marked = (current == Some(href)).then_some("page");
    view! { <a href=href aria-current=marked>{label}</a> }
}
