//! The ranking rules have fast paths (digests of where words occur, `search/digest.rs`) and a
//! reference path that reads every position and costs every document exactly. This checks, on
//! real corpora and real keystrokes, that both give the same hits in the same order with the
//! same ranking details: the fast paths are optimisations, never changes of behaviour.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::forward_positions::ForwardPositions;
use super::forward_words::ForwardWords;
use super::ranking::{with_ranking_mode, RankingMode};
use super::segment_tables::read_tables_now;
use super::{SearchRequest, SearchResult};
use crate::index::Index;
use crate::settings::{IndexSettings, RankingRule};

pub(super) fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// An index of the first `limit` documents of a corpus, with its searchable attributes.
pub(super) fn corpus_index(corpus: &str, limit: usize, dir: &Path) -> Index {
    let text =
        std::fs::read_to_string(shared().join(format!("data/{corpus}.settings.json"))).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    let settings = IndexSettings {
        searchable_attributes: json["searchableAttributes"].as_array().map(|list| {
            list.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        }),
        ..IndexSettings::default()
    };
    let gz = std::fs::File::open(shared().join(format!("data/{corpus}.ndjson.gz"))).unwrap();
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(gz));
    let lines: Vec<String> = reader.lines().take(limit).map(Result::unwrap).collect();
    super::tests::index_of_lines(&dir.join(corpus), settings, &lines)
}

/// Queries of the Debian sample whose terms have typos, prefixes, a split (`databse`) and
/// concatenations: what the tests of the typo levels look at.
pub(super) const DEBIAN_TYPO_QUERIES: [&str; 5] = [
    "pyhton libary",
    "web serv",
    "librar",
    "text edi",
    "databse client gt",
];

/// Every `step`th keystroke of the corpus's replay file.
fn keystrokes(corpus: &str, step: usize) -> Vec<String> {
    let text =
        std::fs::read_to_string(shared().join(format!("queries/{corpus}.dev.keystrokes.txt")))
            .unwrap();
    text.lines().step_by(step).map(String::from).collect()
}

/// What must agree between the two paths: the ids, in order, with their ranking details.
fn outcome(result: &SearchResult) -> Vec<(Value, Value)> {
    result
        .hits
        .iter()
        .map(|h| {
            (
                h.document().unwrap()["id"].clone(),
                Value::Object(h.ranking_score_details.clone().unwrap_or_default()),
            )
        })
        .collect()
}

fn compare(index: &Index, corpus: &str, queries: &[String], shape: impl Fn(&mut SearchRequest)) {
    // The fast paths find a derivation's words in a few documents through the forward words
    // (`forward_words.rs`), and their occurrences through the forward positions
    // (`forward_positions.rs`), when they are ready; the reference intersects sets and reads
    // postings.
    read_tables_now::<ForwardWords>(index);
    read_tables_now::<ForwardPositions>(index);
    let mut checked = 0;
    for q in queries {
        let mut request = SearchRequest {
            query: Some(q.clone()),
            limit: 20,
            compute_scores: true,
            ..Default::default()
        };
        shape(&mut request);
        let reference =
            with_ranking_mode(RankingMode::Reference, || index.search(&request).unwrap());
        // The default choice between digests and positions, then digests wherever possible.
        for mode in [RankingMode::Fast, RankingMode::DigestsAlways] {
            let fast = with_ranking_mode(mode, || index.search(&request).unwrap());
            assert_eq!(
                fast.candidates, reference.candidates,
                "{corpus}: {q:?}: hit counts differ"
            );
            same_outcome(corpus, q, &request, &outcome(&fast), &outcome(&reference));
        }
        checked += 1;
    }
    assert!(checked > 0);
}

/// Panics at the first hit where a fast path's outcome differs from the reference's.
fn same_outcome(
    corpus: &str,
    q: &str,
    request: &SearchRequest,
    fast: &[(Value, Value)],
    reference: &[(Value, Value)],
) {
    if fast != reference {
        let first = fast
            .iter()
            .zip(reference)
            .position(|(a, b)| a != b)
            .unwrap_or(fast.len().min(reference.len()));
        panic!(
            "{corpus}: {q:?} ({request:?}): rankings differ from hit {first}:\nfast:      {:?}\nreference: {:?}",
            fast.get(first),
            reference.get(first)
        );
    }
}

#[test]
fn fast_ranking_paths_match_the_reference_on_movies_keystrokes() {
    let dir = tempfile::TempDir::new().unwrap();
    let index = corpus_index("movies", usize::MAX, dir.path());
    let queries = keystrokes("movies", 3);
    compare(&index, "movies", &queries, |_| {});
    // Deeper pages, and a restriction to some attributes (which the digests honour for the
    // attribute rule and leave to positions for the others).
    compare(&index, "movies", &queries[..queries.len() / 4], |r| {
        r.offset = 15
    });
    compare(&index, "movies", &queries[..queries.len() / 4], |r| {
        r.attributes_to_search_on = Some(vec!["title".into(), "director".into()])
    });
}

