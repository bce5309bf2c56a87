//! `/password/forgot`: a username or an email address, and a link to choose
//! a new password mailed to the account's verified address (#24). The page
//! says the same whoever was named.

use super::error_message;
use crate::{
    address::query_value,
    auth::{ForgotPassword, EMAIL_MAX_CHARS},
    routes::SIGN_IN_PAGE,
};
use leptos::prelude::*;

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    view! { <ForgotPasswordForm/> }
}

#[island]
fn ForgotPasswordForm() -> impl IntoView {
    let forgot = ServerAction::<ForgotPassword>::new();
    let sent_before = query_value("sent").is_some();
    let sent = move || match forgot.value().get() {
        Some(result) => result.is_ok(),
        None => sent_before,
    };
    let signed_out = query_value("signed_out").is_some();
    view! {
        <h1>"Forgot your password?"</h1>
        <Show when=move || signed_out>
            <p class="notice" role="status" data-testid="signed-out-everywhere">
                "Every device is signed out of the account. Now ask for a link to choose a new "
                "password: it is sent to the account's email address."
            </p>
        </Show>
        <Show
            when=sent
            fallback=move || view! {
                <p>
                    "Enter your username or your account's email address. If the account has a "
                    "verified email address, a link to choose a new password is sent there."
                </p>
                <ActionForm action=forgot>
                    <label>
                        "Username or email address"
                        <input type="text" name="login" autocomplete="username" required maxlength=EMAIL_MAX_CHARS/>
                    </label>
                    <button type="submit">"Send me a link"</button>
                </ActionForm>
            }
        >
            <p class="notice" role="status" data-testid="reset-requested">
                "If that account has a verified email address, a link to choose a new password "
                "is on its way. It works once, for a short time. Nothing arrived? Check the "
                "spelling and your spam folder, then ask again."
            </p>
        </Show>
        {error_message::<ForgotPassword>(move || forgot.value().get())}
        <p><a href=SIGN_IN_PAGE>"Back to sign-in"</a></p>
    }
}
