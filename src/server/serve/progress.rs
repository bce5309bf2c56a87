//! How far each connection has got, for choosing which one makes room
//! (`slots`): the bytes it has sent, counted by the stream wrapper
//! `Counted`, where its current request began, and whether a request is
//! being answered.

use std::{
    pin::Pin,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    task::{Context, Poll},
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How far one connection has got: the bytes it has sent, where its current
/// request began, and whether a request is being answered.
#[derive(Debug, Default)]
pub struct Progress {
    received: AtomicU64,
    request_began_at: AtomicU64,
    answering: AtomicBool,
}

impl Progress {
    /// The client sent `bytes` more.
    pub fn received(&self, bytes: u64) {
        self.received.fetch_add(bytes, Ordering::Relaxed);
    }

    /// A request's headers are in and it goes to the app.
    pub fn request_began(&self) {
        self.answering.store(true, Ordering::Relaxed);
    }

    /// The request's answer is out: what the client sends next is a new
    /// request.
    pub fn request_ended(&self) {
        self.request_began_at
            .store(self.received.load(Ordering::Relaxed), Ordering::Relaxed);
        self.answering.store(false, Ordering::Relaxed);
    }

    /// Bytes of a request not yet answered (0: idle between requests), or
    /// `None` while a request is being answered.
    pub(super) fn unanswered_bytes(&self) -> Option<u64> {
        if self.answering.load(Ordering::Relaxed) {
            return None;
        }
        Some(
            self.received
                .load(Ordering::Relaxed)
                .saturating_sub(self.request_began_at.load(Ordering::Relaxed)),
        )
    }
}

/// A stream that counts what it reads into a connection's `Progress`.
pub struct Counted<S> {
    inner: S,
    progress: Arc<Progress>,
}

impl<S> Counted<S> {
    pub fn new(inner: S, progress: Arc<Progress>) -> Self {
        Self { inner, progress }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = (buf.filled().len() - before) as u64;
        self.progress.received(read);
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
