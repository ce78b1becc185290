//! Behaviour tests of search on small hand-made indexes, where the right answer is obvious:
//! typo thresholds, prefixes, splits and concatenations, phrases and negations, synonyms, stop
//! words, each ranking rule's order, scores, attributes to search on, matching strategies.

use serde_json::{json, Value};
use tempfile::TempDir;

use super::*;
use crate::index::{AddMethod, IndexOptions};
use crate::settings::{IndexSettings, RankingRule};

struct TestIndex {
    _dir: TempDir,
    index: Index,
}

fn build(settings: IndexSettings, documents: &[Value]) -> TestIndex {
    let dir = TempDir::new().unwrap();
    let lines: Vec<String> = documents.iter().map(|d| d.to_string()).collect();
    let index = index_of_lines(&dir.path().join("index"), settings, &lines);
    TestIndex { _dir: dir, index }
}

/// A new index at `path` (primary key `id`) with `settings`, holding the NDJSON `lines`.
pub(crate) fn index_of_lines(
    path: &std::path::Path,
    settings: IndexSettings,
    lines: &[String],
) -> Index {
    let index =
        Index::create_empty(path, Some("id".into()), None, IndexOptions::default()).unwrap();
    let mut batch = index.write(false).unwrap();
    batch.set_settings(settings).unwrap();
    batch.commit(0, Default::default()).unwrap();
    let payload = path.with_extension("ndjson");
    std::fs::write(&payload, lines.join("\n")).unwrap();
    let mut batch = index.write(false).unwrap();
    batch
        .add_documents(&payload, AddMethod::Replace, None)
        .unwrap();
    batch.commit(1, Default::default()).unwrap();
    index
}

/// Documents with only a title, ids from 1.
fn titles(settings: IndexSettings, titles: &[&str]) -> TestIndex {
    let docs: Vec<Value> = titles
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"id": i + 1, "title": t}))
        .collect();
    build(settings, &docs)
}

fn request(q: &str) -> SearchRequest {
    SearchRequest {
        query: Some(q.to_string()),
        limit: 20,
        ..Default::default()
    }
}

fn run(index: &TestIndex, request: &SearchRequest) -> SearchResult {
    index.index.search(request).unwrap()
}

fn ids(result: &SearchResult) -> Vec<u64> {
    result
        .hits
        .iter()
        .map(|h| h.document().unwrap()["id"].as_u64().unwrap())
        .collect()
}

fn search(index: &TestIndex, q: &str) -> Vec<u64> {
    ids(&run(index, &request(q)))
}

fn check(index: &TestIndex, cases: &[(&str, &[u64])]) {
    for (q, expected) in cases {
        assert_eq!(search(index, q), expected.to_vec(), "query {q:?}");
    }
}

fn with_rules(rules: Vec<RankingRule>) -> IndexSettings {
    IndexSettings {
        ranking_rules: rules,
        ..Default::default()
    }
}

#[test]
fn typo_thresholds_follow_word_length() {
    let index = titles(
        IndexSettings::default(),
        &["bark", "river", "elephant", "butterfly", "bork"],
    );
    // A trailing space: the last word is complete, no prefix.
    check(
        &index,
        &[
            ("bork ", &[5]),
            ("bark ", &[1]),
            ("bor ", &[]),
            ("rivar ", &[2]),
            ("rivxr ", &[2]),
            ("rivxx ", &[]),
            ("elephamt ", &[3]),
            ("elepxamt ", &[]),
            ("buttarfky ", &[4]),
            ("buttxxfky ", &[]),
        ],
    );
}

#[test]
fn first_letter_typos_count_twice() {
    let index = titles(IndexSettings::default(), &["river", "butterfly"]);
    check(
        &index,
        &[("civer ", &[]), ("cutterfly ", &[2]), ("cutterfky ", &[])],
    );
}

#[test]
fn a_swap_is_one_typo() {
    let index = titles(IndexSettings::default(), &["river", "elephant"]);
    check(
        &index,
        &[("rievr ", &[1]), ("elpehant ", &[2]), ("leephant ", &[])],
    );
}

#[test]
fn typo_settings() {
    let docs = [
        json!({"id": 1, "title": "river", "code": "12345"}),
        json!({"id": 2, "title": "other", "code": "river"}),
    ];
    let settings = IndexSettings {
        searchable_attributes: Some(vec!["title".into(), "code".into()]),
        ..Default::default()
    };
    let index = build(settings.clone(), &docs);
    check(&index, &[("rivar ", &[1, 2]), ("12346 ", &[1])]);

    let mut off = settings.clone();
    off.typo_tolerance.enabled = false;
    check(&build(off, &docs), &[("rivar ", &[]), ("river ", &[1, 2])]);

    let mut on_words = settings.clone();
    on_words.typo_tolerance.disable_on_words = ["rivar".to_string()].into();
    check(
        &build(on_words, &docs),
        &[("rivar ", &[]), ("rivxr ", &[1, 2])],
    );

    let mut on_numbers = settings.clone();
    on_numbers.typo_tolerance.disable_on_numbers = true;
    check(
        &build(on_numbers, &docs),
        &[("12346 ", &[]), ("12345 ", &[1])],
    );

    let mut on_attributes = settings;
    on_attributes.typo_tolerance.disable_on_attributes = ["code".to_string()].into();
    check(
        &build(on_attributes, &docs),
        &[("rivar ", &[1]), ("river ", &[1, 2])],
    );
}

