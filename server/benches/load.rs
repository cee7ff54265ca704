//! Load, faults and slow clients against a running `meshdeck demo` (a
//! child process on loopback), printing what a person would measure:
//! latency percentiles, errors, meshdeck's resident memory and the queries
//! Prometheus received. Bounded in time and count. Scenarios:
//!
//! 1. same view: many viewers of one graph at once (coalescing);
//! 2. distinct views: graph replays at distinct moments (cache memory);
//! 3. hung Prometheus (SIGSTOP): identical and distinct metrics requests
//!    (how long each waits);
//! 4. slow clients: half-sent requests and idle connections (how long the
//!    server keeps them), and how long SIGTERM takes with one open.
//!
//! ```sh
//! scripts/load.sh [--synthetic 500]     # builds the release binary first
//! MESHDECK_BIN=target/release/meshdeck cargo bench -p meshdeck --bench load
//! ```

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "Bearer demo-token-admin";

/// The demo under test.
struct Demo {
    child: Child,
    base: String,
    prometheus: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let _ = self.child.wait();
        }
    }
}

fn start_demo(bin: &str, extra: &[String]) -> Demo {
    let mut child = Command::new(bin)
        .args([
            "--log-format",
            "json",
            "demo",
            "--bind",
            "127.0.0.1:0",
            "--static-dir",
            "/nonexistent",
            "--history-minutes",
            "10",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start meshdeck demo (set MESHDECK_BIN)");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.find("\"prometheus\":\"") {
                let rest = &line[at + 14..];
                if let Some(end) = rest.find('"') {
                    let _ = tx.send(rest[..end].to_owned());
                }
            }
        }
    });
    let stdout = child.stdout.take().expect("stdout");
    let base = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("meshdeck is ready: open ")
                .map(|u| u.trim_end_matches('/').to_owned())
        })
        .expect("the demo printed its URL");
    let prometheus = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the demo logged its Prometheus");
    Demo {
        child,
        base,
        prometheus,
    }
}

/// Resident memory of `pid` in MiB.
fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The pid of the Prometheus listening at `url` (from `/proc`).
fn prometheus_pid(url: &str) -> Option<u32> {
    let port = url.rsplit(':').next()?.trim_end_matches('/');
    let wanted = format!("127.0.0.1:{port}");
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let cmdline = String::from_utf8_lossy(&cmdline);
        (cmdline.starts_with("prometheus") || cmdline.contains("/prometheus\0"))
            .then_some(())
            .filter(|()| cmdline.contains(&wanted))
            .map(|()| pid)
    })
}

/// Queries Prometheus answered so far (instant and range).
async fn prometheus_queries(client: &reqwest::Client, url: &str) -> f64 {
    let Ok(response) = client.get(format!("{url}/metrics")).send().await else {
        return f64::NAN;
    };
    let text = response.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("prometheus_http_requests_total{"))
        .filter(|l| l.contains("/api/v1/query\"") || l.contains("/api/v1/query_range\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

struct Stats {
    latencies: Vec<Duration>,
    errors: usize,
}

impl Stats {
    fn print(mut self, what: &str) {
        self.latencies.sort();
        let n = self.latencies.len();
        let at = |p: f64| {
            self.latencies
                .get(((n as f64 - 1.0) * p).round() as usize)
                .map_or(0.0, |d| d.as_secs_f64() * 1e3)
        };
        println!(
            "{what}: {n} requests, {} errors, p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
            self.errors,
            at(0.5),
            at(0.99),
            at(1.0)
        );
    }
}

/// `clients` tasks, each sending GETs of `uri(client, i)` until `until`
/// or `per_client` requests.
async fn hammer(
    client: &reqwest::Client,
    base: &str,
    clients: usize,
    per_client: usize,
    until: Instant,
    uri: impl Fn(usize, usize) -> String + Send + Sync + 'static,
) -> Stats {
    let uri = Arc::new(uri);
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (client, base, uri) = (client.clone(), base.to_owned(), uri.clone());
            tokio::spawn(async move {
                let mut out = Vec::new();
                let mut errors = 0;
                for i in 0..per_client {
                    if Instant::now() >= until {
                        break;
                    }
                    let started = Instant::now();
                    let ok = client
                        .get(format!("{base}{}", uri(c, i)))
                        .header("authorization", TOKEN)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    out.push(started.elapsed());
                    errors += usize::from(!ok);
                }
                (out, errors)
            })
        })
        .collect();
    let mut stats = Stats {
        latencies: Vec::new(),
        errors: 0,
    };
    for t in tasks {
        let (l, e) = t.await.expect("client task");
        stats.latencies.extend(l);
        stats.errors += e;
    }
    stats
}

