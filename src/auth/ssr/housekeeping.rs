//! What the authentication rules keep in the database that goes stale with
//! time, deleted every `session.cleanup_interval_secs` on the server's clock
//! for as long as the server runs: throttle counters past their windows,
//! trusted browsers past their year, activity events past their retention, mail
//! links past their expiry, passkey ceremonies (answered, or sign-ins never
//! answered) past theirs.
//! (Expired sessions are the store's: `server::store`'s purge.)

use super::{activity, devices, links, passkeys, throttle, AuthService};

/// Each purge in turn, every `every`; a failure is logged and the next turn
/// tries again.
pub async fn purge_continuously(service: AuthService, every: std::time::Duration) {
    let quiet_secs = service.throttle.longest_window_secs();
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        let (database, now) = (&service.database, service.clock.now());
        if let Err(error) = throttle::purge_stale(database, now, quiet_secs).await {
            tracing::error!(error = %error, "throttle counter cleanup failed");
        }
        if let Err(error) = devices::purge_expired(database, now).await {
            tracing::error!(error = %error, "trusted device cleanup failed");
        }
        if let Err(error) = links::purge_expired(database, now).await {
            tracing::error!(error = %error, "expired mail link cleanup failed");
        }
        if let Err(error) = passkeys::purge_expired(database, now).await {
            tracing::error!(error = %error, "expired passkey ceremony cleanup failed");
        }
        match activity::purge(database, now, service.activity).await {
            Ok(deleted) => tracing::debug!(deleted, "old activity events purged"),
            Err(error) => tracing::error!(error = %error, "activity purge failed"),
        }
    }
}
