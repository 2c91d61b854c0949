//! One WebSocket connection: a reader task (client frames) and a writer (hello,
//! replay, live events, pings). When the reader ends its pong channel closes and the
//! writer stops; when the writer ends the reader is aborted. The user's subscription
//! is dropped with the writer.
//!
//! The writer moves live events from the user's broadcast ring into its own queue as
//! they come, while it writes: so it notices a client falling behind even while a write
//! is stuck. A client more than `ws_buffer` events or `ws_buffer_bytes` bytes behind is
//! closed with 4008 at once instead of holding memory until a send times out; it
//! reconnects with `since` and loses nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{Sink, SinkExt, StreamExt};
use poem::web::websocket::{CloseCode, Message, WebSocketStream};
use serde::Deserialize;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio::sync::mpsc;
use tokio::time::Instant;
use uuid::Uuid;

use super::hello;
use super::queue::{FrameQueue, TooFarBehind};
use crate::auth::Credential;
use crate::domain::backoff::sleep_until_opt;
use crate::domain::Scope;
use crate::http::AppState;
use crate::metrics;

pub const CLOSE_TOO_SLOW: u16 = 4008;
pub const CLOSE_TOKEN_EXPIRED: u16 = 4401;
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// Writing that makes no progress for this long means the client is not reading (4008).
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// A client closed for being too slow has a full socket: its close frame waits behind
/// what the kernel holds, so it gets as long as any frame to read up to it (its
/// subscription and queue are already freed; only the connection stays).
const SLOW_CLOSE_TIMEOUT: Duration = SEND_TIMEOUT;
/// Without any frame from the client for this long (and at least 3 pings), it is gone.
const MIN_SILENCE: Duration = Duration::from_secs(60);
const REPLAY_PAGE: u64 = 500;
/// Frames handed to the socket before a flush when events arrive faster than they are sent.
const MAX_BATCH: usize = 64;

pub(super) struct Conn {
    pub user_id: Uuid,
    pub since: Option<i64>,
    /// Access token expiry (unix seconds); API keys do not expire.
    pub expires_at: Option<i64>,
    /// Kept to re-check: a revoked credential closes the socket with 4401.
    pub credential: Presented,
}

/// The credential the socket was opened with.
pub(super) enum Presented {
    AccessToken(String),
    ApiKey(String),
}

impl Presented {
    pub fn as_credential(&self) -> Credential<'_> {
        match self {
            Presented::AccessToken(t) => Credential::AccessToken(t),
            Presented::ApiKey(k) => Credential::ApiKey(k),
        }
    }
}

/// Whether the socket's credential still works (and still allows reading). A database
/// error keeps the socket: the next check decides. The check's future is boxed (see `write`).
async fn still_valid(state: &AppState, credential: &Presented) -> bool {
    match Box::pin(state.auth.authenticate(credential.as_credential())).await {
        Ok(Some(found)) => found.user.allows(Scope::Read),
        Ok(None) => false,
        Err(e) => {
            tracing::warn!(error = %e, "cannot re-check a WebSocket credential");
            true
        }
    }
}

