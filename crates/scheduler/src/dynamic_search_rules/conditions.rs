//! Which rules apply to a search, as Meilisearch 1.50 decides it: the rule is `active`, the
//! search happens inside its time window, its query condition holds (the query is empty, or
//! not, or holds every word of `words`), and its filter condition holds (the search's filter
//! constrains, in one of its alternatives, as many attributes to the rule's values as the
//! rule has values).

use std::collections::{BTreeMap, HashSet};

use quarry_engine::analysis::Analyzer;
use quarry_engine::facet::{normalize, parse_number};
use quarry_engine::filter::{Condition, FilterExpr};
use quarry_engine::search::{parse, QueryPart};
use quarry_engine::IndexSettings;
use serde_json::Value;
use time::OffsetDateTime;

use super::Compiled;

/// At most this many distinct query words are compared with a rule's `words`
/// (Meilisearch's default `maxCountedWords` fuel).
const MAX_COUNTED_WORDS: usize = 10;

/// What the rules look at in a search.
#[derive(Debug, Clone)]
pub struct SearchFacts<'a> {
    pub index_uid: &'a str,
    /// The distinct words of `q` outside phrases and negations, as the index analyzes them,
    /// sorted.
    pub words: Vec<String>,
    /// `q` has no word or phrase to look for (absent, blank, or negations only).
    pub query_is_empty: bool,
    /// The search's filter, tenant-token filter included.
    pub filter: Option<&'a FilterExpr>,
    pub now: OffsetDateTime,
}

impl<'a> SearchFacts<'a> {
    pub fn new(
        index_uid: &'a str,
        settings: &IndexSettings,
        q: Option<&str>,
        filter: Option<&'a FilterExpr>,
        now: OffsetDateTime,
    ) -> SearchFacts<'a> {
        let parsed = parse(&Analyzer::new(settings), q.unwrap_or(""));
        let mut words: Vec<String> = parsed
            .parts
            .iter()
            .filter_map(|part| match part {
                QueryPart::Word(word) => Some(word.text.clone()),
                QueryPart::Phrase(_) => None,
            })
            .collect();
        words.sort_unstable();
        words.dedup();
        SearchFacts {
            index_uid,
            words,
            query_is_empty: parsed.parts.is_empty(),
            filter,
            now,
        }
    }
}

/// Whether every condition of the rule holds for the search.
pub(super) fn applies(compiled: &Compiled, facts: &SearchFacts<'_>) -> bool {
    let rule = &compiled.rule;
    if !rule.active {
        return false;
    }
    if let Some(time) = &rule.conditions.time {
        if time.start.is_some_and(|start| start > facts.now)
            || time.end.is_some_and(|end| end < facts.now)
        {
            return false;
        }
    }
    if let Some(query) = &rule.conditions.query {
        if query
            .is_empty
            .is_some_and(|empty| empty != facts.query_is_empty)
        {
            return false;
        }
        if query.words.is_some() && !words_hold(&compiled.condition_words, &facts.words) {
            return false;
        }
    }
    match &rule.conditions.filter {
        Some(condition) => filter_holds(&condition.values, facts.filter),
        None => true,
    }
}

/// A `words` condition of `n` words (repeats counted) holds when `n` of the first (in
/// alphabetical order) ten distinct query words are among them.
fn words_hold(condition: &[String], query: &[String]) -> bool {
    let needed = condition.len();
    if needed == 0 {
        return true;
    }
    let counted = &query[..query.len().min(MAX_COUNTED_WORDS)];
    if needed > counted.len() {
        return false;
    }
    let wanted: HashSet<&str> = condition.iter().map(String::as_str).collect();
    counted
        .iter()
        .filter(|w| wanted.contains(w.as_str()))
        .count()
        >= needed
}

/// A value of a rule's filter condition, compared as Meilisearch compares facet values.
#[derive(Debug, Clone)]
enum Leaf {
    /// A string or a boolean, normalized.
    Text(String),
    Number(f64),
}

