//! Security features of the real binary: HTTPS with a certificate generated for the test
//! (rcgen) and a rustls client that trusts only it, and API keys that survive a restart with
//! the same values (they are derived from the master key, and stored in `<db>/auth.redb`).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Child;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{command, free_port, Server};
use serde_json::{json, Value};

const MASTER: &str = "a-master-key-for-security-tests";

/// A self-signed certificate for `localhost` and 127.0.0.1, written as PEM files.
fn write_certificate(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("generating a certificate");
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, certified.cert.pem()).unwrap();
    std::fs::write(&key_path, certified.key_pair.serialize_pem()).unwrap();
    (cert_path, key_path, certified.cert.der().to_vec())
}

fn client_config(cert_der: &[u8]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls_pki_types::CertificateDer::from(cert_der.to_vec()))
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// One HTTPS request (HTTP/1.1, `Connection: close`); returns the status and the body.
fn https(
    config: &Arc<rustls::ClientConfig>,
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> std::io::Result<(u16, String)> {
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let connection = rustls::ClientConnection::new(config.clone(), name).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port))?;
    tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    tls.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    match tls.read_to_end(&mut response) {
        Ok(_) => {}
        // Some servers close without close_notify; what was read is complete.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !response.is_empty() => {}
        Err(e) => return Err(e),
    }
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn https_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, der) = write_certificate(dir.path());
    let config = client_config(&der);
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("log")).unwrap();
    let mut cmd = command();
    cmd.arg("--db-path")
        .arg(dir.path().join("db"))
        .arg("--http-addr")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--master-key")
        .arg(MASTER)
        .env("QUARRY_SSL_CERT_PATH", &cert)
        .env("QUARRY_SSL_KEY_PATH", &key)
        .stderr(log);
    let mut child = Running(cmd.spawn().expect("spawning quarry"));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok((200, _)) = https(&config, port, "GET", "/health", &[], None) {
            break;
        }
        if let Some(status) = child.0.try_wait().unwrap() {
            let log = std::fs::read_to_string(dir.path().join("log")).unwrap();
            panic!("quarry exited ({status}): {log}");
        }
        assert!(
            Instant::now() < deadline,
            "quarry never answered over HTTPS"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Authorized and refused requests over TLS.
    let bearer = format!("Bearer {MASTER}");
    let (status, body) = https(
        &config,
        port,
        "GET",
        "/keys",
        &[("Authorization", &bearer)],
        None,
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let keys: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(keys["total"], 4);
    let (status, body) = https(&config, port, "GET", "/version", &[], None).unwrap();
    assert_eq!(status, 401, "{body}");
    let (status, _) = https(
        &config,
        port,
        "POST",
        "/indexes",
        &[("Authorization", &bearer)],
        Some(&json!({"uid": "tls_movies"})),
    )
    .unwrap();
    assert_eq!(status, 202);

    // Plain HTTP on the HTTPS port gets no HTTP answer.
    let plain = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{port}/health"))
        .send();
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");
    // A client that does not trust the certificate refuses the connection.
    let other_dir = tempfile::tempdir().unwrap();
    let other = write_certificate(other_dir.path());
    let untrusting = client_config(&other.2);
    assert!(https(&untrusting, port, "GET", "/health", &[], None).is_err());
    // The server still serves trusting clients afterwards.
    assert_eq!(
        https(&config, port, "GET", "/health", &[], None).unwrap().0,
        200
    );
}

#[test]
fn tls_flags_must_come_together_and_name_readable_files() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _key, _) = write_certificate(dir.path());
    let output = command()
        .arg("--db-path")
        .arg(dir.path().join("db"))
        .arg("--ssl-cert-path")
        .arg(&cert)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--ssl-key-path"));
    let output = command()
        .arg("--db-path")
        .arg(dir.path().join("db"))
        .arg("--http-addr")
        .arg(format!("127.0.0.1:{}", free_port()))
        .arg("--ssl-cert-path")
        .arg(&cert)
        .arg("--ssl-key-path")
        .arg(dir.path().join("missing.pem"))
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.pem"));
}

fn request(
    server: &Server,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut builder = server
        .client
        .request(method, server.url(path))
        .header("Authorization", format!("Bearer {token}"));
    if let Some(body) = body {
        builder = builder.json(&body);
    }
    let response = builder.send().unwrap();
    let status = response.status().as_u16();
    let text = response.text().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[test]
fn api_keys_survive_a_restart_with_the_same_values() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let log = dir.path().join("log");
    let server = Server::start(&db, &log, &["--master-key", MASTER]);
    let (status, created) = request(
        &server,
        "POST",
        "/keys",
        MASTER,
        Some(
            json!({"name": "front", "actions": ["search"], "indexes": ["films*"], "expiresAt": null}),
        ),
    );
    assert_eq!(status, 201, "{created}");
    let (_, before) = request(&server, "GET", "/keys?limit=100", MASTER, None);
    let deleted = before["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "Default Chat API Key")
        .unwrap()["uid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        request(&server, "DELETE", &format!("/keys/{deleted}"), MASTER, None).0,
        204
    );
    let (_, before) = request(&server, "GET", "/keys?limit=100", MASTER, None);
    assert_eq!(before["total"], 4);
    assert!(server
        .signal_and_wait("TERM", Duration::from_secs(60))
        .success());

    let server = Server::start(&db, &log, &["--master-key", MASTER]);
    let (_, after) = request(&server, "GET", "/keys?limit=100", MASTER, None);
    assert_eq!(after, before, "keys changed across the restart");
    let value = created["key"].as_str().unwrap();
    let (status, body) = request(
        &server,
        "POST",
        "/indexes/films_fr/search",
        value,
        Some(json!({})),
    );
    assert_ne!(status, 403, "{body}");
    let (status, _) = request(
        &server,
        "POST",
        "/indexes/books/search",
        value,
        Some(json!({})),
    );
    assert_eq!(status, 403);
    // Under another master key the same uids give other values: the old value is refused.
    drop(server);
    let server = Server::start(&db, &log, &["--master-key", "another-master-key-0123"]);
    let (status, _) = request(
        &server,
        "POST",
        "/indexes/films_fr/search",
        value,
        Some(json!({})),
    );
    assert_eq!(status, 403);
}

/// The `quarry_http_requests_in_flight` gauge, read on the metrics listener (which has no
/// request limit of its own, so it answers even when every permit is taken).
fn requests_in_flight(client: &reqwest::blocking::Client, metrics_port: u16) -> u64 {
    let text = client
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("quarry_http_requests_in_flight "))
        .unwrap_or_else(|| panic!("no in-flight gauge in:\n{text}"))
        .parse()
        .unwrap()
}

