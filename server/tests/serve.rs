//! The HTTP server against slow, idle and too many clients, over real TCP
//! with raw HTTP/1.1 bytes: the header, body and idle timeouts, the
//! connection limit, the bounded graceful shutdown, and the peer address
//! reaching handlers (auth-proxy mode depends on it).
//!
//! Each test sets the one timeout it is about to something short and the
//! others to a minute, so a connection closed within the bound asserted can
//! only have been closed by that timeout. Bounds are generous (3x the
//! timeout); the measured times are printed (`--nocapture`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::types::{AuthMode, RunMode};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, State};
use axum::routing::{get, post};
use meshdeck_server::AppState;
use meshdeck_server::auth::proxy::ProxyOptions;
use meshdeck_server::auth::{AuthOptions, Authenticator};
use meshdeck_server::serve::{ServeOptions, serve_on};
use meshdeck_server::spa::Spa;
use meshdeck_server::upstream::Upstreams;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};

/// Every timeout a test is not about: far beyond any bound asserted.
const LONG: Duration = Duration::from_secs(60);
/// How long a step that should happen promptly may take before the test
/// fails (instead of hanging).
const PROMPT: Duration = Duration::from_secs(5);

const GET_HELLO: &[u8] = b"GET /hello HTTP/1.1\r\nHost: meshdeck\r\n\r\n";

fn options() -> ServeOptions {
    ServeOptions {
        header_timeout: LONG,
        body_timeout: LONG,
        idle_timeout: LONG,
        max_connections: 64,
        shutdown_grace: LONG,
    }
}

/// Lets a test see that a handler has started and decide when `/wait`
/// answers.
#[derive(Clone)]
struct Probe {
    started: Arc<Notify>,
    release: Arc<Semaphore>,
}

fn router(probe: Probe) -> Router {
    Router::new()
        .route("/hello", get(|| async { "hello" }))
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        )
        .route(
            "/echo",
            post(|body: Bytes| async move { body.len().to_string() }),
        )
        .route("/wait", get(wait))
        .route("/sleep/{ms}", get(sleep))
        .route("/endless", get(endless))
        .with_state(probe)
}

async fn wait(State(probe): State<Probe>) -> &'static str {
    probe.started.notify_one();
    probe.release.acquire().await.unwrap().forget();
    "released"
}

async fn sleep(State(probe): State<Probe>, Path(ms): Path<u64>) -> &'static str {
    probe.started.notify_one();
    tokio::time::sleep(Duration::from_millis(ms)).await;
    "slept"
}

/// A response that never ends: only a client that reads can take it.
async fn endless() -> Body {
    let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
    Body::from_stream(futures::stream::repeat_with(move || {
        Ok::<_, std::io::Error>(chunk.clone())
    }))
}

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Server {
    /// Triggers the shutdown; how long until `serve_on` returned, or
    /// `None` if it had not after `limit`.
    async fn shut_down(mut self, limit: Duration) -> Option<Duration> {
        let start = Instant::now();
        self.stop.take().unwrap().send(()).unwrap();
        timeout(limit, self.task).await.ok().map(|joined| {
            joined.unwrap();
            start.elapsed()
        })
    }
}

async fn start_with(router: Router, options: ServeOptions) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve_on(listener, router, options, async move {
        let _ = stopped.await;
    }));
    Server {
        addr,
        stop: Some(stop),
        task,
    }
}

async fn start(options: ServeOptions) -> (Server, Probe) {
    let probe = Probe {
        started: Arc::new(Notify::new()),
        release: Arc::new(Semaphore::new(0)),
    };
    (start_with(router(probe.clone()), options).await, probe)
}

async fn connect(server: &Server) -> TcpStream {
    TcpStream::connect(server.addr).await.unwrap()
}

/// One response: status, head and (Content-Length framed) body.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: String,
}

async fn read_response<R: AsyncReadExt + Unpin>(stream: &mut R) -> std::io::Result<Answer> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status = head[9..12].parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
    Ok(Answer { status, head, body })
}

