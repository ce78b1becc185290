//! Dynamic search rules on the wire (`/dynamic-search-rules`, experimental feature
//! `dynamicSearchRules`): a rule as Meilisearch 1.50 shows it, the partial update a
//! `PATCH /dynamic-search-rules/{uid}` carries, and the body of the list route, each decoded
//! with Meilisearch's codes and messages. A rule is also stored in this shape, so what a dump
//! carries is what `GET` answers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::decode::{
    backticked_list, decode_bool, decode_string, decode_usize, expect_array, expect_object,
    index_path, invalid_type, invalid_value, missing_field,
};
use crate::error::{Code, ResponseError};
use crate::index_uid::{invalid_index_uid_message, is_valid_index_uid};

/// Fields of a `PATCH` body, in the order Meilisearch lists them.
pub const RULE_FIELDS: &[&str] = &[
    "description",
    "precedence",
    "active",
    "conditions",
    "actions",
];
const CONDITION_FIELDS: &[&str] = &["time", "query", "filter"];
const QUERY_FIELDS: &[&str] = &["isEmpty", "words"];
const FILTER_FIELDS: &[&str] = &["values"];
const ACTION_FIELDS: &[&str] = &["selector", "action"];
const SELECTOR_FIELDS: &[&str] = &["indexUid", "id"];
const PIN_FIELDS: &[&str] = &["position"];
const LIST_FIELDS: &[&str] = &["offset", "limit", "filter"];
const LIST_FILTER_FIELDS: &[&str] = &["query", "active"];

/// Default `limit` of the list route.
pub const DEFAULT_LIST_LIMIT: usize = 20;

/// One rule, as `GET /dynamic-search-rules/{uid}` answers it (and as it is stored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DynamicSearchRule {
    pub uid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When the task that last changed the rule was enqueued.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_updated_at: Option<OffsetDateTime>,
    /// Lower wins; a rule without one comes after every rule with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precedence: Option<u64>,
    #[serde(default = "active_by_default")]
    pub active: bool,
    #[serde(default)]
    pub conditions: Conditions,
    #[serde(default)]
    pub actions: Vec<RuleAction>,
}

fn active_by_default() -> bool {
    true
}

impl DynamicSearchRule {
    /// A rule that does not exist yet: active, no condition, no action.
    pub fn new(uid: &str) -> DynamicSearchRule {
        DynamicSearchRule {
            uid: uid.to_string(),
            description: None,
            last_updated_at: None,
            precedence: None,
            active: true,
            conditions: Conditions::default(),
            actions: Vec::new(),
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// What must hold for a rule to apply; every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Conditions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeCondition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<QueryCondition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterCondition>,
}

/// The window the rule applies in, bounds included.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeCondition {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub start: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub end: Option<OffsetDateTime>,
}

/// A condition on the search's `q`: empty (or not), or containing every word of `words`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryCondition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_empty: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<String>,
}

/// A condition on the search's `filter`: the values it must constrain attributes to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FilterCondition {
    #[serde(default)]
    pub values: BTreeMap<String, Value>,
}

/// What a rule does to one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleAction {
    pub selector: Selector,
    pub action: ActionKind,
}

/// The document an action is about: its id, in one index or (without `indexUid`) in every
/// index searched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_uid: Option<String>,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ActionKind {
    /// Place the document at this 0-based position of the results.
    Pin { position: u32 },
}

/// A field of a partial update: absent, `null` (back to its default), or a value.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Setting<T> {
    #[default]
    NotSet,
    Reset,
    Set(T),
}

impl<T: Serialize> Setting<T> {
    fn to_json(&self) -> Option<Value> {
        match self {
            Setting::NotSet => None,
            Setting::Reset => Some(Value::Null),
            Setting::Set(value) => Some(serde_json::to_value(value).unwrap_or_default()),
        }
    }
}

/// The body of `PATCH /dynamic-search-rules/{uid}`: each field given replaces the rule's own.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleUpdate {
    pub description: Setting<String>,
    pub precedence: Setting<u64>,
    pub active: Setting<bool>,
    pub conditions: Setting<Conditions>,
    pub actions: Setting<Vec<RuleAction>>,
}

