//! Where the user is signed in (end any one of those sessions, or all but
//! this one), and the sessions the server ended to make room.

use crate::{
    address::query_value,
    auth::{AppError, EndedSessions, RevokeSession, SessionInfo},
    pages::{post_form, unreadable, Moment, SignOutButton},
};
use leptos::prelude::*;

pub(super) fn sessions(sessions: Result<Vec<SessionInfo>, AppError>) -> impl IntoView {
    let list = sessions.map(|sessions| {
        let others = sessions.iter().any(|session| !session.current);
        view! {
            <ul class="sessions" data-testid="sessions">
                {sessions.into_iter().map(session_item).collect_view()}
            </ul>
            {others.then(|| post_form::<RevokeSession>(view! {
                <input type="hidden" name="others" value="on"/>
                <button type="submit" class="secondary" data-testid="sign-out-others">"Sign out everywhere else"</button>
            }))}
        }
        .into_any()
    });
    view! {
        <section aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"Where you are signed in"</h2>
            {signed_out_notice()}
            {list.unwrap_or_else(unreadable)}
        </section>
    }
}

/// What the session list's last action did, from the page's address.
fn signed_out_notice() -> Option<impl IntoView> {
    let text = match query_value("signed_out")?.as_str() {
        "others" => "Every other session is signed out.",
        _ => "That session is signed out.",
    };
    Some(view! { <p class="notice" role="status" data-testid="sessions-signed-out">{text}</p> })
}

fn session_item(session: SessionInfo) -> impl IntoView {
    let end = if session.current {
        view! { <SignOutButton/> }.into_any()
    } else {
        let label = format!("Sign out {} ({})", session.device, session.client);
        post_form::<RevokeSession>(view! {
            <input type="hidden" name="session" value=session.handle/>
            <button type="submit" class="secondary" aria-label=label>"Sign out"</button>
        })
        .into_any()
    };
    view! {
        <li class="session" data-testid="session" data-current=session.current.to_string()>
            <p class="device">
                <strong>{session.device}</strong>
                {session.current.then(|| view! { " " <span class="badge" data-testid="this-device">"This device"</span> })}
            </p>
            <dl>
                <dt>"From"</dt>
                <dd>{session.client}</dd>
                <dt>"Signed in"</dt>
                <dd><Moment at=session.signed_in_at/></dd>
                <dt>"Last active"</dt>
                <dd><Moment at=session.last_active_at/></dd>
                <dt>"Ends if idle"</dt>
                <dd><Moment at=session.idle_expires_at/></dd>
                // The cap matters to a session that outlasts its browser;
                // one that ends with it shows that end instead.
                {session.remembered.then(|| view! {
                    <dt>"Ends at the latest"</dt>
                    <dd><Moment at=session.absolute_expires_at/></dd>
                })}
                <dt>"Keep me signed in"</dt>
                <dd data-testid="session-remembered">
                    {if session.remembered { "yes" } else { "no: ends when its browser closes" }}
                </dd>
            </dl>
            {end}
        </li>
    }
}

/// The sessions the server ended to make room for a sign-in past the limit
/// per user, and why; nothing when there are none.
pub(super) fn ended_to_make_room(ended: Result<EndedSessions, AppError>) -> impl IntoView {
    let EndedSessions {
        max_per_user,
        sessions,
    } = match ended {
        Ok(ended) => ended,
        Err(error) => return unreadable(error),
    };
    if sessions.is_empty() {
        return ().into_any();
    }
    view! {
        <section aria-labelledby="ended-heading" data-testid="ended-sessions">
            <h2 id="ended-heading">"Signed out to make room"</h2>
            <p>
                {format!("An account stays signed in on at most {max_per_user} devices at once. ")}
                "Signing in on another device ended these sessions, the least recently active first. "
                "If that sign-in was not you, change your password."
            </p>
            <ul class="sessions">
                {sessions.into_iter().map(|session| view! {
                    <li class="session" data-testid="ended-session">
                        <p class="device"><strong>{session.device}</strong></p>
                        <dl>
                            <dt>"From"</dt>
                            <dd>{session.client}</dd>
                            <dt>"Last active"</dt>
                            <dd><Moment at=session.last_active_at/></dd>
                            <dt>"Ended"</dt>
                            <dd><Moment at=session.ended_at/></dd>
                        </dl>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}
