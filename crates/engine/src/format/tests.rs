//! Table-driven checks of `_formatted` and `_matchesPosition` against the behaviour Meilisearch
//! documents: highlight kinds (exact, typo, prefix, accents), tags, crop windows and markers,
//! per-attribute crop lengths, nesting, byte positions, CJK and placeholder searches.

use serde_json::{json, Map, Value};

use super::{format_document, FormatOptions, Formatted};
use crate::analysis::Analyzer;
use crate::search::{MatchingWord, MatchingWords};

/// An exact query word (also its own only derivation).
fn exact(word: &str) -> MatchingWord {
    MatchingWord {
        query: word.into(),
        derivations: vec![word.into()],
        is_prefix: false,
    }
}

/// A query word matching the listed document words through typos.
fn typo(word: &str, derivations: &[&str]) -> MatchingWord {
    MatchingWord {
        query: word.into(),
        derivations: derivations.iter().map(|d| d.to_string()).collect(),
        is_prefix: false,
    }
}

/// The last, still typed, query word.
fn prefix(word: &str) -> MatchingWord {
    MatchingWord {
        query: word.into(),
        derivations: vec![word.into()],
        is_prefix: true,
    }
}

fn words(words: Vec<MatchingWord>) -> MatchingWords {
    MatchingWords { words }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn highlight(attributes: &[&str]) -> FormatOptions {
    FormatOptions {
        highlight: attributes.iter().map(|a| a.to_string()).collect(),
        ..FormatOptions::default()
    }
}

fn crop(attributes: &[(&str, Option<usize>)], crop_length: usize) -> FormatOptions {
    FormatOptions {
        crop: attributes
            .iter()
            .map(|(a, l)| (a.to_string(), *l))
            .collect(),
        crop_length,
        ..FormatOptions::default()
    }
}

fn run(document: &Value, matching: &MatchingWords, options: &FormatOptions) -> Formatted {
    format_document(
        &object(document.clone()),
        &Analyzer::default(),
        matching,
        options,
    )
}

const ARTICLE: &str = "Quarry is a small search engine. It speaks the same language as \
    Meilisearch, and it runs anywhere. Nobody needs a cluster to use it.";

struct Case {
    name: &'static str,
    document: Value,
    matching: MatchingWords,
    options: FormatOptions,
    expected: Value,
}

#[test]
fn formatted_documents() {
    let cases = vec![
        Case {
            name: "exact word",
            document: json!({"title": "The Dark Knight"}),
            matching: words(vec![exact("knight")]),
            options: highlight(&["title"]),
            expected: json!({"title": "The Dark <em>Knight</em>"}),
        },
        Case {
            name: "every occurrence, several query words",
            document: json!({"title": "Knight after knight, the dark returns"}),
            matching: words(vec![exact("dark"), exact("knight")]),
            options: highlight(&["title"]),
            expected: json!({"title": "<em>Knight</em> after <em>knight</em>, the <em>dark</em> returns"}),
        },
        Case {
            name: "typo derivation highlights the whole document word",
            document: json!({"title": "The Dark Knight"}),
            matching: words(vec![typo("nkight", &["knight"])]),
            options: highlight(&["title"]),
            expected: json!({"title": "The Dark <em>Knight</em>"}),
        },
        Case {
            name: "prefix highlights the typed part only",
            document: json!({"title": "Batman Begins", "alias": "bat"}),
            matching: words(vec![prefix("bat")]),
            options: highlight(&["*"]),
            expected: json!({"title": "<em>Bat</em>man Begins", "alias": "<em>bat</em>"}),
        },
        Case {
            name: "accented word matched by a plain query",
            document: json!({"title": "Crème brûlée"}),
            matching: words(vec![exact("creme"), exact("brulee")]),
            options: highlight(&["title"]),
            expected: json!({"title": "<em>Crème</em> <em>brûlée</em>"}),
        },
        Case {
            name: "prefix of an accented word keeps whole characters",
            document: json!({"title": "Crème Straße"}),
            matching: words(vec![prefix("cre"), prefix("stras")]),
            options: highlight(&["title"]),
            expected: json!({"title": "<em>Crè</em>me <em>Straß</em>e"}),
        },
        Case {
            name: "decomposed accents stay with their letter",
            document: json!({"title": "Cre\u{300}me"}),
            matching: words(vec![exact("creme")]),
            options: highlight(&["title"]),
            expected: json!({"title": "<em>Cre\u{300}me</em>"}),
        },
        Case {
            name: "custom tags",
            document: json!({"title": "The Social Network"}),
            matching: words(vec![exact("social")]),
            options: FormatOptions {
                pre_tag: "<mark class=\"hit\">".into(),
                post_tag: "</mark>".into(),
                ..highlight(&["title"])
            },
            expected: json!({"title": "The <mark class=\"hit\">Social</mark> Network"}),
        },
        Case {
            name: "only listed attributes are highlighted, every field is returned, numbers as strings",
            document: json!({"id": 42, "title": "Dark City", "genre": "dark", "adult": false, "note": null}),
            matching: words(vec![exact("dark")]),
            options: highlight(&["title"]),
            expected: json!({"id": "42", "title": "<em>Dark</em> City", "genre": "dark", "adult": false, "note": null}),
        },
        Case {
            name: "highlighted numbers",
            document: json!({"year": 2001, "rating": 8.5, "title": "2001: A Space Odyssey"}),
            matching: words(vec![exact("2001")]),
            options: highlight(&["*"]),
            expected: json!({"year": "<em>2001</em>", "rating": "8.5", "title": "<em>2001</em>: A Space Odyssey"}),
        },
        Case {
            name: "nested objects and arrays",
            document: json!({
                "title": "Dune",
                "author": {"name": "Frank Herbert", "born": {"city": "Tacoma", "year": 1920}},
                "tags": ["desert", ["spice", "desert planet"], {"label": "Desert war"}],
            }),
            matching: words(vec![exact("desert"), exact("herbert"), exact("tacoma")]),
            options: highlight(&["author", "tags"]),
            expected: json!({
                "title": "Dune",
                "author": {"name": "Frank <em>Herbert</em>", "born": {"city": "<em>Tacoma</em>", "year": "1920"}},
                "tags": ["<em>desert</em>", ["spice", "<em>desert</em> planet"], {"label": "<em>Desert</em> war"}],
            }),
        },
        Case {
            name: "wildcard pattern under a nested object",
            document: json!({
                "author": {"name": "Frank Herbert", "bio": "Herbert wrote Dune"},
                "editor": {"name": "Sterling Herbert"},
            }),
            matching: words(vec![exact("herbert")]),
            options: highlight(&["author.*"]),
            expected: json!({
                "author": {"name": "Frank <em>Herbert</em>", "bio": "<em>Herbert</em> wrote Dune"},
                "editor": {"name": "Sterling Herbert"},
            }),
        },
        Case {
            name: "exact nested path",
            document: json!({"author": {"name": "Frank Herbert", "bio": "Herbert wrote Dune"}}),
            matching: words(vec![exact("herbert")]),
            options: highlight(&["author.bio"]),
            expected: json!({"author": {"name": "Frank Herbert", "bio": "<em>Herbert</em> wrote Dune"}}),
        },
        Case {
            name: "separators are never highlighted, text without words is kept",
            document: json!({"a": ":-)", "b": "", "c": "tea-time"}),
            matching: words(vec![exact("tea"), exact("time")]),
            options: highlight(&["*"]),
            expected: json!({"a": ":-)", "b": "", "c": "<em>tea</em>-<em>time</em>"}),
        },
        Case {
            name: "CJK",
            document: json!({"title": "東京タワー"}),
            matching: words(vec![exact("タワー"), exact("京")]),
            options: highlight(&["title"]),
            expected: json!({"title": "東<em>京</em><em>タワー</em>"}),
        },
        Case {
            name: "crop around a match in the middle",
            document: json!({"text": ARTICLE}),
            matching: words(vec![exact("language")]),
            options: crop(&[("text", None)], 5),
            expected: json!({"text": "…the same language as Meilisearch…"}),
        },
        Case {
            name: "crop stays within the sentence of the match",
            document: json!({"text": ARTICLE}),
            matching: words(vec![exact("meilisearch")]),
            options: crop(&[("text", None)], 6),
            expected: json!({"text": "…speaks the same language as Meilisearch…"}),
        },
        Case {
            name: "crop at the start: no leading marker",
            document: json!({"text": ARTICLE}),
            matching: words(vec![exact("quarry")]),
            options: crop(&[("text", None)], 4),
            expected: json!({"text": "Quarry is a small…"}),
        },
        Case {
            name: "crop at the end: no trailing marker, trailing punctuation kept",
            document: json!({"text": ARTICLE}),
            matching: words(vec![exact("use")]),
            options: crop(&[("text", None)], 4),
            expected: json!({"text": "…cluster to use it."}),
        },
        Case {
            name: "crop without a match keeps the first words",
            document: json!({"text": ARTICLE}),
            matching: words(vec![exact("zebra")]),
            options: crop(&[("text", None)], 3),
            expected: json!({"text": "Quarry is a…"}),
        },
        Case {
            name: "crop longer than the text changes nothing",
            document: json!({"text": ARTICLE}),
            matching: words(vec![exact("cluster")]),
            options: crop(&[("text", None)], 200),
            expected: json!({"text": ARTICLE}),
        },
        Case {
            name: "crop length 0 keeps the whole text",
            document: json!({"text": ARTICLE}),
            matching: words(vec![exact("cluster")]),
            options: crop(&[("text", None)], 0),
            expected: json!({"text": ARTICLE}),
        },
        Case {
            name: "crop prefers a sentence over a nearby break",
            document: json!({"text": "Short intro here. The quick brown fox jumps over the lazy dog."}),
            matching: words(vec![exact("quick")]),
            options: crop(&[("text", None)], 5),
            expected: json!({"text": "…The quick brown fox jumps…"}),
        },
        Case {
            name: "crop picks the window with the most distinct query words",
            document: json!({"text": "tea tea tea with lemon and honey and then green tea for everyone at the table"}),
            matching: words(vec![exact("green"), exact("tea")]),
            options: crop(&[("text", None)], 4),
            expected: json!({"text": "…then green tea for…"}),
        },
        Case {
            name: "crop picks the closest matches",
            document: json!({"text": "green alpha tea beta gamma delta epsilon green tea zeta"}),
            matching: words(vec![exact("green"), exact("tea")]),
            options: crop(&[("text", None)], 4),
            expected: json!({"text": "…epsilon green tea zeta"}),
        },
        Case {
            name: "crop picks matches in query order",
            document: json!({"text": "tea green alpha beta gamma delta green tea omega"}),
            matching: words(vec![exact("green"), exact("tea")]),
            options: crop(&[("text", None)], 3),
            expected: json!({"text": "…delta green tea…"}),
        },
        Case {
            name: "single query word: first occurrence",
            document: json!({"text": "alpha beta tea gamma delta epsilon tea zeta eta theta tea"}),
            matching: words(vec![exact("tea")]),
            options: crop(&[("text", None)], 3),
            expected: json!({"text": "…beta tea gamma…"}),
        },
        Case {
            name: "custom and empty crop markers",
            document: json!({"a": ARTICLE, "b": ARTICLE}),
            matching: words(vec![exact("language")]),
            options: FormatOptions {
                crop_marker: "[…]".into(),
                ..crop(&[("a", None)], 3)
            },
            expected: json!({"a": "[…]same language as[…]", "b": ARTICLE}),
        },
        Case {
            name: "empty crop marker",
            document: json!({"a": ARTICLE}),
            matching: words(vec![exact("language")]),
            options: FormatOptions {
                crop_marker: String::new(),
                ..crop(&[("a", None)], 3)
            },
            expected: json!({"a": "same language as"}),
        },
        Case {
            name: "crop and highlight together",
            document: json!({"text": ARTICLE}),
            matching: words(vec![exact("language"), prefix("meili")]),
            options: FormatOptions {
                highlight: vec!["text".into()],
                ..crop(&[("text", None)], 5)
            },
            expected: json!({"text": "…the same <em>language</em> as <em>Meili</em>search…"}),
        },
        Case {
            name: "highlights outside the crop window are dropped",
            document: json!({"text": "tea first, then a long pause, and tea again at the very end"}),
            matching: words(vec![exact("tea"), exact("again")]),
            options: FormatOptions {
                highlight: vec!["*".into()],
                ..crop(&[("*", None)], 3)
            },
            expected: json!({"text": "…and <em>tea</em> <em>again</em>…"}),
        },
        Case {
            name: "crop length per attribute",
            document: json!({"title": "one two three four five six", "overview": ARTICLE, "other": ARTICLE}),
            matching: words(vec![exact("quarry")]),
            options: crop(&[("title", None), ("overview", Some(2))], 4),
            expected: json!({"title": "one two three four…", "overview": "Quarry is…", "other": ARTICLE}),
        },
        Case {
            name: "own crop length wins over the wildcard, and over a 0 default",
            document: json!({"title": "one two three four five six", "overview": "seven eight nine ten eleven"}),
            matching: MatchingWords::default(),
            options: crop(&[("*", None), ("overview", Some(2))], 0),
            expected: json!({"title": "one two three four five six", "overview": "seven eight…"}),
        },
        Case {
            name: "crop inside arrays and nested objects",
            document: json!({"reviews": [{"body": "one two three four"}, "five six seven"], "n": 1}),
            matching: MatchingWords::default(),
            options: crop(&[("reviews", Some(2))], 10),
            expected: json!({"reviews": [{"body": "one two…"}, "five six…"], "n": "1"}),
        },
        Case {
            name: "CJK crop",
            document: json!({"title": "東京タワー"}),
            matching: words(vec![exact("京")]),
            options: crop(&[("title", None)], 2),
            expected: json!({"title": "東京…"}),
        },
        Case {
            name: "placeholder search: the document, cropped, numbers as strings",
            document: json!({
                "id": 7,
                "title": "Le Petit Prince",
                "overview": "A pilot stranded in the desert meets a young prince",
                "available": true,
                "tags": ["tale", 1943],
            }),
            matching: MatchingWords::default(),
            options: FormatOptions {
                highlight: vec!["*".into()],
                ..crop(&[("overview", Some(3))], 10)
            },
            expected: json!({
                "id": "7",
                "title": "Le Petit Prince",
                "overview": "A pilot stranded…",
                "available": true,
                "tags": ["tale", "1943"],
            }),
        },
    ];
    for case in cases {
        let result = run(&case.document, &case.matching, &case.options);
        assert_eq!(
            result.formatted.map(Value::Object),
            Some(case.expected),
            "{}",
            case.name
        );
        assert_eq!(result.matches_position, None, "{}", case.name);
    }
}

#[test]
fn matches_positions() {
    let positions = |document: Value, matching: MatchingWords| {
        let options = FormatOptions {
            show_matches_position: true,
            ..FormatOptions::default()
        };
        let result = run(&document, &matching, &options);
        assert_eq!(result.formatted, None);
        Value::Object(result.matches_position.expect("asked for"))
    };
    let cases: Vec<(&str, Value, MatchingWords, Value)> = vec![
        (
            "bytes, not characters; every field; paths sorted; array indices",
            json!({
                "title": "Crème brûlée",
                "tags": ["dessert", "crème"],
                "author": {"name": "Chef Crème"},
                "id": 1,
            }),
            words(vec![exact("creme")]),
            json!({
                "author.name": [{"start": 5, "length": 6}],
                "tags": [{"start": 0, "length": 6, "indices": [1]}],
                "title": [{"start": 0, "length": 6}],
            }),
        ),
        (
            "prefix length is the typed part",
            json!({"title": "Crème Batman"}),
            words(vec![prefix("cre"), prefix("bat")]),
            json!({"title": [{"start": 0, "length": 4}, {"start": 7, "length": 3}]}),
        ),
        (
            "numbers, nested arrays",
            json!({"year": 2001, "matrix": [["x", "2001"], ["2001 again"]]}),
            words(vec![exact("2001")]),
            json!({
                "matrix": [
                    {"start": 0, "length": 4, "indices": [0, 1]},
                    {"start": 0, "length": 4, "indices": [1, 0]},
                ],
                "year": [{"start": 0, "length": 4}],
            }),
        ),
        (
            "CJK",
            json!({"title": "東京タワー"}),
            words(vec![exact("タワー")]),
            json!({"title": [{"start": 6, "length": 9}]}),
        ),
        (
            "placeholder search: empty object",
            json!({"title": "anything"}),
            MatchingWords::default(),
            json!({}),
        ),
    ];
    for (name, document, matching, expected) in cases {
        let actual = positions(document, matching);
        // `Map` equality ignores order: check the keys come sorted, as in Meilisearch.
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&actual), keys(&expected), "{name}");
        assert_eq!(actual, expected, "{name}");
    }
}

#[test]
fn positions_and_formatting_together() {
    let document = json!({"title": "Dark City", "genre": "dark"});
    let options = FormatOptions {
        highlight: vec!["title".into()],
        show_matches_position: true,
        ..FormatOptions::default()
    };
    let result = run(&document, &words(vec![exact("dark")]), &options);
    assert_eq!(
        result.formatted.map(Value::Object),
        Some(json!({"title": "<em>Dark</em> City", "genre": "dark"}))
    );
    assert_eq!(
        result.matches_position.map(Value::Object),
        Some(json!({
            "genre": [{"start": 0, "length": 4}],
            "title": [{"start": 0, "length": 4}],
        }))
    );
}

#[test]
fn nothing_asked_nothing_returned() {
    let result = run(
        &json!({"title": "Dark City"}),
        &words(vec![exact("dark")]),
        &FormatOptions::default(),
    );
    assert_eq!(result, Formatted::default());
}
