//! Command-line flags and their `QUARRY_*` environment variables, with defaults that make a
//! bare `quarry` serve on 127.0.0.1:7700 with its data in `./quarry.db`.

use std::path::PathBuf;
use std::str::FromStr;

use clap::{Parser, ValueEnum};

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
        let s = s.trim();
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (number, unit) = s.split_at(split);
        let number: f64 = number
            .parse()
            .map_err(|_| format!("`{s}` is not a size (try 100MB)"))?;
        let multiplier: f64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1.0,
            "kb" => 1e3,
            "kib" => 1024.0,
            "mb" => 1e6,
            "mib" => 1024.0 * 1024.0,
            "gb" => 1e9,
            "gib" => 1024.0 * 1024.0 * 1024.0,
            "tb" => 1e12,
            "tib" => 1024f64.powi(4),
            other => return Err(format!("unknown size unit `{other}` in `{s}`")),
        };
        Ok(ByteSize((number * multiplier) as usize))
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
