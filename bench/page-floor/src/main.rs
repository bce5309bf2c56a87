//! The stack's own limit for our signed-in `/dashboard` (issue #22, point 7):
//! the same page from plain axum + tower-sessions (SQLite store) + an askama
//! template, without Leptos. A bench fixture: `POST /login` signs in any
//! username without a password, so it listens on loopback only.
//!
//! Environment: `FLOOR_PORT` (default 3200), `FLOOR_DATABASE` (an SQLite file,
//! created when missing; default `floor.db`), `FLOOR_ALWAYS_SAVE=1` to write
//! the session back on every request (tower-sessions' `with_always_save`, what
//! its idle expiry takes to slide with use; by default a page only reads it).

use askama::Template;
use axum::{
    extract::Form,
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddr};
use time::{Duration, OffsetDateTime};
use tower_sessions::{Expiry, Session, SessionManagerLayer};
use tower_sessions_sqlx_store::{sqlx::SqlitePool, SqliteStore};

/// As ours: a day that slides with use, never past 30 days from the sign-in.
const IDLE: Duration = Duration::days(1);
const CAP: Duration = Duration::days(30);
const VISITOR: &str = "visitor";

/// What the session holds about who is signed in.
#[derive(Serialize, Deserialize)]
struct Visitor {
    username: String,
    signed_in_at: i64,
    remembered: bool,
}

/// An instant as the page shows it: "2026-12-02 07:45 UTC" in a `<time>`.
struct Moment {
    rfc3339: String,
    text: String,
}

impl Moment {
    fn new(at: OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        let (date, clock) = (at.date(), at.time());
        let day = format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day());
        Self {
            rfc3339: format!(
                "{day}T{:02}:{:02}:{:02}Z",
                clock.hour(),
                clock.minute(),
                clock.second()
            ),
            text: format!("{day} {:02}:{:02} UTC", clock.hour(), clock.minute()),
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    username: String,
    signed_in_at: Moment,
    idle_expires_at: Moment,
    absolute_expires_at: Moment,
    remembered: bool,
}

#[derive(Deserialize)]
struct SignIn {
    username: String,
    remember: Option<String>,
}

/// 500 for a store or template failure, as a plain app would answer.
struct Failed;

impl IntoResponse for Failed {
    fn into_response(self) -> Response {
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}

impl<E: std::error::Error> From<E> for Failed {
    fn from(_: E) -> Self {
        Failed
    }
}

async fn dashboard(session: Session) -> Result<Response, Failed> {
    let Some(visitor) = session.get::<Visitor>(VISITOR).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let signed_in_at = OffsetDateTime::from_unix_timestamp(visitor.signed_in_at)?;
    let page = Dashboard {
        username: visitor.username,
        signed_in_at: Moment::new(signed_in_at),
        idle_expires_at: Moment::new(session.expiry_date()),
        absolute_expires_at: Moment::new(signed_in_at + CAP),
        remembered: visitor.remembered,
    };
    Ok(Html(page.render()?).into_response())
}

async fn sign_in(session: Session, Form(form): Form<SignIn>) -> Result<Redirect, Failed> {
    // A new id at sign-in, as any careful app does.
    session.cycle_id().await?;
    let remembered = form.remember.is_some();
    if !remembered {
        session.set_expiry(Some(Expiry::OnSessionEnd));
    }
    let visitor = Visitor {
        username: form.username,
        signed_in_at: OffsetDateTime::now_utc().unix_timestamp(),
        remembered,
    };
    session.insert(VISITOR, visitor).await?;
    Ok(Redirect::to("/dashboard"))
}

async fn sign_out(session: Session) -> Result<Redirect, Failed> {
    session.flush().await?;
    Ok(Redirect::to("/login"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("FLOOR_PORT").map_or(Ok(3200), |p| p.parse())?;
    let database = std::env::var("FLOOR_DATABASE").unwrap_or_else(|_| "floor.db".into());
    let pool = SqlitePool::connect(&format!("sqlite://{database}?mode=rwc")).await?;
    let store = SqliteStore::new(pool);
    store.migrate().await?;
    let sessions = SessionManagerLayer::new(store)
        .with_name("session")
        .with_secure(false)
        .with_expiry(Expiry::OnInactivity(IDLE))
        .with_always_save(std::env::var("FLOOR_ALWAYS_SAVE").is_ok_and(|v| v == "1"));
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/dashboard", get(dashboard))
        .route("/login", post(sign_in))
        .route("/logout", post(sign_out))
        .layer(sessions);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
