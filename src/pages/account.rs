//! `/account`: where the user is signed in (end any one of those sessions, or
//! all but this one) and the password change. Every form is a plain POST that
//! works without JavaScript; with it, the lists update in place.

use super::{confirm_if_asked, error_message, Moment, SignedInOnly};
use crate::{
    address::{go_to, query_value},
    auth::{
        count_tokens, get_current_user, get_email_status, list_ended_sessions, list_sessions,
        AppError, ChangePassword, CreateToken, CurrentUser, DeleteAccount, EndConfirmation,
        EndedSessions, FormLimits, ResendEmail, RevokeSession, RevokeTokens, SessionInfo,
        SetAlerts, SetEmail, TokenAnswer, TokenLifetime, EMAIL_MAX_CHARS,
    },
    routes::{ACCOUNT_DELETED_PAGE, ACTIVITY_PAGE, CONFIRM_FOR_ACCOUNT_PAGE},
    session_ui::{form_limits, session_changed, session_ended, token_lifetime, SignOutButton},
};
use leptos::{prelude::*, task::spawn_local};

/// The page's actions on the session; each reports what it did to the session.
#[derive(Clone, Copy)]
struct AccountActions {
    revoke: ServerAction<RevokeSession>,
    change_password: ServerAction<ChangePassword>,
    end_confirmation: ServerAction<EndConfirmation>,
}

fn use_account_actions() -> AccountActions {
    expect_context::<AccountActions>()
}

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <SignedInOnly path="/account" page=|user| view! {
            <Account user limits=form_limits() token_lifetime=token_lifetime()/>
        }/>
    }
}

