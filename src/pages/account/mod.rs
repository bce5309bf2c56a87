//! `/account`, rendered on the server from what it reads for this request:
//! where the user is signed in, the sensitive actions' window, the email
//! address, passkeys, API tokens, the password and deletion. Every action is
//! a plain POST form whose answer is the page again (with a notice, or the
//! error under its form); only what needs the browser is an island: making a
//! token (shown once) and adding a passkey (the browser's prompt).

mod email;
mod passkeys;
mod security;
mod sessions;
mod tokens;

use super::SignedInOnly;
use crate::{
    auth::{
        count_tokens, get_email_status, list_ended_sessions, list_passkeys, list_sessions,
        CurrentUser,
    },
    routes::{ACCOUNT_PAGE, ACTIVITY_PAGE},
    session_ui::{form_limits, token_lifetime},
};
use leptos::prelude::*;

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <SignedInOnly path=ACCOUNT_PAGE page=|user| view! {
            <Suspense fallback=|| ()>{Suspend::new(account(user))}</Suspense>
        }/>
    }
}

/// The page, once the server has read its lists.
async fn account(user: CurrentUser) -> impl IntoView {
    let sessions = list_sessions().await;
    let ended = list_ended_sessions().await;
    let email = get_email_status().await;
    let passkeys = list_passkeys().await;
    let tokens = count_tokens().await;
    let limits = form_limits();
    view! {
        <h1>"Your account"</h1>
        <p>"Signed in as " <strong data-testid="username">{user.username.clone()}</strong></p>
        <p><a href=ACTIVITY_PAGE data-testid="activity-link">"Security activity: what happened on your account"</a></p>
        {sessions::sessions(sessions)}
        {sessions::ended_to_make_room(ended)}
        {security::confirmation(user.confirmed_until)}
        {email::email_address(email)}
        {passkeys::passkeys(passkeys)}
        {tokens::api_tokens(tokens, token_lifetime())}
        {security::password_change(user.username.clone(), limits.password_max_chars)}
        {security::account_deletion(user.username)}
    }
}
