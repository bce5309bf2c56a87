//! One component per page, rendered on the server; what the browser must
//! run on a page is an island (`#[island]`) that gets what it shows as props.

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
    address::{go_to, query_value},
    auth::{AppError, CurrentUser},
    session_ui::viewer,
};
use leptos::{
    prelude::*,
    server_fn::{error::ServerFnUrlError, ServerFn},
};
use leptos_router::components::Redirect;

/// A protected page (one of `routes::PROTECTED_PAGES`): `page` renders it for
/// the signed-in user. The server redirects anonymous requests before
/// rendering; should one come this far, it is sent to sign in, with `path` to
/// come back to.
#[component]
fn SignedInOnly<V>(path: &'static str, page: fn(CurrentUser) -> V) -> impl IntoView
where
    V: IntoView + 'static,
{
    match viewer() {
        Some(user) => page(user).into_any(),
        None => view! { <Redirect path=format!("/login?next={path}")/> }.into_any(),
    }
}

/// A sensitive action refused outside the re-authentication window: to the
/// password page `confirm_page` (`/confirm?next=` the page it was on), and
/// back there after. (A plain form post is redirected there by the server.)
fn confirm_if_asked<T>(result: Option<Result<T, AppError>>, confirm_page: &str) {
    if matches!(result, Some(Err(AppError::ReauthRequired))) {
        go_to(confirm_page);
    }
}

/// The message of a failed action, shown under its form. Without JavaScript
/// the failed post is redirected back here with the error in the URL
/// (`__path`, `__err`), which both halves read alike. The message is
/// announced (`role="alert"`) and takes the keyboard focus when it appears
/// (`autofocus` on a page load, a focus call after a script's submit), so the
/// reader hears it and goes on from the form.
fn error_message<S>(
    value: impl Fn() -> Option<Result<(), AppError>> + Send + Sync + 'static,
) -> impl IntoView
where
    S: ServerFn<Error = AppError>,
{
    let from_url = query_value("__err")
        .filter(|_| query_value("__path").as_deref() == Some(S::PATH))
        .map(|error| ServerFnUrlError::<AppError>::decode_err(&error));
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
