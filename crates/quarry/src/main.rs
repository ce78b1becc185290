//! The `quarry` binary: parses the command line (each flag also a `QUARRY_*` variable), sets
//! up logging, opens the data directory and serves the HTTP API until SIGTERM or Ctrl-C; or runs
//! a client subcommand (`import`, `search`) against a running instance.

mod commands;
mod config;
mod huge_pages;

use anyhow::Context;
use clap::Parser;
use quarry_scheduler::{Scheduler, SchedulerOptions};
use quarry_server::{AppState, ServerConfig};

use config::{Cli, LogFormat};

/// mimalloc instead of glibc's malloc: indexing builds documents on helper threads and frees
/// them on tantivy's, and glibc spent about a fifth of the indexing CPU in malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let mut cli = Cli::parse();
    match cli.command.take() {
        Some(config::Command::Import(args)) => return commands::import::run(args),
        Some(config::Command::Search(args)) => return commands::search::run(args),
        None => {}
    }
    // Before the runtime's threads start and before any memory grows.
    let huge_pages = huge_pages::apply(cli.transparent_huge_pages);
    init_logging(&cli)?;
    match huge_pages {
        huge_pages::Applied::Disabled => {
            tracing::debug!("transparent huge pages are off for this process")
        }
        huge_pages::Applied::Kept => {
            tracing::debug!("transparent huge pages follow the kernel's setting")
        }
        huge_pages::Applied::Unsupported(why) => tracing::warn!(
            reason = %why,
            "could not turn transparent huge pages off; the kernel's setting applies"
        ),
    }
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
    quarry_engine::search::cache::set_budget(cli.search_cache_size.0 as u64);
    options.dump_dir = cli.dump_dir.clone();
    options.snapshot_dir = cli.snapshot_dir.clone();
    options.cli_webhook =
        cli.task_webhook_url
            .clone()
            .map(|url| quarry_scheduler::webhooks::Webhook {
                url,
                headers: cli
                    .task_webhook_authorization_header
                    .iter()
                    .map(|value| ("Authorization".to_string(), value.clone()))
                    .collect(),
            });
    {
        let cli = cli.clone();
        let index_options = options.index;
        tokio::task::spawn_blocking(move || import_at_start(&cli, index_options)).await??;
    }
    let db_path = cli.db_path.clone();
    // The key store opens first: dumps written by the scheduler carry the keys.
    let key_store = std::sync::Arc::new(
        quarry_auth::PersistentKeyStore::open(&db_path, cli.master_key.clone())
            .with_context(|| format!("opening the API keys in {}", db_path.display()))?,
    );
    options.keys = quarry_scheduler::Keys(std::sync::Arc::new(quarry_server::DumpKeys(
        key_store.clone(),
    )));
    let scheduler = tokio::task::spawn_blocking(move || Scheduler::open(options))
        .await?
        .map_err(|e| anyhow::anyhow!("{}", e.message))
        .with_context(|| format!("opening the database at {}", db_path.display()))?;
    let config = ServerConfig {
        master_key: cli.master_key.clone(),
        payload_size_limit: cli.http_payload_size_limit.0,
        production: cli.env == config::Env::Production,
        dashboard: !cli.no_dashboard,
        slow_search_ms: cli.slow_search_ms,
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
    let state = AppState::with_keys(scheduler, config, key_store);
    if let Some(addr) = &cli.metrics_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the metrics address {addr}"))?;
        tracing::info!(addr = %listener.local_addr()?, "serving /metrics");
        let metrics_state = state.clone();
        tokio::spawn(async move {
            if let Err(e) = quarry_server::serve_metrics(listener, metrics_state).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    if let Some(seconds) = cli.schedule_snapshot {
        let scheduler = state.scheduler.clone();
        tokio::spawn(async move {
            let period = std::time::Duration::from_secs(seconds);
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            loop {
                ticks.tick().await;
                let scheduler = scheduler.clone();
                let registered = tokio::task::spawn_blocking(move || {
                    scheduler.register(quarry_scheduler::TaskKind::SnapshotCreation)
                })
                .await;
                match registered {
                    Ok(Ok(task)) => {
                        tracing::info!(task_uid = task.uid, "scheduled snapshot enqueued")
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e.message, "scheduling a snapshot failed")
                    }
                    Err(_) => return,
                }
            }
        });
    }
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

/// `--import-dump` and `--import-snapshot`: rebuild the data directory before it is opened.
/// Like Meilisearch, an existing database is never overwritten: the start fails unless told
/// to ignore the import, and a missing file fails unless told to ignore that.
fn import_at_start(cli: &Cli, index_options: quarry_scheduler::IndexOptions) -> anyhow::Result<()> {
    let (file, what, ignore_missing, ignore_if_exists) =
        match (&cli.import_dump, &cli.import_snapshot) {
            (Some(f), _) => (
                f,
                "dump",
                cli.ignore_missing_dump,
                cli.ignore_dump_if_db_exists,
            ),
            (_, Some(f)) => (
                f,
                "snapshot",
                cli.ignore_missing_snapshot,
                cli.ignore_snapshot_if_db_exists,
            ),
            _ => return Ok(()),
        };
    if !file.exists() {
        if ignore_missing {
            tracing::warn!(file = %file.display(), "the {what} to import does not exist: starting without it");
            return Ok(());
        }
        anyhow::bail!("The {what} file {} does not exist.", file.display());
    }
    if quarry_scheduler::holds_database(&cli.db_path) {
        if ignore_if_exists {
            tracing::warn!(db_path = %cli.db_path.display(), "a database already exists: the {what} is not imported");
            return Ok(());
        }
        anyhow::bail!(
            "The database {} already exists: importing the {what} {} would overwrite it. Remove it first, or pass --ignore-{what}-if-db-exists to start on it.",
            cli.db_path.display(),
            file.display()
        );
    }
    let started = std::time::Instant::now();
    let result = if cli.import_dump.is_some() {
        // The dump's keys go in as they are; no default key is created before them (the
        // store opens without the master key here), so none is added beside them.
        let store = quarry_auth::PersistentKeyStore::open(&cli.db_path, None)
            .with_context(|| format!("opening the API keys in {}", cli.db_path.display()))?;
        let keys = quarry_server::DumpKeys(std::sync::Arc::new(store));
        quarry_scheduler::dump::import(file, &cli.db_path, index_options, &keys).map(|s| {
            tracing::info!(
                indexes = s.indexes,
                documents = s.documents,
                tasks = s.tasks,
                keys = s.keys,
                duration_ms = started.elapsed().as_millis() as u64,
                "dump imported"
            );
        })
    } else {
        quarry_scheduler::snapshot::import(file, &cli.db_path).map(|()| {
            tracing::info!(
                duration_ms = started.elapsed().as_millis() as u64,
                "snapshot imported"
            );
        })
    };
    if let Err(e) = result {
        // A half-built database must not be taken for a good one at the next start.
        let _ = std::fs::remove_file(cli.db_path.join("meta.redb"));
        anyhow::bail!("importing the {what} {}: {}", file.display(), e.message);
    }
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