/// The whole page is one island: its lists follow each action in place.
#[island]
fn Account(user: CurrentUser, limits: FormLimits, token_lifetime: TokenLifetime) -> impl IntoView {
    let username = user.username.clone();
    let user = RwSignal::new(user);
    let actions = AccountActions {
        revoke: ServerAction::new(),
        change_password: ServerAction::new(),
        end_confirmation: ServerAction::new(),
    };
    provide_context(actions);
    provide_context(limits);
    // After each completed action: the session list and the user are re-read
    // and the other tabs told; a session found gone leads to sign-in.
    Effect::new(move |previous: Option<()>| {
        actions.revoke.version().track();
        actions.change_password.version().track();
        actions.end_confirmation.version().track();
        if previous.is_none() {
            return;
        }
        let ended = |result: Option<Result<(), AppError>>| matches!(result, Some(Err(error)) if error.sign_in_again_page().is_some());
        confirm_if_asked(
            actions.revoke.value().get_untracked(),
            CONFIRM_FOR_ACCOUNT_PAGE,
        );
        if ended(actions.revoke.value().get_untracked())
            || ended(actions.change_password.value().get_untracked())
            || ended(actions.end_confirmation.value().get_untracked())
        {
            session_ended();
        } else {
            session_changed();
            spawn_local(async move {
                if let Ok(Some(now)) = get_current_user().await {
                    user.set(now);
                }
            });
        }
    });
    view! {
        <h1>"Your account"</h1>
        <p>"Signed in as " <strong data-testid="username">{username.clone()}</strong></p>
        <p><a href=ACTIVITY_PAGE data-testid="activity-link">"Security activity: what happened on your account"</a></p>
        <Sessions/>
        <EndedToMakeRoom/>
        {move || view! { <Confirmation confirmed_until=user.with(|user| user.confirmed_until)/> }}
        <EmailAddress/>
        <super::account_passkeys::Passkeys/>
        <ApiTokens lifetime=token_lifetime/>
        <PasswordChange username=username.clone()/>
        <AccountDeletion username/>
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

/// Whether this session may do the sensitive actions without the password
/// (and until when), with a button to end that early; or a link to confirm.
#[component]
fn Confirmation(confirmed_until: Option<i64>) -> impl IntoView {
    let actions = use_account_actions();
    let state = match confirmed_until {
        Some(until) => view! {
            <p data-testid="confirmed">
                "You entered your password recently: API tokens, signing out everywhere "
                "else, changing the email address and deleting the account work without it "
                "again until " <Moment at=until/> "."
            </p>
            <ActionForm action=actions.end_confirmation>
                <button type="submit" class="secondary" data-testid="end-confirmation">"Ask for my password again now"</button>
            </ActionForm>
        }
        .into_any(),
        None => view! {
            <p data-testid="not-confirmed">
                "Creating or revoking API tokens, signing out everywhere else, changing the "
                "email address and deleting the account will ask for your password first."
            </p>
            <p><a href=CONFIRM_FOR_ACCOUNT_PAGE>"Confirm now"</a></p>
        }
        .into_any(),
    };
    view! {
        <section aria-labelledby="confirmation-heading" data-testid="confirmation">
            <h2 id="confirmation-heading">"Sensitive actions"</h2>
            {state}
            {error_message::<EndConfirmation>(move || actions.end_confirmation.value().get())}
        </section>
    }
}

/// The sessions the server ended to make room for a sign-in past the limit
/// per user, and why; nothing when there are none.
#[component]
fn EndedToMakeRoom() -> impl IntoView {
    let actions = use_account_actions();
    let ended = Resource::new(
        move || actions.change_password.version().get(),
        |_| list_ended_sessions(),
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let EndedSessions { max_per_user, sessions } = ended.await.unwrap_or_default();
                (!sessions.is_empty()).then(|| view! {
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
                })
            })}
        </Transition>
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
    let longest = expect_context::<FormLimits>().password_max_chars;
    let changed_before = query_value("password_changed").is_some();
    let not_me = query_value("not_me").is_some();
    let changed = move || {
        matches!(actions.change_password.value().get(), Some(Ok(())))
            || (actions.change_password.value().get().is_none() && changed_before)
    };
    view! {
        <section aria-labelledby="password-heading">
            <h2 id="password-heading">"Change password"</h2>
            <Show when=changed>
                <p class="notice" role="status" data-testid="password-changed">
                    "Password changed. Every other session has been signed out."
                </p>
            </Show>
            <Show when=move || !changed() && not_me>
                <p class="notice" role="status" data-testid="not-me-done">
                    "Every other session of your account has been signed out and every API token "
                    "revoked. Now choose a new password that nobody else knows."
                </p>
            </Show>
            <ActionForm action=actions.change_password>
                // For password managers: whose password this is.
                <input type="text" name="username" autocomplete="username" value=username hidden/>
                <label>
                    "Current password"
                    <input type="password" name="current_password" autocomplete="current-password" required maxlength=longest/>
                </label>
                <label>
                    "New password"
                    <input type="password" name="new_password" autocomplete="new-password" required maxlength=longest/>
                </label>
                <label>
                    "Confirm new password"
                    <input type="password" name="confirm_password" autocomplete="new-password" required maxlength=longest/>
                </label>
                <button type="submit">"Change password"</button>
            </ActionForm>
            {error_message::<ChangePassword>(move || actions.change_password.value().get())}
        </section>
    }
}