/// The values of a filter condition by attribute path (objects add their keys to the path,
/// arrays hold several values, `null` holds none), and their number.
fn leaves(values: &BTreeMap<String, Value>) -> (BTreeMap<String, Vec<Leaf>>, usize) {
    fn walk(path: String, value: &Value, out: &mut BTreeMap<String, Vec<Leaf>>, n: &mut usize) {
        let leaf = match value {
            Value::Null => return,
            Value::Bool(b) => Leaf::Text(b.to_string()),
            Value::Number(number) => Leaf::Number(number.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Leaf::Text(normalize(s)),
            Value::Array(items) => {
                for item in items {
                    walk(path.clone(), item, out, n);
                }
                return;
            }
            Value::Object(fields) => {
                for (key, item) in fields {
                    walk(format!("{path}.{key}"), item, out, n);
                }
                return;
            }
        };
        *n += 1;
        out.entry(path).or_default().push(leaf);
    }
    let mut out = BTreeMap::new();
    let mut n = 0;
    for (key, value) in values {
        walk(key.clone(), value, &mut out, &mut n);
    }
    (out, n)
}

/// A rule with `n` filter values applies when one alternative of the search's filter has `n`
/// attributes whose constraints the rule's values satisfy. A rule with no value always does;
/// a search without filter satisfies none.
fn filter_holds(values: &BTreeMap<String, Value>, filter: Option<&FilterExpr>) -> bool {
    let (leaves, needed) = leaves(values);
    if needed == 0 {
        return true;
    }
    let Some(filter) = filter else {
        return false;
    };
    let alternatives = alternatives(filter);
    alternatives.iter().any(|alternative| {
        alternative.len() >= needed
            && alternative
                .iter()
                .filter(|(target, constraints)| match target {
                    Target::Field(field) => leaves
                        .get(field)
                        .is_some_and(|values| satisfies(values, constraints)),
                    Target::Geo => false,
                })
                .count()
                >= needed
    })
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Field(String),
    Geo,
}

/// One condition of an alternative, positive or negated.
#[derive(Debug, Clone)]
struct Constraint {
    condition: Condition,
    positive: bool,
}

/// An alternative: the constraints the filter puts on each attribute, all to hold at once.
type Alternative = BTreeMap<Target, Vec<Constraint>>;

/// The fuel Meilisearch gives the decomposition of a filter (`OR` items, `AND` combinations,
/// nesting depth); what lies past it is left out.
struct Fuel {
    or: u32,
    and: u32,
    depth: u32,
}

impl Fuel {
    fn take(counter: &mut u32) -> bool {
        *counter = counter.saturating_sub(1);
        *counter > 0
    }
}

/// The filter as alternatives (a disjunction of conjunctions), negations pushed to the
/// conditions.
fn alternatives(filter: &FilterExpr) -> Vec<Alternative> {
    let mut fuel = Fuel {
        or: 100,
        and: 100,
        depth: 25,
    };
    let mut out = Vec::new();
    decompose(filter, true, &mut fuel, &mut out);
    out
}

fn decompose(filter: &FilterExpr, positive: bool, fuel: &mut Fuel, out: &mut Vec<Alternative>) {
    if !Fuel::take(&mut fuel.depth) {
        return;
    }
    match filter {
        FilterExpr::Not(inner) => decompose(inner, !positive, fuel, out),
        FilterExpr::Condition {
            field, condition, ..
        } => {
            let (condition, flipped) = base_condition(condition);
            let positive = positive != flipped;
            match condition {
                Condition::In(values) => {
                    // As an OR of equalities.
                    let equalities: Vec<FilterExpr> = values
                        .iter()
                        .map(|v| FilterExpr::Condition {
                            field: field.clone(),
                            condition: Condition::Equal(v.clone()),
                            span: (0, 0),
                        })
                        .collect();
                    decompose(&FilterExpr::Or(equalities), positive, fuel, out);
                }
                condition => out.push(Alternative::from([(
                    Target::Field(field.clone()),
                    vec![Constraint {
                        condition,
                        positive,
                    }],
                )])),
            }
        }
        FilterExpr::Or(items) if positive => each(items, true, fuel, out),
        FilterExpr::And(items) if !positive => each(items, false, fuel, out),
        FilterExpr::Or(items) | FilterExpr::And(items) => {
            out.extend(conjunction(items, positive, fuel))
        }
        // Searches hand their foreign filters resolved (as `IN` conditions); one left as is
        // depends on another index, which no rule condition looks at, as geo filters.
        FilterExpr::GeoRadius { .. }
        | FilterExpr::GeoBoundingBox { .. }
        | FilterExpr::GeoPolygon(_)
        | FilterExpr::Foreign { .. } => out.push(Alternative::from([(Target::Geo, Vec::new())])),
    }
    fuel.depth += 1;
}

/// Each item is an alternative of its own.
fn each(items: &[FilterExpr], positive: bool, fuel: &mut Fuel, out: &mut Vec<Alternative>) {
    for item in items {
        if !Fuel::take(&mut fuel.or) {
            break;
        }
        decompose(item, positive, fuel, out);
    }
}

/// Every item must hold: the alternatives of the items combined pairwise.
fn conjunction(items: &[FilterExpr], positive: bool, fuel: &mut Fuel) -> Vec<Alternative> {
    let mut combined: Vec<Alternative> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let mut local = Vec::new();
        decompose(item, positive, fuel, &mut local);
        if i == 0 || combined.is_empty() {
            combined.append(&mut local);
            continue;
        }
        let mut next = Vec::new();
        'pairs: for left in &combined {
            for right in &local {
                if !Fuel::take(&mut fuel.and) {
                    break 'pairs;
                }
                let mut merged = left.clone();
                for (target, constraints) in right {
                    merged
                        .entry(target.clone())
                        .or_default()
                        .extend(constraints.iter().cloned());
                }
                next.push(merged);
            }
        }
        combined = next;
    }
    combined
}

