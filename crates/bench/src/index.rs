//! The `index` command: (re)load a corpus from `../shared/data` into an index through the HTTP
//! API exactly as a user would (delete, settings, NDJSON batches), wait for the tasks and report
//! throughput, the server's CPU time, peak memory and the index size on disk. With `--rounds N`
//! the whole corpus is then sent again N times (every document replaced), each round measured
//! alone: the sustained-update case, where memory and disk must stay bounded. It is also the
//! `--load` step of `relevance`, so every engine is measured on the same data with the same
//! settings.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use flate2::read::MultiGzDecoder;
use reqwest::Method;
use serde::Serialize;
use serde_json::{json, Value};

use crate::batch::NdjsonBatcher;
use crate::client::{task_error, task_uid, Api};
use crate::system::{self, human_bytes, RssSampler};

#[derive(Debug, Clone)]
pub struct IndexOptions {
    pub corpus: String,
    pub data_dir: PathBuf,
    pub index: String,
    pub primary_key: String,
    pub batch_docs: usize,
    pub batch_bytes: usize,
    pub pid: Option<u32>,
    pub db_path: Option<PathBuf>,
    pub task_timeout: Duration,
    /// After the first load, send the whole corpus again this many times.
    pub rounds: usize,
    /// Wait this long after each pass's tasks are done before reading memory and disk size, so
    /// that background merges can finish.
    pub settle: Duration,
    /// After each pass (and `settle`), wait until the server is idle (needs `pid`).
    pub settle_idle: bool,
    /// At the end, compact the index (`POST /indexes/UID/compact`) and report its size.
    pub compact: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeakRss {
    /// VmHWM at the end: the lifetime peak of the process (includes anything it did before).
    pub vm_hwm_bytes: u64,
    /// Largest VmRSS sampled every 100 ms during this run.
    pub max_sampled_rss_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiskSize {
    /// `du <db-path>` or `rawDocumentDbSize`.
    pub source: String,
    pub bytes: u64,
    pub apparent_bytes: Option<u64>,
}

/// CPU time (user + system, all threads) of the server process, from `/proc/PID/stat`.
#[derive(Debug, Clone, Serialize)]
pub struct CpuTime {
    /// Used by the process since it started, when the pass began.
    pub before_seconds: f64,
    /// Used since it started, when the pass's last task was seen finished.
    pub after_seconds: f64,
    /// `after - before`: the CPU the pass cost the server.
    pub seconds: f64,
    /// CPU used during the `--settle` wait after the pass (background merges), when there was
    /// one.
    pub settle_seconds: Option<f64>,
}

/// What one pass over the corpus measured.
#[derive(Debug, Clone, Serialize)]
pub struct Pass {
    pub documents: u64,
    pub batches: usize,
    /// Documents the index holds afterwards (`numberOfDocuments`).
    pub indexed_documents: Option<u64>,
    /// From the pass's first request until its last task was seen finished.
    pub wall_seconds: f64,
    /// From the pass's first request until its last batch was accepted (202).
    pub upload_seconds: f64,
    pub documents_per_second: f64,
    pub cpu: Option<CpuTime>,
    /// `--settle-idle`: seconds from the last task seen finished until the server went idle
    /// (the work it does after its tasks, such as background merges).
    pub idle_after_seconds: Option<f64>,
    /// Peak RSS during the pass (sampled) and over the process's life (VmHWM).
    pub peak_rss: Option<PeakRss>,
    /// VmRSS at the end of the pass (after `--settle`).
    pub rss_bytes: Option<u64>,
    /// Index size at the end of the pass (after `--settle`).
    pub disk: Option<DiskSize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndexReport {
    pub url: String,
    pub engine_version: Option<String>,
    pub corpus: String,
    pub index: String,
    pub corpus_file: String,
    pub settings_file: String,
    pub batch_docs: usize,
    pub batch_bytes: usize,
    pub settle_seconds: f64,
    /// The first load of the corpus (its fields appear at the top level of the JSON report).
    #[serde(flatten)]
    pub first: Pass,
    /// `--rounds`: each later pass over the whole corpus, every document replaced.
    pub rounds: Vec<Pass>,
    /// `--compact`: the index size after `POST /indexes/UID/compact`.
    pub compacted_disk: Option<DiskSize>,
}

fn corpus_path(data_dir: &Path, corpus: &str) -> Result<PathBuf> {
    let gz = data_dir.join(format!("{corpus}.ndjson.gz"));
    if gz.exists() {
        return Ok(gz);
    }
    let plain = data_dir.join(format!("{corpus}.ndjson"));
    if plain.exists() {
        return Ok(plain);
    }
    bail!(
        "no corpus `{corpus}`: neither {} nor {} exists (see --data-dir)",
        gz.display(),
        plain.display()
    )
}

fn open_corpus(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::with_capacity(
            1 << 20,
            MultiGzDecoder::new(BufReader::new(file)),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 20, file))
    })
}

