//! Server entry point: everything happens in `server::run`.
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> std::process::ExitCode {
    persistent_login::server::run().await
}
