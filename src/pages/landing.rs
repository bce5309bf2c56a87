use crate::{
    app::{with_viewer, Shown, SignedInPart},
    auth::CurrentUser,
};
use leptos::prelude::*;

#[component]
pub fn LandingPage() -> impl IntoView {
    view! {
        <h1>"Persistent login"</h1>
        <p>"Sign in once and stay signed in, even after the browser closes."</p>
        {with_viewer(|viewer| match viewer {
            Some(user) => Shown::SignedIn(SignedInPart::Welcome, user),
            None => Shown::View(view! {
                <p>
                    <a href="/login">"Sign in"</a> " or "
                    <a href="/register">"create an account"</a>
                </p>
            }
                .into_any()),
        })}
    }
}

/// The landing page's line for a signed-in user (see `signed_in_view`).
#[component]
pub fn WelcomeBack(user: CurrentUser) -> impl IntoView {
    view! {
        <p>"Signed in as " <strong>{user.username}</strong> ". "
            <a href="/dashboard">"Go to your dashboard"</a>
        </p>
    }
}
