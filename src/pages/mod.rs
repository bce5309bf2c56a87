//! One component per page.

mod account;
mod dashboard;
mod landing;
mod login;
mod not_found;
mod register;

pub use account::AccountPage;
pub use dashboard::DashboardPage;
pub use landing::LandingPage;
pub use login::LoginPage;
pub use not_found::NotFound;
pub use register::RegisterPage;

use crate::auth::AppError;
use leptos::{
    prelude::*,
    server::ServerActionError,
    server_fn::{error::ServerFnUrlError, ServerFn},
};

/// The message of a failed action, shown under its form. Without JavaScript
/// the failed post is redirected back here with the error in the URL, which
/// the router exposes as `ServerActionError` inside `<Routes>`.
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
            view! { <p class="error" role="alert">{error.to_string()}</p> }
        })
    }
}
