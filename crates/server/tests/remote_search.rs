//! Federated multi-search across a network of three real Quarry servers: the movies corpus is
//! split in three shards, one per instance, and `federationOptions.remote` sends each query to
//! its shard's instance (with that remote's `searchApiKey`). The merged answer must be the one
//! a single instance holding the whole corpus gives; hits say which remote they come from;
//! failing remotes are reported in `remoteErrors`; unknown remotes and a disabled `network`
//! feature are refused as Meilisearch refuses them.

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use common::{assert_error, movies, movies_settings, start_server, Server};
use quarry_server::ServerConfig;
use serde_json::{json, Value};

const INDEX: &str = "movies";
/// The master key of the third instance; its remote entry carries it as `searchApiKey`.
const C_KEY: &str = "remote-search-master-key-for-ms-c";

struct Network {
    a: Server,
    b: Server,
    c: Server,
    /// One instance with the whole corpus, for reference answers.
    whole: Server,
}

fn request(server: &Server, method: &str, path: &str, body: Value, key: Option<&str>) -> Value {
    let headers: Vec<(&str, String)> = key
        .map(|k| vec![("Authorization", format!("Bearer {k}"))])
        .unwrap_or_default();
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let response = server.raw_with_headers(
        method,
        path,
        Some("application/json"),
        &headers,
        body.to_string(),
    );
    assert!(
        response.status < 300,
        "{path}: {} {}",
        response.status,
        response.body
    );
    response.body
}

/// Loads `documents` with the movies settings into `INDEX` and waits.
fn load(server: &Server, documents: &[Value], key: Option<&str>) {
    let settings = request(
        server,
        "PATCH",
        &format!("/indexes/{INDEX}/settings"),
        movies_settings(),
        key,
    );
    let documents = request(
        server,
        "POST",
        &format!("/indexes/{INDEX}/documents?primaryKey=id"),
        Value::Array(documents.to_vec()),
        key,
    );
    assert!(server.scheduler.wait_idle(common::TASK_TIMEOUT));
    for task in [settings, documents] {
        let uid = task["taskUid"].as_u64().unwrap();
        let view = request(server, "GET", &format!("/tasks/{uid}"), Value::Null, key);
        assert_eq!(view["status"], "succeeded", "{view}");
    }
    request(
        server,
        "PATCH",
        "/experimental-features",
        json!({"network": true}),
        key,
    );
}

fn network() -> &'static Network {
    static NETWORK: OnceLock<Network> = OnceLock::new();
    NETWORK.get_or_init(|| {
        let shard = |n: u64| -> Vec<Value> {
            movies()
                .iter()
                .filter(|m| m["id"].as_u64().unwrap() % 3 == n)
                .cloned()
                .collect()
        };
        let a = start_server(ServerConfig::default());
        let b = start_server(ServerConfig::default());
        let c = start_server(ServerConfig {
            master_key: Some(C_KEY.to_string()),
            ..ServerConfig::default()
        });
        let whole = start_server(ServerConfig::default());
        load(&a, &shard(0), None);
        load(&b, &shard(1), None);
        load(&c, &shard(2), Some(C_KEY));
        load(&whole, movies(), None);
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        a.patch(
            "/network",
            json!({"self": "ms-a", "remotes": {
                "ms-a": {"url": a.base},
                "ms-b": {"url": b.base},
                "ms-c": {"url": c.base, "searchApiKey": C_KEY},
                "ms-c-wrong-key": {"url": c.base, "searchApiKey": "not-the-key"},
                "ms-gone": {"url": format!("http://{closed}")}
            }}),
        )
        .expect(200);
        Network { a, b, c, whole }
    })
}

fn on_each_shard(search: Value) -> Vec<Value> {
    ["ms-a", "ms-b", "ms-c"]
        .iter()
        .map(|remote| {
            let mut query = search.clone();
            query["indexUid"] = json!(INDEX);
            query["federationOptions"] = json!({"remote": remote});
            query
        })
        .collect()
}

fn hits(answer: &Value) -> &Vec<Value> {
    answer["hits"].as_array().unwrap()
}

fn score(hit: &Value) -> f64 {
    hit["_federation"]["weightedRankingScore"].as_f64().unwrap()
}

