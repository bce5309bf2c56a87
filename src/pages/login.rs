use super::error_message;
use crate::{
    auth::Login,
    passkeys::{self, Control, ControlMessages, SignIn, Start},
    routes::FORGOT_PASSWORD_PAGE,
    session_ui::{use_auth, use_form_limits},
};
use leptos::{html, prelude::*};
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = use_auth();
    let limits = use_form_limits();
    let query = use_query_map();
    let next = Signal::derive(move || query.read().get("next").unwrap_or_default());
    let ended = move || query.read().get("ended");
    let remember = NodeRef::<html::Input>::new();
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
                <input type="checkbox" name="remember" value="on" node_ref=remember/>
                "Keep me signed in"
            </label>
            <input type="hidden" name="next" value=next/>
            <button type="submit">"Sign in"</button>
        </ActionForm>
        {error_message::<Login>(move || auth.login.value().get())}
        <PasskeySignIn remember next/>
        <p><a href=FORGOT_PASSWORD_PAGE data-testid="forgot-password">"Forgot your password?"</a></p>
        <p>"No account yet? " <a href="/register">"Create one"</a></p>
    }
}

/// Signing in with a passkey (#25): offered in the username field's autofill
/// where the browser can, and by a button everywhere. Both need JavaScript,
/// which the page says until it is interactive; what they do is a chunk of
/// its own (`passkeys::sign_in`), fetched then. "Keep me signed in" is read
/// when the passkey is chosen.
#[component]
fn PasskeySignIn(remember: NodeRef<html::Input>, next: Signal<String>) -> impl IntoView {
    let part = SignIn {
        control: Control::new(),
        remember,
        next,
        owner: Owner::current().unwrap_or_default(),
    };
    let control = part.control;
    Effect::new({
        let part = part.clone();
        move |_| passkeys::sign_in(part.clone(), Start::Offer)
    });
    on_cleanup(passkeys::cancel);
    let ask = move |_| passkeys::sign_in(part.clone(), Start::Button);
    view! {
        <div class="passkey-sign-in" data-testid="passkey-sign-in">
            <button type="button" class="secondary" on:click=ask
                disabled=move || control.disabled()
                data-testid="passkey-button">
                "Sign in with a passkey"
            </button>
            <ControlMessages control testids=("passkey-hint", "passkey-error")
                needs_script="Signing in with a passkey needs JavaScript."
                unable="This browser cannot sign in with a passkey."/>
        </div>
    }
}