/// Why the writer stopped.
enum End {
    Gone,
    Close(u16, &'static str),
}

pub(super) async fn serve(state: Arc<AppState>, socket: WebSocketStream, conn: Conn) {
    let _open = state.events.open_socket();
    let (mut sink, stream) = socket.split();
    let started = Instant::now();
    let heard = Arc::new(AtomicU64::new(0));
    let (pong_tx, pong_rx) = mpsc::channel::<()>(4);
    let mut reader = tokio::spawn(read(stream, pong_tx, started, heard.clone()));
    let end = write(&state, &mut sink, conn, pong_rx, started, &heard).await;
    reader.abort();
    let _ = (&mut reader).await;
    let (close, wait) = match end {
        End::Close(CLOSE_TOO_SLOW, reason) => {
            (Message::Close(Some((CloseCode::from(CLOSE_TOO_SLOW), reason.into()))), SLOW_CLOSE_TIMEOUT)
        }
        End::Close(code, reason) => (Message::Close(Some((CloseCode::from(code), reason.into()))), CLOSE_TIMEOUT),
        // Completes the closing handshake when the client started it.
        End::Gone => (Message::Close(None), CLOSE_TIMEOUT),
    };
    let _ = tokio::time::timeout(wait, async {
        let _ = sink.send(close).await;
        let _ = sink.close().await;
    })
    .await;
}

#[derive(Deserialize)]
struct ClientFrame {
    #[serde(rename = "type")]
    kind: String,
}

async fn read<S>(mut stream: S, pong_tx: mpsc::Sender<()>, started: Instant, heard: Arc<AtomicU64>)
where
    S: futures_util::Stream<Item = std::io::Result<Message>> + Unpin,
{
    while let Some(Ok(msg)) = stream.next().await {
        heard.store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        match msg {
            Message::Text(text) => {
                let is_ping = serde_json::from_str::<ClientFrame>(&text).is_ok_and(|f| f.kind == "ping");
                if is_ping && pong_tx.send(()).await.is_err() {
                    return;
                }
            }
            Message::Close(_) => return,
            _ => {}
        }
    }
}

async fn write<S>(
    state: &AppState,
    sink: &mut S,
    conn: Conn,
    mut pong_rx: mpsc::Receiver<()>,
    started: Instant,
    heard: &AtomicU64,
) -> End
where
    S: Sink<Message> + Unpin,
{
    // Subscribe first: the hello's `seq` is read after, so nothing falls in between.
    // The one-off steps before the loop are boxed: inline, their (database) futures would
    // set the size of every socket's task for its whole life.
    let mut live = match Box::pin(state.events.subscribe(conn.user_id)).await {
        Ok(live) => live,
        Err(e) => {
            tracing::error!(error = %e, "cannot subscribe to the user's events");
            return End::Close(1011, "internal error");
        }
    };
    let revoked = state.auth.revocations.subscribe();
    let hello = match Box::pin(hello::build(state, conn.user_id, conn.since)).await {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = ?e, "cannot build hello");
            return End::Close(1011, "internal error");
        }
    };
    if send_text(sink, hello.frame).await.is_err() {
        return End::Gone;
    }
    if let Some(since) = hello.replay_since {
        if let Err(end) = Box::pin(replay(state, sink, conn.user_id, since, hello.last)).await {
            return end;
        }
    }
    let mut last_sent = hello.last;

    let ping_every = Duration::from_secs(state.settings.ws.ws_ping_secs.max(1));
    let silence = (ping_every * 3).max(MIN_SILENCE);
    let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    // Created once and polled across iterations: the rare signals stay registered instead of
    // joining and leaving shared wait lists on every frame written.
    let stop = stop_signal(state, &conn, revoked);
    tokio::pin!(stop);
    let stall = tokio::time::sleep(SEND_TIMEOUT);
    tokio::pin!(stall);
    let mut out = Outgoing::new(FrameQueue::new(state.settings.ws.ws_buffer, state.settings.ws.ws_buffer_bytes));
    loop {
        let step = out.next_step();
        tokio::select! {
            end = &mut stop => return end,
            ev = live.recv() => {
                let mut next = match ev {
                    Ok(ev) => Some(ev),
                    Err(RecvError::Lagged(_)) => return too_slow(),
                    Err(RecvError::Closed) => return End::Gone,
                };
                // Take everything already waiting, so the ring holds nothing for us.
                while let Some(ev) = next.take() {
                    if ev.seq > last_sent {
                        last_sent = ev.seq;
                        if out.push(Message::Text(ev.frame().to_string())).is_err() {
                            return too_slow();
                        }
                    }
                    next = match live.try_recv() {
                        Ok(ev) => Some(ev),
                        Err(TryRecvError::Empty) => None,
                        Err(TryRecvError::Lagged(_)) => return too_slow(),
                        Err(TryRecvError::Closed) => return End::Gone,
                    };
                }
            },
            done = wait_for(sink, step), if step != Step::Idle => {
                if done.is_err() || out.done(sink, step).is_err() {
                    return End::Gone;
                }
            }
            // Polled only while there is something to write. When it fires, writing that made
            // progress meanwhile (or started only now) re-arms it for the rest of its
            // SEND_TIMEOUT, so the timer is touched at most once per SEND_TIMEOUT, not per frame.
            () = &mut stall, if step != Step::Idle => {
                let deadline = out.deadline();
                if deadline <= Instant::now() {
                    // Nothing could be written for SEND_TIMEOUT: the client is not reading.
                    return too_slow();
                }
                stall.as_mut().reset(deadline);
            }
            pong = pong_rx.recv() => {
                // `None`: the reader ended, so the client is gone.
                if pong.is_none() {
                    return End::Gone;
                }
                if out.push(Message::Text(r#"{"type":"pong"}"#.to_owned())).is_err() {
                    return too_slow();
                }
            }
            _ = ping.tick() => {
                let quiet = started.elapsed().saturating_sub(Duration::from_millis(heard.load(Ordering::Relaxed)));
                if quiet > silence {
                    return End::Gone;
                }
                // Frames on their way already show the connection is used.
                if out.is_idle() && out.push(Message::Ping(Vec::new())).is_err() {
                    return too_slow();
                }
            }
        }
    }
}

/// Resolves when the socket must close for a reason other than its traffic: the
/// credential was revoked or stopped working, the token expired, the server is stopping.
async fn stop_signal(state: &AppState, conn: &Conn, mut revoked: broadcast::Receiver<Uuid>) -> End {
    let expiry = conn.expires_at.map(|exp| {
        let left = exp.saturating_mul(1000).saturating_sub(chrono::Utc::now().timestamp_millis());
        Instant::now() + Duration::from_millis(left.max(0) as u64)
    });
    let expiry = sleep_until_opt(expiry);
    tokio::pin!(expiry);
    let mut stopping = state.shutting_down.subscribe();
    let recheck_every = Duration::from_secs(state.settings.ws.ws_auth_recheck_secs.max(1));
    let mut recheck = tokio::time::interval_at(Instant::now() + recheck_every, recheck_every);
    let mut announced = true;
    loop {
        tokio::select! {
            notice = revoked.recv(), if announced => {
                let concerns_me = match notice {
                    Ok(user_id) => user_id == conn.user_id,
                    // Missed notices might have been ours.
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => {
                        announced = false;
                        false
                    }
                };
                if concerns_me && !still_valid(state, &conn.credential).await {
                    return revoked_close();
                }
            }
            _ = recheck.tick() => {
                if !still_valid(state, &conn.credential).await {
                    return revoked_close();
                }
            }
            _ = &mut expiry => return End::Close(CLOSE_TOKEN_EXPIRED, "token expired"),
            () = shutting_down(&mut stopping) => return End::Close(CLOSE_GOING_AWAY, "server shutting down"),
        }
    }
}

