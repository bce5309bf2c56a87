//! `/account/activity`: the signed-in user's own security activity, newest
//! first, a page at a time (`?before=` the last id shown, a plain link), and
//! "This wasn't me" (a plain form), which ends every other session and every
//! token and leads to the password change. Rendered on the server; its
//! times are islands.

use super::{post_form, unreadable, Moment, SignedInOnly};
use crate::{
    address::query_value,
    auth::{list_activity, ActivityEvent, ActivityPage, NotMe},
    routes::{ACCOUNT_PAGE, ACTIVITY_PAGE},
};
use leptos::prelude::*;

#[component]
pub fn ActivityPage() -> impl IntoView {
    view! {
        <SignedInOnly path=ACTIVITY_PAGE page=|_| view! {
            <Suspense fallback=|| ()>{Suspend::new(activity())}</Suspense>
        }/>
    }
}

/// The page, once the server has read the events asked for.
async fn activity() -> impl IntoView {
    let before = query_value("before").and_then(|text| text.parse::<i64>().ok());
    let page = list_activity(before).await.map(|page| {
        let ActivityPage { events, older, retention_days } = page;
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
        .into_any()
    });
    view! {
        <h1>"Security activity"</h1>
        <p><a href=ACCOUNT_PAGE>"Back to your account"</a></p>
        {page.unwrap_or_else(unreadable)}
        <section aria-labelledby="not-me-heading">
            <h2 id="not-me-heading">"Something here wasn't you?"</h2>
            <p>
                "This signs you out everywhere but here, revokes every API token, removes every "
                "passkey (an intruder may have added one: add yours again afterwards) and forgets "
                "every other browser, so their next sign-in is reported; then change your password."
            </p>
            {post_form::<NotMe>(view! {
                <button type="submit" class="danger" data-testid="not-me">"This wasn't me"</button>
            })}
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
