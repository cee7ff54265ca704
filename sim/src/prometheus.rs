//! Runs a real Prometheus server as a child process on a loopback port, with
//! a private data directory, optional backfilled history (through `promtool
//! tsdb create-blocks-from openmetrics`) and optional scrape targets. Used by
//! demo mode and by every test that needs Prometheus. Dropping the handle
//! kills the process and removes the directory.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// What can go wrong starting Prometheus.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `prometheus` or `promtool` is not installed.
    #[error(
        "`{tool}` was not found on PATH; install it with `apt-get install --no-install-recommends prometheus` (or run scripts/setup.sh)"
    )]
    Missing {
        /// The missing program.
        tool: &'static str,
    },
    /// A file-system operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// `promtool` refused the history.
    #[error("promtool could not backfill the history: {0}")]
    Backfill(String),
    /// Prometheus exited or did not become ready in time.
    #[error("Prometheus did not start: {0}")]
    NotReady(String),
}

/// How to run Prometheus.
#[derive(Clone, Debug)]
pub struct PrometheusOptions {
    /// OpenMetrics history to backfill before start.
    pub history: Option<PathBuf>,
    /// `host:port` targets scraped at `/metrics` under job [`PrometheusOptions::job`].
    pub scrape_targets: Vec<String>,
    /// Scrape interval in seconds.
    pub scrape_interval_s: u32,
    /// The scrape job's name.
    pub job: String,
    /// Value for the `instance` label of scraped series (so they match the
    /// backfilled history); `None` keeps Prometheus' default (`host:port`).
    pub instance: Option<String>,
    /// `--storage.tsdb.retention.time`.
    pub retention: String,
    /// A data directory already filled with blocks (see
    /// [`backfill_in_chunks`]); it is moved into the server's own directory.
    pub data: Option<PathBuf>,
    /// Further scrape jobs, as the YAML list that goes under
    /// `scrape_configs:` (jobs starting at column 0 with `- job_name:`).
    pub extra_scrape_configs: Option<String>,
}

impl Default for PrometheusOptions {
    fn default() -> Self {
        PrometheusOptions {
            history: None,
            scrape_targets: Vec::new(),
            scrape_interval_s: 5,
            job: "istio-mesh".into(),
            instance: None,
            retention: "1d".into(),
            data: None,
            extra_scrape_configs: None,
        }
    }
}

/// A running Prometheus.
///
/// Prometheus runs under a small `sh` guard that holds the read end of a
/// pipe from this process: when the pipe closes (the handle is dropped, or
/// this process dies, even by SIGKILL) the guard stops Prometheus, waits for
/// it and removes its directory, so no server or file outlives its owner.
/// The guard and Prometheus run in a process group of their own, so a
/// signal to this process' group (Ctrl-C in a terminal, a test runner
/// killing the group) reaches this process only and the guard lives on to
/// clean up.
pub struct PrometheusServer {
    child: Option<Child>,
    guard_stdin: Option<ChildStdin>,
    pid: Option<u32>,
    dir: PathBuf,
    addr: SocketAddr,
}

/// The guard: start Prometheus with the given arguments, print its pid,
/// wait until stdin closes, then stop Prometheus, wait for it and remove its
/// directory, unless the line `keep` came first (a failed start that will be
/// retried in the same directory).
const GUARD_SCRIPT: &str = "prometheus \"$@\" & child=$!; echo $child; keep=; \
trap 'kill $child 2>/dev/null; wait $child; rm -rf \"$MESHDECK_PROMETHEUS_DIR\"; exit 0' TERM INT; \
while read -r line; do [ \"$line\" = keep ] && keep=1; done; \
kill $child 2>/dev/null; wait $child; [ -n \"$keep\" ] || rm -rf \"$MESHDECK_PROMETHEUS_DIR\"";

static INSTANCE: AtomicU32 = AtomicU32::new(0);

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let context = context.into();
    move |source| Error::Io { context, source }
}

/// Whether `tool` can be run.
fn find(tool: &'static str) -> Result<(), Error> {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
        .unwrap_or(false);
    if found {
        Ok(())
    } else {
        Err(Error::Missing { tool })
    }
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> Result<u16, Error> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io("finding a free port"))?;
    Ok(listener
        .local_addr()
        .map_err(io("finding a free port"))?
        .port())
}

