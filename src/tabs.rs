//! Every open tab of a browser in step with its session (browser only).
//!
//! A tab checks who is signed in (`/api/me`) when:
//! - another tab of this browser signs in or out, ends a session or changes
//!   the password (a `BroadcastChannel` message, sent after each such action);
//! - it becomes visible again or its window regains focus: a session ended
//!   from another device shows as soon as the user looks at the tab;
//! - and, as a backstop, every `BACKSTOP` while it is visible.
//!
//! When the signed-in user changed, the tab re-reads it; when the session is
//! gone and the tab shows a protected page, it goes to the sign-in page with
//! "Your session has ended". Nothing is checked more often than that: an idle
//! visible tab costs one small request every 30 seconds, a hidden one none.
//!
//! Telling the other tabs is part of the first load. Listening is a wasm
//! chunk of its own (`#[lazy]`), fetched once the page is interactive; a
//! message that comes before it is noted, and checked when it arrives.

use crate::{
    auth::{get_current_user, CurrentUser},
    routes::{PROTECTED_PAGES, SESSION_ENDED_PAGE},
    session_ui::{use_auth, Auth},
};
use leptos::{ev, prelude::*, task::spawn_local};
use leptos_router::hooks::{use_location, use_navigate};
use std::{
    cell::{Cell, RefCell},
    time::Duration,
};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{BroadcastChannel, VisibilityState};

/// The channel every tab of this site in this browser listens on.
const CHANNEL: &str = "persistent-login";

/// How often a visible tab checks without being told to.
const BACKSTOP: Duration = Duration::from_secs(30);

thread_local! {
    /// This tab's end of the channel (a tab does not hear its own messages).
    static CHANNEL_END: Option<BroadcastChannel> = BroadcastChannel::new(CHANNEL).ok();

    /// Where in the app the tab is kept in step (under the router and the
    /// `Auth` context), from hydration until `start`.
    static PENDING: RefCell<Option<Owner>> = const { RefCell::new(None) };

    /// Whether another tab spoke before this one listened.
    static MISSED: Cell<bool> = const { Cell::new(false) };
}

/// Tells this browser's other tabs that the session changed.
pub fn announce() {
    CHANNEL_END.with(|channel| {
        if let Some(channel) = channel {
            let _ = channel.post_message(&JsValue::from_str("session changed"));
        }
    });
}

fn is_visible() -> bool {
    document().visibility_state() == VisibilityState::Visible
}

/// Keeps this tab in step; called while the app hydrates, under the router
/// and the `Auth` context. Tells the other tabs from now on; listens once the
/// page is interactive (see `start`), noting any message until then.
pub fn keep_in_step(auth: Auth) {
    // After this tab signs in or out, tell the others (the account page's
    // actions tell them through `Auth::session_changed`).
    Effect::new(move |previous: Option<()>| {
        auth.login.version().track();
        auth.logout.version().track();
        if previous.is_some() {
            announce();
        }
    });
    on_message(|| MISSED.set(true));
    PENDING.set(Owner::current());
}

/// Runs `then` for each message from another tab (instead of what ran before).
fn on_message(then: impl Fn() + 'static) {
    CHANNEL_END.with(|channel| {
        if let Some(channel) = channel {
            let then = Closure::<dyn Fn()>::new(then);
            channel.set_onmessage(Some(then.as_ref().unchecked_ref()));
            then.forget();
        }
    });
}

/// Called once the page is interactive (see `crate::hydrate`): fetches the
/// listeners' chunk and sets them up.
pub fn start() {
    if let Some(owner) = PENDING.take() {
        spawn_local(async move { listen(owner).await });
    }
}

#[lazy]
fn listen(owner: Owner) {
    owner.with(add_listeners);
}

fn add_listeners() {
    let auth = use_auth();
    let navigate = use_navigate();
    let pathname = use_location().pathname;
    let check = move || {
        let navigate = navigate.clone();
        spawn_local(async move {
            // Offline or a server error: nothing is known, nothing changes.
            let Ok(now) = get_current_user().await else {
                return;
            };
            let before = auth.user.get_untracked().and_then(Result::ok).flatten();
            let who = |user: &Option<CurrentUser>| user.as_ref().map(|user| user.username.clone());
            if who(&before) == who(&now) {
                return;
            }
            let on_protected_page = PROTECTED_PAGES.contains(&pathname.get_untracked().as_str());
            if before.is_some() && now.is_none() && on_protected_page {
                navigate(SESSION_ENDED_PAGE, Default::default());
            }
            auth.user.refetch();
        });
    };

    on_message({
        let check = check.clone();
        move || check()
    });
    if MISSED.take() {
        check();
    }

    let _ = window_event_listener(ev::focus, {
        let check = check.clone();
        move |_| check()
    });
    let on_visibility = Closure::<dyn Fn()>::new({
        let check = check.clone();
        move || {
            if is_visible() {
                check()
            }
        }
    });
    let _ = document().add_event_listener_with_callback(
        "visibilitychange",
        on_visibility.as_ref().unchecked_ref(),
    );
    on_visibility.forget();
    let _ = set_interval_with_handle(
        move || {
            if is_visible() {
                check()
            }
        },
        BACKSTOP,
    );
}