/// The account's email address: the verified one, the one waiting for its
/// link (which can be sent again), and the form to set or change it (a
/// sensitive action). Whatever the address, the answer is the same: a
/// message is on its way.
#[component]
fn EmailAddress() -> impl IntoView {
    let set = ServerAction::<SetEmail>::new();
    let resend = ServerAction::<ResendEmail>::new();
    let alerts = ServerAction::<SetAlerts>::new();
    let status = Resource::new(
        move || {
            (
                set.version().get(),
                resend.version().get(),
                alerts.version().get(),
            )
        },
        |_| get_email_status(),
    );
    Effect::new(move |_| {
        confirm_if_asked(set.value().get(), CONFIRM_FOR_ACCOUNT_PAGE);
        confirm_if_asked(alerts.value().get(), CONFIRM_FOR_ACCOUNT_PAGE);
    });
    let saved_before = query_value("alerts_saved").is_some();
    let sent_before = query_value("email_sent").is_some();
    let alerts_saved = move || match alerts.value().get() {
        Some(result) => result.is_ok(),
        None => saved_before,
    };
    let sent = move || match (set.value().get(), resend.value().get()) {
        (Some(Ok(())), _) | (_, Some(Ok(()))) => true,
        (None, None) => sent_before,
        _ => false,
    };
    view! {
        <section aria-labelledby="email-heading" data-testid="email">
            <h2 id="email-heading">"Email address"</h2>
            <Show when=sent>
                <p class="notice" role="status" data-testid="email-sent">
                    "A message is on its way to that address. Open the link in it to verify the address."
                </p>
            </Show>
            <Transition fallback=|| view! { <p>"Loading your email address…"</p> }>
                {move || Suspend::new(async move {
                    let status = status.await.unwrap_or_default();
                    let alerts_on = status.new_device_alerts;
                    let verified = match status.verified {
                        Some(address) => view! {
                            <p data-testid="email-verified-address">"Verified: " <strong>{address}</strong></p>
                            <ActionForm action=alerts>
                                <label class="remember">
                                    <input type="checkbox" name="enabled" value="on" checked=alerts_on data-testid="alerts-enabled"/>
                                    "Email me when my account is signed in from a new device"
                                </label>
                                <button type="submit" class="secondary" data-testid="save-alerts">"Save"</button>
                            </ActionForm>
                        }
                        .into_any(),
                        None => view! {
                            <p data-testid="no-email">
                                "No verified address yet: a forgotten password cannot be reset by mail."
                            </p>
                        }
                        .into_any(),
                    };
                    let pending = status.pending.map(|address| view! {
                        <p data-testid="email-pending">
                            "Waiting for its link: " <strong>{address}</strong>
                        </p>
                        <ActionForm action=resend>
                            <button type="submit" class="secondary" data-testid="resend-email">"Send the link again"</button>
                        </ActionForm>
                    });
                    view! { {verified} {pending} }
                })}
            </Transition>
            <Show when=alerts_saved>
                <p class="notice" role="status" data-testid="alerts-saved">"Saved."</p>
            </Show>
            {error_message::<SetAlerts>(move || alerts.value().get())}
            <ActionForm action=set>
                <label>
                    "New email address"
                    <input type="email" name="email" autocomplete="email" required maxlength=EMAIL_MAX_CHARS data-testid="email-input"/>
                </label>
                <button type="submit" data-testid="set-email">"Send a verification link"</button>
            </ActionForm>
            {error_message::<SetEmail>(move || set.value().get())}
            {error_message::<ResendEmail>(move || resend.value().get())}
        </section>
    }
}

/// Deleting the account, the username typed again to confirm; a sensitive
/// action. Done, the browser goes to the home page, which says so.
#[component]
fn AccountDeletion(username: String) -> impl IntoView {
    let delete = ServerAction::<DeleteAccount>::new();
    Effect::new(move |_| match delete.value().get() {
        // To the home page, which says so; it tells this browser's other tabs.
        Some(Ok(_)) => go_to(ACCOUNT_DELETED_PAGE),
        Some(Err(error)) if error.sign_in_again_page().is_some() => session_ended(),
        result => confirm_if_asked(result, CONFIRM_FOR_ACCOUNT_PAGE),
    });
    view! {
        <section aria-labelledby="deletion-heading" data-testid="account-deletion">
            <h2 id="deletion-heading">"Delete this account"</h2>
            <p>
                "This signs you out everywhere, revokes every API token, forgets every browser "
                "you trusted and erases the account. It cannot be undone, and anyone may then "
                "register the username."
            </p>
            <ActionForm action=delete>
                <label>
                    <span>"Type your username, " <strong>{username}</strong> ", to confirm"</span>
                    <input type="text" name="username" autocomplete="off" spellcheck="false" required data-testid="delete-username"/>
                </label>
                <button type="submit" class="danger" data-testid="delete-account">"Delete my account"</button>
            </ActionForm>
            {error_message::<DeleteAccount>(move || delete.value().get().map(|result| result.map(|_| ())))}
        </section>
    }
}