/// Two words typed without the space between them (`toystory`), keystroke by keystroke, alone,
/// then before or after another word of the title: the word cut in two (`toy story`) is a
/// sequence, whose documents every rule's digest path costs from positions while the sets place
/// the others.
#[test]
fn fast_ranking_paths_match_the_reference_on_words_typed_together() {
    let dir = tempfile::TempDir::new().unwrap();
    let index = corpus_index("movies", usize::MAX, dir.path());
    // The first two words of films' titles, from the corpus.
    let gz = std::fs::File::open(shared().join("data/movies.ndjson.gz")).unwrap();
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(gz));
    let mut joined: Vec<String> = Vec::new();
    let mut with_others: Vec<String> = Vec::new();
    for line in reader.lines().take(400) {
        let movie: Value = serde_json::from_str(&line.unwrap()).unwrap();
        let title = movie["title"].as_str().unwrap_or_default().to_lowercase();
        let words: Vec<&str> = title
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        if let [first, second, rest @ ..] = words.as_slice() {
            let word = format!("{first}{second}");
            if let [third, ..] = rest {
                // The next word typed letter by letter after the joined one, and the first
                // word before the second and third joined.
                let letters: Vec<char> = third.chars().collect();
                with_others.extend(
                    (1..=letters.len())
                        .map(|n| format!("{word} {}", letters[..n].iter().collect::<String>())),
                );
                with_others.push(format!("{first} {second}{third}"));
            }
            if !joined.contains(&word) {
                joined.push(word);
            }
        }
    }
    let mut queries: Vec<String> = joined
        .iter()
        .flat_map(|word| {
            let chars: Vec<char> = word.chars().collect();
            (5..=chars.len()).map(move |n| chars[..n].iter().collect::<String>())
        })
        .collect();
    queries.extend(with_others);
    compare(&index, "movies", &queries, |_| {});
}

#[test]
fn fast_ranking_paths_match_the_reference_on_debian_keystrokes() {
    // Long descriptions (words beyond the digests' positions) and tags arrays (values that start
    // after a separator).
    let dir = tempfile::TempDir::new().unwrap();
    let index = corpus_index("debian", 12_000, dir.path());
    let queries = keystrokes("debian", 7);
    // Every term required first: the proximity costs of far documents that these searches keep
    // per pair of terms (`proximity::far_pair_costs`) cover only part of what the same queries
    // need when the last terms are optional, so those searches cost the rest and rank with both.
    compare(&index, "debian", &queries[..queries.len() / 4], |r| {
        r.matching_strategy = super::MatchingStrategy::All
    });
    compare(&index, "debian", &queries, |_| {});
    // This index's own snapshot, not the process's caches (other tests run alongside).
    let kept = super::cache::SnapshotCache::of(&index.searcher()).far_costs_kept();
    assert!(kept > 0, "no far costs kept");
}

/// Sorts take a walk of each segment's documents in value order when the universe is dense
/// enough; the reference keys every document of the universe (or walks the facet terms). Both
/// must give the same pages, over several segments (equal values merged across them), numbers
/// with many ties and strings, both directions, documents without the field, filters that thin
/// the universe out, deep pages (past where the walk gives up) and placeholder searches.
#[test]
fn sorting_by_walking_values_matches_the_reference() {
    use crate::filter::parse_filter;
    use crate::settings::FilterableRule;

    let dir = tempfile::TempDir::new().unwrap();
    let gz = std::fs::File::open(shared().join("data/debian.ndjson.gz")).unwrap();
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(gz));
    let mut lines: Vec<String> = reader.lines().take(9_000).map(Result::unwrap).collect();
    // Some documents without the sorted fields, so that a group of missing values comes last.
    for line in lines.iter_mut().step_by(13) {
        let mut doc: serde_json::Map<String, Value> = serde_json::from_str(line).unwrap();
        doc.remove("installed_size_kb");
        doc.remove("section");
        *line = Value::Object(doc).to_string();
    }
    let settings = IndexSettings {
        searchable_attributes: Some(vec!["package".into(), "summary".into()]),
        filterable_attributes: ["section", "priority", "installed_size_kb"]
            .map(|f| FilterableRule::Field(f.into()))
            .to_vec(),
        sortable_attributes: ["installed_size_kb", "section", "priority"]
            .map(String::from)
            .into(),
        ..IndexSettings::default()
    };
    // Three batches: a segment or more each.
    let index = super::tests::index_of_lines(&dir.path().join("debian"), settings, &lines[..3_000]);
    for (uid, chunk) in [(2, &lines[3_000..6_000]), (3, &lines[6_000..])] {
        let payload = dir.path().join(format!("batch{uid}.ndjson"));
        std::fs::write(&payload, chunk.join("\n")).unwrap();
        let mut batch = index.write(false).unwrap();
        batch
            .add_documents(&payload, crate::index::AddMethod::Replace, None)
            .unwrap();
        batch.commit(uid, Default::default()).unwrap();
    }
    assert!(index.searcher().segment_readers().len() >= 3);

    let queries: Vec<String> = std::iter::once(String::new())
        .chain(keystrokes("debian", 97))
        .collect();
    let sorts = [
        vec!["installed_size_kb:asc"],
        vec!["installed_size_kb:desc"],
        vec!["section:asc", "installed_size_kb:desc"],
        vec!["section:desc"],
        vec!["priority:asc", "installed_size_kb:asc"],
    ];
    let filters = [
        None,
        Some("installed_size_kb > 200"),
        Some("section = libs OR section = python"),
    ];
    for sort in &sorts {
        for filter in &filters {
            // 230: past where the walk of a thin universe gives up for `ColumnOrder`.
            for offset in [0, 230] {
                compare(&index, "debian", &queries, |r| {
                    r.sort = Some(sort.iter().map(|s| s.to_string()).collect());
                    r.filter = filter.map(|f| parse_filter(f).unwrap().unwrap());
                    r.offset = offset;
                });
            }
        }
    }
}

