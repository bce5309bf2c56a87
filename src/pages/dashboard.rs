use super::Moment;
use crate::app::{use_auth, SignOutButton};
use leptos::prelude::*;
use leptos_router::components::Redirect;

/// Protected: the server redirects anonymous requests before rendering; on the
/// client, signing out (or the session ending) leads back to the login page.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match auth.viewer().await {
                    Some(user) => view! {
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
                        .into_any(),
                    None => view! { <Redirect path="/login?next=/dashboard"/> }.into_any(),
                }
            })}
        </Transition>
    }
}
