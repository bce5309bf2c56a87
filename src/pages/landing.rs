use crate::session_ui::{with_current_user, Shown, SignedInPart};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LandingPage() -> impl IntoView {
    let query = use_query_map();
    let deleted = move || query.read().get("deleted").is_some();
    view! {
        <Show when=deleted>
            <p class="notice" role="status" data-testid="account-deleted">
                "Your account has been deleted: every session of it has ended and every API token "
                "is revoked. Its username is free to register again."
            </p>
        </Show>
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
