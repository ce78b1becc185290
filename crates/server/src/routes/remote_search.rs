//! The remote part of a federated multi-search: the queries whose `federationOptions.remote`
//! names another instance of the network are sent there as one federated `POST /multi-search`
//! (with the remote's `searchApiKey`), and its hits come back to be merged with the local ones.
//! A remote that fails does not fail the search: its error goes to `remoteErrors`, with
//! Meilisearch's `remote_*` codes and messages.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use quarry_api_types::multi_search::{Federation, MultiSearchQuery};
use quarry_api_types::{Code, ResponseError};
use quarry_scheduler::network::Remote;
use reqwest::blocking::Client;
use serde_json::{json, Map, Value};

/// The header that tells an instance a multi-search comes from another instance of the
/// network (its hits then carry what the caller needs to merge them).
pub const PROXY_SEARCH_HEADER: &str = "Meili-Proxy-Search";
/// How long a remote may take to answer, retries included (Meilisearch's default).
pub const REMOTE_DEADLINE: Duration = Duration::from_secs(25);
/// Tries of a remote that cannot be reached or answers 5xx.
const ATTEMPTS: u32 = 3;

fn client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        Client::builder()
            .build()
            .expect("building the remote search client")
    })
}

/// The federated request a remote gets: its queries, each with its weight and its position in
/// the caller's request, and the caller's window from the start (the caller cuts it).
pub fn request_body(
    queries: &[(usize, &MultiSearchQuery)],
    federation: &Federation,
    needed: usize,
) -> Value {
    let forwarded: Vec<Value> = queries
        .iter()
        .map(|(position, query)| {
            let mut body = Map::new();
            body.insert("indexUid".into(), json!(query.index_uid));
            body.extend(query.raw.clone());
            // The filter as it runs here: a tenant token's rules are ANDed into it.
            match &query.search.filter {
                Some(filter) => body.insert("filter".into(), filter.clone()),
                None => body.remove("filter"),
            };
            body.insert(
                "federationOptions".into(),
                json!({"weight": query.weight.unwrap_or(1.0), "queryPosition": position}),
            );
            Value::Object(body)
        })
        .collect();
    let mut remote_federation = json!({"offset": 0, "limit": needed});
    let facets: Map<String, Value> = federation
        .facets_by_index
        .iter()
        .filter(|(uid, _)| queries.iter().any(|(_, q)| &q.index_uid == *uid))
        .map(|(uid, facets)| (uid.clone(), json!(facets)))
        .collect();
    if !facets.is_empty() {
        remote_federation["facetsByIndex"] = Value::Object(facets);
    }
    if let Some(distinct) = &federation.distinct {
        remote_federation["distinct"] = json!(distinct);
    }
    json!({"federation": remote_federation, "queries": forwarded})
}

/// Sends the request to the remote and returns its federated answer.
pub fn search(remote: &Remote, body: &Value) -> Result<Map<String, Value>, ResponseError> {
    let url = format!("{}/multi-search", remote.url.trim_end_matches('/'));
    let deadline = Instant::now() + REMOTE_DEADLINE;
    let mut last = None;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(10 << attempt));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let mut request = client()
            .post(&url)
            .timeout(left)
            .header(PROXY_SEARCH_HEADER, "true")
            .json(body);
        if let Some(key) = &remote.search_api_key {
            request = request.bearer_auth(key);
        }
        let response = match request.send() {
            Ok(response) => response,
            Err(e) if e.is_timeout() => return Err(timeout()),
            Err(e) => {
                last = Some(ResponseError::new(
                    Code::RemoteCouldNotSendRequest,
                    e.without_url().to_string(),
                ));
                continue;
            }
        };
        let status = response.status();
        let text = response.text().unwrap_or_default();
        let shown = match serde_json::from_str::<Value>(&text) {
            Ok(value) => value.to_string(),
            Err(_) => text.clone(),
        };
        if status.as_u16() == 401 || status.as_u16() == 403 {
            return Err(ResponseError::new(
                Code::RemoteInvalidApiKey,
                "could not authenticate against the remote host\n  - hint: check that the remote instance was registered with a valid API key having the `search` action",
            ));
        }
        if status.is_client_error() {
            return Err(ResponseError::new(
                Code::RemoteBadRequest,
                format!("remote host responded with code {}:\n  - response from remote: {shown}\n  - hint: check that the remote instance has the correct index configuration for that request\n  - hint: check that the `network` experimental feature is enabled on the remote instance", status.as_u16()),
            ));
        }
        if status.is_server_error() {
            last = Some(ResponseError::new(
                Code::RemoteRemoteError,
                format!(
                    "remote host responded with code {}:\n  - response from remote: {shown}",
                    status.as_u16()
                ),
            ));
            continue;
        }
        return match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(answer)) if answer.get("hits").is_some_and(Value::is_array) => {
                Ok(answer)
            }
            _ => Err(ResponseError::new(
                Code::RemoteBadResponse,
                format!("could not parse response from the remote host as a federated search response:\n  - response from remote: {shown}\n  - hint: check that the remote instance is a Meilisearch instance running the same version"),
            )),
        };
    }
    Err(last.unwrap_or_else(timeout))
}

fn timeout() -> ResponseError {
    ResponseError::new(
        Code::RemoteTimeout,
        "remote host did not answer before the deadline",
    )
}

/// One hit of a remote: its weighted score, the caller's query position it answers and the
/// position a dynamic search rule of the remote pinned it at (`pinnedPosition`), read from its
/// `_federation`, which gets the remote's name.
pub fn remote_hit(
    hit: &mut Map<String, Value>,
    remote: &str,
    sent_positions: &[usize],
) -> Result<(f64, usize, Option<u32>), ResponseError> {
    let missing = |path: &str| {
        ResponseError::new(
            Code::RemoteBadResponse,
            format!("remote hit does not contain `{path}`\n  - hint: check that the remote instance is a Meilisearch instance running the same version"),
        )
    };
    let federation = hit
        .get_mut("_federation")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| missing("._federation"))?;
    let score = federation
        .get("weightedRankingScore")
        .and_then(Value::as_f64)
        .ok_or_else(|| missing("._federation.weightedRankingScore"))?;
    // A remote that ignores `queryPosition` numbers the queries it got from 0.
    let position = match federation.get("queriesPosition").and_then(Value::as_u64) {
        Some(p) if sent_positions.contains(&(p as usize)) => p as usize,
        Some(p) => sent_positions
            .get(p as usize)
            .copied()
            .unwrap_or(p as usize),
        None => sent_positions.first().copied().unwrap_or_default(),
    };
    federation.insert("queriesPosition".into(), json!(position));
    federation.insert("remote".into(), json!(remote));
    federation.remove("weightedScoreValues");
    let pinned = federation
        .remove("pinnedPosition")
        .and_then(|p| p.as_u64())
        .and_then(|p| u32::try_from(p).ok());
    Ok((score, position, pinned))
}
