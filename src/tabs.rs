//! Every open tab of a browser in step with its session.
//!
//! Every page carries this island with the user it was rendered for. When a
//! page comes alive, it tells this browser's other tabs whom it shows (a
//! `BroadcastChannel` message, and the same mark in `localStorage` for a tab
//! whose code was still loading): signing in or out, or any other action that
//! ends in a page load, reaches every tab at once. The mark is a digest, not
//! the username. A tab that shows someone else checks who is signed in
//! (`/api/me`), as it does when:
//! - it becomes visible again or its window regains focus: a session ended
//!   from another device shows as soon as the user looks at the tab;
//! - and, as a backstop, every `BACKSTOP` while it is visible.
//!
//! When the signed-in user is not the one the tab shows, the tab loads its
//! page again, rendered for who is signed in now; when the session is gone and
//! the tab shows a protected page, it goes to the sign-in page with "Your
//! session has ended". Nothing is checked more often than that: an idle
//! visible tab costs one small request every 30 seconds, a hidden one none.

use leptos::prelude::*;

/// Keeps this tab in step with the session; `shown` is the username the page
/// was rendered for (`None`: signed out).
#[island]
pub fn TabsInStep(shown: Option<String>) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    browser::keep_in_step(shown);
    #[cfg(not(feature = "hydrate"))]
    let _ = shown;
}

#[cfg(feature = "hydrate")]
mod browser {
    use crate::{
        address::{go_to, reload},
        auth::get_current_user,
        routes::{PROTECTED_PAGES, SESSION_ENDED_PAGE},
    };
    use leptos::{ev, prelude::*, task::spawn_local};
    use std::time::Duration;
    use wasm_bindgen::{closure::Closure, JsCast, JsValue};
    use web_sys::{BroadcastChannel, MessageEvent, VisibilityState};

    /// The channel every tab of this site in this browser listens on.
    const CHANNEL: &str = "persistent-login";

    /// How often a visible tab checks without being told to.
    const BACKSTOP: Duration = Duration::from_secs(30);

    /// Where the mark of the last page to come alive is kept.
    const SHOWN_KEY: &str = "persistent-login:shown";

    thread_local! {
        /// This tab's end of the channel (a tab does not hear its own messages).
        static CHANNEL_END: Option<BroadcastChannel> = BroadcastChannel::new(CHANNEL).ok();
    }

    /// Whom a page shows, as the tabs tell each other: a digest of the
    /// username (FNV-1a), "" for nobody.
    fn mark(shown: Option<&str>) -> String {
        shown.map_or_else(String::new, |name| {
            let digest = name.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
                (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
            });
            format!("{digest:08x}")
        })
    }

    /// What a page load tells the other tabs: the mark of whom it shows.
    fn announce(mark: &str) {
        let message = format!("shows:{mark}");
        CHANNEL_END.with(|channel| {
            if let Some(channel) = channel {
                let _ = channel.post_message(&JsValue::from_str(&message));
            }
        });
    }

    fn is_visible() -> bool {
        document().visibility_state() == VisibilityState::Visible
    }

    pub fn keep_in_step(shown: Option<String>) {
        let mine = mark(shown.as_deref());
        let check = {
            let shown = shown.clone();
            move || {
                let shown = shown.clone();
                spawn_local(async move {
                    // Offline or a server error: nothing is known, nothing changes.
                    let Ok(now) = get_current_user().await else {
                        return;
                    };
                    let now = now.map(|user| user.username);
                    if now == shown {
                        return;
                    }
                    let path = window().location().pathname().unwrap_or_default();
                    if shown.is_some() && now.is_none() && PROTECTED_PAGES.contains(&path.as_str())
                    {
                        go_to(SESSION_ENDED_PAGE);
                    } else {
                        reload();
                    }
                });
            }
        };

        let on_message = Closure::<dyn Fn(MessageEvent)>::new({
            let check = check.clone();
            let mine = mine.clone();
            move |message: MessageEvent| {
                let said = message.data().as_string().unwrap_or_default();
                if said.strip_prefix("shows:") != Some(mine.as_str()) {
                    check();
                }
            }
        });
        CHANNEL_END.with(|channel| {
            if let Some(channel) = channel {
                channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            }
        });
        on_message.forget();
        // Listening from here on; what was said before is in the mark.
        if let Ok(Some(storage)) = window().local_storage() {
            let before = storage.get_item(SHOWN_KEY).ok().flatten();
            let _ = storage.set_item(SHOWN_KEY, &mine);
            if before.is_some_and(|before| before != mine) {
                check();
            }
        }
        announce(&mine);

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
}
