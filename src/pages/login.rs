use super::error_message;
use crate::{
    auth::Login,
    passkeys,
    routes::FORGOT_PASSWORD_PAGE,
    session_ui::{use_auth, use_form_limits},
};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = use_auth();
    let limits = use_form_limits();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let ended = move || query.read().get("ended");
    view! {
        <h1>"Sign in"</h1>
        {move || ended().map(|why| view! {
            <p class="notice" role="status" data-testid="session-ended">
                {if why == "reused" {
                    crate::auth::AppError::SessionReused.to_string()
                } else {
                    crate::auth::AppError::SessionEnded.to_string()
                }}
            </p>
        })}
        <ActionForm action=auth.login>
            <label>
                "Username"
                // `webauthn`: the browser's autofill offers this site's passkeys here too.
                <input type="text" name="username" autocomplete="username webauthn" required maxlength=limits.username_max_chars/>
            </label>
            <label>
                "Password"
                <input type="password" name="password" autocomplete="current-password" required maxlength=limits.password_max_chars/>
            </label>
            <label class="remember">
                <input type="checkbox" name="remember" value="on"/>
                "Keep me signed in"
            </label>
            <input type="hidden" name="next" value=next/>
            <button type="submit">"Sign in"</button>
        </ActionForm>
        {error_message::<Login>(move || auth.login.value().get())}
        <OtherWaysIn/>
    }
}

/// The other ways in: a passkey, a new password by mail, a new account.
#[component]
fn OtherWaysIn() -> impl IntoView {
    // Signing in with a passkey is a chunk of its own, fetched once the page
    // is interactive (#25).
    passkeys::offer_sign_in();
    view! {
        // Until the page is interactive, and without JavaScript: one static
        // string; the passkeys' chunk puts the working button in its place
        // (`passkeys::offer_sign_in`, which finds it by its id).
        <div id="passkey-sign-in" class="passkey-sign-in" data-testid="passkey-sign-in">
            <button type="button" class="secondary" disabled data-testid="passkey-button">
                "Sign in with a passkey"
            </button>
            <p class="hint" data-testid="passkey-hint">"Signing in with a passkey needs JavaScript."</p>
        </div>
        <p><a href=FORGOT_PASSWORD_PAGE data-testid="forgot-password">"Forgot your password?"</a></p>
        <p>"No account yet? " <a href="/register">"Create one"</a></p>
    }
}
