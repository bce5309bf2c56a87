//! Logging through `tracing`. `RUST_LOG` overrides the default filter. Audit
//! events (sign-in, sign-out, registration) use the `audit` target.

use tracing_subscriber::{fmt, EnvFilter};

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    // A second init (tests start several servers) keeps the first subscriber.
    let _ = fmt().with_env_filter(filter).with_target(true).try_init();
}
