//! The network (`GET/PATCH /network`, behind the `network` experimental feature): the name of
//! this instance (`self`) and the other instances it knows (`remotes`: a URL and the keys to
//! search and write there), which federated searches send queries to. Stored durably in the
//! task store's instance table, so it survives restarts and travels in dumps. A `PATCH` merges
//! into what is stored, as Meilisearch does: an absent field is kept, `null` removes.

use std::collections::BTreeMap;

use quarry_api_types::decode::{decode_string, expect_object, invalid_type, unknown_field};
use quarry_api_types::export::check_remote_url;
use quarry_api_types::{Code, ResponseError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Scheduler;

/// The key of the network in the instance table (and the dump's `instance/` folder).
pub const NETWORK_KEY: &str = "network";

/// The network as `GET /network` shows it (keys are shown whole, as in Meilisearch).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    #[serde(rename = "self", default)]
    pub local: Option<String>,
    #[serde(default)]
    pub remotes: BTreeMap<String, Remote>,
}

/// Another instance of the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Remote {
    pub url: String,
    #[serde(default)]
    pub search_api_key: Option<String>,
    #[serde(default)]
    pub write_api_key: Option<String>,
}

const FIELDS: &[&str] = &["remotes", "self"];
const REMOTE_FIELDS: &[&str] = &["url", "searchApiKey", "writeApiKey"];

impl Network {
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// Applies a `PATCH /network` body.
    pub fn patch(&self, body: &Value) -> Result<Network, ResponseError> {
        let object = expect_object(body, Code::BadRequest, "")?;
        let mut next = self.clone();
        for (name, value) in object {
            let path = format!(".{name}");
            match (name.as_str(), value) {
                ("self", Value::Null) => next.local = None,
                ("self", value) => {
                    next.local = Some(decode_string(value, Code::InvalidNetworkSelf, &path)?)
                }
                ("remotes", Value::Null) => next.remotes.clear(),
                ("remotes", Value::Object(remotes)) => {
                    for (remote, change) in remotes {
                        match change {
                            Value::Null => {
                                next.remotes.remove(remote);
                            }
                            Value::Object(fields) => {
                                let merged =
                                    merge_remote(remote, next.remotes.get(remote), fields)?;
                                next.remotes.insert(remote.clone(), merged);
                            }
                            other => {
                                return Err(invalid_type(
                                    Code::InvalidNetworkRemotes,
                                    &format!(".remotes.{remote}"),
                                    "an object",
                                    other,
                                ))
                            }
                        }
                    }
                }
                ("remotes", other) => {
                    return Err(invalid_type(
                        Code::InvalidNetworkRemotes,
                        &path,
                        "an object",
                        other,
                    ))
                }
                (other, _) => return Err(unknown_field(Code::BadRequest, "", other, FIELDS)),
            }
        }
        Ok(next)
    }
}

/// A remote after a change: a new one needs its `url`; a key set to `null` is removed.
fn merge_remote(
    name: &str,
    current: Option<&Remote>,
    fields: &Map<String, Value>,
) -> Result<Remote, ResponseError> {
    let at = format!(".remotes.{name}");
    let mut url = current.map(|r| r.url.clone());
    let mut search_api_key = current.and_then(|r| r.search_api_key.clone());
    let mut write_api_key = current.and_then(|r| r.write_api_key.clone());
    for (field, value) in fields {
        let path = format!("{at}.{field}");
        let key = |code| match value {
            Value::Null => Ok(None),
            other => decode_string(other, code, &path).map(Some),
        };
        match field.as_str() {
            "url" => match value {
                Value::Null => {
                    return Err(ResponseError::new(
                        Code::InvalidNetworkUrl,
                        format!("Field `{path}` cannot be set to `null`"),
                    ))
                }
                other => {
                    let text = decode_string(other, Code::InvalidNetworkUrl, &path)?;
                    if let Err(e) = check_remote_url(&text) {
                        return Err(ResponseError::new(
                            Code::InvalidNetworkUrl,
                            format!("Invalid `{path}` (`{text}`): {e}"),
                        ));
                    }
                    url = Some(text);
                }
            },
            "searchApiKey" => search_api_key = key(Code::InvalidNetworkSearchApiKey)?,
            "writeApiKey" => write_api_key = key(Code::InvalidNetworkWriteApiKey)?,
            other => {
                return Err(unknown_field(
                    Code::InvalidNetworkRemotes,
                    &at,
                    other,
                    REMOTE_FIELDS,
                ))
            }
        }
    }
    let url = url.ok_or_else(|| {
        ResponseError::new(Code::MissingNetworkUrl, format!("Missing field `{at}.url`"))
    })?;
    Ok(Remote {
        url,
        search_api_key,
        write_api_key,
    })
}