impl RuleUpdate {
    /// Decodes a `PATCH` body the way Meilisearch does, field by field in the client's order.
    pub fn from_json(body: &Value) -> Result<RuleUpdate, ResponseError> {
        let Value::Object(fields) = body else {
            return Err(invalid_type(Code::BadRequest, "", "an object", body));
        };
        let mut update = RuleUpdate::default();
        for (name, value) in fields {
            let path = format!(".{name}");
            match name.as_str() {
                "description" => {
                    update.description = setting(value, |v| {
                        decode_string(v, Code::InvalidDynamicSearchRuleDescription, &path)
                    })?
                }
                "precedence" => {
                    update.precedence = setting(value, |v| {
                        v.as_u64().ok_or_else(|| {
                            invalid_type(
                                Code::InvalidDynamicSearchRulePriority,
                                &path,
                                "a positive integer",
                                v,
                            )
                        })
                    })?
                }
                "active" => {
                    update.active = setting(value, |v| {
                        decode_bool(v, Code::InvalidDynamicSearchRuleActive, &path)
                    })?
                }
                "conditions" => {
                    update.conditions = setting(value, |v| decode_conditions(v, &path))?
                }
                "actions" => update.actions = setting(value, |v| decode_actions(v, &path))?,
                other => return Err(unknown_field(Code::BadRequest, "", other, RULE_FIELDS)),
            }
        }
        Ok(update)
    }

    /// The update as task details show it (`rule`): the fields given, `null` for a reset.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        let fields = [
            ("description", self.description.to_json()),
            ("precedence", self.precedence.to_json()),
            ("active", self.active.to_json()),
            ("conditions", self.conditions.to_json()),
            ("actions", self.actions.to_json()),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                out.insert(name.to_string(), value);
            }
        }
        Value::Object(out)
    }

    /// Applies the update to `rule`, which it last changed at `at`.
    pub fn apply(&self, rule: &mut DynamicSearchRule, at: OffsetDateTime) {
        match &self.description {
            Setting::NotSet => {}
            Setting::Reset => rule.description = None,
            Setting::Set(text) => rule.description = Some(text.clone()),
        }
        match &self.precedence {
            Setting::NotSet => {}
            Setting::Reset => rule.precedence = None,
            Setting::Set(n) => rule.precedence = Some(*n),
        }
        match &self.active {
            Setting::NotSet => {}
            Setting::Reset => rule.active = true,
            Setting::Set(active) => rule.active = *active,
        }
        match &self.conditions {
            Setting::NotSet => {}
            Setting::Reset => rule.conditions = Conditions::default(),
            Setting::Set(conditions) => rule.conditions = conditions.clone(),
        }
        match &self.actions {
            Setting::NotSet => {}
            Setting::Reset => rule.actions.clear(),
            Setting::Set(actions) => rule.actions = actions.clone(),
        }
        rule.last_updated_at = Some(at);
    }
}

/// `null` resets a field; anything else is decoded by `decode`.
fn setting<T>(
    value: &Value,
    decode: impl FnOnce(&Value) -> Result<T, ResponseError>,
) -> Result<Setting<T>, ResponseError> {
    match value {
        Value::Null => Ok(Setting::Reset),
        other => decode(other).map(Setting::Set),
    }
}

/// `null` is `None`; anything else is decoded by `decode`.
fn optional<T>(
    value: &Value,
    decode: impl FnOnce(&Value) -> Result<T, ResponseError>,
) -> Result<Option<T>, ResponseError> {
    match value {
        Value::Null => Ok(None),
        other => decode(other).map(Some),
    }
}

/// A key an object does not accept, with Meilisearch's "did you mean" hint.
fn unknown_field(code: Code, object_path: &str, field: &str, expected: &[&str]) -> ResponseError {
    let inside = if object_path.is_empty() {
        String::new()
    } else {
        format!(" inside `{object_path}`")
    };
    ResponseError::new(
        code,
        format!(
            "Unknown field `{field}`{inside}: {}expected one of {}",
            crate::settings::did_you_mean(field, expected),
            backticked_list(expected)
        ),
    )
}

