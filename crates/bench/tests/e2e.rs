//! End-to-end check that every benchmark works against a real server: starts the workspace's
//! `quarry` binary on a free port with a fresh data directory, loads the movies corpus (with two
//! update rounds and a compaction) and runs `relevance`, `keystrokes` and `requests` briefly,
//! plus the error paths (server down, index missing). It needs the binary (`cargo build -p quarry`, or `QUARRY_BIN=path`) and
//! `../shared/data`; without them it says so and passes, so CI without the corpora stays green.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use quarry_bench::client::{Api, Endpoint};
use quarry_bench::index::{self, IndexOptions};
use quarry_bench::load::{HttpClient, LoadConfig};
use quarry_bench::relevance::{self, RelevanceOptions};
use quarry_bench::search_load::{self, Run};

fn quarry_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("QUARRY_BIN") {
        return Some(PathBuf::from(p));
    }
    // target/<profile>/deps/e2e-<hash> -> target/<profile>/quarry, or the other profile.
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent()?.parent()?;
    let target = profile_dir.parent()?;
    [
        profile_dir.join("quarry"),
        target.join("debug/quarry"),
        target.join("release/quarry"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn benchmarks_against_a_real_quarry() {
    let Some(bin) = quarry_binary() else {
        eprintln!("skipped: no quarry binary (run `cargo build -p quarry` or set QUARRY_BIN)");
        return;
    };
    let shared = shared_dir();
    if !shared.join("data/movies.ndjson.gz").is_file() {
        eprintln!("skipped: no corpora at {}", shared.display());
        return;
    }
    let db = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new(&bin)
        .arg("--db-path")
        .arg(db.path())
        .arg("--http-addr")
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    let pid = child.id();
    let _server = Server(child);
    let endpoint = Endpoint::new(&format!("http://127.0.0.1:{port}/"), None);
    let api = Api::new(endpoint.clone()).unwrap();
    let start = Instant::now();
    while api.check_health().is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "quarry never became healthy"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // A missing index is a clear error.
    let err = api.require_index("movies").unwrap_err().to_string();
    assert!(err.contains("does not exist"), "{err}");

    let load = index::run(
        &api,
        &IndexOptions {
            corpus: "movies".into(),
            data_dir: shared.join("data"),
            index: "movies".into(),
            primary_key: "id".into(),
            batch_docs: 1000,
            batch_bytes: 90_000_000,
            pid: Some(pid),
            db_path: Some(db.path().to_path_buf()),
            task_timeout: Duration::from_secs(300),
            rounds: 2,
            settle: Duration::from_millis(200),
            settle_idle: true,
            compact: true,
        },
    )
    .unwrap();
    assert_eq!(load.first.documents, 3201);
    assert_eq!(load.first.batches, 4);
    assert_eq!(load.first.indexed_documents, Some(3201));
    assert!(load.first.peak_rss.as_ref().unwrap().max_sampled_rss_bytes > 0);
    assert!(load.first.disk.as_ref().unwrap().bytes > 0);
    let cpu = load.first.cpu.as_ref().unwrap();
    assert!(cpu.after_seconds >= cpu.before_seconds && cpu.seconds >= 0.0);
    assert!(cpu.settle_seconds.is_some());
    assert!(load.first.idle_after_seconds.is_some());
    // Every round replaces every document: the count stays, each round is measured alone.
    assert_eq!(load.rounds.len(), 2);
    for round in &load.rounds {
        assert_eq!(round.documents, 3201);
        assert_eq!(round.batches, 4);
        assert_eq!(round.indexed_documents, Some(3201));
        assert!(round.wall_seconds > 0.0 && round.documents_per_second > 0.0);
        assert!(round.cpu.as_ref().unwrap().seconds >= 0.0);
        assert!(round.rss_bytes.unwrap() > 0);
        assert!(round.peak_rss.as_ref().unwrap().vm_hwm_bytes > 0);
        assert!(round.disk.as_ref().unwrap().bytes > 0);
    }
    assert!(load.compacted_disk.as_ref().unwrap().bytes > 0);
    let json = serde_json::to_value(&load).unwrap();
    assert_eq!(json["rounds"].as_array().unwrap().len(), 2);
    index::print(&load);

    let rel = relevance::run(
        &api,
        &RelevanceOptions {
            corpus: "movies".into(),
            queries_dir: shared.join("queries"),
            index: "movies".into(),
        },
        None,
    )
    .unwrap();
    assert_eq!(rel.queries, 400);
    assert_eq!(rel.report.overall.errors, 0);
    // Loose: the engine's relevance is tuned elsewhere; this only proves the plumbing.
    assert!(
        rel.report.overall.hit_at_10 > 0.3,
        "{:?}",
        rel.report.overall
    );
    let json = relevance::to_json(&rel, true);
    assert_eq!(json["per_query"].as_array().unwrap().len(), 400);

    let config = LoadConfig {
        connections: 2,
        duration: Duration::from_millis(700),
        warmup: Duration::from_millis(200),
        request_timeout: Duration::from_secs(10),
        http_client: Default::default(),
    };
    let keys =
        search_load::keystroke_bodies(&shared.join("queries/movies.dev.keystrokes.txt")).unwrap();
    // Both clients: the load threads' own sockets (the default) and reqwest's.
    for http_client in [HttpClient::Wire, HttpClient::Reqwest] {
        let r = search_load::run(
            &api,
            Run {
                command: "keystrokes",
                index: "movies",
                source: "movies keystrokes".into(),
                bodies: keys.clone(),
                config: LoadConfig {
                    http_client,
                    ..config.clone()
                },
            },
        )
        .unwrap();
        assert!(r.result.requests > 0);
        assert_eq!(r.result.errors, 0, "{:?}", r.result.error_samples);
        assert!(r.result.latency.is_some());
        assert_eq!(r.result.http_client, http_client);
    }

    // Filters, facets and sort are not served by Quarry yet: a plain body with formatting.
    let body = r#"{"q":"love","limit":20,"attributesToHighlight":["title"]}"#;
    let r = search_load::run(
        &api,
        Run {
            command: "requests",
            index: "movies",
            source: body.into(),
            bodies: vec![Bytes::from(body)],
            config,
        },
    )
    .unwrap();
    assert!(r.result.requests > 0);
    assert_eq!(r.result.errors, 0, "{:?}", r.result.error_samples);

    // A server that is down is a clear error, after bounded retries.
    let down = Api::new(Endpoint::new(
        &format!("http://127.0.0.1:{}", free_port()),
        None,
    ))
    .unwrap();
    let err = format!("{:#}", down.check_health().unwrap_err());
    assert!(err.contains("is the server running"), "{err}");
}
