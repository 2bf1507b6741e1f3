//! Connection limits that poem's server does not offer: a deadline for a request's complete
//! headers, one for a keep-alive connection that sits idle, and a cap on open connections.
//! They wrap the acceptor and each socket, so they hold whatever serves the connection.

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// From a connection's first byte (or its opening) to the end of a request's headers.
    pub header_timeout: Duration,
    /// Between a response and the next request on a keep-alive connection.
    pub idle_timeout: Duration,
    /// Open connections at once; more wait in the kernel's backlog.
    pub max_connections: usize,
}

pub struct LimitedAcceptor<A> {
    inner: A,
    limits: ConnectionLimits,
    permits: Arc<Semaphore>,
}

impl<A> LimitedAcceptor<A> {
    pub fn new(inner: A, limits: ConnectionLimits) -> Self {
        Self {
            inner,
            limits,
            permits: Arc::new(Semaphore::new(limits.max_connections.max(1))),
        }
    }
}

impl<A: Acceptor> Acceptor for LimitedAcceptor<A> {
    type Io = Guarded<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(io::Error::other)?;
        let (io, local, remote, scheme) = self.inner.accept().await?;
        Ok((Guarded::new(io, self.limits, permit), local, remote, scheme))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading a request's headers: `header_timeout` runs.
    Headers,
    /// Headers read; the request is being handled. No deadline: handlers and bodies take
    /// what they take.
    Request,
    /// A response was written; waiting for the next request: `idle_timeout` runs.
    Idle,
    /// HTTP/2: requests interleave, so only `idle_timeout` since the last byte either way.
    Multiplexed,
}

const END_OF_HEADERS: &[u8] = b"\r\n\r\n";
const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0";

/// Finds the blank line that ends a request's headers, which may straddle reads.
#[derive(Debug, Default)]
struct HeaderEnd {
    /// How much of `END_OF_HEADERS` the bytes read so far end with.
    matched: usize,
}

impl HeaderEnd {
    fn found_in(&mut self, bytes: &[u8]) -> bool {
        // A match begun at the end of the previous read, byte by byte while it lasts.
        let mut rest = bytes;
        while self.matched > 0 {
            let Some((&byte, tail)) = rest.split_first() else {
                return false;
            };
            rest = tail;
            self.matched = if byte == END_OF_HEADERS[self.matched] {
                self.matched + 1
            } else {
                usize::from(byte == END_OF_HEADERS[0])
            };
            if self.matched == END_OF_HEADERS.len() {
                return true;
            }
        }
        // Then a vectorized search of the rest, remembering a partial match at its end.
        if memchr::memmem::find(rest, END_OF_HEADERS).is_some() {
            return true;
        }
        self.matched = (1..END_OF_HEADERS.len())
            .rev()
            .find(|&n| rest.ends_with(&END_OF_HEADERS[..n]))
            .unwrap_or(0);
        false
    }
}

/// A socket that is closed (reads fail with `TimedOut`) when its deadline passes.
pub struct Guarded<Io> {
    io: Io,
    limits: ConnectionLimits,
    phase: Phase,
    header_end: HeaderEnd,
    first_read: bool,
    deadline: Pin<Box<Sleep>>,
    _permit: OwnedSemaphorePermit,
}

impl<Io> Guarded<Io> {
    fn new(io: Io, limits: ConnectionLimits, permit: OwnedSemaphorePermit) -> Self {
        Self {
            io,
            limits,
            phase: Phase::Headers,
            header_end: HeaderEnd::default(),
            first_read: true,
            deadline: Box::pin(tokio::time::sleep(limits.header_timeout)),
            _permit: permit,
        }
    }

    fn enter(&mut self, phase: Phase, timeout: Duration) {
        self.phase = phase;
        self.deadline.as_mut().reset(Instant::now() + timeout);
    }

    fn read(&mut self, bytes: &[u8]) {
        if std::mem::take(&mut self.first_read) && bytes.starts_with(HTTP2_PREFACE) {
            self.enter(Phase::Multiplexed, self.limits.idle_timeout);
            return;
        }
        match self.phase {
            Phase::Multiplexed => self.enter(Phase::Multiplexed, self.limits.idle_timeout),
            Phase::Request => {}
            Phase::Idle => {
                self.enter(Phase::Headers, self.limits.header_timeout);
                self.header_end = HeaderEnd::default();
                self.scan(bytes);
            }
            Phase::Headers => self.scan(bytes),
        }
    }

    fn scan(&mut self, bytes: &[u8]) {
        if self.header_end.found_in(bytes) {
            self.phase = Phase::Request;
        }
    }

    fn wrote(&mut self) {
        match self.phase {
            Phase::Request | Phase::Idle => self.enter(Phase::Idle, self.limits.idle_timeout),
            Phase::Multiplexed => self.enter(Phase::Multiplexed, self.limits.idle_timeout),
            // An early answer (a malformed request): hyper closes the connection after it.
            Phase::Headers => {}
        }
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for Guarded<Io> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.phase != Phase::Request && this.deadline.as_mut().poll(cx).is_ready() {
            let what = match this.phase {
                Phase::Headers => "request headers not complete in time",
                _ => "idle connection",
            };
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what)));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let filled = buf.filled();
            if filled.len() > before {
                this.read(&filled[before..]);
            }
        }
        polled
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Guarded<Io> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled
            && n > 0
        {
            self.wrote();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled
            && n > 0
        {
            self.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::HeaderEnd;

    const REQUEST: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";

    /// Where the end is found, when `bytes` arrive cut at every possible pair of places.
    #[test]
    fn the_end_of_headers_is_found_however_the_reads_cut_it() {
        let end = REQUEST.len();
        for a in 0..=end {
            for b in a..=end {
                let mut header_end = HeaderEnd::default();
                let found = [&REQUEST[..a], &REQUEST[a..b], &REQUEST[b..]]
                    .iter()
                    .position(|read| header_end.found_in(read));
                let expected = if a == end {
                    0
                } else if b == end {
                    1
                } else {
                    2
                };
                assert_eq!(found, Some(expected), "cut at {a} and {b}");
            }
        }
    }

    #[test]
    fn near_misses_are_not_the_end() {
        for bytes in [
            &b"GET / HTTP/1.1\r\nHost: a\r\n"[..],
            b"\r\n\r",
            b"\r\r\n\n",
            b"\n\r\n\r",
        ] {
            for cut in 0..=bytes.len() {
                let mut header_end = HeaderEnd::default();
                assert!(
                    !header_end.found_in(&bytes[..cut]),
                    "{bytes:?} cut at {cut}"
                );
                assert!(
                    !header_end.found_in(&bytes[cut..]),
                    "{bytes:?} cut at {cut}"
                );
            }
        }
    }
}
