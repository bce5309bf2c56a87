//! `/password/forgot`: a username or an email address, and a link to choose
//! a new password mailed to the account's verified address. The page says
//! the same whoever was named. Rendered on the server.

use super::post_form;
use crate::{
    address::query_value,
    auth::{ForgotPassword, EMAIL_MAX_CHARS},
    routes::SIGN_IN_PAGE,
};
use leptos::prelude::*;

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let signed_out = query_value("signed_out").is_some().then(|| {
        view! {
            <p class="notice" role="status" data-testid="signed-out-everywhere">
                "Every device is signed out of the account. Now ask for a link to choose a new "
                "password: it is sent to the account's email address."
            </p>
        }
    });
    let form = if query_value("sent").is_some() {
        view! {
            <p class="notice" role="status" data-testid="reset-requested">
                "If that account has a verified email address, a link to choose a new password "
                "is on its way. It works once, for a short time. Nothing arrived? Check the "
                "spelling and your spam folder, then ask again."
            </p>
        }
        .into_any()
    } else {
        view! {
            <p>
                "Enter your username or your account's email address. If the account has a "
                "verified email address, a link to choose a new password is sent there."
            </p>
            {post_form::<ForgotPassword>(view! {
                <label>
                    "Username or email address"
                    <input type="text" name="login" autocomplete="username" required maxlength=EMAIL_MAX_CHARS/>
                </label>
                <button type="submit">"Send me a link"</button>
            })}
        }
        .into_any()
    };
    view! {
        <h1>"Forgot your password?"</h1>
        {signed_out}
        {form}
        <p><a href=SIGN_IN_PAGE>"Back to sign-in"</a></p>
    }
}
