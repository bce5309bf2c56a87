//! The command line of the one binary: with no command it serves the app; the
//! admin commands work on the same configuration (`APP_CONFIG`, `DATABASE_URL`,
//! …) and database, with the same rules as the web forms. Each prints what it
//! did, or a clear error on stderr with exit code 1 (2 for a usage error).

use crate::{
    auth::{
        ssr::{
            activity, create_user, deletion, live_sessions, parse_username, sign_out_everywhere,
            tokens, users, AuthError, AuthService,
        },
        ActivityKind, Password,
    },
    pages::utc_text,
    server::{config::Settings, startup, store::purge_now},
};
use clap::{Parser, Subcommand};
use std::{
    io::{BufRead, IsTerminal},
    process::ExitCode,
};
use time::OffsetDateTime;

#[derive(Debug, Parser)]
#[command(
    name = "persistent-login",
    version,
    about = "The persistent-login web application. With no command, it serves.",
    after_help = "Configuration: APP_CONFIG (default Leptos.toml) and environment overrides \
                  such as DATABASE_URL, as for serving (see the README)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the application (the default with no command).
    Serve,
    /// Create, list and delete user accounts.
    #[command(subcommand)]
    Users(UsersCommand),
    /// List and end users' sessions; purge expired ones.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Revoke users' bearer tokens; make a new signing key.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Read a user's security activity, as their activity page shows it.
    #[command(subcommand)]
    Events(EventsCommand),
}

#[derive(Debug, Subcommand)]
enum EventsCommand {
    /// List a user's events within the retention, newest first.
    List {
        /// The user whose events to list.
        #[arg(long)]
        user: String,
        /// Only events older than this one (the id a previous page ended on).
        #[arg(long)]
        before: Option<i64>,
    },
}

#[derive(Debug, Subcommand)]
enum TokensCommand {
    /// Refuse every bearer token a user holds from now on.
    Revoke { username: String },
    /// Print a new random signing key as a TOKENS_KEYS entry (kid=value), for
    /// the configuration or a secret store; nothing is written anywhere.
    NewKey {
        /// The key id to print (default: today's date).
        #[arg(long)]
        kid: Option<String>,
        /// An Ed25519 private key for TOKENS_ALGORITHM=EdDSA (default: an
        /// HS256 secret); its public key is printed too, for instances that
        /// only verify.
        #[arg(long)]
        eddsa: bool,
    },
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Create a user. The password is asked for twice without echo, or read
    /// from the first line of standard input with --password-stdin.
    Create {
        username: String,
        /// Read the password from standard input (for scripts).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List every user, oldest first.
    List,
    /// Delete a user, ending all their sessions first.
    Delete { username: String },
}

#[derive(Debug, Subcommand)]
enum SessionsCommand {
    /// List a user's live sessions, most recently active first.
    List { username: String },
    /// End one session of a user (--handle, from `sessions list`) or all
    /// (--all: "sign out everywhere", which revokes their bearer tokens too).
    Revoke {
        username: String,
        /// The session's handle, as `sessions list` shows it.
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        handle: Option<String>,
        /// Every session of the user.
        #[arg(long)]
        all: bool,
    },
    /// Delete every expired session now (the server also does so regularly).
    Purge,
}

/// What an admin command can fail with; each says what to do.
#[derive(Debug, thiserror::Error)]
enum AdminError {
    #[error("{0}")]
    Refused(String),
    #[error("no user named {0:?}")]
    NoSuchUser(String),
    #[error("user {0:?} has no session with that handle")]
    NoSuchSession(String),
    #[error(
        "no terminal to ask for the password on; pass it on standard input with --password-stdin"
    )]
    NoTerminal,
    #[error("the password and its confirmation are not the same")]
    PasswordsDiffer,
    #[error("cannot read the password: {0}")]
    Read(std::io::Error),
    #[error(transparent)]
    Startup(#[from] startup::StartupError),
    #[error("configuration: {0}")]
    Config(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("session store: {0}")]
    Store(#[from] crate::server::store::StoreError),
}

impl From<AuthError> for AdminError {
    fn from(error: AuthError) -> Self {
        if error.is_fault() {
            // The detail of a fault, for the operator: it is their server.
            AdminError::Refused(error.to_string())
        } else {
            AdminError::Refused(error.to_public().to_string())
        }
    }
}

/// The whole of `main`: serve, or run one admin command.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.command {
        None | Some(Command::Serve) => return crate::server::run().await,
        Some(Command::Users(command)) => Admin::Users(command),
        Some(Command::Sessions(command)) => Admin::Sessions(command),
        Some(Command::Tokens(TokensCommand::NewKey { kid, eddsa })) => {
            println!("{}", new_key(kid, eddsa));
            return ExitCode::SUCCESS;
        }
        Some(Command::Tokens(command)) => Admin::Tokens(command),
        Some(Command::Events(command)) => Admin::Events(command),
    };
    init_logging();
    match run(command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Warnings and the audit lines of admin actions, on stderr.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,audit=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// The commands other than serving.
enum Admin {
    Users(UsersCommand),
    Sessions(SessionsCommand),
    Tokens(TokensCommand),
    Events(EventsCommand),
}

async fn run(command: Admin) -> Result<(), AdminError> {
    let settings = Settings::load().map_err(|error| AdminError::Config(error.to_string()))?;
    // Read the password before opening anything, so a prompt comes first.
    let password = match &command {
        Admin::Users(UsersCommand::Create { password_stdin, .. }) => {
            Some(read_password(*password_stdin)?)
        }
        _ => None,
    };
    let service = startup::auth_service(&settings).await?;
    let result = match command {
        Admin::Users(command) => users_command(&service, command, password).await,
        Admin::Sessions(command) => sessions_command(&service, command).await,
        Admin::Tokens(command) => tokens_command(&service, command).await,
        Admin::Events(command) => events_command(&service, command).await,
    };
    service.sessions.close().await;
    service.database.close().await;
    result
}

fn read_password(from_stdin: bool) -> Result<Password, AdminError> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(AdminError::Read)?;
        let password = line.strip_suffix('\n').unwrap_or(&line);
        let password = password.strip_suffix('\r').unwrap_or(password);
        return Ok(Password::new(password));
    }
    let prompt = |text: &str| {
        rpassword::prompt_password(text).map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::Unsupported => {
                AdminError::NoTerminal
            }
            _ if error.raw_os_error() == Some(6) => AdminError::NoTerminal, // ENXIO: no tty
            _ => AdminError::Read(error),
        })
    };
    let password = prompt("Password: ")?;
    if prompt("Password again: ")? != password {
        return Err(AdminError::PasswordsDiffer);
    }
    Ok(Password::new(password))
}

