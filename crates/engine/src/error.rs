//! The engine's errors, split the way callers must treat them: a [`UserError`] is the caller's
//! mistake and is answered precisely; anything else is an internal fault.

use std::fmt;

/// What kind of user mistake occurred. The server maps each kind to a Meilisearch error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserErrorKind {
    MissingDocumentId,
    InvalidDocumentId,
    PrimaryKeyInferenceFailed,
    PrimaryKeyMultipleCandidates,
    PrimaryKeyAlreadyExists,
    InvalidPrimaryKey,
    DocumentNotFound,
    MalformedPayload,
    InvalidSettingsTypoTolerance,
    InvalidFilter,
    InvalidSort,
    InvalidFacets,
    InvalidSearchAttributesToSearchOn,
    InvalidSearchDistinct,
    InvalidDocumentFilter,
    InvalidFacetSearchFacetName,
    FacetSearchDisabled,
    MaxFieldsLimitExceeded,
    /// An edit function failed, or made a document that cannot be kept.
    EditDocumentsByFunction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError {
    pub kind: UserErrorKind,
    pub message: String,
}

impl UserError {
    pub fn new(kind: UserErrorKind, message: impl Into<String>) -> Self {
        UserError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    User(UserError),
    #[error("index storage: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("corrupted index: {0}")]
    Corrupted(String),
}

impl From<UserError> for EngineError {
    fn from(e: UserError) -> Self {
        EngineError::User(e)
    }
}

impl From<tantivy::directory::error::OpenDirectoryError> for EngineError {
    fn from(e: tantivy::directory::error::OpenDirectoryError) -> Self {
        EngineError::Tantivy(e.into())
    }
}

impl EngineError {
    /// Whether this failure is a full disk, which operators must be told about by name.
    pub fn is_disk_full(&self) -> bool {
        let io = match self {
            EngineError::Io(e) => Some(e),
            EngineError::Tantivy(tantivy::TantivyError::IoError(e)) => Some(e.as_ref()),
            _ => None,
        };
        io.is_some_and(|e| {
            e.raw_os_error() == Some(28) || e.kind() == std::io::ErrorKind::StorageFull
        })
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
