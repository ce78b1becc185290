//! Operations (issue 6), seen from outside the real binary: `/metrics` scraped and parsed
//! after traffic, JSON logs with slow searches and task lifecycle events, dumps round-tripped
//! through `--import-dump`, snapshots taken under concurrent writes and restored with
//! `--import-snapshot`, and a full disk (a real tmpfs mount) that refuses writes, keeps
//! searches working and recovers.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{corpus_lines, data_dir, Server, Started};
use serde_json::{json, Value};

const TIMEOUT: Duration = Duration::from_secs(600);

fn start(log: &Path, args: Vec<String>) -> Server {
    match Server::start_with(
        log,
        |command, port| {
            command
                .arg("--http-addr")
                .arg(format!("127.0.0.1:{port}"))
                .args(&args);
        },
        Duration::from_secs(300),
    ) {
        Started::Ready(server) => server,
        Started::Exited(status, log) => panic!("quarry exited at start ({status}):\n{log}"),
    }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn path_arg(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Sends a request with an optional bearer key; returns the status and the body as JSON
/// (`Null` when empty or not JSON).
fn send(
    server: &Server,
    method: &str,
    path: &str,
    key: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = server.client.request(method, server.url(path));
    if let Some(key) = key {
        request = request.header("Authorization", format!("Bearer {key}"));
    }
    if !body.is_empty() {
        request = request.header("Content-Type", content_type).body(body);
    }
    let response = request.send().unwrap_or_else(|e| panic!("{path}: {e}"));
    let status = response.status().as_u16();
    let text = response.text().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn send_json(
    server: &Server,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    send(
        server,
        method,
        path,
        key,
        "application/json",
        serde_json::to_vec(body).unwrap(),
    )
}

fn add_ndjson(server: &Server, index: &str, lines: &[String], key: Option<&str>) -> u64 {
    let (status, body) = send(
        server,
        "POST",
        &format!("/indexes/{index}/documents"),
        key,
        "application/x-ndjson",
        lines.join("\n").into_bytes(),
    );
    assert_eq!(status, 202, "{body}");
    body["taskUid"].as_u64().unwrap()
}

fn wait_ok(server: &Server, task: u64) -> Value {
    let body = server.wait_task(task, TIMEOUT);
    assert_eq!(body["status"], "succeeded", "{body}");
    body
}

/// A document id as a map key: strings without their quotes, numbers as written.
fn id_key(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every document of an index, by primary key value, paging through `GET documents`.
fn all_documents(server: &Server, index: &str) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut offset = 0;
    loop {
        let page = server.get(&format!(
            "/indexes/{index}/documents?offset={offset}&limit=1000"
        ));
        let results = page["results"].as_array().unwrap();
        for doc in results {
            let id = id_key(&doc["id"]);
            assert!(out.insert(id, doc.clone()).is_none(), "duplicate document");
        }
        offset += results.len();
        if results.is_empty() || offset as u64 >= page["total"].as_u64().unwrap() {
            return out;
        }
    }
}

/// Every task, oldest first.
fn all_tasks(server: &Server) -> Vec<Value> {
    let mut tasks = Vec::new();
    let mut from: Option<u64> = None;
    loop {
        let path = match from {
            Some(f) => format!("/tasks?limit=1000&reverse=true&from={f}"),
            None => "/tasks?limit=1000&reverse=true".to_string(),
        };
        let page = server.get(&path);
        tasks.extend(page["results"].as_array().unwrap().iter().cloned());
        match page["next"].as_u64() {
            Some(next) => from = Some(next),
            None => return tasks,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Prometheus text format

/// One sample line: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Parses the text exposition format (0.0.4), failing on any line that breaks its syntax.
fn parse_exposition(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut typed = BTreeSet::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let keyword = parts.next().unwrap();
            let name = parts
                .next()
                .unwrap_or_else(|| panic!("bad comment: {line}"));
            assert!(valid_name(name), "bad metric name in {line}");
            match keyword {
                "HELP" => {}
                "TYPE" => {
                    let kind = parts.next().unwrap_or("");
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                        "bad type in {line}"
                    );
                    assert!(typed.insert(name.to_string()), "TYPE twice for {name}");
                }
                _ => panic!("unknown comment keyword: {line}"),
            }
            continue;
        }
        let name_end = line
            .find(['{', ' '])
            .unwrap_or_else(|| panic!("no value: {line}"));
        let name = &line[..name_end];
        assert!(valid_name(name), "bad metric name in {line}");
        let mut labels = BTreeMap::new();
        let mut rest = &line[name_end..];
        if let Some(after) = rest.strip_prefix('{') {
            let mut chars = after.char_indices().peekable();
            let end = loop {
                let (start, c) = chars
                    .next()
                    .unwrap_or_else(|| panic!("unclosed labels: {line}"));
                if c == '}' {
                    break start + 1;
                }
                let mut label = String::from(c);
                loop {
                    let (_, c) = chars.next().unwrap_or_else(|| panic!("bad label: {line}"));
                    if c == '=' {
                        break;
                    }
                    label.push(c);
                }
                assert!(
                    valid_name(&label) && !label.contains(':'),
                    "bad label name in {line}"
                );
                assert_eq!(
                    chars.next().map(|(_, c)| c),
                    Some('"'),
                    "unquoted value: {line}"
                );
                let mut value = String::new();
                loop {
                    let (_, c) = chars
                        .next()
                        .unwrap_or_else(|| panic!("unclosed value: {line}"));
                    match c {
                        '"' => break,
                        '\\' => match chars.next().map(|(_, c)| c) {
                            Some('\\') => value.push('\\'),
                            Some('"') => value.push('"'),
                            Some('n') => value.push('\n'),
                            other => panic!("bad escape {other:?} in {line}"),
                        },
                        c => value.push(c),
                    }
                }
                labels.insert(label, value);
                match chars.peek().map(|(_, c)| *c) {
                    Some(',') => {
                        chars.next();
                    }
                    Some('}') => {}
                    other => panic!("bad label separator {other:?} in {line}"),
                }
            };
            rest = &after[end..];
        }
        let rest = rest
            .strip_prefix(' ')
            .unwrap_or_else(|| panic!("no space before the value: {line}"));
        let mut fields = rest.split(' ');
        let value = match fields.next().unwrap() {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
        };
        if let Some(ts) = fields.next() {
            ts.parse::<i64>()
                .unwrap_or_else(|_| panic!("bad timestamp in {line}"));
        }
        assert!(fields.next().is_none(), "trailing fields: {line}");
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| typed.contains(*f)))
            .unwrap_or(name);
        assert!(typed.contains(family), "sample before its TYPE: {line}");
        samples.push((name.to_string(), labels, value));
    }
    samples
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn value_of(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, _, v)| *v)
}

