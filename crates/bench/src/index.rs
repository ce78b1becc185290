//! The `index` command: (re)load a corpus from `../shared/data` into an index through the HTTP
//! API exactly as a user would (delete, settings, NDJSON batches), wait for the tasks and report
//! throughput, the server's peak memory and the index size on disk. It is also the `--load`
//! step of `relevance`, so every engine is measured on the same data with the same settings.

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
    pub documents: u64,
    pub batches: usize,
    /// Documents the index holds afterwards (`numberOfDocuments`).
    pub indexed_documents: Option<u64>,
    /// From the first request (index creation) until the last task was seen finished.
    pub wall_seconds: f64,
    /// From the first request until the last batch was accepted (202).
    pub upload_seconds: f64,
    pub documents_per_second: f64,
    pub peak_rss: Option<PeakRss>,
    pub disk: Option<DiskSize>,
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

/// Loads the corpus; fails if any task fails.
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
    }
    api.check_health()?;
    let engine_version = api.version();
    let uid = opts.index.as_str();

    eprintln!("deleting index `{uid}` if present...");
    api.delete_index(uid)?;

    let sampler = opts.pid.map(RssSampler::start).transpose()?;
    // The reader decompresses and cuts batches while the previous batch is being sent.
    let (tx, rx) = mpsc::sync_channel(1);
    let reader = {
        let input = open_corpus(&corpus_file)?;
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

    let start = Instant::now();
    let mut tasks = Vec::new();
    let created = api
        .json(
            Method::POST,
            "/indexes",
            &json!({"uid": uid, "primaryKey": opts.primary_key}),
        )?
        .ok(&format!("creating index `{uid}`"))?;
    tasks.push(task_uid(&created)?);
    let answer = api
        .json(
            Method::PATCH,
            &format!("/indexes/{uid}/settings"),
            &settings,
        )?
        .ok(&format!("applying {}", settings_file.display()))?;
    tasks.push(task_uid(&answer)?);

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
    let max_sampled = sampler.map(RssSampler::finish);

    for &task in &tasks {
        let t = api.wait_task(task, Duration::from_secs(60))?;
        if t.get("status").and_then(Value::as_str) != Some("succeeded") {
            bail!("task {task} of `{uid}` did not succeed: {}", task_error(&t));
        }
    }

    let peak_rss = match (opts.pid, max_sampled) {
        (Some(pid), Some(max)) => Some(PeakRss {
            vm_hwm_bytes: system::hwm(pid)?,
            max_sampled_rss_bytes: max,
        }),
        _ => None,
    };
    let stats = api
        .get(&format!("/indexes/{uid}/stats"))?
        .ok(&format!("getting the stats of `{uid}`"))?;
    let disk = match &opts.db_path {
        Some(dir) => {
            let u = system::disk_usage(dir)?;
            Some(DiskSize {
                source: format!("du {}", dir.display()),
                bytes: u.allocated_bytes,
                apparent_bytes: Some(u.apparent_bytes),
            })
        }
        None => stats
            .get("rawDocumentDbSize")
            .and_then(Value::as_u64)
            .map(|bytes| DiskSize {
                source: "rawDocumentDbSize of GET /indexes/{uid}/stats".into(),
                bytes,
                apparent_bytes: None,
            }),
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
        documents,
        batches,
        indexed_documents: stats.get("numberOfDocuments").and_then(Value::as_u64),
        wall_seconds,
        upload_seconds,
        documents_per_second: documents as f64 / wall_seconds,
        peak_rss,
        disk,
    })
}

pub fn print(r: &IndexReport) {
    println!("== index: corpus {} -> index `{}`", r.corpus, r.index);
    println!(
        "parameters: url={} engine={} corpus_file={} settings_file={} batch_docs={} batch_bytes={}",
        r.url,
        r.engine_version.as_deref().unwrap_or("?"),
        r.corpus_file,
        r.settings_file,
        r.batch_docs,
        r.batch_bytes
    );
    println!("documents:        {} in {} batches", r.documents, r.batches);
    if let Some(n) = r.indexed_documents {
        let note = if n != r.documents {
            "  (differs from documents sent!)"
        } else {
            ""
        };
        println!("indexed (stats):  {n}{note}");
    }
    println!(
        "wall time:        {:.3} s  (all batches accepted after {:.3} s)",
        r.wall_seconds, r.upload_seconds
    );
    println!("documents/s:      {:.0}", r.documents_per_second);
    match &r.peak_rss {
        Some(p) => println!(
            "peak RSS:         {} (max VmRSS sampled every 100 ms: {}; VmHWM, lifetime peak: {})",
            human_bytes(p.max_sampled_rss_bytes.max(p.vm_hwm_bytes)),
            human_bytes(p.max_sampled_rss_bytes),
            human_bytes(p.vm_hwm_bytes)
        ),
        None => println!("peak RSS:         not measured (give --pid)"),
    }
    match &r.disk {
        Some(d) => println!(
            "index size:       {} ({}{})",
            human_bytes(d.bytes),
            d.source,
            d.apparent_bytes
                .map(|a| format!("; apparent size {}", human_bytes(a)))
                .unwrap_or_default()
        ),
        None => println!(
            "index size:       unknown (give --db-path; the server reports no rawDocumentDbSize)"
        ),
    }
}