#[test]
fn short_words_get_a_typo_when_nothing_matches_every_term() {
    let index = titles(
        IndexSettings::default(),
        &["crazy heart", "crazy in alabama", "heat", "lucky you"],
    );
    check(
        &index,
        &[
            ("crazy heat ", &[1, 2]),
            ("lcky you ", &[4]),
            ("heat ", &[3]),
        ],
    );
}

#[test]
fn prefix_versus_whole_word() {
    let index = titles(IndexSettings::default(), &["hello world", "hell"]);
    check(&index, &[("hell", &[2, 1]), ("hell ", &[2]), ("wor", &[1])]);
    let mut both = search(&index, "hel");
    both.sort_unstable();
    assert_eq!(both, vec![1, 2]);
    let disabled = IndexSettings {
        prefix_search: crate::settings::PrefixSearch::Disabled,
        ..Default::default()
    };
    let index = titles(disabled, &["hello world", "hell"]);
    check(&index, &[("hell", &[2]), ("wor", &[])]);
}

#[test]
fn split_and_concatenated_words() {
    let index = titles(
        IndexSettings::default(),
        &["sunflower fields", "sun flower", "a sun and a flower"],
    );
    check(
        &index,
        &[("sunflower ", &[1, 2]), ("sun flower ", &[2, 1, 3])],
    );
}

#[test]
fn phrases_and_negations() {
    let index = titles(
        IndexSettings::default(),
        &["the big red dog", "red big dog", "a cat"],
    );
    check(
        &index,
        &[
            ("\"big red\"", &[1]),
            ("\"red big\" dog", &[2]),
            ("dog -red", &[]),
            ("dog -\"big red\"", &[2]),
            ("-dog", &[3]),
            ("\"big red", &[1]),
        ],
    );
}

#[test]
fn synonyms_one_way_and_multi_word() {
    let settings = IndexSettings {
        synonyms: [
            ("NYC".to_string(), vec!["new york".to_string()]),
            ("car".to_string(), vec!["automobile".to_string()]),
        ]
        .into(),
        ..Default::default()
    };
    let index = titles(
        settings,
        &["New York pizza", "automobile repair", "car wash", "new car"],
    );
    check(
        &index,
        &[
            ("nyc ", &[1]),
            ("car ", &[3, 2, 4]),
            ("automobile ", &[2]),
            ("new york ", &[1, 4]),
        ],
    );
}

#[test]
fn stop_words_are_ignored_in_queries() {
    let settings = IndexSettings {
        stop_words: ["the".to_string(), "of".to_string()].into(),
        ..Default::default()
    };
    let index = titles(
        settings,
        &["The Lord of the Rings", "Rings of Saturn", "the end"],
    );
    check(
        &index,
        &[
            ("the rings", &[2, 1]),
            ("lord of the rings ", &[1]),
            ("end", &[3]),
        ],
    );
    let result = run(
        &index,
        &SearchRequest {
            compute_scores: true,
            ..request("the rings of")
        },
    );
    assert_eq!(
        result.hits[0].ranking_score_details.as_ref().unwrap()["words"]["maxMatchingWords"],
        json!(1)
    );
}

#[test]
fn words_rule_prefers_more_words_dropped_from_the_end() {
    let index = titles(
        with_rules(vec![RankingRule::Words]),
        &["batman", "batman dark", "batman dark knight", "knight"],
    );
    check(&index, &[("batman dark knight ", &[3, 2, 1])]);
}

#[test]
fn typo_rule_prefers_fewer_typos() {
    let index = titles(
        with_rules(vec![RankingRule::Words, RankingRule::Typo]),
        &["batmen", "batman", "bxtmxn"],
    );
    check(&index, &[("batman ", &[2, 1]), ("batmen ", &[1, 2])]);
}

#[test]
fn proximity_rule_prefers_close_words_in_order() {
    let index = titles(
        with_rules(vec![RankingRule::Words, RankingRule::Proximity]),
        &[
            "knight, dark and stormy",
            "dark and stormy knight",
            "knight dark",
            "dark knight returns",
        ],
    );
    check(&index, &[("dark knight ", &[4, 3, 2, 1])]);
}

#[test]
fn one_word_found_by_two_terms_is_no_pair() {
    // "django" is found by the term "django" and by the prefix "d", but it is not next to
    // itself: the title where a "d" word comes three words later is closer.
    let index = titles(
        with_rules(vec![RankingRule::Words, RankingRule::Proximity]),
        &["django", "django for web developers"],
    );
    check(&index, &[("django d", &[2, 1])]);
}

#[test]
fn exactness_ranks_whole_values_before_the_many_that_start_with_the_query() {
    let docs = [
        json!({"id": 1, "title": "odoo addon account"}),
        json!({"id": 2, "title": "odoo api"}),
        json!({"id": 3, "title": "odoo addon sale"}),
        json!({"id": 4, "title": "odoo apps"}),
        json!({"id": 5, "title": "odoo"}),
        // A value of two words, but not the query: it ties with 1 and 3 (a value starts with
        // the query, "addon" completing "a" by four letters).
        json!({"id": 6, "title": ["odoo addon crm", "big apps"]}),
    ];
    let index = build(IndexSettings::default(), &docs);
    check(&index, &[("odoo a", &[2, 4, 1, 3, 6, 5])]);
}

