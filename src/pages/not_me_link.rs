//! `/alerts/not-me`: where the "This wasn't me" link of a new-device alert
//! leads. The token is already in the session (gone from the address); the
//! page names the account and asks before it acts. Done, every session and
//! API token of the account has ended, every passkey is removed and every
//! other browser forgotten, and the browser goes on to choose a new
//! password. Nobody need be signed in. Rendered on the server.

use super::{post_form, Moment};
use crate::{
    auth::{not_me_link, LinkState, NotMeByLink},
    routes::FORGOT_PASSWORD_PAGE,
};
use leptos::prelude::*;

#[component]
pub fn NotMeLinkPage() -> impl IntoView {
    view! {
        <h1>"This wasn't me"</h1>
        <Suspense fallback=|| ()>{Suspend::new(link())}</Suspense>
    }
}

/// Whose account the link this browser followed names, and the button; or
/// why not.
async fn link() -> impl IntoView {
    match not_me_link().await {
        Ok(LinkState::Valid {
            username, sign_in, ..
        }) => view! {
            <p>
                "Someone signed in to the account " <strong data-testid="not-me-username">{username}</strong>
                " from a new device."
            </p>
            {sign_in.map(|seen| view! {
                <dl class="session" data-testid="not-me-sign-in">
                    <dt>"Device"</dt>
                    <dd data-testid="not-me-device">{seen.device}</dd>
                    <dt>"From"</dt>
                    <dd data-testid="not-me-client">{seen.client}</dd>
                    <dt>"When"</dt>
                    <dd><Moment at=seen.at testid="not-me-at"/></dd>
                </dl>
            })}
            <p>
                "If it was not you, sign every device out now: every API "
                "token is revoked, every passkey removed (someone in your account may have "
                "added one: add yours again afterwards) and every other browser forgotten. "
                "Then choose a new password that nobody else knows."
            </p>
            {post_form::<NotMeByLink>(view! {
                <button type="submit" class="danger" data-testid="not-me-confirm">"Sign every device out"</button>
            })}
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
}
