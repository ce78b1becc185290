//! The error table: every error Quarry answers with, its HTTP status, its stable `code` and its
//! `type`, so that the `{message, code, type, link}` body matches Meilisearch's byte for byte.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// Which side is at fault, as the `type` field of an error body says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    InvalidRequest,
    Auth,
    Internal,
    System,
}

impl ErrorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::InvalidRequest => "invalid_request",
            ErrorType::Auth => "auth",
            ErrorType::Internal => "internal",
            ErrorType::System => "system",
        }
    }
}

macro_rules! codes {
    ($($variant:ident => ($name:literal, $status:literal, $ty:ident)),* $(,)?) => {
        /// A Meilisearch error code. The table below is the single place that maps a code to
        /// its wire name, HTTP status and error type.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code { $($variant),* }

        impl Code {
            /// Every code, for documentation and tests.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The snake_case name that goes in the `code` field.
            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => $name),* }
            }

            /// The HTTP status this code answers with.
            pub fn http_status(self) -> u16 {
                match self { $(Code::$variant => $status),* }
            }

            /// The `type` field.
            pub fn error_type(self) -> ErrorType {
                match self { $(Code::$variant => ErrorType::$ty),* }
            }

            /// Looks a code up by its wire name (used when a stored task error is read back).
            pub fn from_name(name: &str) -> Option<Code> {
                match name { $($name => Some(Code::$variant),)* _ => None }
            }
        }
    };
}

