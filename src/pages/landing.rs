use crate::{
    address::query_value,
    routes::{DASHBOARD_PAGE, SIGN_IN_PAGE},
    session_ui::viewer,
};
use leptos::prelude::*;

/// The home page, rendered on the server only.
#[component]
pub fn LandingPage() -> impl IntoView {
    let deleted = query_value("deleted").is_some();
    let greeting = match viewer() {
        Some(user) => view! {
            <p>"Signed in as " <strong>{user.username}</strong> ". "
                <a href=DASHBOARD_PAGE>"Go to your dashboard"</a>
            </p>
        }
        .into_any(),
        None => view! {
            <p>
                <a href=SIGN_IN_PAGE>"Sign in"</a> " or "
                <a href="/register">"create an account"</a>
            </p>
        }
        .into_any(),
    };
    view! {
        {deleted.then(|| view! {
            <p class="notice" role="status" data-testid="account-deleted">
                "Your account has been deleted: every session of it has ended and every API token "
                "is revoked. Its username is free to register again."
            </p>
        })}
        <h1>"Persistent login"</h1>
        <p>"Sign in once and stay signed in, even after the browser closes."</p>
        {greeting}
    }
}
