//! The sensitive actions: those that ask for the password again outside the
//! re-authentication window. `/confirm?for=<its server function's path>`
//! names the one it confirms, and once confirmed leads back to the part of
//! the page its form is in.

use super::server_fns::{
    AddPasskey, CreateToken, DeleteAccount, NotMe, PasskeyRegistrationOptions, RemovePasskey,
    RenamePasskey, RevokeSession, RevokeTokens, SetAlerts, SetEmail,
};
use leptos::server_fn::ServerFn;

/// One sensitive action.
#[derive(Debug, PartialEq, Eq)]
pub struct SensitiveAction {
    /// Its server function's path (`/confirm?for=`).
    pub path: &'static str,
    /// What `/confirm` says needs the password.
    pub what: &'static str,
    /// The id of the page's part its form is in, to go back to.
    pub section: Option<&'static str>,
}

const fn action(
    path: &'static str,
    what: &'static str,
    section: Option<&'static str>,
) -> SensitiveAction {
    SensitiveAction {
        path,
        what,
        section,
    }
}

/// Every sensitive action.
pub const SENSITIVE_ACTIONS: &[SensitiveAction] = &[
    action(
        CreateToken::PATH,
        "Creating an API token",
        Some("tokens-heading"),
    ),
    action(
        RevokeTokens::PATH,
        "Revoking your API tokens",
        Some("tokens-heading"),
    ),
    action(
        RevokeSession::PATH,
        "Signing out your other sessions",
        Some("sessions-heading"),
    ),
    action(NotMe::PATH, "Signing out every other session", None),
    action(
        SetEmail::PATH,
        "Changing your email address",
        Some("email-heading"),
    ),
    action(
        SetAlerts::PATH,
        "Changing your new-device alerts",
        Some("email-heading"),
    ),
    action(
        PasskeyRegistrationOptions::PATH,
        "Adding a passkey",
        Some("passkeys-heading"),
    ),
    action(
        AddPasskey::PATH,
        "Adding a passkey",
        Some("passkeys-heading"),
    ),
    action(
        RenamePasskey::PATH,
        "Renaming a passkey",
        Some("passkeys-heading"),
    ),
    action(
        RemovePasskey::PATH,
        "Removing a passkey",
        Some("passkeys-heading"),
    ),
    action(
        DeleteAccount::PATH,
        "Deleting your account",
        Some("deletion-heading"),
    ),
];

impl SensitiveAction {
    /// The action whose server function is at `path`.
    pub fn at(path: &str) -> Option<&'static SensitiveAction> {
        SENSITIVE_ACTIONS.iter().find(|action| action.path == path)
    }

    /// `back` (a path on this site) at this action's form, when the page
    /// has it.
    pub fn back_at_form(&self, back: &str) -> String {
        match self.section {
            Some(section) if !back.contains('#') => format!("{back}#{section}"),
            _ => back.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_is_one_action_and_leads_back_to_its_form() {
        for action in SENSITIVE_ACTIONS {
            assert_eq!(SensitiveAction::at(action.path), Some(action));
        }
        let delete = SensitiveAction::at(DeleteAccount::PATH).unwrap();
        assert_eq!(delete.what, "Deleting your account");
        assert_eq!(delete.back_at_form("/account"), "/account#deletion-heading");
        assert_eq!(delete.back_at_form("/account#x"), "/account#x");
        let not_me = SensitiveAction::at(NotMe::PATH).unwrap();
        assert_eq!(
            not_me.back_at_form("/account/activity"),
            "/account/activity"
        );
        assert_eq!(SensitiveAction::at("/api/login"), None);
    }
}
