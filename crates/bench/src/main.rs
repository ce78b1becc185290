//! The `quarry-bench` command line: parses the arguments of the four benchmarks (`index`,
//! `keystrokes`, `requests`, `relevance`), runs them against the server at `--url` and prints
//! human-readable figures (or JSON with `--json`) together with the exact parameters used.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use bytes::Bytes;
use clap::{Args, Parser, Subcommand};

use quarry_bench::client::{Api, Endpoint};
use quarry_bench::index::{self, IndexOptions};
use quarry_bench::load::{HttpClient, LoadConfig};
use quarry_bench::parse_duration;
use quarry_bench::relevance::{self, RelevanceOptions};
use quarry_bench::search_load::{self, Run, REQUEST_TIMEOUT};

/// Benchmarks for any server speaking the Meilisearch v1 HTTP API.
#[derive(Parser)]
#[command(name = "quarry-bench", version)]
struct Cli {
    /// Base URL of the server.
    #[arg(long, global = true, default_value = "http://127.0.0.1:7700")]
    url: String,
    /// API key, sent as `Authorization: Bearer <key>`.
    #[arg(long, global = true, env = "QUARRY_BENCH_API_KEY")]
    api_key: Option<String>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load a corpus with its settings (NDJSON batches), wait for the tasks, report wall time,
    /// documents/s, server CPU time and peak RSS (with --pid) and index size on disk; with
    /// --rounds, send the corpus again that many times and report each round.
    Index {
        /// Corpus name: reads NAME.ndjson.gz and NAME.settings.json from --data-dir.
        #[arg(long)]
        corpus: String,
        /// Index uid (default: the corpus name).
        #[arg(long)]
        index: Option<String>,
        #[command(flatten)]
        load: LoadArgs,
        /// After the first load, send the whole corpus again N times (every document
        /// replaced), reporting each round: the sustained-update case.
        #[arg(long, default_value_t = 0)]
        rounds: usize,
        /// After each pass, wait this long (background merges) before reading RSS and size.
        #[arg(long, default_value = "0s", value_parser = parse_duration)]
        settle: Duration,
        /// After each pass, wait (up to 5 minutes) until the server (--pid) has used less than
        /// 5% of a core for a second: work it does after the tasks (background merges) ends
        /// before RSS and size are read and searches are measured. Reports how long it took.
        #[arg(long, requires = "pid")]
        settle_idle: bool,
        /// At the end, compact the index (`POST /indexes/UID/compact`) and report its size.
        #[arg(long)]
        compact: bool,
    },
    /// Replay NAME.dev.keystrokes.txt (every prefix a user types) on N keep-alive connections.
    Keystrokes {
        /// Corpus name: replays NAME.dev.keystrokes.txt from --queries-dir.
        #[arg(long)]
        corpus: String,
        #[arg(long, default_value = "../shared/queries")]
        queries_dir: PathBuf,
        /// Index uid (default: the corpus name).
        #[arg(long)]
        index: Option<String>,
        #[command(flatten)]
        shape: LoadShape,
    },
    /// Send one fixed search body (filters, facets, sort) on N keep-alive connections.
    Requests {
        #[arg(long)]
        index: String,
        /// The search body: inline JSON, or @path/to/file.json.
        #[arg(long)]
        body: String,
        #[command(flatten)]
        shape: LoadShape,
    },
    /// Known-item relevance: hit@1, hit@10 and MRR@10 per query kind and overall.
    Relevance {
        /// Corpus name: runs NAME.dev.jsonl from --queries-dir.
        #[arg(long)]
        corpus: String,
        #[arg(long, default_value = "../shared/queries")]
        queries_dir: PathBuf,
        /// Index uid (default: the corpus name).
        #[arg(long)]
        index: Option<String>,
        /// (Re)load the corpus with its settings first, as the `index` command does.
        #[arg(long)]
        load: bool,
        #[command(flatten)]
        load_args: LoadArgs,
        /// List the first N queries whose relevant document is not ranked first.
        #[arg(long, default_value_t = 0)]
        show_misses: usize,
        /// With --json, include every query's rank and top ids.
        #[arg(long)]
        per_query: bool,
    },
}

#[derive(Args)]
struct LoadArgs {
    /// Directory holding NAME.ndjson.gz and NAME.settings.json.
    #[arg(long, default_value = "../shared/data")]
    data_dir: PathBuf,
    /// Documents per NDJSON batch.
    #[arg(long, default_value_t = 50_000)]
    batch_docs: usize,
    /// Maximum bytes per NDJSON batch (stays under the usual 100 MB payload limit).
    #[arg(long, default_value_t = 90_000_000)]
    batch_bytes: usize,
    /// Primary key given to the index.
    #[arg(long, default_value = "id")]
    primary_key: String,
    /// Server process id: report its CPU time (utime+stime of /proc/PID/stat, before and after)
    /// and peak RSS (VmRSS sampled every 100 ms, VmHWM at the end).
    #[arg(long)]
    pid: Option<u32>,
    /// Server data directory: report its size on disk (like `du`).
    #[arg(long)]
    db_path: Option<PathBuf>,
    /// Give up waiting for the indexing tasks after this long.
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    task_timeout: Duration,
}

