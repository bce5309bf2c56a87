//! `/account`: where the user is signed in (end any one of those sessions, or
//! all but this one) and the password change. Every form is a plain POST that
//! works without JavaScript; with it, the lists update in place.

use super::{error_message, Moment, SignedInOnly};
use crate::{
    app::{use_auth, SignOutButton},
    auth::{list_sessions, AppError, ChangePassword, RevokeSession, SessionInfo},
};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The page's two actions. They live here, not in the shared `Auth`, so that
/// their code loads with this page; each reports what it did to the session.
#[derive(Clone, Copy)]
struct AccountActions {
    revoke: ServerAction<RevokeSession>,
    change_password: ServerAction<ChangePassword>,
}

fn use_account_actions() -> AccountActions {
    expect_context::<AccountActions>()
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let auth = use_auth();
    let actions = AccountActions {
        revoke: ServerAction::new(),
        change_password: ServerAction::new(),
    };
    provide_context(actions);
    // After each completed action: the session list and the user are re-read
    // and the other tabs told; a session found gone leads to sign-in.
    Effect::new(move |previous: Option<()>| {
        actions.revoke.version().track();
        actions.change_password.version().track();
        if previous.is_none() {
            return;
        }
        let ended = |result: Option<Result<(), AppError>>| {
            matches!(result, Some(Err(AppError::SessionEnded)))
        };
        if ended(actions.revoke.value().get_untracked())
            || ended(actions.change_password.value().get_untracked())
        {
            auth.session_ended();
        } else {
            auth.session_changed();
        }
    });
    view! {
        <SignedInOnly path="/account" page=|user| view! {
            <h1>"Your account"</h1>
            <p>"Signed in as " <strong data-testid="username">{user.username.clone()}</strong></p>
            <Sessions/>
            <PasswordChange username=user.username/>
        }/>
    }
}

/// The user's sessions, re-read after each revocation or password change.
#[component]
fn Sessions() -> impl IntoView {
    let actions = use_account_actions();
    let sessions = Resource::new(
        move || {
            (
                actions.revoke.version().get(),
                actions.change_password.version().get(),
            )
        },
        |_| list_sessions(),
    );
    view! {
        <section aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"Where you are signed in"</h2>
            <Transition fallback=|| view! { <p>"Loading your sessions…"</p> }>
                {move || Suspend::new(async move {
                    let sessions = sessions.await.unwrap_or_default();
                    let others = sessions.iter().filter(|session| !session.current).count();
                    view! {
                        <ul class="sessions" data-testid="sessions">
                            {sessions.into_iter().map(|session| view! { <SessionItem session/> }).collect_view()}
                        </ul>
                        <Show when=move || { others > 0 }>
                            <ActionForm action=actions.revoke>
                                <input type="hidden" name="others" value="on"/>
                                <button type="submit" class="secondary" data-testid="sign-out-others">"Sign out everywhere else"</button>
                            </ActionForm>
                        </Show>
                    }
                })}
            </Transition>
            {error_message::<RevokeSession>(move || actions.revoke.value().get())}
        </section>
    }
}

#[component]
fn SessionItem(session: SessionInfo) -> impl IntoView {
    let actions = use_account_actions();
    let end = if session.current {
        view! { <SignOutButton/> }.into_any()
    } else {
        let label = format!("Sign out {} ({})", session.device, session.client);
        view! {
            <ActionForm action=actions.revoke>
                <input type="hidden" name="session" value=session.handle.clone()/>
                <button type="submit" class="secondary" aria-label=label>"Sign out"</button>
            </ActionForm>
        }
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
                <dt>"Ends at the latest"</dt>
                <dd><Moment at=session.absolute_expires_at/></dd>
                <dt>"Keep me signed in"</dt>
                <dd>{if session.remembered { "yes" } else { "no" }}</dd>
            </dl>
            {end}
        </li>
    }
}

#[component]
fn PasswordChange(username: String) -> impl IntoView {
    let actions = use_account_actions();
    let query = use_query_map();
    let changed = move || {
        matches!(actions.change_password.value().get(), Some(Ok(())))
            || (actions.change_password.value().get().is_none()
                && query.read().get("password_changed").is_some())
    };
    view! {
        <section aria-labelledby="password-heading">
            <h2 id="password-heading">"Change password"</h2>
            <Show when=changed>
                <p class="notice" role="status" data-testid="password-changed">
                    "Password changed. Every other session has been signed out."
                </p>
            </Show>
            <ActionForm action=actions.change_password>
                // For password managers: whose password this is.
                <input type="text" name="username" autocomplete="username" value=username hidden/>
                <label>
                    "Current password"
                    <input type="password" name="current_password" autocomplete="current-password" required maxlength="256"/>
                </label>
                <label>
                    "New password"
                    <input type="password" name="new_password" autocomplete="new-password" required maxlength="256"/>
                </label>
                <label>
                    "Confirm new password"
                    <input type="password" name="confirm_password" autocomplete="new-password" required maxlength="256"/>
                </label>
                <button type="submit">"Change password"</button>
            </ActionForm>
            {error_message::<ChangePassword>(move || actions.change_password.value().get())}
        </section>
    }
}
