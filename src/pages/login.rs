use super::error_message;
use crate::{
    auth::{passkey_sign_in, Login},
    passkeys::{self, Failure},
    routes::FORGOT_PASSWORD_PAGE,
    session_ui::{use_auth, use_form_limits},
};
use leptos::{html, prelude::*, task::spawn_local};
use leptos_router::hooks::{use_navigate, use_query_map};

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
/// which the page says until it is interactive. "Keep me signed in" is read
/// when the passkey is chosen.
#[component]
fn PasskeySignIn(remember: NodeRef<html::Input>, next: Signal<String>) -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    // `None` until the page is interactive; then whether the browser can.
    let usable = RwSignal::new(None::<bool>);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let finish = move |asked: Result<String, Failure>| {
        let navigate = navigate.clone();
        async move {
            let credential = match asked {
                Ok(credential) => credential,
                Err(failure) => return error.set(failure.message()),
            };
            let remember = remember
                .get_untracked()
                .is_some_and(|field| field.checked())
                .then(|| "on".to_string());
            match passkey_sign_in(credential, remember, Some(next.get_untracked())).await {
                Ok(page) => {
                    auth.session_changed();
                    navigate(&page, Default::default());
                }
                Err(refused) => error.set(Some(refused.to_string())),
            }
        }
    };
    Effect::new({
        let finish = finish.clone();
        move |_| {
            let supported = passkeys::supported();
            usable.set(Some(supported));
            let finish = finish.clone();
            spawn_local(async move {
                if supported && passkeys::autofill_available().await {
                    // Until the user picks a passkey nothing was asked of
                    // them, so a failure to offer one (this address is not
                    // the passkeys' site, the button took over) is not told.
                    if let Ok(credential) = passkeys::request(true).await {
                        finish(Ok(credential)).await;
                    }
                }
            });
        }
    });
    on_cleanup(passkeys::cancel);
    let ask = move |_| {
        let finish = finish.clone();
        error.set(None);
        busy.set(true);
        spawn_local(async move {
            finish(passkeys::request(false).await).await;
            busy.set(false);
        });
    };
    view! {
        <div class="passkey-sign-in" data-testid="passkey-sign-in">
            <button type="button" class="secondary" on:click=ask
                disabled=move || usable.get() != Some(true) || busy.get()
                data-testid="passkey-button">
                "Sign in with a passkey"
            </button>
            {move || {
                let hint = match usable.get() {
                    None => Some("Signing in with a passkey needs JavaScript."),
                    Some(false) => Some("This browser cannot sign in with a passkey."),
                    Some(true) => None,
                };
                hint.map(|hint| view! { <p class="hint" data-testid="passkey-hint">{hint}</p> })
            }}
            {move || error.get().map(|message| view! {
                <p class="error" role="alert" data-testid="passkey-error">{message}</p>
            })}
        </div>
    }
}