#[test]
fn three_shards_answer_like_one_instance_holding_everything() {
    let net = network();
    for q in ["star wars", "the", "godfather", "lov"] {
        let federation = json!({"limit": 25, "facetsByIndex": {INDEX: ["major_genre"]}});
        let answer = net
            .a
            .post(
                "/multi-search",
                json!({"federation": federation, "queries": on_each_shard(json!({"q": q}))}),
            )
            .expect(200);
        let reference = net
            .whole
            .post(
                "/multi-search",
                json!({"federation": federation, "queries": [{"indexUid": INDEX, "q": q}]}),
            )
            .expect(200);
        assert_eq!(answer["remoteErrors"], json!({}), "{q}");
        assert_eq!(
            answer["estimatedTotalHits"], reference["estimatedTotalHits"],
            "{q}"
        );
        let scores: Vec<f64> = hits(&answer).iter().map(score).collect();
        let expected: Vec<f64> = hits(&reference).iter().map(score).collect();
        assert_eq!(scores, expected, "{q}");
        // Each hit comes from the instance holding its shard, at that query's position.
        for hit in hits(&answer) {
            let shard = hit["id"].as_u64().unwrap() % 3;
            let remote = ["ms-a", "ms-b", "ms-c"][shard as usize];
            assert_eq!(hit["_federation"]["remote"], remote, "{q}: {hit}");
            assert_eq!(hit["_federation"]["queriesPosition"], shard, "{q}: {hit}");
            assert_eq!(hit["_federation"]["indexUid"], INDEX);
            assert!(hit["_federation"].get("weightedScoreValues").is_none());
        }
        // Hits strictly above the last score are the same films.
        let last = *scores.last().unwrap_or(&0.0);
        let above = |list: &Vec<Value>| {
            let mut ids: Vec<u64> = list
                .iter()
                .filter(|h| score(h) > last)
                .map(|h| h["id"].as_u64().unwrap())
                .collect();
            ids.sort_unstable();
            ids
        };
        assert_eq!(above(hits(&answer)), above(hits(&reference)), "{q}");
        // Facet counts of the shards add up to the whole corpus's.
        assert_eq!(
            answer["facetsByIndex"][INDEX]["distribution"],
            reference["facetsByIndex"][INDEX]["distribution"],
            "{q}"
        );
    }
}

#[test]
fn weights_pages_and_local_queries_mix_with_remote_ones() {
    let net = network();
    let queries = json!([
        {"indexUid": INDEX, "q": "star", "federationOptions": {"remote": "ms-b", "weight": 0.5}, "showRankingScore": true},
        {"indexUid": INDEX, "q": "star"},
        {"indexUid": INDEX, "q": "star", "filter": "release_year < 1990", "federationOptions": {"remote": "ms-c", "weight": 2.0}, "showRankingScore": true}
    ]);
    let answer = net
        .a
        .post(
            "/multi-search",
            json!({"federation": {"page": 1, "hitsPerPage": 1000}, "queries": queries}),
        )
        .expect(200);
    assert_eq!(answer["remoteErrors"], json!({}));
    assert_eq!(answer["hitsPerPage"], 1000);
    assert_eq!(
        answer["totalHits"].as_u64().unwrap(),
        hits(&answer).len() as u64
    );
    let mut seen = BTreeMap::new();
    for hit in hits(&answer) {
        let position = hit["_federation"]["queriesPosition"].as_u64().unwrap();
        let remote = hit["_federation"]["remote"].as_str().unwrap();
        *seen.entry((position, remote.to_string())).or_insert(0) += 1;
        match position {
            0 => {
                assert_eq!(score(hit), hit["_rankingScore"].as_f64().unwrap() * 0.5);
                assert_eq!(hit["id"].as_u64().unwrap() % 3, 1);
            }
            2 => {
                assert_eq!(score(hit), hit["_rankingScore"].as_f64().unwrap() * 2.0);
                assert!(hit["release_year"].as_u64().unwrap() < 1990, "{hit}");
            }
            _ => {
                // A query without a remote runs here, and says so.
                assert_eq!(remote, "ms-a");
                assert_eq!(hit["id"].as_u64().unwrap() % 3, 0);
                assert!(hit.get("_rankingScore").is_none());
            }
        }
    }
    for position in 0..3 {
        assert!(seen.keys().any(|(p, _)| *p == position), "{seen:?}");
    }
    let scores: Vec<f64> = hits(&answer).iter().map(score).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // Without any remote, no `remoteErrors` and no `remote` on hits.
    let plain = net
        .a
        .post(
            "/multi-search",
            json!({"federation": {}, "queries": [{"indexUid": INDEX, "q": "alien"}]}),
        )
        .expect(200);
    assert!(plain.get("remoteErrors").is_none());
    assert!(hits(&plain)[0]["_federation"].get("remote").is_none());
}

