//! `/confirm`: the signed-in user enters their password again before a
//! sensitive action (re-authentication, #23), then goes back to where they
//! were (`?next=`, a path on this site, as the server judges it). Without
//! JavaScript the server redirects the form post there.

use super::{error_message, SignedInOnly};
use crate::{
    auth::Confirm,
    routes::CONFIRM_PAGE,
    session_ui::{use_auth, use_form_limits},
};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

#[component]
pub fn ConfirmPage() -> impl IntoView {
    view! {
        <SignedInOnly path=CONFIRM_PAGE page=|user| view! { <ConfirmForm username=user.username/> }/>
    }
}

#[component]
fn ConfirmForm(username: String) -> impl IntoView {
    let auth = use_auth();
    let confirm = ServerAction::<Confirm>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(back)) = confirm.value().get() {
            auth.session_changed();
            navigate(&back, Default::default());
        }
    });
    let longest = use_form_limits().password_max_chars;
    view! {
        <h1>"Confirm it's you"</h1>
        <p>
            "Creating API tokens, revoking them and signing out everywhere else need your "
            "password again: a signed-in browser alone is not enough."
        </p>
        <ActionForm action=confirm>
            <label>
                "Username"
                <input type="text" name="username" autocomplete="username" value=username readonly data-testid="confirm-username"/>
            </label>
            <label>
                "Password"
                <input type="password" name="password" autocomplete="current-password" required maxlength=longest autofocus/>
            </label>
            <input type="hidden" name="next" value=next/>
            <button type="submit">"Confirm"</button>
        </ActionForm>
        {error_message::<Confirm>(move || confirm.value().get().map(|result| result.map(|_| ())))}
    }
}
