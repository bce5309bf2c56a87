//! `/password/reset`: where a reset link leads (#24). The server has already
//! moved the link's token into the session (`?token=` is gone from the
//! address, so it cannot leak through `Referer` or the history); the page
//! names the account and asks for a new password (the sign-up rules). Set,
//! every session and token of the account ends and this browser is signed
//! in, on the dashboard.

use super::error_message;
use crate::{
    auth::{reset_link, FormLimits, LinkState, ResetPassword},
    routes::FORGOT_PASSWORD_PAGE,
    session_ui::form_limits,
};
use leptos::prelude::*;

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    view! { <NewPassword limits=form_limits()/> }
}

/// The form for a new password. Set, the server sends the browser on to the
/// dashboard, signed in.
#[island]
fn NewPassword(limits: FormLimits) -> impl IntoView {
    let reset = ServerAction::<ResetPassword>::new();
    let link = Resource::new(|| (), |_| reset_link());
    view! {
        <h1>"Choose a new password"</h1>
        <Transition fallback=|| view! { <p>"Checking the link…"</p> }>
            {move || Suspend::new(async move {
                match link.await {
                    Ok(LinkState::Valid { username, .. }) => view! {
                        <p>
                            "For the account " <strong data-testid="reset-username">{username.clone()}</strong>
                            ". Setting it signs out every device, revokes every API token, removes "
                            "every passkey (add yours again afterwards) and forgets every other browser, "
                            "then signs you in here."
                        </p>
                        <ActionForm action=reset>
                            // For password managers: whose password this is.
                            <input type="text" name="username" autocomplete="username" value=username hidden/>
                            <label>
                                {format!("New password (at least {} characters)", limits.password_min_chars)}
                                <input type="password" name="new_password" autocomplete="new-password" required maxlength=limits.password_max_chars/>
                            </label>
                            <label>
                                "Confirm new password"
                                <input type="password" name="confirm_password" autocomplete="new-password" required maxlength=limits.password_max_chars/>
                            </label>
                            <label class="remember">
                                <input type="checkbox" name="remember" value="on"/>
                                "Keep me signed in"
                            </label>
                            <button type="submit">"Set the new password"</button>
                        </ActionForm>
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
            })}
        </Transition>
        {error_message::<ResetPassword>(move || reset.value().get())}
    }
}
