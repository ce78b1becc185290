//! The `quarry` binary seen from the outside (issue 2): its flags and their `QUARRY_*`
//! variables, the production checks, one JSON log line per request with its request id and
//! route pattern, the `x-request-id` header, graceful shutdown on SIGTERM that finishes the
//! running batch, and the master key. These are properties of the process, not of the
//! router, so they are tested by running the real binary.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Server, Started};
use serde_json::{json, Value};

const FLAGS: [(&str, &str); 8] = [
    ("--http-addr", "QUARRY_HTTP_ADDR"),
    ("--db-path", "QUARRY_DB_PATH"),
    ("--master-key", "QUARRY_MASTER_KEY"),
    ("--env", "QUARRY_ENV"),
    (
        "--http-payload-size-limit",
        "QUARRY_HTTP_PAYLOAD_SIZE_LIMIT",
    ),
    ("--log-format", "QUARRY_LOG_FORMAT"),
    ("--log-level", "QUARRY_LOG_LEVEL"),
    ("--no-dashboard", "QUARRY_NO_DASHBOARD"),
];

fn start(dir: &Path, configure: impl FnMut(&mut Command, u16)) -> Server {
    match Server::start_with(&dir.join("quarry.log"), configure, Duration::from_secs(60)) {
        Started::Ready(server) => server,
        Started::Exited(status, log) => panic!("quarry exited at start ({status}):\n{log}"),
    }
}

fn addr_and_db(command: &mut Command, port: u16, db: &Path) {
    command
        .arg("--http-addr")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--db-path")
        .arg(db);
}

/// Runs the binary to completion (bounded) and returns its status and stderr.
fn run_to_exit(mut command: Command) -> (std::process::ExitStatus, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let stderr_path = dir.path().join("stderr");
    command.stderr(std::fs::File::create(&stderr_path).expect("stderr file"));
    let mut child = command.spawn().expect("spawning quarry");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("polling quarry") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "quarry kept running; stderr:\n{}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status,
        std::fs::read_to_string(&stderr_path).unwrap_or_default(),
    )
}

#[test]
fn help_lists_every_flag_with_its_environment_variable() {
    let output = common::command()
        .arg("--help")
        .stdout(std::process::Stdio::piped())
        .output()
        .expect("running quarry --help");
    assert!(output.status.success(), "{output:?}");
    let help = String::from_utf8(output.stdout).expect("help is UTF-8");
    for (flag, env) in FLAGS {
        // An entry is the flag's line and its description, up to the next flag.
        let mut lines = help.lines().skip_while(|l| {
            let l = l.trim_start();
            !(l == flag || l.starts_with(&format!("{flag} ")))
        });
        let first = lines
            .next()
            .unwrap_or_else(|| panic!("`{flag}` is not in --help:\n{help}"));
        let entry: Vec<&str> = std::iter::once(first)
            .chain(lines.take_while(|l| !l.trim_start().starts_with('-')))
            .collect();
        // Help is wrapped to the terminal's width: compare with the line breaks folded.
        let folded = entry
            .join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let mentioned = folded.contains(&format!("[env: {env}"));
        assert!(
            mentioned,
            "`{flag}` does not show `{env}` in --help:\n{help}"
        );
    }
}

#[test]
fn production_refuses_to_start_without_a_long_master_key() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    /// Flags, environment variables, and what the error must say.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 4] = [
        (&["--env", "production"], &[], "master key"),
        (
            &["--env", "production", "--master-key", "short-key"],
            &[],
            "16 bytes",
        ),
        (&[], &[("QUARRY_ENV", "production")], "master key"),
        (
            &[],
            &[
                ("QUARRY_ENV", "production"),
                ("QUARRY_MASTER_KEY", "0123456789abcde"),
            ],
            "16 bytes",
        ),
    ];
    for (args, envs, message) in cases {
        let mut command = common::command();
        addr_and_db(&mut command, common::free_port(), &dir.path().join("db"));
        command.args(args).envs(envs.iter().copied());
        let (status, stderr) = run_to_exit(command);
        assert!(
            !status.success(),
            "{args:?} {envs:?} should not start; stderr:\n{stderr}"
        );
        assert!(
            stderr.contains(message),
            "{args:?} {envs:?}: stderr should explain (`{message}`):\n{stderr}"
        );
        assert!(
            stderr.to_lowercase().contains("production"),
            "{args:?} {envs:?}: stderr should name production:\n{stderr}"
        );
    }
    // Sixteen bytes are enough.
    let db = dir.path().join("db");
    let server = start(dir.path(), |command, port| {
        addr_and_db(command, port, &db);
        command.args(["--env", "production", "--master-key", "0123456789abcdef"]);
    });
    server.kill();
}

