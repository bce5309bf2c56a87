//! `/password/reset`: where a reset link leads. The server has already
//! moved the link's token into the session (`?token=` is gone from the
//! address, so it cannot leak through `Referer` or the history); the page
//! names the account and asks for a new password (the sign-up rules). Set,
//! every session and token of the account ends and this browser is signed
//! in, on the dashboard. Rendered on the server.

use super::{keep_me_signed_in, new_password_label, post_form};
use crate::{
    auth::{reset_link, LinkState, ResetPassword},
    routes::FORGOT_PASSWORD_PAGE,
    session_ui::form_limits,
};
use leptos::prelude::*;

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    view! {
        <h1>"Choose a new password"</h1>
        <Suspense fallback=|| ()>{Suspend::new(new_password())}</Suspense>
    }
}

/// The form for a new password for the account the link names; or why not.
async fn new_password() -> impl IntoView {
    let limits = form_limits();
    match reset_link().await {
        Ok(LinkState::Valid { username, .. }) => view! {
            <p>
                "For the account " <strong data-testid="reset-username">{username.clone()}</strong>
                ". Setting it signs out every device, revokes every API token, removes "
                "every passkey (add yours again afterwards) and forgets every other browser, "
                "then signs you in here."
            </p>
            {post_form::<ResetPassword>(view! {
                // For password managers: whose password this is.
                <input type="text" name="username" autocomplete="username" value=username hidden/>
                <label>
                    {new_password_label("New password", limits)}
                    <input type="password" name="new_password" autocomplete="new-password" required maxlength=limits.password_max_chars/>
                </label>
                <label>
                    "Confirm new password"
                    <input type="password" name="confirm_password" autocomplete="new-password" required maxlength=limits.password_max_chars/>
                </label>
                {keep_me_signed_in()}
                <button type="submit">"Set the new password"</button>
            })}
        }
        .into_any(),
        _ => view! {
            <p class="error" role="alert" data-testid="link-invalid">
                "This link has expired or was already used. "
                <a href=FORGOT_PASSWORD_PAGE>"Ask for a new one"</a> "."
            </p>
        }
        .into_any(),
    }
}
