//! Webhooks over HTTP: the `/webhooks` routes with Meilisearch's validation and errors, and
//! deliveries of finished tasks (gzipped NDJSON) to a real receiver started here (a tiny axum
//! server on 127.0.0.1:0): headers, retries after failures, the command-line webhook, and a
//! stuck receiver that never holds the writer up.

mod common;

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::{assert_error, movies, start_server, start_server_with, Server};
use serde_json::{json, Value};

/// How long a test waits for a delivery before it gives up.
const DELIVERY_WAIT: Duration = Duration::from_secs(60);

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Delivery {
    headers: HeaderMap,
    tasks: Vec<Value>,
}

#[derive(Default)]
struct ReceiverState {
    deliveries: Mutex<Vec<Delivery>>,
    /// Requests answered 503 before the receiver starts accepting.
    failures_left: Mutex<u32>,
    /// Requests seen, failed ones included.
    attempts: Mutex<u32>,
    /// While set, requests wait until it is cleared.
    hold: Mutex<bool>,
}

struct Receiver {
    url: String,
    state: Arc<ReceiverState>,
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    *state.attempts.lock().unwrap() += 1;
    while *state.hold.lock().unwrap() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    {
        let mut failures = state.failures_left.lock().unwrap();
        if *failures > 0 {
            *failures -= 1;
            return StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    let mut text = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut text)
        .expect("the body is gzipped");
    let tasks = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is a JSON task"))
        .collect();
    state
        .deliveries
        .lock()
        .unwrap()
        .push(Delivery { headers, tasks });
    StatusCode::OK
}

/// Starts a receiver on its own runtime thread; it serves until the test process ends.
fn start_receiver(failures: u32) -> Receiver {
    let state = Arc::new(ReceiverState {
        failures_left: Mutex::new(failures),
        ..Default::default()
    });
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(state.clone());
    let addr = common::serve_local(app);
    Receiver {
        url: format!("http://{addr}/hook"),
        state,
    }
}

impl Receiver {
    /// Waits until a delivery holds task `uid`, and returns that delivery and the task.
    fn wait_for_task(&self, uid: u64) -> (Delivery, Value) {
        let deadline = Instant::now() + DELIVERY_WAIT;
        loop {
            let found = self.state.deliveries.lock().unwrap().iter().find_map(|d| {
                d.tasks
                    .iter()
                    .find(|t| t["uid"] == uid)
                    .map(|t| (d.clone(), t.clone()))
            });
            if let Some(found) = found {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "no delivery of task {uid} (attempts: {})",
                self.state.attempts.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn fresh() -> Server {
    start_server(quarry_server::ServerConfig::default())
}

#[test]
fn webhooks_are_created_listed_updated_and_deleted() {
    let server = fresh();
    assert_eq!(server.get("/webhooks").expect(200), json!({"results": []}));
    let created = server
        .post(
            "/webhooks",
            json!({"url": "https://example.com/hook", "headers": {"Authorization": "Bearer a-secret-token-of-some-length", "X-Custom": "v"}}),
        )
        .expect(201);
    let uuid = created["uuid"].as_str().unwrap().to_string();
    assert_eq!(uuid.len(), 36);
    assert_eq!(created["isEditable"], true);
    assert_eq!(created["url"], "https://example.com/hook");
    assert_eq!(created["headers"]["X-Custom"], "v");
    let shown = created["headers"]["Authorization"].as_str().unwrap();
    assert!(
        !shown.contains("secret-token"),
        "the secret is not shown: {shown}"
    );
    assert_eq!(
        server.get("/webhooks").expect(200),
        json!({ "results": [created.clone()] })
    );
    assert_eq!(
        server.get(&format!("/webhooks/{uuid}")).expect(200),
        created
    );

    let patched = server
        .patch(
            &format!("/webhooks/{uuid}"),
            json!({"headers": {"X-Custom": null, "X-New": "n"}}),
        )
        .expect(200);
    assert_eq!(patched["url"], "https://example.com/hook");
    assert_eq!(patched["headers"]["X-New"], "n");
    assert!(patched["headers"].get("X-Custom").is_none(), "{patched}");
    assert!(patched["headers"].get("Authorization").is_some());
    let patched = server
        .patch(
            &format!("/webhooks/{uuid}"),
            json!({"url": "http://127.0.0.1:9/other", "headers": null}),
        )
        .expect(200);
    assert_eq!(patched["url"], "http://127.0.0.1:9/other");
    assert_eq!(patched["headers"], json!({}));

    assert_eq!(server.delete(&format!("/webhooks/{uuid}")).status, 204);
    let body = assert_error(
        server.get(&format!("/webhooks/{uuid}")),
        404,
        "webhook_not_found",
    );
    assert_eq!(body["message"], format!("Webhook `{uuid}` not found."));
    assert_error(
        server.delete(&format!("/webhooks/{uuid}")),
        404,
        "webhook_not_found",
    );
}

#[test]
fn bad_webhooks_are_refused_and_change_nothing() {
    let server = fresh();
    let kept = server
        .post("/webhooks", json!({"url": "http://127.0.0.1:9/kept"}))
        .expect(201);
    let uuid = kept["uuid"].as_str().unwrap();

    let body = assert_error(
        server.post("/webhooks", json!({})),
        400,
        "invalid_webhook_url",
    );
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("The URL for the webhook `") && message.ends_with("` is missing."),
        "{message}"
    );
    let body = assert_error(
        server.post("/webhooks", json!({"url": "not a url"})),
        400,
        "invalid_webhook_url",
    );
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("Invalid URL `not a url`: "));
    assert_error(
        server.post("/webhooks", json!({"url": 3})),
        400,
        "invalid_webhook_url",
    );
    assert_error(
        server.post("/webhooks", json!({"url": "http://a.b/", "headers": "x"})),
        400,
        "invalid_webhook_headers",
    );
    assert_error(
        server.post(
            "/webhooks",
            json!({"url": "http://a.b/", "headers": {"X": 1}}),
        ),
        400,
        "invalid_webhook_headers",
    );
    let body = assert_error(
        server.post(
            "/webhooks",
            json!({"url": "http://a.b/", "headers": {"bad header": "v"}}),
        ),
        400,
        "invalid_webhook_headers",
    );
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("Invalid header name `bad header`"));
    let headers: serde_json::Map<String, Value> =
        (0..201).map(|i| (format!("X-H{i}"), json!("v"))).collect();
    let body = assert_error(
        server.post(
            "/webhooks",
            json!({"url": "http://a.b/", "headers": headers}),
        ),
        400,
        "invalid_webhook_headers",
    );
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("Please limit the number of headers to 200."));
    assert_error(
        server.post("/webhooks", json!({"url": "http://a.b/", "uuid": uuid})),
        400,
        "immutable_webhook_uuid",
    );
    assert_error(
        server.post(
            "/webhooks",
            json!({"url": "http://a.b/", "isEditable": false}),
        ),
        400,
        "immutable_webhook_is_editable",
    );
    let body = assert_error(
        server.post("/webhooks", json!({"url": "http://a.b/", "link": 1})),
        400,
        "bad_request",
    );
    assert_eq!(
        body["message"],
        "Unknown field `link`: expected one of `url`, `headers`"
    );
    assert_error(
        server.patch(&format!("/webhooks/{uuid}"), json!({"url": null})),
        400,
        "invalid_webhook_url",
    );
    assert_error(
        server.get("/webhooks/not-a-uuid"),
        400,
        "invalid_webhook_uuid",
    );
    assert_eq!(
        server.get("/webhooks").expect(200),
        json!({ "results": [kept] }),
        "nothing changed"
    );

