//! Durability, end to end (issue 2): a `202` means the task and its payload are on disk.
//!
//! This test runs the real `quarry` binary and kills it with SIGKILL many times, at random
//! moments (while it starts and recovers, right after a `202`, while a large batch is being
//! indexed, in the middle of a request), while the Debian corpus is added in batches mixed
//! with replacements (`POST`), partial updates (`PUT`), deletions, settings changes (some of
//! which re-index every document) and swaps with a second index, restarting it each time.
//! An in-test model applies the acknowledged operations in task-uid order with Meilisearch's
//! semantics. At the end every acknowledged task must have succeeded with the details the
//! model predicts, no task may be lost or stuck, and every stored document must equal the
//! model's, byte for byte once serialized (field order included).
//!
//! A request that was in flight when the server died is not acknowledged: after the restart
//! the test learns from the task list whether it was registered (only one write is ever in
//! flight, so it is registered exactly when the newest task uid moved past the last known one)
//! and, if it was, puts it in the model at its uid; if not, the operation is sent again.
//!
//! The seed is printed; set `QUARRY_CRASH_SEED` to replay a run's operations and kill plan
//! (kill moments are wall-clock, so a replay is close, not identical). By default a subset of
//! the corpus is used; `QUARRY_SLOW_TESTS=1` uses all 63,666 documents and more rounds.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Server;
use serde_json::{json, Map, Value};

const INDEX: &str = "debian";
/// A second index, created first, that index swaps exchange with `debian`.
const SHADOW: &str = "debian_shadow";

/// xorshift64*: small, seedable, good enough to pick sizes and moments.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    fn index(&mut self, len: usize) -> usize {
        (self.next_u64() % len as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

/// What an operation does to the documents, as the model applies it.
#[derive(Debug, Clone)]
enum Effect {
    /// `POST`: each document replaces any document with its id.
    Replace(Vec<Map<String, Value>>),
    /// `PUT`: top-level fields are merged into the document with its id, or it is created.
    Merge(Vec<Map<String, Value>>),
    /// Deletion by ids (distinct).
    Delete(Vec<String>),
    /// Creates the shadow index (primary key `id`).
    CreateShadow,
    /// A settings change on `debian` (some of them re-index every document).
    Settings(Value),
    /// Swaps `debian` and the shadow index: their documents and their past tasks' `indexUid`.
    Swap,
}

/// One write request and its meaning.
#[derive(Debug, Clone)]
struct Op {
    label: String,
    method: reqwest::Method,
    path: String,
    content_type: &'static str,
    body: Vec<u8>,
    effect: Effect,
}

impl Op {
    fn task_type(&self) -> &'static str {
        match self.effect {
            Effect::Replace(_) | Effect::Merge(_) => "documentAdditionOrUpdate",
            Effect::Delete(_) => "documentDeletion",
            Effect::CreateShadow => "indexCreation",
            Effect::Settings(_) => "settingsUpdate",
            Effect::Swap => "indexSwap",
        }
    }

    /// The index the task is registered under.
    fn index_uid(&self) -> Value {
        match self.effect {
            Effect::CreateShadow => json!(SHADOW),
            Effect::Swap => Value::Null,
            _ => json!(INDEX),
        }
    }
}

fn id_of(document: &Map<String, Value>) -> String {
    match &document["id"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("unexpected id {other}"),
    }
}

fn parse_line(line: &str) -> Map<String, Value> {
    match serde_json::from_str(line).expect("corpus lines are JSON") {
        Value::Object(map) => map,
        other => panic!("corpus line is not an object: {other}"),
    }
}

fn documents_op(
    label: String,
    method: reqwest::Method,
    documents: Vec<Map<String, Value>>,
    ndjson: bool,
) -> Op {
    let (content_type, body) = if ndjson {
        let mut body = Vec::new();
        for document in &documents {
            serde_json::to_writer(&mut body, document).expect("serializing");
            body.push(b'\n');
        }
        ("application/x-ndjson", body)
    } else {
        (
            "application/json",
            serde_json::to_vec(&documents).expect("serializing"),
        )
    };
    let effect = if method == reqwest::Method::POST {
        Effect::Replace(documents)
    } else {
        Effect::Merge(documents)
    };
    Op {
        label,
        method,
        path: format!("/indexes/{INDEX}/documents?primaryKey=id"),
        content_type,
        body,
        effect,
    }
}

