use super::{Moment, SignOutButton, SignedInOnly};
use crate::auth::CurrentUser;
use leptos::prelude::*;

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! { <SignedInOnly path="/dashboard" page=|user| view! { <Dashboard user/> }/> }
}

/// The session as the server read it. Its times are islands: the reader's
/// local ones. Another tab's sign-out or sign-in as someone else brings this
/// one along (`tabs`).
#[component]
fn Dashboard(user: CurrentUser) -> impl IntoView {
    view! {
        <h1>"Welcome, " <span data-testid="username">{user.username}</span></h1>
        <dl class="session">
            <dt>"Session began"</dt>
            <dd><Moment at=user.signed_in_at testid="signed-in-at"/></dd>
            <dt>"Ends if idle"</dt>
            <dd><Moment at=user.idle_expires_at testid="idle-expires-at"/></dd>
            <dt>"Ends at the latest"</dt>
            <dd><Moment at=user.absolute_expires_at/></dd>
            <dt>"Keep me signed in"</dt>
            <dd data-testid="remembered">
                {if user.remembered { "yes" } else { "no: ends when the browser closes" }}
            </dd>
        </dl>
        <SignOutButton/>
    }
}
