//! The wire side of the Meilisearch v1 API: error codes, request decoding with Meilisearch's
//! precise error codes, and response shapes. Nothing here knows how an index is stored.

pub mod byte_size;
pub mod chat;
pub mod decode;
pub mod documents;
pub mod dynamic_search_rules;
pub mod error;
pub mod export;
pub mod facet_search;
pub mod index_uid;
pub mod indexes;
pub mod multi_search;
pub mod search;
pub mod settings;
pub mod tasks;

pub use error::{Code, ErrorType, ResponseError};
