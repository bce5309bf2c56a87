use super::error_message;
use crate::auth::Register;
use leptos::prelude::*;

#[component]
pub fn RegisterPage() -> impl IntoView {
    // Here, not in the shared `Auth`: its code loads with this page.
    let register = ServerAction::<Register>::new();
    view! {
        <h1>"Create an account"</h1>
        <ActionForm action=register>
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
        {error_message::<Register>(move || register.value().get())}
        <p>"Already registered? " <a href="/login">"Sign in"</a></p>
    }
}
