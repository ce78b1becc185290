//! Dumps: a portable, self-describing archive of a whole instance (every index's metadata,
//! settings and documents, the task queue, the API keys), written by a `dumpCreation` task on
//! the writer thread (so no batch runs meanwhile) and read back by `quarry --import-dump` into
//! an empty data directory. Unlike a snapshot, a dump does not copy index files: it is rebuilt
//! by indexing, so it survives changes of the on-disk format. `docs/dump-format.md` is the
//! format's specification.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use quarry_api_types::settings::Settings;
use quarry_api_types::{Code, ResponseError};
use quarry_engine::index::INDEX_FORMAT_VERSION;
use quarry_engine::{AddMethod, Index, IndexOptions, IndexState};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::store::{Changes, IndexEntry, Store};
use crate::task::{Batch, Status, Task, TaskKind};
use crate::{engine_error, internal, io_error, settings_apply, Inner, DB_FORMAT_VERSION};

/// Version of the dump layout; bumped when a reader of the previous one could not read it.
pub const DUMP_FORMAT_VERSION: u32 = 1;

/// Where API keys come from when a dump is written and go to when one is imported. Keys are
/// plain JSON values here so that the dump format does not depend on how keys are stored.
pub trait KeyStore: Send + Sync {
    fn export_keys(&self) -> Result<Vec<Value>, String>;
    fn import_keys(&self, keys: Vec<Value>) -> Result<(), String>;
}

/// The key store of an instance that has none: dumps carry an empty list.
pub struct NoKeys;

impl KeyStore for NoKeys {
    fn export_keys(&self) -> Result<Vec<Value>, String> {
        Ok(Vec::new())
    }

    fn import_keys(&self, keys: Vec<Value>) -> Result<(), String> {
        if !keys.is_empty() {
            tracing::warn!(
                keys = keys.len(),
                "the dump holds API keys but this instance has no key store: they are not imported"
            );
        }
        Ok(())
    }
}

/// A shareable handle on a [`KeyStore`].
#[derive(Clone)]
pub struct Keys(pub Arc<dyn KeyStore>);

impl Keys {
    pub fn none() -> Keys {
        Keys(Arc::new(NoKeys))
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys")
    }
}

/// A dump uid as Meilisearch shapes them: the UTC date and time to the millisecond,
/// `YYYYMMDD-HHMMSSmmm`.
pub fn new_dump_uid() -> String {
    let now = OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}{:03}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}

pub(crate) fn format_date(date: OffsetDateTime) -> String {
    date.format(&Rfc3339).unwrap_or_default()
}

fn parse_date(value: &Value, what: &str) -> Result<OffsetDateTime, ResponseError> {
    value
        .as_str()
        .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
        .ok_or_else(|| invalid(format!("{what} is not an RFC 3339 date: {value}")))
}

fn invalid(message: impl std::fmt::Display) -> ResponseError {
    ResponseError::new(Code::Internal, format!("Invalid dump: {message}"))
}

/// Adds `bytes` to the archive under `name`.
pub(crate) fn append_bytes<W: Write>(
    builder: &mut tar::Builder<W>,
    name: &str,
    bytes: &[u8],
) -> Result<(), ResponseError> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(OffsetDateTime::now_utc().unix_timestamp().max(0) as u64);
    header.set_cksum();
    builder
        .append_data(&mut header, name, bytes)
        .map_err(io_error)
}

/// Writes `<dump_dir>/<dump_uid>.dump`. Runs on the writer thread: no batch changes an index
/// while it reads them.
pub(crate) fn create(
    inner: &Inner,
    task_uid: u32,
    dump_uid: &str,
) -> Result<PathBuf, ResponseError> {
    write_whole(
        &inner.options.dump_dir,
        &format!("{dump_uid}.dump"),
        |partial| write_dump(inner, task_uid, dump_uid, partial),
    )
}

/// Writes `dir/name` through a hidden `.name.partial` file renamed at the end, so that a
/// crash or an error never leaves a truncated archive under the final name.
pub(crate) fn write_whole(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&Path) -> Result<(), ResponseError>,
) -> Result<PathBuf, ResponseError> {
    std::fs::create_dir_all(dir).map_err(io_error)?;
    let path = dir.join(name);
    let partial = dir.join(format!(".{name}.partial"));
    if let Err(e) = write(&partial) {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, &path).map_err(io_error)?;
    Ok(path)
}

