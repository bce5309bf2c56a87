use super::{form::post_form, Moment, SignOutButton, SignedInOnly};
use crate::{
    address::query_value,
    auth::{CurrentUser, KeepSignedIn},
    routes::DASHBOARD_PAGE,
};
use leptos::prelude::*;

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! { <SignedInOnly path=DASHBOARD_PAGE page=|user| view! { <Dashboard user/> }/> }
}

/// The session as the server read it. Its times are islands: the reader's
/// local ones. Another tab's sign-out or sign-in as someone else brings this
/// one along (`tabs`).
#[component]
fn Dashboard(user: CurrentUser) -> impl IntoView {
    let kept = (user.remembered && query_value("kept").is_some()).then(|| {
        view! {
            <p class="notice" role="status" data-testid="kept">
                "You'll stay signed in on this browser, even after it closes."
            </p>
        }
    });
    let check_inbox = query_value("check_inbox").is_some().then(|| {
        view! {
            <p class="notice" role="status" data-testid="check-inbox">
                "Check your inbox: a link to verify your email address is on its way."
            </p>
        }
    });
    view! {
        <h1>"Welcome, " <span data-testid="username">{user.username}</span></h1>
        {kept}
        {check_inbox}
        <dl class="session">
            <dt>"Session began"</dt>
            <dd><Moment at=user.signed_in_at testid="signed-in-at"/></dd>
            <dt>"Ends if idle"</dt>
            <dd><Moment at=user.idle_expires_at testid="idle-expires-at"/></dd>
            // The cap matters to a session that outlasts the browser; one
            // that ends with it shows that end instead.
            {user.remembered.then(|| view! {
                <dt>"Ends at the latest"</dt>
                <dd><Moment at=user.absolute_expires_at testid="absolute-expires-at"/></dd>
            })}
            <dt>"Keep me signed in"</dt>
            <dd data-testid="remembered">
                {if user.remembered { "yes" } else { "no: ends when the browser closes" }}
            </dd>
        </dl>
        {(!user.remembered).then(keep_signed_in_form)}
        <SignOutButton/>
    }
}

/// "Keep me signed in", asked after the sign-in: a passkey picked from the
/// sign-in page's autofill signs in before the box can be ticked.
fn keep_signed_in_form() -> impl IntoView {
    post_form::<KeepSignedIn>(view! {
        <p>"On your own device? Stay signed in after the browser closes."</p>
        <button type="submit" class="secondary" data-testid="keep-signed-in">
            "Keep me signed in on this browser"
        </button>
    })
}