#[test]
fn attribute_rules_prefer_important_attributes_then_early_positions() {
    let docs = [
        json!({"id": 1, "title": "nothing here", "overview": "the knight"}),
        json!({"id": 2, "title": "the story of the knight"}),
        json!({"id": 3, "title": "knight rider"}),
    ];
    let mut settings = with_rules(vec![RankingRule::Words, RankingRule::AttributeRank]);
    settings.searchable_attributes = Some(vec!["title".into(), "overview".into()]);
    let index = build(settings.clone(), &docs);
    assert_eq!(search(&index, "knight ")[2], 1);
    settings.ranking_rules = vec![
        RankingRule::Words,
        RankingRule::AttributeRank,
        RankingRule::WordPosition,
    ];
    check(&build(settings.clone(), &docs), &[("knight ", &[3, 2, 1])]);
    settings.ranking_rules = vec![RankingRule::Words, RankingRule::Attribute];
    check(&build(settings.clone(), &docs), &[("knight ", &[3, 2, 1])]);
    settings.ranking_rules = vec![RankingRule::Words, RankingRule::WordPosition];
    check(&build(settings, &docs), &[("knight ", &[3, 1, 2])]);
}

#[test]
fn exactness_rule_prefers_whole_values_then_starts() {
    let index = titles(
        with_rules(vec![RankingRule::Words, RankingRule::Exactness]),
        &["the knights", "the knight", "knight rider", "knight"],
    );
    check(
        &index,
        &[("knight ", &[4, 3, 2, 1]), ("knight", &[4, 3, 2, 1])],
    );
}

#[test]
fn custom_rules_sort_by_field() {
    let docs = [
        json!({"id": 1, "title": "space", "year": 1999}),
        json!({"id": 2, "title": "space", "year": 2010}),
        json!({"id": 3, "title": "space"}),
        json!({"id": 4, "title": "space odyssey", "year": 1968}),
    ];
    let asc = build(
        with_rules(vec![RankingRule::Words, RankingRule::Asc("year".into())]),
        &docs,
    );
    check(&asc, &[("space", &[4, 1, 2, 3]), ("", &[4, 1, 2, 3])]);
    let desc = build(
        with_rules(vec![RankingRule::Words, RankingRule::Desc("year".into())]),
        &docs,
    );
    check(&desc, &[("space", &[2, 1, 4, 3])]);
    let result = run(
        &desc,
        &SearchRequest {
            compute_scores: true,
            ..request("space")
        },
    );
    assert_eq!(
        result.hits[0].ranking_score_details.as_ref().unwrap()["year:desc"]["value"],
        json!(2010)
    );
}

#[test]
fn attributes_to_search_on_restricts_matches() {
    let docs = [
        json!({"id": 1, "title": "foo", "overview": "bar"}),
        json!({"id": 2, "title": "bar", "overview": "foo"}),
    ];
    let settings = IndexSettings {
        searchable_attributes: Some(vec!["title".into(), "overview".into()]),
        ..Default::default()
    };
    let index = build(settings, &docs);
    let on_title = |q: &str| SearchRequest {
        attributes_to_search_on: Some(vec!["title".into()]),
        ..request(q)
    };
    assert_eq!(ids(&run(&index, &on_title("bar"))), vec![2]);
    assert_eq!(ids(&run(&index, &on_title("bxr "))), Vec::<u64>::new());
    let bad = SearchRequest {
        attributes_to_search_on: Some(vec!["genre".into()]),
        ..request("bar")
    };
    let err = index.index.search(&bad).unwrap_err();
    assert!(
        matches!(err, crate::EngineError::User(e) if e.kind == UserErrorKind::InvalidSearchAttributesToSearchOn)
    );
}

#[test]
fn ranking_scores_are_bounded_and_thresholded() {
    let index = titles(
        IndexSettings::default(),
        &["dark knight", "the dark knight rises", "dark", "darc knigt"],
    );
    let result = run(
        &index,
        &SearchRequest {
            compute_scores: true,
            ..request("dark knight")
        },
    );
    let scores: Vec<f64> = result
        .hits
        .iter()
        .map(|h| h.ranking_score.unwrap())
        .collect();
    assert_eq!(ids(&result)[0], 1);
    let details = result.hits[0].ranking_score_details.as_ref().unwrap();
    assert_eq!(scores[0], 1.0, "{details:?}");
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
    for rule in [
        "words",
        "typo",
        "proximity",
        "attributeRank",
        "wordPosition",
        "exactness",
    ] {
        assert_eq!(details[rule]["score"], json!(1.0), "{rule}: {details:?}");
    }
    let threshold = scores[1] + 1e-9;
    let thresholded = run(
        &index,
        &SearchRequest {
            ranking_score_threshold: Some(threshold),
            compute_scores: true,
            ..request("dark knight")
        },
    );
    assert_eq!(ids(&thresholded), vec![1]);
    assert_eq!(thresholded.candidates, 1);
}

#[test]
fn matching_strategies() {
    let index = titles(
        IndexSettings::default(),
        &[
            "batman and robin",
            "batman",
            "robin",
            "robin hood",
            "robin again",
        ],
    );
    let with = |q: &str, strategy| SearchRequest {
        matching_strategy: strategy,
        ..request(q)
    };
    assert_eq!(
        ids(&run(&index, &with("batman robin ", MatchingStrategy::Last))),
        vec![1, 2]
    );
    assert_eq!(
        ids(&run(&index, &with("batman robin ", MatchingStrategy::All))),
        vec![1]
    );
    // `robin` is the most frequent word: it goes first.
    assert_eq!(
        ids(&run(
            &index,
            &with("batman robin ", MatchingStrategy::Frequency)
        )),
        vec![1, 2]
    );
    assert_eq!(
        ids(&run(&index, &with("robin batman ", MatchingStrategy::Last))),
        vec![1, 3, 4, 5]
    );
}

