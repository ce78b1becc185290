//! Quarry's engine: how documents become an index on disk and how a query becomes ranked hits.
//! It knows nothing of HTTP, of async runtimes, or of the wire shapes of the API.

pub mod analysis;
pub mod documents;
pub mod error;
pub mod facet;
pub mod filter;
pub mod format;
pub mod index;
pub mod search;
mod selection;
pub mod settings;
pub mod template;

pub use error::{EngineError, Result, UserError, UserErrorKind};
pub use index::{AddMethod, Index, IndexOptions, IndexState, WriteBatch};
pub use settings::IndexSettings;
