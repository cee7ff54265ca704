//! The `meshdeck` binary: parse the command line, set up logging (and the
//! export of spans with `--otlp-endpoint`), run.

use std::time::Duration;

use clap::Parser;
use meshdeck_server::config::{Cli, Command, LogFormat};
use meshdeck_server::otlp;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_env("MESHDECK_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info"));
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = match cli.log_format {
        LogFormat::Text => logs.boxed(),
        LogFormat::Json => logs.json().boxed(),
    };
    // Each layer with its own filter: spans are exported whatever
    // MESHDECK_LOG says, and logs are what it says.
    let (export, exporter) = match &cli.otlp_endpoint {
        Some(endpoint) => match otlp::start(endpoint) {
            Ok((layer, handle)) => (Some(layer.with_filter(otlp::filter())), Some(handle)),
            Err(err) => {
                eprintln!("meshdeck: {err}");
                return std::process::ExitCode::FAILURE;
            }
        },
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .with(export)
        .init();
    let outcome = match cli.command {
        Command::Serve(args) => meshdeck_server::run::serve(*args).await,
        #[cfg(feature = "demo")]
        Command::Demo(args) => meshdeck_server::demo::serve(*args).await,
    };
    // The spans of the last requests, before the process ends.
    if let Some(exporter) = exporter {
        exporter
            .flush(otlp::EXPORT_TIMEOUT + Duration::from_secs(1))
            .await;
    }
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("meshdeck: {err}");
            let mut cause = std::error::Error::source(&err);
            while let Some(c) = cause {
                eprintln!("  caused by: {c}");
                cause = c.source();
            }
            std::process::ExitCode::FAILURE
        }
    }
}