/// A response that arrives within [`PROMPT`].
async fn answer<R: AsyncReadExt + Unpin>(stream: &mut R) -> Answer {
    timeout(PROMPT, read_response(stream))
        .await
        .expect("no answer in time")
        .expect("connection closed before the answer")
}

/// Reads (and drops) whatever arrives until the server closes the
/// connection: how long after `since` that was, and how many bytes came,
/// or `None` if it was still open after `limit`.
async fn closed_within<R: AsyncReadExt + Unpin>(
    stream: &mut R,
    since: Instant,
    limit: Duration,
) -> Option<(Duration, usize)> {
    let drain = async {
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0;
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return total,
                Ok(n) => total += n,
            }
        }
    };
    let total = timeout(limit.saturating_sub(since.elapsed()), drain)
        .await
        .ok()?;
    Some((since.elapsed(), total))
}

#[tokio::test]
async fn a_half_sent_request_head_is_closed_after_the_header_timeout() {
    let header_timeout = Duration::from_millis(500);
    let (server, _) = start(ServeOptions {
        header_timeout,
        ..options()
    })
    .await;
    let mut client = connect(&server).await;
    client
        .write_all(b"GET /hello HTTP/1.1\r\nHost: mesh")
        .await
        .unwrap();
    let sent = Instant::now();
    let (closed, bytes) = closed_within(&mut client, sent, 3 * header_timeout)
        .await
        .expect("a half-sent request head kept its connection open");
    eprintln!("half-sent head: closed after {closed:?} (header timeout {header_timeout:?})");
    assert_eq!(bytes, 0, "nothing is answered to half a request");
    // Closed by the timeout, not at once.
    assert!(closed >= header_timeout / 2, "{closed:?}");

    // A new connection that sends nothing at all is closed the same way.
    let mut silent = connect(&server).await;
    let opened = Instant::now();
    let (closed, _) = closed_within(&mut silent, opened, 3 * header_timeout)
        .await
        .expect("a connection that sends nothing stayed open");
    eprintln!("silent connection: closed after {closed:?}");
}