/// With several terms, exactness reads positions only where the first term starts a value next
/// to the second (from digests) in a document with an attribute of several values, costs runs
/// in documents of one value per attribute from the digests' first positions, and the other
/// documents from their words' sets. Runs that start a later value of an array, within the
/// positions digests keep and beyond them, runs in the middle of a value, runs in both
/// attributes (whole in one, completed in the other), words completed or corrected: both rule
/// orders (exactness straight after the words and typo rules, and the default) must rank as
/// the reference does.
#[test]
fn exactness_of_several_terms_matches_the_reference() {
    let filler: Vec<String> = (0..7).map(|i| format!("filler{i} a b c d")).collect();
    let docs = [
        json!({"id": 1, "title": "river boat"}),
        json!({"id": 2, "title": "river boats of the north"}),
        json!({"id": 3, "title": "a story", "tags": filler.iter().cloned().chain(["river boat".to_string()]).collect::<Vec<_>>()}),
        json!({"id": 4, "title": "a mill", "tags": ["old mill", "river boat yard"]}),
        json!({"id": 5, "title": "boat on the river"}),
        json!({"id": 6, "title": "the river boatman"}),
        json!({"id": 7, "title": "rivers and boats"}),
        json!({"id": 8, "title": "river", "tags": ["boat"]}),
        json!({"id": 9, "title": "a long title with many words before the words river boat come along here at last"}),
        json!({"id": 10, "title": "rivr boat"}),
        json!({"id": 11, "title": "a story", "tags": filler.iter().cloned().chain(["the river boat".to_string()]).collect::<Vec<_>>()}),
        json!({"id": 12, "title": "a mill", "tags": ["old mill", "a river boat yard"]}),
        json!({"id": 13, "title": "river bank boat"}),
        // One value per attribute: runs read from the digests' first positions.
        json!({"id": 14, "title": "a mill", "tags": "river boat"}),
        json!({"id": 15, "title": "river boats", "tags": "river boat"}),
        json!({"id": 16, "title": "river boatyard", "tags": "rivers boat yard"}),
        json!({"id": 17, "title": "rivr boats and more", "tags": "the river boat"}),
        json!({"id": 18, "title": "river bank boat", "tags": "river bo"}),
        json!({"id": 19, "title": "river barje house"}),
        json!({"id": 20, "title": "river barge house"}),
        json!({"id": 21, "title": "river boat shed", "tags": "river boathouse"}),
    ];
    let lines: Vec<String> = docs.iter().map(Value::to_string).collect();
    let queries: Vec<String> = [
        "river boat",
        "river boa",
        "river b",
        "river boat yard",
        "rivr boat",
        "boat river",
        "the river b",
        "river bank b",
        "river barge",
    ]
    .map(String::from)
    .to_vec();
    let dir = tempfile::TempDir::new().unwrap();
    for (name, rules) in [
        (
            "exactness early",
            vec![
                RankingRule::Words,
                RankingRule::Typo,
                RankingRule::Exactness,
            ],
        ),
        ("default rules", RankingRule::defaults()),
        // Typo'd words count as completed ones of no letters added.
        (
            "exactness before typo",
            vec![RankingRule::Words, RankingRule::Exactness],
        ),
    ] {
        let settings = IndexSettings {
            searchable_attributes: Some(vec!["title".into(), "tags".into()]),
            ranking_rules: rules,
            ..IndexSettings::default()
        };
        let index = super::tests::index_of_lines(
            &dir.path().join(name.replace(' ', "_")),
            settings,
            &lines,
        );
        compare(&index, name, &queries, |_| {});
        compare(&index, name, &queries, |r| {
            r.matching_strategy = super::MatchingStrategy::All
        });
    }
}
