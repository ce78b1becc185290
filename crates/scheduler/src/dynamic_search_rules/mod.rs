//! Dynamic search rules (experimental feature `dynamicSearchRules`): instance-wide records that
//! pin chosen documents at fixed positions of the results of the searches they match.
//!
//! The rules are one record of the task store's instance table (`dynamic-search-rules`, a JSON
//! array of rules in creation order, each as `GET /dynamic-search-rules/{uid}` shows it), so
//! they survive restarts and travel in dumps and snapshots like the other instance records.
//! As in Meilisearch 1.50, changes are tasks (`dsrUpdate`, `dsrClear`): the writer applies a
//! batch of them and records the new rules in the same durable transaction as the tasks'
//! outcomes, so a crash leaves either both or neither. Searches read a compiled [`RuleSet`]
//! (see `conditions.rs` for which rules apply to a search).

mod conditions;

use std::collections::HashSet;
use std::sync::Arc;

use quarry_api_types::dynamic_search_rules::{DynamicSearchRule, ListRules, RuleUpdate};
use quarry_engine::analysis::Analyzer;
use serde_json::{json, Value};

pub use conditions::SearchFacts;

use crate::task::{Task, TaskKind};

/// The key of the rules in the instance table (and the dump's `instance/` folder).
pub const RULES_KEY: &str = "dynamic-search-rules";

/// The index uid Meilisearch shows on the tasks that change the rules (its rules live in a
/// hidden index of that name; Quarry keeps them in the instance table).
pub const RULES_TASK_INDEX_UID: &str = ".meili_dsr";

/// At most this many matching rules, by precedence, pin documents in one search
/// (Meilisearch's default `maxActiveRules` fuel).
pub const MAX_ACTIVE_RULES: usize = 1000;

/// One rule with what searches and listings need precomputed.
#[derive(Debug)]
struct Compiled {
    rule: DynamicSearchRule,
    /// The words of `conditions.query.words`, normalized, repeats kept (their number is how
    /// many query words the condition asks for).
    condition_words: Vec<String>,
    /// The words of the description and of `conditions.query.words`, which the list route's
    /// `query` searches.
    listed_words: HashSet<String>,
}

impl Compiled {
    fn new(rule: DynamicSearchRule, analyzer: &Analyzer) -> Compiled {
        let words = |text: Option<&str>| -> Vec<String> {
            text.map(|t| analyzer.tokenize(t).into_iter().map(|t| t.text).collect())
                .unwrap_or_default()
        };
        let condition_words = words(
            rule.conditions
                .query
                .as_ref()
                .and_then(|q| q.words.as_deref()),
        );
        let mut listed_words: HashSet<String> = condition_words.iter().cloned().collect();
        listed_words.extend(words(rule.description.as_deref()));
        Compiled {
            rule,
            condition_words,
            listed_words,
        }
    }
}

/// Every rule of the instance, compiled for searches and listings.
#[derive(Debug, Default)]
pub struct RuleSet {
    /// In creation order (a rule deleted and created again goes to the end).
    rules: Vec<Arc<Compiled>>,
    /// Positions in `rules` of the active rules (the only ones a search looks at), by
    /// precedence: lowest first, rules without one last, creation order between equals.
    by_precedence: Vec<usize>,
}

impl RuleSet {
    fn from_compiled(rules: Vec<Arc<Compiled>>) -> RuleSet {
        let mut by_precedence: Vec<usize> =
            (0..rules.len()).filter(|&i| rules[i].rule.active).collect();
        by_precedence
            .sort_by_key(|&i| (rules[i].rule.precedence.is_none(), rules[i].rule.precedence));
        RuleSet {
            rules,
            by_precedence,
        }
    }

    /// The rules of a stored record (none when the record is absent or unreadable).
    pub fn from_record(record: Option<&Value>) -> RuleSet {
        let rules: Vec<DynamicSearchRule> = match record {
            Some(value) => serde_json::from_value(value.clone()).unwrap_or_else(|e| {
                tracing::error!(error = %e, "the stored dynamic search rules cannot be read");
                Vec::new()
            }),
            None => Vec::new(),
        };
        let analyzer = Analyzer::default();
        RuleSet::from_compiled(
            rules
                .into_iter()
                .map(|rule| Arc::new(Compiled::new(rule, &analyzer)))
                .collect(),
        )
    }

