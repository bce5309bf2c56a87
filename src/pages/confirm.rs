//! `/confirm`: the signed-in user enters their password again before a
//! sensitive action (re-authentication, #23), then goes back to where they
//! were (`?next=`, a path on this site, as the server judges it). Without
//! JavaScript the server redirects the form post there.

use super::{error_message, SignedInOnly};
use crate::{
    address::{go_to, query_value},
    auth::Confirm,
    routes::CONFIRM_PAGE,
    session_ui::form_limits,
};
use leptos::prelude::*;

#[component]
pub fn ConfirmPage() -> impl IntoView {
    view! {
        <SignedInOnly path=CONFIRM_PAGE page=|user| view! {
            <ConfirmForm username=user.username longest=form_limits().password_max_chars/>
        }/>
    }
}

#[island]
fn ConfirmForm(username: String, longest: usize) -> impl IntoView {
    let confirm = ServerAction::<Confirm>::new();
    let next = query_value("next").unwrap_or_default();
    Effect::new(move |_| {
        if let Some(Ok(back)) = confirm.value().get() {
            go_to(&back);
        }
    });
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
