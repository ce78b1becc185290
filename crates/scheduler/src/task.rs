//! What a task is, as the queue stores it: its kind with everything needed to run it again
//! after a crash, its status, its details and its error.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

/// The lifecycle of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    Enqueued,
    Processing,
    Succeeded,
    Failed,
    Canceled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Enqueued => "enqueued",
            Status::Processing => "processing",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Canceled => "canceled",
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Status::Succeeded | Status::Failed | Status::Canceled)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocumentMethod {
    Replace,
    Update,
}

/// A task's work, with its content (payload files are referenced by id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TaskKind {
    DocumentAdditionOrUpdate {
        index_uid: String,
        primary_key: Option<String>,
        method: DocumentMethod,
        payload: uuid::Uuid,
        documents_count: u64,
        allow_index_creation: bool,
        /// `skipCreation=true`: documents the index does not hold are skipped, not created.
        #[serde(default)]
        skip_creation: bool,
    },
    DocumentDeletion {
        index_uid: String,
        document_ids: Vec<String>,
    },
    DocumentClear {
        index_uid: String,
    },
    /// `POST /documents/delete`: the documents a filter selects when the task runs.
    DocumentDeletionByFilter {
        index_uid: String,
        /// The filter as the user sent it (string or array form).
        filter: Value,
    },
    /// Runs a Rhai function on the documents a filter selects (`POST .../documents/edit`).
    DocumentEdition {
        index_uid: String,
        /// The filter as the user sent it (string or array form), if any.
        filter: Option<Value>,
        context: Option<Value>,
        function: String,
    },
    SettingsUpdate {
        index_uid: String,
        /// The settings as the user sent them (wire JSON; `null` resets a key).
        settings: Value,
        allow_index_creation: bool,
    },
    IndexCreation {
        index_uid: String,
        primary_key: Option<String>,
    },
    IndexUpdate {
        index_uid: String,
        primary_key: Option<String>,
        new_index_uid: Option<String>,
    },
    IndexDeletion {
        index_uid: String,
    },
    IndexSwap {
        swaps: Vec<Swap>,
    },
    TaskCancelation {
        query: String,
        tasks: Vec<u32>,
    },
    TaskDeletion {
        query: String,
        tasks: Vec<u32>,
    },
    /// Rewrites an index's segments into one without deleted documents and removes the files
    /// no longer used (`POST /indexes/{uid}/compact`).
    IndexCompaction {
        index_uid: String,
    },
    /// Rewrites the task store without its free pages (`POST /tasks/compact`).
    TaskCompaction,
    /// Writes a dump archive of the whole instance (`POST /dumps`).
    DumpCreation,
    /// Writes a snapshot of the data directory (`POST /snapshots`, `--schedule-snapshot`).
    SnapshotCreation,
    /// Pushes the indexes some patterns select to another instance (`POST /export`).
    Export {
        url: String,
        api_key: Option<String>,
        payload_size: Option<u64>,
        indexes: std::collections::BTreeMap<String, crate::export::ExportIndexSettings>,
    },
    /// Creates a dynamic search rule or changes the fields the update names
    /// (`PATCH /dynamic-search-rules/{uid}`).
    DynamicSearchRuleUpdate {
        uid: String,
        /// The update as task details show it (checked when the task was registered).
        update: Value,
    },
    /// Deletes a dynamic search rule, whether it exists or not
    /// (`DELETE /dynamic-search-rules/{uid}`).
    DynamicSearchRuleDeletion {
        uid: String,
    },
    /// Deletes every dynamic search rule (`DELETE /dynamic-search-rules`).
    DynamicSearchRulesClear,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Swap {
    pub indexes: [String; 2],
    pub rename: bool,
}

