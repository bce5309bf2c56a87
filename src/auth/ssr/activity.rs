//! The security activity of an account, for its owner (#23): what happened
//! (`ActivityKind`), when, from which device and address, and on which
//! session, kept in the database for `security.activity_retention_days` and
//! deleted with the user. The audit log is the operator's; this is the
//! user's own, and only ever their own: every read names the user of the
//! session (or the operator's `events list --user`). "This wasn't me" is an
//! account action (`accounts::not_me`).
//!
//! An event of a change in the database is written in that change's
//! transaction (a token issued, tokens revoked: also by signing out
//! everywhere else, a password change, "This wasn't me" and the operator's
//! revocations). One of a change in the session store (a sign-in, a
//! sign-out, one session ended), which shares no transaction with the
//! database, is written right after the change by the same request; a
//! failure to write it fails the request (503 while the database is away),
//! so a change the user was told about is not missing from their page.

use super::{AuthError, AuthService, RequestContext, SignedIn};
use crate::auth::{ActivityEvent, ActivityKind, ActivityPage, SignInSeen};
use crate::server::store::{query_on, Database, RunsQueries};

/// Events per page.
pub const PAGE_SIZE: usize = 20;

/// How long events are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivityRules {
    pub retention_days: u32,
}

impl ActivityRules {
    pub fn retention_secs(self) -> i64 {
        i64::from(self.retention_days) * 86_400
    }
}

/// One event to record: what, and where it happened (the device, the
/// client address, and the session's public handle when there was one).
#[derive(Clone, Debug)]
pub struct Event {
    pub kind: ActivityKind,
    pub device: String,
    pub client: String,
    pub handle: Option<String>,
    /// What the event concerns when its kind alone does not say (a
    /// passkey's name).
    pub detail: Option<String>,
}

impl Event {
    /// `kind`, done by this request (its device and address), on the
    /// session `handle` if any.
    pub fn here(cx: &RequestContext, kind: ActivityKind, handle: Option<&str>) -> Self {
        let origin = cx.session_origin();
        Self {
            kind,
            device: origin.device,
            client: origin.client,
            handle: handle.map(str::to_string),
            detail: None,
        }
    }

    /// The same event, about `detail` (a passkey's name).
    pub fn about(self, detail: &str) -> Self {
        Self {
            detail: Some(detail.to_string()),
            ..self
        }
    }

    /// `kind`, on a session just begun by this request: its device and
    /// address as the session holds them (read from the request once).
    pub fn on_new_session(kind: ActivityKind, state: &SignedIn) -> Self {
        Self {
            kind,
            device: state.device.clone(),
            client: state.client.clone(),
            handle: Some(state.handle.clone()),
            detail: None,
        }
    }

    /// `kind`, done by an operator on the command line.
    pub fn by_administrator(kind: ActivityKind) -> Self {
        Self {
            kind,
            device: "command line".into(),
            client: "administrator".into(),
            handle: None,
            detail: None,
        }
    }
}

const INSERT: &str = "INSERT INTO security_events \
     (user_id, handle, at, kind, device, client, session_handle, detail) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
/// Newest first, from the event after `$2` (an event's handle; none: the
/// newest). A handle that is not one of the user's events gives nothing.
const PAGE: &str = "SELECT handle, at, kind, device, client, session_handle, detail \
     FROM security_events \
     WHERE user_id = $1 AND at >= $3 AND ($2 IS NULL OR id < (SELECT id FROM security_events \
       WHERE user_id = $1 AND handle = $2)) \
     ORDER BY id DESC LIMIT $4";
const PURGE: &str = "DELETE FROM security_events WHERE at < $1";

/// An event of a user deleted meanwhile (a sign-in racing the deletion):
/// there is no activity left to tell, and nothing is recorded.
fn unless_user_gone(written: Result<(), sqlx::Error>) -> Result<(), sqlx::Error> {
    match written {
        Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => Ok(()),
        written => written,
    }
}

/// A new event's public name (its `id` on the page and the API): random,
/// so that it tells nothing of the site's volume (#35), and within the
/// integers JavaScript holds exactly (below 2^53).
fn new_handle() -> i64 {
    let drawn = u64::from_le_bytes(super::random::bytes::<8>()) >> 11;
    i64::try_from(drawn).unwrap_or(i64::MAX).max(1)
}

/// Records `event` on `user_id`'s activity at `at`, on the database or in a
/// transaction with the change it records.
pub async fn record<'a>(
    on: impl RunsQueries<'a>,
    user_id: i64,
    at: i64,
    event: &Event,
) -> Result<(), sqlx::Error> {
    let written = query_on!(on, |executor| sqlx::query(INSERT)
        .bind(user_id)
        .bind(new_handle())
        .bind(at)
        .bind(event.kind.wire_name())
        .bind(&event.device)
        .bind(&event.client)
        .bind(&event.handle)
        .bind(&event.detail)
        .execute(executor)
        .await
        .map(|_| ()));
    unless_user_gone(written)
}