/// Bearer tokens for the user's scripts and apps: how many are outstanding, a
/// new one (shown once), and revoking them all. "Sign out everywhere else"
/// and a password change revoke them too, so the count follows those.
#[component]
fn ApiTokens(lifetime: TokenLifetime) -> impl IntoView {
    let actions = use_account_actions();
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeTokens>::new();
    let count = Resource::new(
        move || {
            (
                create.version().get(),
                revoke.version().get(),
                actions.revoke.version().get(),
                actions.change_password.version().get(),
            )
        },
        |_| count_tokens(),
    );
    Effect::new(move |_| {
        confirm_if_asked(create.value().get(), CONFIRM_FOR_ACCOUNT_PAGE);
        confirm_if_asked(revoke.value().get(), CONFIRM_FOR_ACCOUNT_PAGE);
    });
    // A new token can only be shown by the page's script: a plain form post
    // would be answered with a redirect, and the token lost.
    let scripted = RwSignal::new(false);
    Effect::new(move |_| scripted.set(true));
    view! {
        <section aria-labelledby="tokens-heading">
            <h2 id="tokens-heading">"API tokens"</h2>
            <p>
                {format!("A token lets a script or an app act as you for {}, with ", lasting(lifetime.0))}
                <code>"Authorization: Bearer …"</code>
                ". Signing out everywhere else or changing your password revokes every token."
            </p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let outstanding = count.await.unwrap_or_default();
                    view! {
                        <p data-testid="token-count">
                            {match outstanding {
                                0 => "No token is outstanding.".to_string(),
                                1 => "1 token is outstanding.".to_string(),
                                n => format!("{n} tokens are outstanding."),
                            }}
                        </p>
                    }
                })}
            </Transition>
            <div class="actions">
                <Show when=move || scripted.get()>
                    <ActionForm action=create>
                        <button type="submit" data-testid="create-token">"Create a token"</button>
                    </ActionForm>
                </Show>
                <ActionForm action=revoke>
                    <button type="submit" class="secondary" data-testid="revoke-tokens">"Revoke all tokens"</button>
                </ActionForm>
            </div>
            <noscript>
                <p>"Creating a token here needs JavaScript; without it, send your username and password to "
                    <code>"POST /api/token"</code> " (see the README)."</p>
            </noscript>
            {move || create.value().get().and_then(Result::ok).map(|answer| view! { <NewToken answer/> })}
            {error_message::<CreateToken>(move || create.value().get().map(|result| result.map(|_| ())))}
            {error_message::<RevokeTokens>(move || revoke.value().get().map(|result| result.map(|_| ())))}
        </section>
    }
}

/// A token just made: shown this once, with a copy button and the command
/// that uses it.
#[component]
fn NewToken(answer: TokenAnswer) -> impl IntoView {
    let origin = {
        #[cfg(feature = "hydrate")]
        {
            window().location().origin().unwrap_or_default()
        }
        #[cfg(not(feature = "hydrate"))]
        {
            String::new()
        }
    };
    let command = format!(
        "curl -H \"Authorization: Bearer {}\" {origin}/api/me",
        answer.token
    );
    let copied = RwSignal::new(false);
    let token = answer.token.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let _ = window().navigator().clipboard().write_text(&token);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &token;
        copied.set(true);
    };
    let lasts = lasting(answer.expires_in);
    view! {
        <div class="new-token" data-testid="new-token">
            <p class="notice" role="status">
                {format!("Your new token, valid for {lasts}. Copy it now: it is not shown again.")}
            </p>
            <label>
                "Token"
                <input type="text" readonly value=answer.token.clone() data-testid="token" autocomplete="off" spellcheck="false"/>
            </label>
            <button type="button" class="secondary" on:click=copy>"Copy the token"</button>
            <Show when=move || copied.get()>
                <span role="status">" Copied."</span>
            </Show>
            <p>"Try it:"</p>
            <pre><code data-testid="token-command">{command}</code></pre>
        </div>
    }
}

/// A length of time as the page says it: "one day", "2 days", "12 hours",
/// "an hour", "30 minutes", "a minute" (rounded down to the largest unit it
/// fills; seconds under a minute read as "a minute").
fn lasting(seconds: i64) -> String {
    let (count, one, many) = match seconds {
        s if s >= 86_400 => (s / 86_400, "one day", "days"),
        s if s >= 3_600 => (s / 3_600, "an hour", "hours"),
        s => ((s / 60).max(1), "a minute", "minutes"),
    };
    if count == 1 {
        one.to_string()
    } else {
        format!("{count} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::lasting;

    #[test]
    fn a_lifetime_reads_in_the_largest_unit_it_fills() {
        assert_eq!(lasting(86_400), "one day");
        assert_eq!(lasting(2 * 86_400 + 5), "2 days");
        assert_eq!(lasting(43_200), "12 hours");
        assert_eq!(lasting(3_600), "an hour");
        assert_eq!(lasting(1_800), "30 minutes");
        assert_eq!(lasting(60), "a minute");
        assert_eq!(lasting(5), "a minute");
    }
}