    /// The record to store.
    pub fn to_record(&self) -> Value {
        Value::Array(self.rules.iter().map(|c| c.rule.to_json()).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn get(&self, uid: &str) -> Option<&DynamicSearchRule> {
        self.rules
            .iter()
            .find(|c| c.rule.uid == uid)
            .map(|c| &c.rule)
    }

    /// `POST /dynamic-search-rules`: the rules the filter keeps, most recently changed first
    /// (with `query`, those containing more of its words first; like Meilisearch's search
    /// without typos or prefixes, the first word must be there), the page, and their number.
    pub fn list(&self, request: &ListRules) -> (Vec<&DynamicSearchRule>, usize) {
        let query_words: Vec<String> = request
            .query
            .as_deref()
            .map(|q| {
                Analyzer::default()
                    .tokenize(q)
                    .into_iter()
                    .map(|t| t.text)
                    .collect()
            })
            .unwrap_or_default();
        let mut matching: Vec<(usize, &Compiled)> = self
            .rules
            .iter()
            .filter(|c| request.active.is_none_or(|active| c.rule.active == active))
            .filter_map(|c| {
                if query_words.is_empty() {
                    return Some((0, c.as_ref()));
                }
                let matched = query_words
                    .iter()
                    .take_while(|w| c.listed_words.contains(*w))
                    .count();
                (matched > 0).then_some((matched, c.as_ref()))
            })
            .collect();
        matching.sort_by(|(a_words, a), (b_words, b)| {
            b_words
                .cmp(a_words)
                .then(b.rule.last_updated_at.cmp(&a.rule.last_updated_at))
                .then(a.rule.uid.cmp(&b.rule.uid))
        });
        let total = matching.len();
        let page = matching
            .into_iter()
            .skip(request.offset)
            .take(request.limit)
            .map(|(_, c)| &c.rule)
            .collect();
        (page, total)
    }

    /// The changes of a batch of rule tasks, applied in order. Answers the new rules and each
    /// task's details.
    pub(crate) fn apply(&self, tasks: &[Task]) -> (RuleSet, Vec<(u32, Value)>) {
        let analyzer = Analyzer::default();
        let mut rules = self.rules.clone();
        let mut details = Vec::with_capacity(tasks.len());
        for task in tasks {
            match &task.kind {
                TaskKind::DynamicSearchRuleUpdate { uid, update } => {
                    // The update was checked when the task was registered.
                    let update = RuleUpdate::from_json(update).unwrap_or_default();
                    let existing = rules.iter().position(|c| &c.rule.uid == uid);
                    let mut rule = match existing {
                        Some(i) => rules[i].rule.clone(),
                        None => DynamicSearchRule::new(uid),
                    };
                    update.apply(&mut rule, task.enqueued_at);
                    let compiled = Arc::new(Compiled::new(rule, &analyzer));
                    match existing {
                        Some(i) => rules[i] = compiled,
                        None => rules.push(compiled),
                    }
                }
                TaskKind::DynamicSearchRuleDeletion { uid } => {
                    rules.retain(|c| &c.rule.uid != uid);
                }
                TaskKind::DynamicSearchRulesClear => {
                    let deleted = rules.len();
                    rules.clear();
                    details.push((task.uid, json!({"deletedDocuments": deleted})));
                    continue;
                }
                _ => continue,
            }
            if let Some(initial) = task.kind.initial_details() {
                details.push((task.uid, initial));
            }
        }
        (RuleSet::from_compiled(rules), details)
    }

    /// The pins of the rules that apply to a search, most important first: rules by
    /// precedence, then each rule's actions in order. Only the actions about the searched
    /// index (or about no index in particular) are kept.
    /// Whether any rule is active: without one, a search has nothing to evaluate.
    pub fn has_active_rules(&self) -> bool {
        !self.by_precedence.is_empty()
    }

    pub fn pins_for(&self, facts: &SearchFacts<'_>) -> Vec<quarry_engine::search::Pin> {
        let mut pins = Vec::new();
        let mut active = 0usize;
        for &i in &self.by_precedence {
            let compiled = &self.rules[i];
            if !conditions::applies(compiled, facts) {
                continue;
            }
            active += 1;
            if active > MAX_ACTIVE_RULES {
                break;
            }
            for action in &compiled.rule.actions {
                if action
                    .selector
                    .index_uid
                    .as_deref()
                    .is_some_and(|uid| uid != facts.index_uid)
                {
                    continue;
                }
                let quarry_api_types::dynamic_search_rules::ActionKind::Pin { position } =
                    action.action;
                pins.push(quarry_engine::search::Pin {
                    id: action.selector.id.clone(),
                    position,
                });
            }
        }
        pins
    }
}

/// The details a rule task shows: the update it carries and the one rule it changes.
pub(crate) fn update_details(update: &Value) -> Value {
    json!({"rule": update, "updatedRules": 1})
}

impl crate::Scheduler {
    /// The rules as they are now.
    pub fn dynamic_search_rules(&self) -> Arc<RuleSet> {
        self.inner.dynamic_search_rules.read().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::Status;
    use time::OffsetDateTime;

    fn task(uid: u32, kind: TaskKind) -> Task {
        Task {
            uid,
            batch_uid: None,
            status: Status::Processing,
            details: kind.initial_details(),
            index_uid: kind.index_uid().map(str::to_string),
            kind,
            error: None,
            canceled_by: None,
            enqueued_at: OffsetDateTime::from_unix_timestamp(1_700_000_000 + uid as i64).unwrap(),
            started_at: None,
            finished_at: None,
            payload_seal: None,
            custom_metadata: None,
        }
    }

    fn update(uid: u32, rule: &str, body: Value) -> Task {
        let update = RuleUpdate::from_json(&body).unwrap().to_json();
        task(
            uid,
            TaskKind::DynamicSearchRuleUpdate {
                uid: rule.into(),
                update,
            },
        )
    }

    #[test]
    fn batches_apply_in_order_and_round_trip_through_the_record() {
        let rules = RuleSet::default();
        let (rules, details) = rules.apply(&[
            update(0, "a", json!({"description": "promo one", "precedence": 2})),
            update(1, "b", json!({"description": "other", "active": false})),
            update(2, "a", json!({"active": false})),
            task(3, TaskKind::DynamicSearchRuleDeletion { uid: "zzz".into() }),
        ]);
        assert_eq!(details.len(), 4);
        assert_eq!(
            details[2].1,
            json!({"rule": {"active": false}, "updatedRules": 1})
        );
        assert_eq!(details[3].1, json!({"updatedRules": 1}));
        let a = rules.get("a").unwrap();
        assert_eq!(a.description.as_deref(), Some("promo one"));
        assert!(!a.active);
        assert_eq!(a.precedence, Some(2));
        let reloaded = RuleSet::from_record(Some(&rules.to_record()));
        assert_eq!(reloaded.to_record(), rules.to_record());

        // Listing: most recently changed first, `active` and `query` filters.
        let all = ListRules::default();
        let (page, total) = reloaded.list(&all);
        assert_eq!(total, 2);
        assert_eq!(
            page.iter().map(|r| r.uid.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        let promo = ListRules {
            query: Some("Promo".into()),
            ..ListRules::default()
        };
        assert_eq!(reloaded.list(&promo).1, 1);
        let active = ListRules {
            active: Some(true),
            ..ListRules::default()
        };
        assert_eq!(reloaded.list(&active).1, 0);

        let (cleared, details) = reloaded.apply(&[
            update(4, "c", json!({})),
            task(5, TaskKind::DynamicSearchRulesClear),
        ]);
        assert!(cleared.is_empty());
        assert_eq!(details[1].1, json!({"deletedDocuments": 3}));
    }
}
