//! `GET/PATCH /network` over HTTP: behind the `network` experimental feature, merged as
//! Meilisearch merges it (absent fields kept, `null` removes), validated with its
//! `invalid_network_*` codes, and left unchanged by a refused update.

mod common;

use common::{assert_error, start_server, ErrorChecks, Server};
use quarry_server::ServerConfig;
use serde_json::{json, Value};

fn with_network() -> Server {
    let server = start_server(ServerConfig::default());
    server
        .patch("/experimental-features", json!({"network": true}))
        .expect(200);
    server
}

#[test]
fn the_route_needs_the_network_feature() {
    let server = start_server(ServerConfig::default());
    for response in [
        server.get("/network"),
        server.patch("/network", json!({"self": "ms-0"})),
    ] {
        let body = assert_error(response, 400, "feature_not_enabled");
        assert_eq!(
            body["message"],
            "Using the /network route requires enabling the `network` experimental feature. See https://github.com/orgs/meilisearch/discussions/805"
        );
    }
}

#[test]
fn patches_merge_into_the_network() {
    let server = with_network();
    assert_eq!(
        server.get("/network").expect(200),
        json!({"self": null, "remotes": {}})
    );
    let first = server
        .patch(
            "/network",
            json!({"self": "ms-0", "remotes": {
                "ms-0": {"url": "http://127.0.0.1:7700"},
                "ms-1": {"url": "http://127.0.0.1:7701", "searchApiKey": "search-1"},
                "ms-2": {"url": "http://127.0.0.1:7702", "searchApiKey": "search-2", "writeApiKey": "write-2"}
            }}),
        )
        .expect(200);
    assert_eq!(
        first,
        json!({"self": "ms-0", "remotes": {
            "ms-0": {"url": "http://127.0.0.1:7700", "searchApiKey": null, "writeApiKey": null},
            "ms-1": {"url": "http://127.0.0.1:7701", "searchApiKey": "search-1", "writeApiKey": null},
            "ms-2": {"url": "http://127.0.0.1:7702", "searchApiKey": "search-2", "writeApiKey": "write-2"}
        }})
    );
    assert_eq!(server.get("/network").expect(200), first);

    // Absent fields are kept, `null` removes a key or a remote.
    let second = server
        .patch(
            "/network",
            json!({"remotes": {
                "ms-1": {"writeApiKey": "write-1"},
                "ms-2": {"searchApiKey": null, "url": "https://ms-2.example.com"},
                "ms-0": null
            }}),
        )
        .expect(200);
    assert_eq!(
        second,
        json!({"self": "ms-0", "remotes": {
            "ms-1": {"url": "http://127.0.0.1:7701", "searchApiKey": "search-1", "writeApiKey": "write-1"},
            "ms-2": {"url": "https://ms-2.example.com", "searchApiKey": null, "writeApiKey": "write-2"}
        }})
    );
    let renamed = server
        .patch("/network", json!({"self": "ms-1"}))
        .expect(200);
    assert_eq!(renamed["self"], "ms-1");
    assert_eq!(renamed["remotes"], second["remotes"]);
    let cleared = server
        .patch("/network", json!({"self": null, "remotes": null}))
        .expect(200);
    assert_eq!(cleared, json!({"self": null, "remotes": {}}));
}

#[test]
fn bad_updates_are_refused_and_change_nothing() {
    let server = with_network();
    let kept = server
        .patch(
            "/network",
            json!({"self": "ms-0", "remotes": {"ms-0": {"url": "http://127.0.0.1:7700"}}}),
        )
        .expect(200);
    let mut checks = ErrorChecks::new();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("self type", json!({"self": 0}), "invalid_network_self"),
        (
            "remotes type",
            json!({"remotes": ["ms-1"]}),
            "invalid_network_remotes",
        ),
        (
            "remote type",
            json!({"remotes": {"ms-1": "http://x"}}),
            "invalid_network_remotes",
        ),
        (
            "remote field",
            json!({"remotes": {"ms-1": {"url": "http://x", "name": "x"}}}),
            "invalid_network_remotes",
        ),
        (
            "missing url",
            json!({"remotes": {"ms-1": {"searchApiKey": "k"}}}),
            "missing_network_url",
        ),
        (
            "url type",
            json!({"remotes": {"ms-1": {"url": 7701}}}),
            "invalid_network_url",
        ),
        (
            "relative url",
            json!({"remotes": {"ms-1": {"url": "127.0.0.1:7701"}}}),
            "invalid_network_url",
        ),
        (
            "null url",
            json!({"remotes": {"ms-0": {"url": null}}}),
            "invalid_network_url",
        ),
        (
            "search key type",
            json!({"remotes": {"ms-0": {"searchApiKey": 1}}}),
            "invalid_network_search_api_key",
        ),
        (
            "write key type",
            json!({"remotes": {"ms-0": {"writeApiKey": []}}}),
            "invalid_network_write_api_key",
        ),
        ("unknown field", json!({"sharding": true}), "bad_request"),
        ("not an object", json!(["ms-0"]), "bad_request"),
    ];
    for (label, body, code) in cases {
        checks.check(label, server.patch("/network", body), 400, code);
    }
    checks.finish();
    let body = assert_error(
        server.patch(
            "/network",
            json!({"remotes": {"ms-1": {"url": "ms-1:7701"}}}),
        ),
        400,
        "invalid_network_url",
    );
    assert_eq!(
        body["message"],
        "Invalid `.remotes.ms-1.url` (`ms-1:7701`): relative URL without a base"
    );
    let body = assert_error(
        server.patch("/network", json!({"remotes": {"ms-1": {}}})),
        400,
        "missing_network_url",
    );
    assert_eq!(body["message"], "Missing field `.remotes.ms-1.url`");
    assert_eq!(server.get("/network").expect(200), kept);
}