impl Scheduler {
    /// The network as it is now (empty until a `PATCH /network`).
    pub fn network(&self) -> Network {
        self.instance_record(NETWORK_KEY)
            .and_then(|value| serde_json::from_value(value).ok())
            .unwrap_or_default()
    }

    /// Applies a `PATCH /network` body to the stored network, stores the result durably and
    /// returns it. Concurrent updates apply one after the other.
    pub fn update_network(&self, body: &Value) -> Result<Network, ResponseError> {
        self.update_instance_record(NETWORK_KEY, |current| {
            let current: Network = current
                .and_then(|value| serde_json::from_value(value.clone()).ok())
                .unwrap_or_default();
            let next = current.patch(body)?;
            Ok((next.to_json(), next))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches_merge_and_null_removes() {
        let start = Network::default()
            .patch(&json!({"self": "ms-0", "remotes": {
                "ms-0": {"url": "http://127.0.0.1:7700"},
                "ms-1": {"url": "http://127.0.0.1:7701", "searchApiKey": "s1", "writeApiKey": "w1"}
            }}))
            .unwrap();
        assert_eq!(start.local.as_deref(), Some("ms-0"));
        let next = start
            .patch(&json!({"remotes": {"ms-0": null, "ms-1": {"searchApiKey": null}}}))
            .unwrap();
        assert_eq!(next.remotes.len(), 1);
        assert_eq!(next.remotes["ms-1"].search_api_key, None);
        assert_eq!(next.remotes["ms-1"].write_api_key.as_deref(), Some("w1"));
        assert_eq!(next.local.as_deref(), Some("ms-0"));
        assert_eq!(
            next.to_json(),
            json!({"self": "ms-0", "remotes": {"ms-1": {"url": "http://127.0.0.1:7701", "searchApiKey": null, "writeApiKey": "w1"}}})
        );
        let cleared = next.patch(&json!({"self": null, "remotes": null})).unwrap();
        assert_eq!(cleared, Network::default());
    }

    #[test]
    fn mistakes_have_their_codes() {
        let start = Network::default()
            .patch(&json!({"remotes": {"a": {"url": "http://127.0.0.1:1"}}}))
            .unwrap();
        let cases = [
            (json!({"self": 1}), "invalid_network_self"),
            (json!({"remotes": []}), "invalid_network_remotes"),
            (json!({"remotes": {"b": 3}}), "invalid_network_remotes"),
            (
                json!({"remotes": {"b": {"url": "http://x", "other": 1}}}),
                "invalid_network_remotes",
            ),
            (json!({"remotes": {"b": {}}}), "missing_network_url"),
            (
                json!({"remotes": {"b": {"url": "localhost:7700"}}}),
                "invalid_network_url",
            ),
            (
                json!({"remotes": {"a": {"url": null}}}),
                "invalid_network_url",
            ),
            (
                json!({"remotes": {"a": {"searchApiKey": 1}}}),
                "invalid_network_search_api_key",
            ),
            (
                json!({"remotes": {"a": {"writeApiKey": true}}}),
                "invalid_network_write_api_key",
            ),
            (json!({"leader": "a"}), "bad_request"),
            (json!([]), "bad_request"),
        ];
        for (body, code) in cases {
            let error = start.patch(&body).expect_err(&body.to_string());
            assert_eq!(error.code.name(), code, "{body}: {}", error.message);
        }
        let error = start.patch(&json!({"remotes": {"b": {}}})).unwrap_err();
        assert_eq!(error.message, "Missing field `.remotes.b.url`");
    }
}
