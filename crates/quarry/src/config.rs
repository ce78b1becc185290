//! Command-line flags and their `QUARRY_*` environment variables, with defaults that make a
//! bare `quarry` serve on 127.0.0.1:7700 with its data in `./quarry.db`.

use std::path::PathBuf;
use std::str::FromStr;

use clap::{Parser, Subcommand, ValueEnum};

use crate::commands::import::ImportArgs;
use crate::commands::search::SearchArgs;
use crate::huge_pages::HugePages;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Env {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// A size such as `100MB`, `100 MiB`, `2Gb` or a plain number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub usize);

impl FromStr for ByteSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        quarry_api_types::byte_size::parse_byte_size(s).map(|bytes| ByteSize(bytes as usize))
    }
}

/// Quarry: a search engine server that speaks the Meilisearch v1 API.
#[derive(Debug, Clone, Parser)]
#[command(name = "quarry", version, about, long_about = None)]
pub struct Cli {
    /// Address and port to listen on.
    #[arg(long, env = "QUARRY_HTTP_ADDR", default_value = "127.0.0.1:7700")]
    pub http_addr: String,

    /// Directory holding every index, the task queue and the payloads.
    #[arg(long, env = "QUARRY_DB_PATH", default_value = "./quarry.db")]
    pub db_path: PathBuf,

    /// Protects the API: every route but /health then needs `Authorization: Bearer <key>`.
    /// Required (16 bytes or more) with --env production.
    #[arg(long, env = "QUARRY_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,

    /// `production` refuses to start without a master key of at least 16 bytes.
    #[arg(long, env = "QUARRY_ENV", value_enum, default_value = "development")]
    pub env: Env,

    /// Largest accepted request body (e.g. 100MB, 1GiB).
    #[arg(long, env = "QUARRY_HTTP_PAYLOAD_SIZE_LIMIT", default_value = "100MB")]
    pub http_payload_size_limit: ByteSize,

    /// `human` for a terminal, `json` for one JSON object per line.
    #[arg(long, env = "QUARRY_LOG_FORMAT", value_enum, default_value = "human")]
    pub log_format: LogFormat,

    /// Log level or filter (error, warn, info, debug, trace, or e.g. `info,tantivy=warn`).
    #[arg(long, env = "QUARRY_LOG_LEVEL", default_value = "info,tantivy=warn")]
    pub log_level: String,

    /// Threads used to build index segments (default: all cores).
    #[arg(long, env = "QUARRY_MAX_INDEXING_THREADS")]
    pub max_indexing_threads: Option<usize>,

    /// Memory the indexer may buffer before writing a segment.
    #[arg(long, env = "QUARRY_MAX_INDEXING_MEMORY", default_value = "256MiB")]
    pub max_indexing_memory: ByteSize,

    /// Memory the search caches of every index together may hold for the sets searches share
    /// (word documents, derivations, digests); the warm-up after a merge or a restart fills at
    /// most an eighth of it per index. See `quarry_search_cache_bytes`.
    #[arg(long, env = "QUARRY_SEARCH_CACHE_SIZE", default_value = "1GiB")]
    pub search_cache_size: ByteSize,

    /// PEM certificate chain (leaf first): serve HTTPS instead of HTTP. Needs --ssl-key-path.
    #[arg(long, env = "QUARRY_SSL_CERT_PATH")]
    pub ssl_cert_path: Option<PathBuf>,

    /// PEM private key of the certificate (PKCS#8, PKCS#1 or SEC1). Needs --ssl-cert-path.
    #[arg(long, env = "QUARRY_SSL_KEY_PATH")]
    pub ssl_key_path: Option<PathBuf>,

    /// Requests handled at the same time; past it a request is answered `503
    /// too_many_requests` at once (`/health` excepted).
    #[arg(long, env = "QUARRY_MAX_CONCURRENT_REQUESTS", default_value_t = 1024)]
    pub max_concurrent_requests: usize,

    /// Also serve `GET /metrics` on this address (e.g. 127.0.0.1:9090).
    #[arg(long, env = "QUARRY_METRICS_ADDR")]
    pub metrics_addr: Option<String>,

    /// POST every finished batch's tasks to this URL (gzipped NDJSON); listed by
    /// `GET /webhooks` with the nil uuid, not editable through the API.
    #[arg(long, env = "QUARRY_TASK_WEBHOOK_URL")]
    pub task_webhook_url: Option<String>,

    /// Sent as the `Authorization` header with each --task-webhook-url delivery.
    #[arg(long, env = "QUARRY_TASK_WEBHOOK_AUTHORIZATION_HEADER")]
    pub task_webhook_authorization_header: Option<String>,

    /// Log searches slower than this many milliseconds at `warn`, with their parameters.
    #[arg(long, env = "QUARRY_SLOW_SEARCH_MS")]
    pub slow_search_ms: Option<u64>,

    /// Where `POST /dumps` writes `<dumpUid>.dump`.
    #[arg(long, env = "QUARRY_DUMP_DIR", default_value = "dumps/")]
    pub dump_dir: PathBuf,

    /// Rebuild the instance from this dump at start (the database must not exist yet).
    #[arg(long, env = "QUARRY_IMPORT_DUMP")]
    pub import_dump: Option<PathBuf>,

