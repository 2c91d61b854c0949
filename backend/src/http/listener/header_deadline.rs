//! Closes a connection whose request head does not arrive in time (slowloris, or simply
//! silent sockets holding file descriptors). The deadline runs from accept for the first
//! request and from its first byte for later ones on a keep-alive connection; after a
//! `101 Switching Protocols` (WebSocket) it no longer applies.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

pub struct HeaderDeadline<S, G> {
    inner: S,
    timeout: Duration,
    /// Set while a request head is being read.
    deadline: Option<Pin<Box<Sleep>>>,
    /// Last bytes of the head so far, to find `\r\n\r\n` across reads.
    tail: [u8; 3],
    /// A response was written: the next read starts a new head.
    answered: bool,
    upgraded: bool,
    _guard: G,
}

impl<S, G> HeaderDeadline<S, G> {
    pub fn new(inner: S, timeout: Duration, guard: G) -> Self {
        Self {
            inner,
            timeout,
            deadline: Some(Box::pin(tokio::time::sleep(timeout))),
            tail: [0; 3],
            answered: false,
            upgraded: false,
            _guard: guard,
        }
    }

    /// Whether `data` (after what was seen before) completes a request head.
    fn head_complete(&mut self, data: &[u8]) -> bool {
        let mut window: Vec<u8> = self.tail.to_vec();
        window.extend_from_slice(data);
        let done = window.windows(4).any(|w| w == b"\r\n\r\n");
        let keep = window.len().saturating_sub(3);
        self.tail.copy_from_slice(&window[keep..keep + 3]);
        done
    }
}

impl<S: AsyncRead + Unpin, G: Unpin> AsyncRead for HeaderDeadline<S, G> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(deadline) = this.deadline.as_mut() {
            if deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "request head timed out")));
            }
        }
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = result {
            let read = buf.filled()[before..].to_vec();
            if read.is_empty() || this.upgraded {
                return result;
            }
            if this.answered && this.deadline.is_none() {
                this.answered = false;
                this.tail = [0; 3];
                this.deadline = Some(Box::pin(tokio::time::sleep_until(Instant::now() + this.timeout)));
            }
            if this.deadline.is_some() && this.head_complete(&read) {
                this.deadline = None;
            }
        }
        result
    }
}

impl<S: AsyncWrite + Unpin, G: Unpin> AsyncWrite for HeaderDeadline<S, G> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if data.starts_with(b"HTTP/1.1 101") {
            this.upgraded = true;
            this.deadline = None;
        }
        this.answered = true;
        Pin::new(&mut this.inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if bufs.first().is_some_and(|b| b.starts_with(b"HTTP/1.1 101")) {
            this.upgraded = true;
            this.deadline = None;
        }
        this.answered = true;
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