async fn shutting_down(stopping: &mut tokio::sync::watch::Receiver<bool>) {
    if stopping.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn revoked_close() -> End {
    End::Close(CLOSE_TOKEN_EXPIRED, "credential revoked")
}

/// What the writer waits for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Nothing to write.
    Idle,
    /// Room in the socket for the next queued frame.
    Ready,
    /// The frames handed over so far to reach the network.
    Flush,
}

/// The socket's queue and how far its writing got.
struct Outgoing {
    queue: FrameQueue,
    /// Frames handed to the socket since its last flush.
    unflushed: usize,
    /// When writing last made progress (or started): a socket stuck past SEND_TIMEOUT is gone.
    progress_at: Instant,
}

impl Outgoing {
    fn new(queue: FrameQueue) -> Self {
        Self { queue, unflushed: 0, progress_at: Instant::now() }
    }

    fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.unflushed == 0
    }

    fn push(&mut self, frame: Message) -> Result<(), TooFarBehind> {
        if self.is_idle() {
            self.progress_at = Instant::now();
        }
        self.queue.push(frame)
    }

    fn next_step(&self) -> Step {
        if !self.queue.is_empty() && self.unflushed < MAX_BATCH {
            Step::Ready
        } else if self.unflushed > 0 {
            Step::Flush
        } else {
            Step::Idle
        }
    }

    fn deadline(&self) -> Instant {
        self.progress_at + SEND_TIMEOUT
    }

    /// `step` completed: hand over the next frame, or note the flush.
    fn done<S>(&mut self, sink: &mut S, step: Step) -> Result<(), ()>
    where
        S: Sink<Message> + Unpin,
    {
        self.progress_at = Instant::now();
        match step {
            Step::Ready => {
                let Some(frame) = self.queue.pop() else { return Ok(()) };
                let text = matches!(frame, Message::Text(_));
                sink.start_send_unpin(frame).map_err(|_| ())?;
                if text {
                    metrics::WS_FRAMES_SENT.inc();
                }
                self.unflushed += 1;
            }
            Step::Flush => self.unflushed = 0,
            Step::Idle => {}
        }
        Ok(())
    }
}

/// Waits until the socket can take `step`. Dropping it loses nothing (no frame is moved),
/// so events arriving meanwhile are queued and counted against the budget.
async fn wait_for<S>(sink: &mut S, step: Step) -> Result<(), ()>
where
    S: Sink<Message> + Unpin,
{
    let polled = match step {
        Step::Ready => std::future::poll_fn(|cx| sink.poll_ready_unpin(cx)).await,
        Step::Flush => std::future::poll_fn(|cx| sink.poll_flush_unpin(cx)).await,
        Step::Idle => Ok(()),
    };
    polled.map_err(|_| ())
}

fn too_slow() -> End {
    metrics::WS_SLOW_CLOSES.inc();
    End::Close(CLOSE_TOO_SLOW, "too slow: reconnect with since")
}

/// Sends the stored events `since+1..=until`, page by page.
async fn replay<S>(state: &AppState, sink: &mut S, user_id: Uuid, since: i64, until: i64) -> Result<(), End>
where
    S: Sink<Message> + Unpin,
{
    let mut cursor = since;
    while cursor < until {
        let page = state.events.after(user_id, cursor, REPLAY_PAGE).await.map_err(|e| {
            tracing::error!(error = %e, "cannot read events to replay");
            End::Close(1011, "internal error")
        })?;
        if page.first().is_none_or(|e| e.seq != cursor + 1) {
            // Purged while replaying: the client must start over from a snapshot.
            return Err(End::Close(CLOSE_TOO_SLOW, "too slow: reconnect with since"));
        }
        for ev in page.into_iter().take_while(|e| e.seq <= until) {
            cursor = ev.seq;
            send_text(sink, ev.frame().to_string()).await.map_err(|()| End::Gone)?;
        }
    }
    Ok(())
}

async fn send_text<S>(sink: &mut S, text: String) -> Result<(), ()>
where
    S: Sink<Message> + Unpin,
{
    send(sink, Message::Text(text)).await?;
    metrics::WS_FRAMES_SENT.inc();
    Ok(())
}

async fn send<S>(sink: &mut S, msg: Message) -> Result<(), ()>
where
    S: Sink<Message> + Unpin,
{
    match tokio::time::timeout(SEND_TIMEOUT, sink.send(msg)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}
