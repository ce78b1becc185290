//! Foreign keys (the experimental `foreignKeys` index setting): a field of one index holding ids
//! of another index's documents. Searches show those documents in place of the ids (hydration),
//! and `_foreign(field, filter)` selects the documents whose field names a document the filter
//! selects in the foreign index. Both need the `foreignKeys` experimental feature.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use quarry_api_types::Code;
use quarry_engine::filter::{
    check_filter, foreign_filter_error, parse_filter_resolving, FilterError, FilterExpr,
    MAX_FOREIGN_FILTER_DOCUMENTS,
};
use quarry_engine::settings::ForeignKey;
use quarry_engine::{Index, IndexSettings};
use quarry_scheduler::{ExperimentalFeatures, Feature, Scheduler};
use serde_json::{Map, Value};

use super::documents::select_fields;
use crate::error::{ApiError, ApiResult};

/// The other indexes, for resolving foreign filters and showing the documents foreign keys
/// name: present only while the `foreignKeys` experimental feature is on.
pub fn foreign_indexes(
    scheduler: &Scheduler,
    features: &ExperimentalFeatures,
) -> Option<Scheduler> {
    features
        .is_enabled(Feature::ForeignKeys)
        .then(|| scheduler.clone())
}

/// Parses and checks a request's `filter` for an index with `settings`, resolving its foreign
/// filters through `foreign` (see [`foreign_indexes`]). Without it (the `foreignKeys` feature
/// is off) a foreign filter is refused with `feature_not_enabled`, as Meilisearch does. A bad
/// filter is answered with `code`; a foreign index that does not exist with `index_not_found`.
pub fn parse_request_filter(
    value: &Value,
    settings: &IndexSettings,
    foreign: Option<&Scheduler>,
    code: Code,
) -> ApiResult<Option<FilterExpr>> {
    let Some(scheduler) = foreign else {
        let refusal =
            quarry_scheduler::features::not_enabled(Feature::ForeignKeys, "using a foreign filter");
        if let Some(located) = foreign_filter_error(value, &refusal.message) {
            return Err(ApiError::new(Code::FeatureNotEnabled, located.message));
        }
        return parse_filter_resolving(value, settings, None)
            .map_err(|e| ApiError::new(code, e.message));
    };
    // A failure that is not about the filter's text (a missing foreign index) is kept aside and
    // answered with its own code.
    let failure: RefCell<Option<ApiError>> = RefCell::new(None);
    let resolve = |uid: &str, inner: &FilterExpr, text: &str| {
        let index = scheduler.index(uid).map_err(|e| {
            let message = e.message.clone();
            failure.replace(Some(ApiError(e)));
            FilterError { message }
        })?;
        foreign_ids(&index, uid, inner, text)
    };
    let parsed = parse_filter_resolving(value, settings, Some(&resolve));
    if let Some(error) = failure.into_inner() {
        return Err(error);
    }
    parsed.map_err(|e| ApiError::new(code, e.message))
}

/// The ids of the documents of the foreign index `uid` that `inner` selects.
fn foreign_ids(
    index: &Index,
    uid: &str,
    inner: &FilterExpr,
    text: &str,
) -> Result<Vec<String>, FilterError> {
    check_filter(inner, text, &index.settings())?;
    match index.ids_matching(inner, MAX_FOREIGN_FILTER_DOCUMENTS) {
        Ok(Ok(ids)) => Ok(ids),
        Ok(Err(count)) => Err(FilterError {
            message: format!(
                "Foreign filter is retrieving too many documents ({count} in index `{uid}`): \
                 foreign filters can't retrieve more than {MAX_FOREIGN_FILTER_DOCUMENTS} \
                 documents per index."
            ),
        }),
        Err(e) => Err(FilterError {
            message: e.to_string(),
        }),
    }
}

/// Replaces, in each hit (and its `_formatted`), every id found under a field of `keys` with
/// the document it names in the foreign index, showing that index's displayed attributes, or
/// with `{}` when no document has that id. Values that cannot be ids are left as they are.
/// Each foreign document is read once per call.
pub fn hydrate_hits(
    scheduler: &Scheduler,
    keys: &[ForeignKey],
    hits: &mut [&mut Map<String, Value>],
) -> ApiResult<()> {
    if keys.is_empty() || hits.is_empty() {
        return Ok(());
    }
    // The foreign keys grouped by foreign index, in the order they were declared.
    let mut by_index: Vec<(&str, Vec<&str>)> = Vec::new();
    for key in keys {
        match by_index
            .iter_mut()
            .find(|(uid, _)| *uid == key.foreign_index_uid)
        {
            Some((_, fields)) => fields.push(&key.field_name),
            None => by_index.push((&key.foreign_index_uid, vec![&key.field_name])),
        }
    }
    for (uid, fields) in by_index {
        let index = scheduler.index(uid)?;
        let mut documents = ForeignDocuments::new(index);
        let mut failure = None;
        for hit in hits.iter_mut() {
            let mut replace = |value: &mut Value| {
                if failure.is_some() {
                    return;
                }
                let Ok(id) = quarry_engine::documents::id_from_value(value) else {
                    return;
                };
                match documents.get(&id) {
                    Ok(document) => *value = document,
                    Err(e) => failure = Some(e),
                }
            };
            map_leaves(hit, &fields, "", &mut replace);
            if let Some(Value::Object(formatted)) = hit.get_mut("_formatted") {
                map_leaves(formatted, &fields, "", &mut replace);
            }
        }
        if let Some(error) = failure {
            return Err(error);
        }
    }
    Ok(())
}