    // Twenty webhooks at most.
    for i in 1..20 {
        server
            .post(
                "/webhooks",
                json!({"url": format!("http://127.0.0.1:9/{i}")}),
            )
            .expect(201);
    }
    let body = assert_error(
        server.post("/webhooks", json!({"url": "http://127.0.0.1:9/21"})),
        400,
        "invalid_webhooks",
    );
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("Defining too many webhooks would crush the server."));
    assert_eq!(
        server.get("/webhooks").expect(200)["results"]
            .as_array()
            .unwrap()
            .len(),
        20
    );
}

#[test]
fn finished_tasks_are_posted_as_gzipped_ndjson_with_the_headers() {
    let receiver = start_receiver(0);
    let server = fresh();
    server
        .post(
            "/webhooks",
            json!({"url": receiver.url, "headers": {"X-Token": "abc"}}),
        )
        .expect(201);
    let task = server
        .post(
            "/indexes/films/documents",
            Value::Array(movies()[..20].to_vec()),
        )
        .task_uid();
    let finished = server.wait_ok(task);
    let (delivery, delivered) = receiver.wait_for_task(task);
    assert_eq!(
        delivered, finished,
        "the task as GET /tasks/{{uid}} shows it"
    );
    assert_eq!(delivery.headers["content-encoding"], "gzip");
    assert_eq!(delivery.headers["content-type"], "application/x-ndjson");
    assert_eq!(delivery.headers["x-token"], "abc");

    // A failed task is delivered too.
    let failing = server
        .post("/indexes/films/documents", json!([{"id": "bad id!"}]))
        .task_uid();
    server.wait_failed(failing, "invalid_document_id");
    let (_, delivered) = receiver.wait_for_task(failing);
    assert_eq!(delivered["status"], "failed");
}