/// `conditions`: every mistake inside answers `invalid_dynamic_search_rule_conditions`, except
/// the two checks made on the whole object (`bad_request`, as in Meilisearch).
fn decode_conditions(value: &Value, path: &str) -> Result<Conditions, ResponseError> {
    let code = Code::InvalidDynamicSearchRuleConditions;
    let fields = expect_object(value, code, path)?;
    let mut conditions = Conditions::default();
    for (name, value) in fields {
        let at = format!("{path}.{name}");
        match name.as_str() {
            "time" => conditions.time = optional(value, |v| decode_time(v, &at))?,
            "query" => conditions.query = optional(value, |v| decode_query(v, &at))?,
            "filter" => conditions.filter = optional(value, |v| decode_filter(v, &at))?,
            other => return Err(unknown_field(code, path, other, CONDITION_FIELDS)),
        }
    }
    if let Some(query) = &conditions.query {
        if query.is_empty == Some(true) && query.words.is_some() {
            return Err(invalid_value(
                Code::BadRequest,
                &format!("{path}.query"),
                "either `isEmpty` or `words` can be used, not both at once",
            ));
        }
    }
    if let Some(TimeCondition {
        start: Some(start),
        end: Some(end),
    }) = &conditions.time
    {
        if start > end {
            return Err(invalid_value(
                Code::BadRequest,
                &format!("{path}.time"),
                &format!("`end` (`{end}`) should be later than `start` (`{start}`)"),
            ));
        }
    }
    Ok(conditions)
}

/// `conditions.time`: RFC 3339 bounds; other keys are ignored, as Meilisearch ignores them.
fn decode_time(value: &Value, path: &str) -> Result<TimeCondition, ResponseError> {
    let code = Code::InvalidDynamicSearchRuleConditions;
    let fields = expect_object(value, code, path)?;
    let mut time = TimeCondition::default();
    for (name, value) in fields {
        let at = format!("{path}.{name}");
        let slot = match name.as_str() {
            "start" => &mut time.start,
            "end" => &mut time.end,
            _ => continue,
        };
        *slot = optional(value, |v| {
            let text = decode_string(v, code, &at)?;
            OffsetDateTime::parse(&text, &Rfc3339).map_err(|_| {
                invalid_value(
                    code,
                    &at,
                    &format!("`{text}` is not a valid date. It should follow the RFC 3339 format to represents a date or datetime in the future or specified as a null value. e.g. 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'.\n"),
                )
            })
        })?;
    }
    Ok(time)
}

fn decode_query(value: &Value, path: &str) -> Result<QueryCondition, ResponseError> {
    let code = Code::InvalidDynamicSearchRuleConditions;
    let fields = expect_object(value, code, path)?;
    let mut query = QueryCondition::default();
    for (name, value) in fields {
        let at = format!("{path}.{name}");
        match name.as_str() {
            "isEmpty" => query.is_empty = optional(value, |v| decode_bool(v, code, &at))?,
            "words" => query.words = optional(value, |v| decode_string(v, code, &at))?,
            other => return Err(unknown_field(code, path, other, QUERY_FIELDS)),
        }
    }
    Ok(query)
}

fn decode_filter(value: &Value, path: &str) -> Result<FilterCondition, ResponseError> {
    let code = Code::InvalidDynamicSearchRuleConditions;
    let fields = expect_object(value, code, path)?;
    let mut filter = FilterCondition::default();
    for (name, value) in fields {
        match name.as_str() {
            "values" => {
                let values = expect_object(value, code, &format!("{path}.values"))?;
                filter.values = values.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            }
            other => return Err(unknown_field(code, path, other, FILTER_FIELDS)),
        }
    }
    Ok(filter)
}

/// `actions`: every mistake inside answers `invalid_dynamic_search_rule_actions`.
fn decode_actions(value: &Value, path: &str) -> Result<Vec<RuleAction>, ResponseError> {
    let code = Code::InvalidDynamicSearchRuleActions;
    let items = expect_array(value, code, path)?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| decode_action(item, &index_path(path, i)))
        .collect()
}

