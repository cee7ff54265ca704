//! A real Prometheus started with a history the test wrote, for tests that
//! know the numbers it must answer.

use std::io::{BufWriter, Write};

use meshdeck_sim::prometheus::{PrometheusOptions, PrometheusServer};

/// The end of a history ending now: Unix seconds, a multiple of the 15 s
/// step, so every sample lies on the step grid.
pub fn history_end() -> f64 {
    (meshdeck_sim::live::now_s() / 15.0).floor() * 15.0
}

/// Starts Prometheus backfilled with the OpenMetrics history `write` writes
/// (ending in `# EOF`); the temporary file, named after `name` to keep test
/// crates and tests apart, is removed once Prometheus has loaded it.
pub async fn prometheus_writing(
    name: &str,
    write: impl FnOnce(&mut BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> PrometheusServer {
    let path = std::env::temp_dir().join(format!("meshdeck-{name}-test-{}.om", std::process::id()));
    let mut file = BufWriter::new(std::fs::File::create(&path).unwrap());
    write(&mut file).unwrap();
    file.flush().unwrap();
    drop(file);
    let prometheus = PrometheusServer::start(&PrometheusOptions {
        history: Some(path.clone()),
        ..PrometheusOptions::default()
    })
    .await
    .unwrap();
    std::fs::remove_file(&path).unwrap();
    prometheus
}

/// Starts Prometheus backfilled with `openmetrics`, an OpenMetrics text
/// ending in `# EOF`; `name` as for [`prometheus_writing`].
pub async fn prometheus_with_history(name: &str, openmetrics: &str) -> PrometheusServer {
    prometheus_writing(name, |out| out.write_all(openmetrics.as_bytes())).await
}
