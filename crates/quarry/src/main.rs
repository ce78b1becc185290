//! The `quarry` binary: parses the command line (each flag also a `QUARRY_*` variable), sets
//! up logging, opens the data directory and serves the HTTP API until SIGTERM or Ctrl-C.

mod config;

use anyhow::Context;
use clap::Parser;
use quarry_scheduler::{Scheduler, SchedulerOptions};
use quarry_server::{AppState, ServerConfig};

use config::{Cli, LogFormat};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
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
        max_concurrent_requests: cli.max_concurrent_requests,
    };
    let tls = match (&cli.ssl_cert_path, &cli.ssl_key_path) {
        (Some(cert), Some(key)) => Some(quarry_server::tls::load_config(cert, key)?),
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(&cli.http_addr)
        .await
        .with_context(|| format!("binding {}", cli.http_addr))?;
    let local = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(
        addr = %local,
        db_path = %cli.db_path.display(),
        env = ?cli.env,
        master_key = cli.master_key.is_some(),
        tls = tls.is_some(),
        "Quarry is listening on {scheme}://{local}"
    );
    let state = AppState::new(scheduler, config)
        .with_context(|| format!("opening the API keys in {}", db_path.display()))?;
    match tls {
        Some(tls) => {
            let listener = quarry_server::tls::TlsListener::new(listener, tls)?;
            quarry_server::serve_tls(listener, state, shutdown_signal()).await?
        }
        None => quarry_server::serve(listener, state, shutdown_signal()).await?,
    }
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