codes! {
    // Generic request errors.
    BadRequest => ("bad_request", 400, InvalidRequest),
    MalformedPayload => ("malformed_payload", 400, InvalidRequest),
    MissingPayload => ("missing_payload", 400, InvalidRequest),
    InvalidSkipCreation => ("invalid_skip_creation", 400, InvalidRequest),
    PayloadTooLarge => ("payload_too_large", 413, InvalidRequest),
    InvalidContentType => ("invalid_content_type", 415, InvalidRequest),
    MissingContentType => ("missing_content_type", 415, InvalidRequest),
    NotFound => ("not_found", 404, InvalidRequest),
    InvalidEncoding => ("invalid_encoding", 400, InvalidRequest),
    TooManySearchRequests => ("too_many_search_requests", 503, System),
    // Quarry-specific: the in-flight request limit (`--max-concurrent-requests`) is reached.
    TooManyRequests => ("too_many_requests", 503, System),
    // Auth.
    MissingAuthorizationHeader => ("missing_authorization_header", 401, Auth),
    InvalidApiKey => ("invalid_api_key", 403, Auth),
    MissingMasterKey => ("missing_master_key", 401, Auth),
    // Indexes.
    IndexNotFound => ("index_not_found", 404, InvalidRequest),
    IndexAlreadyExists => ("index_already_exists", 409, InvalidRequest),
    InvalidIndexUid => ("invalid_index_uid", 400, InvalidRequest),
    InvalidIndexPrimaryKey => ("invalid_index_primary_key", 400, InvalidRequest),
    InvalidIndexOffset => ("invalid_index_offset", 400, InvalidRequest),
    InvalidIndexLimit => ("invalid_index_limit", 400, InvalidRequest),
    MissingIndexUid => ("missing_index_uid", 400, InvalidRequest),
    IndexPrimaryKeyAlreadyExists => ("index_primary_key_already_exists", 400, InvalidRequest),
    IndexPrimaryKeyMultipleCandidatesFound => ("index_primary_key_multiple_candidates_found", 400, InvalidRequest),
    IndexPrimaryKeyNoCandidateFound => ("index_primary_key_no_candidate_found", 400, InvalidRequest),
    InvalidSwapIndexes => ("invalid_swap_indexes", 400, InvalidRequest),
    InvalidSwapRename => ("invalid_swap_rename", 400, InvalidRequest),
    InvalidSwapDuplicateIndexFound => ("invalid_swap_duplicate_index_found", 400, InvalidRequest),
    DuplicateIndexFound => ("duplicate_index_found", 400, InvalidRequest),
    InvalidIndexFieldsFilter => ("invalid_index_fields_filter", 400, InvalidRequest),
    InvalidIndexFieldsFilterAttributePatterns => ("invalid_index_fields_filter_attribute_patterns", 400, InvalidRequest),
    InvalidIndexFieldsFilterDisplayed => ("invalid_index_fields_filter_displayed", 400, InvalidRequest),
    InvalidIndexFieldsFilterSearchable => ("invalid_index_fields_filter_searchable", 400, InvalidRequest),
    InvalidIndexFieldsFilterSortable => ("invalid_index_fields_filter_sortable", 400, InvalidRequest),
    InvalidIndexFieldsFilterDistinct => ("invalid_index_fields_filter_distinct", 400, InvalidRequest),
    InvalidIndexFieldsFilterRankingRule => ("invalid_index_fields_filter_ranking_rule", 400, InvalidRequest),
    InvalidIndexFieldsFilterFilterable => ("invalid_index_fields_filter_filterable", 400, InvalidRequest),
    // Documents.
    DocumentNotFound => ("document_not_found", 404, InvalidRequest),
    MissingDocumentId => ("missing_document_id", 400, InvalidRequest),
    InvalidDocumentId => ("invalid_document_id", 400, InvalidRequest),
    InvalidDocumentFields => ("invalid_document_fields", 400, InvalidRequest),
    InvalidDocumentOffset => ("invalid_document_offset", 400, InvalidRequest),
    InvalidDocumentLimit => ("invalid_document_limit", 400, InvalidRequest),
    InvalidDocumentIds => ("invalid_document_ids", 400, InvalidRequest),
    InvalidDocumentFilter => ("invalid_document_filter", 400, InvalidRequest),
    InvalidDocumentSort => ("invalid_document_sort", 400, InvalidRequest),
    MissingDocumentFilter => ("missing_document_filter", 400, InvalidRequest),
    InvalidDocumentCsvDelimiter => ("invalid_document_csv_delimiter", 400, InvalidRequest),
    InvalidDocumentRetrieveVectors => ("invalid_document_retrieve_vectors", 400, InvalidRequest),
    InvalidDocumentGeoField => ("invalid_document_geo_field", 400, InvalidRequest),
    PrimaryKeyInferenceFailed => ("primary_key_inference_failed", 400, InvalidRequest),
    MaxFieldsLimitExceeded => ("max_fields_limit_exceeded", 400, InvalidRequest),
    InvalidDocumentEditionContext => ("invalid_document_edition_context", 400, InvalidRequest),
    InvalidDocumentEditionFunctionFilter => ("invalid_document_edition_function_filter", 400, InvalidRequest),
    MissingDocumentEditionFunction => ("missing_document_edition_function", 400, InvalidRequest),
    EditDocumentsByFunctionError => ("edit_documents_by_function_error", 400, InvalidRequest),
    // Settings.
    InvalidSettingsDisplayedAttributes => ("invalid_settings_displayed_attributes", 400, InvalidRequest),
    InvalidSettingsSearchableAttributes => ("invalid_settings_searchable_attributes", 400, InvalidRequest),
    InvalidSettingsFilterableAttributes => ("invalid_settings_filterable_attributes", 400, InvalidRequest),
    InvalidSettingsSortableAttributes => ("invalid_settings_sortable_attributes", 400, InvalidRequest),
    InvalidSettingsRankingRules => ("invalid_settings_ranking_rules", 400, InvalidRequest),
    InvalidSettingsStopWords => ("invalid_settings_stop_words", 400, InvalidRequest),
    InvalidSettingsNonSeparatorTokens => ("invalid_settings_non_separator_tokens", 400, InvalidRequest),
    InvalidSettingsSeparatorTokens => ("invalid_settings_separator_tokens", 400, InvalidRequest),
    InvalidSettingsDictionary => ("invalid_settings_dictionary", 400, InvalidRequest),
    InvalidSettingsSynonyms => ("invalid_settings_synonyms", 400, InvalidRequest),
    InvalidSettingsDistinctAttribute => ("invalid_settings_distinct_attribute", 400, InvalidRequest),
    InvalidSettingsProximityPrecision => ("invalid_settings_proximity_precision", 400, InvalidRequest),
    InvalidSettingsTypoTolerance => ("invalid_settings_typo_tolerance", 400, InvalidRequest),
    InvalidSettingsFaceting => ("invalid_settings_faceting", 400, InvalidRequest),
    InvalidSettingsPagination => ("invalid_settings_pagination", 400, InvalidRequest),
    InvalidSettingsEmbedders => ("invalid_settings_embedders", 400, InvalidRequest),
    InvalidSettingsSearchCutoffMs => ("invalid_settings_search_cutoff_ms", 400, InvalidRequest),
    InvalidSettingsLocalizedAttributes => ("invalid_settings_localized_attributes", 400, InvalidRequest),
    InvalidSettingsFacetSearch => ("invalid_settings_facet_search", 400, InvalidRequest),
    InvalidSettingsPrefixSearch => ("invalid_settings_prefix_search", 400, InvalidRequest),
    InvalidSettingsChat => ("invalid_settings_chat", 400, InvalidRequest),
    InvalidSettingsForeignKeys => ("invalid_settings_foreign_keys", 400, InvalidRequest),
    InvalidSettingsVectorStore => ("invalid_settings_vector_store", 400, InvalidRequest),
    // Multi-search and federation.
    InvalidMultiSearchFederated => ("invalid_multi_search_federated", 400, InvalidRequest),
    InvalidMultiSearchFederationOptions => ("invalid_multi_search_federation_options", 400, InvalidRequest),
    InvalidMultiSearchWeight => ("invalid_multi_search_weight", 400, InvalidRequest),
    InvalidMultiSearchQueryPagination => ("invalid_multi_search_query_pagination", 400, InvalidRequest),
    InvalidMultiSearchQueryFacets => ("invalid_multi_search_query_facets", 400, InvalidRequest),
    InvalidMultiSearchFacetsByIndex => ("invalid_multi_search_facets_by_index", 400, InvalidRequest),
    InvalidMultiSearchMergeFacets => ("invalid_multi_search_merge_facets", 400, InvalidRequest),
    InvalidMultiSearchMaxValuesPerFacet => ("invalid_multi_search_max_values_per_facet", 400, InvalidRequest),
    InvalidMultiSearchDistinct => ("invalid_multi_search_distinct", 400, InvalidRequest),
    InvalidMultiSearchQueryShowPerformanceDetails => ("invalid_multi_search_query_show_performance_details", 400, InvalidRequest),
    // Search.
    InvalidSearchQ => ("invalid_search_q", 400, InvalidRequest),
    InvalidSearchOffset => ("invalid_search_offset", 400, InvalidRequest),
    InvalidSearchLimit => ("invalid_search_limit", 400, InvalidRequest),
    InvalidSearchPage => ("invalid_search_page", 400, InvalidRequest),
    InvalidSearchHitsPerPage => ("invalid_search_hits_per_page", 400, InvalidRequest),
    InvalidSearchAttributesToRetrieve => ("invalid_search_attributes_to_retrieve", 400, InvalidRequest),
    InvalidSearchAttributesToCrop => ("invalid_search_attributes_to_crop", 400, InvalidRequest),
    InvalidSearchCropLength => ("invalid_search_crop_length", 400, InvalidRequest),
    InvalidSearchCropMarker => ("invalid_search_crop_marker", 400, InvalidRequest),
    InvalidSearchAttributesToHighlight => ("invalid_search_attributes_to_highlight", 400, InvalidRequest),
    InvalidSearchHighlightPreTag => ("invalid_search_highlight_pre_tag", 400, InvalidRequest),
    InvalidSearchHighlightPostTag => ("invalid_search_highlight_post_tag", 400, InvalidRequest),
    InvalidSearchShowMatchesPosition => ("invalid_search_show_matches_position", 400, InvalidRequest),
    InvalidSearchFilter => ("invalid_search_filter", 400, InvalidRequest),
    InvalidSearchSort => ("invalid_search_sort", 400, InvalidRequest),
    InvalidSearchDistinct => ("invalid_search_distinct", 400, InvalidRequest),
    InvalidSearchFacets => ("invalid_search_facets", 400, InvalidRequest),
    InvalidSearchMatchingStrategy => ("invalid_search_matching_strategy", 400, InvalidRequest),
    InvalidSearchAttributesToSearchOn => ("invalid_search_attributes_to_search_on", 400, InvalidRequest),
    InvalidSearchRankingScoreThreshold => ("invalid_search_ranking_score_threshold", 400, InvalidRequest),
    InvalidSearchShowRankingScore => ("invalid_search_show_ranking_score", 400, InvalidRequest),
    InvalidSearchShowRankingScoreDetails => ("invalid_search_show_ranking_score_details", 400, InvalidRequest),
    InvalidSearchShowPerformanceDetails => ("invalid_search_show_performance_details", 400, InvalidRequest),
    InvalidSearchLocales => ("invalid_search_locales", 400, InvalidRequest),
    InvalidSearchHybridQuery => ("invalid_search_hybrid_query", 400, InvalidRequest),
    InvalidSearchVector => ("invalid_search_vector", 400, InvalidRequest),
    InvalidSearchRetrieveVectors => ("invalid_search_retrieve_vectors", 400, InvalidRequest),
    InvalidSearchMedia => ("invalid_search_media", 400, InvalidRequest),
    InvalidSearchPersonalize => ("invalid_search_personalize", 400, InvalidRequest),
    InvalidSimilarId => ("invalid_similar_id", 400, InvalidRequest),
    BadParameter => ("bad_parameter", 400, InvalidRequest),
    // Tasks and batches.
    InvalidTaskUids => ("invalid_task_uids", 400, InvalidRequest),
    InvalidTaskBatchUids => ("invalid_task_batch_uids", 400, InvalidRequest),
    InvalidTaskStatuses => ("invalid_task_statuses", 400, InvalidRequest),
    InvalidTaskTypes => ("invalid_task_types", 400, InvalidRequest),
    InvalidTaskCanceledBy => ("invalid_task_canceled_by", 400, InvalidRequest),
    InvalidTaskIndexUids => ("invalid_task_index_uids", 400, InvalidRequest),
    InvalidTaskLimit => ("invalid_task_limit", 400, InvalidRequest),
    InvalidTaskFrom => ("invalid_task_from", 400, InvalidRequest),
    InvalidTaskReverse => ("invalid_task_reverse", 400, InvalidRequest),
    InvalidTaskBeforeEnqueuedAt => ("invalid_task_before_enqueued_at", 400, InvalidRequest),
    InvalidTaskAfterEnqueuedAt => ("invalid_task_after_enqueued_at", 400, InvalidRequest),
    InvalidTaskBeforeStartedAt => ("invalid_task_before_started_at", 400, InvalidRequest),
    InvalidTaskAfterStartedAt => ("invalid_task_after_started_at", 400, InvalidRequest),
    InvalidTaskBeforeFinishedAt => ("invalid_task_before_finished_at", 400, InvalidRequest),
    InvalidTaskAfterFinishedAt => ("invalid_task_after_finished_at", 400, InvalidRequest),
    MissingTaskFilters => ("missing_task_filters", 400, InvalidRequest),
    TaskNotFound => ("task_not_found", 404, InvalidRequest),
    TaskFileNotFound => ("task_file_not_found", 404, InvalidRequest),
    BatchNotFound => ("batch_not_found", 404, InvalidRequest),
    InvalidBatchUids => ("invalid_batch_uids", 400, InvalidRequest),
    // Keys.
    ApiKeyNotFound => ("api_key_not_found", 404, InvalidRequest),
    ApiKeyAlreadyExists => ("api_key_already_exists", 409, InvalidRequest),
    InvalidApiKeyActions => ("invalid_api_key_actions", 400, InvalidRequest),
    InvalidApiKeyIndexes => ("invalid_api_key_indexes", 400, InvalidRequest),
    InvalidApiKeyExpiresAt => ("invalid_api_key_expires_at", 400, InvalidRequest),
    InvalidApiKeyDescription => ("invalid_api_key_description", 400, InvalidRequest),
    InvalidApiKeyName => ("invalid_api_key_name", 400, InvalidRequest),
    InvalidApiKeyUid => ("invalid_api_key_uid", 400, InvalidRequest),
    InvalidApiKeyOffset => ("invalid_api_key_offset", 400, InvalidRequest),
    InvalidApiKeyLimit => ("invalid_api_key_limit", 400, InvalidRequest),
    MissingApiKeyActions => ("missing_api_key_actions", 400, InvalidRequest),
    MissingApiKeyIndexes => ("missing_api_key_indexes", 400, InvalidRequest),
    MissingApiKeyExpiresAt => ("missing_api_key_expires_at", 400, InvalidRequest),
    ImmutableApiKeyUid => ("immutable_api_key_uid", 400, InvalidRequest),
    ImmutableApiKeyKey => ("immutable_api_key_key", 400, InvalidRequest),
    ImmutableApiKeyActions => ("immutable_api_key_actions", 400, InvalidRequest),
    ImmutableApiKeyIndexes => ("immutable_api_key_indexes", 400, InvalidRequest),
    ImmutableApiKeyExpiresAt => ("immutable_api_key_expires_at", 400, InvalidRequest),
    ImmutableApiKeyCreatedAt => ("immutable_api_key_created_at", 400, InvalidRequest),
    ImmutableApiKeyUpdatedAt => ("immutable_api_key_updated_at", 400, InvalidRequest),
    // Webhooks.
    InvalidWebhooks => ("invalid_webhooks", 400, InvalidRequest),
    InvalidWebhookUrl => ("invalid_webhook_url", 400, InvalidRequest),
    InvalidWebhookHeaders => ("invalid_webhook_headers", 400, InvalidRequest),
    InvalidWebhookUuid => ("invalid_webhook_uuid", 400, InvalidRequest),
    ImmutableWebhook => ("immutable_webhook", 400, InvalidRequest),
    ImmutableWebhookUuid => ("immutable_webhook_uuid", 400, InvalidRequest),
    ImmutableWebhookIsEditable => ("immutable_webhook_is_editable", 400, InvalidRequest),
    WebhookNotFound => ("webhook_not_found", 404, InvalidRequest),
    // Dynamic search rules.
    InvalidDynamicSearchRuleOffset => ("invalid_dynamic_search_rule_offset", 400, InvalidRequest),
    InvalidDynamicSearchRuleLimit => ("invalid_dynamic_search_rule_limit", 400, InvalidRequest),
    InvalidDynamicSearchRuleFilter => ("invalid_dynamic_search_rule_filter", 400, InvalidRequest),
    InvalidDynamicSearchRuleDescription => ("invalid_dynamic_search_rule_description", 400, InvalidRequest),
    // Meilisearch kept the name of the field before `priority` became `precedence`.
    InvalidDynamicSearchRulePriority => ("invalid_dynamic_search_rule_priority", 400, InvalidRequest),
    InvalidDynamicSearchRuleActive => ("invalid_dynamic_search_rule_active", 400, InvalidRequest),
    InvalidDynamicSearchRuleConditions => ("invalid_dynamic_search_rule_conditions", 400, InvalidRequest),
    InvalidDynamicSearchRuleActions => ("invalid_dynamic_search_rule_actions", 400, InvalidRequest),
    InvalidDynamicSearchRuleFilterQuery => ("invalid_dynamic_search_rule_filter_query", 400, InvalidRequest),
    InvalidDynamicSearchRuleFilterActive => ("invalid_dynamic_search_rule_filter_active", 400, InvalidRequest),
    DynamicSearchRuleNotFound => ("dynamic_search_rule_not_found", 404, InvalidRequest),
    // Export.
    InvalidExportUrl => ("invalid_export_url", 400, InvalidRequest),
    InvalidExportApiKey => ("invalid_export_api_key", 400, InvalidRequest),
    InvalidExportPayloadSize => ("invalid_export_payload_size", 400, InvalidRequest),
    InvalidExportIndexesPatterns => ("invalid_export_indexes_patterns", 400, InvalidRequest),
    InvalidExportIndexFilter => ("invalid_export_index_filter", 400, InvalidRequest),
    InvalidExportIndexOverrideSettings => ("invalid_export_index_override_settings", 400, InvalidRequest),
    // Network and remote federated search.
    InvalidNetworkSelf => ("invalid_network_self", 400, InvalidRequest),
    InvalidNetworkRemotes => ("invalid_network_remotes", 400, InvalidRequest),
    InvalidNetworkUrl => ("invalid_network_url", 400, InvalidRequest),
    InvalidNetworkSearchApiKey => ("invalid_network_search_api_key", 400, InvalidRequest),
    InvalidNetworkWriteApiKey => ("invalid_network_write_api_key", 400, InvalidRequest),
    MissingNetworkUrl => ("missing_network_url", 400, InvalidRequest),
    InvalidMultiSearchRemote => ("invalid_multi_search_remote", 400, InvalidRequest),
    InvalidMultiSearchQueryPosition => ("invalid_multi_search_query_position", 400, InvalidRequest),
    RemoteBadResponse => ("remote_bad_response", 502, System),
    RemoteBadRequest => ("remote_bad_request", 400, InvalidRequest),
    RemoteCouldNotSendRequest => ("remote_could_not_send_request", 502, System),
    RemoteInvalidApiKey => ("remote_invalid_api_key", 403, Auth),
    RemoteRemoteError => ("remote_remote_error", 502, System),
    RemoteTimeout => ("remote_timeout", 502, System),
    // Chats and templates.
    ChatNotFound => ("chat_not_found", 404, InvalidRequest),
    InvalidChatCompletionSource => ("invalid_chat_completion_source", 400, InvalidRequest),
    InvalidChatCompletionOrgId => ("invalid_chat_completion_org_id", 400, InvalidRequest),
    InvalidChatCompletionProjectId => ("invalid_chat_completion_project_id", 400, InvalidRequest),
    InvalidChatCompletionApiVersion => ("invalid_chat_completion_api_version", 400, InvalidRequest),
    InvalidChatCompletionDeploymentId => ("invalid_chat_completion_deployment_id", 400, InvalidRequest),
    InvalidChatCompletionBaseApi => ("invalid_chat_completion_base_api", 400, InvalidRequest),
    InvalidChatCompletionApiKey => ("invalid_chat_completion_api_key", 400, InvalidRequest),
    InvalidChatCompletionPrompts => ("invalid_chat_completion_prompts", 400, InvalidRequest),
    InvalidChatCompletionSystemPrompt => ("invalid_chat_completion_system_prompt", 400, InvalidRequest),
    InvalidChatCompletionSearchDescriptionPrompt => ("invalid_chat_completion_search_description_prompt", 400, InvalidRequest),
    InvalidChatCompletionSearchQueryParamPrompt => ("invalid_chat_completion_search_query_param_prompt", 400, InvalidRequest),
    InvalidChatCompletionSearchFilterParamPrompt => ("invalid_chat_completion_search_filter_param_prompt", 400, InvalidRequest),
    InvalidChatCompletionSearchIndexUidParamPrompt => ("invalid_chat_completion_search_index_uid_param_prompt", 400, InvalidRequest),
    InvalidChatSettingDocumentTemplate => ("invalid_chat_setting_document_template", 400, InvalidRequest),
    UnimplementedExternalFunctionCalling => ("unimplemented_external_function_calling", 501, InvalidRequest),
    UnimplementedNonStreamingChatCompletions => ("unimplemented_non_streaming_chat_completions", 501, InvalidRequest),
    UnimplementedMultiChoiceChatCompletions => ("unimplemented_multi_choice_chat_completions", 501, InvalidRequest),
    InvalidRenderTemplate => ("invalid_render_template", 400, InvalidRequest),
    InvalidRenderInput => ("invalid_render_input", 400, InvalidRequest),
    RenderDocumentNotFound => ("render_document_not_found", 404, InvalidRequest),
    TemplateParsingError => ("template_parsing_error", 400, InvalidRequest),
    TemplateRenderingError => ("template_rendering_error", 400, InvalidRequest),
    // Facet search.
    InvalidFacetSearchFacetName => ("invalid_facet_search_facet_name", 400, InvalidRequest),
    InvalidFacetSearchFacetQuery => ("invalid_facet_search_facet_query", 400, InvalidRequest),
    MissingFacetSearchFacetName => ("missing_facet_search_facet_name", 400, InvalidRequest),
    FacetSearchDisabled => ("facet_search_disabled", 400, InvalidRequest),
    // System and internal.
    Internal => ("internal", 500, Internal),
    IoError => ("io_error", 422, System),
    NoSpaceLeftOnDevice => ("no_space_left_on_device", 422, System),
    TooManyOpenFiles => ("too_many_open_files", 500, System),
    DatabaseSizeLimitReached => ("database_size_limit_reached", 500, Internal),
    UnretrievableDocument => ("unretrievable_document", 500, Internal),
    FeatureNotEnabled => ("feature_not_enabled", 400, InvalidRequest),
}