#[test]
fn failed_deliveries_are_retried() {
    let receiver = start_receiver(2);
    let server = fresh();
    server
        .post("/webhooks", json!({ "url": receiver.url }))
        .expect(201);
    let task = server.create_index("retried", None)["uid"]
        .as_u64()
        .unwrap();
    receiver.wait_for_task(task);
    assert!(
        *receiver.state.attempts.lock().unwrap() >= 3,
        "two refusals, then the delivery"
    );
}

#[test]
fn the_command_line_webhook_is_listed_and_immutable() {
    let receiver = start_receiver(0);
    let url = receiver.url.clone();
    let server = start_server_with(quarry_server::ServerConfig::default(), move |options| {
        options.cli_webhook = Some(quarry_scheduler::webhooks::Webhook {
            url,
            headers: [(
                "Authorization".to_string(),
                "Bearer cli-secret-0123456789".to_string(),
            )]
            .into(),
        });
    });
    let listed = server.get("/webhooks").expect(200);
    let cli = &listed["results"][0];
    assert_eq!(cli["uuid"], "00000000-0000-0000-0000-000000000000");
    assert_eq!(cli["isEditable"], false);
    assert_eq!(cli["url"], receiver.url.as_str());
    assert!(!cli["headers"]["Authorization"]
        .as_str()
        .unwrap()
        .contains("cli-secret"));
    let nil = "/webhooks/00000000-0000-0000-0000-000000000000";
    assert_eq!(server.get(nil).expect(200), *cli);
    let body = assert_error(
        server.patch(nil, json!({"url": "http://a.b/"})),
        400,
        "immutable_webhook",
    );
    assert_eq!(
        body["message"],
        "Webhook `00000000-0000-0000-0000-000000000000` is immutable. The webhook defined from the command line cannot be modified using the API."
    );
    assert_error(server.delete(nil), 400, "immutable_webhook");

    let task = server
        .post(
            "/indexes/cli/documents",
            Value::Array(movies()[..5].to_vec()),
        )
        .task_uid();
    server.wait_ok(task);
    let (delivery, _) = receiver.wait_for_task(task);
    assert_eq!(
        delivery.headers["authorization"],
        "Bearer cli-secret-0123456789"
    );
}

#[test]
fn a_stuck_receiver_never_holds_the_writer() {
    let receiver = start_receiver(0);
    *receiver.state.hold.lock().unwrap() = true;
    let server = fresh();
    server
        .post("/webhooks", json!({ "url": receiver.url }))
        .expect(201);
    let mut tasks = Vec::new();
    for chunk in movies()[..90].chunks(30) {
        let task = server
            .post("/indexes/stuck/documents", Value::Array(chunk.to_vec()))
            .task_uid();
        // Each task finishes while the receiver still holds the first delivery.
        server.wait_ok(task);
        tasks.push(task);
    }
    assert!(
        receiver.state.deliveries.lock().unwrap().is_empty(),
        "nothing was delivered yet"
    );
    *receiver.state.hold.lock().unwrap() = false;
    for task in tasks {
        receiver.wait_for_task(task);
    }
}
