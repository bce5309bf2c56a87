//! `/email/verify`: where a verification link leads (#24). The server has
//! already moved the link's token into the session (`?token=` is gone from
//! the address); the page says which address the link proves and asks
//! before it acts, so a mail scanner that fetches the link changes nothing.
//! Works signed in or not, with or without JavaScript.

use super::error_message;
use crate::{
    address::query_value,
    auth::{verification_link, LinkState, VerifyEmail},
};
use leptos::prelude::*;

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    view! { <VerifyEmailForm/> }
}

#[island]
fn VerifyEmailForm() -> impl IntoView {
    let verify = ServerAction::<VerifyEmail>::new();
    let done_before = query_value("done").is_some();
    let done = move || {
        matches!(verify.value().get(), Some(Ok(())))
            || (verify.value().get().is_none() && done_before)
    };
    let link = Resource::new(|| (), |_| verification_link());
    view! {
        <h1>"Confirm your email address"</h1>
        <Show
            when=done
            fallback=move || view! {
                <Transition fallback=|| view! { <p>"Checking the link…"</p> }>
                    {move || Suspend::new(async move {
                        match link.await {
                            Ok(LinkState::Valid { address, .. }) => view! {
                                <p data-testid="verify-address">
                                    "This link confirms "
                                    <strong>{address.unwrap_or_default()}</strong>
                                    " as the email address of your account."
                                </p>
                                <ActionForm action=verify>
                                    <button type="submit" data-testid="verify-email">"Confirm this address"</button>
                                </ActionForm>
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
                    })}
                </Transition>
            }
        >
            <p class="notice" role="status" data-testid="email-verified">
                "Your email address is verified."
            </p>
        </Show>
        {error_message::<VerifyEmail>(move || verify.value().get())}
        <p><a href="/account">"Your account"</a></p>
    }
}