/// Records `kind` as done by this request (its device and address) on the
/// session `handle`, if any.
pub async fn record_here(
    cx: &RequestContext,
    user_id: i64,
    kind: ActivityKind,
    handle: Option<&str>,
) -> Result<(), AuthError> {
    let event = Event::here(cx, kind, handle);
    record(&cx.state.database, user_id, cx.state.clock.now(), &event).await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    handle: i64,
    at: i64,
    kind: String,
    device: String,
    client: String,
    session_handle: Option<String>,
    detail: Option<String>,
}

/// One page of `user_id`'s events within the retention, newest first, older
/// than the event `before` when given; `current` marks "this device".
pub async fn page_of(
    service: &AuthService,
    user_id: i64,
    before: Option<i64>,
    current: Option<&str>,
) -> Result<ActivityPage, sqlx::Error> {
    let since = service.clock.now() - service.activity.retention_secs();
    let rows: Vec<Row> = query_on!(&service.database, |executor| sqlx::query_as(PAGE)
        .bind(user_id)
        .bind(before)
        .bind(since)
        .bind(PAGE_SIZE as i64 + 1)
        .fetch_all(executor)
        .await)?;
    let more = rows.len() > PAGE_SIZE;
    let events: Vec<ActivityEvent> = rows
        .into_iter()
        .take(PAGE_SIZE)
        .filter_map(|row| {
            let Some(kind) = ActivityKind::from_wire_name(&row.kind) else {
                tracing::warn!(
                    kind = row.kind,
                    "an activity event of an unknown kind is left out"
                );
                return None;
            };
            Some(ActivityEvent {
                id: row.handle,
                at: row.at,
                kind,
                this_device: current.is_some() && row.session_handle.as_deref() == current,
                device: row.device,
                client: row.client,
                detail: row.detail,
            })
        })
        .collect();
    Ok(ActivityPage {
        older: more.then(|| events.last().map(|event| event.id)).flatten(),
        events,
        retention_days: service.activity.retention_days,
    })
}

/// The signed-in user's own activity (the page and `POST /api/activity`).
pub async fn for_session(
    cx: &RequestContext,
    before: Option<i64>,
) -> Result<ActivityPage, AuthError> {
    let signed_in = cx.require_signed_in()?;
    Ok(page_of(
        &cx.state,
        signed_in.user_id,
        before,
        Some(&signed_in.handle),
    )
    .await?)
}

/// The first event recorded on `user_id`'s session `session_handle` (its
/// sign-in): where and when, for the page a new-device alert's link leads
/// to. `None` once the activity retention has dropped it.
pub async fn sign_in_of_session(
    database: &Database,
    user_id: i64,
    session_handle: &str,
) -> Result<Option<SignInSeen>, sqlx::Error> {
    let row: Option<(i64, String, String)> = query_on!(database, |executor| sqlx::query_as(
        "SELECT at, device, client FROM security_events \
         WHERE user_id = $1 AND session_handle = $2 ORDER BY id LIMIT 1",
    )
    .bind(user_id)
    .bind(session_handle)
    .fetch_optional(executor)
    .await)?;
    Ok(row.map(|(at, device, client)| SignInSeen { device, client, at }))
}

/// Deletes the events older than the retention at `now`; how many.
pub async fn purge(
    database: &Database,
    now: i64,
    rules: ActivityRules,
) -> Result<u64, sqlx::Error> {
    query_on!(database, |executor| sqlx::query(PURGE)
        .bind(now - rules.retention_secs())
        .execute(executor)
        .await
        .map(|done| done.rows_affected()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_purge_keeps_the_retention_and_deletes_what_is_older() {
        let database = Database::in_memory().await;
        let user: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, username_key, password_hash) \
             VALUES ('a', 'a', 'h') RETURNING id",
        )
        .fetch_one(match database.pool() {
            crate::server::store::Pool::Sqlite(pool) => pool,
            crate::server::store::Pool::Postgres(_) => unreachable!(),
        })
        .await
        .unwrap();
        let rules = ActivityRules { retention_days: 90 };
        let day = 86_400;
        let now = 1_000 * day;
        for at in [now - 91 * day, now - 90 * day + 1, now - day] {
            record(
                &database,
                user,
                at,
                &Event::by_administrator(ActivityKind::SignedIn),
            )
            .await
            .unwrap();
        }
        assert_eq!(purge(&database, now, rules).await.unwrap(), 1);
        assert_eq!(purge(&database, now, rules).await.unwrap(), 0);
    }
}