fn decode_action(value: &Value, path: &str) -> Result<RuleAction, ResponseError> {
    let code = Code::InvalidDynamicSearchRuleActions;
    let fields = expect_object(value, code, path)?;
    let (mut selector, mut action) = (None, None);
    for (name, value) in fields {
        let at = format!("{path}.{name}");
        match name.as_str() {
            "selector" => selector = Some(decode_selector(value, &at)?),
            "action" => action = Some(decode_pin(value, &at)?),
            other => return Err(unknown_field(code, path, other, ACTION_FIELDS)),
        }
    }
    let selector = selector.ok_or_else(|| missing_field(code, path, "selector"))?;
    let action = action.ok_or_else(|| missing_field(code, path, "action"))?;
    Ok(RuleAction { selector, action })
}

fn decode_selector(value: &Value, path: &str) -> Result<Selector, ResponseError> {
    let code = Code::InvalidDynamicSearchRuleActions;
    let fields = expect_object(value, code, path)?;
    let (mut index_uid, mut id) = (None, None);
    for (name, value) in fields {
        let at = format!("{path}.{name}");
        match name.as_str() {
            "indexUid" => {
                index_uid = optional(value, |v| {
                    let uid = decode_string(v, code, &at)?;
                    if is_valid_index_uid(&uid) {
                        Ok(uid)
                    } else {
                        Err(invalid_value(code, &at, &invalid_index_uid_message(&uid)))
                    }
                })?
            }
            "id" => id = Some(decode_string(value, code, &at)?),
            other => return Err(unknown_field(code, path, other, SELECTOR_FIELDS)),
        }
    }
    let id = id.ok_or_else(|| missing_field(code, path, "id"))?;
    Ok(Selector { index_uid, id })
}

/// `{"type": "pin", "position": N}`, the only action there is.
fn decode_pin(value: &Value, path: &str) -> Result<ActionKind, ResponseError> {
    let code = Code::InvalidDynamicSearchRuleActions;
    let fields = expect_object(value, code, path)?;
    let tag = fields
        .get("type")
        .ok_or_else(|| missing_field(code, path, "type"))?;
    let tag = decode_string(tag, code, &format!("{path}.type"))?;
    if tag != "pin" {
        return Err(invalid_value(code, path, "Incorrect tag value"));
    }
    let mut position = None;
    for (name, value) in fields {
        let at = format!("{path}.{name}");
        match name.as_str() {
            "type" => {}
            "position" => {
                let n = value
                    .as_u64()
                    .ok_or_else(|| invalid_type(code, &at, "a positive integer", value))?;
                let n = u32::try_from(n).map_err(|_| {
                    invalid_value(
                        code,
                        &at,
                        &format!(
                            "value: `{n}` is too large to be deserialized, maximum value authorized is `{}`",
                            u32::MAX
                        ),
                    )
                })?;
                position = Some(n);
            }
            other => return Err(unknown_field(code, path, other, PIN_FIELDS)),
        }
    }
    let position = position.ok_or_else(|| missing_field(code, path, "position"))?;
    Ok(ActionKind::Pin { position })
}

/// The body of `POST /dynamic-search-rules` (listing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRules {
    pub offset: usize,
    pub limit: usize,
    /// Words searched in the rules' `description` and `conditions.query.words`.
    pub query: Option<String>,
    pub active: Option<bool>,
}

impl Default for ListRules {
    fn default() -> Self {
        ListRules {
            offset: 0,
            limit: DEFAULT_LIST_LIMIT,
            query: None,
            active: None,
        }
    }
}