/// Buckets of one histogram series are cumulative and end with `+Inf` equal to `_count`.
fn check_histogram(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let matches = |l: &BTreeMap<String, String>| {
        labels
            .iter()
            .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
    };
    let buckets: Vec<(f64, f64)> = samples
        .iter()
        .filter(|(n, l, _)| n == &format!("{name}_bucket") && matches(l))
        .map(|(_, l, v)| {
            let le = match l["le"].as_str() {
                "+Inf" => f64::INFINITY,
                s => s.parse().unwrap(),
            };
            (le, *v)
        })
        .collect();
    assert!(buckets.len() > 2, "{name} {labels:?} has no buckets");
    for pair in buckets.windows(2) {
        assert!(
            pair[0].0 < pair[1].0 && pair[0].1 <= pair[1].1,
            "{name}: {pair:?}"
        );
    }
    let count = value_of(samples, &format!("{name}_count"), labels).expect("a _count");
    assert_eq!(buckets.last().unwrap(), &(f64::INFINITY, count), "{name}");
    let sum = value_of(samples, &format!("{name}_sum"), labels).expect("a _sum");
    assert!(sum >= 0.0 && sum.is_finite(), "{name}_sum = {sum}");
    count
}

#[test]
fn metrics_and_json_logs_after_traffic() {
    let dir = tempfile::tempdir().unwrap();
    let key = "ops-metrics-master-key-0123456789";
    let metrics_port = common::free_port();
    let log = dir.path().join("quarry.log");
    let server = start(
        &log,
        vec![
            "--db-path".into(),
            path_arg(&dir.path().join("db")),
            "--log-format".into(),
            "json".into(),
            "--log-level".into(),
            "info,tantivy=warn".into(),
            "--slow-search-ms".into(),
            "0".into(),
            "--master-key".into(),
            key.into(),
            "--metrics-addr".into(),
            format!("127.0.0.1:{metrics_port}"),
        ],
    );
    let films = corpus_lines("movies", 300);
    let (status, _) = send_json(
        &server,
        "POST",
        "/indexes",
        Some(key),
        &json!({"uid": "films", "primaryKey": "id"}),
    );
    assert_eq!(status, 202);
    let task = add_ndjson(&server, "films", &films, Some(key));
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let (_, body) = send(
            &server,
            "GET",
            &format!("/tasks/{task}"),
            Some(key),
            "",
            Vec::new(),
        );
        if body["status"] == "succeeded" {
            break;
        }
        assert!(
            body["status"] != "failed" && Instant::now() < deadline,
            "{body}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, _) = send(
        &server,
        "GET",
        "/indexes/films/search?q=star&limit=5",
        Some(key),
        "",
        Vec::new(),
    );
    assert_eq!(status, 200);
    let (status, _) = send_json(
        &server,
        "POST",
        "/indexes/films/search",
        Some(key),
        &json!({"q": "love", "limit": 3, "offset": 1}),
    );
    assert_eq!(status, 200);
    let (status, _) = send(
        &server,
        "GET",
        "/indexes/missing",
        Some(key),
        "",
        Vec::new(),
    );
    assert_eq!(status, 404);

    // Protected like every other route.
    let (status, _) = send(&server, "GET", "/metrics", None, "", Vec::new());
    assert_eq!(status, 401);
    let response = server
        .client
        .get(server.url("/metrics"))
        .header("Authorization", format!("Bearer {key}"))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let samples = parse_exposition(&response.text().unwrap());

    let search_get = [
        ("route", "/indexes/{uid}/search"),
        ("method", "GET"),
        ("status", "200"),
    ];
    assert!(value_of(&samples, "quarry_http_requests_total", &search_get).unwrap() >= 1.0);
    assert!(
        check_histogram(
            &samples,
            "quarry_http_request_duration_seconds",
            &search_get
        ) >= 1.0
    );
    let search_post = [
        ("route", "/indexes/{uid}/search"),
        ("method", "POST"),
        ("status", "200"),
    ];
    assert!(value_of(&samples, "quarry_http_requests_total", &search_post).unwrap() >= 1.0);
    let not_found = [
        ("route", "/indexes/{uid}"),
        ("method", "GET"),
        ("status", "404"),
    ];
    assert!(value_of(&samples, "quarry_http_requests_total", &not_found).unwrap() >= 1.0);
    assert!(check_histogram(&samples, "quarry_search_duration_seconds", &[]) >= 2.0);
    // The searches above read the documents of "love" into their snapshot's cache.
    let cached = |kind: &str| value_of(&samples, "quarry_search_cache_bytes", &[("kind", kind)]);
    assert!(cached("word_documents").unwrap() > 0.0);
    for kind in [
        "derivations",
        "document_unions",
        "word_digests",
        "digest_unions",
        "proximity_pairs",
        "proximity_far_costs",
    ] {
        assert!(cached(kind).is_some(), "{kind}");
    }
    assert!(value_of(&samples, "quarry_search_cache_evictions_total", &[]).is_some());
    assert!(value_of(&samples, "quarry_documents_indexed_total", &[]).unwrap() >= 300.0);
    assert!(check_histogram(&samples, "quarry_batch_duration_seconds", &[]) >= 2.0);
    assert!(value_of(&samples, "quarry_tasks", &[("status", "succeeded")]).unwrap() >= 2.0);
    assert_eq!(
        value_of(&samples, "quarry_tasks", &[("status", "enqueued")]),
        Some(0.0)
    );
    assert_eq!(
        value_of(&samples, "quarry_index_documents", &[("index", "films")]),
        Some(300.0)
    );
    assert!(value_of(&samples, "quarry_index_size_bytes", &[("index", "films")]).unwrap() > 1000.0);
    let rss = value_of(&samples, "process_resident_memory_bytes", &[]).unwrap();
    assert!(rss > 1e6 && rss < 64e9, "resident memory {rss}");

    // The same on the metrics port.
    let separate = server
        .client
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .header("Authorization", format!("Bearer {key}"))
        .send()
        .unwrap();
    assert_eq!(separate.status().as_u16(), 200);
    let samples = parse_exposition(&separate.text().unwrap());
    assert_eq!(
        value_of(&samples, "quarry_index_documents", &[("index", "films")]),
        Some(300.0)
    );

    let status = server.signal_and_wait("TERM", Duration::from_secs(60));
    assert!(status.success(), "{status}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains(key), "the master key reached the log");
    assert!(
        !text.to_ascii_lowercase().contains("authorization"),
        "a header reached the log"
    );
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let find = |message: &str, check: &dyn Fn(&Value) -> bool| {
        lines
            .iter()
            .find(|l| l["message"] == message && check(l))
            .unwrap_or_else(|| panic!("no `{message}` line matching in:\n{text}"))
    };
    let slow = find("slow search", &|l| l["q"] == "star");
    assert_eq!(slow["level"], "WARN");
    assert_eq!(slow["index_uid"], "films");
    assert_eq!(slow["limit"], 5);
    assert!(slow["duration_ms"].as_f64().is_some(), "{slow}");
    let slow_post = find("slow search", &|l| l["q"] == "love");
    assert_eq!(slow_post["offset"], 1);
    find("task enqueued", &|l| l["task_uid"] == task);
    find("processing batch", &|l| {
        l["task_type"] == "documentAdditionOrUpdate"
    });
    let done = find("task succeeded", &|l| l["task_uid"] == task);
    assert!(done["duration_ms"].as_u64().is_some(), "{done}");
    assert_eq!(done["task_type"], "documentAdditionOrUpdate");
    find("batch finished", &|l| l["duration_ms"].as_u64().is_some());
    find("request", &|l| {
        l["status"] == 200 && l["span"]["route"] == "/metrics"
    });
}

// ---------------------------------------------------------------------------------------
// Dumps

/// `--search-cache-size` bounds what the snapshots' search caches keep: with a budget far below
/// what a few searches read, the caches evict (`quarry_search_cache_evictions_total`) and the
/// searches answer exactly as with the default budget, under which nothing is evicted. Both
/// runs serve the same data directory, so ties come in the same order.
#[test]
fn a_small_search_cache_evicts_and_answers_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let db = path_arg(&dir.path().join("db"));
    let films = corpus_lines("movies", 2000);
    let queries = [
        "star",
        "love",
        "the",
        "wars",
        "s",
        "a",
        "dark night",
        "toy story",
        "lord of the rings",
        "star wars",
        "man",
        "harry potter",
        "spider",
        "the lo",
    ];
    let mut runs = Vec::new();
    for (run, size) in [None, Some("16KiB")].into_iter().enumerate() {
        let mut list = vec!["--db-path".to_string(), db.clone()];
        if let Some(size) = size {
            list.extend(["--search-cache-size".to_string(), size.to_string()]);
        }
        let server = start(&dir.path().join(format!("run{run}.log")), list);
        if run == 0 {
            let (status, _) = send_json(
                &server,
                "POST",
                "/indexes",
                None,
                &json!({"uid": "films", "primaryKey": "id"}),
            );
            assert_eq!(status, 202);
            let task = add_ndjson(&server, "films", &films, None);
            wait_ok(&server, task);
        }
        let mut answers = Vec::new();
        // Twice over: the second pass finds what the first one cached, or reads it again.
        for _ in 0..2 {
            for q in queries {
                let (status, body) = send_json(
                    &server,
                    "POST",
                    "/indexes/films/search",
                    None,
                    &json!({"q": q, "limit": 10, "showRankingScore": true}),
                );
                assert_eq!(status, 200, "{body}");
                answers.push((q, body["hits"].clone(), body["estimatedTotalHits"].clone()));
            }
        }
        let text = server
            .client
            .get(server.url("/metrics"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        let samples = parse_exposition(&text);
        let evictions = value_of(&samples, "quarry_search_cache_evictions_total", &[]).unwrap();
        let held: f64 = samples
            .iter()
            .filter(|(n, _, _)| n == "quarry_search_cache_bytes")
            .map(|(_, _, v)| v)
            .sum();
        runs.push((answers, evictions, held));
        server.kill();
    }
    let (default_answers, default_evictions, default_held) = &runs[0];
    let (small_answers, small_evictions, _) = &runs[1];
    assert_eq!(*default_evictions, 0.0);
    assert!(*default_held > 16.0 * 1024.0, "{default_held}");
    assert!(*small_evictions > 0.0);
    for (default, small) in default_answers.iter().zip(small_answers) {
        assert_eq!(default, small, "query {}", default.0);
    }
}

/// The entries of a `.dump` archive, by path.
fn read_archive(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let file = std::fs::File::open(path).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut out = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        out.insert(name, bytes);
    }
    out
}

/// Runs the binary until it exits (it is expected to refuse to start); returns its stderr.
fn run_refused(mut command: Command) -> String {
    let output = command
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("running quarry");
    assert!(!output.status.success(), "quarry started: {output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn dump_round_trips_the_debian_corpus_with_its_settings() {
    let dir = tempfile::tempdir().unwrap();
    let dumps = dir.path().join("dumps");
    let source = start(
        &dir.path().join("a.log"),
        vec![
            "--db-path".into(),
            path_arg(&dir.path().join("a")),
            "--dump-dir".into(),
            path_arg(&dumps),
            "--log-level".into(),
            "warn".into(),
        ],
    );
    let mut settings: Value = serde_json::from_str(
        &std::fs::read_to_string(data_dir().join("debian.settings.json")).unwrap(),
    )
    .unwrap();
    settings["stopWords"] = json!(["the", "a", "of"]);
    settings["synonyms"] = json!({"editor": ["vim", "emacs"]});
    settings["typoTolerance"] = json!({"minWordSizeForTypos": {"oneTypo": 4, "twoTypos": 10}});
    settings["displayedAttributes"] = json!(["*"]);
    let (status, body) = send_json(
        &source,
        "POST",
        "/indexes",
        None,
        &json!({"uid": "debian", "primaryKey": "id"}),
    );
    assert_eq!(status, 202, "{body}");
    let (status, body) = send_json(
        &source,
        "PATCH",
        "/indexes/debian/settings",
        None,
        &settings,
    );
    assert_eq!(status, 202, "{body}");
    let lines = corpus_lines("debian", usize::MAX);
    assert!(lines.len() > 60_000);
    let mut last = 0;
    for chunk in lines.chunks(16_000) {
        last = add_ndjson(&source, "debian", chunk, None);
    }
    // A second index without a primary key or settings, and a failed task in the history.
    last = last.max(add_ndjson(
        &source,
        "films",
        &corpus_lines("movies", 200),
        None,
    ));
    let (status, _) = send_json(&source, "POST", "/indexes", None, &json!({"uid": "debian"}));
    assert_eq!(status, 202);
    source.wait_idle(TIMEOUT);
    wait_ok(&source, last);

    let (status, body) = send(&source, "POST", "/dumps", None, "", Vec::new());
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["type"], "dumpCreation");
    assert_eq!(body["indexUid"], Value::Null);
    let dump_task = wait_ok(&source, body["taskUid"].as_u64().unwrap());
    let dump_uid = dump_task["details"]["dumpUid"]
        .as_str()
        .unwrap()
        .to_string();
    let dump = dumps.join(format!("{dump_uid}.dump"));
    assert!(dump.is_file(), "{} is missing", dump.display());

    let entries = read_archive(&dump);
    let metadata: Value = serde_json::from_slice(&entries["metadata.json"]).unwrap();
    assert_eq!(metadata["dumpVersion"], 1);
    assert_eq!(metadata["quarryVersion"], env!("CARGO_PKG_VERSION"));
    assert!(metadata["dumpDate"].as_str().is_some());
    let keys: Value = serde_json::from_slice(&entries["keys.json"]).unwrap();
    assert_eq!(keys, json!([]));
    for name in [
        "indexes/debian/metadata.json",
        "indexes/debian/settings.json",
        "indexes/debian/documents.ndjson",
        "indexes/films/documents.ndjson",
        "tasks/queue.ndjson",
        "tasks/batches.ndjson",
    ] {
        assert!(
            entries.contains_key(name),
            "{name} is not in the dump: {:?}",
            entries.keys()
        );
    }

    // Rebuild a fresh instance from it and compare everything.
    let target_db = dir.path().join("b");
    let target = start(
        &dir.path().join("b.log"),
        vec![
            "--db-path".into(),
            path_arg(&target_db),
            "--import-dump".into(),
            path_arg(&dump),
            "--log-level".into(),
            "warn".into(),
        ],
    );
    let indexes_a = source.get("/indexes?limit=100");
    let indexes_b = target.get("/indexes?limit=100");
    assert_eq!(
        indexes_a, indexes_b,
        "index metadata (uid, primaryKey, createdAt, updatedAt)"
    );
    for index in ["debian", "films"] {
        assert_eq!(
            source.get(&format!("/indexes/{index}/settings")),
            target.get(&format!("/indexes/{index}/settings")),
            "settings of {index}"
        );
        let docs_a = all_documents(&source, index);
        let docs_b = all_documents(&target, index);
        assert_eq!(docs_a.len(), docs_b.len(), "{index}");
        for (id, doc) in &docs_a {
            assert_eq!(Some(doc), docs_b.get(id), "document {id} of {index}");
        }
        let stats_a = source.get(&format!("/indexes/{index}/stats"));
        let stats_b = target.get(&format!("/indexes/{index}/stats"));
        assert_eq!(stats_a["numberOfDocuments"], stats_b["numberOfDocuments"]);
        assert_eq!(stats_a["fieldDistribution"], stats_b["fieldDistribution"]);
    }
    assert_eq!(all_documents(&target, "debian").len(), lines.len());
    // The same documents match; the order of ties follows internal document ids, which a
    // rebuild assigns anew, so the matches are compared as sets.
    let search = "/indexes/debian/search?q=xdpyinfo&limit=1000";
    let (found_a, found_b) = (source.get(search), target.get(search));
    assert_eq!(found_a["estimatedTotalHits"], found_b["estimatedTotalHits"]);
    assert!(found_a["estimatedTotalHits"].as_u64().unwrap() < 1000);
    let ids = |v: &Value| -> BTreeSet<String> {
        v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| id_key(&h["id"]))
            .collect()
    };
    assert!(!ids(&found_a).is_empty());
    assert_eq!(ids(&found_a), ids(&found_b));
    let tasks_a = all_tasks(&source);
    let tasks_b = all_tasks(&target);
    assert_eq!(tasks_a.len(), tasks_b.len());
    for (a, b) in tasks_a.iter().zip(&tasks_b) {
        if a["type"] == "dumpCreation" {
            assert_eq!(b["status"], "succeeded", "{b}");
            assert_eq!(b["details"], a["details"]);
        } else {
            assert_eq!(a, b, "task history");
        }
    }
    assert!(tasks_b.iter().any(|t| t["status"] == "failed"));

    // An existing database is never overwritten, as Meilisearch refuses it.
    let status = target.signal_and_wait("TERM", Duration::from_secs(60));
    assert!(status.success());
    let mut again = common::command();
    again
        .arg("--db-path")
        .arg(&target_db)
        .arg("--import-dump")
        .arg(&dump)
        .arg("--http-addr")
        .arg("127.0.0.1:0");
    let stderr = run_refused(again);
    assert!(stderr.contains("already exists"), "{stderr}");
    let mut missing = common::command();
    missing
        .arg("--db-path")
        .arg(dir.path().join("c"))
        .arg("--import-dump")
        .arg(dir.path().join("nothing.dump"))
        .arg("--http-addr")
        .arg("127.0.0.1:0");
    let stderr = run_refused(missing);
    assert!(stderr.contains("does not exist"), "{stderr}");
    let kept = start(
        &dir.path().join("b2.log"),
        vec![
            "--db-path".into(),
            path_arg(&target_db),
            "--import-dump".into(),
            path_arg(&dump),
            "--ignore-dump-if-db-exists".into(),
            "--log-level".into(),
            "warn".into(),
        ],
    );
    assert_eq!(
        kept.get("/indexes/debian/stats")["numberOfDocuments"],
        lines.len()
    );
}