/// Seconds until the server closes a connection that sent `bytes` and
/// nothing more (at most `cap`).
async fn held_for(addr: &str, bytes: &[u8], cap: Duration) -> Option<f64> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    stream.write_all(bytes).await.ok()?;
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(cap.saturating_sub(started.elapsed()), stream.read(&mut buf))
            .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed().as_secs_f64()),
            Ok(Ok(_)) => continue,
            Err(_) => return None,
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let bin = std::env::var("MESHDECK_BIN").unwrap_or_else(|_| "target/release/meshdeck".into());
    let mut extra = Vec::new();
    if let Some(i) = args.iter().position(|a| a == "--synthetic") {
        extra.extend(["--synthetic-services".to_owned(), args[i + 1].clone()]);
    }
    let seconds: u64 = std::env::var("MESHDECK_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let demo = start_demo(&bin, &extra);
    let pid = demo.child.id();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");
    let namespaces = if extra.is_empty() {
        "bookinfo,payments,legacy".to_owned()
    } else {
        "team-000,team-001,team-002,team-003".to_owned()
    };
    // Let a few scrapes land.
    tokio::time::sleep(Duration::from_secs(12)).await;
    println!(
        "meshdeck demo {}: RSS {:.0} MiB at start",
        demo.base,
        rss_mib(pid)
    );

    // 1. Same view, many viewers.
    let before = prometheus_queries(&client, &demo.prometheus).await;
    let until = Instant::now() + Duration::from_secs(seconds);
    let ns = namespaces.clone();
    let stats = hammer(&client, &demo.base, 200, usize::MAX, until, move |_, _| {
        format!("/api/graph?namespaces={ns}")
    })
    .await;
    let queries = prometheus_queries(&client, &demo.prometheus).await - before;
    stats.print(&format!("same view, 200 viewers for {seconds} s"));
    println!(
        "  Prometheus queries: {queries:.0}; meshdeck RSS {:.0} MiB",
        rss_mib(pid)
    );

    // 2. Distinct views: replays at 300 distinct moments.
    let rss_before = rss_mib(pid);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let ns = namespaces.clone();
    let stats = hammer(
        &client,
        &demo.base,
        8,
        300 / 8 + 1,
        Instant::now() + Duration::from_secs(300),
        move |c, i| {
            let at = now - 60 - 15 * ((c * 40 + i) as u64);
            format!("/api/graph?namespaces={ns}&queryTime={at}")
        },
    )
    .await;
    stats.print("distinct views, 300 graph replays (8 at a time)");
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "  meshdeck RSS {:.0} MiB before, {:.0} MiB after",
        rss_before,
        rss_mib(pid)
    );

    // 3. Prometheus hangs.
    match prometheus_pid(&demo.prometheus) {
        None => println!("hung Prometheus: skipped (its process was not found)"),
        Some(prom) => {
            let _ = Command::new("kill")
                .args(["-STOP", &prom.to_string()])
                .status();
            let started = Instant::now();
            let same = hammer(
                &client,
                &demo.base,
                4,
                1,
                started + Duration::from_secs(60),
                |_, _| "/api/metrics?range=1h".to_owned(),
            )
            .await;
            same.print("hung Prometheus, 4 identical metrics requests");
            let distinct = hammer(
                &client,
                &demo.base,
                50,
                1,
                Instant::now() + Duration::from_secs(60),
                |c, _| format!("/api/metrics?range={}m", 5 + c),
            )
            .await;
            distinct.print("hung Prometheus, 50 distinct metrics requests");
            let _ = Command::new("kill")
                .args(["-CONT", &prom.to_string()])
                .status();
        }
    }

    // 4. Slow clients.
    let addr = demo.base.trim_start_matches("http://").to_owned();
    let cap = Duration::from_secs(90);
    let show = |held: Option<f64>| {
        held.map_or(format!("kept > {} s", cap.as_secs()), |s| {
            format!("closed after {s:.1} s")
        })
    };
    let half = held_for(&addr, b"GET /api/health HTTP/1.1\r\nHost: x\r\n", cap).await;
    println!("half-sent headers: {}", show(half));
    let body = held_for(
        &addr,
        format!(
            "POST /api/settings/preflight HTTP/1.1\r\nHost: x\r\nAuthorization: {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
        )
        .as_bytes(),
        cap,
    )
    .await;
    println!("half-sent body: {}", show(body));
    let idle = held_for(&addr, b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n", cap).await;
    println!(
        "idle keep-alive connection after one request: {}",
        show(idle)
    );
    // SIGTERM with a slow client connected.
    let open = Arc::new(AtomicUsize::new(0));
    let holder = {
        let (addr, open) = (addr.clone(), open.clone());
        tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(&addr).await.ok()?;
            s.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
                .await
                .ok()?;
            open.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(120)).await;
            Some(s)
        })
    };
    while open.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut demo = demo;
    let started = Instant::now();
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let exited = loop {
        if let Ok(Some(_)) = demo.child.try_wait() {
            break Some(started.elapsed());
        }
        if started.elapsed() > cap {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    holder.abort();
    match exited {
        Some(t) => println!(
            "SIGTERM with a slow client connected: exited after {:.1} s",
            t.as_secs_f64()
        ),
        None => println!(
            "SIGTERM with a slow client connected: still running after {} s",
            cap.as_secs()
        ),
    }
}
