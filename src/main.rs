//! The binary's entry point: `admin::main` serves, or runs an admin command.
#![forbid(unsafe_code)]

/// mimalloc instead of glibc's malloc: SSR allocates and frees many small
/// objects per request, across threads (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    persistent_login::admin::main().await
}
