//! `quarry import` and `quarry search`, run as the real binary against a real running instance:
//! every file format (NDJSON gzipped, a JSON array, typed CSV) with its settings file, batching,
//! the errors a user sees, the table and `--json` output, and the API key.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{Server, Started};
use serde_json::{json, Value};

fn start(dir: &Path, extra: &[&str]) -> Server {
    let db = dir.join("db");
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    match Server::start_with(
        &dir.join("quarry.log"),
        |command, port| {
            command
                .arg("--http-addr")
                .arg(format!("127.0.0.1:{port}"))
                .arg("--db-path")
                .arg(&db)
                .args(&extra);
        },
        Duration::from_secs(60),
    ) {
        Started::Ready(server) => server,
        Started::Exited(status, log) => panic!("quarry exited at start ({status}):\n{log}"),
    }
}

fn quarry(server: &Server, args: &[&str]) -> Output {
    let mut command: Command = common::command();
    command.args(args).arg("--url").arg(server.url(""));
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command.output().expect("running quarry")
}

/// Runs a command that must fail, and checks that its error output says `fragment`.
#[track_caller]
fn fails_saying(server: &Server, args: &[&str], fragment: &str) {
    let output = quarry(server, args);
    assert!(!output.status.success(), "{args:?} succeeded");
    assert!(stderr(&output).contains(fragment), "{}", stderr(&output));
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn import_every_format_then_search_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let data = common::data_dir();

    // Gzipped NDJSON with its settings file.
    let movies = data.join("movies.ndjson.gz");
    let settings = data.join("movies.settings.json");
    let output = quarry(
        &server,
        &[
            "import",
            "--index",
            "movies",
            "--settings",
            settings.to_str().unwrap(),
            movies.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).starts_with("imported 3201 documents into `movies`"),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        server.get("/indexes/movies/stats")["numberOfDocuments"],
        3201
    );
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    assert_eq!(
        server.get("/indexes/movies/settings/filterable-attributes"),
        expected["filterableAttributes"]
    );

    // A JSON array, in batches of 120 documents.
    let airports: Vec<Value> = common::corpus_lines("airports", 500)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let json_file = dir.path().join("airports.json");
    std::fs::write(&json_file, serde_json::to_vec(&airports).unwrap()).unwrap();
    let output = quarry(
        &server,
        &[
            "import",
            "--index",
            "airports",
            "--batch-size",
            "120",
            json_file.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("imported 500 documents")
            && stdout(&output).contains("5 requests"),
        "{}",
        stdout(&output)
    );
    assert_eq!(server.get("/indexes/airports/documents/7"), airports[6]);

    // CSV with a typed column, cut into batches that each repeat the header.
    let debian: Vec<Value> = common::corpus_lines("debian", 300)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let csv_file = dir.path().join("packages.csv");
    let mut csv = csv_writer(&csv_file);
    csv.write_record(["id", "package", "section", "installed_size_kb:number"])
        .unwrap();
    for d in &debian {
        csv.write_record([
            d["id"].to_string(),
            d["package"].as_str().unwrap().to_string(),
            d["section"].as_str().unwrap_or_default().to_string(),
            d["installed_size_kb"].to_string(),
        ])
        .unwrap();
    }
    csv.flush().unwrap();
    drop(csv);
    let output = quarry(
        &server,
        &[
            "import",
            "--index",
            "packages",
            "--primary-key",
            "id",
            "--batch-size",
            "100",
            csv_file.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("imported 300 documents")
            && stdout(&output).contains("3 requests"),
        "{}",
        stdout(&output)
    );
    let stored = server.get(&format!("/indexes/packages/documents/{}", debian[10]["id"]));
    assert_eq!(stored["package"], debian[10]["package"]);
    assert_eq!(
        stored["installed_size_kb"], debian[10]["installed_size_kb"],
        "typed CSV column"
    );

    // Search: a readable table, and the raw answer with --json.
    let output = quarry(
        &server,
        &["search", "movies", "jurasic park", "--limit", "3"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let table = stdout(&output);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("id") && lines[0].contains("title"),
        "{table}"
    );
    assert!(lines[1].starts_with('─'), "{table}");
    assert!(lines[2].contains("Jurassic Park"), "{table}");
    assert!(lines.last().unwrap().contains("results in"), "{table}");
    let output = quarry(&server, &["search", "movies", "jurasic park", "--json"]);
    let answer: Value = serde_json::from_slice(&output.stdout).expect("--json prints JSON");
    assert_eq!(answer["hits"][0]["title"], "Jurassic Park");
}

fn csv_writer(path: &Path) -> csv::Writer<std::fs::File> {
    csv::Writer::from_writer(std::fs::File::create(path).unwrap())
}

#[test]
fn errors_are_clear_and_keys_are_sent() {
    let dir = tempfile::tempdir().unwrap();
    let key = "a-master-key-for-the-cli-test";
    let server = start(dir.path(), &["--master-key", key]);
    let file = dir.path().join("docs.ndjson");
    let mut f = std::fs::File::create(&file).unwrap();
    writeln!(f, "{}", json!({"id": 1, "title": "one"})).unwrap();
    writeln!(f, "{}", json!({"id": "not valid!", "title": "two"})).unwrap();
    drop(f);

    // No key: the instance's own error, and a failing exit status.
    let path = file.to_str().unwrap();
    fails_saying(
        &server,
        &["import", "--index", "docs", path],
        "missing_authorization_header",
    );
    // With the key, a document the index refuses fails the import with the task's error.
    fails_saying(
        &server,
        &["import", "--index", "docs", "--api-key", key, path],
        "Document identifier `\"not valid!\"` is invalid",
    );
    // A file whose format cannot be told from its name.
    let odd = dir.path().join("docs.txt");
    std::fs::write(&odd, "{}").unwrap();
    fails_saying(
        &server,
        &[
            "import",
            "--index",
            "docs",
            "--api-key",
            key,
            odd.to_str().unwrap(),
        ],
        "--format json|ndjson|csv",
    );

    // The key from the environment works for search.
    let output = common::command()
        .args(["search", "docs", "one", "--json", "--url", &server.url("")])
        .env("QUARRY_API_KEY", key)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}