impl PrometheusServer {
    /// Backfills the history, starts Prometheus and waits until it answers
    /// `/-/ready` (up to 60 s).
    pub async fn start(options: &PrometheusOptions) -> Result<Self, Error> {
        find("prometheus")?;
        let n = INSTANCE.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("meshdeck-prometheus-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let data = dir.join("data");
        std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
        match &options.data {
            Some(filled) => std::fs::rename(filled, &data)
                .map_err(io(format!("moving {}", filled.display())))?,
            None => std::fs::create_dir_all(&data)
                .map_err(io(format!("creating {}", data.display())))?,
        }
        // From here on, dropping `guard` removes the directory on failure.
        let mut guard = PrometheusServer {
            child: None,
            guard_stdin: None,
            pid: None,
            dir,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        };
        if let Some(history) = &options.history {
            backfill(history, &data).await?;
        }
        let config = guard.dir.join("prometheus.yml");
        std::fs::write(&config, config_yaml(options)).map_err(io("writing prometheus.yml"))?;
        // The port may be taken between finding and binding it: retry.
        let mut last = String::new();
        remove_stale_files();
        for _ in 0..3 {
            let port = free_port()?;
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            let log = guard.dir.join("prometheus.log");
            let log_file = std::fs::File::create(&log).map_err(io("creating prometheus.log"))?;
            let mut child = Command::new("sh")
                .arg("-c")
                .arg(GUARD_SCRIPT)
                .arg("sh")
                .env("MESHDECK_PROMETHEUS_DIR", &guard.dir)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!("--storage.tsdb.path={}", data.display()))
                .arg(format!(
                    "--storage.tsdb.retention.time={}",
                    options.retention
                ))
                .arg(format!("--web.listen-address={addr}"))
                .arg("--log.level=warn")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::from(log_file))
                .process_group(0)
                .spawn()
                .map_err(io("starting prometheus"))?;
            guard.guard_stdin = child.stdin.take();
            if let Some(stdout) = child.stdout.take() {
                let mut line = String::new();
                let _ = BufReader::new(stdout).read_line(&mut line).await;
                guard.pid = line.trim().parse().ok();
            }
            guard.child = Some(child);
            guard.addr = addr;
            match guard.wait_ready(Duration::from_secs(60)).await {
                Ok(()) => return Ok(guard),
                Err(e) => {
                    last = format!("{e}; log: {}", tail(&log));
                    guard.kill(true).await;
                }
            }
        }
        Err(Error::NotReady(last))
    }

    async fn wait_ready(&mut self, limit: Duration) -> Result<(), Error> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| Error::NotReady(e.to_string()))?;
        let url = format!("{}/-/ready", self.url());
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(Error::NotReady(format!("prometheus exited with {status}")));
            }
            if self.pid.is_some_and(|pid| !running(pid)) {
                return Err(Error::NotReady("prometheus exited".into()));
            }
            if let Ok(response) = client.get(&url).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            if started.elapsed() > limit {
                return Err(Error::NotReady(format!(
                    "not ready after {} s",
                    limit.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Process id of the Prometheus server, if running.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Resident memory of the server in KiB (Linux), if known.
    pub fn resident_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Stops the server, waits for it and removes its directory.
    pub async fn stop(mut self) {
        self.kill(false).await;
        // The guard removed it, unless it had to be killed.
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// Closes the guard's pipe (it stops Prometheus and, unless `keep`,
    /// removes the directory) and waits for both; after 10 s kills their
    /// whole process group.
    async fn kill(&mut self, keep: bool) {
        if let Some(mut stdin) = self.guard_stdin.take()
            && keep
        {
            let _ = stdin.write_all(b"keep\n").await;
        }
        if let Some(mut child) = self.child.take() {
            if tokio::time::timeout(Duration::from_secs(10), child.wait())
                .await
                .is_err()
            {
                // The guard leads the group Prometheus runs in.
                if let Some(group) = child.id() {
                    let _ = Command::new("kill")
                        .args(["-KILL", "--", &format!("-{group}")])
                        .status()
                        .await;
                }
                let _ = child.kill().await;
            }
        }
        self.pid = None;
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        // Closing the pipe makes the guard stop Prometheus and then remove
        // the directory; removing it here, under a running Prometheus, could
        // leave behind whatever Prometheus writes while it shuts down. Only
        // without a running guard is the directory ours to remove.
        self.guard_stdin = None;
        let guard_running = self
            .child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)));
        if !guard_running {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Whether process `pid` exists and has not exited (Linux: a zombie waiting
/// for its parent counts as exited).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_none_or(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Prefixes of the temporary files and directories of meshdeck processes,
/// each followed by the owner's pid and `-` or `.`.
pub const TEMP_PREFIXES: [&str; 3] = [
    "meshdeck-prometheus-",
    "meshdeck-chunk-",
    "meshdeck-demo-history-",
];

/// The pid of the process that owns temporary entry `name`, if it is one
/// of meshdeck's (see [`TEMP_PREFIXES`]).
pub fn temp_owner(name: &str) -> Option<u32> {
    let rest = TEMP_PREFIXES
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix))?;
    let end = rest.find(['-', '.'])?;
    rest[..end].parse().ok()
}

/// Removes the temporary files and directories left by meshdeck processes
/// that no longer run (killed before their Prometheus guard started, or
/// before this version had guards that survive a process-group kill).
pub fn remove_stale_files() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = temp_owner(&name.to_string_lossy()) else {
            continue;
        };
        if std::path::Path::new(&format!("/proc/{owner}")).exists() {
            continue;
        }
        let path = entry.path();
        let _ = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
    }
}

/// Turns OpenMetrics `history` into TSDB blocks inside `data`.
pub async fn backfill(history: &Path, data: &Path) -> Result<(), Error> {
    find("promtool")?;
    let output = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(history)
        .arg(data)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(io("running promtool"))?;
    if output.status.success() {
        Ok(())
    } else {
        let mut message = String::from_utf8_lossy(&output.stderr).into_owned();
        message.truncate(2000);
        Err(Error::Backfill(message))
    }
}

fn config_yaml(options: &PrometheusOptions) -> String {
    let mut yaml = format!(
        "global:\n  scrape_interval: {i}s\n  evaluation_interval: {i}s\n",
        i = options.scrape_interval_s
    );
    let extra = options
        .extra_scrape_configs
        .as_deref()
        .filter(|e| !e.trim().is_empty());
    if !options.scrape_targets.is_empty() || extra.is_some() {
        yaml.push_str("scrape_configs:\n");
    }
    if !options.scrape_targets.is_empty() {
        let targets: Vec<String> = options
            .scrape_targets
            .iter()
            .map(|t| format!("'{t}'"))
            .collect();
        yaml.push_str(&format!(
            "  - job_name: '{}'\n    scrape_interval: {}s\n    static_configs:\n      - targets: [{}]\n",
            options.job,
            options.scrape_interval_s,
            targets.join(", ")
        ));
        if let Some(instance) = &options.instance {
            yaml.push_str(&format!(
                "    relabel_configs:\n      - target_label: instance\n        replacement: '{instance}'\n"
            ));
        }
    }
    if let Some(extra) = extra {
        for line in extra.lines() {
            yaml.push_str("  ");
            yaml.push_str(line);
            yaml.push('\n');
        }
    }
    yaml
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().rev().take(5).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
}

/// Writes `history` of `mesh` into TSDB blocks in `data`, `chunk_s` seconds
/// of samples at a time, so big meshes never need their whole OpenMetrics
/// text on disk at once. Returns the number of samples.
pub async fn backfill_in_chunks(
    mesh: &std::sync::Arc<crate::model::Mesh>,
    options: &crate::metrics::MetricsOptions,
    history: &crate::metrics::HistoryOptions,
    data: &Path,
    chunk_s: f64,
) -> Result<u64, Error> {
    std::fs::create_dir_all(data).map_err(io(format!("creating {}", data.display())))?;
    let n = INSTANCE.fetch_add(1, Ordering::Relaxed);
    let file = std::env::temp_dir().join(format!("meshdeck-chunk-{}-{n}.om", std::process::id()));
    let mut samples = 0;
    let mut from = history.start;
    while from <= history.end {
        // Windows meet on sample times: [from, from + chunk - step].
        let to = (from + chunk_s - history.step).min(history.end);
        let written = {
            let (mesh, options, history, file) =
                (mesh.clone(), options.clone(), history.clone(), file.clone());
            tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
                let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
                let n = crate::metrics::write_openmetrics_window(
                    &mesh, &options, &history, from, to, &mut out,
                )?;
                std::io::Write::flush(&mut out)?;
                Ok(n)
            })
            .await
            .map_err(|e| Error::Backfill(e.to_string()))?
            .map_err(io("writing a history chunk"))?
        };
        let result = backfill(&file, data).await;
        let _ = std::fs::remove_file(&file);
        result?;
        samples += written;
        from = to + history.step;
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_entries_name_their_owner() {
        assert_eq!(temp_owner("meshdeck-prometheus-4242-0"), Some(4242));
        assert_eq!(temp_owner("meshdeck-chunk-17-3.om"), Some(17));
        assert_eq!(temp_owner("meshdeck-demo-history-99.om"), Some(99));
        assert_eq!(temp_owner("meshdeck-prometheus-x-0"), None);
        assert_eq!(temp_owner("meshdeck-prometheus-12"), None);
        assert_eq!(temp_owner("other-prometheus-12-0"), None);
    }

    #[test]
    fn this_process_runs_and_an_unused_pid_does_not() {
        assert!(running(std::process::id()));
        // Linux pids stay below 2^22.
        assert!(!running(u32::MAX - 1));
    }
}