fn write_dump(
    inner: &Inner,
    task_uid: u32,
    dump_uid: &str,
    partial: &Path,
) -> Result<(), ResponseError> {
    let file = File::create(partial).map_err(io_error)?;
    let gz = flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::fast());
    let mut builder = tar::Builder::new(gz);
    let now = OffsetDateTime::now_utc();
    let metadata = json!({
        "dumpVersion": DUMP_FORMAT_VERSION,
        "quarryVersion": env!("CARGO_PKG_VERSION"),
        "dumpUid": dump_uid,
        "dumpDate": format_date(now),
        "dbFormatVersion": DB_FORMAT_VERSION,
        "indexFormatVersion": INDEX_FORMAT_VERSION,
    });
    append_bytes(&mut builder, "metadata.json", &to_pretty(&metadata))?;

    let keys = inner
        .options
        .keys
        .0
        .export_keys()
        .map_err(|e| internal("exporting the API keys", e))?;
    append_bytes(&mut builder, "keys.json", &to_pretty(&Value::Array(keys)))?;
    let records = inner.instance.read().clone();
    for (name, value) in &records {
        append_bytes(
            &mut builder,
            &format!("instance/{name}.json"),
            &to_pretty(value),
        )?;
    }

    // The queue as it is now; the dump task itself is recorded as succeeded, since the
    // instance rebuilt from the dump must not dump again.
    let (tasks, batches) = {
        let queue = inner.queue.lock();
        let tasks: Vec<Task> = queue.tasks.values().cloned().collect();
        let batches: Vec<Batch> = queue.batches.values().cloned().collect();
        (tasks, batches)
    };
    let mut lines = Vec::new();
    let mut payloads = Vec::new();
    for mut task in tasks {
        if task.uid == task_uid {
            task.status = Status::Succeeded;
            task.details = Some(json!({"dumpUid": dump_uid}));
            task.finished_at = Some(now);
        }
        if !task.status.is_finished() {
            if let TaskKind::DocumentAdditionOrUpdate { payload, .. } = &task.kind {
                payloads.push(*payload);
            }
        }
        serde_json::to_writer(&mut lines, &task).map_err(|e| internal("writing a task", e))?;
        lines.push(b'\n');
    }
    append_bytes(&mut builder, "tasks/queue.ndjson", &lines)?;
    let mut lines = Vec::new();
    for batch in batches {
        serde_json::to_writer(&mut lines, &batch).map_err(|e| internal("writing a batch", e))?;
        lines.push(b'\n');
    }
    append_bytes(&mut builder, "tasks/batches.ndjson", &lines)?;
    for payload in payloads {
        let source = crate::processing::payload_path(inner, payload);
        builder
            .append_path_with_name(&source, format!("tasks/payloads/{payload}.ndjson"))
            .map_err(io_error)?;
    }

    for (info, index) in inner.registry.all() {
        let state = index.state();
        let base = format!("indexes/{}", info.uid);
        let metadata = json!({
            "uid": info.uid,
            "primaryKey": info.primary_key,
            "createdAt": format_date(info.created_at),
            "updatedAt": format_date(info.updated_at),
            "numberOfDocuments": index.number_of_documents(),
            "fields": state.fields,
        });
        append_bytes(
            &mut builder,
            &format!("{base}/metadata.json"),
            &to_pretty(&metadata),
        )?;
        let settings = settings_apply::to_wire(&state.settings).to_json();
        append_bytes(
            &mut builder,
            &format!("{base}/settings.json"),
            &to_pretty(&settings),
        )?;
        // tar wants each entry's size first: documents go through a file beside the dump.
        let documents_path = partial.with_extension(format!("{}.ndjson", info.uid));
        let written = append_documents(&mut builder, &index, &documents_path, &base);
        let _ = std::fs::remove_file(&documents_path);
        written?;
    }
    finish_archive(builder)
}

/// Closes a gzipped tar archive and fsyncs its file.
pub(crate) fn finish_archive(
    builder: tar::Builder<flate2::write::GzEncoder<BufWriter<File>>>,
) -> Result<(), ResponseError> {
    let gz = builder.into_inner().map_err(io_error)?;
    let file = gz
        .finish()
        .map_err(io_error)?
        .into_inner()
        .map_err(|e| io_error(e.into_error()))?;
    file.sync_all().map_err(io_error)?;
    Ok(())
}

/// Writes an index's documents to `scratch`, then adds that file to the archive.
fn append_documents<W: Write>(
    builder: &mut tar::Builder<W>,
    index: &Index,
    scratch: &Path,
    base: &str,
) -> Result<(), ResponseError> {
    let mut out = BufWriter::new(File::create(scratch).map_err(io_error)?);
    index.write_documents(&mut out).map_err(engine_error)?;
    out.flush().map_err(io_error)?;
    drop(out);
    builder
        .append_path_with_name(scratch, format!("{base}/documents.ndjson"))
        .map_err(io_error)
}

fn to_pretty(value: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// What an import rebuilt.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportSummary {
    pub indexes: usize,
    pub documents: u64,
    pub tasks: usize,
    pub keys: usize,
}

/// Rebuilds a data directory at `db_path` (which must hold no database) from a dump.
pub fn import(
    archive: &Path,
    db_path: &Path,
    options: IndexOptions,
    keys: &dyn KeyStore,
) -> Result<ImportSummary, ResponseError> {
    std::fs::create_dir_all(db_path.join("indexes")).map_err(io_error)?;
    std::fs::create_dir_all(db_path.join("payloads")).map_err(io_error)?;
    let work = db_path.join(".dump-import");
    let _ = std::fs::remove_dir_all(&work);
    let file = File::open(archive).map_err(|e| invalid(format!("{}: {e}", archive.display())))?;
    tar::Archive::new(flate2::read::GzDecoder::new(BufReader::new(file)))
        .unpack(&work)
        .map_err(|e| invalid(format!("{} is not a dump archive: {e}", archive.display())))?;
    let result = import_unpacked(&work, db_path, options, keys);
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn read_json(path: &Path) -> Result<Value, ResponseError> {
    let bytes = std::fs::read(path).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
    serde_json::from_slice(&bytes).map_err(|e| invalid(format!("{}: {e}", path.display())))
}

fn read_lines<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>, ResponseError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(e)),
    };
    let mut out = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(io_error)?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(
            serde_json::from_str(&line).map_err(|e| invalid(format!("{}: {e}", path.display())))?,
        );
    }
    Ok(out)
}