impl TaskKind {
    /// The wire name of the task type.
    pub fn type_name(&self) -> &'static str {
        match self {
            TaskKind::DocumentAdditionOrUpdate { .. } => "documentAdditionOrUpdate",
            TaskKind::DocumentDeletion { .. }
            | TaskKind::DocumentClear { .. }
            | TaskKind::DocumentDeletionByFilter { .. } => "documentDeletion",
            TaskKind::DocumentEdition { .. } => "documentEdition",
            TaskKind::SettingsUpdate { .. } => "settingsUpdate",
            TaskKind::IndexCreation { .. } => "indexCreation",
            TaskKind::IndexUpdate { .. } => "indexUpdate",
            TaskKind::IndexDeletion { .. } => "indexDeletion",
            TaskKind::IndexSwap { .. } => "indexSwap",
            TaskKind::TaskCancelation { .. } => "taskCancelation",
            TaskKind::TaskDeletion { .. } => "taskDeletion",
            TaskKind::IndexCompaction { .. } => "indexCompaction",
            TaskKind::TaskCompaction => "taskCompaction",
            TaskKind::DumpCreation => "dumpCreation",
            TaskKind::SnapshotCreation => "snapshotCreation",
            TaskKind::Export { .. } => "export",
            TaskKind::DynamicSearchRuleUpdate { .. }
            | TaskKind::DynamicSearchRuleDeletion { .. } => "dsrUpdate",
            TaskKind::DynamicSearchRulesClear => "dsrClear",
        }
    }

    /// The index this task works on, if it works on exactly one.
    pub fn index_uid(&self) -> Option<&str> {
        match self {
            TaskKind::DocumentAdditionOrUpdate { index_uid, .. }
            | TaskKind::DocumentDeletion { index_uid, .. }
            | TaskKind::DocumentClear { index_uid }
            | TaskKind::DocumentDeletionByFilter { index_uid, .. }
            | TaskKind::DocumentEdition { index_uid, .. }
            | TaskKind::SettingsUpdate { index_uid, .. }
            | TaskKind::IndexCreation { index_uid, .. }
            | TaskKind::IndexUpdate { index_uid, .. }
            | TaskKind::IndexDeletion { index_uid }
            | TaskKind::IndexCompaction { index_uid } => Some(index_uid),
            // Meilisearch shows the tasks about its rules under its hidden rules index.
            TaskKind::DynamicSearchRuleUpdate { .. }
            | TaskKind::DynamicSearchRuleDeletion { .. }
            | TaskKind::DynamicSearchRulesClear => {
                Some(crate::dynamic_search_rules::RULES_TASK_INDEX_UID)
            }
            TaskKind::IndexSwap { .. }
            | TaskKind::TaskCancelation { .. }
            | TaskKind::TaskDeletion { .. }
            | TaskKind::TaskCompaction
            | TaskKind::DumpCreation
            | TaskKind::SnapshotCreation
            | TaskKind::Export { .. } => None,
        }
    }

    /// Every index this task touches (a swap touches several).
    pub fn indexes(&self) -> Vec<&str> {
        match self {
            TaskKind::IndexSwap { swaps } => swaps
                .iter()
                .flat_map(|s| s.indexes.iter().map(String::as_str))
                .collect(),
            TaskKind::IndexUpdate {
                index_uid,
                new_index_uid: Some(new),
                ..
            } => vec![index_uid, new],
            other => other.index_uid().into_iter().collect(),
        }
    }

    /// Whether the task changes the dynamic search rules (these are batched together).
    pub fn is_rules_change(&self) -> bool {
        matches!(
            self,
            TaskKind::DynamicSearchRuleUpdate { .. }
                | TaskKind::DynamicSearchRuleDeletion { .. }
                | TaskKind::DynamicSearchRulesClear
        )
    }

    /// Whether the task changes documents of one index (these are batched together).
    pub fn is_document_operation(&self) -> bool {
        matches!(
            self,
            TaskKind::DocumentAdditionOrUpdate { .. }
                | TaskKind::DocumentDeletion { .. }
                | TaskKind::DocumentClear { .. }
                | TaskKind::DocumentDeletionByFilter { .. }
        )
    }

    /// The details a task shows while it waits, before it has run.
    pub fn initial_details(&self) -> Option<Value> {
        use serde_json::json;
        Some(match self {
            TaskKind::DocumentAdditionOrUpdate {
                documents_count, ..
            } => {
                json!({"receivedDocuments": documents_count, "indexedDocuments": null})
            }
            TaskKind::DocumentDeletion { document_ids, .. } => {
                json!({"providedIds": document_ids.len(), "deletedDocuments": null})
            }
            TaskKind::DocumentClear { .. } => json!({"deletedDocuments": null}),
            TaskKind::DocumentDeletionByFilter { filter, .. } => {
                json!({"providedIds": 0, "deletedDocuments": null, "originalFilter": filter.to_string()})
            }
            TaskKind::DocumentEdition {
                filter,
                context,
                function,
                ..
            } => edition_details(filter.as_ref(), context.as_ref(), function, None, None),
            TaskKind::SettingsUpdate { settings, .. } => settings.clone(),
            TaskKind::IndexCreation { primary_key, .. } => json!({"primaryKey": primary_key}),
            TaskKind::IndexUpdate {
                primary_key,
                new_index_uid,
                index_uid,
            } => match new_index_uid {
                Some(new) => {
                    json!({"primaryKey": primary_key, "oldIndexUid": index_uid, "newIndexUid": new})
                }
                None => json!({"primaryKey": primary_key}),
            },
            TaskKind::IndexDeletion { .. } => json!({"deletedDocuments": null}),
            TaskKind::IndexSwap { swaps } => {
                json!({"swaps": swaps.iter().map(|s| json!({"indexes": s.indexes, "rename": s.rename})).collect::<Vec<_>>()})
            }
            TaskKind::TaskCancelation { query, tasks } => {
                json!({"matchedTasks": tasks.len(), "canceledTasks": null, "originalFilter": query})
            }
            TaskKind::TaskDeletion { query, tasks } => {
                json!({"matchedTasks": tasks.len(), "deletedTasks": null, "originalFilter": query})
            }
            TaskKind::IndexCompaction { .. } => json!({}),
            TaskKind::TaskCompaction => json!({}),
            TaskKind::DumpCreation => json!({"dumpUid": null}),
            TaskKind::SnapshotCreation => return None,
            TaskKind::Export {
                url,
                api_key,
                payload_size,
                indexes,
            } => crate::export::details(url, api_key.as_deref(), *payload_size, indexes, None),
            TaskKind::DynamicSearchRuleUpdate { update, .. } => {
                crate::dynamic_search_rules::update_details(update)
            }
            TaskKind::DynamicSearchRuleDeletion { .. } => json!({"updatedRules": 1}),
            TaskKind::DynamicSearchRulesClear => json!({"deletedDocuments": null}),
        })
    }
}