    /// With --import-dump: start normally when the dump file does not exist.
    #[arg(long, env = "QUARRY_IGNORE_MISSING_DUMP")]
    pub ignore_missing_dump: bool,

    /// With --import-dump: start on the existing database instead of refusing to.
    #[arg(long, env = "QUARRY_IGNORE_DUMP_IF_DB_EXISTS")]
    pub ignore_dump_if_db_exists: bool,

    /// Where snapshots are written as `<name>.snapshot`.
    #[arg(long, env = "QUARRY_SNAPSHOT_DIR", default_value = "snapshots/")]
    pub snapshot_dir: PathBuf,

    /// Take a snapshot every this many seconds (a `snapshotCreation` task).
    #[arg(long, env = "QUARRY_SCHEDULE_SNAPSHOT")]
    pub schedule_snapshot: Option<u64>,

    /// Restore the instance from this snapshot at start (the database must not exist yet).
    #[arg(long, env = "QUARRY_IMPORT_SNAPSHOT")]
    pub import_snapshot: Option<PathBuf>,

    /// With --import-snapshot: start normally when the snapshot file does not exist.
    #[arg(long, env = "QUARRY_IGNORE_MISSING_SNAPSHOT")]
    pub ignore_missing_snapshot: bool,

    /// With --import-snapshot: start on the existing database instead of refusing to.
    #[arg(long, env = "QUARRY_IGNORE_SNAPSHOT_IF_DB_EXISTS")]
    pub ignore_snapshot_if_db_exists: bool,

    /// Whether this process may use transparent huge pages: `off` (default) opts it out,
    /// because clearing 2 MiB pages on first touch slowed the first searches of each snapshot;
    /// `system` keeps the kernel's setting.
    #[arg(
        long,
        env = "QUARRY_TRANSPARENT_HUGE_PAGES",
        value_enum,
        default_value = "off"
    )]
    pub transparent_huge_pages: HugePages,

    /// Does not serve the search preview page at `/`.
    #[arg(long, env = "QUARRY_NO_DASHBOARD")]
    pub no_dashboard: bool,

    /// Without a subcommand, `quarry` serves the API.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Client commands: they talk to a running instance (`--url`, `QUARRY_URL`).
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Adds the documents of a JSON, NDJSON or CSV file (gzipped or not) to an index, with a
    /// progress bar, and waits until they are indexed.
    Import(ImportArgs),
    /// Searches an index and prints the hits as a table.
    Search(SearchArgs),
}

impl Cli {
    /// Checks what clap cannot: combinations of flags.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.env == Env::Production {
            match &self.master_key {
                None => anyhow::bail!(
                    "In production, a master key is required: set --master-key or QUARRY_MASTER_KEY to a secret of at least 16 bytes."
                ),
                Some(key) if key.len() < 16 => anyhow::bail!(
                    "In production, the master key must be at least 16 bytes long (it has {}).",
                    key.len()
                ),
                _ => {}
            }
        }
        if self.ssl_cert_path.is_some() != self.ssl_key_path.is_some() {
            anyhow::bail!("--ssl-cert-path and --ssl-key-path go together: set both or neither");
        }
        if self.max_concurrent_requests == 0 {
            anyhow::bail!("--max-concurrent-requests must be larger than zero");
        }
        if self.http_payload_size_limit.0 == 0 {
            anyhow::bail!("--http-payload-size-limit must be larger than zero");
        }
        if self.import_dump.is_some() && self.import_snapshot.is_some() {
            anyhow::bail!("--import-dump and --import-snapshot cannot be used together");
        }
        if self.schedule_snapshot == Some(0) {
            anyhow::bail!("--schedule-snapshot must be a number of seconds larger than zero");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        for (input, bytes) in [
            ("100MB", 100_000_000),
            ("1 KiB", 1024),
            ("512", 512),
            ("1.5GB", 1_500_000_000),
        ] {
            assert_eq!(input.parse::<ByteSize>().unwrap().0, bytes, "{input}");
        }
        assert!("ten".parse::<ByteSize>().is_err());
        assert!("10XB".parse::<ByteSize>().is_err());
    }

    #[test]
    fn production_needs_a_long_master_key() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("quarry").chain(args.iter().copied())).unwrap()
        };
        assert!(parse(&["--env", "production"]).validate().is_err());
        assert!(parse(&["--env", "production", "--master-key", "short"])
            .validate()
            .is_err());
        assert!(
            parse(&["--env", "production", "--master-key", "0123456789abcdef"])
                .validate()
                .is_ok()
        );
        assert!(parse(&[]).validate().is_ok());
    }

    #[test]
    fn tls_flags_go_together() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("quarry").chain(args.iter().copied())).unwrap()
        };
        assert!(parse(&["--ssl-cert-path", "c.pem"]).validate().is_err());
        assert!(parse(&["--ssl-key-path", "k.pem"]).validate().is_err());
        assert!(
            parse(&["--ssl-cert-path", "c.pem", "--ssl-key-path", "k.pem"])
                .validate()
                .is_ok()
        );
        assert!(parse(&["--max-concurrent-requests", "0"])
            .validate()
            .is_err());
    }
}
