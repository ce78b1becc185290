//! Experimental features (`GET/PATCH /experimental-features`): the runtime flags Meilisearch
//! lets an operator toggle, stored durably in the task store's instance table (so they survive
//! restarts and travel in dumps), and the `feature_not_enabled` refusal each gated route uses.

use quarry_api_types::decode::{decode_bool, expect_object, for_each_field};
use quarry_api_types::{Code, ResponseError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The key of the flags in the instance table (and the dump's `instance/` folder).
pub const FEATURES_KEY: &str = "experimental-features";

/// Defines the flags with their wire names in one table, so that the decoder, the encoder
/// and the list of accepted names cannot drift apart.
macro_rules! features {
    ($($field:ident => $name:literal,)*) => {
        /// Every togglable flag; all are off on a new instance.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(default)]
        pub struct ExperimentalFeatures {
            $(#[serde(rename = $name)] pub $field: bool,)*
        }

        impl ExperimentalFeatures {
            /// The wire names, in the order `GET /experimental-features` lists them.
            pub const NAMES: &'static [&'static str] = &[$($name,)*];

            /// The flags as `GET /experimental-features` answers them.
            pub fn to_json(&self) -> Value {
                let mut out = Map::new();
                $(out.insert($name.to_string(), Value::Bool(self.$field));)*
                Value::Object(out)
            }

            /// Applies a `PATCH` body: each named flag is set (`null` keeps its value), an
            /// unknown name or a value that is not a boolean is refused with `bad_request`.
            pub fn patch(&self, body: &Value) -> Result<ExperimentalFeatures, ResponseError> {
                let fields = expect_object(body, Code::BadRequest, "")?;
                let mut next = *self;
                for_each_field(Code::BadRequest, fields, "", Self::NAMES, |name, value, path| {
                    let slot = match name {
                        $($name => &mut next.$field,)*
                        _ => unreachable!("for_each_field only hands known names"),
                    };
                    if !value.is_null() {
                        *slot = decode_bool(value, Code::BadRequest, path)?;
                    }
                    Ok(())
                })?;
                Ok(next)
            }
        }
    };
}

// Meilisearch 1.50's flags, in the order it lists them.
features! {
    metrics => "metrics",
    logs_route => "logsRoute",
    edit_documents_by_function => "editDocumentsByFunction",
    contains_filter => "containsFilter",
    dynamic_search_rules => "dynamicSearchRules",
    network => "network",
    get_task_documents_route => "getTaskDocumentsRoute",
    task_queue_compaction_route => "taskQueueCompactionRoute",
    composite_embedders => "compositeEmbedders",
    chat_completions => "chatCompletions",
    multimodal => "multimodal",
    foreign_keys => "foreignKeys",
    disable_documents_fetch_queue => "disableDocumentsFetchQueue",
    legacy_search => "legacySearch",
    render_route => "renderRoute",
}

/// A gated feature, with what Meilisearch names it in its refusal and where it discusses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    Metrics,
    LogsRoute,
    EditDocumentsByFunction,
    ContainsFilter,
    Network,
    GetTaskDocumentsRoute,
    CompositeEmbedders,
    ChatCompletions,
    Multimodal,
    DynamicSearchRules,
    TaskQueueCompactionRoute,
    RenderRoute,
    ForeignKeys,
}

impl Feature {
    /// The feature's name in the `feature_not_enabled` message and its discussion link.
    fn label_and_link(self) -> (&'static str, &'static str) {
        match self {
            Feature::Metrics => (
                "metrics",
                "https://github.com/meilisearch/product/discussions/625",
            ),
            Feature::LogsRoute => (
                "logs route",
                "https://github.com/orgs/meilisearch/discussions/721",
            ),
            Feature::EditDocumentsByFunction => (
                "edit documents by function",
                "https://github.com/orgs/meilisearch/discussions/762",
            ),
            Feature::ContainsFilter => (
                "contains filter",
                "https://github.com/orgs/meilisearch/discussions/763",
            ),
            Feature::Network => (
                "network",
                "https://github.com/orgs/meilisearch/discussions/805",
            ),
            Feature::GetTaskDocumentsRoute => (
                "get task documents route",
                "https://github.com/orgs/meilisearch/discussions/808",
            ),
            Feature::CompositeEmbedders => (
                "composite embedders",
                "https://github.com/orgs/meilisearch/discussions/816",
            ),
            Feature::ChatCompletions => (
                "chat completions",
                "https://github.com/orgs/meilisearch/discussions/835",
            ),
            Feature::Multimodal => (
                "multimodal",
                "https://github.com/orgs/meilisearch/discussions/846",
            ),
            Feature::DynamicSearchRules => (
                "dynamic search rules",
                "https://github.com/orgs/meilisearch/discussions/884",
            ),
            Feature::TaskQueueCompactionRoute => (
                "task queue compaction route",
                "https://github.com/orgs/meilisearch/discussions/883",
            ),
            Feature::RenderRoute => (
                "render_route",
                "https://github.com/orgs/meilisearch/discussions/888",
            ),
            Feature::ForeignKeys => (
                "foreign_keys",
                "https://github.com/orgs/meilisearch/discussions/873",
            ),
        }
    }
}

impl ExperimentalFeatures {
    /// Whether `feature` is on.
    pub fn is_enabled(&self, feature: Feature) -> bool {
        match feature {
            Feature::Metrics => self.metrics,
            Feature::LogsRoute => self.logs_route,
            Feature::EditDocumentsByFunction => self.edit_documents_by_function,
            Feature::ContainsFilter => self.contains_filter,
            Feature::Network => self.network,
            Feature::GetTaskDocumentsRoute => self.get_task_documents_route,
            Feature::CompositeEmbedders => self.composite_embedders,
            Feature::ChatCompletions => self.chat_completions,
            Feature::Multimodal => self.multimodal,
            Feature::DynamicSearchRules => self.dynamic_search_rules,
            Feature::TaskQueueCompactionRoute => self.task_queue_compaction_route,
            Feature::RenderRoute => self.render_route,
            Feature::ForeignKeys => self.foreign_keys,
        }
    }

    /// `Ok` when `feature` is on, else Meilisearch's `feature_not_enabled` error naming what
    /// was attempted (`"Using `CONTAINS` in a filter"`, ...).
    pub fn check(&self, feature: Feature, attempted: &str) -> Result<(), ResponseError> {
        if self.is_enabled(feature) {
            return Ok(());
        }
        Err(not_enabled(feature, attempted))
    }
}

/// The `feature_not_enabled` error for `feature`.
pub fn not_enabled(feature: Feature, attempted: &str) -> ResponseError {
    let (label, link) = feature.label_and_link();
    ResponseError::new(
        Code::FeatureNotEnabled,
        format!("{attempted} requires enabling the `{label}` experimental feature. See {link}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patch_sets_named_flags_and_keeps_the_others() {
        let start = ExperimentalFeatures {
            metrics: true,
            ..Default::default()
        };
        let next = start
            .patch(&json!({"containsFilter": true, "metrics": null}))
            .unwrap();
        assert!(next.metrics && next.contains_filter && !next.network);
        let stored: ExperimentalFeatures = serde_json::from_value(next.to_json()).unwrap();
        assert_eq!(stored, next);
    }

    #[test]
    fn unknown_names_and_wrong_types_are_refused() {
        let base = ExperimentalFeatures::default();
        let err = base.patch(&json!({"vectorStore": true})).unwrap_err();
        assert_eq!(err.code, Code::BadRequest);
        assert!(
            err.message
                .starts_with("Unknown field `vectorStore`: expected one of `metrics`, `logsRoute`"),
            "{}",
            err.message
        );
        let err = base.patch(&json!({"metrics": "yes"})).unwrap_err();
        assert_eq!(
            err.message,
            "Invalid value type at `.metrics`: expected a boolean, but found a string: `\"yes\"`"
        );
    }
}