async fn user_named(service: &AuthService, name: &str) -> Result<users::UserRecord, AdminError> {
    let key = parse_username(name)
        .map_err(|_| AdminError::NoSuchUser(name.to_string()))?
        .key;
    users::find_by_key(&service.database, &key)
        .await?
        .ok_or_else(|| AdminError::NoSuchUser(name.to_string()))
}

async fn users_command(
    service: &AuthService,
    command: UsersCommand,
    password: Option<Password>,
) -> Result<(), AdminError> {
    match command {
        UsersCommand::Create { username, .. } => {
            let password = password.unwrap_or_default();
            let id = create_user(service, &username, password).await?;
            println!("created user {username:?} (id {id})");
        }
        UsersCommand::List => {
            let all = users::list(&service.database).await?;
            println!("{:>6}  {:<20}  username", "id", "created");
            for user in &all {
                println!("{:>6}  {:<20}  {}", user.id, user.created_at, user.username);
            }
            println!("{} user(s)", all.len());
        }
        UsersCommand::Delete { username } => {
            let user = user_named(service, &username).await?;
            let Some(ended) = deletion::delete_user(service, &user).await? else {
                return Err(AdminError::NoSuchUser(username));
            };
            tracing::info!(target: "audit", event = "account_deleted", user_id = user.id, client = "admin", by = "admin", sessions_ended = ended, outcome = "success");
            println!("deleted user {:?}; {ended} session(s) ended", user.username);
        }
    }
    Ok(())
}