impl ListRules {
    pub fn from_json(body: &Value) -> Result<ListRules, ResponseError> {
        let Value::Object(fields) = body else {
            return Err(invalid_type(Code::BadRequest, "", "an object", body));
        };
        let mut list = ListRules::default();
        for (name, value) in fields {
            let path = format!(".{name}");
            match name.as_str() {
                "offset" => {
                    list.offset = decode_usize(value, Code::InvalidDynamicSearchRuleOffset, &path)?
                }
                "limit" => {
                    list.limit = decode_usize(value, Code::InvalidDynamicSearchRuleLimit, &path)?
                }
                "filter" => {
                    if value.is_null() {
                        continue;
                    }
                    let code = Code::InvalidDynamicSearchRuleFilter;
                    for (name, value) in expect_object(value, code, &path)? {
                        let at = format!("{path}.{name}");
                        match name.as_str() {
                            "query" => {
                                list.query = optional(value, |v| {
                                    decode_string(v, Code::InvalidDynamicSearchRuleFilterQuery, &at)
                                })?
                            }
                            "active" => {
                                list.active = optional(value, |v| {
                                    decode_bool(v, Code::InvalidDynamicSearchRuleFilterActive, &at)
                                })?
                            }
                            other => {
                                return Err(unknown_field(code, &path, other, LIST_FILTER_FIELDS))
                            }
                        }
                    }
                }
                other => return Err(unknown_field(Code::BadRequest, "", other, LIST_FIELDS)),
            }
        }
        Ok(list)
    }
}

/// `404 dynamic_search_rule_not_found`.
pub fn not_found(uid: &str) -> ResponseError {
    ResponseError::new(
        Code::DynamicSearchRuleNotFound,
        format!("Dynamic search rule `{uid}` not found."),
    )
}