// ---------------------------------------------------------------------------------------
// Snapshots

fn single_file_with_extension(dir: &Path, ext: &str) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

/// Acknowledged additions: task uid and the ids of its documents.
type Acked = Arc<Mutex<Vec<(u64, Vec<String>)>>>;

#[test]
fn a_snapshot_taken_under_writes_restores_a_consistent_instance() {
    let dir = tempfile::tempdir().unwrap();
    let snapshots = dir.path().join("snapshots");
    let source = Arc::new(start(
        &dir.path().join("a.log"),
        args(&[
            "--log-level",
            "warn",
            "--snapshot-dir",
            &path_arg(&snapshots),
            "--db-path",
            &path_arg(&dir.path().join("a")),
        ]),
    ));
    let lines = corpus_lines("movies", usize::MAX);
    let chunks: Vec<Vec<String>> = lines.chunks(25).map(<[String]>::to_vec).collect();
    let acked: Acked = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (source, acked, stop) = (source.clone(), acked.clone(), stop.clone());
        std::thread::spawn(move || {
            for chunk in chunks {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let ids = chunk
                    .iter()
                    .map(|l| id_key(&serde_json::from_str::<Value>(l).unwrap()["id"]))
                    .collect();
                let task = add_ndjson(&source, "films", &chunk, None);
                acked.lock().unwrap().push((task, ids));
            }
        })
    };
    while acked.lock().unwrap().len() < 30 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let (status, body) = send(&source, "POST", "/snapshots", None, "", Vec::new());
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["type"], "snapshotCreation");
    let snapshot_task = body["taskUid"].as_u64().unwrap();
    // Keep writing while the snapshot is taken.
    let target_acks = acked.lock().unwrap().len() + 30;
    while acked.lock().unwrap().len() < target_acks && !writer.is_finished() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let done = wait_ok(&source, snapshot_task);
    assert_eq!(done["details"], Value::Null);
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    // One write surely registered after the snapshot ran, whatever the writer managed before.
    let late = json!({"id": 999_999_999, "title": "written after the snapshot"}).to_string();
    let task = add_ndjson(&source, "films", std::slice::from_ref(&late), None);
    acked
        .lock()
        .unwrap()
        .push((task, vec!["999999999".to_string()]));
    source.wait_idle(TIMEOUT);
    let snapshot = single_file_with_extension(&snapshots, "snapshot");

    let target_db = dir.path().join("b");
    let target = start(
        &dir.path().join("b.log"),
        args(&[
            "--log-level",
            "warn",
            "--db-path",
            &path_arg(&target_db),
            "--import-snapshot",
            &path_arg(&snapshot),
        ]),
    );
    target.wait_idle(TIMEOUT);
    let tasks = all_tasks(&target);
    let uids: Vec<u64> = tasks.iter().map(|t| t["uid"].as_u64().unwrap()).collect();
    assert_eq!(
        uids,
        (0..uids.len() as u64).collect::<Vec<_>>(),
        "the snapshot's queue is a prefix of the source's"
    );
    assert!(
        uids.len() as u64 > snapshot_task,
        "every task registered before the snapshot task is in it"
    );
    let restored_snapshot_task = &tasks[snapshot_task as usize];
    assert_eq!(restored_snapshot_task["type"], "snapshotCreation");
    assert_eq!(restored_snapshot_task["status"], "succeeded");
    let acked = acked.lock().unwrap().clone();
    let mut expected: BTreeSet<String> = BTreeSet::new();
    for (task, ids) in &acked {
        if (*task as usize) < tasks.len() {
            assert_eq!(
                tasks[*task as usize]["status"], "succeeded",
                "{}",
                tasks[*task as usize]
            );
            expected.extend(ids.iter().cloned());
        }
    }
    let restored: BTreeSet<String> = all_documents(&target, "films").into_keys().collect();
    assert_eq!(restored.len(), expected.len());
    assert_eq!(
        restored, expected,
        "the restored documents are exactly those of the snapshot's tasks"
    );
    let in_source = all_documents(&source, "films");
    for id in &restored {
        assert!(in_source.contains_key(id));
    }
    // Tasks registered while the snapshot was taken are in it (enqueued, then processed after
    // the import); those registered after it are not, nor are their documents (on a loaded
    // machine the writer may register all its tasks before the snapshot task runs: the late
    // write above is always after it).
    let after_snapshot = acked
        .iter()
        .filter(|(task, _)| *task as usize >= tasks.len())
        .count();
    assert!(after_snapshot >= 1, "the late write is after the snapshot");
    assert!(
        !restored.contains("999999999"),
        "the late write is not in the snapshot"
    );
    assert!(
        restored.len() < in_source.len(),
        "writes after the snapshot are not in it ({after_snapshot} tasks after it)"
    );

    // An existing database is never overwritten.
    let status = target.signal_and_wait("TERM", Duration::from_secs(60));
    assert!(status.success());
    let mut again = common::command();
    again
        .arg("--db-path")
        .arg(&target_db)
        .arg("--import-snapshot")
        .arg(&snapshot)
        .arg("--http-addr")
        .arg("127.0.0.1:0");
    let stderr = run_refused(again);
    assert!(stderr.contains("already exists"), "{stderr}");
}