/// The error body every failed request and failed task carries.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseError {
    pub code: Code,
    pub message: String,
}

impl ResponseError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ResponseError {
            code,
            message: message.into(),
        }
    }

    /// The documentation link Meilisearch puts in every error body.
    pub fn link(&self) -> String {
        format!("https://docs.meilisearch.com/errors#{}", self.code.name())
    }

    pub fn status(&self) -> u16 {
        self.code.http_status()
    }
}

impl std::fmt::Display for ResponseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ResponseError {}

impl Serialize for ResponseError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("ResponseError", 4)?;
        s.serialize_field("message", &self.message)?;
        s.serialize_field("code", self.code.name())?;
        s.serialize_field("type", self.code.error_type().as_str())?;
        s.serialize_field("link", &self.link())?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_statuses_are_http() {
        for code in Code::ALL {
            assert_eq!(Code::from_name(code.name()), Some(*code), "{code:?}");
            assert!((400..600).contains(&code.http_status()));
        }
    }

    #[test]
    fn body_has_the_four_fields() {
        let err = ResponseError::new(Code::IndexNotFound, "Index `movies` not found.");
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["code"], "index_not_found");
        assert_eq!(json["type"], "invalid_request");
        assert_eq!(
            json["link"],
            "https://docs.meilisearch.com/errors#index_not_found"
        );
        assert_eq!(json["message"], "Index `movies` not found.");
    }
}
