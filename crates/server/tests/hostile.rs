//! Hostile input over real HTTP, generated from a fixed seed: truncated JSON bodies, wrong
//! types for every parameter of every route that takes some (the parameter lists come from
//! the server's own "unknown field" errors), invalid UTF-8 injected into every kind of body
//! (JSON, NDJSON, CSV), 1 GB Content-Length lies on every body route, and slowloris-style
//! partial requests. Each must get a 4xx with a Meilisearch error body (never a 5xx), a
//! searcher thread keeps running valid searches during the whole run and every one must
//! succeed, and the stored documents and settings must be unchanged afterwards. (The in-flight
//! request limit is tested on the real binary in `crates/quarry/tests/security.rs`.)

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{assert_error_body, some_movies, start_server, Server};
use serde_json::{json, Value};

const MOVIES: &str = "hostile_movies";
const SCRATCH: &str = "hostile_scratch";

/// xorshift64*: a small deterministic generator, so every run sends the same requests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[track_caller]
fn assert_client_error(what: &str, r: &common::Response) {
    assert!(
        (400..500).contains(&r.status),
        "{what}: expected a 4xx, got {} {}",
        r.status,
        r.body
    );
    let code = r.body["code"].as_str().unwrap_or_default().to_string();
    let ty = r.body["type"].as_str().unwrap_or_default().to_string();
    assert!(!code.is_empty(), "{what}: no error code in {}", r.body);
    assert_error_body(&r.body, &code, &ty);
}

/// Status and error body checks for a request whose value may happen to be valid.
#[track_caller]
fn assert_not_server_error(what: &str, r: &common::Response) {
    assert!(r.status < 500, "{what}: {} {}", r.status, r.body);
    if r.status >= 400 {
        assert_client_error(what, r);
    }
}

fn valid_search(server: &Server) {
    let body = server.search(MOVIES, json!({"q": "star wars"}));
    assert!(
        !body["hits"].as_array().unwrap().is_empty(),
        "valid search found nothing: {body}"
    );
}

fn snapshot(server: &Server) -> (Vec<Value>, Value, Value) {
    let mut docs = server.all_documents(MOVIES);
    docs.sort_by_key(|d| d["id"].to_string());
    let settings = server
        .get(&format!("/indexes/{MOVIES}/settings"))
        .expect(200);
    let stats = server.get(&format!("/indexes/{MOVIES}/stats")).expect(200);
    (docs, settings, stats["numberOfDocuments"].clone())
}

fn addr(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_string()
}