#[test]
fn scheduled_snapshots_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let snapshots = dir.path().join("snapshots");
    let server = start(
        &dir.path().join("quarry.log"),
        args(&[
            "--log-level",
            "warn",
            "--db-path",
            &path_arg(&dir.path().join("db")),
            "--snapshot-dir",
            &path_arg(&snapshots),
            "--schedule-snapshot",
            "1",
        ]),
    );
    let task = add_ndjson(&server, "films", &corpus_lines("movies", 50), None);
    wait_ok(&server, task);
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let page = server.get("/tasks?types=snapshotCreation&statuses=succeeded");
        if page["total"].as_u64().unwrap() >= 1 {
            break;
        }
        assert!(Instant::now() < deadline, "no scheduled snapshot: {page}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let count = std::fs::read_dir(&snapshots)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "snapshot")
        })
        .count();
    assert!(count >= 1);
}

// ---------------------------------------------------------------------------------------
// Disk full

/// A tmpfs mounted for the test and unmounted when dropped.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the filesystem holding `dir` until a write fails with ENOSPC.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = vec![0x5au8; 64 * 1024];
    loop {
        match file.write(&block) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(28), "{e}");
                break;
            }
        }
    }
    // Small leftovers (less than a block) too.
    while file.write(&[0x5a]).is_ok_and(|n| n == 1) {}
    let _ = file.sync_all();
    path
}