fn import_unpacked(
    work: &Path,
    db_path: &Path,
    options: IndexOptions,
    keys: &dyn KeyStore,
) -> Result<ImportSummary, ResponseError> {
    let metadata = read_json(&work.join("metadata.json"))?;
    let version = metadata["dumpVersion"].as_u64().unwrap_or(u64::MAX);
    if version > u64::from(DUMP_FORMAT_VERSION) {
        return Err(invalid(format!(
            "dump format {version} is newer than this Quarry reads ({DUMP_FORMAT_VERSION})"
        )));
    }
    let key_list = match read_json(&work.join("keys.json"))? {
        Value::Array(list) => list,
        other => return Err(invalid(format!("keys.json is not a list: {other}"))),
    };
    let key_count = key_list.len();
    keys.import_keys(key_list)
        .map_err(|e| internal("importing the API keys", e))?;

    let tasks: Vec<Task> = read_lines(&work.join("tasks/queue.ndjson"))?;
    let batches: Vec<Batch> = read_lines(&work.join("tasks/batches.ndjson"))?;
    let last_task_uid = tasks.iter().map(|t| t.uid).max().unwrap_or(0);
    let mut changes = Changes::default();
    let mut documents = 0;
    let mut index_dirs: Vec<PathBuf> = match std::fs::read_dir(work.join("indexes")) {
        Ok(entries) => entries.flatten().map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    };
    index_dirs.sort();
    for dir in &index_dirs {
        let metadata = read_json(&dir.join("metadata.json"))?;
        let uid = metadata["uid"]
            .as_str()
            .ok_or_else(|| invalid(format!("{} has no uid", dir.display())))?
            .to_string();
        let primary_key = metadata["primaryKey"].as_str().map(str::to_string);
        let wire = Settings::from_json(&read_json(&dir.join("settings.json"))?)
            .map_err(|e| invalid(format!("settings of `{uid}`: {}", e.message)))?;
        let settings = settings_apply::apply_patch(&Default::default(), &wire);
        let fields = metadata["fields"]
            .as_array()
            .map(|f| {
                f.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let entry = IndexEntry {
            dir: uuid::Uuid::new_v4().to_string(),
            created_at: parse_date(&metadata["createdAt"], "createdAt")?,
            updated_at: parse_date(&metadata["updatedAt"], "updatedAt")?,
        };
        let state = IndexState {
            format_version: INDEX_FORMAT_VERSION,
            primary_key: primary_key.clone(),
            settings,
            fields,
            last_task_uid: None,
            task_results: BTreeMap::new(),
        };
        let index = Index::create(&db_path.join("indexes").join(&entry.dir), state, options)
            .map_err(engine_error)?;
        let docs = dir.join("documents.ndjson");
        if std::fs::metadata(&docs).map(|m| m.len()).unwrap_or(0) > 0 {
            let mut batch = index.write(false).map_err(engine_error)?;
            let outcome = batch
                .add_documents(&docs, AddMethod::Replace, primary_key.as_deref())
                .map_err(engine_error)?;
            batch
                .commit(last_task_uid, BTreeMap::new())
                .map_err(engine_error)?;
            documents += outcome.indexed;
        }
        index.close_writer().map_err(engine_error)?;
        tracing::info!(index_uid = %uid, documents = index.number_of_documents(), "index imported from the dump");
        changes.put_indexes.push((uid, entry));
    }
    for task in &tasks {
        if task.status.is_finished() {
            continue;
        }
        if let TaskKind::DocumentAdditionOrUpdate { payload, .. } = &task.kind {
            let from = work.join(format!("tasks/payloads/{payload}.ndjson"));
            std::fs::copy(
                &from,
                db_path.join("payloads").join(format!("{payload}.ndjson")),
            )
            .map_err(|e| invalid(format!("payload of task {}: {e}", task.uid)))?;
        }
    }
    let summary = ImportSummary {
        indexes: changes.put_indexes.len(),
        documents,
        tasks: tasks.len(),
        keys: key_count,
    };
    changes.put_tasks = tasks;
    changes.put_batches = batches;
    if let Ok(entries) = std::fs::read_dir(work.join("instance")) {
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            changes
                .put_instance
                .push((name.to_string(), read_json(&path)?));
        }
    }
    let store = Store::open(&db_path.join("meta.redb"))
        .map_err(|e| internal("creating the task store", e))?;
    store
        .apply(&changes)
        .map_err(|e| internal("recording the imported tasks", e))?;
    Ok(summary)
}
