//! The HTTP server: accepts connections and serves the router on each, with
//! a header, body and idle timeout, a limit on connections and a bounded
//! graceful shutdown, so that no client, however slow or stuck, holds a
//! connection (or the process, after a shutdown signal) for long.
//!
//! `axum::serve` has none of these, and hyper's HTTP/1 header read timeout
//! does not fit: its clock starts whenever hyper waits for a request, also
//! on a kept-alive connection between requests, so it would double as an
//! idle timeout as short as the header timeout. Instead each connection
//! keeps track of what it is doing (`Phase`) and its socket enforces the
//! deadline of that phase on reads; request bodies carry their own
//! deadline.
//!
//! At the connection limit meshdeck stops accepting: new connections wait
//! in the kernel's listen queue rather than being refused, since every
//! connection served leaves within a bounded time (the timeouts), and
//! connections kept alive with nothing to do are closed at once to make
//! room for a waiting one.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Request, StatusCode, header};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

/// Default of `--http-header-timeout`.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default of `--http-body-timeout`.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Default of `--http-idle-timeout`.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Default of `--http-max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Default of `--shutdown-grace`.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How long to pause accepting after an error that is not about one
/// connection (out of file descriptors, say), instead of spinning on it.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);
/// At most one warning about the connection limit per this long, however
/// many connections wait.
const LIMIT_WARNING_INTERVAL: Duration = Duration::from_secs(60);

/// Timeouts and limits of the HTTP server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServeOptions {
    /// Longest a client may take to send a request line and headers:
    /// counted from the accept for a connection's first request, from its
    /// first byte for later ones. Steady trickling does not extend it.
    pub header_timeout: Duration,
    /// Longest a request body may take to arrive in full, counted from the
    /// end of the headers; a handler still waiting for it then gets an
    /// error and the client a 408, and the connection is closed.
    pub body_timeout: Duration,
    /// Longest a connection may wait for its client with nothing else to
    /// do: between requests (keep-alive), or with a response the client
    /// does not read (a write that makes no progress).
    pub idle_timeout: Duration,
    /// Most connections served at once; further ones wait to be accepted.
    pub max_connections: usize,
    /// After the shutdown signal, how long requests in flight may take to
    /// finish before every connection still open is closed.
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

/// Serves `router` on the connections `listener` accepts until `shutdown`
/// resolves; then stops accepting, closes connections with nothing in
/// flight, lets requests in flight finish for at most the shutdown grace,
/// closes whatever is left and returns. Handlers see the client's address
/// as the `ConnectInfo<SocketAddr>` extension.
pub async fn serve_on(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = http1::Builder::new();
    // The phases' deadlines replace hyper's (see the module's docs).
    http.header_read_timeout(None);
    let http = Arc::new(http);
    let slots = Arc::new(Semaphore::new(options.max_connections));
    // Tells connections to finish (graceful shutdown).
    let (stop, _) = watch::channel(());
    // True while an accepted connection waits for a slot: idle ones close.
    let (pressure, _) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut last_limit_warning: Option<Instant> = None;
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            // Finished connections are collected as they end, so the set
            // holds no more than the connections open.
            Some(ended) = connections.join_next() => {
                if let Err(err) = ended {
                    tracing::error!(%err, "a connection's task failed");
                }
                continue;
            }
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) if is_connection_error(&err) => {
                    tracing::debug!(%err, "a connection failed while being accepted");
                    continue;
                }
                Err(err) => {
                    tracing::error!(%err, "cannot accept connections; trying again shortly");
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => continue,
                    }
                }
            },
        };
        let permit = match slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if last_limit_warning.is_none_or(|t| t.elapsed() >= LIMIT_WARNING_INTERVAL) {
                    last_limit_warning = Some(Instant::now());
                    tracing::warn!(
                        limit = options.max_connections,
                        "connection limit reached: new connections wait (--http-max-connections)"
                    );
                }
                pressure.send_replace(true);
                let permit = tokio::select! {
                    () = &mut shutdown => break,
                    permit = slots.clone().acquire_owned() => permit,
                };
                pressure.send_replace(false);
                match permit {
                    Ok(permit) => permit,
                    // The semaphore is never closed.
                    Err(_) => break,
                }
            }
        };
        connections.spawn(serve_connection(Connection {
            stream,
            peer,
            router: router.clone(),
            options,
            http: http.clone(),
            stop: stop.subscribe(),
            pressure: pressure.subscribe(),
            _slot: permit,
        }));
    }

    // Shutting down: no new connections (the kernel refuses them once the
    // listener is gone), the open ones finish within the grace.
    drop(listener);
    stop.send_replace(());
    tracing::info!(
        open = connections.len(),
        grace = ?options.shutdown_grace,
        "stopped accepting connections; letting requests in flight finish"
    );
    let drained = tokio::time::timeout(options.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            grace = ?options.shutdown_grace,
            "closing the connections still open after the shutdown grace period"
        );
        connections.shutdown().await;
    }
}