/// The whole sequence of writes, decided up front from the seed: the corpus in chunks, with
/// replacements, partial updates, full-document updates and deletions in between.
fn plan_operations(rng: &mut Rng, corpus: &[Map<String, Value>]) -> Vec<Op> {
    let mut ops = vec![Op {
        label: format!("create {SHADOW}"),
        method: reqwest::Method::POST,
        path: "/indexes".into(),
        content_type: "application/json",
        body: serde_json::to_vec(&json!({"uid": SHADOW, "primaryKey": "id"})).unwrap(),
        effect: Effect::CreateShadow,
    }];
    // Settings changes; the ones on searchable, filterable and sortable attributes re-index.
    let settings = [
        json!({"stopWords": ["and", "of", "the"]}),
        json!({"searchableAttributes": ["package", "summary", "description"]}),
        json!({"filterableAttributes": ["section", "priority", "architecture"]}),
        json!({"sortableAttributes": ["installed_size_kb"]}),
        json!({"typoTolerance": {"enabled": false}}),
        json!({"searchableAttributes": ["*"], "typoTolerance": {"enabled": true}}),
    ];
    let mut cursor = 0usize;
    let mut k = 1u64;
    while cursor < corpus.len() {
        k += 1;
        if cursor > 0 && rng.chance(7) {
            let body = settings[rng.index(settings.len())].clone();
            ops.push(Op {
                label: format!("settings {body}"),
                method: reqwest::Method::PATCH,
                path: format!("/indexes/{INDEX}/settings"),
                content_type: "application/json",
                body: serde_json::to_vec(&body).unwrap(),
                effect: Effect::Settings(body),
            });
            continue;
        }
        if cursor > 0 && rng.chance(4) {
            ops.push(Op {
                label: format!("swap {INDEX} and {SHADOW}"),
                method: reqwest::Method::POST,
                path: "/swap-indexes".into(),
                content_type: "application/json",
                body: serde_json::to_vec(&json!([{"indexes": [INDEX, SHADOW]}])).unwrap(),
                effect: Effect::Swap,
            });
            continue;
        }
        let roll = rng.range(0, 99);
        if roll < 25 || cursor == 0 {
            let size = rng.range(500, 2000) as usize;
            let end = (cursor + size).min(corpus.len());
            let ndjson = rng.chance(80);
            ops.push(documents_op(
                format!("add docs {cursor}..{end}"),
                reqwest::Method::POST,
                corpus[cursor..end].to_vec(),
                ndjson,
            ));
            cursor = end;
        } else if roll < 37 {
            // Whole corpus documents sent again with PUT: merged into what is stored.
            let size = rng.range(100, 1000) as usize;
            let start = rng.index(cursor);
            let end = (start + size).min(cursor);
            ops.push(documents_op(
                format!("update (full) docs {start}..{end}"),
                reqwest::Method::PUT,
                corpus[start..end].to_vec(),
                true,
            ));
        } else if roll < 54 {
            // Replacements: modified documents, some fields gone, some new.
            let count = rng.range(1, 30) as usize;
            let mut documents = Vec::new();
            let mut seen = HashSet::new();
            for _ in 0..count {
                let i = rng.index(cursor);
                if !seen.insert(i) {
                    continue;
                }
                let mut document = corpus[i].clone();
                let summary = document
                    .get("summary")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                document.insert("summary".into(), json!(format!("{summary} [rev {k}]")));
                document.shift_remove("depends");
                document.shift_remove("homepage");
                document.insert("quarry_rev".into(), json!(k));
                document.insert(
                    "quarry".into(),
                    json!({"op": k, "kind": "replaced", "tags": ["crash", "replace"]}),
                );
                documents.push(document);
            }
            ops.push(documents_op(
                format!("replace {} docs", documents.len()),
                reqwest::Method::POST,
                documents,
                rng.chance(30),
            ));
        } else if roll < 72 {
            // Partial updates; a few ids are not added yet, so the update creates them.
            let count = rng.range(1, 60) as usize;
            let mut documents = Vec::new();
            let mut seen = HashSet::new();
            for _ in 0..count {
                let i = if rng.chance(10) {
                    (cursor + rng.index(1000)).min(corpus.len() - 1)
                } else {
                    rng.index(cursor)
                };
                if !seen.insert(i) {
                    continue;
                }
                let mut document = Map::new();
                document.insert("id".into(), corpus[i]["id"].clone());
                document.insert("version".into(), json!(format!("{k}.0-quarry")));
                document.insert("quarry_update".into(), json!(k));
                if rng.chance(30) {
                    document.insert("homepage".into(), Value::Null);
                }
                if rng.chance(30) {
                    document.insert("quarry".into(), json!({"op": k, "kind": "merged"}));
                }
                documents.push(document);
            }
            ops.push(documents_op(
                format!("partial update of {} docs", documents.len()),
                reqwest::Method::PUT,
                documents,
                rng.chance(50),
            ));
        } else if roll < 90 {
            let count = rng.range(1, 300) as usize;
            let mut ids = Vec::new();
            let mut seen = HashSet::new();
            for _ in 0..count {
                // Mostly documents already sent, a few ids that never exist.
                let id = if rng.chance(5) {
                    format!("{}", 10_000_000 + rng.range(0, 1000))
                } else {
                    id_of(&corpus[rng.index(cursor)])
                };
                if seen.insert(id.clone()) {
                    ids.push(id);
                }
            }
            let as_numbers = rng.chance(50);
            let body: Vec<Value> = ids
                .iter()
                .map(|id| match id.parse::<u64>() {
                    Ok(n) if as_numbers => json!(n),
                    _ => json!(id),
                })
                .collect();
            ops.push(Op {
                label: format!("delete {} ids", ids.len()),
                method: reqwest::Method::POST,
                path: format!("/indexes/{INDEX}/documents/delete-batch"),
                content_type: "application/json",
                body: serde_json::to_vec(&body).expect("serializing"),
                effect: Effect::Delete(ids),
            });
        } else {
            let id = id_of(&corpus[rng.index(cursor)]);
            ops.push(Op {
                label: format!("delete doc {id}"),
                method: reqwest::Method::DELETE,
                path: format!("/indexes/{INDEX}/documents/{id}"),
                content_type: "application/json",
                body: Vec::new(),
                effect: Effect::Delete(vec![id]),
            });
        }
    }
    ops
}

