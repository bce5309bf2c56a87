//! The sensitive actions' window, the password change and deleting the
//! account.

use crate::{
    address::query_value,
    auth::{ChangePassword, DeleteAccount, EndConfirmation},
    pages::{post_form, Moment},
    routes::CONFIRM_FOR_ACCOUNT_PAGE,
};
use leptos::prelude::*;

/// Whether this session may do the sensitive actions without the password
/// (and until when), with a button to end that early; or a link to confirm.
pub(super) fn confirmation(confirmed_until: Option<i64>) -> impl IntoView {
    let state = match confirmed_until {
        Some(until) => view! {
            <p data-testid="confirmed">
                "You entered your password recently: API tokens, signing out everywhere "
                "else, changing the email address and deleting the account work without it "
                "again until " <Moment at=until/> "."
            </p>
            {post_form::<EndConfirmation>(view! {
                <button type="submit" class="secondary" data-testid="end-confirmation">"Ask for my password again now"</button>
            })}
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
        </section>
    }
}

pub(super) fn password_change(username: String, longest: usize) -> impl IntoView {
    let notice =
        if query_value("password_changed").is_some() {
            Some(
                view! {
                    <p class="notice" role="status" data-testid="password-changed">
                        "Password changed. Every other session has been signed out."
                    </p>
                }
                .into_any(),
            )
        } else if query_value("not_me").is_some() {
            Some(view! {
            <p class="notice" role="status" data-testid="not-me-done">
                "Every other session of your account has been signed out and every API token "
                "revoked. Now choose a new password that nobody else knows."
            </p>
        }
        .into_any())
        } else {
            None
        };
    view! {
        <section aria-labelledby="password-heading">
            <h2 id="password-heading">"Change password"</h2>
            {notice}
            {post_form::<ChangePassword>(view! {
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
            })}
        </section>
    }
}

/// Deleting the account, the username typed again to confirm; a sensitive
/// action. Done, the browser goes to the home page, which says so (and
/// tells this browser's other tabs).
pub(super) fn account_deletion(username: String) -> impl IntoView {
    view! {
        <section aria-labelledby="deletion-heading" data-testid="account-deletion">
            <h2 id="deletion-heading">"Delete this account"</h2>
            <p>
                "This signs you out everywhere, revokes every API token, forgets every browser "
                "you trusted and erases the account. It cannot be undone, and anyone may then "
                "register the username."
            </p>
            {post_form::<DeleteAccount>(view! {
                <label>
                    <span>"Type your username, " <strong>{username}</strong> ", to confirm"</span>
                    <input type="text" name="username" autocomplete="off" spellcheck="false" required data-testid="delete-username"/>
                </label>
                <button type="submit" class="danger" data-testid="delete-account">"Delete my account"</button>
            })}
        </section>
    }
}