#[test]
fn address_and_data_directory_can_come_from_the_environment() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("from-env.db");
    let server = start(dir.path(), |command, port| {
        command
            .env("QUARRY_HTTP_ADDR", format!("127.0.0.1:{port}"))
            .env("QUARRY_DB_PATH", &db)
            .env("QUARRY_LOG_LEVEL", "warn");
    });
    let health = server.get("/health");
    assert_eq!(health, json!({"status": "available"}));
    assert!(
        db.join("VERSION").exists(),
        "QUARRY_DB_PATH was not used: {} has no VERSION",
        db.display()
    );
    server.kill();
}

/// A field of a JSON log line, wherever the formatter put it (the event or its span).
fn log_field<'a>(line: &'a Value, name: &str) -> Option<&'a Value> {
    line.get(name)
        .or_else(|| line.get("fields").and_then(|f| f.get(name)))
        .or_else(|| line.get("span").and_then(|s| s.get(name)))
        .or_else(|| {
            line.get("spans")
                .and_then(Value::as_array)
                .and_then(|spans| spans.iter().find_map(|s| s.get(name)))
        })
}

#[test]
fn json_logs_show_request_id_method_route_status_and_latency() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("db");
    let log_path = dir.path().join("quarry.log");
    let server = start(dir.path(), |command, port| {
        addr_and_db(command, port, &db);
        command.args(["--log-format", "json", "--log-level", "info"]);
    });
    let response = server
        .client
        .post(server.url("/indexes/logged-books/documents"))
        .json(&json!([{"id": 1, "title": "hello world"}, {"id": 2, "title": "goodbye"}]))
        .send()
        .expect("adding documents");
    assert_eq!(response.status().as_u16(), 202);
    let generated = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("an x-request-id header")
        .to_string();
    assert!(!generated.is_empty());
    let task: Value = response.json().expect("a task summary");
    let task = server.wait_task(
        task["taskUid"].as_u64().expect("taskUid"),
        Duration::from_secs(60),
    );
    assert_eq!(task["status"], "succeeded", "{task}");

    let request_id = "cli-test-request-42";
    let response = server
        .client
        .get(server.url("/indexes/logged-books/search?q=hello"))
        .header("X-Request-Id", request_id)
        .send()
        .expect("searching");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some(request_id),
        "an incoming request id is echoed"
    );

    // The request line is written once the response is; wait for it (bounded).
    let deadline = Instant::now() + Duration::from_secs(20);
    let text = loop {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        if text.contains(request_id) || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    server.kill();

    let mut request_lines = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let parsed: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {line}"));
        assert!(
            !line.contains("/indexes/logged-books"),
            "a log line shows a raw URL instead of the route pattern: {line}"
        );
        if log_field(&parsed, "message") == Some(&json!("request")) {
            for field in ["request_id", "method", "route", "status", "latency_ms"] {
                assert!(
                    log_field(&parsed, field).is_some(),
                    "request log line without `{field}`: {line}"
                );
            }
            request_lines.push(parsed);
        }
    }
    let search = request_lines
        .iter()
        .find(|l| log_field(l, "request_id") == Some(&json!(request_id)))
        .unwrap_or_else(|| panic!("no request line with the incoming request id:\n{text}"));
    assert_eq!(log_field(search, "method"), Some(&json!("GET")), "{search}");
    assert_eq!(
        log_field(search, "route"),
        Some(&json!("/indexes/{uid}/search")),
        "{search}"
    );
    assert_eq!(log_field(search, "status"), Some(&json!(200)), "{search}");
    assert!(
        log_field(search, "latency_ms").is_some_and(Value::is_number),
        "{search}"
    );
    let addition = request_lines
        .iter()
        .find(|l| log_field(l, "request_id") == Some(&json!(generated)))
        .unwrap_or_else(|| panic!("no request line with the generated request id:\n{text}"));
    assert_eq!(
        log_field(addition, "method"),
        Some(&json!("POST")),
        "{addition}"
    );
    assert_eq!(
        log_field(addition, "route"),
        Some(&json!("/indexes/{uid}/documents")),
        "{addition}"
    );
    assert_eq!(
        log_field(addition, "status"),
        Some(&json!(202)),
        "{addition}"
    );
}

