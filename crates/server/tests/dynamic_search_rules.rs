//! Dynamic search rules over HTTP, as Meilisearch 1.50 has them: the `dynamicSearchRules`
//! experimental feature gating `/dynamic-search-rules`, rules created, changed, listed and
//! deleted through `dsrUpdate`/`dsrClear` tasks with Meilisearch's shapes and error codes, and
//! what searches do with them: pinned documents at fixed positions when the rule's conditions
//! (query words, empty query, time window, filter values, `active`) hold, precedence between
//! rules, and pins with filters, pagination, facets and (federated) multi-search.
//!
//! Rules are instance-wide, so each test runs its own server.

mod common;

use common::{assert_error, start_server, ErrorChecks, Server};
use quarry_server::ServerConfig;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A server with the `dynamicSearchRules` feature on.
fn with_rules() -> Server {
    let server = start_server(ServerConfig::default());
    let features = server
        .patch(
            "/experimental-features",
            json!({"dynamicSearchRules": true}),
        )
        .expect(200);
    assert_eq!(features["dynamicSearchRules"], true);
    server
}

/// `PATCH /dynamic-search-rules/{uid}` and waits for its task; answers the task.
#[track_caller]
fn put_rule(server: &Server, uid: &str, body: Value) -> Value {
    let task = server
        .patch(&format!("/dynamic-search-rules/{uid}"), body)
        .task_uid();
    server.wait_ok(task)
}

#[track_caller]
fn delete_rule(server: &Server, uid: &str) -> Value {
    let task = server
        .delete(&format!("/dynamic-search-rules/{uid}"))
        .task_uid();
    server.wait_ok(task)
}

fn pin(id: &str, position: u32) -> Value {
    json!({"selector": {"id": id}, "action": {"type": "pin", "position": position}})
}

