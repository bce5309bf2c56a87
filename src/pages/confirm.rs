//! `/confirm`: the signed-in user enters their password again before a
//! sensitive action (re-authentication), then goes back to where they were
//! (`?next=`, a path on this site, as the server judges it): the server
//! names that page in its answer to the form.

use super::{post_form, SignedInOnly};
use crate::{address::query_value, auth::Confirm, routes::CONFIRM_PAGE, session_ui::form_limits};
use leptos::prelude::*;

#[component]
pub fn ConfirmPage() -> impl IntoView {
    view! { <SignedInOnly path=CONFIRM_PAGE page=|user| confirm_form(user.username)/> }
}

fn confirm_form(username: String) -> impl IntoView {
    let longest = form_limits().password_max_chars;
    let next = query_value("next").unwrap_or_default();
    view! {
        <h1>"Confirm it's you"</h1>
        <p>
            "Creating API tokens, revoking them and signing out everywhere else need your "
            "password again: a signed-in browser alone is not enough."
        </p>
        {post_form::<Confirm>(view! {
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
        })}
    }
}