/// The outcome of sending one write.
enum Sent {
    Acknowledged(u64),
    /// No answer: the server died while the request was in flight (or before it was sent).
    NoAnswer(String),
}

fn send(server: &Server, op: &Op) -> Sent {
    let mut request = server
        .client
        .request(op.method.clone(), server.url(&op.path))
        .timeout(Duration::from_secs(120));
    if !op.body.is_empty() {
        request = request
            .header("Content-Type", op.content_type)
            .body(op.body.clone());
    }
    let response = match request.send() {
        Ok(r) => r,
        Err(e) => return Sent::NoAnswer(e.to_string()),
    };
    let status = response.status();
    let text = match response.text() {
        Ok(t) => t,
        Err(e) => return Sent::NoAnswer(format!("reading the answer: {e}")),
    };
    assert_eq!(
        status.as_u16(),
        202,
        "{} answered {status}: {text}",
        op.label
    );
    let summary: Value = serde_json::from_str(&text).expect("a 202 body is JSON");
    Sent::Acknowledged(
        summary["taskUid"]
            .as_u64()
            .unwrap_or_else(|| panic!("no taskUid in {summary}")),
    )
}

/// Everything the test knows about what the server was told.
struct Ledger {
    seed: u64,
    ops: Vec<Op>,
    /// Index of the next operation to send.
    next_op: usize,
    /// Registered tasks: uid → operation index, acknowledged or learnt after a restart.
    registered: BTreeMap<u64, usize>,
    /// The operation that was in flight when the server was killed.
    uncertain: Option<usize>,
    acknowledged: usize,
    confirmed_after_crash: usize,
    resent_after_crash: usize,
}

