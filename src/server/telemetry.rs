//! Logging through `tracing`. `RUST_LOG` overrides the default filter. Audit
//! events (sign-in, sign-out, registration) use the `audit` target.

use tracing_subscriber::{fmt, EnvFilter};

/// The log filter when `RUST_LOG` is not set. The session and database
/// libraries' own errors reach the app as results, which it answers and logs
/// itself (an outage once, not per request or per connection), so theirs are
/// left out.
pub const DEFAULT_FILTER: &str =
    "info,sqlx=warn,sqlx::postgres::notice=error,tower_sessions=warn,tower_sessions_core=off,fred=error";

pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // A second init (tests start several servers) keeps the first subscriber.
    let _ = fmt().with_env_filter(filter).with_target(true).try_init();
}