#[test]
fn cjk_text_is_searchable() {
    let index = titles(
        IndexSettings::default(),
        &["東京タワー", "京都", "北京大学"],
    );
    check(&index, &[("東京", &[1]), ("タワー", &[1]), ("大学", &[3])]);
    assert_eq!(search(&index, "京都")[0], 2);
}

#[test]
fn matching_words_list_derivations() {
    let index = titles(IndexSettings::default(), &["batman returns", "sunflower"]);
    let result = run(&index, &request("batmn sun flower"));
    let words = &result.matching_words.words;
    assert_eq!(words[0].query, "batmn");
    assert!(
        words[0].derivations.contains(&"batman".to_string()),
        "{words:?}"
    );
    assert!(
        words[1].derivations.contains(&"sunflower".to_string()),
        "{words:?}"
    );
    assert!(words[2].is_prefix);
    assert_eq!(result.matching_words.match_len("batman"), Some(6));
}

#[test]
fn analysis_settings_apply_to_documents_and_queries() {
    let settings = IndexSettings {
        dictionary: ["C++".to_string()].into(),
        non_separator_tokens: ["#".to_string()].into(),
        separator_tokens: ["|".to_string()].into(),
        ..Default::default()
    };
    let index = titles(
        settings,
        &["learning C++ fast", "C# in depth", "c and more"],
    );
    check(&index, &[("c++ ", &[1]), ("c# ", &[2]), ("c ", &[3])]);
}

#[test]
fn placeholder_search_returns_everything() {
    let index = titles(IndexSettings::default(), &["a", "b", "c"]);
    let result = run(
        &index,
        &SearchRequest {
            limit: 2,
            ..Default::default()
        },
    );
    assert_eq!(result.candidates, 3);
    assert_eq!(result.hits.len(), 2);
}

/// The documents of the sort tests: a `rank` of many numbers, strings whose spellings differ
/// only in case (one value), multi-valued numbers, and none at all; titles `items` or, for a
/// third of them, `itemz` (one typo away).
fn sort_test_doc(i: u64) -> Value {
    let spellings = ["apple", "Apple", "APPLE", "banana", "BANANA", "cherry"];
    let title = if i.is_multiple_of(3) {
        "itemz"
    } else {
        "items"
    };
    match i % 10 {
        0 => json!({"id": i, "title": title}),
        1 => {
            json!({"id": i, "title": title, "rank": spellings[(i / 10) as usize % spellings.len()]})
        }
        2 => json!({"id": i, "title": title, "rank": format!("s{:04}", (i * 37) % 600)}),
        3 => json!({"id": i, "title": title, "rank": [(i * 13) % 700, 2000 - (i % 700)]}),
        _ => json!({"id": i, "title": title, "rank": ((i * 7919) % 1000) as f64 - 300.5}),
    }
}

/// Documents 1 to 3000 of `sort_test_doc` in two segments, `rank` sortable, `id` filterable.
fn sort_test_index() -> TestIndex {
    let settings = IndexSettings {
        sortable_attributes: ["rank".to_string()].into_iter().collect(),
        filterable_attributes: vec![crate::settings::FilterableRule::Field("id".into())],
        pagination: crate::settings::Pagination {
            max_total_hits: 10_000,
        },
        ..Default::default()
    };
    two_segment_index(settings, sort_test_doc)
}

/// Documents `doc(1)` to `doc(3000)`, committed in two halves so that the index has two
/// segments.
fn two_segment_index(settings: IndexSettings, doc: impl Fn(u64) -> Value) -> TestIndex {
    let first: Vec<Value> = (1..=1500).map(&doc).collect();
    let index = build(settings, &first);
    let payload = index._dir.path().join("more.ndjson");
    let lines: Vec<String> = (1501..=3000).map(|i| doc(i).to_string()).collect();
    std::fs::write(&payload, lines.join("\n")).unwrap();
    let mut batch = index.index.write(false).unwrap();
    batch
        .add_documents(&payload, AddMethod::Replace, None)
        .unwrap();
    batch.commit(2, Default::default()).unwrap();
    assert!(index.index.searcher().segment_readers().len() >= 2);
    index
}

/// Warming (what a background merge does once the merged segment is searchable) reads every
/// segment's value ends at once and queues its short-prefix table, so the first searches of new
/// segments find both ready instead of building them.
#[test]
fn warming_reads_every_segments_tables() {
    let index = two_segment_index(
        IndexSettings {
            sortable_attributes: ["rank".to_string()].into(),
            ..IndexSettings::default()
        },
        |i| json!({"id": i, "title": format!("word{} common", i % 700), "rank": i % 97}),
    );
    let segments = index.index.segment_ids();
    assert!(segments.iter().all(|s| !value_ends::is_ready(s)));
    assert!(segments
        .iter()
        .all(|s| !columns::value_order_is_ready(*s, "rank")));
    warm_and_wait(&index.index);
    assert!(segments
        .iter()
        .all(|s| columns::value_order_is_ready(*s, "rank")));
}

