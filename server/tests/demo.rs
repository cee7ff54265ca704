//! `meshdeck demo` as a user runs it: the binary starts the simulator and a
//! real Prometheus, serves the console wired to it, and on SIGTERM stops
//! every child and removes their files.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use app::types::{Status, UpstreamKind};

/// Processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(needle) {
                found.push(cmdline);
            }
        }
    }
    found
}

#[tokio::test]
async fn demo_serves_live_metrics_and_stops_cleanly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meshdeck"))
        .args([
            "demo",
            "--bind",
            "127.0.0.1:0",
            "--history-minutes",
            "10",
            "--static-dir",
            "/nonexistent",
            "--shutdown-grace",
            "2s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    // The demo prints the URL to open once everything is up.
    let stdout = child.stdout.take().unwrap();
    let url = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            line.strip_prefix("meshdeck is ready: open ")
                .map(|u| u.trim_end_matches('/').to_owned())
        })
        .expect("demo printed no URL");

    let http = reqwest::Client::new();
    let status: Status = http
        .get(format!("{url}/api/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let prometheus = status
        .upstreams
        .iter()
        .find(|u| u.kind == UpstreamKind::Prometheus)
        .unwrap();
    assert_eq!(prometheus.reachable, Some(true), "{prometheus:?}");
    // The in-memory cluster answers through kube-rs like a real API server.
    let kube = status
        .upstreams
        .iter()
        .find(|u| u.kind == UpstreamKind::Kubernetes)
        .unwrap();
    assert_eq!(kube.reachable, Some(true), "{kube:?}");
    // Traces come from the simulator through the Jaeger query API.
    let jaeger = status
        .upstreams
        .iter()
        .find(|u| u.kind == UpstreamKind::Jaeger)
        .unwrap();
    assert_eq!(jaeger.reachable, Some(true), "{jaeger:?}");
    assert!(
        jaeger
            .detail
            .as_deref()
            .is_some_and(|d| !d.starts_with("0 ")),
        "{jaeger:?}"
    );
    // The owner's tool links include Prometheus.
    let me: app::types::Me = http
        .get(format!("{url}/api/me"))
        .bearer_auth("demo-token-admin")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let prom_url = &me
        .links
        .iter()
        .find(|l| l.kind == UpstreamKind::Prometheus)
        .unwrap()
        .url;

    // The backfilled history is there: ten minutes at 15 s per sample.
    let body: serde_json::Value = http
        .get(format!("{prom_url}api/v1/query"))
        .query(&[("query", "max(count_over_time(istio_requests_total[9m]))")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let samples: f64 = body["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(samples >= 35.0, "{body}");

    // A Prometheus child exists while the demo runs...
    let marker = format!("meshdeck-prometheus-{pid}-");
    let running = processes_mentioning(&marker);
    assert_eq!(
        running
            .iter()
            .filter(|p| p.starts_with("prometheus "))
            .count(),
        1,
        "{running:?}"
    );

    // ...and is gone, with its directory, after SIGTERM, even with a slow
    // client holding a connection open with half a request (the header
    // timeout is longer than the test's bound): the shutdown grace bounds
    // the wait.
    let mut slow = std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    std::io::Write::write_all(&mut slow, b"GET /api/status HTTP/1.1\r\n").unwrap();
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "demo did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    eprintln!(
        "demo stopped {:?} after SIGTERM with a slow client connected (grace 2s)",
        started.elapsed()
    );
    drop(slow);
    assert!(exit.success(), "{exit:?}");
    assert!(
        processes_mentioning(&marker).is_empty(),
        "{:?}",
        processes_mentioning(&marker)
    );
    let leftovers: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&marker))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Temporary files and directories of the meshdeck process `pid`.
fn temp_entries_of(pid: u32) -> Vec<String> {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| meshdeck_sim::prometheus::temp_owner(name) == Some(pid))
        .collect()
}

/// Starts `meshdeck demo` as the leader of a new process group, as
/// Playwright starts its web servers; returns it once it printed its URL.
fn start_demo_in_own_group(args: &[&str]) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meshdeck"))
        .args([
            "demo",
            "--bind",
            "127.0.0.1:0",
            "--static-dir",
            "/nonexistent",
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let ready = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.starts_with("meshdeck is ready: open "));
    assert!(ready, "demo printed no URL");
    child
}

/// SIGKILLs the process group `pid` leads and waits (15 s at most) until
/// no process and no temporary file of the demo is left.
fn kill_group_and_expect_no_leftovers(mut child: Child) {
    let pid = child.id();
    let marker = format!("meshdeck-prometheus-{pid}-");
    let before = processes_mentioning(&marker);
    assert!(
        before.iter().any(|p| p.starts_with("prometheus ")),
        "{before:?}"
    );
    assert!(!temp_entries_of(pid).is_empty());

    let killed = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = child.wait().unwrap();
    assert!(!exit.success(), "{exit:?}");

    let started = Instant::now();
    loop {
        let processes = processes_mentioning(&marker);
        let files = temp_entries_of(pid);
        if processes.is_empty() && files.is_empty() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "left behind: {processes:?} {files:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn killing_the_demos_process_group_leaves_no_prometheus_and_no_files() {
    // With history (the demo) and without (a synthetic mesh).
    kill_group_and_expect_no_leftovers(start_demo_in_own_group(&["--history-minutes", "2"]));
    kill_group_and_expect_no_leftovers(start_demo_in_own_group(&["--synthetic-services", "3"]));
}
