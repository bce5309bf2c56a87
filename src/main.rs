//! Server entry point: everything happens in `server::run`.
#![forbid(unsafe_code)]

/// mimalloc instead of glibc's malloc: SSR allocates and frees many small
/// objects per request, across threads (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    persistent_login::server::run().await
}
