//! Filters over real HTTP on the real corpora, checked against a straightforward reference
//! evaluation of the same filter over the decoded documents: every operator by hand, then a
//! seeded random walk through the grammar (the seed is printed; `QUARRY_FILTER_SEED` replays
//! one). Movies (every field filterable), a slice of debian (its `tags` arrays), and movies
//! reshaped into nested objects and arrays of objects. Also the errors: a filter on an
//! attribute that is not filterable, and operators a rule's features forbid.

mod common;

use std::sync::OnceLock;

use common::*;
use serde_json::{json, Value};

const DEBIAN_SLICE: usize = 15_000;

/// Creates an index with `settings`, loads `docs`, and returns its uid.
fn load(prefix: &str, settings: Value, docs: &[Value]) -> String {
    let server = server();
    // `CONTAINS` is behind an experimental feature, as in Meilisearch; these tests use it.
    server
        .patch("/experimental-features", json!({"containsFilter": true}))
        .expect(200);
    let uid = unique_uid(prefix);
    server.create_index(&uid, Some("id"));
    let task = server
        .patch(&format!("/indexes/{uid}/settings"), settings)
        .task_uid();
    wait_long(task);
    let body: Vec<u8> = docs
        .iter()
        .flat_map(|d| {
            let mut line = serde_json::to_vec(d).unwrap();
            line.push(b'\n');
            line
        })
        .collect();
    let task = server
        .raw(
            "POST",
            &format!("/indexes/{uid}/documents"),
            Some("application/x-ndjson"),
            body,
        )
        .task_uid();
    wait_long(task);
    uid
}

fn movies_index() -> &'static str {
    static UID: OnceLock<String> = OnceLock::new();
    UID.get_or_init(|| {
        load(
            "filters_movies",
            json!({"filterableAttributes": ["*"], "pagination": {"maxTotalHits": 100000}}),
            movies(),
        )
    })
}

fn debian_docs() -> &'static [Value] {
    static DOCS: OnceLock<Vec<Value>> = OnceLock::new();
    DOCS.get_or_init(|| read_corpus("debian", DEBIAN_SLICE))
}

fn debian_index() -> &'static str {
    static UID: OnceLock<String> = OnceLock::new();
    UID.get_or_init(|| {
        load(
            "filters_debian",
            json!({
                "searchableAttributes": ["package", "summary"],
                "filterableAttributes": ["section", "priority", "architecture", "tags", "maintainer", "installed_size_kb", "download_size_bytes", "version"],
                "pagination": {"maxTotalHits": 100000}
            }),
            debian_docs(),
        )
    })
}

/// Movies reshaped: nested objects, arrays of objects, nulls and empty values.
fn nested_docs() -> &'static [Value] {
    static DOCS: OnceLock<Vec<Value>> = OnceLock::new();
    DOCS.get_or_init(|| {
        movies()
            .iter()
            .take(1500)
            .map(|m| {
                let id = m["id"].as_u64().unwrap();
                let mut credits = Vec::new();
                if let Some(d) = m.get("director") {
                    credits.push(json!({"role": "director", "name": d}));
                }
                if let Some(d) = m.get("distributor") {
                    credits.push(json!({"role": "distributor", "name": d}));
                }
                let extra = match id % 5 {
                    0 => Value::Null,
                    1 => json!(""),
                    2 => json!([]),
                    3 => json!({}),
                    _ => json!([m["mpaa_rating"].clone(), id % 7]),
                };
                json!({
                    "id": id,
                    "title": m["title"],
                    "info": {"rating": {"imdb": m.get("imdb_rating")}, "year": m.get("release_year"), "genre": m.get("major_genre")},
                    "credits": credits,
                    "extra": extra,
                })
            })
            .collect()
    })
}

fn nested_index() -> &'static str {
    static UID: OnceLock<String> = OnceLock::new();
    UID.get_or_init(|| {
        load(
            "filters_nested",
            json!({"filterableAttributes": ["info", "credits.name", "credits.role", "extra", "title"], "pagination": {"maxTotalHits": 100000}}),
            nested_docs(),
        )
    })
}

