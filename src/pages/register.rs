use super::error_message;
use crate::{app::use_auth, auth::Register};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn RegisterPage() -> impl IntoView {
    let auth = use_auth();
    view! {
        <h1>"Create an account"</h1>
        <ActionForm action=auth.register>
            <label>
                "Username"
                <input type="text" name="username" autocomplete="username" required maxlength="64"/>
            </label>
            <label>
                "Password (at least 8 characters)"
                <input type="password" name="password" autocomplete="new-password" required maxlength="256"/>
            </label>
            <button type="submit">"Create account"</button>
        </ActionForm>
        {error_message::<Register>(move || auth.register.value().get())}
        <p>"Already registered? " <A href="/login">"Sign in"</A></p>
    }
}