/// The details of a `documentEdition` task: the counts once it ran, the filter as a JSON text
/// (as Meilisearch shows it), the context and the function.
pub fn edition_details(
    filter: Option<&Value>,
    context: Option<&Value>,
    function: &str,
    edited: Option<u64>,
    deleted: Option<u64>,
) -> Value {
    serde_json::json!({
        "editedDocuments": edited,
        "deletedDocuments": deleted,
        "originalFilter": filter.map(|f| f.to_string()),
        "context": context,
        "function": function,
    })
}

/// A task's failure as it is shown: a Meilisearch error code and message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskError {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub uid: u32,
    pub batch_uid: Option<u32>,
    pub status: Status,
    pub kind: TaskKind,
    pub details: Option<Value>,
    pub error: Option<TaskError>,
    pub canceled_by: Option<u32>,
    #[serde(with = "time::serde::rfc3339")]
    pub enqueued_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// The index this task is shown under (rewritten by swaps, as Meilisearch does).
    pub index_uid: Option<String>,
    /// Length and checksum of the task's payload file, taken when it was enqueued, so that a
    /// payload damaged on disk is detected instead of indexed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_seal: Option<PayloadSeal>,
    /// Free text the client attached when enqueuing (`customMetadata` on the document
    /// routes), shown back in the task's views.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_metadata: Option<String>,
}

/// What a payload file held when its task was acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadSeal {
    pub len: u64,
    pub crc32: u32,
}

impl PayloadSeal {
    /// Reads `path` whole and seals what it holds.
    pub fn of_file(path: &std::path::Path) -> std::io::Result<PayloadSeal> {
        use std::io::Read;
        let mut file = std::fs::File::open(path)?;
        let mut hasher = crc32fast::Hasher::new();
        let mut buffer = vec![0u8; 256 * 1024];
        let mut len = 0u64;
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
            len += n as u64;
        }
        Ok(PayloadSeal {
            len,
            crc32: hasher.finalize(),
        })
    }
}

/// One run of the writer over a group of tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub uid: u32,
    pub task_uids: Vec<u32>,
    pub details: Value,
    pub stats: Value,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    pub batch_strategy: String,
}
