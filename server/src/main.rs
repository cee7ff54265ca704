//! The `meshdeck` binary: parse the command line, set up logging, run.

use clap::Parser;
use meshdeck_server::config::{Cli, Command, LogFormat};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_env("MESHDECK_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    let outcome = match cli.command {
        Command::Serve(args) => meshdeck_server::run::serve(*args).await,
        Command::Demo(args) => meshdeck_server::run::demo(*args).await,
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("meshdeck: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
