//! `/alerts/not-me`: where the "This wasn't me" link of a new-device alert
//! leads (#24). The token is already in the session (gone from the
//! address); the page names the account and asks before it acts. Done,
//! every session and API token of the account has ended, every passkey is
//! removed and every other browser forgotten, and the browser goes on to
//! choose a new password. Nobody need be signed in.

use super::error_message;
use crate::{
    auth::{not_me_link, LinkState, NotMeByLink},
    routes::FORGOT_PASSWORD_PAGE,
};
use leptos::prelude::*;

#[component]
pub fn NotMeLinkPage() -> impl IntoView {
    view! { <NotMeByLinkForm/> }
}

#[island]
fn NotMeByLinkForm() -> impl IntoView {
    let not_me = ServerAction::<NotMeByLink>::new();
    let link = Resource::new(|| (), |_| not_me_link());
    view! {
        <h1>"This wasn't me"</h1>
        <Transition fallback=|| view! { <p>"Checking the link…"</p> }>
            {move || Suspend::new(async move {
                match link.await {
                    Ok(LinkState::Valid { username, .. }) => view! {
                        <p>
                            "Someone signed in to the account " <strong data-testid="not-me-username">{username}</strong>
                            " from a new device. If it was not you, sign every device out now: every API "
                            "token is revoked, every passkey removed (someone in your account may have "
                            "added one: add yours again afterwards) and every other browser forgotten. "
                            "Then choose a new password that nobody else knows."
                        </p>
                        <ActionForm action=not_me>
                            <button type="submit" class="danger" data-testid="not-me-confirm">"Sign every device out"</button>
                        </ActionForm>
                    }
                    .into_any(),
                    _ => view! {
                        <p class="error" role="alert" data-testid="link-invalid">
                            "This link has expired or was already used. If someone else is using your "
                            "account, " <a href=FORGOT_PASSWORD_PAGE>"reset your password"</a> "."
                        </p>
                    }
                    .into_any(),
                }
            })}
        </Transition>
        {error_message::<NotMeByLink>(move || not_me.value().get())}
    }
}