// ---------------------------------------------------------------------------------------------
// The reference evaluator.

#[derive(Debug, Clone)]
enum Expr {
    Cond(String, Op),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

#[derive(Debug, Clone)]
enum Op {
    Eq(String),
    Ne(String),
    Gt(String),
    Ge(String),
    Lt(String),
    Le(String),
    To(String, String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    NotExists,
    IsNull,
    IsNotNull,
    IsEmpty,
    IsNotEmpty,
    Contains(String),
    NotContains(String),
    StartsWith(String),
    NotStartsWith(String),
}

fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

fn num(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Every (path, value) of a document: objects add their keys to the path, arrays are
/// transparent (each item is a value of the array's path).
fn occurrences<'a>(path: &str, value: &'a Value, out: &mut Vec<(String, &'a Value)>) {
    out.push((path.to_string(), value));
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                occurrences(&format!("{path}.{k}"), v, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                occurrences(path, item, out);
            }
        }
        _ => {}
    }
}

fn values_of<'a>(doc: &'a Value, field: &str) -> Vec<&'a Value> {
    let mut all = Vec::new();
    for (k, v) in doc.as_object().unwrap() {
        occurrences(k, v, &mut all);
    }
    all.into_iter()
        .filter(|(p, _)| p == field)
        .map(|(_, v)| v)
        .collect()
}

