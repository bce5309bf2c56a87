//! `/confirm`: the signed-in user enters their password again before a
//! sensitive action (re-authentication), then goes back to where they were
//! (`?next=`, a path on this site, as the server judges it): the server
//! names that page in its answer to the form. `?for=` names the action
//! being confirmed, and "Go back" leads back without confirming.

use super::{post_form, SignedInOnly};
use crate::{
    address::query_value,
    auth::{Confirm, SensitiveAction},
    routes::{is_local_path, ACCOUNT_PAGE, CONFIRM_PAGE},
    session_ui::form_limits,
};
use leptos::prelude::*;

#[component]
pub fn ConfirmPage() -> impl IntoView {
    view! { <SignedInOnly path=CONFIRM_PAGE page=|user| confirm_form(user.username)/> }
}

fn confirm_form(username: String) -> impl IntoView {
    let longest = form_limits().password_max_chars;
    let action = query_value("for").as_deref().and_then(SensitiveAction::at);
    // Back to the action's form once confirmed, or without confirming.
    let next = query_value("next")
        .filter(|next| is_local_path(next))
        .unwrap_or_else(|| ACCOUNT_PAGE.to_string());
    let next = match action {
        Some(action) => action.back_at_form(&next),
        None => next,
    };
    let next_back = next.clone();
    let asked = match action {
        Some(action) => format!("{} needs your password again", action.what),
        None => "Your account's sensitive actions need your password again".to_string(),
    };
    view! {
        <h1>"Confirm it's you"</h1>
        <p data-testid="confirm-what">
            {asked} ": a signed-in browser alone is not enough."
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
        <p><a href=next_back data-testid="confirm-back">"Go back without confirming"</a></p>
    }
}