/// Warms the index's segment tables and waits (at most a minute) for the prefix tables read in
/// the background; checks every segment's tables are then ready.
fn warm_and_wait(index: &Index) {
    let segments = index.segment_ids();
    index.warm_segment_tables().unwrap();
    assert!(segments.iter().all(value_ends::is_ready));
    let started = std::time::Instant::now();
    while !segments.iter().all(prefix_tops::is_ready) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the prefix tables were not read"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Warming the first keystrokes (what a merge and a restart do in the background) searches
/// the one- and two-character prefixes that the short-prefix tables list, so that the
/// snapshot's cache holds their derivations before anyone types them; prefixes with few words
/// are left to the first search. On a snapshot that a commit has replaced, it stops at once.
#[test]
fn warming_fills_the_snapshot_cache_for_the_first_keystrokes() {
    use crate::search::first_keystrokes::{WarmLimits, Warmed, WARMED_PREFIX_CHARS};
    let index = two_segment_index(
        IndexSettings {
            searchable_attributes: Some(vec!["title".to_string()]),
            ..IndexSettings::default()
        },
        |i| json!({"id": i, "title": format!("word{} common", i % 700)}),
    );
    let ctx = SearchContext::new(&index.index).unwrap();
    let derived = |prefix: &str| {
        ctx.cache
            .derivations(&(prefix.to_string(), true, 0))
            .is_some()
    };
    assert!(!derived("w") && !derived("wo"));

    // (Without limits: tests running beside this one fill the process's caches.)
    let unlimited = WarmLimits {
        snapshot: u64::MAX,
        total: u64::MAX,
    };
    let warmed = index
        .index
        .warm_first_keystrokes_in(&ctx, unlimited)
        .unwrap();
    // 700 words start with "w", "wo" and "wor"; only "common" with "c".
    assert_eq!(WARMED_PREFIX_CHARS, 2);
    assert_eq!(
        warmed,
        Warmed {
            prefixes: 2,
            left: 0
        }
    );
    assert!(derived("w") && derived("wo"));
    assert!(!derived("wor") && !derived("c"));
    // A search of the warmed prefix finds everything at hand and answers as before.
    let result = index.index.search(&request("w")).unwrap();
    assert_eq!(result.hits.len(), 20);

    let commit = |id: u64, task: u32| {
        let payload = index._dir.path().join("one.ndjson");
        let line = json!({"id": id, "title": "wombat"}).to_string();
        std::fs::write(&payload, line).unwrap();
        let mut batch = index.index.write(false).unwrap();
        batch
            .add_documents(&payload, AddMethod::Replace, None)
            .unwrap();
        batch.commit(task, Default::default()).unwrap();
    };
    commit(9000, 3);
    let stale = index
        .index
        .warm_first_keystrokes_in(&ctx, unlimited)
        .unwrap();
    assert_eq!(
        stale,
        Warmed {
            prefixes: 0,
            left: 2
        }
    );

    // Nor does it fill caches past its shares of their budget: the snapshot's own share, and
    // all caches' together.
    let ctx = SearchContext::new(&index.index).unwrap();
    for limits in [
        WarmLimits {
            snapshot: 0,
            ..unlimited
        },
        WarmLimits {
            total: 0,
            ..unlimited
        },
    ] {
        let full = index.index.warm_first_keystrokes_in(&ctx, limits).unwrap();
        assert_eq!(
            full,
            Warmed {
                prefixes: 0,
                left: 2
            }
        );
    }
    let room = index
        .index
        .warm_first_keystrokes_in(&ctx, unlimited)
        .unwrap();
    assert_eq!(
        room,
        Warmed {
            prefixes: 2,
            left: 0
        }
    );
    // On a new snapshot, the first prefix fills a one-byte share: the second is left.
    drop(ctx);
    commit(9001, 4);
    let ctx = SearchContext::new(&index.index).unwrap();
    let one_byte = WarmLimits {
        snapshot: 1,
        ..unlimited
    };
    let partial = index
        .index
        .warm_first_keystrokes_in(&ctx, one_byte)
        .unwrap();
    assert_eq!(
        partial,
        Warmed {
            prefixes: 1,
            left: 1
        }
    );
}

/// A commit (or a merge) that leaves segments behind drops their tables at once instead of
/// leaving them to the budget: sustained reindexing replaced every segment over and over, and
/// the tables of segments nothing could read any more grew the process until the budgets.
#[test]
fn tables_of_segments_gone_are_dropped() {
    let index = two_segment_index(
        IndexSettings::default(),
        |i| json!({"id": i, "title": format!("word{} common", i % 700)}),
    );
    let old = index.index.segment_ids();
    warm_and_wait(&index.index);
    // A search caches the documents it returns.
    let before = index.index.search(&request("word1")).unwrap();
    assert_eq!(before.hits[0].document().unwrap()["title"], "word1 common");
    let cached = |segments: &std::collections::HashSet<tantivy::index::SegmentId>| {
        segments
            .iter()
            .map(|s| crate::index::source_cache::held(*s))
            .sum::<usize>()
    };
    assert_eq!(cached(&old), before.hits.len());

    // Every document replaced: the old segments leave the snapshot with this commit.
    let mut batch = index.index.write(false).unwrap();
    batch.clear().unwrap();
    let payload = index._dir.path().join("again.ndjson");
    std::fs::write(&payload, r#"{"id": 1, "title": "word1 again"}"#).unwrap();
    batch
        .add_documents(&payload, AddMethod::Replace, None)
        .unwrap();
    batch.commit(3, Default::default()).unwrap();
    assert!(index.index.segment_ids().is_disjoint(&old));
    assert!(old.iter().all(|s| !value_ends::is_ready(s)));
    assert!(old.iter().all(|s| !prefix_tops::is_ready(s)));
    assert_eq!(cached(&old), 0, "documents of segments gone are dropped");
    // Searches go on, reading the new segment's tables, and return the new documents.
    let result = index.index.search(&request("word1")).unwrap();
    assert_eq!(result.hits.len(), 1);
    assert_eq!(result.hits[0].document().unwrap()["title"], "word1 again");
    assert_eq!(cached(&index.index.segment_ids()), 1);
}

/// Where a document sorts by its best `rank`: (class, number, normalized string), class 0 for
/// numbers, 1 for strings, 2 without a value.
type SortKey = (u8, u64, String);

fn sort_key(i: u64, ascending: bool) -> (u8, f64, String) {
    let d = sort_test_doc(i);
    let values: Vec<&Value> = match &d["rank"] {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        v => vec![v],
    };
    let numbers: Vec<f64> = values.iter().filter_map(|v| v.as_f64()).collect();
    let strings: Vec<String> = values
        .iter()
        .filter_map(|v| v.as_str().map(str::to_lowercase))
        .collect();
    let pick_n = |a: f64, b: f64| if ascending { a.min(b) } else { a.max(b) };
    if let Some(n) = numbers.iter().copied().reduce(pick_n) {
        (0, n, String::new())
    } else if let Some(s) = strings
        .into_iter()
        .reduce(|a, b| if (a < b) == ascending { a } else { b })
    {
        (1, 0.0, s)
    } else {
        (2, 0.0, String::new())
    }
}

/// The ids in the order a full sort by `rank` gives, and the key of each id.
fn full_sort(
    ids: impl Iterator<Item = u64>,
    ascending: bool,
) -> (Vec<u64>, std::collections::HashMap<u64, SortKey>) {
    let mut expected: Vec<((u8, f64, String), u64)> =
        ids.map(|i| (sort_key(i, ascending), i)).collect();
    expected.sort_by(|(a, ia), (b, ib)| {
        let by_value = a.0.cmp(&b.0).then_with(|| {
            let order = a.1.total_cmp(&b.1).then_with(|| a.2.cmp(&b.2));
            if ascending {
                order
            } else {
                order.reverse()
            }
        });
        by_value.then(ia.cmp(ib))
    });
    let keys = expected
        .iter()
        .map(|((class, n, text), id)| (*id, (*class, n.to_bits(), text.clone())))
        .collect();
    (expected.into_iter().map(|(_, id)| id).collect(), keys)
}

/// Documents with equal values may come in either order (internal ids follow the segments), so
/// orders are compared by the keys, position by position.
fn assert_same_order(
    got: &[u64],
    expected: &[u64],
    keys: &std::collections::HashMap<u64, SortKey>,
    what: &str,
) {
    let of = |ids: &[u64]| -> Vec<SortKey> { ids.iter().map(|i| keys[i].clone()).collect() };
    assert_eq!(of(got), of(expected), "{what}");
    let mut all = got.to_vec();
    all.sort_unstable();
    let mut want = expected.to_vec();
    want.sort_unstable();
    assert_eq!(all, want, "{what}: every document once");
}

/// The sort rule walks the terms of the field lazily when the universe is large. Over values
/// like these, spread over two segments, the order must be the one a full sort gives: numbers
/// (smallest first, or largest first descending), then strings by their normalized form, then
/// the documents without a value.
#[test]
fn sort_walk_matches_a_full_sort_over_many_values_and_segments() {
    let index = sort_test_index();
    for ascending in [true, false] {
        let (expected, keys) = full_sort(1..=3000, ascending);
        let criterion = format!("rank:{}", if ascending { "asc" } else { "desc" });
        let result = run(
            &index,
            &SearchRequest {
                sort: Some(vec![criterion.clone()]),
                limit: 3000,
                ..Default::default()
            },
        );
        let got = ids(&result);
        assert_same_order(&got, &expected, &keys, &criterion);
        // A short page reads only the first values and agrees with the full order.
        let page = run(
            &index,
            &SearchRequest {
                sort: Some(vec![criterion.clone()]),
                offset: 40,
                limit: 20,
                ..Default::default()
            },
        );
        assert_eq!(ids(&page), got[40..60].to_vec(), "{criterion} page");
    }
}

/// A small universe (a filter keeping under a sixteenth of the documents), and each bucket of
/// a rule before the sort (the typo rule splits `items` from `itemz`), are sorted from the
/// field's columns; the order must be the full sort's, within each bucket.
#[test]
fn sort_from_columns_matches_a_full_sort_in_small_universes_and_buckets() {
    let index = sort_test_index();
    for ascending in [true, false] {
        let criterion = format!("rank:{}", if ascending { "asc" } else { "desc" });
        let (expected, keys) = full_sort(1..150, ascending);
        let result = run(
            &index,
            &SearchRequest {
                sort: Some(vec![criterion.clone()]),
                filter: crate::filter::parse_filter("id < 150").unwrap(),
                limit: 3000,
                ..Default::default()
            },
        );
        let got = ids(&result);
        assert_same_order(&got, &expected, &keys, &format!("{criterion}, filtered"));
        // The column order is sorted a chunk at a time (64 documents first): pages across the
        // first chunk's end, and past the second, agree with the whole order.
        for (offset, limit) in [(0, 10), (55, 20), (60, 70), (130, 19)] {
            let page = run(
                &index,
                &SearchRequest {
                    sort: Some(vec![criterion.clone()]),
                    filter: crate::filter::parse_filter("id < 150").unwrap(),
                    offset,
                    limit,
                    ..Default::default()
                },
            );
            assert_eq!(
                ids(&page),
                got[offset..offset + limit].to_vec(),
                "{criterion}, filtered, page at {offset}"
            );
        }

        // `items` exactly (no typo) first, then `itemz`; each sorted by rank.
        let (_, keys) = full_sort(1..=3000, ascending);
        let (mut expected, _) = full_sort((1..=3000).filter(|i| i % 3 != 0), ascending);
        expected.extend(full_sort((1..=3000).filter(|i| i % 3 == 0), ascending).0);
        let result = run(
            &index,
            &SearchRequest {
                query: Some("items".into()),
                sort: Some(vec![criterion.clone()]),
                limit: 3000,
                ..Default::default()
            },
        );
        assert_same_order(
            &ids(&result),
            &expected,
            &keys,
            &format!("{criterion}, by typo"),
        );
    }
}

/// Facet counts and numeric ranges wide enough to be read from the columns must leave out
/// deleted documents (a column keeps a segment's deleted ids), and agree with the documents.
#[test]
fn columns_leave_out_deleted_documents() {
    let index = sort_test_index();
    let deleted: Vec<String> = (1..=3000)
        .filter(|i| i % 4 == 0)
        .map(|i| i.to_string())
        .collect();
    let mut batch = index.index.write(false).unwrap();
    batch.delete_documents(&deleted).unwrap();
    batch.commit(3, Default::default()).unwrap();
    let live: Vec<u64> = (1..=3000).filter(|i| i % 4 != 0).collect();

    // `id` has 3000 distinct values: this range is read from the column.
    let result = run(
        &index,
        &SearchRequest {
            filter: crate::filter::parse_filter("id 100 TO 2500").unwrap(),
            limit: 3000,
            ..Default::default()
        },
    );
    let mut got = ids(&result);
    got.sort_unstable();
    let want: Vec<u64> = live
        .iter()
        .copied()
        .filter(|i| (100..=2500).contains(i))
        .collect();
    assert_eq!(got, want);

    // Counts of `id` values above 2990 among the live documents, and stats.
    let result = run(
        &index,
        &SearchRequest {
            facets: Some(vec!["id".into()]),
            filter: crate::filter::parse_filter("id > 2990").unwrap(),
            ..Default::default()
        },
    );
    let facets = result.facets.expect("facets were asked for");
    let distribution = facets.distribution["id"].as_object().unwrap();
    let want: Vec<String> = live
        .iter()
        .filter(|i| **i > 2990)
        .map(|i| i.to_string())
        .collect();
    assert_eq!(distribution.keys().cloned().collect::<Vec<_>>(), want);
    assert!(distribution.values().all(|c| c == &json!(1)));
    assert_eq!(facets.stats["id"], json!({"min": 2991.0, "max": 2999.0}));
}

/// A search evaluates its filter only for its candidates (complements taken against them, a
/// numeric range looking up the values of few candidates instead of scanning a column). The
/// documents must be those of the query that the filter selects over the whole index, for every
/// operator, with rare and common words, over two segments with deletes.
#[test]
fn filters_within_the_candidates_select_what_they_select_over_the_index() {
    let doc = |i: u64| {
        let mut d =
            json!({"id": i, "title": if i.is_multiple_of(50) { "rare common" } else { "common" }});
        if let Some(rank) = sort_test_doc(i).get("rank") {
            d["rank"] = rank.clone();
        }
        if i.is_multiple_of(13) {
            d["rank"] = Value::Null;
        }
        d
    };
    let settings = IndexSettings {
        filterable_attributes: vec![
            crate::settings::FilterableRule::Field("id".into()),
            crate::settings::FilterableRule::Field("rank".into()),
        ],
        pagination: crate::settings::Pagination {
            max_total_hits: 10_000,
        },
        ..Default::default()
    };
    let index = two_segment_index(settings, doc);
    let deleted: Vec<String> = (1..=3000)
        .filter(|i| i % 9 == 0)
        .map(|i| i.to_string())
        .collect();
    let mut batch = index.index.write(false).unwrap();
    batch.delete_documents(&deleted).unwrap();
    batch.commit(3, Default::default()).unwrap();
    assert!(index.index.searcher().segment_readers().len() >= 2);

    let search = |query: Option<&str>, filter: Option<&str>| -> Vec<u64> {
        let mut got = ids(&run(
            &index,
            &SearchRequest {
                query: query.map(str::to_string),
                filter: filter.and_then(|f| crate::filter::parse_filter(f).unwrap()),
                limit: 3000,
                ..Default::default()
            },
        ));
        got.sort_unstable();
        got
    };
    let filters = [
        "id > 1500",
        "id 100 TO 2500",
        "NOT id < 1000",
        "id != 200",
        "rank > 0",
        "rank EXISTS",
        "NOT rank EXISTS",
        "rank IS NULL",
        "rank IS NOT NULL",
        "id > 2000 OR rank = apple",
        "NOT (id > 2000 AND rank < 100)",
        "rank NOT IN [apple, 5.5]",
        "id <= 10 OR id >= 2990",
    ];
    for query in ["rare", "common"] {
        let matching = search(Some(query), None);
        assert!(!matching.is_empty(), "{query}");
        for filter in filters {
            let selected = search(None, Some(filter));
            let want: Vec<u64> = matching
                .iter()
                .copied()
                .filter(|i| selected.binary_search(i).is_ok())
                .collect();
            assert_eq!(
                search(Some(query), Some(filter)),
                want,
                "{query} with {filter}"
            );
            assert!(want.iter().all(|i| i % 9 != 0), "no deleted document");
        }
    }
}

/// What a search answers, to compare a kept answer with one computed again: the hits' stored
/// documents, the hit count, the facets, the matching words.
fn answer_of(result: &SearchResult) -> (Vec<Vec<u8>>, u64, String, String) {
    let hits = result.hits.iter().map(|h| h.source.to_vec()).collect();
    let facets = format!("{:?}", result.facets.as_ref().map(|f| &f.distribution));
    let words = format!("{:?}", result.matching_words.words);
    (hits, result.candidates, facets, words)
}

/// The answers kept for empty and one- or two-letter queries are those the search computes,
/// through a settings change that leaves the documents (and so the snapshot's segments) alone,
/// an addition and a deletion; longer queries are not kept.
#[test]
fn kept_answers_follow_every_change_of_documents_and_settings() {
    let docs: Vec<Value> = ["salt", "sea shell", "shore", "sun", "moon", "shell"]
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"id": i + 1, "title": t, "rank": (i * 7) % 5}))
        .collect();
    let settings = IndexSettings {
        filterable_attributes: vec![crate::settings::FilterableRule::Field("rank".into())],
        ..Default::default()
    };
    let index = build(settings, &docs);
    let faceted = SearchRequest {
        facets: Some(vec!["rank".into()]),
        ..request("")
    };
    let requests = [
        request(""),
        request("s"),
        request("sh"),
        faceted,
        request("sea"),
    ];
    let check = |stage: &str| {
        let ctx = SearchContext::new(&index.index).unwrap();
        for r in &requests {
            let computed = answer_of(&index.index.compute_answer(&ctx, r).unwrap());
            for time in ["first", "again"] {
                let given = answer_of(&index.index.search_in(&ctx, r).unwrap());
                assert_eq!(given, computed, "{stage}, {time} search of {:?}", r.query);
            }
        }
        let kept = |q: &str| {
            let key = answers::answer_key(&request(q));
            key.is_some_and(|k| ctx.cache.answer(&k).is_some())
        };
        assert!(kept("s") && kept("sh") && kept(""), "{stage}");
        assert!(!kept("sea"), "{stage}");
    };
    check("start");
    let by_rank = vec![3, 2, 4, 1, 6];
    assert_ne!(
        search(&index, "s"),
        by_rank,
        "the default rules do not order by rank"
    );

    // New ranking rules: a new state on the same segments.
    let segments = index.index.segment_ids();
    let mut settings = index.index.settings();
    settings.ranking_rules = vec![RankingRule::Desc("rank".into()), RankingRule::Words];
    let mut batch = index.index.write(false).unwrap();
    batch.set_settings(settings).unwrap();
    batch.commit(2, Default::default()).unwrap();
    // Nothing reindexed: only the state tells the kept answers from new ones.
    assert_eq!(index.index.segment_ids(), segments);
    check("ranking rules changed");
    assert_eq!(search(&index, "s"), by_rank, "by rank, then id");

    let payload = index._dir.path().join("more.ndjson");
    std::fs::write(&payload, r#"{"id": 7, "title": "sand", "rank": 9}"#).unwrap();
    let mut batch = index.index.write(false).unwrap();
    batch
        .add_documents(&payload, AddMethod::Replace, None)
        .unwrap();
    batch.commit(3, Default::default()).unwrap();
    check("document added");
    assert_eq!(search(&index, "s")[0], 7);

    let mut batch = index.index.write(false).unwrap();
    batch.delete_documents(&["7".to_string()]).unwrap();
    batch.commit(4, Default::default()).unwrap();
    check("document deleted");
    assert_eq!(search(&index, "s"), by_rank);
}