/// A negative condition as its positive form and `true` (`!=` is a negated `=`...).
fn base_condition(condition: &Condition) -> (Condition, bool) {
    use Condition::*;
    match condition {
        NotEqual(v) => (Equal(v.clone()), true),
        NotIn(v) => (In(v.clone()), true),
        NotExists => (Exists, true),
        IsNotNull => (IsNull, true),
        IsNotEmpty => (IsEmpty, true),
        NotContains(v) => (Contains(v.clone()), true),
        NotStartsWith(v) => (StartsWith(v.clone()), true),
        other => (other.clone(), false),
    }
}

/// Whether the rule's values of one attribute satisfy every constraint on it.
fn satisfies(values: &[Leaf], constraints: &[Constraint]) -> bool {
    for constraint in constraints {
        let any = |test: &dyn Fn(&Leaf) -> bool| values.iter().any(test);
        let selected = match &constraint.condition {
            Condition::Equal(v) => {
                let (text, number) = (normalize(v), parse_number(v));
                any(&|leaf| match leaf {
                    Leaf::Text(t) => *t == text,
                    Leaf::Number(n) => number == Some(*n),
                })
            }
            Condition::GreaterThan(v) => any(&|leaf| in_range(leaf, Some((v, false)), None)),
            Condition::GreaterThanOrEqual(v) => any(&|leaf| in_range(leaf, Some((v, true)), None)),
            Condition::LowerThan(v) => any(&|leaf| in_range(leaf, None, Some((v, false)))),
            Condition::LowerThanOrEqual(v) => any(&|leaf| in_range(leaf, None, Some((v, true)))),
            Condition::Between { from, to } => {
                any(&|leaf| in_range(leaf, Some((from, true)), Some((to, true))))
            }
            // Existence says nothing of the values: it holds for every rule.
            Condition::Exists => true,
            Condition::IsNull | Condition::IsEmpty => false,
            // Meilisearch cannot match these against rule values: the attribute is never
            // satisfied, negated or not.
            Condition::Contains(_) | Condition::StartsWith(_) => return false,
            // Already rewritten by `base_condition` and `decompose`.
            _ => false,
        };
        if selected != constraint.positive {
            return false;
        }
    }
    true
}

