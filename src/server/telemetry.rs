//! Logging through `tracing`. `RUST_LOG` overrides the default filter. Audit
//! events (sign-in, sign-out, registration) use the `audit` target.

use tracing_subscriber::{fmt, EnvFilter};

/// The log filter when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_sessions=warn";

pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // A second init (tests start several servers) keeps the first subscriber.
    let _ = fmt().with_env_filter(filter).with_target(true).try_init();
}