impl Ledger {
    fn last_uid(&self) -> Option<u64> {
        self.registered.keys().next_back().copied()
    }

    fn expected_next_uid(&self) -> u64 {
        self.last_uid().map_or(0, |u| u + 1)
    }

    fn fail(&self, what: &str) -> ! {
        panic!(
            "crash recovery (seed {}, replay with QUARRY_CRASH_SEED={}): {what}",
            self.seed, self.seed
        )
    }

    fn record(&mut self, uid: u64, op: usize) {
        if uid != self.expected_next_uid() {
            self.fail(&format!(
                "`{}` got task uid {uid}, expected {} (the last known task is {:?})",
                self.ops[op].label,
                self.expected_next_uid(),
                self.last_uid()
            ));
        }
        self.registered.insert(uid, op);
    }

    /// After a restart: no registered task is lost, and the in-flight one (if any) either
    /// became the next task or does not exist.
    fn reconcile(&mut self, server: &Server) {
        let page = server.get("/tasks?limit=1");
        let total = page["total"].as_u64().unwrap_or(0);
        let newest = &page["results"][0];
        let newest_uid = newest["uid"].as_u64();
        if let Some(op) = self.uncertain.take() {
            let expected = self.expected_next_uid();
            if let Some(uid) = newest_uid.filter(|uid| *uid == expected) {
                if newest["type"] != self.ops[op].task_type()
                    || newest["indexUid"] != self.ops[op].index_uid()
                {
                    self.fail(&format!(
                        "task {uid} appeared after a crash but is not `{}`: {newest}",
                        self.ops[op].label
                    ));
                }
                eprintln!(
                    "  in-flight `{}` was registered as task {uid}",
                    self.ops[op].label
                );
                self.registered.insert(uid, op);
                self.confirmed_after_crash += 1;
            } else {
                eprintln!(
                    "  in-flight `{}` was not registered; sending it again",
                    self.ops[op].label
                );
                self.next_op = op;
                self.resent_after_crash += 1;
            }
        }
        if newest_uid != self.last_uid() || total != self.registered.len() as u64 {
            self.fail(&format!(
                "after a restart the newest task is {newest_uid:?} of {total}, but {} tasks were registered, the last being {:?}",
                self.registered.len(),
                self.last_uid()
            ));
        }
    }

    /// Sends the next operation; returns false when the server did not answer.
    fn send_next(&mut self, server: &Server) -> bool {
        let op = self.next_op;
        self.next_op += 1;
        match send(server, &self.ops[op]) {
            Sent::Acknowledged(uid) => {
                self.record(uid, op);
                self.acknowledged += 1;
                true
            }
            Sent::NoAnswer(error) => {
                eprintln!("  `{}` got no answer: {error}", self.ops[op].label);
                self.uncertain = Some(op);
                false
            }
        }
    }

    fn has_more(&self) -> bool {
        self.next_op < self.ops.len()
    }
}

/// How a round ends.
#[derive(Debug)]
enum KillPlan {
    /// While the process starts and recovers, before it answers.
    DuringStartup(Duration),
    /// At a random moment, whatever is happening (often mid-request).
    Timer(Duration),
    /// After the n-th acknowledged write of the round, plus a pause (often mid-batch).
    AfterAcks(usize, Duration),
    /// After n acknowledged writes are all processed, plus a pause: the writer has been idle
    /// for a moment, so the kill often lands in a background segment merge.
    AfterIdle(usize, Duration),
}

