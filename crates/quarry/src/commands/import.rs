//! `quarry import --index NAME FILE`: streams a JSON, NDJSON or CSV file (gzipped or not) into
//! an index in batches through the HTTP API, with a progress bar (documents/s, ETA), optionally
//! applying a settings file first, and waits until every batch is indexed.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use super::{path_segment, Client, Connection};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Ndjson,
    Csv,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// The index to add the documents to (created if missing).
    #[arg(long)]
    pub index: String,

    /// The file: `.json` (an array or one object), `.ndjson`/`.jsonl`, or `.csv`, each possibly
    /// gzipped (`.gz`).
    pub file: PathBuf,

    /// The format, when the file name does not tell.
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// The primary key, when it cannot be inferred (a field ending in `id`).
    #[arg(long)]
    pub primary_key: Option<String>,

    /// A settings file (the body of `PATCH /indexes/{uid}/settings`) applied before the documents.
    #[arg(long)]
    pub settings: Option<PathBuf>,

    /// Documents per request.
    #[arg(long, default_value_t = 20_000)]
    pub batch_size: usize,

    #[command(flatten)]
    pub connection: Connection,
}

/// Counts the bytes read from the file (before decompression), for the progress bar.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn format_of(path: &Path) -> Option<Format> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    match name.rsplit_once('.')?.1 {
        "json" => Some(Format::Json),
        "ndjson" | "jsonl" => Some(Format::Ndjson),
        "csv" => Some(Format::Csv),
        _ => None,
    }
}

/// Opens the file, decompressing it when it starts with the gzip magic bytes.
fn open(path: &Path, read: Arc<AtomicU64>) -> anyhow::Result<Box<dyn BufRead>> {
    let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut magic = [0u8; 2];
    let gzipped = file.read(&mut magic)? == 2 && magic == [0x1f, 0x8b];
    let file = File::open(path)?;
    let counting = Counting { inner: file, read };
    Ok(if gzipped {
        Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::read::MultiGzDecoder::new(BufReader::new(counting)),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 20, counting))
    })
}

/// One request's worth of documents, in the content type it is sent as.
struct Chunk {
    content_type: &'static str,
    body: Vec<u8>,
    documents: u64,
}

impl Chunk {
    fn ndjson(body: Vec<u8>, documents: u64) -> Chunk {
        Chunk {
            content_type: "application/x-ndjson",
            body,
            documents,
        }
    }

    fn csv(body: Vec<u8>, documents: u64) -> Chunk {
        Chunk {
            content_type: "text/csv",
            body,
            documents,
        }
    }
}

/// Cuts the input into chunks of at most `batch_size` documents and hands each to `send`.
fn chunks(
    format: Format,
    input: Box<dyn BufRead>,
    batch_size: usize,
    send: &mut dyn FnMut(Chunk) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    match format {
        Format::Ndjson => {
            let mut body = Vec::new();
            let mut count = 0u64;
            for line in input.lines() {
                let line = line.context("reading the file")?;
                if line.trim().is_empty() {
                    continue;
                }
                body.extend_from_slice(line.as_bytes());
                body.push(b'\n');
                count += 1;
                if count as usize >= batch_size {
                    send(Chunk::ndjson(std::mem::take(&mut body), count))?;
                    count = 0;
                }
            }
            if count > 0 {
                send(Chunk::ndjson(body, count))?;
            }
        }
        Format::Json => {
            let value: Value =
                serde_json::from_reader(input).context("the file is not valid JSON")?;
            let documents = match value {
                Value::Array(items) => items,
                object @ Value::Object(_) => vec![object],
                _ => bail!("a JSON file must hold an array of objects or one object"),
            };
            for batch in documents.chunks(batch_size.max(1)) {
                let mut body = Vec::new();
                for document in batch {
                    serde_json::to_writer(&mut body, document)?;
                    body.push(b'\n');
                }
                send(Chunk::ndjson(body, batch.len() as u64))?;
            }
        }
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(true)
                .from_reader(input);
            let headers = reader
                .byte_headers()
                .context("reading the CSV header")?
                .clone();
            let new_writer = |headers: &csv::ByteRecord| -> anyhow::Result<csv::Writer<Vec<u8>>> {
                let mut writer = csv::Writer::from_writer(Vec::new());
                writer.write_byte_record(headers)?;
                Ok(writer)
            };
            let mut writer = new_writer(&headers)?;
            let mut count = 0u64;
            for record in reader.byte_records() {
                writer.write_byte_record(&record.context("reading a CSV record")?)?;
                count += 1;
                if count as usize >= batch_size {
                    let body =
                        std::mem::replace(&mut writer, new_writer(&headers)?).into_inner()?;
                    send(Chunk::csv(body, count))?;
                    count = 0;
                }
            }
            if count > 0 {
                send(Chunk::csv(writer.into_inner()?, count))?;
            }
        }
    }
    Ok(())
}

pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    let client = Client::new(&args.connection)?;
    let format = args
        .format
        .or_else(|| format_of(&args.file))
        .with_context(|| {
            format!(
                "cannot tell the format of {} from its name; pass --format json|ndjson|csv",
                args.file.display()
            )
        })?;
    let index = path_segment(&args.index);
    let started = Instant::now();
    if let Some(settings) = &args.settings {
        let text = std::fs::read_to_string(settings)
            .with_context(|| format!("reading {}", settings.display()))?;
        let body: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", settings.display()))?;
        let task = client.json(
            reqwest::Method::PATCH,
            &format!("/indexes/{index}/settings"),
            &body,
        )?;
        client.wait_task(task["taskUid"].as_u64().context("no taskUid")?)?;
        eprintln!("settings from {} applied", settings.display());
    }

    let total_bytes = std::fs::metadata(&args.file)?.len();
    let read = Arc::new(AtomicU64::new(0));
    let input = open(&args.file, read.clone())?;
    let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:30}] {percent:>3}% {msg} · ETA {eta}",
        )?
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));

    let mut path = format!("/indexes/{index}/documents");
    if let Some(key) = &args.primary_key {
        path.push_str(&format!("?primaryKey={}", path_segment(key)));
    }
    let mut tasks = Vec::new();
    let mut sent = 0u64;
    chunks(format, input, args.batch_size, &mut |chunk| {
        let summary = client.send(
            reqwest::Method::POST,
            &path,
            Some(chunk.content_type),
            Some(chunk.body),
        )?;
        tasks.push(
            summary["taskUid"]
                .as_u64()
                .context("no taskUid in the answer")?,
        );
        sent += chunk.documents;
        let rate = sent as f64 / started.elapsed().as_secs_f64().max(1e-3);
        bar.set_position(read.load(Ordering::Relaxed));
        bar.set_message(format!("{sent} documents sent ({rate:.0}/s)"));
        Ok(())
    })?;
    bar.set_position(total_bytes);
    let mut indexed = 0u64;
    for (done, uid) in tasks.iter().enumerate() {
        bar.set_message(format!(
            "{sent} documents sent, waiting for batch {}/{}",
            done + 1,
            tasks.len()
        ));
        let task = client.wait_task(*uid)?;
        indexed += task["details"]["indexedDocuments"].as_u64().unwrap_or(0);
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "imported {indexed} documents into `{}` in {seconds:.1} s ({:.0} documents/s, {} requests)",
        args.index,
        indexed as f64 / seconds.max(1e-3),
        tasks.len()
    );
    Ok(())
}
