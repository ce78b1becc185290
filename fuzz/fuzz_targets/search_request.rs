//! Fuzz target: the search request decoders as the routes use them: a JSON body (POST, and
//! each query of a multi-search) or a query string (GET) becomes a `SearchQuery`, whose filter
//! is then parsed and checked. Every refusal must be a client error (4xx).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use quarry_api_types::multi_search::MultiSearchRequest;
use quarry_api_types::search::SearchQuery;
use quarry_api_types::ResponseError;
use quarry_engine::filter::parse_filter_checked;
use quarry_engine::settings::FilterableRule;
use quarry_engine::IndexSettings;

fn settings() -> &'static IndexSettings {
    static SETTINGS: OnceLock<IndexSettings> = OnceLock::new();
    SETTINGS.get_or_init(|| IndexSettings {
        filterable_attributes: vec![
            FilterableRule::Field("genre".into()),
            FilterableRule::Field("year".into()),
            FilterableRule::Field("_geo".into()),
        ],
        ..IndexSettings::default()
    })
}

fn refused(err: ResponseError) {
    let status = err.status();
    assert!((400..500).contains(&status), "{status} for {err:?}");
    assert!(!err.message.is_empty());
}

fn validate(query: &SearchQuery) {
    // The pagination the route computes from the decoded query.
    let _ = (query.offset_or_default(), query.limit_or_default());
    if let Some(filter) = &query.filter {
        let _ = parse_filter_checked(filter, settings());
    }
}

fuzz_target!(|data: &[u8]| {
    // The route's body reader: serde_json with its default recursion limit.
    if let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) {
        match SearchQuery::from_json(&body) {
            Ok(query) => validate(&query),
            Err(err) => refused(err),
        }
        match MultiSearchRequest::from_json(&body) {
            Ok(request) => {
                for query in &request.queries {
                    validate(&query.search);
                }
            }
            Err(err) => refused(err),
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        match SearchQuery::from_query_string(text) {
            Ok(query) => validate(&query),
            Err(err) => refused(err),
        }
    }
});
