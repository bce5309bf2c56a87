//! One password check's throttling (a sign-in, a password change, a
//! confirmation): the counters it counts on, counted before the hash, given
//! back when no hashing thread was free, cleared on a match, and a failure
//! on the owner's activity.

use super::{
    activity, devices,
    throttle::{self, Scope},
    AuthError, AuthService, RequestContext,
};
use crate::auth::ActivityKind;
use crate::server::store::Database;

/// The two counters one password check counts on (sign-in, password change):
/// the client address's, and the account's, or this browser's own when its
/// device cookie was issued by a sign-in to that account.
pub struct PasswordCheck {
    account: (Scope, String),
    client: String,
}

impl PasswordCheck {
    pub async fn for_account(
        cx: &RequestContext,
        username_key: &str,
        now: i64,
    ) -> Result<Self, AuthError> {
        let mut account = (Scope::AccountSignIn, username_key.to_string());
        if let Some(device) = devices::trusted_here(cx, username_key, now).await? {
            account = (Scope::DeviceSignIn, device);
        }
        Ok(Self {
            account,
            client: cx.client_address(),
        })
    }

    /// Whether this browser signed in to the account before.
    pub fn on_trusted_device(&self) -> bool {
        self.account.0 == Scope::DeviceSignIn
    }

    fn attempts(&self, service: &AuthService) -> [throttle::Attempt<'_>; 2] {
        let rules = service.throttle;
        [
            rules.attempt(self.account.0, self.account.1.as_str()),
            rules.attempt(Scope::AddressSignIn, self.client.as_str()),
        ]
    }

    /// Counts the check before its hash, or refuses it while either counter
    /// is blocked.
    pub async fn admit(
        &self,
        service: &AuthService,
        now: i64,
    ) -> Result<Option<throttle::Refusal>, AuthError> {
        Ok(throttle::admit(&service.database, &self.attempts(service), now).await?)
    }

    /// The hash's answer; one refused as busy gives the counts back.
    pub async fn verified(
        &self,
        service: &AuthService,
        verified: Result<bool, AuthError>,
    ) -> Result<bool, AuthError> {
        given_back_if_busy(&service.database, &self.attempts(service), verified).await
    }

    /// A wrong password for the account `user_id`, on the session `handle` if
    /// any: on the owner's activity, and, when it is the failure that pauses
    /// the account's sign-ins, that too. The refusals that follow cost no
    /// more than before: they are not recorded one by one.
    pub async fn failed(
        &self,
        cx: &RequestContext,
        user_id: i64,
        handle: Option<&str>,
        now: i64,
    ) -> Result<(), AuthError> {
        activity::record_here(cx, user_id, ActivityKind::SignInFailed, handle).await?;
        let (scope, subject) = (self.account.0, self.account.1.as_str());
        if scope == Scope::AccountSignIn {
            let limit = cx.state.throttle.limit(scope);
            let database = &cx.state.database;
            if throttle::retry_after(database, limit, scope, subject, now)
                .await?
                .is_some()
            {
                let kind = ActivityKind::SignInThrottled;
                activity::record_here(cx, user_id, kind, handle).await?;
            }
        }
        Ok(())
    }

    /// After a match: the address's count is given back and the account's
    /// (or this browser's) counter cleared.
    pub async fn succeeded(&self, service: &AuthService) -> Result<(), AuthError> {
        let [by_account, by_address] = self.attempts(service);
        throttle::refund(&service.database, &[by_address]).await?;
        throttle::clear(&service.database, by_account.scope, by_account.subject).await?;
        Ok(())
    }
}

/// A hash refused because no hashing thread was free (503) checked nothing,
/// so the attempts counted for it are given back.
pub async fn given_back_if_busy<T>(
    database: &Database,
    attempts: &[throttle::Attempt<'_>],
    result: Result<T, AuthError>,
) -> Result<T, AuthError> {
    if let Err(AuthError::Busy { .. }) = result {
        throttle::refund(database, attempts).await?;
    }
    result
}