#[test]
fn a_full_disk_refuses_writes_keeps_searches_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let mount_point = dir.path().join("mnt");
    std::fs::create_dir_all(&mount_point).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=48m", "tmpfs"])
        .arg(&mount_point)
        .stderr(std::process::Stdio::piped())
        .output();
    match mounted {
        Ok(output) if output.status.success() => {}
        other => {
            eprintln!("\n\n*** SKIPPED: the disk-full test could not mount a tmpfs (it needs root): {other:?} ***\n\n");
            return;
        }
    }
    let _mount = Mount(mount_point.clone());
    let db = mount_point.join("db");
    let log = dir.path().join("quarry.log");
    let server_args = args(&[
        "--log-level",
        "warn",
        "--db-path",
        &path_arg(&db),
        "--max-indexing-memory",
        "32MiB",
    ]);
    let server = start(&log, server_args.clone());
    let films = corpus_lines("movies", usize::MAX);
    let first = add_ndjson(&server, "films", &films[..1000], None);
    wait_ok(&server, first);

    let filler = fill(&mount_point);
    let (status, body) = send(
        &server,
        "POST",
        "/indexes/films/documents",
        None,
        "application/x-ndjson",
        films[1000..2000].join("\n").into_bytes(),
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "no_space_left_on_device", "{body}");
    assert_eq!(body["type"], "system", "{body}");
    let (status, body) = send_json(
        &server,
        "POST",
        "/indexes/films/search",
        None,
        &json!({"q": "love"}),
    );
    assert_eq!(status, 200, "searches keep working: {body}");
    assert!(!body["hits"].as_array().unwrap().is_empty());
    assert_eq!(
        server.get("/indexes/films/stats")["numberOfDocuments"],
        1000
    );
    assert_eq!(
        std::fs::read_dir(db.join("payloads")).unwrap().count(),
        0,
        "no payload is left behind"
    );

    // Space returns: writes work again and nothing acknowledged is lost.
    std::fs::remove_file(&filler).unwrap();
    let second = add_ndjson(&server, "films", &films[1000..2000], None);
    wait_ok(&server, second);
    assert_eq!(
        server.get("/indexes/films/stats")["numberOfDocuments"],
        2000
    );
    let status = server.signal_and_wait("TERM", Duration::from_secs(60));
    assert!(status.success());
    let restarted = start(&log, server_args);
    let docs = all_documents(&restarted, "films");
    assert_eq!(docs.len(), 2000);
    for line in &films[..2000] {
        let film: Value = serde_json::from_str(line).unwrap();
        assert!(docs.contains_key(&id_key(&film["id"])), "{film}");
    }
}

