//! `/account/activity`: the signed-in user's own security activity (#23),
//! newest first, a page at a time (`?before=` the last id shown, a plain link
//! that works without JavaScript), and "This wasn't me", which ends every
//! other session and every token and leads to the password change.

use super::{confirm_if_asked, error_message, Moment, SignedInOnly};
use crate::{
    address::{go_to, query_value},
    auth::{list_activity, ActivityEvent, ActivityPage, NotMe},
    routes::{ACCOUNT_PAGE, ACTIVITY_PAGE, AFTER_NOT_ME_PAGE, CONFIRM_FOR_ACTIVITY_PAGE},
    session_ui::session_ended,
};
use leptos::prelude::*;

#[component]
pub fn ActivityPage() -> impl IntoView {
    view! {
        <SignedInOnly path=ACTIVITY_PAGE page=|_| view! { <Activity/> }/>
    }
}

#[island]
fn Activity() -> impl IntoView {
    let before = query_value("before").and_then(|text| text.parse::<i64>().ok());
    let page = Resource::new(move || before, list_activity);
    let not_me = ServerAction::<NotMe>::new();
    Effect::new(move |_| match not_me.value().get() {
        Some(Ok(())) => go_to(AFTER_NOT_ME_PAGE),
        Some(Err(error)) if error.sign_in_again_page().is_some() => session_ended(),
        result => confirm_if_asked(result, CONFIRM_FOR_ACTIVITY_PAGE),
    });
    view! {
        <h1>"Security activity"</h1>
        <p><a href=ACCOUNT_PAGE>"Back to your account"</a></p>
        <Transition fallback=|| view! { <p>"Loading your activity…"</p> }>
            {move || Suspend::new(async move {
                let ActivityPage { events, older, retention_days } = page.await.unwrap_or_default();
                view! {
                    <p>{format!("What happened on your account in the last {retention_days} days, newest first.")}</p>
                    {if events.is_empty() {
                        view! { <p data-testid="no-activity">"Nothing yet."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="sessions" data-testid="activity">
                                {events.into_iter().map(|event| view! { <EventItem event/> }).collect_view()}
                            </ul>
                        }
                        .into_any()
                    }}
                    {older.map(|older| view! {
                        <p><a href=format!("{ACTIVITY_PAGE}?before={older}") data-testid="older">"Older events"</a></p>
                    })}
                }
            })}
        </Transition>
        <section aria-labelledby="not-me-heading">
            <h2 id="not-me-heading">"Something here wasn't you?"</h2>
            <p>
                "This signs you out everywhere but here, revokes every API token, removes every "
                "passkey (an intruder may have added one: add yours again afterwards) and forgets "
                "every other browser, so their next sign-in is reported; then change your password."
            </p>
            <ActionForm action=not_me>
                <button type="submit" class="danger" data-testid="not-me">"This wasn't me"</button>
            </ActionForm>
            {error_message::<NotMe>(move || not_me.value().get())}
        </section>
    }
}

#[component]
fn EventItem(event: ActivityEvent) -> impl IntoView {
    view! {
        <li class="session" data-testid="event" data-kind=event.kind.wire_name()>
            <p class="device">
                <strong>{event.kind.describe()}</strong>
                {event.detail.map(|detail| view! { ": " <q data-testid="event-detail">{detail}</q> })}
                {event.this_device.then(|| view! { " " <span class="badge" data-testid="this-device">"This device"</span> })}
            </p>
            <dl>
                <dt>"When"</dt>
                <dd><Moment at=event.at/></dd>
                <dt>"Device"</dt>
                <dd>{event.device}</dd>
                <dt>"From"</dt>
                <dd>{event.client}</dd>
            </dl>
        </li>
    }
}
