//! Builds the application (store, layers, routes) and binds the listener.
//! The session store comes from `session_store`, the one seam where it is chosen.

use super::{
    config::{ConfigError, Environment, SessionStoreKind, Settings},
    files::FilesOrNotFound,
    http::{
        body_limit::limit_body,
        forwarded::{forwarded_client, TrustedProxies},
        headers::{security_headers, Hsts},
        mail_links::hold_link_token,
        no_store::no_store,
        same_origin::{same_origin_only, SiteScheme},
        session_layer::{manage_sessions, SessionLayer},
        signed_in::{require_sign_in, resolve_signed_in},
    },
    mail::{MailError, Sender, Transport},
    serve::ConnectionLimits,
    state::AppState,
    store::{
        outbox::Outbox, purge_continuously, redact_password, Database, DatabaseError, RedisError,
        RedisSessions, Sessions, SqlSessions,
    },
};
use crate::{
    app::{shell, PAGES},
    auth::ssr::{
        device_cookie, housekeeping, links::LinkCookies, AuthError, AuthService, Clock,
        PasswordHasher, Services,
    },
};
use axum::{middleware::from_fn, middleware::from_fn_with_state, routing::get, Router};
use leptos::{config::LeptosOptions, prelude::provide_context};
use leptos_axum::LeptosRoutes;
use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};
use tokio::{net::TcpListener, task::JoinHandle};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] DatabaseError),
    /// `url` without its password.
    #[error("cannot reach the session store {url} (SESSION_REDIS_URL): {source}")]
    Redis { url: String, source: RedisError },
    #[error("password hashing: {0}")]
    Hashing(#[from] AuthError),
    /// Settings a service cannot work with (token keys, the passkeys'
    /// relying party).
    #[error("{0}")]
    Settings(#[from] ConfigError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    Mail(#[from] super::mail::MailError),
}

pub struct Application {
    listener: TcpListener,
    clock: Clock,
    limits: ConnectionLimits,
    router: Router,
    database: Database,
    sessions: Sessions,
    /// Background tasks: expired-session and throttle-counter cleanup, the dummy hash.
    background: Vec<JoinHandle<()>>,
}

/// The database (migrated), the session store and everything the
/// authentication flows need: what the server and the admin commands share.
pub async fn auth_service(settings: &Settings) -> Result<AuthService, StartupError> {
    let tokens = Arc::new(settings.token_rules()?);
    let database = Database::connect(&settings.database.url).await?;
    database.migrate().await?;
    let hasher = Arc::new(PasswordHasher::new(
        settings.password_params(),
        settings.hashing_policy(),
    )?);
    let clock = Clock::default();
    Ok(AuthService::new(Services {
        database: database.clone(),
        hasher,
        policy: settings.session_policy(),
        password_rules: settings.password_rules(),
        throttle: settings.throttle_rules(),
        clock: clock.clone(),
        device_cookie: device_cookie(&settings.cookie.name, settings.cookie.secure),
        sessions: session_store(settings, database.clone())
            .await?
            .with_max_per_user(settings.session.max_per_user, clock),
        tokens,
        activity: settings.activity_rules(),
        outbox: Outbox::new(database.clone()),
        mail: settings.mail_rules(),
        passkeys: relying_party(settings)?,
        link_cookies: LinkCookies::new(&settings.cookie.name, settings.cookie.secure),
    }))
}

/// The session store the settings choose, over the application's database.
async fn session_store(settings: &Settings, database: Database) -> Result<Sessions, StartupError> {
    match (settings.session.store, settings.session.redis_url()) {
        (SessionStoreKind::Redis, Some(url)) => {
            let redis = RedisSessions::connect(url, &settings.session.key_prefix)
                .await
                .map_err(|source| StartupError::Redis {
                    url: redact_password(url),
                    source,
                })?;
            Ok(Sessions::new(redis))
        }
        // `Settings::validate` refuses Redis without a URL.
        _ => Ok(Sessions::new(SqlSessions::new(database))),
    }
}

pub async fn build(
    settings: &Settings,
    leptos_options: LeptosOptions,
) -> Result<Application, StartupError> {
    let auth = auth_service(settings).await?;
    if settings.tokens.configured_keys().is_none() {
        tracing::warn!("no TOKENS_KEYS: bearer tokens are signed with a random key that ends with this process (development only)");
    }
    let database = auth.database.clone();
    let store = auth.sessions.clone();
    let clock = auth.clock.clone();
    let service = auth.clone();
    let state = AppState::new(leptos_options.clone(), auth.clone());

    let sessions = SessionLayer::new(store.clone(), &settings.cookie.name, settings.cookie.secure)
        .with_rotation(
            settings.rotation_rules(),
            settings.session_policy(),
            auth.clock.clone(),
        )
        .with_activity(auth.database.clone());

    // `cargo leptos watch` sets LEPTOS_WATCH; only then does the page open
    // the live-reload websocket (the same test as Leptos's `AutoReload`).
    let live_reload = std::env::var("LEPTOS_WATCH").is_ok();
    let form_limits = auth.password_rules.form_limits();
    let token_lifetime = crate::auth::TokenLifetime(auth.tokens.lifetime_secs);
    let context = move || {
        provide_context(auth.clone());
        provide_context(form_limits);
        provide_context(token_lifetime);
        super::http::headers::provide_page_policy(live_reload);
    };
    // Every page, and "Page not found" for a path that names no page and no
    // file: the shell around the page the path asks for (`app::PAGES`),
    // sent whole.
    let page = leptos_axum::render_app_async_with_context(
        {
            let (state, context) = (state.clone(), context.clone());
            move || {
                provide_context(state.clone());
                context();
            }
        },
        {
            let options = leptos_options.clone();
            move || shell(options.clone())
        },
    );
    let files = FilesOrNotFound::new(
        std::path::Path::new(&*leptos_options.site_root),
        Arc::new({
            let page = page.clone();
            move |request| Box::pin(page(request))
        }),
    );
    // The server functions (the route list is empty: the pages are ours).
    let mut router = Router::new().leptos_routes_with_context(&state, Vec::new(), context, {
        let options = leptos_options.clone();
        move || shell(options.clone())
    });
    for each in PAGES {
        router = router.route(each.path, get(page.clone()));
    }
    let router = router
        // Beside the app's own `POST /api/me` (a server function).
        .route("/api/me", get(super::api::me))
        .fallback(move |request| files.clone().answer(request))
        // Innermost: a server function's error answer gets its status.
        .layer(from_fn(super::errors::server_fn_status))
        .layer(from_fn_with_state(
            state.auth.link_cookies.clone(),
            hold_link_token,
        ))
        .layer(from_fn(require_sign_in))
        .layer(from_fn_with_state(state.auth.clone(), resolve_signed_in))
        .layer(from_fn_with_state(sessions, manage_sessions))
        .layer(from_fn(no_store))
        .layer(from_fn_with_state(
            SiteScheme(if settings.cookie.secure {
                "https"
            } else {
                "http"
            }),
            same_origin_only,
        ))
        .layer(from_fn_with_state(settings.body_limits(), limit_body))
        .layer(from_fn_with_state(
            Hsts::new(settings.server.hsts_max_age_secs),
            security_headers,
        ))
        // First of all: who the client is, behind trusted proxies.
        .layer(from_fn_with_state(
            TrustedProxies(settings.server.trusted_proxies.clone().into()),
            forwarded_client,
        ))
        // Outside every layer: a liveness probe for load balancers, which
        // reads no session and renders nothing.
        .route("/healthz", get(|| async { "ok" }))
        // Readiness: the database and the session store answer.
        .route("/readyz", get(super::outage::readyz))
        .with_state(state);

    let address = leptos_options.site_addr;
    let listener = TcpListener::bind(address)
        .await
        .map_err(|source| StartupError::Bind { address, source })?;
    let cleanup_every = Duration::from_secs(settings.session.cleanup_interval_secs);
    let sender = mail_sender(settings, &service)?;
    let mut background = background_tasks(&service, cleanup_every);
    background.push(tokio::spawn(sender.deliver_continuously()));
    Ok(Application {
        listener,
        clock,
        limits: settings.connection_limits(),
        router,
        database,
        sessions: store,
        background,
    })
}

/// The passkeys' relying party; in production, a warning while it is still
/// the development default (`localhost`), where no real domain can use it.
fn relying_party(
    settings: &Settings,
) -> Result<crate::auth::ssr::passkeys::RelyingParty, StartupError> {
    let production = settings.server.environment == Environment::Production;
    if production && settings.webauthn.rp_id == "localhost" {
        tracing::warn!(
            "passkeys are set up for localhost only: set WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS to the site's domain"
        );
    }
    Ok(settings.relying_party()?)
}

/// The sender of the outbox, through the mail server the settings name (or
/// into files, for development).
fn mail_sender(settings: &Settings, auth: &AuthService) -> Result<Sender, StartupError> {
    let mail = &settings.mail;
    let development = settings.server.environment == Environment::Development;
    if mail.smtp_url().is_none() {
        tracing::warn!(
            dir = mail.dir,
            "no MAIL_SMTP_URL: messages are written as files, not sent"
        );
    }
    Ok(Sender {
        outbox: auth.outbox.clone(),
        transport: Transport::new(
            mail.smtp_url(),
            &mail.dir,
            development.then(|| mail.site_url.clone()),
        )?,
        from: mail
            .from
            .parse()
            .map_err(|error| StartupError::Mail(MailError::From(error)))?,
        clock: auth.clock.clone(),
        poll: Duration::from_secs(mail.poll_interval_secs),
        give_up_after_secs: i64::try_from(mail.give_up_after_hours)
            .unwrap_or(i64::MAX)
            .saturating_mul(3_600),
    })
}

/// The tasks that run beside the server, started once the listener is bound
/// (a server that cannot bind starts none) and stopped with it: the expiry
/// purge of sessions and the rules' housekeeping (throttle counters, trusted
/// browsers, activity events), every `every` on the server's clock, and the
/// dummy hash for unknown users, made while the server already answers.
fn background_tasks(auth: &AuthService, every: Duration) -> Vec<JoinHandle<()>> {
    let hasher = auth.hasher.clone();
    vec![
        tokio::spawn(purge_continuously(
            auth.sessions.clone(),
            auth.clock.clone(),
            every,
        )),
        tokio::spawn(housekeeping::purge_continuously(auth.clone(), every)),
        tokio::spawn(async move {
            if let Err(error) = hasher.prepare().await {
                tracing::warn!(error = %error, "dummy hash not made at start; the first sign-in of an unknown user makes it");
            }
        }),
    ]
}

impl Application {
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has a local address")
    }

    /// The server's clock; a test moves it ahead instead of sleeping.
    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    /// Serves until `shutdown` completes, then stops the background tasks and
    /// closes the database.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        let served = super::serve::serve(self.listener, self.router, self.limits, shutdown).await;
        for task in &self.background {
            task.abort();
        }
        self.sessions.close().await;
        self.database.close().await;
        served.map_err(StartupError::Serve)
    }
}