/// The string a value compares as, if it compares as a string.
fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(norm(s)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn in_range(v: &Value, lo: Option<(&str, bool)>, hi: Option<(&str, bool)>) -> bool {
    if let Value::Number(n) = v {
        let n = n.as_f64().unwrap();
        let lo_n = lo.map(|(s, inc)| num(s).map(|x| (x, inc)));
        let hi_n = hi.map(|(s, inc)| num(s).map(|x| (x, inc)));
        if lo_n.is_some_and(|b| b.is_none()) || hi_n.is_some_and(|b| b.is_none()) {
            return false;
        }
        let ok_lo = lo_n
            .flatten()
            .is_none_or(|(x, inc)| if inc { n >= x } else { n > x });
        let ok_hi = hi_n
            .flatten()
            .is_none_or(|(x, inc)| if inc { n <= x } else { n < x });
        return ok_lo && ok_hi;
    }
    let Some(t) = as_text(v) else { return false };
    let ok_lo = lo.is_none_or(|(s, inc)| {
        let s = norm(s);
        if inc {
            t >= s
        } else {
            t > s
        }
    });
    let ok_hi = hi.is_none_or(|(s, inc)| {
        let s = norm(s);
        if inc {
            t <= s
        } else {
            t < s
        }
    });
    ok_lo && ok_hi
}

fn equals(v: &Value, wanted: &str) -> bool {
    match v {
        Value::Number(n) => num(wanted) == n.as_f64(),
        other => as_text(other).is_some_and(|t| t == norm(wanted)),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn matches(doc: &Value, expr: &Expr) -> bool {
    match expr {
        Expr::Not(e) => !matches(doc, e),
        Expr::And(items) => items.iter().all(|e| matches(doc, e)),
        Expr::Or(items) => items.iter().any(|e| matches(doc, e)),
        Expr::Cond(field, op) => {
            let values = values_of(doc, field);
            let any = |f: &dyn Fn(&Value) -> bool| values.iter().any(|v| f(v));
            match op {
                Op::Eq(w) => any(&|v| equals(v, w)),
                Op::Ne(w) => !any(&|v| equals(v, w)),
                Op::In(ws) => ws.iter().any(|w| any(&|v| equals(v, w))),
                Op::NotIn(ws) => !ws.iter().any(|w| any(&|v| equals(v, w))),
                Op::Gt(w) => any(&|v| in_range(v, Some((w, false)), None)),
                Op::Ge(w) => any(&|v| in_range(v, Some((w, true)), None)),
                Op::Lt(w) => any(&|v| in_range(v, None, Some((w, false)))),
                Op::Le(w) => any(&|v| in_range(v, None, Some((w, true)))),
                Op::To(a, b) => any(&|v| in_range(v, Some((a, true)), Some((b, true)))),
                Op::Exists => !values.is_empty(),
                Op::NotExists => values.is_empty(),
                Op::IsNull => any(&|v| v.is_null()),
                Op::IsNotNull => !any(&|v| v.is_null()),
                Op::IsEmpty => any(&is_empty),
                Op::IsNotEmpty => !any(&is_empty),
                Op::Contains(w) => any(&|v| as_text(v).is_some_and(|t| t.contains(&norm(w)))),
                Op::NotContains(w) => !any(&|v| as_text(v).is_some_and(|t| t.contains(&norm(w)))),
                Op::StartsWith(w) => any(&|v| as_text(v).is_some_and(|t| t.starts_with(&norm(w)))),
                Op::NotStartsWith(w) => {
                    !any(&|v| as_text(v).is_some_and(|t| t.starts_with(&norm(w))))
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writing filters as text.

fn quote(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A value as the filter writes it: numbers bare half of the time.
fn lit(v: &str, bare: bool) -> String {
    if bare && num(v).is_some() && !v.contains(' ') {
        v.to_string()
    } else {
        quote(v)
    }
}

fn render(expr: &Expr, bare: bool) -> String {
    match expr {
        Expr::Not(e) => format!("NOT ({})", render(e, bare)),
        Expr::And(items) => items
            .iter()
            .map(|e| format!("({})", render(e, bare)))
            .collect::<Vec<_>>()
            .join(" AND "),
        Expr::Or(items) => items
            .iter()
            .map(|e| format!("({})", render(e, bare)))
            .collect::<Vec<_>>()
            .join(" OR "),
        Expr::Cond(field, op) => {
            let f = field;
            let l = |v: &String| lit(v, bare);
            let list = |vs: &Vec<String>| vs.iter().map(l).collect::<Vec<_>>().join(", ");
            match op {
                Op::Eq(v) => format!("{f} = {}", l(v)),
                Op::Ne(v) => format!("{f} != {}", l(v)),
                Op::Gt(v) => format!("{f} > {}", l(v)),
                Op::Ge(v) => format!("{f} >= {}", l(v)),
                Op::Lt(v) => format!("{f} < {}", l(v)),
                Op::Le(v) => format!("{f} <= {}", l(v)),
                Op::To(a, b) => format!("{f} {} TO {}", l(a), l(b)),
                Op::In(vs) => format!("{f} IN [{}]", list(vs)),
                Op::NotIn(vs) => format!("{f} NOT IN [{}]", list(vs)),
                Op::Exists => format!("{f} EXISTS"),
                Op::NotExists => format!("{f} NOT EXISTS"),
                Op::IsNull => format!("{f} IS NULL"),
                Op::IsNotNull => format!("{f} IS NOT NULL"),
                Op::IsEmpty => format!("{f} IS EMPTY"),
                Op::IsNotEmpty => format!("{f} IS NOT EMPTY"),
                Op::Contains(v) => format!("{f} CONTAINS {}", quote(v)),
                Op::NotContains(v) => format!("{f} NOT CONTAINS {}", quote(v)),
                Op::StartsWith(v) => format!("{f} STARTS WITH {}", quote(v)),
                Op::NotStartsWith(v) => format!("{f} NOT STARTS WITH {}", quote(v)),
            }
        }
    }
}

/// The ids the server answers for `filter` (a string or the array form), all of them.
fn server_ids(index: &str, filter: Value) -> Vec<u64> {
    let body = server().search(
        index,
        json!({"filter": filter, "limit": 100000, "attributesToRetrieve": ["id"]}),
    );
    let mut ids: Vec<u64> = body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

fn reference_ids(docs: &[Value], expr: &Expr) -> Vec<u64> {
    let mut ids: Vec<u64> = docs
        .iter()
        .filter(|d| matches(d, expr))
        .map(|d| d["id"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

#[track_caller]
fn check(index: &str, docs: &[Value], expr: &Expr) -> usize {
    let text = render(expr, true);
    let expected = reference_ids(docs, expr);
    let got = server_ids(index, json!(text));
    assert_eq!(
        got.len(),
        expected.len(),
        "filter `{text}` on {index}: {} hits, the reference has {}",
        got.len(),
        expected.len()
    );
    assert_eq!(got, expected, "filter `{text}` on {index}");
    expected.len()
}

fn c(field: &str, op: Op) -> Expr {
    Expr::Cond(field.to_string(), op)
}

fn s(v: &str) -> String {
    v.to_string()
}

#[test]
fn every_operator_on_movies() {
    let index = movies_index();
    let docs = movies();
    let cases = vec![
        c("major_genre", Op::Eq(s("Drama"))),
        c("major_genre", Op::Eq(s("  drama "))),
        c("major_genre", Op::Ne(s("Drama"))),
        c("release_year", Op::Eq(s("1998"))),
        c("release_year", Op::Gt(s("2005"))),
        c("release_year", Op::Ge(s("2005"))),
        c("release_year", Op::Lt(s("1950"))),
        c("release_year", Op::Le(s("1950"))),
        c("imdb_rating", Op::To(s("7.5"), s("8.1"))),
        c("imdb_rating", Op::Gt(s("-1"))),
        c(
            "mpaa_rating",
            Op::In(vec![s("PG"), s("pg-13"), s("nothing")]),
        ),
        c("mpaa_rating", Op::NotIn(vec![s("R"), s("PG")])),
        c("mpaa_rating", Op::Gt(s("pg"))),
        c("director", Op::To(s("a"), s("c"))),
        c("major_genre", Op::Exists),
        c("major_genre", Op::NotExists),
        c("director", Op::IsNull),
        c("director", Op::IsNotNull),
        c("title", Op::IsEmpty),
        c("title", Op::IsNotEmpty),
        c("title", Op::Contains(s("love"))),
        c("title", Op::NotContains(s("the"))),
        c("title", Op::StartsWith(s("the "))),
        c("title", Op::NotStartsWith(s("a"))),
        c("title", Op::Eq(s("The Land Girls"))),
        Expr::Not(Box::new(c("release_year", Op::Gt(s("2000"))))),
        Expr::And(vec![
            c("major_genre", Op::Eq(s("Comedy"))),
            c("imdb_rating", Op::Ge(s("7"))),
        ]),
        Expr::Or(vec![
            c("major_genre", Op::Eq(s("Horror"))),
            Expr::And(vec![
                c("mpaa_rating", Op::Eq(s("G"))),
                Expr::Not(Box::new(c("release_year", Op::Lt(s("1990"))))),
            ]),
        ]),
    ];
    for case in &cases {
        check(index, docs, case);
    }
    // A case that selects something and one that selects nothing are both meaningful.
    assert!(check(index, docs, &cases[0]) > 100);
    assert_eq!(
        check(index, docs, &c("major_genre", Op::Eq(s("no such genre")))),
        0
    );
    // The array form: strings are ANDed, inner arrays ORed.
    let expr = Expr::And(vec![
        Expr::Or(vec![
            c("major_genre", Op::Eq(s("Comedy"))),
            c("major_genre", Op::Eq(s("Drama"))),
        ]),
        c("release_year", Op::Ge(s("2000"))),
    ]);
    let got = server_ids(
        index,
        json!([
            ["major_genre = Comedy", "major_genre = Drama"],
            "release_year >= 2000"
        ]),
    );
    assert_eq!(got, reference_ids(docs, &expr));
}

#[test]
fn arrays_on_debian() {
    let index = debian_index();
    let docs = debian_docs();
    let cases = vec![
        c("tags", Op::Eq(s("role::program"))),
        c("tags", Op::Ne(s("role::program"))),
        c(
            "tags",
            Op::In(vec![s("use::gameplaying"), s("game::strategy")]),
        ),
        c("tags", Op::StartsWith(s("interface::"))),
        c("tags", Op::Exists),
        c("tags", Op::NotExists),
        c("tags", Op::IsEmpty),
        c("section", Op::Eq(s("games"))),
        c("installed_size_kb", Op::To(s("100"), s("1000"))),
        c("installed_size_kb", Op::Gt(s("100000"))),
        c("priority", Op::NotIn(vec![s("optional")])),
        Expr::And(vec![
            c("section", Op::Eq(s("sound"))),
            c("installed_size_kb", Op::Lt(s("10240"))),
        ]),
        Expr::And(vec![
            c("tags", Op::Eq(s("role::program"))),
            Expr::Not(Box::new(c("tags", Op::Eq(s("interface::x11"))))),
        ]),
    ];
    for case in &cases {
        check(index, docs, case);
    }
    assert!(check(index, docs, &cases[0]) > 100);
}

#[test]
fn nested_fields_and_arrays_of_objects() {
    let index = nested_index();
    let docs = nested_docs();
    let cases = vec![
        c("info.rating.imdb", Op::Gt(s("7"))),
        c("info.year", Op::To(s("1990"), s("1995"))),
        c("info.genre", Op::Eq(s("drama"))),
        c("info.rating.imdb", Op::IsNull),
        c("info", Op::Exists),
        c("credits.name", Op::Eq(s("Steven Spielberg"))),
        c("credits.role", Op::Eq(s("director"))),
        c("credits.role", Op::NotExists),
        c("extra", Op::IsNotNull),
        c("extra", Op::IsNull),
        c("extra", Op::IsEmpty),
        c("extra", Op::IsNotEmpty),
        c("extra", Op::Eq(s("3"))),
        c("extra", Op::Eq(s("R"))),
        c("extra", Op::Exists),
    ];
    for case in &cases {
        check(index, docs, case);
    }
}

// ---------------------------------------------------------------------------------------------
// Random filters from the grammar.

/// splitmix64: a small, seedable generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A value to compare with: one met in the corpus at that field (case changed at times), or a
/// number or word near them.
fn random_value(rng: &mut Rng, docs: &[Value], field: &str) -> String {
    for _ in 0..20 {
        let doc = rng.pick(docs);
        let values = values_of(doc, field);
        if values.is_empty() {
            continue;
        }
        let v = values[rng.below(values.len())];
        let text = match v {
            Value::String(s) => match rng.below(3) {
                0 => s.to_uppercase(),
                1 => s.chars().take(1 + rng.below(4)).collect(),
                _ => s.clone(),
            },
            Value::Number(n) => {
                let f = n.as_f64().unwrap();
                match rng.below(3) {
                    0 => format!("{}", f + 0.5),
                    _ => n.to_string(),
                }
            }
            Value::Bool(b) => b.to_string(),
            _ => continue,
        };
        return text;
    }
    (rng.below(3000) as i64 - 10).to_string()
}

fn random_op(rng: &mut Rng, docs: &[Value], field: &str) -> Op {
    let mut v = || random_value(rng, docs, field);
    let (a, b) = (v(), v());
    let list: Vec<String> = (0..1 + (a.len() % 3)).map(|_| v()).collect();
    match rng.below(19) {
        0 => Op::Eq(a),
        1 => Op::Ne(a),
        2 => Op::Gt(a),
        3 => Op::Ge(a),
        4 => Op::Lt(a),
        5 => Op::Le(a),
        6 => Op::To(a, b),
        7 => Op::In(list),
        8 => Op::NotIn(list),
        9 => Op::Exists,
        10 => Op::NotExists,
        11 => Op::IsNull,
        12 => Op::IsNotNull,
        13 => Op::IsEmpty,
        14 => Op::IsNotEmpty,
        15 => Op::Contains(a.chars().take(3).collect()),
        16 => Op::NotContains(a.chars().take(3).collect()),
        17 => Op::StartsWith(a.chars().take(2).collect()),
        _ => Op::NotStartsWith(a.chars().take(2).collect()),
    }
}

fn random_expr(rng: &mut Rng, docs: &[Value], fields: &[&str], depth: usize) -> Expr {
    let kind = if depth == 0 { 0 } else { rng.below(5) };
    match kind {
        0 | 1 => {
            let field = *rng.pick(fields);
            c(field, random_op(rng, docs, field))
        }
        2 => Expr::Not(Box::new(random_expr(rng, docs, fields, depth - 1))),
        3 => Expr::And(
            (0..2 + rng.below(2))
                .map(|_| random_expr(rng, docs, fields, depth - 1))
                .collect(),
        ),
        _ => Expr::Or(
            (0..2 + rng.below(2))
                .map(|_| random_expr(rng, docs, fields, depth - 1))
                .collect(),
        ),
    }
}

fn seed() -> u64 {
    let seed = std::env::var("QUARRY_FILTER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("filter property test seed: {seed} (replay with QUARRY_FILTER_SEED={seed})");
    seed
}

fn property(index: &str, docs: &[Value], fields: &[&str], rounds: usize) {
    let seed = seed();
    let mut rng = Rng(seed);
    for round in 0..rounds {
        let expr = random_expr(&mut rng, docs, fields, 3);
        let bare = rng.below(2) == 0;
        let text = render(&expr, bare);
        let expected = reference_ids(docs, &expr);
        let got = server_ids(index, json!(text));
        assert!(
            got == expected,
            "seed {seed}, round {round}: filter `{text}`: {} hits, the reference has {}",
            got.len(),
            expected.len()
        );
    }
}

#[test]
fn random_filters_on_movies() {
    let fields = [
        "title",
        "major_genre",
        "mpaa_rating",
        "director",
        "release_year",
        "imdb_rating",
        "us_gross",
        "creative_type",
        "source",
        "running_time_min",
        "no_such_field",
    ];
    property(movies_index(), movies(), &fields, 250);
}

#[test]
fn random_filters_on_debian_and_nested() {
    let fields = [
        "tags",
        "section",
        "priority",
        "installed_size_kb",
        "maintainer",
    ];
    property(debian_index(), debian_docs(), &fields, 40);
    let fields = [
        "info.rating.imdb",
        "info.year",
        "info.genre",
        "credits.name",
        "credits.role",
        "extra",
        "title",
    ];
    property(nested_index(), nested_docs(), &fields, 150);
}

#[test]
fn filters_on_attributes_that_are_not_filterable() {
    let index = debian_index();
    let body = server()
        .post(
            &format!("/indexes/{index}/search"),
            json!({"filter": "section = games AND package = 0ad"}),
        )
        .expect(400);
    assert_error_body(&body, "invalid_search_filter", "invalid_request");
    assert_eq!(
        body["message"],
        "Attribute `package` is not filterable. Available filterable attribute patterns are: `architecture`, `download_size_bytes`, `installed_size_kb`, `maintainer`, `priority`, `section`, `tags`, `version`.\n21:28 section = games AND package = 0ad"
    );
    // In the array form the position is within the string that uses the attribute.
    let body = server()
        .post(
            &format!("/indexes/{index}/search"),
            json!({"filter": ["section = games", ["summary = x"]]}),
        )
        .expect(400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .ends_with("\n1:8 summary = x"),
        "{body}"
    );
    // An index without filterable attributes says so.
    let uid = unique_uid("filters_none");
    server().create_index(&uid, Some("id"));
    server().add_documents(&uid, some_movies(5));
    let body = server()
        .post(
            &format!("/indexes/{uid}/search"),
            json!({"filter": "title = x"}),
        )
        .expect(400);
    assert_eq!(
        body["message"],
        "Attribute `title` is not filterable. This index does not have configured filterable attributes.\n1:6 title = x"
    );
    // A syntax error still points at the mistake.
    let body = server()
        .post(
            &format!("/indexes/{index}/search"),
            json!({"filter": "section = "}),
        )
        .expect(400);
    assert_error_body(&body, "invalid_search_filter", "invalid_request");
}

#[test]
fn rule_features_limit_the_operators() {
    let server = server();
    let uid = unique_uid("filters_features");
    server.create_index(&uid, Some("id"));
    let task = server
        .patch(
            &format!("/indexes/{uid}/settings"),
            json!({"filterableAttributes": [
                {"attributePatterns": ["release_*"], "features": {"facetSearch": false, "filter": {"equality": true, "comparison": false}}},
                {"attributePatterns": ["imdb_*"], "features": {"facetSearch": false, "filter": {"equality": false, "comparison": true}}}
            ]}),
        )
        .task_uid();
    server.wait_ok(task);
    server.add_documents(&uid, some_movies(200));
    let ok = server.search(
        &uid,
        json!({"filter": "release_year = 1998", "limit": 1000}),
    );
    let expected = movies()[..200]
        .iter()
        .filter(|m| m["release_year"] == 1998)
        .count();
    assert_eq!(ok["hits"].as_array().unwrap().len(), expected);
    assert!(expected > 0);
    server.search(&uid, json!({"filter": "imdb_rating > 7"}));
    let body = server
        .post(
            &format!("/indexes/{uid}/search"),
            json!({"filter": "release_year > 1998"}),
        )
        .expect(400);
    assert_error_body(&body, "invalid_search_filter", "invalid_request");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("Filter operator `>` is not allowed for the attribute `release_year`."),
        "{message}"
    );
    let body = server
        .post(
            &format!("/indexes/{uid}/search"),
            json!({"filter": "imdb_rating = 7"}),
        )
        .expect(400);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("Filter operator `=` is not allowed for the attribute `imdb_rating`."));
}

#[test]
fn filter_restricts_a_keyword_search() {
    let index = movies_index();
    let all = server().search(index, json!({"q": "love", "limit": 100000}));
    let filtered = server().search(
        index,
        json!({"q": "love", "filter": "release_year < 1990", "limit": 100000}),
    );
    let all_ids = hit_ids(&all);
    let filtered_ids = hit_ids(&filtered);
    let expected: Vec<u64> = all_ids
        .iter()
        .copied()
        .filter(|id| {
            movie(*id)["release_year"]
                .as_f64()
                .is_some_and(|y| y < 1990.0)
        })
        .collect();
    assert!(!expected.is_empty() && expected.len() < all_ids.len());
    assert_eq!(filtered_ids, expected);
    assert_eq!(filtered["estimatedTotalHits"], expected.len());
}

// ---------------------------------------------------------------------------------------------
// Geo filters on the airports corpus, against haversine distances computed here.

fn airports() -> &'static [Value] {
    static DOCS: OnceLock<Vec<Value>> = OnceLock::new();
    DOCS.get_or_init(|| read_corpus("airports", usize::MAX))
}

fn airports_index() -> &'static str {
    static UID: OnceLock<String> = OnceLock::new();
    UID.get_or_init(|| {
        load(
            "filters_airports",
            json!({"filterableAttributes": ["_geo", "state"], "pagination": {"maxTotalHits": 100000}}),
            airports(),
        )
    })
}

fn point(doc: &Value) -> (f64, f64) {
    (
        doc["_geo"]["lat"].as_f64().unwrap(),
        doc["_geo"]["lng"].as_f64().unwrap(),
    )
}

/// Great-circle distance in metres (mean Earth radius 6,371,008.8 m).
fn distance(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let dp = p2 - p1;
    let dl = (b.1 - a.1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

fn ids_where(docs: &[Value], keep: impl Fn(&Value) -> bool) -> Vec<u64> {
    let mut ids: Vec<u64> = docs
        .iter()
        .filter(|d| keep(d))
        .map(|d| d["id"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

#[test]
fn geo_radius_and_bounding_box_on_airports() {
    let index = airports_index();
    let docs = airports();
    // Around Chicago, then Denver, with radii in metres.
    for (lat, lng, radius) in [
        (41.8781, -87.6298, 100_000.0),
        (39.7392, -104.9903, 250_000.0),
        (40.0, -100.0, 5_000.0),
    ] {
        // Leave out airports too close to the circle for float rounding to matter.
        let expected = ids_where(docs, |d| distance((lat, lng), point(d)) <= radius);
        let near_edge = docs
            .iter()
            .filter(|d| (distance((lat, lng), point(d)) - radius).abs() < 1.0)
            .count();
        assert_eq!(near_edge, 0);
        let got = server_ids(index, json!(format!("_geoRadius({lat}, {lng}, {radius})")));
        assert_eq!(got, expected, "radius {radius} around {lat},{lng}");
    }
    let expected = ids_where(docs, |d| {
        let (lat, lng) = point(d);
        (30.0..=35.0).contains(&lat) && (-100.0..=-90.0).contains(&lng)
    });
    assert!(expected.len() > 10);
    let got = server_ids(index, json!("_geoBoundingBox([35, -90], [30, -100])"));
    assert_eq!(got, expected);
    // Combined with another condition.
    let expected = ids_where(docs, |d| {
        d["state"] == "TX" && distance((30.0, -97.0), point(d)) <= 300_000.0
    });
    let got = server_ids(index, json!("_geoRadius(30, -97, 300000) AND state = TX"));
    assert_eq!(got, expected);
    assert!(!expected.is_empty());
}

#[test]
fn documents_by_filter() {
    let index = movies_index();
    let expected: Vec<u64> = {
        let expr = c("major_genre", Op::Eq(s("Horror")));
        reference_ids(movies(), &expr)
    };
    let body = server()
        .get(&format!(
            "/indexes/{index}/documents?filter=major_genre%20%3D%20Horror&limit=10000&fields=id"
        ))
        .expect(200);
    assert_eq!(body["total"], expected.len());
    // Listed in primary key order (integer ids by value), not sorted here.
    assert_eq!(listed_ids(&body), expected);
    let body = server()
        .post(
            &format!("/indexes/{index}/documents/fetch"),
            json!({"filter": "major_genre = Horror AND release_year < 1990", "limit": 3, "offset": 1}),
        )
        .expect(200);
    let all = ids_where(movies(), |m| {
        m["major_genre"] == "Horror" && m["release_year"].as_f64().is_some_and(|y| y < 1990.0)
    });
    assert_eq!(body["total"], all.len());
    assert_eq!(listed_ids(&body), all[1..4.min(all.len())].to_vec());
    // A filter and a list of ids: the intersection, in id order, paged after the
    // intersection (the total counts it, not the filter alone). Ids that match nothing and
    // ids that do not exist are left out.
    let wanted: Vec<u64> = expected.iter().copied().step_by(3).take(12).collect();
    let mut ids: Vec<String> = wanted.iter().rev().map(|id| id.to_string()).collect();
    let not_horror = ids_where(movies(), |m| m["major_genre"] == "Drama")[0];
    ids.push(not_horror.to_string());
    ids.push("no-such-movie".to_string());
    let body = server()
        .post(
            &format!("/indexes/{index}/documents/fetch"),
            json!({"filter": "major_genre = Horror", "ids": ids, "offset": 2, "limit": 5, "fields": ["id"]}),
        )
        .expect(200);
    assert_eq!(body["total"], wanted.len(), "{body}");
    assert_eq!(listed_ids(&body), wanted[2..7].to_vec());
    // An offset past the intersection: no documents, the same total.
    let body = server()
        .post(
            &format!("/indexes/{index}/documents/fetch"),
            json!({"filter": "major_genre = Horror", "ids": ids, "offset": 12, "limit": 5}),
        )
        .expect(200);
    assert_eq!(body["total"], wanted.len());
    assert_eq!(body["results"].as_array().unwrap().len(), 0);
    let response = server().post(
        &format!("/indexes/{index}/documents/fetch"),
        json!({"filter": "major_genre = "}),
    );
    assert_error(response, 400, "invalid_document_filter");
}