/// The `id`s of a search's hits, in order.
fn ids(response: &Value) -> Vec<String> {
    response["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("no hits: {response}"))
        .iter()
        .map(|h| {
            h["id"]
                .as_str()
                .unwrap_or_else(|| panic!("id: {h}"))
                .to_string()
        })
        .collect()
}

#[track_caller]
fn search_ids(server: &Server, index: &str, body: Value) -> Vec<String> {
    ids(&server.search(index, body))
}

fn date(offset: time::Duration) -> String {
    (OffsetDateTime::now_utc() + offset)
        .format(&Rfc3339)
        .unwrap()
}

/// Films searched on their `title`, filterable on `kind`, `color`, `genres` and `series`.
fn films(server: &Server, index: &str) {
    server.create_index(index, Some("id"));
    let task = server
        .patch(
            &format!("/indexes/{index}/settings"),
            json!({"searchableAttributes": ["title"],
                   "filterableAttributes": ["kind", "color", "genres", "series"]}),
        )
        .task_uid();
    server.wait_ok(task);
    server.add_documents(
        index,
        json!([
            {"id": "local", "title": "Batman Returns", "kind": "keep", "color": "red",
             "genres": ["Action"], "series": "batman"},
            {"id": "remote", "title": "Batman", "kind": "keep", "color": "blue",
             "genres": ["Action"], "series": "batman"},
            {"id": "matrix", "title": "The Matrix", "kind": "keep", "color": "blue",
             "genres": ["Action", "SciFi"], "series": "matrix"},
            {"id": "forever", "title": "Batman Forever", "kind": "keep", "color": "green",
             "genres": ["Action", "Comedy"], "series": "batman"},
            {"id": "dropped", "title": "Batman Begins", "kind": "drop", "color": "red"},
        ]),
    );
}

#[test]
fn every_route_needs_the_feature_and_searches_ignore_rules_without_it() {
    let server = start_server(ServerConfig::default());
    let message = |attempt: &str| {
        format!("{attempt} requires enabling the `dynamic search rules` experimental feature. See https://github.com/orgs/meilisearch/discussions/884")
    };
    let cases = [
        (
            server.post("/dynamic-search-rules", json!({})),
            "Calling the `POST /dynamic-search-rules` route",
        ),
        (
            server.get("/dynamic-search-rules/a-rule"),
            "Calling the `GET /dynamic-search-rules/{:ruleUid}` route",
        ),
        (
            server.patch("/dynamic-search-rules/a-rule", json!({})),
            "Using the `/dynamic-search-rules` routes",
        ),
        (
            server.delete("/dynamic-search-rules/a-rule"),
            "Using the `/dynamic-search-rules` routes",
        ),
        (
            server.delete("/dynamic-search-rules"),
            "Using the `/dynamic-search-rules` routes",
        ),
    ];
    for (response, attempt) in cases {
        let body = assert_error(response, 400, "feature_not_enabled");
        assert_eq!(body["message"], message(attempt));
    }
    // A malformed body is refused before the feature is looked at, as in Meilisearch.
    assert_error(
        server.patch("/dynamic-search-rules/a-rule", json!({"active": 1})),
        400,
        "invalid_dynamic_search_rule_active",
    );
    assert!(server.get("/tasks").expect(200)["results"]
        .as_array()
        .unwrap()
        .is_empty());

    // Rules stored while the feature was on stop applying when it is turned off.
    films(&server, "films");
    server
        .patch(
            "/experimental-features",
            json!({"dynamicSearchRules": true}),
        )
        .expect(200);
    put_rule(
        &server,
        "pin-remote",
        json!({"actions": [pin("remote", 0)]}),
    );
    assert_eq!(
        search_ids(&server, "films", json!({"q": "batman returns"}))[0],
        "remote"
    );
    server
        .patch(
            "/experimental-features",
            json!({"dynamicSearchRules": false}),
        )
        .expect(200);
    assert_eq!(
        search_ids(&server, "films", json!({"q": "batman returns"}))[0],
        "local"
    );
}

#[test]
fn rules_are_created_changed_listed_and_deleted_through_tasks() {
    let server = with_rules();
    assert_eq!(
        server.post("/dynamic-search-rules", json!({})).expect(200),
        json!({"results": [], "offset": 0, "limit": 20, "total": 0})
    );

    let summary = server
        .patch(
            "/dynamic-search-rules/black-friday",
            json!({
                "description": "Black Friday 2025 rules",
                "precedence": 10,
                "active": true,
                "conditions": {
                    "query": {"isEmpty": true},
                    "time": {"start": "2025-11-28T00:00:00Z", "end": "2025-11-28T23:59:59Z"}
                },
                "actions": [
                    {"selector": {"indexUid": "products", "id": "123"}, "action": {"type": "pin", "position": 1}},
                    pin("789", 3)
                ]
            }),
        )
        .summary(202);
    assert_eq!(summary["indexUid"], ".meili_dsr");
    assert_eq!(summary["type"], "dsrUpdate");
    let task = server.wait_ok(summary["taskUid"].as_u64().unwrap());
    assert_eq!(
        task["details"],
        json!({
            "rule": {
                "description": "Black Friday 2025 rules",
                "precedence": 10,
                "active": true,
                "conditions": {
                    "time": {"start": "2025-11-28T00:00:00Z", "end": "2025-11-28T23:59:59Z"},
                    "query": {"isEmpty": true}
                },
                "actions": [
                    {"selector": {"indexUid": "products", "id": "123"}, "action": {"type": "pin", "position": 1}},
                    {"selector": {"id": "789"}, "action": {"type": "pin", "position": 3}}
                ]
            },
            "updatedRules": 1
        })
    );
    let rule = server.get("/dynamic-search-rules/black-friday").expect(200);
    // The rule changed when its task was enqueued.
    assert_eq!(rule["lastUpdatedAt"], task["enqueuedAt"]);
    assert_eq!(
        rule,
        json!({
            "uid": "black-friday",
            "description": "Black Friday 2025 rules",
            "lastUpdatedAt": task["enqueuedAt"],
            "precedence": 10,
            "active": true,
            "conditions": {
                "time": {"start": "2025-11-28T00:00:00Z", "end": "2025-11-28T23:59:59Z"},
                "query": {"isEmpty": true}
            },
            "actions": [
                {"selector": {"indexUid": "products", "id": "123"}, "action": {"type": "pin", "position": 1}},
                {"selector": {"id": "789"}, "action": {"type": "pin", "position": 3}}
            ]
        })
    );

    // A partial update keeps what it does not name; `null` goes back to the default.
    put_rule(&server, "black-friday", json!({"description": "Updated"}));
    let rule = server.get("/dynamic-search-rules/black-friday").expect(200);
    assert_eq!(rule["description"], "Updated");
    assert_eq!(rule["precedence"], 10);
    assert_eq!(rule["actions"].as_array().unwrap().len(), 2);
    put_rule(
        &server,
        "black-friday",
        json!({"precedence": null, "conditions": null, "actions": [pin("1", 7)]}),
    );
    let rule = server.get("/dynamic-search-rules/black-friday").expect(200);
    assert!(rule.get("precedence").is_none(), "{rule}");
    assert_eq!(rule["conditions"], json!({}));
    assert_eq!(rule["actions"], json!([pin("1", 7)]));

    // A minimal rule shows its defaults.
    put_rule(&server, "minimal", json!({}));
    let minimal = server.get("/dynamic-search-rules/minimal").expect(200);
    assert_eq!(
        minimal,
        json!({"uid": "minimal", "lastUpdatedAt": minimal["lastUpdatedAt"], "active": true, "conditions": {}, "actions": []})
    );
    common::assert_rfc3339(&minimal["lastUpdatedAt"]);

    // Listing: most recently changed first, paginated, filtered by `query` and `active`.
    put_rule(
        &server,
        "promo-inactive",
        json!({"description": "promo-inactive", "active": false}),
    );
    put_rule(
        &server,
        "promo-active",
        json!({"description": "promo-active"}),
    );
    let all = server.post("/dynamic-search-rules", json!({})).expect(200);
    let uids = |list: &Value| -> Vec<String> {
        list["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["uid"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        uids(&all),
        ["promo-active", "promo-inactive", "minimal", "black-friday"]
    );
    assert_eq!(all["total"], 4);
    let page = server
        .post("/dynamic-search-rules", json!({"offset": 1, "limit": 2}))
        .expect(200);
    assert_eq!(uids(&page), ["promo-inactive", "minimal"]);
    assert_eq!(
        (&page["offset"], &page["limit"], &page["total"]),
        (&json!(1), &json!(2), &json!(4))
    );
    let promo = server
        .post(
            "/dynamic-search-rules",
            json!({"filter": {"query": "promo"}}),
        )
        .expect(200);
    assert_eq!(uids(&promo), ["promo-active", "promo-inactive"]);
    let both = server
        .post(
            "/dynamic-search-rules",
            json!({"filter": {"query": "PROMO", "active": true}}),
        )
        .expect(200);
    assert_eq!(uids(&both), ["promo-active"]);
    assert_eq!(both["total"], 1);
    let inactive = server
        .post(
            "/dynamic-search-rules",
            json!({"filter": {"active": false}}),
        )
        .expect(200);
    assert_eq!(uids(&inactive), ["promo-inactive"]);

    // Deleting one rule (a `dsrUpdate` task, even for a rule that does not exist).
    let task = server
        .delete("/dynamic-search-rules/minimal?customMetadata=cleanup")
        .task_uid();
    let deleted = server.wait_ok(task);
    assert_eq!(deleted["type"], "dsrUpdate");
    assert_eq!(deleted["details"], json!({"updatedRules": 1}));
    let body = assert_error(
        server.get("/dynamic-search-rules/minimal"),
        404,
        "dynamic_search_rule_not_found",
    );
    assert_eq!(body["message"], "Dynamic search rule `minimal` not found.");
    delete_rule(&server, "phantom");

    // Deleting every rule: a `dsrClear` task counting them.
    let summary = server.delete("/dynamic-search-rules").summary(202);
    assert_eq!(summary["type"], "dsrClear");
    assert_eq!(summary["indexUid"], ".meili_dsr");
    let task = server.wait_ok(summary["taskUid"].as_u64().unwrap());
    assert_eq!(task["details"], json!({"deletedDocuments": 3}));
    assert_eq!(
        server.post("/dynamic-search-rules", json!({})).expect(200)["total"],
        0
    );
    // The task types are listed and filterable like the others.
    let tasks = server.get("/tasks?types=dsrClear").expect(200);
    assert_eq!(tasks["total"], 1);
}

#[test]
fn mistakes_answer_meilisearch_codes_and_create_no_task() {
    let server = with_rules();
    let mut checks = ErrorChecks::new();
    let patch = |body: Value| server.patch("/dynamic-search-rules/r", body);
    let list = |body: Value| server.post("/dynamic-search-rules", body);
    checks.check("body not an object", patch(json!([])), 400, "bad_request");
    checks.check(
        "unknown field",
        patch(json!({"priority": 1})),
        400,
        "bad_request",
    );
    checks.check(
        "description",
        patch(json!({"description": 3})),
        400,
        "invalid_dynamic_search_rule_description",
    );
    checks.check(
        "precedence",
        patch(json!({"precedence": -1})),
        400,
        "invalid_dynamic_search_rule_priority",
    );
    checks.check(
        "active",
        patch(json!({"active": "yes"})),
        400,
        "invalid_dynamic_search_rule_active",
    );
    checks.check(
        "conditions",
        patch(json!({"conditions": {"query": {"contains": "x"}}})),
        400,
        "invalid_dynamic_search_rule_conditions",
    );
    checks.check(
        "time",
        patch(json!({"conditions": {"time": {"end": "soon"}}})),
        400,
        "invalid_dynamic_search_rule_conditions",
    );
    checks.check(
        "isEmpty and words",
        patch(json!({"conditions": {"query": {"isEmpty": true, "words": "batman"}}})),
        400,
        "bad_request",
    );
    checks.check(
        "start after end",
        patch(json!({"conditions": {"time": {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}}})),
        400,
        "bad_request",
    );
    checks.check(
        "actions",
        patch(json!({"actions": [{"selector": {"id": "1"}, "action": {"type": "boost"}}]})),
        400,
        "invalid_dynamic_search_rule_actions",
    );
    checks.check(
        "selector index",
        patch(json!({"actions": [{"selector": {"id": "1", "indexUid": "a b"}, "action": {"type": "pin", "position": 0}}]})),
        400,
        "invalid_dynamic_search_rule_actions",
    );
    checks.check(
        "list offset",
        list(json!({"offset": -1})),
        400,
        "invalid_dynamic_search_rule_offset",
    );
    checks.check(
        "list limit",
        list(json!({"limit": "ten"})),
        400,
        "invalid_dynamic_search_rule_limit",
    );
    checks.check(
        "list filter",
        list(json!({"filter": []})),
        400,
        "invalid_dynamic_search_rule_filter",
    );
    checks.check(
        "list filter field",
        list(json!({"filter": {"attributePatterns": ["promo*"]}})),
        400,
        "invalid_dynamic_search_rule_filter",
    );
    checks.check(
        "list filter query",
        list(json!({"filter": {"query": 1}})),
        400,
        "invalid_dynamic_search_rule_filter_query",
    );
    checks.check(
        "list filter active",
        list(json!({"filter": {"active": 1}})),
        400,
        "invalid_dynamic_search_rule_filter_active",
    );
    checks.check(
        "list unknown field",
        list(json!({"page": 1})),
        400,
        "bad_request",
    );
    checks.check(
        "unknown parameter",
        server.delete("/dynamic-search-rules?cascade=true"),
        400,
        "bad_request",
    );
    checks.check(
        "malformed rule uid",
        server.delete("/dynamic-search-rules/not%20a%20uid"),
        404,
        "dynamic_search_rule_not_found",
    );
    checks.check(
        "missing rule",
        server.get("/dynamic-search-rules/nope"),
        404,
        "dynamic_search_rule_not_found",
    );
    checks.check(
        "no body",
        server.raw(
            "POST",
            "/dynamic-search-rules",
            Some("application/json"),
            "",
        ),
        400,
        "missing_payload",
    );
    checks.finish();
    let body = patch(json!({"unknownField": true})).expect(400);
    assert_eq!(
        body["message"],
        "Unknown field `unknownField`: expected one of `description`, `precedence`, `active`, `conditions`, `actions`"
    );
    let body =
        patch(json!({"conditions": {"query": {"isEmpty": true, "words": "batman"}}})).expect(400);
    assert_eq!(
        body["message"],
        "Invalid value at `.conditions.query`: either `isEmpty` or `words` can be used, not both at once"
    );
    assert!(server.get("/tasks").expect(200)["results"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn pins_follow_query_conditions_and_selectors() {
    let server = with_rules();
    films(&server, "films");
    server.create_index("others", Some("id"));
    server.add_documents(
        "others",
        json!([{"id": "local", "title": "Batman Returns"}]),
    );

    // `words`: every word must be in the query, in any order and case.
    put_rule(
        &server,
        "returns",
        json!({"conditions": {"query": {"words": "Returns"}}, "actions": [pin("remote", 0)]}),
    );
    assert_eq!(
        search_ids(&server, "films", json!({"q": "batman begins"}))[0],
        "dropped"
    );
    assert_eq!(
        search_ids(&server, "films", json!({"q": "batman RETURNS"}))[..2],
        ["remote", "local"]
    );
    // A pinned document need not match the query at all.
    put_rule(&server, "returns", json!({"actions": [pin("matrix", 0)]}));
    let response = server.search(
        "films",
        json!({"q": "returns batman", "showRankingScore": true, "showRankingScoreDetails": true}),
    );
    assert_eq!(ids(&response)[..2], ["matrix", "local"]);
    assert_eq!(response["hits"][0]["_rankingScore"], 1.0);
    assert_eq!(
        response["hits"][0]["_rankingScoreDetails"],
        json!({"pin": {"order": 0, "position": 0}})
    );
    // The rule keeps its conditions until they change: two words now.
    put_rule(
        &server,
        "returns",
        json!({"conditions": {"query": {"words": "mario luigi"}}}),
    );
    assert!(search_ids(&server, "films", json!({"q": "mario"})).is_empty());
    assert_eq!(
        search_ids(&server, "films", json!({"q": "luigi mario"})),
        ["matrix"]
    );
    delete_rule(&server, "returns");

    // `isEmpty: true`: only placeholder searches (blank, or only negations).
    put_rule(
        &server,
        "welcome",
        json!({"conditions": {"query": {"isEmpty": true}}, "actions": [pin("forever", 1)]}),
    );
    assert_eq!(search_ids(&server, "films", json!({}))[1], "forever");
    assert_eq!(
        search_ids(&server, "films", json!({"q": "  "}))[1],
        "forever"
    );
    assert_eq!(
        search_ids(&server, "films", json!({"q": "-matrix"}))[1],
        "forever"
    );
    assert_eq!(
        search_ids(&server, "films", json!({"q": "returns"})),
        ["local"]
    );
    // `isEmpty: false`: only searches with words.
    put_rule(
        &server,
        "welcome",
        json!({"conditions": {"query": {"isEmpty": false}}}),
    );
    assert_eq!(
        search_ids(&server, "films", json!({"q": "returns"})),
        ["local", "forever"]
    );
    assert_ne!(search_ids(&server, "films", json!({}))[1], "forever");
    delete_rule(&server, "welcome");

    // A selector naming an index pins only there; without one, in every index holding the id.
    put_rule(
        &server,
        "scoped",
        json!({"actions": [
            {"selector": {"indexUid": "others", "id": "local"}, "action": {"type": "pin", "position": 0}},
            {"selector": {"indexUid": "films", "id": "matrix"}, "action": {"type": "pin", "position": 0}},
            pin("missing-everywhere", 0)
        ]}),
    );
    assert_eq!(
        search_ids(&server, "films", json!({"q": "forever"})),
        ["matrix", "forever"]
    );
    assert_eq!(
        search_ids(&server, "others", json!({"q": "nothing"})),
        ["local"]
    );
    // The GET route answers the same hits.
    let get = server.get("/indexes/films/search?q=forever").expect(200);
    assert_eq!(ids(&get), ["matrix", "forever"]);
    // An inactive rule does nothing.
    put_rule(&server, "scoped", json!({"active": false}));
    assert_eq!(
        search_ids(&server, "films", json!({"q": "forever"})),
        ["forever"]
    );
}

#[test]
fn time_windows_decide_when_a_rule_applies() {
    let server = with_rules();
    films(&server, "films");
    let hour = time::Duration::hours(1);
    let cases = [
        (
            "past",
            json!({"start": date(-hour * 2), "end": date(-hour)}),
            false,
        ),
        (
            "future",
            json!({"start": date(hour), "end": date(hour * 2)}),
            false,
        ),
        (
            "now",
            json!({"start": date(-hour), "end": date(hour)}),
            true,
        ),
        ("started", json!({"start": date(-hour)}), true),
        ("not-ended", json!({"end": date(hour)}), true),
        ("ended", json!({"end": date(-hour)}), false),
    ];
    for (name, window, applies) in cases {
        put_rule(
            &server,
            name,
            json!({"conditions": {"time": window}, "actions": [pin("matrix", 0)]}),
        );
        let first = search_ids(&server, "films", json!({"q": "forever"}))[0].clone();
        assert_eq!(first == "matrix", applies, "{name}: {window}");
        delete_rule(&server, name);
    }
}

#[test]
fn precedence_orders_rules_pinning_the_same_position() {
    let server = with_rules();
    films(&server, "films");
    put_rule(
        &server,
        "no-precedence",
        json!({"actions": [pin("local", 0)]}),
    );
    put_rule(
        &server,
        "second",
        json!({"precedence": 20, "actions": [pin("forever", 0)]}),
    );
    put_rule(
        &server,
        "first",
        json!({"precedence": 10, "actions": [pin("remote", 0)]}),
    );
    // Same position: by ascending precedence, rules without one last.
    assert_eq!(
        search_ids(&server, "films", json!({"q": "matrix"})),
        ["remote", "forever", "local", "matrix"]
    );
    // The same document pinned by two rules: the rule that comes first decides.
    put_rule(
        &server,
        "second",
        json!({"actions": [pin("remote", 3), pin("forever", 1)]}),
    );
    assert_eq!(
        search_ids(&server, "films", json!({"q": "matrix"})),
        ["remote", "local", "forever", "matrix"]
    );
    // Changing precedence changes the winner.
    put_rule(&server, "second", json!({"precedence": 1}));
    assert_eq!(
        search_ids(&server, "films", json!({"q": "matrix"})),
        ["local", "forever", "matrix", "remote"]
    );
}

#[test]
fn pins_respect_filters_and_pages_and_count_in_totals_and_facets() {
    let server = with_rules();
    films(&server, "films");
    put_rule(
        &server,
        "pins",
        json!({"conditions": {"query": {"words": "returns"}},
               "actions": [pin("matrix", 0), pin("dropped", 1)]}),
    );
    // The filter keeps `matrix` (which misses the query) and leaves `dropped` out.
    let response = server.search(
        "films",
        json!({"q": "Batman Returns", "filter": "kind = keep", "facets": ["color"]}),
    );
    assert_eq!(ids(&response), ["matrix", "local", "remote", "forever"]);
    assert_eq!(response["estimatedTotalHits"], 4);
    assert_eq!(
        response["facetDistribution"],
        json!({"color": {"blue": 2, "green": 1, "red": 1}})
    );
    let without_filter = server.search("films", json!({"q": "Batman Returns"}));
    assert_eq!(ids(&without_filter)[..3], ["matrix", "dropped", "local"]);
    assert_eq!(without_filter["estimatedTotalHits"], 5);

    // offset/limit windows see the pins in place.
    let window = |offset: u32, limit: u32| {
        search_ids(
            &server,
            "films",
            json!({"q": "Batman Returns", "filter": "kind = keep", "offset": offset, "limit": limit}),
        )
    };
    assert_eq!(window(0, 1), ["matrix"]);
    assert_eq!(window(1, 2), ["local", "remote"]);
    // page/hitsPerPage: totals count the pin.
    let page = server.search(
        "films",
        json!({"q": "Batman Returns", "filter": "kind = keep", "page": 2, "hitsPerPage": 3}),
    );
    assert_eq!(ids(&page), ["forever"]);
    assert_eq!(
        (&page["totalHits"], &page["totalPages"]),
        (&json!(4), &json!(2))
    );

    // A pin past the end of the results follows them.
    put_rule(
        &server,
        "pins",
        json!({"conditions": null, "actions": [pin("matrix", 10), pin("forever", 20)]}),
    );
    assert_eq!(
        search_ids(&server, "films", json!({"q": "returns", "limit": 10})),
        ["local", "matrix", "forever"]
    );
    assert_eq!(
        search_ids(
            &server,
            "films",
            json!({"q": "returns", "offset": 1, "limit": 1})
        ),
        ["matrix"]
    );
}

#[test]
fn filter_conditions_read_the_search_filter() {
    let server = with_rules();
    films(&server, "films");
    put_rule(
        &server,
        "action",
        json!({"conditions": {"query": {"words": "matrix"}, "filter": {"values": {"genres": "action"}}},
               "actions": [pin("local", 0)]}),
    );
    put_rule(
        &server,
        "action-batman",
        json!({"conditions": {"filter": {"values": {"genres": "Action", "series": "batman"}}},
               "actions": [pin("remote", 1)]}),
    );
    let run = |q: &str, filter: &str| {
        let mut body = json!({"q": q});
        if !filter.is_empty() {
            body["filter"] = json!(filter);
        }
        search_ids(&server, "films", body)
    };
    // No filter, or a filter on other values: no rule.
    assert_eq!(run("matrix", ""), ["matrix"]);
    assert_eq!(run("matrix", "kind = keep"), ["matrix"]);
    // The first rule needs one of its values constrained, in one alternative of the filter.
    assert_eq!(run("matrix", "genres = action"), ["local", "matrix"]);
    assert_eq!(
        run("matrix", "genres = action OR kind = keep"),
        ["local", "matrix"]
    );
    assert_eq!(run("matrix", "genres = drama OR kind = keep"), ["matrix"]);
    assert_eq!(run("matrix", "genres != action"), Vec::<String>::new());
    // The second needs both of its values, in the same alternative; case does not matter.
    assert_eq!(run("returns", "genres = action"), ["local"]);
    assert_eq!(
        run("returns", "genres = ACTION AND series = Batman"),
        ["local", "remote"]
    );
    // `IN` is an `OR` of equalities: one of its alternatives holds both values.
    assert_eq!(
        run(
            "returns",
            "kind = keep AND series IN [batman, matrix] AND genres = Action"
        ),
        ["local", "remote"]
    );
    assert_eq!(
        run(
            "returns",
            "kind = keep AND series = batman AND genres = Action"
        ),
        ["local", "remote"]
    );
    assert_eq!(
        run("returns", "genres = action OR series = batman"),
        ["local"]
    );
}

#[test]
fn multi_search_pins_per_query_and_across_federation() {
    let server = with_rules();
    films(&server, "films");
    server.create_index("shows", Some("id"));
    let task = server
        .patch(
            "/indexes/shows/settings",
            json!({"filterableAttributes": ["color"]}),
        )
        .task_uid();
    server.wait_ok(task);
    server.add_documents(
        "shows",
        json!([
            {"id": "s1", "title": "Batman: The Animated Series", "color": "black"},
            {"id": "s2", "title": "Batman Beyond", "color": "white"},
        ]),
    );
    put_rule(
        &server,
        "pins",
        json!({"actions": [
            {"selector": {"indexUid": "films", "id": "matrix"}, "action": {"type": "pin", "position": 0}},
            {"selector": {"indexUid": "shows", "id": "s2"}, "action": {"type": "pin", "position": 2}}
        ]}),
    );
    // Without federation each query is searched as on its own.
    let separate = server
        .post(
            "/multi-search",
            json!({"queries": [
                {"indexUid": "films", "q": "forever"},
                {"indexUid": "shows", "q": "series"}
            ]}),
        )
        .expect(200);
    assert_eq!(ids(&separate["results"][0]), ["matrix", "forever"]);
    assert_eq!(ids(&separate["results"][1]), ["s1", "s2"]);

    // Federated: pins take their positions in the merged list.
    let federated = |federation: Value| {
        server
            .post(
                "/multi-search",
                json!({"federation": federation, "queries": [
                    {"indexUid": "films", "q": "batman"},
                    {"indexUid": "shows", "q": "animated"}
                ]}),
            )
            .expect(200)
    };
    let all = federated(json!({"facetsByIndex": {"films": ["color"], "shows": ["color"]}}));
    let hits = ids(&all);
    assert_eq!(hits.len(), 7, "{hits:?}");
    assert_eq!(hits[0], "matrix");
    assert_eq!(hits[2], "s2");
    assert_eq!(all["hits"][0]["_federation"]["indexUid"], "films");
    assert_eq!(all["hits"][2]["_federation"]["indexUid"], "shows");
    // Totals and facets count the pinned documents.
    assert_eq!(all["estimatedTotalHits"], 7);
    assert_eq!(
        all["facetsByIndex"]["shows"]["distribution"]["color"],
        json!({"black": 1, "white": 1})
    );
    assert_eq!(
        all["facetsByIndex"]["films"]["distribution"]["color"]["blue"],
        2
    );
    let page = federated(json!({"offset": 1, "limit": 2}));
    assert_eq!(ids(&page), hits[1..3]);
    let page = federated(json!({"page": 1, "hitsPerPage": 3}));
    assert_eq!(ids(&page), hits[..3]);
    assert_eq!(page["totalHits"], 7);
}