/// Waits (without a time bound on the outcome: the deadline only turns a hang into a failure)
/// until the server counts `expected` requests in flight.
fn wait_in_flight(client: &reqwest::blocking::Client, metrics_port: u16, expected: u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while requests_in_flight(client, metrics_port) != expected {
        assert!(
            Instant::now() < deadline,
            "the server never counted {expected} requests in flight"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A search whose body is still being sent: the server has admitted it (it holds a permit)
/// and waits for the rest of the body.
struct StreamingSearch {
    stream: TcpStream,
    rest: &'static [u8],
}

impl StreamingSearch {
    const BODY: &[u8] = br#"{"q": "a", "limit": 1}"#;

    fn start(port: u16) -> StreamingSearch {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .unwrap();
        let head = format!(
            "POST /indexes/limited/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            Self::BODY.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&Self::BODY[..1]).unwrap();
        StreamingSearch {
            stream,
            rest: &Self::BODY[1..],
        }
    }

    /// Sends the rest of the body and reads the response's status line.
    fn finish(mut self) -> String {
        self.stream.write_all(self.rest).unwrap();
        let mut response = Vec::new();
        self.stream.read_to_end(&mut response).unwrap();
        let response = String::from_utf8_lossy(&response).into_owned();
        response.lines().next().unwrap_or_default().to_string()
    }
}

#[test]
fn past_the_in_flight_limit_requests_get_503_not_a_collapse() {
    let dir = tempfile::tempdir().unwrap();
    let metrics_port = free_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let server = Server::start(
        &dir.path().join("db"),
        &dir.path().join("log"),
        &[
            "--max-concurrent-requests",
            "2",
            "--metrics-addr",
            &metrics_addr,
        ],
    );
    let create = server
        .client
        .post(server.url("/indexes"))
        .json(&json!({"uid": "limited"}))
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap();
    server.wait_task(create["taskUid"].as_u64().unwrap(), Duration::from_secs(60));
    let probe = common::client();
    wait_in_flight(&probe, metrics_port, 0);

    // Two searches whose bodies are still streaming hold both permits; the gauge says when
    // the server has admitted them, so what follows does not depend on timing.
    let first = StreamingSearch::start(server.port);
    let second = StreamingSearch::start(server.port);
    wait_in_flight(&probe, metrics_port, 2);

    let search = |client: &reqwest::blocking::Client| {
        client
            .post(server.url("/indexes/limited/search"))
            .json(&json!({"q": "a"}))
            .send()
            .unwrap()
    };
    // Every further request is refused at once, with Meilisearch's error body, including a
    // burst of them at the same time.
    let refusals: Vec<(u16, Option<String>, Value)> = std::thread::scope(|scope| {
        let burst: Vec<_> = (0..16)
            .map(|_| {
                scope.spawn(|| {
                    let r = search(&common::client());
                    let retry = r
                        .headers()
                        .get("retry-after")
                        .map(|v| v.to_str().unwrap().to_string());
                    (r.status().as_u16(), retry, r.json::<Value>().unwrap())
                })
            })
            .collect();
        burst.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (status, retry_after, body) in refusals {
        assert_eq!(status, 503, "{body}");
        assert_eq!(retry_after.as_deref(), Some("1"));
        assert_eq!(body["code"], "too_many_requests");
        assert_eq!(body["type"], "system");
        assert_eq!(
            body["link"],
            "https://docs.meilisearch.com/errors#too_many_requests"
        );
        assert!(
            body["message"].as_str().unwrap().contains("limit: 2"),
            "{body}"
        );
    }
    // Other routes too; health checks are not counted.
    let stats = server.client.get(server.url("/stats")).send().unwrap();
    assert_eq!(stats.status(), 503);
    assert_eq!(server.get("/health")["status"], "available");
    assert_eq!(requests_in_flight(&probe, metrics_port), 2);

    // The admitted requests finish normally, and their permits come back.
    assert_eq!(first.finish(), "HTTP/1.1 200 OK");
    wait_in_flight(&probe, metrics_port, 1);
    assert_eq!(search(&server.client).status(), 200);
    assert_eq!(second.finish(), "HTTP/1.1 200 OK");
    wait_in_flight(&probe, metrics_port, 0);
    assert_eq!(search(&server.client).status(), 200);

    // A client that vanishes mid-body gives its permit back too.
    let abandoned = StreamingSearch::start(server.port);
    wait_in_flight(&probe, metrics_port, 1);
    drop(abandoned);
    wait_in_flight(&probe, metrics_port, 0);
}
