//! One component per page.

mod account;
mod dashboard;
mod landing;
mod login;
mod moment;
mod not_found;
mod register;

pub use account::AccountPage;
pub use dashboard::DashboardPage;
pub use landing::LandingPage;
pub use login::LoginPage;
pub use moment::{utc_text, Moment};
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