/// Loads the corpus (then the `--rounds`); fails if any task fails.
pub fn run(api: &Api, opts: &IndexOptions) -> Result<IndexReport> {
    let corpus_file = corpus_path(&opts.data_dir, &opts.corpus)?;
    let settings_file = opts.data_dir.join(format!("{}.settings.json", opts.corpus));
    let settings: Value = serde_json::from_str(
        &std::fs::read_to_string(&settings_file)
            .with_context(|| format!("reading {}", settings_file.display()))?,
    )
    .with_context(|| format!("parsing {}", settings_file.display()))?;
    if let Some(pid) = opts.pid {
        system::rss(pid)?;
        system::cpu_seconds(pid)?;
    }
    api.check_health()?;
    let engine_version = api.version();
    let uid = opts.index.as_str();

    eprintln!("deleting index `{uid}` if present...");
    api.delete_index(uid)?;

    let watch = Watch::start(opts)?;
    let start = Instant::now();
    let mut setup_tasks = Vec::new();
    let created = api
        .json(
            Method::POST,
            "/indexes",
            &json!({"uid": uid, "primaryKey": opts.primary_key}),
        )?
        .ok(&format!("creating index `{uid}`"))?;
    setup_tasks.push(task_uid(&created)?);
    let answer = api
        .json(
            Method::PATCH,
            &format!("/indexes/{uid}/settings"),
            &settings,
        )?
        .ok(&format!("applying {}", settings_file.display()))?;
    setup_tasks.push(task_uid(&answer)?);
    let first = send_corpus(api, opts, &corpus_file, start, watch, setup_tasks)?;

    let mut rounds = Vec::with_capacity(opts.rounds);
    for round in 1..=opts.rounds {
        eprintln!(
            "round {round} of {}: sending the corpus again...",
            opts.rounds
        );
        let watch = Watch::start(opts)?;
        let pass = send_corpus(api, opts, &corpus_file, Instant::now(), watch, Vec::new())?;
        print_round(round, &pass);
        rounds.push(pass);
    }

    let compacted_disk = if opts.compact {
        eprintln!("compacting `{uid}`...");
        let answer = api
            .json(Method::POST, &format!("/indexes/{uid}/compact"), &json!({}))?
            .ok(&format!("compacting `{uid}`"))?;
        let task = task_uid(&answer)?;
        let t = api.wait_task(task, opts.task_timeout)?;
        if t.get("status").and_then(Value::as_str) != Some("succeeded") {
            bail!("compacting `{uid}` did not succeed: {}", task_error(&t));
        }
        disk_size(api, opts)?
    } else {
        None
    };

    Ok(IndexReport {
        url: api.endpoint.url.clone(),
        engine_version,
        corpus: opts.corpus.clone(),
        index: uid.to_string(),
        corpus_file: corpus_file.display().to_string(),
        settings_file: settings_file.display().to_string(),
        batch_docs: opts.batch_docs,
        batch_bytes: opts.batch_bytes,
        settle_seconds: opts.settle.as_secs_f64(),
        first,
        rounds,
        compacted_disk,
    })
}

/// The server observed during one pass: its RSS sampled every 100 ms and its CPU time when the
/// pass began.
struct Watch {
    sampler: Option<RssSampler>,
    cpu_before: Option<f64>,
}

impl Watch {
    fn start(opts: &IndexOptions) -> Result<Watch> {
        Ok(match opts.pid {
            Some(pid) => Watch {
                cpu_before: Some(system::cpu_seconds(pid)?),
                sampler: Some(RssSampler::start(pid)?),
            },
            None => Watch {
                sampler: None,
                cpu_before: None,
            },
        })
    }
}

