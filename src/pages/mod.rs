//! One component per page, rendered on the server; what the browser must
//! run on a page is an island (`#[island]`) that gets what it shows as props.

mod account;
mod activity;
mod confirm;
mod dashboard;
mod forgot_password;
mod form;
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
pub use moment::{utc_text, LocalTimes, Moment};
pub use not_found::NotFound;
pub use not_me_link::NotMeLinkPage;
pub use register::RegisterPage;
pub use reset_password::ResetPasswordPage;
pub use verify_email::VerifyEmailPage;

use crate::{
    address::go_to,
    auth::{AppError, CurrentUser, Logout},
    session_ui::viewer,
};
use form::{error_message, keep_me_signed_in, new_password_label, post_form};
use leptos::{prelude::*, server_fn::ServerFn};

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
        None => {
            go_to(&format!("/login?next={path}"));
            ().into_any()
        }
    }
}

/// Signing out: a plain POST form, the one form that is not a [`post_form`]:
/// it has no error to show in place (a server fault reads the same either
/// way), and it is on every signed-in page, where an island would cost the
/// server a wrapper and the address's error lookups on every page. The
/// server sends the browser on to the sign-in page, and that page tells
/// this browser's other tabs.
#[component]
pub fn SignOutButton() -> impl IntoView {
    view! {
        <form method="post" action=Logout::url()>
            <button type="submit" class="link-button">"Sign out"</button>
        </form>
    }
}

/// What the server could not read for a part of a page, in its place.
fn unreadable(error: AppError) -> AnyView {
    view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any()
}

/// A sensitive action (its server function at `action`) refused outside
/// the re-authentication window: to `/confirm`, which names it, and back to
/// this page's form after. (A plain form post is redirected there by the
/// server.)
fn confirm_if_asked(refused: &AppError, action: &str) {
    if *refused == AppError::ReauthRequired {
        go_to(&crate::routes::confirm_page(
            action,
            &crate::address::path(),
        ));
    }
}