/// The documents of one foreign index as hydration shows them, each read once.
struct ForeignDocuments {
    index: Arc<Index>,
    displayed: Option<Vec<String>>,
    read: HashMap<String, Value>,
}

impl ForeignDocuments {
    fn new(index: Arc<Index>) -> ForeignDocuments {
        let displayed = index.settings().displayed_attributes;
        ForeignDocuments {
            index,
            displayed,
            read: HashMap::new(),
        }
    }

    fn get(&mut self, id: &str) -> ApiResult<Value> {
        if let Some(document) = self.read.get(id) {
            return Ok(document.clone());
        }
        let document = match self.index.document(id)? {
            Some(mut document) => {
                document.remove("_vectors");
                select_fields(document, self.displayed.as_deref())
            }
            None => Map::new(),
        };
        let document = Value::Object(document);
        self.read.insert(id.to_string(), document.clone());
        Ok(document)
    }
}

/// Calls `replace` on every scalar value at one of the dotted paths `fields` or below it,
/// through nested objects and arrays (`{"a": {"b": 1}}` and `{"a.b": 1}` both hold `a.b`).
fn map_leaves(
    object: &mut Map<String, Value>,
    fields: &[&str],
    base: &str,
    replace: &mut impl FnMut(&mut Value),
) {
    for (key, value) in object.iter_mut() {
        let path = if base.is_empty() {
            key.clone()
        } else {
            format!("{base}.{key}")
        };
        let selected = fields.iter().any(|field| within(&path, field));
        let on_the_way = fields.iter().any(|field| within(field, &path));
        if selected || on_the_way {
            map_value(value, fields, &path, selected, replace);
        }
    }
}

fn map_value(
    value: &mut Value,
    fields: &[&str],
    path: &str,
    selected: bool,
    replace: &mut impl FnMut(&mut Value),
) {
    match value {
        Value::Object(object) => map_leaves(object, fields, path, replace),
        Value::Array(items) => {
            for item in items {
                map_value(item, fields, path, selected, replace);
            }
        }
        scalar if selected => replace(scalar),
        _ => {}
    }
}

/// Whether the dotted path `path` is `ancestor` or lies below it.
fn within(path: &str, ancestor: &str) -> bool {
    path == ancestor
        || path
            .strip_prefix(ancestor)
            .is_some_and(|rest| rest.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn collect(document: Value, fields: &[&str]) -> Vec<Value> {
        let Value::Object(mut object) = document else {
            unreachable!()
        };
        let mut seen = Vec::new();
        map_leaves(&mut object, fields, "", &mut |v: &mut Value| {
            seen.push(v.clone())
        });
        seen
    }

    #[test]
    fn leaves_are_found_under_the_field_through_objects_and_arrays() {
        let doc = json!({
            "author": 1,
            "authors": [2, 3],
            "book": {"writer": {"id": 4, "name": "x"}, "editor": 5},
            "book.writer": 6,
            "related": [{"id": 7}, {"id": [8]}],
            "other": 9
        });
        assert_eq!(collect(doc.clone(), &["author"]), vec![json!(1)]);
        assert_eq!(collect(doc.clone(), &["authors"]), vec![json!(2), json!(3)]);
        assert_eq!(
            collect(doc.clone(), &["book.writer"]),
            vec![json!(4), json!("x"), json!(6)]
        );
        assert_eq!(collect(doc.clone(), &["book.writer.id"]), vec![json!(4)]);
        assert_eq!(
            collect(doc.clone(), &["related.id"]),
            vec![json!(7), json!(8)]
        );
        assert!(collect(doc, &["missing"]).is_empty());
    }

    #[test]
    fn paths_nest_only_at_dots() {
        assert!(within("a.b", "a"));
        assert!(within("a", "a"));
        assert!(!within("ab", "a"));
        assert!(!within("a", "a.b"));
    }
}