async fn sessions_command(
    service: &AuthService,
    command: SessionsCommand,
) -> Result<(), AdminError> {
    match command {
        SessionsCommand::List { username } => {
            let user = user_named(service, &username).await?;
            let sessions = live_sessions(service, user.id, None).await?;
            println!(
                "{:<32}  {:<20}  {:<20}  {:<15}  {:<8}  device",
                "handle", "last active", "signed in", "client", "remember"
            );
            for session in &sessions {
                println!(
                    "{:<32}  {:<20}  {:<20}  {:<15}  {:<8}  {}",
                    session.handle,
                    utc_text(session.last_active_at),
                    utc_text(session.signed_in_at),
                    session.client,
                    if session.remembered { "yes" } else { "no" },
                    session.device
                );
            }
            println!("{} session(s)", sessions.len());
        }
        SessionsCommand::Revoke {
            username,
            handle,
            all,
        } => {
            let user = user_named(service, &username).await?;
            let ended = match handle {
                Some(handle) if !all => {
                    if !service.sessions.revoke(user.id, &handle).await? {
                        return Err(AdminError::NoSuchSession(username));
                    }
                    let now = service.clock.now();
                    activity::record(&service.database, user.id, now, &by_administrator()).await?;
                    1
                }
                _ => {
                    let event = by_administrator();
                    let ended = sign_out_everywhere(service, user.id, None, event).await?;
                    tracing::info!(target: "audit", event = "tokens_revoked", user_id = user.id, client = "admin", ended = ended.tokens, outcome = "success");
                    println!(
                        "{} bearer token(s) of {:?} revoked",
                        ended.tokens, user.username
                    );
                    ended.sessions
                }
            };
            tracing::info!(target: "audit", event = "sessions_revoked", user_id = user.id, client = "admin", ended, outcome = "success");
            println!("{ended} session(s) of {:?} ended", user.username);
        }
        SessionsCommand::Purge if service.sessions.expires_records_itself() => {
            println!(
                "sessions are in Redis, which deletes each one when it expires: nothing to purge"
            );
        }
        SessionsCommand::Purge => {
            let purged = purge_now(&service.sessions, &service.clock).await?;
            println!("{purged} expired session(s) deleted");
        }
    }
    Ok(())
}

async fn tokens_command(service: &AuthService, command: TokensCommand) -> Result<(), AdminError> {
    match command {
        TokensCommand::Revoke { username } => {
            let user = user_named(service, &username).await?;
            let now = service.clock.now();
            let ended =
                tokens::revoke_all(&service.database, user.id, now, &by_administrator()).await?;
            tracing::info!(target: "audit", event = "tokens_revoked", user_id = user.id, client = "admin", ended, outcome = "success");
            println!("{ended} bearer token(s) of {:?} revoked", user.username);
        }
        TokensCommand::NewKey { kid, eddsa } => println!("{}", new_key(kid, eddsa)),
    }
    Ok(())
}

/// An operator's revocation, as the user's activity page shows it.
fn by_administrator() -> activity::Event {
    activity::Event::by_administrator(ActivityKind::EndedByAdministrator)
}

async fn events_command(service: &AuthService, command: EventsCommand) -> Result<(), AdminError> {
    let EventsCommand::List { user, before } = command;
    let user = user_named(service, &user).await?;
    let page = activity::page_of(service, user.id, before, None).await?;
    println!(
        "{:>16}  {:<20}  {:<24}  {:<15}  device",
        "id", "when", "what", "client"
    );
    for event in &page.events {
        println!(
            "{:>16}  {:<20}  {:<24}  {:<15}  {}",
            event.id,
            utc_text(event.at),
            event.kind.wire_name(),
            event.client,
            event.device
        );
    }
    match page.older {
        Some(older) => println!(
            "{} event(s); older ones: --before {older}",
            page.events.len()
        ),
        None => println!(
            "{} event(s) (kept {} days)",
            page.events.len(),
            page.retention_days
        ),
    }
    Ok(())
}

/// A `TOKENS_KEYS` entry with a fresh random key (and, for Ed25519, the
/// `public:` entry that verifies it).
fn new_key(kid: Option<String>, eddsa: bool) -> String {
    use base64::{engine::general_purpose::STANDARD, Engine};
    let kid = kid.unwrap_or_else(|| {
        let today = OffsetDateTime::now_utc().date();
        format!("k{}", today.to_string().replace('-', ""))
    });
    let secret = tokens::jwt::random_key();
    if eddsa {
        let public = ed25519_dalek::SigningKey::from_bytes(&secret).verifying_key();
        format!(
            "{kid}={}\n# verify-only instances: {kid}=public:{}",
            STANDARD.encode(secret),
            STANDARD.encode(public.as_bytes())
        )
    } else {
        format!("{kid}={}", STANDARD.encode(secret))
    }
}
