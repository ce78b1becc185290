//! The `quarry` binary: parses the command line (each flag also a `QUARRY_*` variable), sets
//! up logging, opens the data directory and serves the HTTP API until SIGTERM or Ctrl-C; or runs
//! a client subcommand (`import`, `search`) against a running instance.

mod commands;
mod config;

use anyhow::Context;
use clap::Parser;
use quarry_scheduler::{Scheduler, SchedulerOptions};
use quarry_server::{AppState, ServerConfig};

use config::{Cli, LogFormat};

fn main() -> anyhow::Result<()> {
    let mut cli = Cli::parse();
    match cli.command.take() {
        Some(config::Command::Import(args)) => return commands::import::run(args),
        Some(config::Command::Search(args)) => return commands::search::run(args),
        None => {}
    }
    init_logging(&cli)?;
    cli.validate()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("quarry-http")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(cli))
}

fn init_logging(cli: &Cli) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log_level)
        .with_context(|| format!("invalid --log-level `{}`", cli.log_level))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        LogFormat::Human => builder.init(),
    }
    Ok(())
}

async fn serve(cli: Cli) -> anyhow::Result<()> {
    let mut options = SchedulerOptions::new(&cli.db_path);
    options.index.indexing_threads = cli
        .max_indexing_threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    options.index.indexing_memory_bytes = cli.max_indexing_memory.0;
    let db_path = cli.db_path.clone();
    let scheduler = tokio::task::spawn_blocking(move || Scheduler::open(options))
        .await?
        .map_err(|e| anyhow::anyhow!("{}", e.message))
        .with_context(|| format!("opening the database at {}", db_path.display()))?;
    let config = ServerConfig {
        master_key: cli.master_key.clone(),
        payload_size_limit: cli.http_payload_size_limit.0,
        production: cli.env == config::Env::Production,
        dashboard: !cli.no_dashboard,
    };
    let listener = tokio::net::TcpListener::bind(&cli.http_addr)
        .await
        .with_context(|| format!("binding {}", cli.http_addr))?;
    let local = listener.local_addr()?;
    tracing::info!(
        addr = %local,
        db_path = %cli.db_path.display(),
        env = ?cli.env,
        master_key = cli.master_key.is_some(),
        "Quarry is listening on http://{local}"
    );
    let state = AppState {
        scheduler,
        config: std::sync::Arc::new(config),
    };
    quarry_server::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("Quarry stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing the running batch");
}
