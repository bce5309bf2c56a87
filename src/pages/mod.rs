//! One component per page.

mod account;
mod account_passkeys;
mod activity;
mod confirm;
mod dashboard;
mod forgot_password;
mod landing;
mod login;
mod moment;
mod not_found;
mod not_me_link;
mod register;
mod reset_password;
mod verify_email;

pub use account::AccountPage;
pub use activity::ActivityPage;
pub use confirm::ConfirmPage;
pub use dashboard::DashboardPage;
pub use forgot_password::ForgotPasswordPage;
pub use landing::LandingPage;
pub use login::LoginPage;
pub use moment::{utc_text, Moment};
pub use not_found::NotFound;
pub use not_me_link::NotMeLinkPage;
pub use register::RegisterPage;
pub use reset_password::ResetPasswordPage;
pub use verify_email::VerifyEmailPage;

use crate::{
    auth::{AppError, CurrentUser},
    session_ui::{with_current_user, Shown},
};
use leptos::{
    prelude::*,
    server::ServerActionError,
    server_fn::{error::ServerFnUrlError, ServerFn},
};
use leptos_router::components::Redirect;

/// A page loaded on demand: `lazy_page!(Route, Page)` declares `Route`, whose
/// code (with `Page`'s) is a separate wasm chunk under `cargo leptos build
/// --split`, not part of the first load; `app` routes to `Lazy::<Route>`.
macro_rules! lazy_page {
    ($route:ident, $page:ident) => {
        #[doc = concat!("`", stringify!($page), "`, loaded on demand (a wasm chunk of its own).")]
        pub struct $route;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(this: Self) -> AnyView {
                let $route = this;
                view! { <$page/> }.into_any()
            }
        }
    };
}

lazy_page!(AccountRoute, AccountPage);
lazy_page!(ActivityRoute, ActivityPage);
lazy_page!(ConfirmRoute, ConfirmPage);
lazy_page!(DashboardRoute, DashboardPage);
lazy_page!(ForgotPasswordRoute, ForgotPasswordPage);
lazy_page!(NotMeLinkRoute, NotMeLinkPage);
lazy_page!(RegisterRoute, RegisterPage);
lazy_page!(ResetPasswordRoute, ResetPasswordPage);
lazy_page!(VerifyEmailRoute, VerifyEmailPage);

/// A protected page (one of `routes::PROTECTED_PAGES`): `page` renders it for the
/// signed-in user. The server redirects anonymous requests before rendering;
/// on the client, signing out (or the session ending) leads to sign-in, with
/// `path` to come back to.
#[component]
fn SignedInOnly<V>(path: &'static str, page: fn(CurrentUser) -> V) -> impl IntoView
where
    V: IntoView + 'static,
{
    with_current_user(move |user| {
        Shown::View(match user {
            Some(user) => page(user).into_any(),
            None => view! { <Redirect path=format!("/login?next={path}")/> }.into_any(),
        })
    })
}

/// A sensitive action refused outside the re-authentication window: to the
/// password page `confirm_page` (`/confirm?next=` the page it was on), and
/// back there after. (A plain form post is redirected there by the server.)
fn confirm_if_asked<T>(result: Option<Result<T, AppError>>, confirm_page: &str) {
    if matches!(result, Some(Err(AppError::ReauthRequired))) {
        leptos_router::hooks::use_navigate()(confirm_page, Default::default());
    }
}

/// The message of a failed action, shown under its form. Without JavaScript
/// the failed post is redirected back here with the error in the URL, which
/// the router exposes as `ServerActionError` inside `<Routes>`. The message is
/// announced (`role="alert"`) and takes the keyboard focus when it appears
/// (`autofocus` on a page load, a focus call after a script's submit), so the
/// reader hears it and goes on from the form.
fn error_message<S>(
    value: impl Fn() -> Option<Result<(), AppError>> + Send + Sync + 'static,
) -> impl IntoView
where
    S: ServerFn<Error = AppError>,
{
    let from_url = use_context::<ServerActionError>()
        .filter(|error| error.path() == S::PATH)
        .map(|error| ServerFnUrlError::<AppError>::decode_err(error.err()));
    move || {
        let error = match value() {
            Some(result) => result.err(),
            None => from_url.clone(),
        };
        error.map(|error| {
            let node = NodeRef::<leptos::html::P>::new();
            #[cfg(feature = "hydrate")]
            Effect::new(move |_| {
                if let Some(message) = node.get() {
                    let _ = message.focus();
                }
            });
            view! {
                <p class="error" role="alert" tabindex="-1" autofocus node_ref=node>
                    {error.to_string()}
                </p>
            }
        })
    }
}
