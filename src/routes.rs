//! Paths that both the UI and the server name: which pages need a signed-in
//! user, and where a user whose session has ended is sent. A leaf: it imports
//! nothing of the crate, so any layer may use it.

/// Pages only a signed-in user may see: the server redirects anonymous
/// requests for them, and an open tab leaves them when its session ends.
pub const PROTECTED_PAGES: &[&str] = &[DASHBOARD_PAGE, ACCOUNT_PAGE, ACTIVITY_PAGE, CONFIRM_PAGE];

/// The signed-in user's security activity (#23).
pub const ACTIVITY_PAGE: &str = "/account/activity";

/// Where "This wasn't me" leads: the password change, which says why.
pub const AFTER_NOT_ME_PAGE: &str = "/account?not_me=1#password-heading";

/// The signed-in user's home: where a sign-in goes when not told.
pub const DASHBOARD_PAGE: &str = "/dashboard";

/// Where a sign-up with an email address lands: the dashboard says a link
/// to verify it is on its way (whether or not another account has the
/// address: the answer is the same).
pub const SIGNED_UP_CHECK_INBOX_PAGE: &str = "/dashboard?check_inbox=1";

/// Where the dashboard says this session now outlasts the browser.
pub const KEPT_PAGE: &str = "/dashboard?kept=1";

/// The sign-in page.
pub const SIGN_IN_PAGE: &str = "/login";

/// Where signing out lands: the sign-in page, saying so.
pub const SIGNED_OUT_PAGE: &str = "/login?signed_out=1";

/// Where the account page says the session it was asked to end is signed
/// out.
pub const SESSION_SIGNED_OUT_PAGE: &str = "/account?signed_out=session#sessions-heading";

/// Where the account page says every other session is signed out.
pub const OTHERS_SIGNED_OUT_PAGE: &str = "/account?signed_out=others#sessions-heading";

/// Where a signed-in user enters their password again before a sensitive
/// action (`?next=` says where to go back to).
pub const CONFIRM_PAGE: &str = "/confirm";

/// `/confirm`, then back to the account page: where a sensitive action
/// refused outside the re-authentication window sends the user.
pub const CONFIRM_FOR_ACCOUNT_PAGE: &str = "/confirm?next=/account";

/// Where the sensitive actions are, and where `/confirm` leads back to when
/// it is not told.
pub const ACCOUNT_PAGE: &str = "/account";

/// Where a user who deleted their account is sent: the home page says so.
pub const ACCOUNT_DELETED_PAGE: &str = "/?deleted=1";

/// Where a user whose session has ended is sent (the server sends plain form
/// posts there itself).
pub const SESSION_ENDED_PAGE: &str = "/login?ended=1";

/// Where a user whose session was ended because a copy of its cookie came
/// back is sent: the sign-in page says why.
pub const SESSION_REUSED_PAGE: &str = "/login?ended=reused";

/// Where a link to verify an email address leads (`?token=`, which the
/// server moves into the session at once).
pub const VERIFY_EMAIL_PAGE: &str = "/email/verify";

/// Where a verified address is confirmed to the user.
pub const EMAIL_VERIFIED_PAGE: &str = "/email/verify?done=1";

/// Where the account page says a verification link is on its way.
pub const EMAIL_SENT_PAGE: &str = "/account?email_sent=1#email-heading";

/// Where "Forgot your password?" leads: a username or an email address.
pub const FORGOT_PASSWORD_PAGE: &str = "/password/forgot";
/// Where "This wasn't me" from an alert older than a reset link lives leads:
/// every device is signed out, and a reset link is asked for here.
pub const AFTER_LATE_NOT_ME_PAGE: &str = "/password/forgot?signed_out=1";

/// What the forgot-password form answers, whoever was named.
pub const RESET_REQUESTED_PAGE: &str = "/password/forgot?sent=1";

/// Where a password reset link leads (`?token=`, moved into the session at
/// once): the form for a new password.
pub const RESET_PASSWORD_PAGE: &str = "/password/reset";

/// Where the "This wasn't me" link of a new-device alert leads (`?token=`,
/// moved into the session at once).
pub const NOT_ME_LINK_PAGE: &str = "/alerts/not-me";

/// Where the account page says the alert setting was saved.
pub const ALERTS_SAVED_PAGE: &str = "/account?alerts_saved=1#email-heading";

/// Where a plain form that renamed or removed a passkey lands: the account
/// page's passkeys.
pub const PASSKEYS_SAVED_PAGE: &str = "/account?passkeys_saved=1#passkeys-heading";

/// Where the account page says which passkey (`id`) was just added.
pub fn passkey_added_page(id: i64) -> String {
    format!("/account?passkey_added={id}#passkeys-heading")
}

/// Whether `path` is a path on this site, safe to send a browser on to: not
/// another host (`//evil`, `/\evil`, their escaped forms), no control
/// characters or spaces, at most 2,048 bytes.
pub fn is_local_path(path: &str) -> bool {
    path.len() <= 2048
        && path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && path.bytes().all(|byte| byte.is_ascii_graphic())
        && !path.to_ascii_lowercase().starts_with("/%2f")
        && !path.to_ascii_lowercase().starts_with("/%5c")
}

/// `/confirm` for the sensitive action whose server function is at
/// `action`, then back to `back` (a path on this site).
pub fn confirm_page(action: &str, back: &str) -> String {
    with_next(&format!("{CONFIRM_PAGE}?for={}", escaped(action)), back)
}

/// `page` (which may have a query already) with `next=<target>` added, the
/// target escaped: where to go once that page is done.
pub fn with_next(page: &str, target: &str) -> String {
    let separator = if page.contains('?') { '&' } else { '?' };
    format!("{page}{separator}next={}", escaped(target))
}

/// `text` as a query value: every byte but letters, digits and `-._~/` as
/// `%XX`.
fn escaped(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                char::from(byte).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_next_page_travels_escaped() {
        assert_eq!(
            with_next("/confirm", "/account?x=1&y#z"),
            "/confirm?next=/account%3Fx%3D1%26y%23z"
        );
        assert_eq!(
            with_next("/login?ended=1", "/account"),
            "/login?ended=1&next=/account"
        );
        assert_eq!(
            confirm_page("/api/account/delete", "/account"),
            "/confirm?for=/api/account/delete&next=/account"
        );
    }
}