#[derive(Args)]
struct LoadShape {
    /// Concurrent keep-alive connections, one thread each [default: 4 for keystrokes, 1 for
    /// requests].
    #[arg(long)]
    connections: Option<usize>,
    /// Measured time (20s, 500ms, 2m).
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    duration: Duration,
    /// Unmeasured time before it.
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    warmup: Duration,
    /// `wire`: each load thread writes its requests and reads the answers on its own socket;
    /// `reqwest`: through reqwest's blocking client, which adds two thread hand-offs to every
    /// request (the client of the figures measured before 2026-12-04).
    #[arg(long, value_enum, default_value = "wire")]
    http_client: HttpClient,
}

impl LoadShape {
    fn config(&self, default_connections: usize) -> LoadConfig {
        LoadConfig {
            connections: self.connections.unwrap_or(default_connections),
            duration: self.duration,
            warmup: self.warmup,
            request_timeout: REQUEST_TIMEOUT,
            http_client: self.http_client,
        }
    }
}

fn index_options(corpus: &str, index: &str, a: &LoadArgs) -> IndexOptions {
    IndexOptions {
        corpus: corpus.to_string(),
        data_dir: a.data_dir.clone(),
        index: index.to_string(),
        primary_key: a.primary_key.clone(),
        batch_docs: a.batch_docs,
        batch_bytes: a.batch_bytes,
        pid: a.pid,
        db_path: a.db_path.clone(),
        task_timeout: a.task_timeout,
        rounds: 0,
        settle: Duration::ZERO,
        settle_idle: false,
        compact: false,
    }
}

fn print_json(v: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Prints a report as JSON (`--json`) or as text with `print`.
fn emit<T: serde::Serialize>(json: bool, report: &T, print: impl FnOnce(&T)) -> Result<()> {
    if json {
        print_json(report)
    } else {
        print(report);
        Ok(())
    }
}

fn main() {
    let cli = Cli::parse();
    // Print the error chain ourselves: no backtrace noise even when RUST_BACKTRACE is set.
    if let Err(e) = run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let api = Api::new(Endpoint::new(&cli.url, cli.api_key.clone()))?;
    match cli.command {
        Command::Index {
            corpus,
            index,
            load,
            rounds,
            settle,
            settle_idle,
            compact,
        } => {
            let uid = index.unwrap_or_else(|| corpus.clone());
            let options = IndexOptions {
                rounds,
                settle,
                settle_idle,
                compact,
                ..index_options(&corpus, &uid, &load)
            };
            let report = index::run(&api, &options)?;
            emit(cli.json, &report, index::print)?;
        }
        Command::Keystrokes {
            corpus,
            queries_dir,
            index,
            shape,
        } => {
            let uid = index.unwrap_or_else(|| corpus.clone());
            let file = queries_dir.join(format!("{corpus}.dev.keystrokes.txt"));
            let bodies = search_load::keystroke_bodies(&file)?;
            let report = search_load::run(
                &api,
                Run {
                    command: "keystrokes",
                    index: &uid,
                    source: file.display().to_string(),
                    bodies,
                    config: shape.config(4),
                },
            )?;
            emit(cli.json, &report, search_load::print)?;
        }
        Command::Requests { index, body, shape } => {
            let body = search_load::request_body(&body)?;
            let text = body.to_string();
            let report = search_load::run(
                &api,
                Run {
                    command: "requests",
                    index: &index,
                    source: text.clone(),
                    bodies: vec![Bytes::from(text)],
                    config: shape.config(1),
                },
            )?;
            emit(cli.json, &report, search_load::print)?;
        }
        Command::Relevance {
            corpus,
            queries_dir,
            index,
            load,
            load_args,
            show_misses,
            per_query,
        } => {
            let uid = index.unwrap_or_else(|| corpus.clone());
            let loaded = if load {
                Some(index::run(&api, &index_options(&corpus, &uid, &load_args))?)
            } else {
                None
            };
            let opts = RelevanceOptions {
                corpus,
                queries_dir,
                index: uid,
            };
            let report = relevance::run(&api, &opts, loaded)?;
            if cli.json {
                print_json(&relevance::to_json(&report, per_query))?;
            } else {
                relevance::print(&report, show_misses);
            }
        }
    }
    Ok(())
}