/// Waits (bounded) until the server has no unfinished task, without failing when it dies.
fn settle(server: &Server, timeout: Duration, stop: &AtomicBool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline && !stop.load(Ordering::SeqCst) {
        let Ok(response) = server
            .client
            .get(server.url("/tasks?statuses=enqueued,processing&limit=1"))
            .timeout(Duration::from_secs(10))
            .send()
        else {
            return;
        };
        let Ok(page) = response.json::<Value>() else {
            return;
        };
        if page["total"].as_u64() == Some(0) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sleep_unless(stop: &AtomicBool, duration: Duration) {
    let deadline = Instant::now() + duration;
    while Instant::now() < deadline && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn run_round(ledger: &mut Ledger, rng: &mut Rng, db: &Path, log: &Path, plan: &KillPlan) {
    if let KillPlan::DuringStartup(delay) = plan {
        let port = common::free_port();
        let mut child = common::command()
            .arg("--db-path")
            .arg(db)
            .arg("--http-addr")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--log-level")
            .arg("warn")
            .stderr(Stdio::from(
                std::fs::File::options()
                    .create(true)
                    .append(true)
                    .open(log)
                    .expect("log file"),
            ))
            .spawn()
            .expect("spawning quarry");
        std::thread::sleep(*delay);
        let _ = child.kill();
        let _ = child.wait();
        return;
    }
    let server = Server::start(db, log, &[]);
    ledger.reconcile(&server);
    let never = AtomicBool::new(false);
    if rng.chance(30) {
        // Let the re-enqueued work commit now and then, so kills also land between batches.
        settle(&server, Duration::from_secs(60), &never);
    }
    match plan {
        KillPlan::DuringStartup(_) => unreachable!(),
        KillPlan::Timer(delay) => {
            let killed = Arc::new(AtomicBool::new(false));
            let killer = {
                let killed = killed.clone();
                let pid = server.pid();
                let delay = *delay;
                std::thread::spawn(move || {
                    std::thread::sleep(delay);
                    common::send_signal(pid, "KILL");
                    killed.store(true, Ordering::SeqCst);
                })
            };
            while !killed.load(Ordering::SeqCst) {
                if !ledger.has_more() {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
                if !ledger.send_next(&server) {
                    break;
                }
                if rng.chance(15) {
                    settle(&server, Duration::from_secs(30), &killed);
                } else {
                    sleep_unless(&killed, Duration::from_millis(rng.range(0, 200)));
                }
            }
            killer.join().expect("the killer thread");
        }
        KillPlan::AfterAcks(n, pause) => {
            let mut acks = 0;
            while acks < *n && ledger.has_more() {
                if !ledger.send_next(&server) {
                    ledger.fail("the server stopped answering before it was killed");
                }
                acks += 1;
                if rng.chance(15) {
                    settle(&server, Duration::from_secs(30), &never);
                } else {
                    std::thread::sleep(Duration::from_millis(rng.range(0, 150)));
                }
            }
            std::thread::sleep(*pause);
        }
        KillPlan::AfterIdle(n, pause) => {
            for _ in 0..*n {
                if !ledger.has_more() {
                    break;
                }
                if !ledger.send_next(&server) {
                    ledger.fail("the server stopped answering before it was killed");
                }
            }
            settle(&server, Duration::from_secs(60), &never);
            std::thread::sleep(*pause);
        }
    }
    server.kill();
}

/// The documents the model holds after applying the registered operations in uid order, and
/// the details each task should show.
/// Tasks in `skip` are left out (to tell, when a task failed, whether it left a trace).
fn apply_model(ledger: &Ledger, skip: &HashSet<u64>) -> (Model, BTreeMap<u64, Value>) {
    let mut documents: Documents = HashMap::new();
    let mut shadow: Documents = HashMap::new();
    let mut details = BTreeMap::new();
    for (&uid, &op) in &ledger.registered {
        if skip.contains(&uid) {
            continue;
        }
        let expected = match &ledger.ops[op].effect {
            Effect::Replace(docs) => {
                for document in docs {
                    documents.insert(id_of(document), document.clone());
                }
                json!({"receivedDocuments": docs.len(), "indexedDocuments": docs.len()})
            }
            Effect::Merge(docs) => {
                for document in docs {
                    match documents.get_mut(&id_of(document)) {
                        Some(existing) => {
                            for (key, value) in document {
                                existing.insert(key.clone(), value.clone());
                            }
                        }
                        None => {
                            documents.insert(id_of(document), document.clone());
                        }
                    }
                }
                json!({"receivedDocuments": docs.len(), "indexedDocuments": docs.len()})
            }
            Effect::Delete(ids) => {
                let deleted = ids
                    .iter()
                    .filter(|id| documents.remove(*id).is_some())
                    .count();
                json!({"providedIds": ids.len(), "deletedDocuments": deleted})
            }
            Effect::CreateShadow => json!({"primaryKey": "id"}),
            Effect::Settings(body) => body.clone(),
            Effect::Swap => {
                std::mem::swap(&mut documents, &mut shadow);
                json!({"swaps": [{"indexes": [INDEX, SHADOW], "rename": false}]})
            }
        };
        details.insert(uid, expected);
    }
    (
        BTreeMap::from([(INDEX, documents), (SHADOW, shadow)]),
        details,
    )
}

/// The documents of one index, by id.
type Documents = HashMap<String, Map<String, Value>>;
/// The documents of each index.
type Model = BTreeMap<&'static str, Documents>;

/// The `indexUid` each task shows: the index it was registered under, exchanged by every later
/// swap (as Meilisearch rewrites the history of swapped indexes).
fn expected_index_uids(ledger: &Ledger) -> BTreeMap<u64, Value> {
    let mut uids: BTreeMap<u64, Value> = ledger
        .registered
        .iter()
        .map(|(&uid, &op)| (uid, ledger.ops[op].index_uid()))
        .collect();
    for (&swap_uid, &op) in &ledger.registered {
        if !matches!(ledger.ops[op].effect, Effect::Swap) {
            continue;
        }
        for (_, index) in uids.range_mut(..swap_uid) {
            if *index == json!(INDEX) {
                *index = json!(SHADOW);
            } else if *index == json!(SHADOW) {
                *index = json!(INDEX);
            }
        }
    }
    uids
}

/// Every registered task succeeded with the predicted details; none is lost, stuck or extra.
/// Returns the problems and the uids of the tasks that did not succeed.
fn check_tasks(
    server: &Server,
    ledger: &Ledger,
    details: &BTreeMap<u64, Value>,
) -> (Vec<String>, HashSet<u64>) {
    let mut problems = Vec::new();
    let mut unsuccessful = HashSet::new();
    let page = server.get("/tasks?limit=1");
    if page["total"].as_u64() != Some(ledger.registered.len() as u64)
        || page["results"][0]["uid"].as_u64() != ledger.last_uid()
    {
        problems.push(format!(
            "{} tasks registered (last {:?}) but the server lists {} (newest {})",
            ledger.registered.len(),
            ledger.last_uid(),
            page["total"],
            page["results"][0]["uid"]
        ));
    }
    let index_uids = expected_index_uids(ledger);
    for (&uid, &op) in &ledger.registered {
        let op = &ledger.ops[op];
        let response = server
            .client
            .get(server.url(&format!("/tasks/{uid}")))
            .send()
            .expect("GET /tasks/{uid}");
        if !response.status().is_success() {
            problems.push(format!(
                "task {uid} (`{}`) is lost: GET /tasks/{uid} answered {}",
                op.label,
                response.status()
            ));
            continue;
        }
        let task: Value = response.json().expect("a task is JSON");
        if task["status"] != "succeeded" {
            unsuccessful.insert(uid);
            problems.push(format!(
                "task {uid} (`{}`) did not succeed: {task}",
                op.label
            ));
            continue;
        }
        if task["type"] != op.task_type() || task["indexUid"] != index_uids[&uid] {
            problems.push(format!(
                "task {uid} (`{}`) is not what was sent: {task}",
                op.label
            ));
        }
        if task["details"] != details[&uid] {
            problems.push(format!(
                "task {uid} (`{}`) has details {} but the model predicts {}",
                op.label, task["details"], details[&uid]
            ));
        }
    }
    (problems, unsuccessful)
}

/// The stored documents equal the model's, each one serialized byte for byte.
/// Both indexes hold exactly the model's documents.
fn check_model(server: &Server, ledger: &Ledger, model: &Model) -> Vec<String> {
    model
        .iter()
        .flat_map(|(index, documents)| check_documents(server, ledger, index, documents))
        .collect()
}

fn check_documents(
    server: &Server,
    ledger: &Ledger,
    index: &str,
    model: &Documents,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut stored: HashMap<String, Map<String, Value>> = HashMap::new();
    let limit = 5000;
    let mut offset = 0;
    let mut total = None;
    loop {
        let page = server.get(&format!(
            "/indexes/{index}/documents?limit={limit}&offset={offset}"
        ));
        let page_total = page["total"].as_u64().expect("a total");
        if *total.get_or_insert(page_total) != page_total {
            problems.push(format!(
                "the document total changed while paginating: {total:?} then {page_total}"
            ));
        }
        let results = page["results"].as_array().expect("results");
        for document in results {
            let document = document.as_object().expect("documents are objects").clone();
            let id = id_of(&document);
            if let Some(first) = stored.insert(id.clone(), document.clone()) {
                problems.push(format!(
                    "document {id} is listed twice in {index}:\n    once as {}\n    then as {}\n    {}",
                    Value::Object(first),
                    Value::Object(document),
                    history(ledger, &id)
                ));
            }
        }
        offset += results.len();
        if results.is_empty() || offset as u64 >= page_total {
            break;
        }
        assert!(offset < 10_000_000, "pagination does not end");
    }
    if total != Some(model.len() as u64) || stored.len() != model.len() {
        problems.push(format!(
            "{index} holds {} documents (total {total:?}) but the model {}",
            stored.len(),
            model.len()
        ));
    }
    let stats = server.get(&format!("/indexes/{index}/stats"));
    if stats["numberOfDocuments"].as_u64() != Some(model.len() as u64) {
        problems.push(format!(
            "stats say {} documents but the model {}",
            stats["numberOfDocuments"],
            model.len()
        ));
    }
    let mut ids: Vec<&String> = model.keys().collect();
    ids.sort_by_key(|id| id.parse::<u64>().unwrap_or(u64::MAX));
    for id in ids {
        let expected = serde_json::to_string(&model[id]).expect("serializing");
        match stored.get(id) {
            None => problems.push(format!(
                "document {id} is missing from {index}; expected {expected}"
            )),
            Some(document) => {
                let actual = serde_json::to_string(document).expect("serializing");
                if actual != expected {
                    problems.push(format!(
                        "document {id} of {index} differs:\n    stored   {actual}\n    expected {expected}\n    {}",
                        history(ledger, id)
                    ));
                }
            }
        }
    }
    for id in stored.keys() {
        if !model.contains_key(id) {
            problems.push(format!(
                "document {id} should not be in {index}: {}",
                Value::Object(stored[id].clone())
            ));
        }
    }
    problems
}

/// The registered tasks that touched one document, in uid order, to read a mismatch.
fn history(ledger: &Ledger, id: &str) -> String {
    let mut lines = Vec::new();
    for (&uid, &op) in &ledger.registered {
        let op = &ledger.ops[op];
        let touched = match &op.effect {
            Effect::Replace(docs) | Effect::Merge(docs) => docs.iter().any(|d| id_of(d) == id),
            Effect::Delete(ids) => ids.iter().any(|i| i == id),
            // Swaps move every document; settings re-index them: both matter to each one.
            Effect::Swap | Effect::Settings(_) => true,
            Effect::CreateShadow => false,
        };
        if touched {
            lines.push(format!("task {uid}: {}", op.label));
        }
    }
    format!("tasks that touched it: {}", lines.join("; "))
}

fn report(ledger: &Ledger, log: &Path, when: &str, problems: &[String]) {
    if problems.is_empty() {
        return;
    }
    let log_text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = log_text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(40)..];
    let shown: Vec<&str> = problems.iter().take(30).map(String::as_str).collect();
    ledger.fail(&format!(
        "{when}: {} problem(s):\n  {}\n(last lines of the server log):\n{}",
        problems.len(),
        shown.join("\n  "),
        tail.join("\n")
    ));
}

#[test]
fn acknowledged_writes_survive_repeated_sigkill() {
    let started = Instant::now();
    let slow = common::slow_tests();
    let seed = std::env::var("QUARRY_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("crash recovery seed: {seed} (replay with QUARRY_CRASH_SEED={seed})");
    let mut rng = Rng::new(seed);
    let corpus_size = if slow { usize::MAX } else { 30_000 };
    let corpus: Vec<Map<String, Value>> = common::corpus_lines("debian", corpus_size)
        .iter()
        .map(|line| parse_line(line))
        .collect();
    let ops = plan_operations(&mut rng, &corpus);
    let rounds = if slow {
        rng.range(16, 24)
    } else {
        rng.range(10, 15)
    };
    eprintln!(
        "{} documents, {} operations, {rounds} kill rounds",
        corpus.len(),
        ops.len()
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("db");
    let log = dir.path().join("quarry.log");
    let mut ledger = Ledger {
        seed,
        ops,
        next_op: 0,
        registered: BTreeMap::new(),
        uncertain: None,
        acknowledged: 0,
        confirmed_after_crash: 0,
        resent_after_crash: 0,
    };
    // Bounds the kill phase; the final round finishes whatever is left.
    let kill_phase = Duration::from_secs(if slow { 900 } else { 150 });
    for round in 0..rounds {
        if started.elapsed() > kill_phase {
            eprintln!("kill phase time bound reached after {round} rounds");
            break;
        }
        let plan = match rng.range(0, 99) {
            0..=9 => KillPlan::DuringStartup(Duration::from_millis(rng.range(0, 400))),
            10..=44 => KillPlan::Timer(Duration::from_millis(rng.range(50, 2500))),
            // The writer merges segments once idle for 500 ms; the merge takes a moment more.
            45..=59 => KillPlan::AfterIdle(
                rng.range(1, 4) as usize,
                Duration::from_millis(rng.range(450, 1500)),
            ),
            _ => KillPlan::AfterAcks(
                rng.range(1, 6) as usize,
                Duration::from_millis(if rng.chance(40) {
                    0
                } else {
                    rng.range(1, 1200)
                }),
            ),
        };
        let before = ledger.next_op;
        run_round(&mut ledger, &mut rng, &db, &log, &plan);
        eprintln!(
            "round {round}: {plan:?}; ops {before}..{} sent, {} tasks registered ({:.1}s)",
            ledger.next_op,
            ledger.registered.len(),
            started.elapsed().as_secs_f64()
        );
    }

    // The last start: send what is left, let everything finish, and compare with the model.
    let server = Server::start(&db, &log, &[]);
    ledger.reconcile(&server);
    while ledger.has_more() {
        if !ledger.send_next(&server) {
            ledger.fail("the server stopped answering in the final round");
        }
    }
    server.wait_idle(Duration::from_secs(if slow { 1800 } else { 600 }));
    let (model, details) = apply_model(&ledger, &HashSet::new());
    eprintln!(
        "all {} tasks finished ({} acknowledged, {} in-flight ones registered, {} re-sent); model holds {} documents ({:.1}s)",
        ledger.registered.len(),
        ledger.acknowledged,
        ledger.confirmed_after_crash,
        ledger.resent_after_crash,
        model.values().map(HashMap::len).sum::<usize>(),
        started.elapsed().as_secs_f64()
    );
    let (mut problems, unsuccessful) = check_tasks(&server, &ledger, &details);
    let document_problems = check_model(&server, &ledger, &model);
    if !unsuccessful.is_empty() {
        // Say whether the tasks that did not succeed left their effects anyway.
        let (without, _) = apply_model(&ledger, &unsuccessful);
        problems.push(format!(
            "diagnosis: the stored documents differ from the model in {} place(s) with the unsuccessful tasks {unsuccessful:?} applied, and in {} without them",
            document_problems.len(),
            check_model(&server, &ledger, &without).len()
        ));
    }
    problems.extend(document_problems);
    report(&ledger, &log, "after the final round", &problems);

    // Finished work survives a SIGKILL too.
    server.kill();
    let server = Server::start(&db, &log, &[]);
    ledger.reconcile(&server);
    let (mut problems, _) = check_tasks(&server, &ledger, &details);
    problems.extend(check_model(&server, &ledger, &model));
    report(&ledger, &log, "after a last SIGKILL", &problems);
    server.kill();
    eprintln!("done in {:.1}s", started.elapsed().as_secs_f64());
}
