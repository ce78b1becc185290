//! Snapshots: a copy of the data directory as it stands between two batches, packed into one
//! `.snapshot` file (tar + gzip) that `quarry --import-snapshot` unpacks into an empty data
//! directory. Unlike a dump, a snapshot holds the index files themselves, so restoring it
//! rebuilds nothing; it can only be read by a Quarry that reads its on-disk format.
//!
//! **Invariant**: a snapshot is consistent while writes continue. It is taken by a
//! `snapshotCreation` task on the writer thread, so no batch is running and every index's
//! files are those of its last commit (the index writers are closed first, which also stops
//! background merges). The task queue is copied through one redb read transaction: tasks
//! enqueued meanwhile are either in the copy, with their payload files (written and fsync'd
//! before the task was), or not at all.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use quarry_api_types::{Code, ResponseError};
use time::OffsetDateTime;

use crate::dump::append_bytes;
use crate::task::{Status, TaskKind};
use crate::{internal, io_error, Inner, DB_FORMAT_VERSION};

/// Writes `<snapshot_dir>/<name>.snapshot`, named after the date like a dump uid.
pub(crate) fn create(inner: &Inner, task_uid: u32) -> Result<PathBuf, ResponseError> {
    let dir = inner.options.snapshot_dir.clone();
    let name = crate::dump::new_dump_uid();
    let store_copy = dir.join(format!(".{name}.redb.partial"));
    let result = crate::dump::write_whole(&dir, &format!("{name}.snapshot"), |partial| {
        write_snapshot(inner, task_uid, partial, &store_copy)
    });
    let _ = std::fs::remove_file(&store_copy);
    result
}

fn write_snapshot(
    inner: &Inner,
    task_uid: u32,
    partial: &Path,
    store_copy: &Path,
) -> Result<(), ResponseError> {
    let now = OffsetDateTime::now_utc();
    // The snapshot task is recorded as done in the copy: a restored instance must not take
    // the snapshot again.
    let loaded = inner
        .store
        .copy_to(store_copy, |task| {
            if task.uid == task_uid {
                task.status = Status::Succeeded;
                task.started_at = Some(now);
                task.finished_at = Some(now);
            }
        })
        .map_err(|e| crate::store_error("copying the task store", e))?;
    let file = File::create(partial).map_err(io_error)?;
    let gz = flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::fast());
    let mut builder = tar::Builder::new(gz);
    append_bytes(
        &mut builder,
        "VERSION",
        format!("{DB_FORMAT_VERSION}\n").as_bytes(),
    )?;
    builder
        .append_path_with_name(store_copy, "meta.redb")
        .map_err(io_error)?;
    for task in loaded.tasks.values() {
        if task.status.is_finished() {
            continue;
        }
        if let TaskKind::DocumentAdditionOrUpdate { payload, .. } = &task.kind {
            builder
                .append_path_with_name(
                    crate::processing::payload_path(inner, *payload),
                    format!("payloads/{payload}.ndjson"),
                )
                .map_err(io_error)?;
        }
    }
    for (uid, entry) in &loaded.indexes {
        let Some(index) = inner.registry.get(uid) else {
            return Err(internal(
                "taking a snapshot",
                format!("index `{uid}` is not open"),
            ));
        };
        // Merges finish and stop: the files below are exactly those of the last commit.
        index
            .close_writer()
            .map_err(|e| internal("closing an index writer for a snapshot", e))?;
        let files = std::fs::read_dir(index.path()).map_err(io_error)?;
        for file in files.flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            if name.ends_with(".lock") || !file.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            builder
                .append_path_with_name(file.path(), format!("indexes/{}/{name}", entry.dir))
                .map_err(io_error)?;
        }
    }
    crate::dump::finish_archive(builder)
}

/// Unpacks a snapshot into `db_path`, which must hold no database; opening the scheduler on
/// it then recovers as after any stop.
pub fn import(archive: &Path, db_path: &Path) -> Result<(), ResponseError> {
    let file = File::open(archive).map_err(|e| {
        ResponseError::new(
            Code::Internal,
            format!("Cannot open the snapshot {}: {e}", archive.display()),
        )
    })?;
    std::fs::create_dir_all(db_path).map_err(io_error)?;
    tar::Archive::new(flate2::read::GzDecoder::new(BufReader::new(file)))
        .unpack(db_path)
        .map_err(|e| {
            ResponseError::new(
                Code::Internal,
                format!("{} is not a snapshot archive: {e}", archive.display()),
            )
        })?;
    if !db_path.join("meta.redb").exists() {
        return Err(ResponseError::new(
            Code::Internal,
            format!(
                "{} is not a snapshot: it has no meta.redb",
                archive.display()
            ),
        ));
    }
    Ok(())
}