/// Whether a value lies between the bounds (each a text and whether it is included): texts
/// compare with texts in normalized order, numbers with numbers.
fn in_range(leaf: &Leaf, low: Option<(&String, bool)>, high: Option<(&String, bool)>) -> bool {
    let within = |bound: Option<(&String, bool)>, is_low: bool| {
        let Some((bound, included)) = bound else {
            return true;
        };
        let order = match leaf {
            Leaf::Text(text) => text.as_str().cmp(normalize(bound).as_str()),
            Leaf::Number(n) => match parse_number(bound).and_then(|b| n.partial_cmp(&b)) {
                Some(order) => order,
                None => return false,
            },
        };
        match (is_low, included) {
            (true, true) => order.is_ge(),
            (true, false) => order.is_gt(),
            (false, true) => order.is_le(),
            (false, false) => order.is_lt(),
        }
    };
    within(low, true) && within(high, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quarry_engine::filter::parse_filter;
    use serde_json::json;

    fn values(v: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    fn holds(rule: Value, filter: &str) -> bool {
        let filter = parse_filter(filter).unwrap();
        filter_holds(&values(rule), filter.as_ref())
    }

    #[test]
    fn filter_conditions_follow_meilisearch() {
        let one = json!({"genres": "action"});
        let two = json!({"genres": "Action", "series": "batman"});
        let cases: &[(&Value, &str, bool)] = &[
            (&one, "genres = action", true),
            (&one, "genres = Action", true),
            (&one, "series = batman AND genres = action", true),
            (&one, "series = batman OR genres = action", true),
            (&one, "genres = drama", false),
            (&one, "genres != drama", true),
            (&one, "genres != action", false),
            (&one, "NOT genres = action", false),
            (&one, "genres IN [drama, action]", true),
            (&one, "genres NOT IN [drama, action]", false),
            (&one, "genres EXISTS", true),
            (&one, "genres IS NULL", false),
            (&one, "", false),
            (&two, "genres = action", false),
            (&two, "genres = Action AND series = Batman", true),
            (&two, "genres = action OR series = batman", false),
            (
                &two,
                "(genres = action AND series = batman) OR year > 3",
                true,
            ),
        ];
        for (rule, filter, expected) in cases {
            let got = if filter.is_empty() {
                filter_holds(&values((*rule).clone()), None)
            } else {
                holds((*rule).clone(), filter)
            };
            assert_eq!(got, *expected, "{rule} with `{filter}`");
        }
        assert!(holds(json!({"year": 2020}), "year > 2000"));
        assert!(holds(json!({"year": 2020}), "year 2000 TO 2020"));
        assert!(!holds(json!({"year": 2020}), "year < 2000"));
        assert!(holds(json!({"year": 2020}), "year = 2020.0"));
        assert!(holds(json!({}), "anything = 1"));
    }

    #[test]
    fn words_conditions_need_every_word() {
        let w = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(words_hold(&w(&["returns"]), &w(&["batman", "returns"])));
        assert!(!words_hold(&w(&["mario", "luigi"]), &w(&["mario"])));
        assert!(words_hold(&w(&["mario", "luigi"]), &w(&["luigi", "mario"])));
        // Repeated words count twice but match once.
        assert!(!words_hold(&w(&["mario", "mario"]), &w(&["mario"])));
        assert!(words_hold(&w(&[]), &w(&[])));
    }
}
