//! Server only: settings, database, middleware and start-up. `run` is the
//! whole of `main`.

pub mod api;
pub mod config;
pub mod errors;
pub mod files;
pub mod http;
pub mod mail;
pub mod outage;
pub mod serve;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;

use std::process::ExitCode;

pub async fn run() -> ExitCode {
    telemetry::init();
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let settings = config::Settings::load()?;
    let leptos_options = leptos::config::get_configuration(None)?.leptos_options;
    let app = startup::build(&settings, leptos_options).await?;
    tracing::info!(database = %settings.database.redacted_url(), sessions = ?settings.session.store, "listening on http://{}", app.local_addr());
    app.run_until(shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