/// Errors of one connection (the client gave up during the handshake),
/// which say nothing about the listener.
fn is_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// An accepted connection and what serving it needs.
struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    options: ServeOptions,
    http: Arc<http1::Builder>,
    stop: watch::Receiver<()>,
    pressure: watch::Receiver<bool>,
    /// Held while the connection is open (the connection limit).
    _slot: OwnedSemaphorePermit,
}

async fn serve_connection(connection: Connection) {
    let Connection {
        stream,
        peer,
        router,
        options,
        http,
        mut stop,
        mut pressure,
        _slot,
    } = connection;
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(TimedIo {
        stream,
        activity: activity.clone(),
        options,
        pressure: pressure.clone(),
        read_timer: None,
        write_stalled: None,
    });
    let service = ConnectionService {
        router,
        peer,
        activity: activity.clone(),
        body_timeout: options.body_timeout,
    };
    let mut conn = pin!(http.serve_connection(io, service));
    let mut stopping = false;
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(err) = ended {
                    tracing::debug!(%peer, %err, "connection closed");
                }
                return;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                // The request in flight, if any, is answered with
                // `Connection: close`; nothing more is read.
                conn.as_mut().graceful_shutdown();
                if activity.is_waiting() {
                    return;
                }
            }
            Ok(()) = pressure.changed() => {
                if *pressure.borrow_and_update() && activity.phase() == Phase::Idle {
                    tracing::debug!(%peer, "closing an idle connection to make room");
                    return;
                }
            }
        }
    }
}

/// What a connection is doing, which decides the deadline of its reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Accepted; nothing has arrived yet.
    New,
    /// Part of a request head has arrived.
    Head,
    /// Serving a request: from its complete head to the end of its
    /// response. Only the body has a deadline here (its own).
    Busy,
    /// Kept alive between requests.
    Idle,
}

/// A connection's phase, shared by its socket (which reads) and its
/// service (which sees requests begin and end).
struct Activity {
    state: Mutex<ActivityState>,
}

struct ActivityState {
    phase: Phase,
    /// When the phase's clock started.
    since: Instant,
    /// Requests whose responses are not finished (one at a time in HTTP/1,
    /// counted to be safe).
    in_flight: usize,
    /// The task of a read left waiting without a deadline while a request
    /// was served: when the request ends its read must start the idle
    /// clock, and hyper may have polled it before dropping the response.
    reader: Option<Waker>,
}