#[test]
fn sigterm_exits_cleanly_after_committing_the_running_batch() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("db");
    let configure = |command: &mut Command, port: u16| {
        addr_and_db(command, port, &db);
        command.args(["--log-level", "warn"]);
    };
    let server = start(dir.path(), configure);
    let count = if common::slow_tests() { 63_666 } else { 15_000 };
    let mut body = common::corpus_lines("debian", count).join("\n");
    body.push('\n');
    let big = server
        .client
        .post(server.url("/indexes/debian/documents"))
        .header("Content-Type", "application/x-ndjson")
        .body(body)
        .send()
        .expect("adding debian");
    assert_eq!(big.status().as_u16(), 202);
    let big: Value = big.json().expect("a task summary");
    let big_uid = big["taskUid"].as_u64().expect("taskUid");
    // Wait until the batch is running (it may even be done already on a fast machine).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let task = server.get(&format!("/tasks/{big_uid}"));
        if task["status"] != "enqueued" {
            break;
        }
        assert!(Instant::now() < deadline, "the task never started: {task}");
        std::thread::sleep(Duration::from_millis(10));
    }
    let small = server
        .client
        .put(server.url("/indexes/debian/documents"))
        .json(&json!([{"id": 1, "quarry": "after SIGTERM"}, {"id": 99_999_999, "new": true}]))
        .send()
        .expect("updating");
    assert_eq!(small.status().as_u16(), 202);
    let small: Value = small.json().expect("a task summary");
    let small_uid = small["taskUid"].as_u64().expect("taskUid");

    let status = server.signal_and_wait("TERM", Duration::from_secs(600));
    assert!(
        status.success(),
        "SIGTERM should exit cleanly, got {status}"
    );

    let server = start(dir.path(), configure);
    // The batch that was running was committed and recorded before the process exited.
    let task = server.get(&format!("/tasks/{big_uid}"));
    assert_eq!(task["status"], "succeeded", "{task}");
    assert_eq!(
        task["details"],
        json!({"receivedDocuments": count, "indexedDocuments": count})
    );
    // The task enqueued behind it runs after the restart.
    let task = server.wait_task(small_uid, Duration::from_secs(600));
    assert_eq!(task["status"], "succeeded", "{task}");
    let stats = server.get("/indexes/debian/stats");
    assert_eq!(stats["numberOfDocuments"], json!(count + 1), "{stats}");
    let document = server.get("/indexes/debian/documents/1");
    assert_eq!(document["quarry"], "after SIGTERM");
    assert_eq!(document["package"], "0ad");
    let status = server.signal_and_wait("TERM", Duration::from_secs(120));
    assert!(
        status.success(),
        "an idle server exits cleanly on SIGTERM, got {status}"
    );
}

#[test]
fn a_master_key_protects_every_route_but_health() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("db");
    let key = "a-master-key-for-the-cli-test";
    let server = start(dir.path(), |command, port| {
        addr_and_db(command, port, &db);
        command.args(["--master-key", key, "--log-level", "warn"]);
    });
    let check = |request: reqwest::blocking::RequestBuilder, status: u16, code: Option<&str>| {
        let response = request.send().expect("a response");
        assert_eq!(response.status().as_u16(), status);
        if let Some(code) = code {
            let body: Value = response.json().expect("an error body");
            assert_eq!(body["code"], code, "{body}");
            assert_eq!(body["type"], "auth", "{body}");
            assert!(
                body["message"].is_string() && body["link"].is_string(),
                "{body}"
            );
        }
    };
    let client = &server.client;
    check(
        client.get(server.url("/indexes")),
        401,
        Some("missing_authorization_header"),
    );
    check(
        client
            .post(server.url("/indexes/books/documents"))
            .json(&json!([{"id": 1}])),
        401,
        Some("missing_authorization_header"),
    );
    check(
        client
            .get(server.url("/indexes"))
            .bearer_auth("not-the-master-key"),
        403,
        Some("invalid_api_key"),
    );
    check(
        client
            .get(server.url("/tasks"))
            .bearer_auth("not-the-master-key"),
        403,
        Some("invalid_api_key"),
    );
    check(
        client.get(server.url("/indexes")).bearer_auth(key),
        200,
        None,
    );
    check(client.get(server.url("/health")), 200, None);
    // Nothing was registered by the refused write.
    let tasks: Value = client
        .get(server.url("/tasks"))
        .bearer_auth(key)
        .send()
        .expect("tasks")
        .json()
        .expect("a task list");
    assert_eq!(tasks["total"], 0, "{tasks}");
    server.kill();
}

/// The `THP_enabled` line of a process's status: 0 when the process opted out of transparent
/// huge pages.
fn thp_enabled(pid: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("reading status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("THP_enabled:"))
        .map(|value| value.trim().to_string())
        .expect("the kernel reports THP_enabled (Linux 5.0 and later)")
}

#[test]
fn the_server_opts_out_of_transparent_huge_pages_unless_told_to_keep_the_system_setting() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let by_default = start(dir.path(), |command, port| {
        addr_and_db(command, port, &dir.path().join("default.db"));
    });
    assert_eq!(thp_enabled(&by_default.pid().to_string()), "0");
    by_default.kill();

    let kept = start(dir.path(), |command, port| {
        addr_and_db(command, port, &dir.path().join("kept.db"));
        command.env("QUARRY_TRANSPARENT_HUGE_PAGES", "system");
    });
    // The child inherits the test process's setting when it keeps the system's.
    assert_eq!(thp_enabled(&kept.pid().to_string()), thp_enabled("self"));
    kept.kill();
}
