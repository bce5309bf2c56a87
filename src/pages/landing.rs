use crate::session_ui::{with_current_user, Shown, SignedInPart};
use leptos::prelude::*;

#[component]
pub fn LandingPage() -> impl IntoView {
    view! {
        <h1>"Persistent login"</h1>
        <p>"Sign in once and stay signed in, even after the browser closes."</p>
        {with_current_user(|user| match user {
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
