//! Relevance and formatting as a client sees them, over real HTTP on the movies corpus with its
//! settings: a misspelt or half-typed title comes first, typo'd and prefix matches are
//! highlighted as typed, crops keep the match, and ranking scores are shown on request.

mod common;

use std::sync::OnceLock;

use common::*;
use serde_json::{json, Value};

/// The movies corpus with `../shared/data/movies.settings.json`.
fn movies_with_settings() -> &'static str {
    static UID: OnceLock<String> = OnceLock::new();
    UID.get_or_init(|| {
        let uid = unique_uid("relevance_movies");
        let s = server();
        let settings: Value = serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/data/movies.settings.json"
            ))
            .unwrap(),
        )
        .unwrap();
        let task = s
            .patch(&format!("/indexes/{uid}/settings"), settings)
            .task_uid();
        s.wait_ok(task);
        s.load_movies(&uid);
        uid
    })
}

fn first_title(q: &str) -> String {
    let result = server().search(movies_with_settings(), json!({"q": q, "limit": 3}));
    result["hits"][0]["title"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn misspelt_and_partial_titles_come_first() {
    let cases = [
        ("godfther part iii", "The Godfather: Part III"),
        ("the godfather part ii", "The Godfather: Part II"),
        ("jurasic park", "Jurassic Park"),
        ("termintor 2", "Terminator 2: Judgment Day"),
        ("star wars ep. iv", "Star Wars Ep. IV: A New Hope"),
        ("ghostbust", "Ghostbusters"),
        ("pulp fic", "Pulp Fiction"),
    ];
    for (q, expected) in cases {
        assert_eq!(first_title(q), expected, "query {q:?}");
    }
}

#[test]
fn typo_and_prefix_matches_are_highlighted_as_typed() {
    let result = server().search(
        movies_with_settings(),
        json!({"q": "jurasic par", "limit": 1, "attributesToHighlight": ["title"]}),
    );
    let hit = &result["hits"][0];
    assert_eq!(hit["title"], "Jurassic Park");
    assert_eq!(
        hit["_formatted"]["title"],
        "<em>Jurassic</em> <em>Par</em>k"
    );
}

#[test]
fn custom_tags_crop_and_matches_position() {
    let result = server().search(
        movies_with_settings(),
        json!({
            "q": "empire strikes",
            "limit": 1,
            "attributesToHighlight": ["title"],
            "highlightPreTag": "[",
            "highlightPostTag": "]",
            "attributesToCrop": ["title:3"],
            "cropMarker": "~",
            "showMatchesPosition": true
        }),
    );
    let hit = &result["hits"][0];
    assert_eq!(hit["title"], "Star Wars Ep. V: The Empire Strikes Back");
    let formatted = hit["_formatted"]["title"].as_str().unwrap();
    assert!(formatted.starts_with('~'), "{formatted}");
    assert!(formatted.contains("[Empire] [Strikes]"), "{formatted}");
    let positions = hit["_matchesPosition"]["title"].as_array().unwrap();
    let title = hit["title"].as_str().unwrap();
    let matched: Vec<&str> = positions
        .iter()
        .map(|p| {
            let start = p["start"].as_u64().unwrap() as usize;
            let length = p["length"].as_u64().unwrap() as usize;
            &title[start..start + length]
        })
        .collect();
    assert_eq!(matched, ["Empire", "Strikes"]);
}

#[test]
fn ranking_scores_on_request() {
    let result = server().search(
        movies_with_settings(),
        json!({"q": "godfather", "limit": 5, "showRankingScore": true, "showRankingScoreDetails": true}),
    );
    let hits = result["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    let scores: Vec<f64> = hits
        .iter()
        .map(|h| h["_rankingScore"].as_f64().unwrap())
        .collect();
    assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)), "{scores:?}");
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "scores are ordered: {scores:?}"
    );
    let details = hits[0]["_rankingScoreDetails"].as_object().unwrap();
    assert!(details.contains_key("words"), "{details:?}");
    assert!(details.contains_key("typo"), "{details:?}");

    let none = server().search(
        movies_with_settings(),
        json!({"q": "godfather", "rankingScoreThreshold": 1.0, "showRankingScore": true}),
    );
    for hit in none["hits"].as_array().unwrap() {
        assert_eq!(hit["_rankingScore"].as_f64().unwrap(), 1.0);
    }
}