#[test]
fn failing_remotes_are_reported_and_the_others_still_answer() {
    let net = network();
    let mut queries = on_each_shard(json!({"q": "love"}));
    for remote in ["ms-c-wrong-key", "ms-gone"] {
        queries
            .push(json!({"indexUid": INDEX, "q": "love", "federationOptions": {"remote": remote}}));
    }
    queries.push(
        json!({"indexUid": "no_such_index", "q": "love", "federationOptions": {"remote": "ms-b"}}),
    );
    let answer = net
        .a
        .post(
            "/multi-search",
            json!({"federation": {}, "queries": queries}),
        )
        .expect(200);
    let errors = answer["remoteErrors"].as_object().unwrap();
    assert_eq!(
        errors.keys().collect::<Vec<_>>(),
        ["ms-b", "ms-c-wrong-key", "ms-gone"],
        "{answer}"
    );
    common::assert_error_body(&errors["ms-c-wrong-key"], "remote_invalid_api_key", "auth");
    common::assert_error_body(
        &errors["ms-gone"],
        "remote_could_not_send_request",
        "system",
    );
    // The remote refused the whole request: its unknown index fails every query it got.
    common::assert_error_body(&errors["ms-b"], "remote_bad_request", "invalid_request");
    assert!(
        errors["ms-b"]["message"]
            .as_str()
            .unwrap()
            .contains("index_not_found"),
        "{}",
        errors["ms-b"]
    );
    let remotes: Vec<&str> = hits(&answer)
        .iter()
        .map(|h| h["_federation"]["remote"].as_str().unwrap())
        .collect();
    assert!(
        remotes.contains(&"ms-a") && remotes.contains(&"ms-c"),
        "{remotes:?}"
    );
    assert!(!remotes.contains(&"ms-b"), "{remotes:?}");
}

#[test]
fn unknown_remotes_and_a_disabled_feature_are_refused() {
    let net = network();
    let body = assert_error(
        net.a.post(
            "/multi-search",
            json!({"federation": {}, "queries": [
                {"indexUid": INDEX, "q": "a"},
                {"indexUid": INDEX, "q": "a", "federationOptions": {"remote": "ms-z"}}
            ]}),
        ),
        400,
        "invalid_multi_search_remote",
    );
    assert_eq!(
        body["message"],
        "Inside `.queries[1]`: Invalid `.federation_options.remote`: remote `ms-z` is not registered"
    );
    let body = assert_error(
        net.a.post(
            "/multi-search",
            json!({"queries": [{"indexUid": INDEX, "federationOptions": {"remote": "ms-b"}}]}),
        ),
        400,
        "invalid_multi_search_federation_options",
    );
    assert!(body["message"].as_str().unwrap().contains("non-federated"));
    let body = assert_error(
        net.a.post(
            "/multi-search",
            json!({"federation": {}, "queries": [{"indexUid": INDEX, "federationOptions": {"remote": 3}}]}),
        ),
        400,
        "invalid_multi_search_remote",
    );
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("federationOptions.remote"));

    // An instance without the `network` feature refuses remote queries.
    let plain = common::server();
    let body = assert_error(
        plain.post(
            "/multi-search",
            json!({"federation": {}, "queries": [{"indexUid": INDEX, "federationOptions": {"remote": "ms-b"}}]}),
        ),
        400,
        "feature_not_enabled",
    );
    assert_eq!(
        body["message"],
        "Inside `.queries[0]`: Performing a remote federated search requires enabling the `network` experimental feature. See https://github.com/orgs/meilisearch/discussions/805"
    );
    // And so does an instance asked as a remote.
    let response = plain.raw_with_headers(
        "POST",
        "/multi-search",
        Some("application/json"),
        &[("Meili-Proxy-Search", "true")],
        json!({"federation": {}, "queries": []}).to_string(),
    );
    assert_error(response, 400, "feature_not_enabled");
    let _ = (&net.b, &net.c);
}
