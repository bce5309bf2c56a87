//! `/register`: the sign-up form. Signed up, the server sends the browser on
//! to the dashboard. Rendered on the server.

use super::{keep_me_signed_in, new_password_label, post_form};
use crate::{
    auth::{Register, EMAIL_MAX_CHARS},
    session_ui::form_limits,
};
use leptos::prelude::*;

#[component]
pub fn RegisterPage() -> impl IntoView {
    let limits = form_limits();
    view! {
        <h1>"Create an account"</h1>
        {post_form::<Register>(view! {
            <label>
                "Username"
                <input type="text" name="username" autocomplete="username" required maxlength=limits.username_max_chars/>
            </label>
            <label>
                {new_password_label("Password", limits)}
                <input type="password" name="password" autocomplete="new-password" required maxlength=limits.password_max_chars/>
            </label>
            <label>
                "Email address (optional, to recover the account)"
                <input type="email" name="email" autocomplete="email" maxlength=EMAIL_MAX_CHARS/>
            </label>
            {keep_me_signed_in()}
            <button type="submit">"Create account"</button>
        })}
        <p>"Already registered? " <a href="/login">"Sign in"</a></p>
    }
}