/// Polls a task with a key until it finishes; asserts it succeeded.
fn wait_ok_with_key(server: &Server, task: u64, key: &str) -> Value {
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        let (status, body) = send(
            server,
            "GET",
            &format!("/tasks/{task}"),
            Some(key),
            "",
            Vec::new(),
        );
        assert_eq!(status, 200, "{body}");
        match body["status"].as_str() {
            Some("succeeded") => return body,
            Some("failed") | Some("canceled") => panic!("task {task}: {body}"),
            _ => {}
        }
        assert!(
            std::time::Instant::now() < deadline,
            "task {task} did not finish"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A dump carries the API keys: an instance rebuilt from it with the same master key has the
/// same keys (uids, values, actions, indexes, dates), they still work, and no default key is
/// added beside them.
#[test]
fn dump_round_trips_the_api_keys() {
    let master = "a-master-key-for-the-dump-keys-test";
    let dir = tempfile::tempdir().unwrap();
    let dumps = dir.path().join("dumps");
    let source = start(
        &dir.path().join("a.log"),
        args(&[
            "--db-path",
            &path_arg(&dir.path().join("a")),
            "--dump-dir",
            &path_arg(&dumps),
            "--master-key",
            master,
            "--log-level",
            "warn",
        ]),
    );
    let task = add_ndjson(&source, "films", &corpus_lines("movies", 100), Some(master));
    wait_ok_with_key(&source, task, master);
    let (status, custom) = send_json(
        &source,
        "POST",
        "/keys",
        Some(master),
        &json!({
            "name": "films search",
            "description": "a search key for the films index",
            "actions": ["search", "documents.get"],
            "indexes": ["films"],
            "expiresAt": "2099-01-01T00:00:00Z"
        }),
    );
    assert_eq!(status, 201, "{custom}");
    let (status, keys_before) = send(
        &source,
        "GET",
        "/keys?limit=100",
        Some(master),
        "",
        Vec::new(),
    );
    assert_eq!(status, 200);
    assert_eq!(
        keys_before["results"].as_array().unwrap().len(),
        5,
        "4 default keys and ours"
    );

    let (status, body) = send(&source, "POST", "/dumps", Some(master), "", Vec::new());
    assert_eq!(status, 202, "{body}");
    let dump_task = wait_ok_with_key(&source, body["taskUid"].as_u64().unwrap(), master);
    let dump = dumps.join(format!(
        "{}.dump",
        dump_task["details"]["dumpUid"].as_str().unwrap()
    ));
    let entries = read_archive(&dump);
    let keys_in_dump: Value = serde_json::from_slice(&entries["keys.json"]).unwrap();
    assert_eq!(keys_in_dump.as_array().unwrap().len(), 5);
    assert!(
        !String::from_utf8_lossy(&entries["keys.json"]).contains(custom["key"].as_str().unwrap()),
        "key values are derived again, never written"
    );

    let target = start(
        &dir.path().join("b.log"),
        args(&[
            "--db-path",
            &path_arg(&dir.path().join("b")),
            "--import-dump",
            &path_arg(&dump),
            "--master-key",
            master,
            "--log-level",
            "warn",
        ]),
    );
    let (status, keys_after) = send(
        &target,
        "GET",
        "/keys?limit=100",
        Some(master),
        "",
        Vec::new(),
    );
    assert_eq!(status, 200);
    assert_eq!(
        keys_after["results"], keys_before["results"],
        "the same keys, values and dates"
    );
    // The custom key still works, on its index only.
    let custom_key = custom["key"].as_str().unwrap();
    let (status, found) = send_json(
        &target,
        "POST",
        "/indexes/films/search",
        Some(custom_key),
        &json!({"q": "star"}),
    );
    assert_eq!(status, 200, "{found}");
    let (status, _) = send(&target, "GET", "/keys", Some(custom_key), "", Vec::new());
    assert_eq!(status, 403, "the search key cannot list keys");
}

// ---------------------------------------------------------------------------------------
// Instance settings: experimental features, webhooks and the network

/// Dumps `source` into `dumps` and starts a new instance from that dump, with its database in
/// `<dir>/<name>` and its log in `<dir>/<name>.log`; answers the instance and the dump's entries.
fn dump_into_new_instance(
    source: &Server,
    dumps: &Path,
    dir: &Path,
    name: &str,
    log_level: &str,
) -> (Server, BTreeMap<String, Vec<u8>>) {
    let (status, body) = send(source, "POST", "/dumps", None, "", Vec::new());
    assert_eq!(status, 202, "{body}");
    let dump_task = wait_ok(source, body["taskUid"].as_u64().unwrap());
    let dump = dumps.join(format!(
        "{}.dump",
        dump_task["details"]["dumpUid"].as_str().unwrap()
    ));
    let entries = read_archive(&dump);
    let target = start(
        &dir.join(format!("{name}.log")),
        args(&[
            "--db-path",
            &path_arg(&dir.join(name)),
            "--import-dump",
            &path_arg(&dump),
            "--log-level",
            log_level,
        ]),
    );
    (target, entries)
}

#[test]
fn experimental_features_webhooks_and_the_network_survive_restarts_and_dumps() {
    let dir = tempfile::tempdir().unwrap();
    let dumps = dir.path().join("dumps");
    let db = path_arg(&dir.path().join("a"));
    let options = || {
        args(&[
            "--db-path",
            &db,
            "--dump-dir",
            &path_arg(&dumps),
            "--log-level",
            "warn",
        ])
    };
    let source = start(&dir.path().join("a.log"), options());
    let (status, features) = send_json(
        &source,
        "PATCH",
        "/experimental-features",
        None,
        &json!({"containsFilter": true, "editDocumentsByFunction": true, "network": true}),
    );
    assert_eq!(status, 200, "{features}");
    let (status, network) = send_json(
        &source,
        "PATCH",
        "/network",
        None,
        &json!({"self": "ms-a", "remotes": {
            "ms-a": {"url": "http://127.0.0.1:7700"},
            "ms-b": {"url": "http://127.0.0.1:7701", "searchApiKey": "search-b", "writeApiKey": "write-b"}
        }}),
    );
    assert_eq!(status, 200, "{network}");
    assert_eq!(network["remotes"]["ms-b"]["writeApiKey"], "write-b");
    let (status, webhook) = send_json(
        &source,
        "POST",
        "/webhooks",
        None,
        &json!({"url": "http://127.0.0.1:9/hook", "headers": {"X-Kept": "yes"}}),
    );
    assert_eq!(status, 201, "{webhook}");
    let webhooks = source.get("/webhooks");

    // A restart keeps both.
    source.signal_and_wait("TERM", TIMEOUT);
    let restarted = start(&dir.path().join("a2.log"), options());
    assert_eq!(restarted.get("/experimental-features"), features);
    assert_eq!(restarted.get("/webhooks"), webhooks);
    assert_eq!(restarted.get("/network"), network);

    // A dump carries both to a new instance.
    let (target, entries) = dump_into_new_instance(&restarted, &dumps, dir.path(), "b", "warn");
    assert!(entries.contains_key("instance/experimental-features.json"));
    assert!(entries.contains_key("instance/webhooks.json"));
    assert!(entries.contains_key("instance/network.json"));
    assert_eq!(target.get("/experimental-features"), features);
    assert_eq!(target.get("/webhooks"), webhooks);
    assert_eq!(target.get("/network"), network);
}

// ---------------------------------------------------------------------------------------
// Chat workspaces and the index `chat` settings

#[test]
fn chat_workspaces_survive_restarts_and_dumps_and_their_key_is_never_logged() {
    const SECRET: &str = "sk-ops-provider-key-never-shown-0123456789";
    let dir = tempfile::tempdir().unwrap();
    let dumps = dir.path().join("dumps");
    let db = path_arg(&dir.path().join("a"));
    let options = || {
        args(&[
            "--db-path",
            &db,
            "--dump-dir",
            &path_arg(&dumps),
            "--log-level",
            "debug",
        ])
    };
    let logs = [
        dir.path().join("a.log"),
        dir.path().join("a2.log"),
        dir.path().join("b.log"),
    ];
    // `dump_into_new_instance` logs the new instance to `<dir>/b.log`.
    let source = start(&logs[0], options());
    let (status, _) = send_json(
        &source,
        "PATCH",
        "/experimental-features",
        None,
        &json!({"chatCompletions": true}),
    );
    assert_eq!(status, 200);
    let (status, workspace) = send_json(
        &source,
        "PATCH",
        "/chats/support/settings",
        None,
        &json!({"source": "mistral", "apiKey": SECRET, "baseUrl": "http://127.0.0.1:9/v1",
                "prompts": {"system": "Answer from the films."}}),
    );
    assert_eq!(status, 200, "{workspace}");
    assert_eq!(workspace["apiKey"], "sk-opXXXXXX...");
    let (status, _) = send_json(
        &source,
        "POST",
        "/indexes",
        None,
        &json!({"uid": "films", "primaryKey": "id"}),
    );
    assert_eq!(status, 202);
    let task = add_ndjson(&source, "films", &corpus_lines("movies", 50), None);
    wait_ok(&source, task);
    let (status, body) = send_json(
        &source,
        "PATCH",
        "/indexes/films/settings",
        None,
        &json!({"chat": {"description": "Films", "documentTemplate": "{{ doc.title }}",
                         "searchParameters": {"limit": 4}}}),
    );
    assert_eq!(status, 202, "{body}");
    wait_ok(&source, body["taskUid"].as_u64().unwrap());
    let chat_settings = source.get("/indexes/films/settings/chat");
    assert_eq!(chat_settings["searchParameters"], json!({"limit": 4}));

    // A restart keeps the workspace (key included: it is still hidden the same way).
    source.signal_and_wait("TERM", TIMEOUT);
    let restarted = start(&logs[1], options());
    assert_eq!(restarted.get("/chats/support/settings"), workspace);
    assert_eq!(restarted.get("/chats")["total"], 1);
    assert_eq!(restarted.get("/indexes/films/settings/chat"), chat_settings);

    // A dump carries both to a new instance.
    let (target, entries) = dump_into_new_instance(&restarted, &dumps, dir.path(), "b", "debug");
    assert!(entries.contains_key("instance/chat-workspaces.json"));
    assert_eq!(target.get("/chats/support/settings"), workspace);
    assert_eq!(target.get("/indexes/films/settings/chat"), chat_settings);
    target.signal_and_wait("TERM", TIMEOUT);
    for log in &logs {
        let text = std::fs::read_to_string(log).unwrap();
        assert!(!text.is_empty(), "{}", log.display());
        assert!(
            !text.contains(SECRET),
            "{} holds the provider key",
            log.display()
        );
    }
}

// ---------------------------------------------------------------------------------------
// Dynamic search rules

/// The rules an instance lists, and the hits its searches get with them: all of them for a
/// query, and the second (the pinned one) of a placeholder search, whose other hits come in
/// storage order (which a dump import does not keep).
fn rules_and_pinned_hits(server: &Server) -> (Value, Value, Value) {
    let (status, rules) = send_json(server, "POST", "/dynamic-search-rules", None, &json!({}));
    assert_eq!(status, 200, "{rules}");
    let search = |query: Value| {
        let (status, body) = send_json(server, "POST", "/indexes/films/search", None, &query);
        assert_eq!(status, 200, "{body}");
        body["hits"].clone()
    };
    let placeholder = search(json!({"q": ""}));
    (
        rules,
        search(json!({"q": "batman returns"})),
        placeholder[1].clone(),
    )
}

#[test]
fn dynamic_search_rules_survive_restarts_dumps_and_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let dumps = dir.path().join("dumps");
    let snapshots = dir.path().join("snapshots");
    let db = path_arg(&dir.path().join("a"));
    let options = || {
        args(&[
            "--db-path",
            &db,
            "--dump-dir",
            &path_arg(&dumps),
            "--snapshot-dir",
            &path_arg(&snapshots),
            "--log-level",
            "warn",
        ])
    };
    let source = start(&dir.path().join("a.log"), options());
    let (status, features) = send_json(
        &source,
        "PATCH",
        "/experimental-features",
        None,
        &json!({"dynamicSearchRules": true}),
    );
    assert_eq!(status, 200, "{features}");
    let films = [
        r#"{"id": "local", "title": "Batman Returns"}"#,
        r#"{"id": "remote", "title": "Batman"}"#,
        r#"{"id": "matrix", "title": "The Matrix"}"#,
    ]
    .map(String::from);
    wait_ok(&source, add_ndjson(&source, "films", &films, None));
    let rules = [
        (
            "returns",
            json!({"description": "Returns", "precedence": 3,
                   "conditions": {"query": {"words": "returns"}, "time": {"start": "2020-01-01T00:00:00Z"}},
                   "actions": [{"selector": {"indexUid": "films", "id": "matrix"}, "action": {"type": "pin", "position": 0}}]}),
        ),
        (
            "welcome",
            json!({"conditions": {"query": {"isEmpty": true}},
                   "actions": [{"selector": {"id": "matrix"}, "action": {"type": "pin", "position": 1}}]}),
        ),
        ("deleted", json!({"actions": []})),
    ];
    for (uid, rule) in rules {
        let path = format!("/dynamic-search-rules/{uid}");
        let (status, task) = send_json(&source, "PATCH", &path, None, &rule);
        assert_eq!(status, 202, "{task}");
        wait_ok(&source, task["taskUid"].as_u64().unwrap());
    }
    let (status, task) = send(
        &source,
        "DELETE",
        "/dynamic-search-rules/deleted",
        None,
        "",
        Vec::new(),
    );
    assert_eq!(status, 202, "{task}");
    wait_ok(&source, task["taskUid"].as_u64().unwrap());
    let expected = rules_and_pinned_hits(&source);
    assert_eq!(expected.0["total"], 2, "{}", expected.0);
    assert_eq!(expected.1[0]["id"], "matrix", "{}", expected.1);
    assert_eq!(expected.2["id"], "matrix", "{}", expected.2);

    // A restart keeps them.
    source.signal_and_wait("TERM", TIMEOUT);
    let restarted = start(&dir.path().join("a2.log"), options());
    assert_eq!(rules_and_pinned_hits(&restarted), expected);

    // A snapshot carries them.
    let (status, body) = send(&restarted, "POST", "/snapshots", None, "", Vec::new());
    assert_eq!(status, 202, "{body}");
    wait_ok(&restarted, body["taskUid"].as_u64().unwrap());
    let snapshot = single_file_with_extension(&snapshots, "snapshot");
    let from_snapshot = start(
        &dir.path().join("c.log"),
        args(&[
            "--db-path",
            &path_arg(&dir.path().join("c")),
            "--import-snapshot",
            &path_arg(&snapshot),
            "--log-level",
            "warn",
        ]),
    );
    assert_eq!(rules_and_pinned_hits(&from_snapshot), expected);

    // A dump carries them to a new instance.
    let (target, entries) = dump_into_new_instance(&restarted, &dumps, dir.path(), "b", "warn");
    let record: Value =
        serde_json::from_slice(&entries["instance/dynamic-search-rules.json"]).unwrap();
    assert_eq!(record.as_array().map(Vec::len), Some(2), "{record}");
    assert_eq!(rules_and_pinned_hits(&target), expected);
}