/// Sends the corpus as NDJSON batches (after `setup_tasks`, already sent), waits until the
/// index has no pending task, checks that every task succeeded and measures the pass.
fn send_corpus(
    api: &Api,
    opts: &IndexOptions,
    corpus_file: &Path,
    start: Instant,
    watch: Watch,
    mut tasks: Vec<u64>,
) -> Result<Pass> {
    let uid = opts.index.as_str();
    // The reader decompresses and cuts batches while the previous batch is being sent.
    let (tx, rx) = mpsc::sync_channel(1);
    let reader = {
        let input = open_corpus(corpus_file)?;
        let (docs, bytes) = (opts.batch_docs, opts.batch_bytes);
        std::thread::spawn(move || {
            for batch in NdjsonBatcher::new(input, docs, bytes) {
                let stop = batch.is_err();
                if tx.send(batch).is_err() || stop {
                    break;
                }
            }
        })
    };
    let (mut documents, mut batches) = (0u64, 0usize);
    for batch in rx {
        let batch = batch.with_context(|| format!("reading {}", corpus_file.display()))?;
        documents += batch.docs as u64;
        batches += 1;
        tasks.push(api.add_ndjson(uid, &opts.primary_key, Bytes::from(batch.data))?);
    }
    reader
        .join()
        .map_err(|_| anyhow!("the corpus reader panicked"))?;
    let upload_seconds = start.elapsed().as_secs_f64();
    eprintln!(
        "sent {documents} documents in {batches} batches ({upload_seconds:.2} s); waiting for the tasks..."
    );

    let mut last_note = Instant::now();
    loop {
        let pending = api.pending_tasks(uid)?;
        if pending == 0 {
            break;
        }
        if start.elapsed() > opts.task_timeout {
            bail!(
                "{pending} tasks of `{uid}` still pending after {:?}",
                opts.task_timeout
            );
        }
        if last_note.elapsed() > Duration::from_secs(5) {
            eprintln!(
                "  {pending} tasks pending after {:.1} s",
                start.elapsed().as_secs_f64()
            );
            last_note = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let wall_seconds = start.elapsed().as_secs_f64();
    let cpu_after = opts.pid.map(system::cpu_seconds).transpose()?;
    if !opts.settle.is_zero() {
        std::thread::sleep(opts.settle);
    }
    let idle_after_seconds = match (opts.pid, opts.settle_idle) {
        (Some(pid), true) => Some(
            opts.settle.as_secs_f64() + system::wait_until_idle(pid, IDLE_TIMEOUT)?.as_secs_f64(),
        ),
        _ => None,
    };
    let cpu_settled = match (opts.pid, opts.settle.is_zero() && !opts.settle_idle) {
        (Some(pid), false) => Some(system::cpu_seconds(pid)?),
        _ => None,
    };
    let max_sampled = watch.sampler.map(RssSampler::finish);

    for &task in &tasks {
        let t = api.wait_task(task, Duration::from_secs(60))?;
        if t.get("status").and_then(Value::as_str) != Some("succeeded") {
            bail!("task {task} of `{uid}` did not succeed: {}", task_error(&t));
        }
    }

    let (peak_rss, rss_bytes) = match (opts.pid, max_sampled) {
        (Some(pid), Some(max)) => (
            Some(PeakRss {
                vm_hwm_bytes: system::hwm(pid)?,
                max_sampled_rss_bytes: max,
            }),
            Some(system::rss(pid)?),
        ),
        _ => (None, None),
    };
    let cpu = match (watch.cpu_before, cpu_after) {
        (Some(before), Some(after)) => Some(CpuTime {
            before_seconds: before,
            after_seconds: after,
            seconds: after - before,
            settle_seconds: cpu_settled.map(|s| s - after),
        }),
        _ => None,
    };
    let stats = api
        .get(&format!("/indexes/{uid}/stats"))?
        .ok(&format!("getting the stats of `{uid}`"))?;
    let disk = disk_size(api, opts)?;
    Ok(Pass {
        documents,
        batches,
        indexed_documents: stats.get("numberOfDocuments").and_then(Value::as_u64),
        wall_seconds,
        upload_seconds,
        documents_per_second: documents as f64 / wall_seconds,
        cpu,
        idle_after_seconds,
        peak_rss,
        rss_bytes,
        disk,
    })
}

/// The longest `--settle-idle` waits for the server to go idle.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// The size of `--db-path` (like `du`), else the index's `rawDocumentDbSize`.
fn disk_size(api: &Api, opts: &IndexOptions) -> Result<Option<DiskSize>> {
    if let Some(dir) = &opts.db_path {
        let u = system::disk_usage(dir)?;
        return Ok(Some(DiskSize {
            source: format!("du {}", dir.display()),
            bytes: u.allocated_bytes,
            apparent_bytes: Some(u.apparent_bytes),
        }));
    }
    let uid = opts.index.as_str();
    let stats = api
        .get(&format!("/indexes/{uid}/stats"))?
        .ok(&format!("getting the stats of `{uid}`"))?;
    Ok(stats
        .get("rawDocumentDbSize")
        .and_then(Value::as_u64)
        .map(|bytes| DiskSize {
            source: "rawDocumentDbSize of GET /indexes/{uid}/stats".into(),
            bytes,
            apparent_bytes: None,
        }))
}

fn opt_bytes(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "-".to_string(), human_bytes)
}

/// One line of the rounds table (also printed as each round ends, on stderr).
fn round_line(round: usize, p: &Pass) -> String {
    format!(
        "{round:>5}  {:>8.3}  {:>8.0}  {:>12}  {:>10}  {:>10}  {:>10}  {:>10}",
        p.wall_seconds,
        p.documents_per_second,
        p.cpu
            .as_ref()
            .map_or_else(|| "-".to_string(), |c| format!("{:.2}", c.seconds)),
        opt_bytes(p.rss_bytes),
        opt_bytes(p.peak_rss.as_ref().map(|r| r.max_sampled_rss_bytes)),
        opt_bytes(p.peak_rss.as_ref().map(|r| r.vm_hwm_bytes)),
        opt_bytes(p.disk.as_ref().map(|d| d.bytes)),
    )
}

const ROUND_HEADER: &str =
    "round    wall s    docs/s  server CPU s     RSS now  peak round       VmHWM  index size";

fn print_round(round: usize, p: &Pass) {
    if round == 1 {
        eprintln!("{ROUND_HEADER}");
    }
    eprintln!("{}", round_line(round, p));
}

pub fn print(r: &IndexReport) {
    println!("== index: corpus {} -> index `{}`", r.corpus, r.index);
    println!(
        "parameters: url={} engine={} corpus_file={} settings_file={} batch_docs={} batch_bytes={} rounds={} settle={}s",
        r.url,
        r.engine_version.as_deref().unwrap_or("?"),
        r.corpus_file,
        r.settings_file,
        r.batch_docs,
        r.batch_bytes,
        r.rounds.len(),
        r.settle_seconds,
    );
    println!(
        "documents:        {} in {} batches",
        r.first.documents, r.first.batches
    );
    if let Some(n) = r.first.indexed_documents {
        let note = if n != r.first.documents {
            "  (differs from documents sent!)"
        } else {
            ""
        };
        println!("indexed (stats):  {n}{note}");
    }
    println!(
        "wall time:        {:.3} s  (all batches accepted after {:.3} s)",
        r.first.wall_seconds, r.first.upload_seconds
    );
    println!("documents/s:      {:.0}", r.first.documents_per_second);
    match &r.first.cpu {
        Some(c) => println!(
            "server CPU:       {:.2} s  (utime+stime {:.2} s -> {:.2} s{})",
            c.seconds,
            c.before_seconds,
            c.after_seconds,
            c.settle_seconds
                .map(|s| format!("; {s:.2} s more while settling"))
                .unwrap_or_default()
        ),
        None => println!("server CPU:       not measured (give --pid)"),
    }
    if let Some(s) = r.first.idle_after_seconds {
        println!(
            "idle after:       {s:.3} s  (after the last task: background work such as merges)"
        );
    }
    match &r.first.peak_rss {
        Some(p) => println!(
            "peak RSS:         {} (max VmRSS sampled every 100 ms: {}; VmHWM, lifetime peak: {})",
            human_bytes(p.max_sampled_rss_bytes.max(p.vm_hwm_bytes)),
            human_bytes(p.max_sampled_rss_bytes),
            human_bytes(p.vm_hwm_bytes)
        ),
        None => println!("peak RSS:         not measured (give --pid)"),
    }
    match &r.first.disk {
        Some(d) => println!("index size:       {}", describe_disk(d)),
        None => println!(
            "index size:       unknown (give --db-path; the server reports no rawDocumentDbSize)"
        ),
    }
    if !r.rounds.is_empty() {
        println!(
            "rounds (the whole corpus sent again each time; RSS and size after the settle wait):"
        );
        println!("{ROUND_HEADER}");
        for (i, p) in r.rounds.iter().enumerate() {
            println!("{}", round_line(i + 1, p));
            if p.indexed_documents != Some(p.documents) {
                println!(
                    "       indexed (stats): {:?}  (differs from documents sent!)",
                    p.indexed_documents
                );
            }
        }
    }
    if let Some(d) = &r.compacted_disk {
        println!("compacted size:   {}", describe_disk(d));
    }
}

fn describe_disk(d: &DiskSize) -> String {
    format!(
        "{} ({}{})",
        human_bytes(d.bytes),
        d.source,
        d.apparent_bytes
            .map(|a| format!("; apparent size {}", human_bytes(a)))
            .unwrap_or_default()
    )
}
