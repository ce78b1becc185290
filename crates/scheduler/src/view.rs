//! Tasks and batches as the API shows them: camelCase fields, RFC 3339 dates, ISO 8601
//! durations, and the error body of a failed task.

use quarry_api_types::{Code, ResponseError};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::task::{Batch, Task};

pub fn format_date(date: OffsetDateTime) -> String {
    date.format(&Rfc3339).unwrap_or_default()
}

fn date_or_null(date: Option<OffsetDateTime>) -> Value {
    date.map_or(Value::Null, |d| Value::String(format_date(d)))
}

/// An ISO 8601 duration such as `PT0.012345S`.
pub fn format_duration(d: time::Duration) -> String {
    let secs = d.whole_seconds();
    let nanos = d.subsec_nanoseconds().unsigned_abs();
    if nanos == 0 {
        return format!("PT{secs}S");
    }
    let fraction = format!("{nanos:09}");
    format!("PT{secs}.{}S", fraction.trim_end_matches('0'))
}

fn duration_or_null(start: Option<OffsetDateTime>, end: Option<OffsetDateTime>) -> Value {
    match (start, end) {
        (Some(s), Some(e)) => Value::String(format_duration(e - s)),
        _ => Value::Null,
    }
}

fn error_view(task: &Task) -> Value {
    match &task.error {
        None => Value::Null,
        Some(e) => {
            let code = Code::from_name(&e.code).unwrap_or(Code::Internal);
            serde_json::to_value(ResponseError {
                code,
                message: e.message.clone(),
            })
            .unwrap_or(Value::Null)
        }
    }
}

/// `GET /tasks/{uid}`.
pub fn task_view(task: &Task) -> Value {
    // Embedder API keys a settings update carries are shown partially, as in the settings.
    let mut details = task.details.clone();
    if let Some(embedders) = details.as_mut().and_then(|d| d.get_mut("embedders")) {
        quarry_api_types::settings::embedders::hide_api_keys(embedders);
    }
    let mut view = json!({
        "uid": task.uid,
        "batchUid": task.batch_uid,
        "indexUid": task.index_uid,
        "status": task.status.as_str(),
        "type": task.kind.type_name(),
        "canceledBy": task.canceled_by,
        "details": details,
        "error": error_view(task),
        "duration": duration_or_null(task.started_at, task.finished_at),
        "enqueuedAt": format_date(task.enqueued_at),
        "startedAt": date_or_null(task.started_at),
        "finishedAt": date_or_null(task.finished_at),
    });
    with_custom_metadata(&mut view, task);
    view
}

/// Adds `customMetadata` to a task view when the task has some (absent otherwise, as in
/// Meilisearch).
fn with_custom_metadata(view: &mut Value, task: &Task) {
    if let (Some(metadata), Some(object)) = (&task.custom_metadata, view.as_object_mut()) {
        object.insert("customMetadata".into(), Value::String(metadata.clone()));
    }
}

/// The `202 Accepted` body of every write.
pub fn summary_view(task: &Task) -> Value {
    let mut view = json!({
        "taskUid": task.uid,
        "indexUid": task.index_uid,
        "status": task.status.as_str(),
        "type": task.kind.type_name(),
        "enqueuedAt": format_date(task.enqueued_at),
    });
    with_custom_metadata(&mut view, task);
    view
}

/// `GET /batches/{uid}`.
pub fn batch_view(batch: &Batch) -> Value {
    json!({
        "uid": batch.uid,
        "progress": Value::Null,
        "details": batch.details,
        "stats": batch.stats,
        "duration": duration_or_null(Some(batch.started_at), batch.finished_at),
        "startedAt": format_date(batch.started_at),
        "finishedAt": date_or_null(batch.finished_at),
        "batchStrategy": batch.batch_strategy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_iso_8601() {
        assert_eq!(
            format_duration(time::Duration::milliseconds(12)),
            "PT0.012S"
        );
        assert_eq!(format_duration(time::Duration::seconds(3)), "PT3S");
        assert_eq!(
            format_duration(time::Duration::nanoseconds(1_500_000_001)),
            "PT1.500000001S"
        );
    }

    #[test]
    fn dates_are_rfc3339_with_z() {
        let d = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        assert_eq!(format_date(d), "2023-11-14T22:13:20.123456789Z");
    }
}