/// The list route's answer.
pub fn list_view(results: Vec<Value>, offset: usize, limit: usize, total: usize) -> Value {
    json!({"results": results, "offset": offset, "limit": limit, "total": total})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: Value) -> ResponseError {
        RuleUpdate::from_json(&body).expect_err(&body.to_string())
    }

    #[test]
    fn a_full_rule_decodes_applies_and_shows_as_meilisearch_shows_it() {
        let update = RuleUpdate::from_json(&json!({
            "description": "Black Friday",
            "precedence": 10,
            "active": true,
            "conditions": {
                "query": {"isEmpty": true},
                "time": {"start": "2025-11-28T00:00:00Z", "end": "2025-11-28T23:59:59Z"},
                "filter": {"values": {"genres": "action", "brand": ["a", "b"]}}
            },
            "actions": [
                {"selector": {"indexUid": "products", "id": "123"}, "action": {"type": "pin", "position": 1}},
                {"selector": {"id": "789"}, "action": {"position": 3, "type": "pin"}}
            ]
        }))
        .unwrap();
        let mut rule = DynamicSearchRule::new("black-friday");
        let at = OffsetDateTime::parse("2026-01-02T03:04:05.5Z", &Rfc3339).unwrap();
        update.apply(&mut rule, at);
        assert_eq!(
            rule.to_json(),
            json!({
                "uid": "black-friday",
                "description": "Black Friday",
                "lastUpdatedAt": "2026-01-02T03:04:05.5Z",
                "precedence": 10,
                "active": true,
                "conditions": {
                    "time": {"start": "2025-11-28T00:00:00Z", "end": "2025-11-28T23:59:59Z"},
                    "query": {"isEmpty": true},
                    "filter": {"values": {"brand": ["a", "b"], "genres": "action"}}
                },
                "actions": [
                    {"selector": {"indexUid": "products", "id": "123"}, "action": {"type": "pin", "position": 1}},
                    {"selector": {"id": "789"}, "action": {"type": "pin", "position": 3}}
                ]
            })
        );
        let stored: DynamicSearchRule = serde_json::from_value(rule.to_json()).unwrap();
        assert_eq!(stored, rule);
        // A minimal rule shows its defaults.
        let mut minimal = DynamicSearchRule::new("m");
        RuleUpdate::default().apply(&mut minimal, at);
        assert_eq!(
            minimal.to_json(),
            json!({"uid": "m", "lastUpdatedAt": "2026-01-02T03:04:05.5Z", "active": true, "conditions": {}, "actions": []})
        );
    }

    #[test]
    fn partial_updates_keep_what_they_do_not_name_and_null_resets() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let mut rule = DynamicSearchRule::new("r");
        RuleUpdate::from_json(
            &json!({"description": "d", "precedence": 5, "active": false,
            "actions": [{"selector": {"id": "1"}, "action": {"type": "pin", "position": 0}}]}),
        )
        .unwrap()
        .apply(&mut rule, at);
        RuleUpdate::from_json(&json!({"description": "e"}))
            .unwrap()
            .apply(&mut rule, at);
        assert_eq!(rule.description.as_deref(), Some("e"));
        assert_eq!(rule.precedence, Some(5));
        assert!(!rule.active);
        assert_eq!(rule.actions.len(), 1);
        let reset = RuleUpdate::from_json(&json!({"description": null, "precedence": null,
            "active": null, "conditions": null, "actions": null}))
        .unwrap();
        assert_eq!(
            reset.to_json(),
            json!({"description": null, "precedence": null, "active": null, "conditions": null, "actions": null})
        );
        reset.apply(&mut rule, at);
        assert_eq!(rule.description, None);
        assert_eq!(rule.precedence, None);
        assert!(rule.active);
        assert!(rule.actions.is_empty());
    }

    #[test]
    fn mistakes_have_meilisearch_codes_and_messages() {
        let cases: Vec<(Value, &str, &str)> = vec![
            (json!([]), "bad_request", "Invalid value type: expected an object, but found an array: `[]`"),
            (json!({"unknownField": true}), "bad_request",
             "Unknown field `unknownField`: expected one of `description`, `precedence`, `active`, `conditions`, `actions`"),
            (json!({"actons": []}), "bad_request",
             "Unknown field `actons`: did you mean `actions`? expected one of `description`, `precedence`, `active`, `conditions`, `actions`"),
            (json!({"description": 1}), "invalid_dynamic_search_rule_description",
             "Invalid value type at `.description`: expected a string, but found a positive integer: `1`"),
            (json!({"precedence": -1}), "invalid_dynamic_search_rule_priority",
             "Invalid value type at `.precedence`: expected a positive integer, but found a negative integer: `-1`"),
            (json!({"active": "yes"}), "invalid_dynamic_search_rule_active",
             "Invalid value type at `.active`: expected a boolean, but found a string: `\"yes\"`"),
            (json!({"conditions": []}), "invalid_dynamic_search_rule_conditions",
             "Invalid value type at `.conditions`: expected an object, but found an array: `[]`"),
            (json!({"conditions": {"when": 1}}), "invalid_dynamic_search_rule_conditions",
             "Unknown field `when` inside `.conditions`: expected one of `time`, `query`, `filter`"),
            (json!({"conditions": {"query": {"contains": "x"}}}), "invalid_dynamic_search_rule_conditions",
             "Unknown field `contains` inside `.conditions.query`: expected one of `isEmpty`, `words`"),
            (json!({"conditions": {"query": {"isEmpty": true, "words": "batman"}}}), "bad_request",
             "Invalid value at `.conditions.query`: either `isEmpty` or `words` can be used, not both at once"),
            (json!({"conditions": {"time": {"start": "tomorrow"}}}), "invalid_dynamic_search_rule_conditions",
             "Invalid value at `.conditions.time.start`: `tomorrow` is not a valid date. It should follow the RFC 3339 format to represents a date or datetime in the future or specified as a null value. e.g. 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'.\n"),
            (json!({"conditions": {"time": {"start": "2025-01-02T00:00:00Z", "end": "2025-01-01T00:00:00Z"}}}), "bad_request",
             "Invalid value at `.conditions.time`: `end` (`2025-01-01 0:00:00.0 +00:00:00`) should be later than `start` (`2025-01-02 0:00:00.0 +00:00:00`)"),
            (json!({"conditions": {"filter": {"values": []}}}), "invalid_dynamic_search_rule_conditions",
             "Invalid value type at `.conditions.filter.values`: expected an object, but found an array: `[]`"),
            (json!({"actions": {}}), "invalid_dynamic_search_rule_actions",
             "Invalid value type at `.actions`: expected an array, but found an object: `{}`"),
            (json!({"actions": [{"selector": {"id": "1"}}]}), "invalid_dynamic_search_rule_actions",
             "Missing field `action` inside `.actions[0]`"),
            (json!({"actions": [{"selector": {}, "action": {"type": "pin", "position": 0}}]}), "invalid_dynamic_search_rule_actions",
             "Missing field `id` inside `.actions[0].selector`"),
            (json!({"actions": [{"selector": {"id": 1}, "action": {"type": "pin", "position": 0}}]}), "invalid_dynamic_search_rule_actions",
             "Invalid value type at `.actions[0].selector.id`: expected a string, but found a positive integer: `1`"),
            (json!({"actions": [{"selector": {"id": "1", "indexUid": "no good"}, "action": {"type": "pin", "position": 0}}]}), "invalid_dynamic_search_rule_actions",
             "Invalid value at `.actions[0].selector.indexUid`: `no good` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 400 bytes."),
            (json!({"actions": [{"selector": {"id": "1"}, "action": {"type": "boost"}}]}), "invalid_dynamic_search_rule_actions",
             "Invalid value at `.actions[0].action`: Incorrect tag value"),
            (json!({"actions": [{"selector": {"id": "1"}, "action": {"position": 1}}]}), "invalid_dynamic_search_rule_actions",
             "Missing field `type` inside `.actions[0].action`"),
            (json!({"actions": [{"selector": {"id": "1"}, "action": {"type": "pin", "position": -2}}]}), "invalid_dynamic_search_rule_actions",
             "Invalid value type at `.actions[0].action.position`: expected a positive integer, but found a negative integer: `-2`"),
            (json!({"actions": [{"selector": {"id": "1"}, "action": {"type": "pin", "position": 4294967296u64}}]}), "invalid_dynamic_search_rule_actions",
             "Invalid value at `.actions[0].action.position`: value: `4294967296` is too large to be deserialized, maximum value authorized is `4294967295`"),
            (json!({"actions": [{"selector": {"id": "1"}, "action": {"type": "pin", "position": 1, "boost": 2}}]}), "invalid_dynamic_search_rule_actions",
             "Unknown field `boost` inside `.actions[0].action`: expected one of `position`"),
        ];
        for (body, code, message) in cases {
            let e = err(body.clone());
            assert_eq!(
                (e.code.name(), e.message.as_str()),
                (code, message),
                "{body}"
            );
        }
        // Keys of `time` other than its bounds are ignored, as in Meilisearch.
        assert!(RuleUpdate::from_json(&json!({"conditions": {"time": {"zone": "utc"}}})).is_ok());
    }

    #[test]
    fn the_list_body_has_its_own_codes() {
        assert_eq!(
            ListRules::from_json(&json!({})).unwrap(),
            ListRules::default()
        );
        let list = ListRules::from_json(
            &json!({"offset": 1, "limit": 2, "filter": {"query": "promo", "active": true}}),
        )
        .unwrap();
        assert_eq!(
            list,
            ListRules {
                offset: 1,
                limit: 2,
                query: Some("promo".into()),
                active: Some(true)
            }
        );
        let cases = [
            (json!({"offset": -1}), "invalid_dynamic_search_rule_offset"),
            (json!({"limit": "x"}), "invalid_dynamic_search_rule_limit"),
            (json!({"filter": 1}), "invalid_dynamic_search_rule_filter"),
            (
                json!({"filter": {"attributePatterns": []}}),
                "invalid_dynamic_search_rule_filter",
            ),
            (
                json!({"filter": {"query": 1}}),
                "invalid_dynamic_search_rule_filter_query",
            ),
            (
                json!({"filter": {"active": "no"}}),
                "invalid_dynamic_search_rule_filter_active",
            ),
            (json!({"page": 1}), "bad_request"),
        ];
        for (body, code) in cases {
            let e = ListRules::from_json(&body).expect_err(&body.to_string());
            assert_eq!(e.code.name(), code, "{body}: {}", e.message);
        }
    }
}