impl Activity {
    fn new() -> Self {
        Activity {
            state: Mutex::new(ActivityState {
                phase: Phase::New,
                since: Instant::now(),
                in_flight: 0,
                reader: None,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, ActivityState> {
        // The state stays consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn phase(&self) -> Phase {
        self.state().phase
    }

    /// Nothing started that could be lost by closing the connection.
    fn is_waiting(&self) -> bool {
        matches!(self.phase(), Phase::New | Phase::Idle)
    }

    fn bytes_arrived(&self) {
        let mut state = self.state();
        match state.phase {
            // The first request's head counts from the accept.
            Phase::New => state.phase = Phase::Head,
            Phase::Idle => {
                state.phase = Phase::Head;
                state.since = Instant::now();
            }
            Phase::Head | Phase::Busy => {}
        }
    }

    fn request_started(&self) {
        let mut state = self.state();
        state.in_flight += 1;
        state.phase = Phase::Busy;
    }

    fn request_finished(&self) {
        let reader = {
            let mut state = self.state();
            state.in_flight = state.in_flight.saturating_sub(1);
            if state.in_flight > 0 {
                return;
            }
            state.phase = Phase::Idle;
            state.since = Instant::now();
            state.reader.take()
        };
        if let Some(reader) = reader {
            reader.wake();
        }
    }

    /// When a read waiting for the client gives up, and why; `None` while a
    /// request is served (then `reader` is woken when it ends). Under
    /// pressure an idle connection gives up now.
    fn read_deadline(
        &self,
        options: &ServeOptions,
        pressure: bool,
        reader: &Waker,
    ) -> Option<(Instant, &'static str)> {
        let mut state = self.state();
        match state.phase {
            Phase::New | Phase::Head => Some((
                state.since + options.header_timeout,
                "no complete request head within the header timeout",
            )),
            Phase::Busy => {
                match &mut state.reader {
                    Some(waker) => waker.clone_from(reader),
                    None => state.reader = Some(reader.clone()),
                }
                None
            }
            Phase::Idle if pressure => Some((
                state.since,
                "idle at the connection limit, closed to make room",
            )),
            Phase::Idle => Some((
                state.since + options.idle_timeout,
                "no new request within the idle timeout",
            )),
        }
    }
}

/// Polls a timer for `deadline`, made on first use and moved when the
/// deadline changes; true once the deadline has passed.
fn deadline_passed(
    timer: &mut Option<Pin<Box<Sleep>>>,
    deadline: Instant,
    cx: &mut Context<'_>,
) -> bool {
    let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
    if timer.deadline() != deadline {
        timer.as_mut().reset(deadline);
    }
    timer.as_mut().poll(cx).is_ready()
}

/// The client's socket with the phase's deadline on reads and the idle
/// timeout on writes that make no progress.
struct TimedIo {
    stream: TcpStream,
    activity: Arc<Activity>,
    options: ServeOptions,
    pressure: watch::Receiver<bool>,
    read_timer: Option<Pin<Box<Sleep>>>,
    /// Since when writes have been blocked (the client reads nothing), and
    /// the timer of that.
    write_stalled: Option<(Instant, Pin<Box<Sleep>>)>,
}

impl TimedIo {
    /// Passes on a write's outcome, unless writes have been blocked for the
    /// idle timeout: then the connection fails.
    fn write_outcome<T>(
        &mut self,
        cx: &mut Context<'_>,
        outcome: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if outcome.is_ready() {
            self.write_stalled = None;
            return outcome;
        }
        let idle_timeout = self.options.idle_timeout;
        let (since, timer) = self.write_stalled.get_or_insert_with(|| {
            let now = Instant::now();
            (now, Box::pin(tokio::time::sleep_until(now + idle_timeout)))
        });
        if timer.as_mut().poll(cx).is_ready() {
            tracing::debug!(stalled = ?since.elapsed(), "the client takes no response data");
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client took no response data within the idle timeout",
            )));
        }
        Poll::Pending
    }
}

impl AsyncRead for TimedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.activity.bytes_arrived();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => {
                let pressure = *this.pressure.borrow();
                match this
                    .activity
                    .read_deadline(&this.options, pressure, cx.waker())
                {
                    Some((deadline, why))
                        if deadline_passed(&mut this.read_timer, deadline, cx) =>
                    {
                        Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, why)))
                    }
                    _ => Poll::Pending,
                }
            }
        }
    }
}