/// Sends raw bytes on a new connection; optionally half-closes; reads one response.
fn raw_exchange(server: &Server, bytes: &[u8], half_close: bool) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr(server)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(bytes).unwrap();
    if half_close {
        stream.shutdown(Shutdown::Write).unwrap();
    }
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    // Read until the headers and the announced body are in.
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
        let text = String::from_utf8_lossy(&response);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if body.len() >= len {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

/// The JSON kinds a search body parameter accepts (the rest must be refused).
fn accepted_kinds(param: &str) -> Option<&'static [&'static str]> {
    Some(match param {
        "q" => &["string", "null"],
        "offset" | "limit" | "page" | "hitsPerPage" | "cropLength" => &["uint", "null"],
        "showMatchesPosition"
        | "showRankingScore"
        | "showRankingScoreDetails"
        | "showPerformanceDetails"
        | "retrieveVectors" => &["bool", "null"],
        "cropMarker" | "highlightPreTag" | "highlightPostTag" => &["string", "null"],
        "rankingScoreThreshold" => &["null"],
        "attributesToRetrieve"
        | "attributesToCrop"
        | "attributesToHighlight"
        | "facets"
        | "attributesToSearchOn"
        | "sort"
        | "locales" => &["string", "null", "array"],
        "matchingStrategy" => &["null"],
        _ => return None,
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_u64() => "uint",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn expected_list(message: &str) -> Vec<String> {
    message
        .split("expected one of ")
        .nth(1)
        .unwrap_or_default()
        .split(", ")
        .map(|s| s.trim_matches('`').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Byte sequences that are never valid UTF-8, whatever follows them.
const INVALID_UTF8: &[&[u8]] = &[
    b"\xff",
    b"\xfe\xff",
    b"\x80",
    b"\xc3\x28",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\xf8\x88\x80\x80\x80",
    b"\xe2\x82",
];

/// Positions of the bytes inside JSON string literals of `text` (escapes included).
fn string_positions(text: &[u8]) -> Vec<usize> {
    let mut inside = false;
    let mut escaped = false;
    let mut positions = Vec::new();
    for (i, &byte) in text.iter().enumerate() {
        if inside {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                inside = false;
                continue;
            }
            positions.push(i);
        } else if byte == b'"' {
            inside = true;
        }
    }
    positions
}

/// `text` with the byte at a random position of `positions` replaced by an invalid sequence.
fn inject_invalid_utf8(rng: &mut Rng, text: &[u8], positions: &[usize]) -> Vec<u8> {
    let at = positions[rng.below(positions.len())];
    let bad = INVALID_UTF8[rng.below(INVALID_UTF8.len())];
    let mut out = text[..at].to_vec();
    out.extend_from_slice(bad);
    out.extend_from_slice(&text[at + 1..]);
    out
}

/// The parameter names listed by an "Unknown field/parameter `doggo`: expected one of" error.
fn parameter_list(what: &str, r: &common::Response) -> Vec<String> {
    assert_client_error(what, r);
    let names = expected_list(r.body["message"].as_str().unwrap());
    assert!(!names.is_empty(), "{what}: no parameter list in {}", r.body);
    names
}

/// Hostile values for query string parameters.
const QUERY_TEXTS: [&str; 10] = [
    "abc",
    "-1",
    "1.5",
    "%FF%FE",
    "18446744073709551616",
    "true",
    "%00",
    "[[[[",
    "'\"",
    "",
];

#[test]
fn hostile_requests_get_4xx_and_change_nothing() {
    let server = start_server(quarry_server::ServerConfig::default());
    server.create_index(MOVIES, Some("id"));
    server.add_documents(MOVIES, some_movies(400));
    server.create_index(SCRATCH, Some("id"));
    let before = snapshot(&server);
    let stop = AtomicBool::new(false);
    let (sent, searches) = std::thread::scope(|scope| {
        // Valid searches all along the hostile run, on their own connection pool.
        let searcher = scope.spawn(|| {
            let mut searches = 0usize;
            while !stop.load(Ordering::Relaxed) {
                valid_search(&server);
                searches += 1;
            }
            searches
        });
        // Stops the searcher even when a hostile request fails its assertion.
        struct StopOnDrop<'a>(&'a AtomicBool);
        impl Drop for StopOnDrop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _stop_searcher = StopOnDrop(&stop);
        let sent = send_hostile_requests(&server);
        stop.store(true, Ordering::Relaxed);
        (
            sent,
            searcher
                .join()
                .expect("a valid search failed during the run"),
        )
    });

    // Nothing stored changed, and the server is still up.
    let after = snapshot(&server);
    assert_eq!(after.2, before.2, "document count changed");
    assert_eq!(after.1, before.1, "settings changed");
    assert!(after.0 == before.0, "documents changed");
    assert_eq!(server.get("/health").expect(200)["status"], "available");
    eprintln!("hostile requests sent: {sent}; valid searches answered meanwhile: {searches}");
    assert!(sent > 1000, "only {sent} hostile requests");
    assert!(
        searches > 0,
        "no valid search ran during the hostile requests"
    );
}

/// Sends every kind of hostile request; returns how many were sent.
fn send_hostile_requests(server: &Server) -> usize {
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut sent = 0usize;

    // 1. Truncated JSON bodies on every route that takes one.
    let movies_settings = common::movies_settings();
    let bodies: Vec<(&str, String, Value)> = vec![
        (
            "POST",
            format!("/indexes/{MOVIES}/search"),
            json!({"q": "star wars", "limit": 5, "attributesToHighlight": ["title"]}),
        ),
        (
            "POST",
            format!("/indexes/{MOVIES}/documents"),
            some_movies(3),
        ),
        (
            "PUT",
            format!("/indexes/{MOVIES}/documents"),
            some_movies(3),
        ),
        (
            "PATCH",
            format!("/indexes/{MOVIES}/settings"),
            movies_settings,
        ),
        (
            "POST",
            "/indexes".to_string(),
            json!({"uid": "hostile_new", "primaryKey": "id"}),
        ),
        (
            "POST",
            format!("/indexes/{MOVIES}/documents/fetch"),
            json!({"limit": 3, "fields": ["title"]}),
        ),
        (
            "POST",
            format!("/indexes/{MOVIES}/documents/delete-batch"),
            json!([1, 2, 3]),
        ),
        (
            "POST",
            "/swap-indexes".to_string(),
            json!([{"indexes": [MOVIES, SCRATCH]}]),
        ),
    ];
    for (method, path, body) in &bodies {
        let text = body.to_string();
        for _ in 0..25 {
            let cut = 1 + rng.below(text.len() - 1);
            let r = server.raw(
                method,
                path,
                Some("application/json"),
                text.as_bytes()[..cut].to_vec(),
            );
            assert_client_error(&format!("{method} {path} cut at {cut}"), &r);
            sent += 1;
        }
        // Invalid UTF-8 injected inside the body's strings.
        // (Anywhere in a body without strings, such as `[1, 2, 3]`.)
        let mut positions = string_positions(text.as_bytes());
        if positions.is_empty() {
            positions = (0..text.len()).collect();
        }
        for _ in 0..25 {
            let bytes = inject_invalid_utf8(&mut rng, text.as_bytes(), &positions);
            let r = server.raw(method, path, Some("application/json"), bytes);
            assert_client_error(&format!("{method} {path} with invalid UTF-8"), &r);
            sent += 1;
        }
        // The whole valid body, announced as 1 GB.
        let lie = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{text}"
        );
        let (status, body) = raw_exchange(server, lie.as_bytes(), true);
        assert!(
            (400..500).contains(&status) && body["code"].is_string(),
            "{method} {path}: 1 GB Content-Length lie: {status} {body}"
        );
        // The valid body, announced shorter than it is.
        let cut = 1 + rng.below(text.len() - 1);
        let short = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {cut}\r\nConnection: close\r\n\r\n{text}"
        );
        let (status, body) = raw_exchange(server, short.as_bytes(), false);
        assert!(
            (400..500).contains(&status) && body["code"].is_string(),
            "{method} {path}: Content-Length {cut} for {} bytes: {status} {body}",
            text.len()
        );
        sent += 2;
        valid_search(server);
    }

    // 2. Wrong types for every search parameter (the list comes from the server itself).
    let unknown = server.post(&format!("/indexes/{MOVIES}/search"), json!({"doggo": 1}));
    let params = expected_list(unknown.body["message"].as_str().unwrap());
    assert!(params.len() > 20, "{params:?}");
    let pool = [
        json!(true),
        json!(12),
        json!(-3),
        json!(1.5),
        json!("text"),
        json!([1, 2]),
        json!({"a": 1}),
    ];
    for param in &params {
        for value in &pool {
            let r = server.post(
                &format!("/indexes/{MOVIES}/search"),
                json!({ param.as_str(): value }),
            );
            let what = format!("search {param} = {value}");
            match accepted_kinds(param) {
                Some(kinds) if !kinds.contains(&kind(value)) => assert_client_error(&what, &r),
                _ => assert_not_server_error(&what, &r),
            }
            sent += 1;
        }
    }
    valid_search(server);
    // The same parameters in a query string, with hostile texts.
    for param in &params {
        for text in QUERY_TEXTS {
            let r = server.get(&format!("/indexes/{MOVIES}/search?{param}={text}"));
            assert_not_server_error(&format!("GET search {param}={text}"), &r);
            sent += 1;
        }
    }
    // Huge pagination values are accepted or refused, never a crash.
    for body in [
        json!({"offset": u64::MAX, "limit": u64::MAX}),
        json!({"page": u64::MAX, "hitsPerPage": u64::MAX}),
        json!({"limit": u64::MAX}),
    ] {
        let r = server.post(&format!("/indexes/{MOVIES}/search"), body.clone());
        assert_not_server_error(&format!("search {body}"), &r);
        sent += 1;
    }
    valid_search(server);

    // 3. Wrong types for every settings parameter, on the scratch index.
    let unknown = server.patch(&format!("/indexes/{SCRATCH}/settings"), json!({"doggo": 1}));
    let settings = expected_list(unknown.body["message"].as_str().unwrap());
    assert!(settings.len() > 10, "{settings:?}");
    for name in &settings {
        for value in &pool {
            let r = server.patch(
                &format!("/indexes/{SCRATCH}/settings"),
                json!({ name.as_str(): value }),
            );
            assert_not_server_error(&format!("settings {name} = {value}"), &r);
            sent += 1;
        }
    }
    valid_search(server);

    // 3b. Wrong types for every parameter of the other routes that take some: JSON bodies
    // (writes only on the scratch index) and query strings.
    let body_routes: Vec<(&str, String, Value)> = vec![
        (
            "POST",
            format!("/indexes/{MOVIES}/documents/fetch"),
            json!({}),
        ),
        ("POST", "/multi-search".to_string(), json!({"queries": []})),
        (
            "POST",
            "/multi-search".to_string(),
            json!({"federation": {}, "queries": [{"indexUid": MOVIES}]}),
        ),
        ("PATCH", format!("/indexes/{SCRATCH}"), json!({})),
    ];
    for (method, path, base) in &body_routes {
        // The object whose fields are probed: the body itself, or `federation`.
        let probed = if base.get("federation").is_some() {
            "federation"
        } else {
            ""
        };
        let with = |name: &str, value: &Value| {
            let mut body = base.clone();
            let target = if probed.is_empty() {
                &mut body
            } else {
                &mut body[probed]
            };
            target[name] = value.clone();
            body
        };
        let unknown = server.raw(
            method,
            path,
            Some("application/json"),
            with("doggo", &json!(1)).to_string().into_bytes(),
        );
        let names = parameter_list(&format!("{method} {path} {probed}"), &unknown);
        for name in &names {
            for value in &pool {
                let body = with(name, value);
                let r = server.raw(
                    method,
                    path,
                    Some("application/json"),
                    body.to_string().into_bytes(),
                );
                assert_not_server_error(&format!("{method} {path} {body}"), &r);
                sent += 1;
            }
        }
    }
    // Every search parameter inside a query of a multi-search.
    for param in &params {
        for value in &pool {
            let body = json!({"queries": [{"indexUid": MOVIES, param.as_str(): value}]});
            let r = server.post("/multi-search", body.clone());
            let what = format!("multi-search {body}");
            match accepted_kinds(param) {
                Some(kinds) if !kinds.contains(&kind(value)) => assert_client_error(&what, &r),
                _ => assert_not_server_error(&what, &r),
            }
            sent += 1;
        }
    }
    let query_routes: Vec<(&str, String)> = vec![
        ("GET", format!("/indexes/{MOVIES}/documents")),
        ("GET", "/indexes".to_string()),
        ("GET", "/tasks".to_string()),
        ("GET", "/batches".to_string()),
        ("POST", "/tasks/cancel".to_string()),
    ];
    for (method, path) in &query_routes {
        let unknown = server.raw(method, &format!("{path}?doggo=1"), None, Vec::new());
        let names = parameter_list(&format!("{method} {path}?doggo=1"), &unknown);
        for name in &names {
            for text in QUERY_TEXTS {
                let url = format!("{path}?{name}={text}");
                let r = server.raw(method, &url, None, Vec::new());
                assert_not_server_error(&format!("{method} {url}"), &r);
                sent += 1;
            }
        }
    }
    valid_search(server);

    // 4. Invalid UTF-8 in bodies and in the path.
    let invalid_bodies: Vec<(&str, String, Vec<u8>)> = vec![
        (
            "POST",
            format!("/indexes/{MOVIES}/search"),
            b"{\"q\": \"ab\xff\xfecd\"}".to_vec(),
        ),
        (
            "POST",
            format!("/indexes/{MOVIES}/documents"),
            b"[{\"id\": 1, \"title\": \"\xc3\x28\"}]".to_vec(),
        ),
        (
            "PATCH",
            format!("/indexes/{MOVIES}/settings"),
            b"{\"searchableAttributes\": [\"\xff\"]}".to_vec(),
        ),
        (
            "POST",
            "/indexes".to_string(),
            b"{\"uid\": \"\xed\xa0\x80\"}".to_vec(),
        ),
    ];
    for (method, path, bytes) in invalid_bodies {
        let r = server.raw(method, &path, Some("application/json"), bytes);
        assert_client_error(&format!("{method} {path} invalid UTF-8"), &r);
        sent += 1;
    }
    let r = server.get("/indexes/%FF%FE/search");
    assert_client_error("invalid UTF-8 index uid", &r);
    let (status, body) = raw_exchange(
        server,
        b"GET /indexes/\xff\xfe/search HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        false,
    );
    assert!(
        (400..500).contains(&status),
        "raw invalid path: {status} {body}"
    );
    sent += 2;
    // Documents as NDJSON and CSV with invalid UTF-8 injected inside their values, and CSV
    // with a quote that never closes: all refused before anything is stored.
    let films = some_movies(4);
    let films = films.as_array().unwrap();
    let ndjson: String = films.iter().map(|f| format!("{f}\n")).collect();
    let csv: String = std::iter::once("id:number,title\n".to_string())
        .chain(films.iter().map(|f| {
            format!(
                "{},\"{}\"\n",
                f["id"],
                f["title"].as_str().unwrap().replace('"', "\"\"")
            )
        }))
        .collect();
    let csv_positions: Vec<usize> = (csv.find('\n').unwrap() + 1..csv.len())
        .filter(|&i| !b",\n\"".contains(&csv.as_bytes()[i]))
        .collect();
    for round in 0..40 {
        let (content_type, bytes) = match round % 3 {
            0 => (
                "application/x-ndjson",
                inject_invalid_utf8(
                    &mut rng,
                    ndjson.as_bytes(),
                    &string_positions(ndjson.as_bytes()),
                ),
            ),
            1 => (
                "text/csv",
                inject_invalid_utf8(&mut rng, csv.as_bytes(), &csv_positions),
            ),
            _ => {
                // Cut just after one of the opening quotes.
                let quotes: Vec<usize> = csv.match_indices(",\"").map(|(i, _)| i + 2).collect();
                let cut = quotes[rng.below(quotes.len())] + rng.below(3);
                ("text/csv", csv.as_bytes()[..cut].to_vec())
            }
        };
        let r = server.raw(
            "POST",
            &format!("/indexes/{MOVIES}/documents"),
            Some(content_type),
            bytes.clone(),
        );
        assert_client_error(
            &format!(
                "{content_type} broken payload {:?}",
                String::from_utf8_lossy(&bytes)
            ),
            &r,
        );
        assert_eq!(r.body["code"], "malformed_payload", "{}", r.body);
        sent += 1;
    }
    valid_search(server);

    // 5. Content-Length lies: sent with every body route in section 1.
    let search_path = format!("/indexes/{MOVIES}/search");

    // 6. Slowloris: connections that never finish their headers or their body stay open while
    // valid searches keep being answered.
    let mut idle = Vec::new();
    for i in 0..40 {
        let mut s = TcpStream::connect(addr(server)).unwrap();
        let partial = if i % 2 == 0 {
            format!("POST {search_path} HTTP/1.1\r\nHost: x\r\nContent-Ty")
        } else {
            format!("POST {search_path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"q\": ")
        };
        s.write_all(partial.as_bytes()).unwrap();
        idle.push(s);
    }
    for _ in 0..20 {
        valid_search(server);
    }
    drop(idle);
    valid_search(server);
    sent + 40
}