#[tokio::test]
async fn a_trickled_request_head_is_closed_after_the_header_timeout() {
    // Slowloris: a header byte every 50 ms forever. The timeout covers the
    // whole head, so steady progress does not extend it.
    let header_timeout = Duration::from_millis(500);
    let (server, _) = start(ServeOptions {
        header_timeout,
        ..options()
    })
    .await;
    let (mut read, mut write) = connect(&server).await.into_split();
    let sent = Instant::now();
    let trickle = tokio::spawn(async move {
        write.write_all(b"GET /hello HTTP/1.1\r\nX-Slow: ").await?;
        loop {
            write.write_all(b"a").await?;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        #[allow(unreachable_code)]
        Ok::<(), std::io::Error>(())
    });
    let (closed, _) = closed_within(&mut read, sent, 3 * header_timeout)
        .await
        .expect("a trickled request head kept its connection open");
    eprintln!("trickled head: closed after {closed:?} (header timeout {header_timeout:?})");
    assert!(closed >= header_timeout / 2, "{closed:?}");
    trickle.abort();
}

#[tokio::test]
async fn a_stalled_body_is_answered_408_within_the_body_timeout() {
    let body_timeout = Duration::from_millis(500);
    let (server, _) = start(ServeOptions {
        body_timeout,
        ..options()
    })
    .await;
    // A whole body in time is read as usual.
    let mut client = connect(&server).await;
    let mut request = b"POST /echo HTTP/1.1\r\nHost: m\r\nContent-Length: 100\r\n\r\n".to_vec();
    request.extend_from_slice(&[b'b'; 100]);
    client.write_all(&request).await.unwrap();
    let ok = answer(&mut client).await;
    assert_eq!((ok.status, ok.body.as_str()), (200, "100"));

    // Headers and 10 of the 100 bytes promised, then nothing.
    let mut client = connect(&server).await;
    client
        .write_all(b"POST /echo HTTP/1.1\r\nHost: m\r\nContent-Length: 100\r\n\r\n0123456789")
        .await
        .unwrap();
    let sent = Instant::now();
    let late = timeout(3 * body_timeout, read_response(&mut client))
        .await
        .expect("a stalled body held its handler past 3x the body timeout")
        .expect("closed without an answer");
    eprintln!(
        "stalled body: {} after {:?} (body timeout {body_timeout:?})",
        late.status,
        sent.elapsed()
    );
    assert_eq!(late.status, 408, "{late:?}");
    assert!(late.head.contains("connection: close"), "{}", late.head);
    closed_within(&mut client, sent, 3 * body_timeout)
        .await
        .expect("the connection stayed open after the 408");
}

#[tokio::test]
async fn a_trickled_body_is_answered_408_within_the_body_timeout() {
    // One byte of 100 every 50 ms would take 5 s: the timeout covers the
    // whole body, not each read.
    let body_timeout = Duration::from_millis(500);
    let (server, _) = start(ServeOptions {
        body_timeout,
        ..options()
    })
    .await;
    let (mut read, mut write) = connect(&server).await.into_split();
    let sent = Instant::now();
    let trickle = tokio::spawn(async move {
        write
            .write_all(b"POST /echo HTTP/1.1\r\nHost: m\r\nContent-Length: 100\r\n\r\n")
            .await?;
        for _ in 0..100 {
            write.write_all(b"b").await?;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok::<(), std::io::Error>(())
    });
    let late = timeout(3 * body_timeout, read_response(&mut read))
        .await
        .expect("a trickled body held its handler past 3x the body timeout")
        .expect("closed without an answer");
    eprintln!(
        "trickled body: {} after {:?} (body timeout {body_timeout:?})",
        late.status,
        sent.elapsed()
    );
    assert_eq!(late.status, 408, "{late:?}");
    trickle.abort();
}

#[tokio::test]
async fn an_idle_connection_outlives_the_header_timeout_but_not_the_idle_timeout() {
    let header_timeout = Duration::from_millis(200);
    let idle_timeout = Duration::from_millis(1500);
    let (server, _) = start(ServeOptions {
        header_timeout,
        idle_timeout,
        ..options()
    })
    .await;
    let mut client = connect(&server).await;
    client.write_all(GET_HELLO).await.unwrap();
    assert_eq!(answer(&mut client).await.body, "hello");
    // Idle for 3x the header timeout, well within the idle timeout: the
    // connection is still there for the next request.
    tokio::time::sleep(3 * header_timeout).await;
    client.write_all(GET_HELLO).await.unwrap();
    assert_eq!(answer(&mut client).await.body, "hello");
    let answered = Instant::now();
    let (closed, _) = closed_within(&mut client, answered, 3 * idle_timeout)
        .await
        .expect("an idle connection stayed open past 3x the idle timeout");
    eprintln!(
        "idle keep-alive connection: closed after {closed:?} (idle timeout {idle_timeout:?})"
    );
    assert!(closed >= idle_timeout / 2, "{closed:?}");
}

#[tokio::test]
async fn a_client_that_does_not_read_is_disconnected_after_the_idle_timeout() {
    let idle_timeout = Duration::from_millis(500);
    let (server, _) = start(ServeOptions {
        idle_timeout,
        ..options()
    })
    .await;
    let mut client = connect(&server).await;
    client
        .write_all(b"GET /endless HTTP/1.1\r\nHost: m\r\n\r\n")
        .await
        .unwrap();
    let sent = Instant::now();
    // Not reading: the socket buffers fill and the server's writes stall.
    tokio::time::sleep(3 * idle_timeout).await;
    // What was buffered before the server gave up, then the end. Without a
    // write timeout this reads on forever.
    let (closed, bytes) = closed_within(&mut client, sent, 3 * idle_timeout + PROMPT)
        .await
        .expect("a response nobody reads kept its connection open");
    eprintln!(
        "unread endless response: closed {closed:?} after the request, {bytes} bytes were buffered (idle timeout {idle_timeout:?})"
    );
}

#[tokio::test]
async fn connections_over_the_limit_wait_for_a_slot() {
    let (server, probe) = start(ServeOptions {
        max_connections: 2,
        ..options()
    })
    .await;
    // Slot 1: a request in flight until the test releases it.
    let mut busy = connect(&server).await;
    busy.write_all(b"GET /wait HTTP/1.1\r\nHost: m\r\n\r\n")
        .await
        .unwrap();
    timeout(PROMPT, probe.started.notified())
        .await
        .expect("the handler did not start");
    // Slot 2: half a request head.
    let mut slow = connect(&server).await;
    slow.write_all(b"GET /hello HTTP/1.1\r\n").await.unwrap();
    // Over the limit: the connection is made (the kernel's listen queue)
    // but not served.
    let mut extra = connect(&server).await;
    extra.write_all(GET_HELLO).await.unwrap();
    let waiting = Instant::now();
    assert!(
        timeout(Duration::from_millis(500), read_response(&mut extra))
            .await
            .is_err(),
        "a connection over the limit was served"
    );
    // The connections being served are not affected.
    slow.write_all(b"Host: m\r\n\r\n").await.unwrap();
    let served = answer(&mut slow).await;
    assert_eq!((served.status, served.body.as_str()), (200, "hello"));
    // Now idle, it makes room for the waiting one.
    closed_within(&mut slow, Instant::now(), PROMPT)
        .await
        .expect("the idle connection was not closed for the waiting one");
    let late = answer(&mut extra).await;
    eprintln!(
        "over the limit: served after waiting {:?} for a slot",
        waiting.elapsed()
    );
    assert_eq!((late.status, late.body.as_str()), (200, "hello"));
    probe.release.add_permits(1);
    let released = answer(&mut busy).await;
    assert_eq!((released.status, released.body.as_str()), (200, "released"));
}

#[tokio::test]
async fn at_the_limit_idle_connections_make_room() {
    let (server, _) = start(ServeOptions {
        max_connections: 2,
        ..options()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..2 {
        let mut client = connect(&server).await;
        client.write_all(GET_HELLO).await.unwrap();
        assert_eq!(answer(&mut client).await.body, "hello");
        idle.push(client);
    }
    let mut extra = connect(&server).await;
    let asked = Instant::now();
    extra.write_all(GET_HELLO).await.unwrap();
    let late = answer(&mut extra).await;
    eprintln!(
        "at the limit with idle connections: served after {:?}",
        asked.elapsed()
    );
    assert_eq!(late.body, "hello");
    for mut client in idle {
        closed_within(&mut client, asked, PROMPT)
            .await
            .expect("an idle connection was kept while a new one waited");
    }
}

#[tokio::test]
async fn shutdown_lets_requests_in_flight_finish_and_closes_slow_clients() {
    let shutdown_grace = Duration::from_secs(2);
    let (server, probe) = start(ServeOptions {
        shutdown_grace,
        ..options()
    })
    .await;
    let addr = server.addr;
    // A slow client holding a connection with half a request head (the
    // header timeout is a minute).
    let mut slow = connect(&server).await;
    slow.write_all(b"GET /hello HTTP/1.1\r\n").await.unwrap();
    let mut in_flight = connect(&server).await;
    in_flight
        .write_all(b"GET /sleep/300 HTTP/1.1\r\nHost: m\r\n\r\n")
        .await
        .unwrap();
    timeout(PROMPT, probe.started.notified())
        .await
        .expect("the handler did not start");
    let stopping = Instant::now();
    let shutdown = tokio::spawn(server.shut_down(shutdown_grace + PROMPT));
    let finished = answer(&mut in_flight).await;
    let answered = stopping.elapsed();
    assert_eq!((finished.status, finished.body.as_str()), (200, "slept"));
    let stopped = shutdown
        .await
        .unwrap()
        .expect("serve_on did not return within the grace and a margin");
    eprintln!(
        "shutdown with a slow client: in-flight request answered after {:?}, serve_on returned after {stopped:?} (grace {shutdown_grace:?})",
        answered
    );
    closed_within(&mut slow, stopping, PROMPT)
        .await
        .expect("the slow client's connection outlived the server");
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
}

#[tokio::test]
async fn shutdown_closes_requests_that_outlast_the_grace() {
    let shutdown_grace = Duration::from_millis(500);
    let (server, probe) = start(ServeOptions {
        shutdown_grace,
        ..options()
    })
    .await;
    let mut in_flight = connect(&server).await;
    in_flight
        .write_all(b"GET /sleep/60000 HTTP/1.1\r\nHost: m\r\n\r\n")
        .await
        .unwrap();
    timeout(PROMPT, probe.started.notified())
        .await
        .expect("the handler did not start");
    let stopped = server
        .shut_down(shutdown_grace + PROMPT)
        .await
        .expect("serve_on waited for a request longer than the grace");
    eprintln!(
        "shutdown with a 60 s request: serve_on returned after {stopped:?} (grace {shutdown_grace:?})"
    );
    let cut = timeout(PROMPT, read_response(&mut in_flight))
        .await
        .expect("the connection stayed open");
    assert!(cut.is_err(), "{cut:?}");
}

#[tokio::test]
async fn idle_connections_do_not_hold_up_shutdown() {
    // A minute of grace: connections with nothing in flight (kept alive
    // after a request, or never used) are closed at once instead.
    let (server, _) = start(options()).await;
    let mut kept = connect(&server).await;
    kept.write_all(GET_HELLO).await.unwrap();
    assert_eq!(answer(&mut kept).await.body, "hello");
    let mut unused = connect(&server).await;
    // Let the server accept it before the shutdown.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopped = server
        .shut_down(PROMPT)
        .await
        .expect("idle connections held up the shutdown");
    eprintln!("shutdown with only idle connections: serve_on returned after {stopped:?}");
    for client in [&mut kept, &mut unused] {
        closed_within(client, Instant::now(), PROMPT)
            .await
            .expect("an idle connection outlived the server");
    }
}

#[tokio::test]
async fn handlers_see_the_peer_address() {
    let (server, _) = start(options()).await;
    let mut client = connect(&server).await;
    client
        .write_all(b"GET /peer HTTP/1.1\r\nHost: m\r\n\r\n")
        .await
        .unwrap();
    let seen = answer(&mut client).await;
    assert_eq!(seen.status, 200, "{seen:?}");
    assert_eq!(seen.body, client.local_addr().unwrap().to_string());
}

/// The real router in auth-proxy mode: identity headers count only from
/// the configured addresses, which needs the peer address per request.
#[tokio::test]
async fn auth_proxy_mode_sees_the_peer_address() {
    for (trusted, expect_trusted) in [("127.0.0.1/32", true), ("10.0.0.0/8", false)] {
        let options = AuthOptions {
            authenticator: Authenticator::Proxy(ProxyOptions {
                user_header: http::HeaderName::from_static("x-forwarded-user"),
                groups_header: http::HeaderName::from_static("x-forwarded-groups"),
                trusted: vec![trusted.parse().unwrap()],
            }),
            ..AuthOptions::default()
        };
        let state = AppState::with_auth(
            RunMode::Serve,
            AuthMode::Proxy,
            Upstreams::default(),
            Spa::load(std::path::Path::new("/nonexistent")),
            options,
        );
        let server = start_with(meshdeck_server::router(state), self::options()).await;
        let mut client = connect(&server).await;
        client
            .write_all(b"GET /api/me HTTP/1.1\r\nHost: m\r\nX-Forwarded-User: alice\r\n\r\n")
            .await
            .unwrap();
        let me = answer(&mut client).await;
        let refused = me.status == 401 && me.body.contains("authenticating proxy");
        assert_eq!(!refused, expect_trusted, "trusting {trusted}: {me:?}");
    }
}