impl AsyncWrite for TimedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.write_outcome(cx, outcome)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.write_outcome(cx, outcome)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.stream).poll_flush(cx);
        this.write_outcome(cx, outcome)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The router as one connection's hyper service: adds the peer address,
/// the body deadline and the phase bookkeeping to each request.
#[derive(Clone)]
struct ConnectionService {
    router: Router,
    peer: SocketAddr,
    activity: Arc<Activity>,
    body_timeout: Duration,
}

type ServiceFuture =
    Pin<Box<dyn Future<Output = Result<Response<TrackedBody>, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = ServiceFuture;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let in_flight = InFlight::start(self.activity.clone());
        let timed_out = Arc::new(AtomicBool::new(false));
        let body_timeout = self.body_timeout;
        let deadline = Instant::now() + body_timeout;
        let mut request = request.map(|body| {
            Body::new(TimedBody {
                inner: body,
                deadline,
                timer: None,
                timed_out: timed_out.clone(),
            })
        });
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let router = self.router.clone();
        Box::pin(async move {
            let Ok(response) = router.oneshot(request).await;
            // Whatever the handler made of the failed body (extractors
            // answer 400), the client was too slow.
            let response = if timed_out.load(Ordering::Relaxed) {
                body_timeout_response(body_timeout)
            } else {
                response
            };
            Ok(response.map(|inner| TrackedBody {
                inner,
                _in_flight: in_flight,
            }))
        })
    }
}

/// 408 with meshdeck's JSON error; the connection closes after it (the
/// rest of the body would be read as the next request).
fn body_timeout_response(body_timeout: Duration) -> Response {
    let message = format!(
        "the request body did not arrive within {} s",
        body_timeout.as_secs_f64()
    );
    let mut response = crate::Error::BadRequest(message).into_response();
    *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request from its complete head until its response is finished or
/// dropped.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: Arc<Activity>) -> Self {
        activity.request_started();
        InFlight(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}

/// A response body that ends the request's [`InFlight`] when hyper is done
/// with it.
struct TrackedBody {
    inner: Body,
    _in_flight: InFlight,
}

impl HttpBody for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The request body did not arrive within the body timeout.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within the body timeout")]
struct BodyTimeout;

/// A request body that fails with [`BodyTimeout`] once its deadline has
/// passed with the body incomplete.
struct TimedBody {
    inner: Incoming,
    deadline: Instant,
    timer: Option<Pin<Box<Sleep>>>,
    timed_out: Arc<AtomicBool>,
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if deadline_passed(&mut this.timer, this.deadline, cx) {
            this.timed_out.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(Box::new(BodyTimeout))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_phases_set_the_read_deadlines() {
        let options = ServeOptions {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(90),
            ..ServeOptions::default()
        };
        let activity = Activity::new();
        let accepted = activity.state().since;
        let deadline = |pressure| {
            activity
                .read_deadline(&options, pressure, Waker::noop())
                .map(|(d, _)| d)
        };
        // The first request's head counts from the accept, bytes or not.
        assert_eq!(deadline(false), Some(accepted + options.header_timeout));
        activity.bytes_arrived();
        assert_eq!(activity.phase(), Phase::Head);
        assert_eq!(deadline(false), Some(accepted + options.header_timeout));
        // No read deadline while serving, whatever the pressure.
        activity.request_started();
        assert_eq!(deadline(true), None);
        assert!(!activity.is_waiting());
        activity.request_finished();
        let idle = activity.state().since;
        assert!(activity.is_waiting());
        assert_eq!(deadline(false), Some(idle + options.idle_timeout));
        assert_eq!(deadline(true), Some(idle));
        // The next head counts from its first byte.
        activity.bytes_arrived();
        let head = activity.state().since;
        assert!(head >= idle);
        assert_eq!(deadline(false), Some(head + options.header_timeout));
    }
}
