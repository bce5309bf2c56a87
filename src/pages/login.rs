//! `/login`: the sign-in form, the passkey sign-in (an island) and the other
//! ways in. Rendered on the server.

use super::{keep_me_signed_in, post_form};
use crate::{
    address::query_value,
    auth::{AppError, Login},
    passkeys::PasskeySignIn,
    routes::FORGOT_PASSWORD_PAGE,
    session_ui::form_limits,
};
use leptos::prelude::*;

#[component]
pub fn LoginPage() -> impl IntoView {
    let limits = form_limits();
    let next = query_value("next").unwrap_or_default();
    // One notice: why this browser is here.
    let notice = match (query_value("ended"), query_value("signed_out")) {
        (Some(why), _) => Some((
            "session-ended",
            if why == "reused" {
                AppError::SessionReused.to_string()
            } else {
                AppError::SessionEnded.to_string()
            },
        )),
        (None, Some(_)) => Some(("signed-out", "You're signed out.".to_string())),
        (None, None) if !next.is_empty() => Some((
            "sign-in-to-continue",
            "Sign in to continue to that page.".to_string(),
        )),
        (None, None) => None,
    };
    view! {
        <h1>"Sign in"</h1>
        {notice.map(|(testid, text)| view! {
            <p class="notice" role="status" data-testid=testid>{text}</p>
        })}
        {post_form::<Login>(view! {
            <label>
                "Username"
                // `webauthn`: the browser's autofill offers this site's passkeys here too.
                <input type="text" name="username" autocomplete="username webauthn" required maxlength=limits.username_max_chars/>
            </label>
            <label>
                "Password"
                <input type="password" name="password" autocomplete="current-password" required maxlength=limits.password_max_chars/>
            </label>
            {keep_me_signed_in()}
            <input type="hidden" name="next" value=next/>
            <button type="submit">"Sign in"</button>
        })}
        <PasskeySignIn/>
        <p><a href=FORGOT_PASSWORD_PAGE data-testid="forgot-password">"Forgot your password?"</a></p>
        <p>"No account yet? " <a href="/register">"Create one"</a></p>
    }
}
