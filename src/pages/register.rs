use super::error_message;
use crate::{
    auth::{Register, EMAIL_MAX_CHARS},
    session_ui::{use_auth, use_form_limits},
};
use leptos::prelude::*;

#[component]
pub fn RegisterPage() -> impl IntoView {
    // Here, not in the shared `Auth`: its code loads with this page.
    let register = ServerAction::<Register>::new();
    let auth = use_auth();
    // Signed in now (the server sends the page on to the dashboard).
    Effect::new(move |_| {
        if matches!(register.value().get(), Some(Ok(()))) {
            auth.session_changed();
        }
    });
    let limits = use_form_limits();
    view! {
        <h1>"Create an account"</h1>
        <ActionForm action=register>
            <label>
                "Username"
                <input type="text" name="username" autocomplete="username" required maxlength=limits.username_max_chars/>
            </label>
            <label>
                {format!("Password (at least {} characters)", limits.password_min_chars)}
                <input type="password" name="password" autocomplete="new-password" required maxlength=limits.password_max_chars/>
            </label>
            <label>
                "Email address (optional, to recover the account)"
                <input type="email" name="email" autocomplete="email" maxlength=EMAIL_MAX_CHARS/>
            </label>
            <label class="remember">
                <input type="checkbox" name="remember" value="on"/>
                "Keep me signed in"
            </label>
            <button type="submit">"Create account"</button>
        </ActionForm>
        {error_message::<Register>(move || register.value().get())}
        <p>"Already registered? " <a href="/login">"Sign in"</a></p>
    }
}
