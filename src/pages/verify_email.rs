//! `/email/verify`: where a verification link leads. The server has already
//! moved the link's token into the session (`?token=` is gone from the
//! address); the page says which address the link proves and asks before
//! it acts, so a mail scanner that fetches the link changes nothing. Works
//! signed in or not. Rendered on the server.

use super::post_form;
use crate::{
    address::query_value,
    auth::{verification_link, LinkState, VerifyEmail},
};
use leptos::prelude::*;

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let state = if query_value("done").is_some() {
        view! {
            <p class="notice" role="status" data-testid="email-verified">
                "Your email address is verified."
            </p>
        }
        .into_any()
    } else {
        view! { <Suspense fallback=|| ()>{Suspend::new(link())}</Suspense> }.into_any()
    };
    view! {
        <h1>"Confirm your email address"</h1>
        {state}
        <p><a href="/account">"Your account"</a></p>
    }
}

/// What the link this browser followed proves, and the button; or why not.
async fn link() -> impl IntoView {
    match verification_link().await {
        Ok(LinkState::Valid { address, .. }) => view! {
            <p data-testid="verify-address">
                "This link confirms "
                <strong>{address.unwrap_or_default()}</strong>
                " as the email address of your account."
            </p>
            {post_form::<VerifyEmail>(view! {
                <button type="submit" data-testid="verify-email">"Confirm this address"</button>
            })}
        }
        .into_any(),
        _ => view! {
            <p class="error" role="alert" data-testid="link-invalid">
                "This link has expired or was already used. Sign in and "
                "send a new one from your account page."
            </p>
        }
        .into_any(),
    }
}