/// The documents of a word cut in two (`sunflower` as `sun flower`) come from positions; they
/// are kept in the snapshot's cache for the next keystrokes, and a write (a new snapshot)
/// reads them again with the documents added or deleted.
#[test]
fn documents_of_split_words_are_kept_per_snapshot() {
    let index = titles(
        IndexSettings::default(),
        &["sunflower fields", "sun flower", "a sun and a flower"],
    );
    let key = "\u{2}sun\u{1}flower";
    let sorted_hits = |ctx: &SearchContext| {
        let mut found = ids(&index.index.search_in(ctx, &request("sunflower ")).unwrap());
        found.sort_unstable();
        found
    };
    let ctx = SearchContext::new(&index.index).unwrap();
    assert!(ctx.cache.union(key).is_none());
    assert_eq!(sorted_hits(&ctx), [1, 2]);
    assert!(
        ctx.cache.union(key).is_some(),
        "kept after the first search"
    );
    assert_eq!(sorted_hits(&ctx), [1, 2], "the same from the cache");

    let payload = index._dir.path().join("more.ndjson");
    std::fs::write(&payload, r#"{"id": 4, "title": "the sun flower shop"}"#).unwrap();
    let mut batch = index.index.write(false).unwrap();
    batch
        .add_documents(&payload, AddMethod::Replace, None)
        .unwrap();
    batch.commit(2, Default::default()).unwrap();
    let ctx = SearchContext::new(&index.index).unwrap();
    assert_eq!(sorted_hits(&ctx), [1, 2, 4]);

    let mut batch = index.index.write(false).unwrap();
    batch.delete_documents(&["2".to_string()]).unwrap();
    batch.commit(3, Default::default()).unwrap();
    let ctx = SearchContext::new(&index.index).unwrap();
    assert_eq!(sorted_hits(&ctx), [1, 4]);
    assert!(ctx.cache.union(key).is_some());
}
