//! Hostile input over real HTTP, generated from a fixed seed: truncated JSON bodies, wrong
//! types for every search and settings parameter, invalid UTF-8, Content-Length lies and
//! slowloris-style partial requests. Each must get a 4xx with a Meilisearch error body (never a
//! 5xx), the server must keep answering valid searches meanwhile, and the stored documents and
//! settings must be unchanged afterwards. (The in-flight request limit is tested on the real
//! binary in `crates/quarry/tests/security.rs`.)

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
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

#[test]
fn hostile_requests_get_4xx_and_change_nothing() {
    let server = start_server(quarry_server::ServerConfig::default());
    server.create_index(MOVIES, Some("id"));
    server.add_documents(MOVIES, some_movies(400));
    server.create_index(SCRATCH, Some("id"));
    let before = snapshot(&server);
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
        valid_search(&server);
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
    valid_search(&server);
    // The same parameters in a query string, with hostile texts.
    let texts = [
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
    for param in &params {
        for text in texts {
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
    valid_search(&server);

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
    valid_search(&server);

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
        &server,
        b"GET /indexes/\xff\xfe/search HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        false,
    );
    assert!(
        (400..500).contains(&status),
        "raw invalid path: {status} {body}"
    );
    sent += 2;
    // Documents as NDJSON and CSV with broken bytes.
    for (ct, bytes) in [
        (
            "application/x-ndjson",
            b"{\"id\": 1, \"title\": \"\xff\"}\n".to_vec(),
        ),
        ("text/csv", b"id,title\n1,\"\xff\xfe\n".to_vec()),
        ("text/csv", b"id,title\n1,\"unterminated\n".to_vec()),
        ("application/x-ndjson", b"{\"id\": 1}\n{\"id\": \n".to_vec()),
    ] {
        // On the scratch index: the CSV reader is lenient (an unterminated quote runs to the
        // end of the payload), so some of these are accepted as documents.
        let r = server.raw(
            "POST",
            &format!("/indexes/{SCRATCH}/documents"),
            Some(ct),
            bytes,
        );
        if r.status == 202 {
            server.wait_task(r.body["taskUid"].as_u64().unwrap());
        } else {
            assert_client_error(&format!("{ct} broken payload"), &r);
        }
        sent += 1;
    }
    valid_search(&server);

    // 5. Content-Length lies.
    let search_path = format!("/indexes/{MOVIES}/search");
    let lie_long = format!(
        "POST {search_path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{{\"q\": \"a\"}}"
    );
    let (status, body) = raw_exchange(&server, lie_long.as_bytes(), true);
    assert!(
        (400..500).contains(&status) && body["code"].is_string(),
        "1 GB Content-Length lie: {status} {body}"
    );
    let lie_short = format!(
        "POST {search_path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{{\"q\": \"star wars\"}}"
    );
    let (status, body) = raw_exchange(&server, lie_short.as_bytes(), false);
    assert!(
        (400..500).contains(&status) && body["code"].is_string(),
        "short Content-Length: {status} {body}"
    );
    let lie_docs = format!(
        "POST /indexes/{MOVIES}/documents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n[{{\"id\": 999999999, \"title\": \"lie\"}}]"
    );
    let (status, body) = raw_exchange(&server, lie_docs.as_bytes(), true);
    assert!(
        (400..500).contains(&status) && body["code"].is_string(),
        "documents lie: {status} {body}"
    );
    sent += 3;
    valid_search(&server);

    // 6. Slowloris: connections that never finish their headers or their body stay open while
    // valid searches keep being answered.
    let mut idle = Vec::new();
    for i in 0..40 {
        let mut s = TcpStream::connect(addr(&server)).unwrap();
        let partial = if i % 2 == 0 {
            format!("POST {search_path} HTTP/1.1\r\nHost: x\r\nContent-Ty")
        } else {
            format!("POST {search_path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"q\": ")
        };
        s.write_all(partial.as_bytes()).unwrap();
        idle.push(s);
    }
    for _ in 0..20 {
        valid_search(&server);
    }
    drop(idle);
    valid_search(&server);

    // Nothing stored changed, and the server is still up.
    let after = snapshot(&server);
    assert_eq!(after.2, before.2, "document count changed");
    assert_eq!(after.1, before.1, "settings changed");
    assert!(after.0 == before.0, "documents changed");
    assert_eq!(server.get("/health").expect(200)["status"], "available");
    eprintln!("hostile requests sent: {sent}");
    assert!(sent > 300, "only {sent} hostile requests");
}
