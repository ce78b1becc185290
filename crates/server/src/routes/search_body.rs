//! A search response before it is written: hits whose document is shown whole keep the stored
//! JSON bytes and are written through as they are, rather than parsed into a map and written
//! again (for long documents that was about a quarter of a keystroke's work).

use std::sync::Arc;

use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// A response body already written as JSON, answered as `application/json` like `Json`.
pub struct JsonBytes(pub Vec<u8>);

impl IntoResponse for JsonBytes {
    fn into_response(self) -> Response {
        let mut response = self.0.into_response();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

/// One hit of a response.
pub enum HitBody {
    /// Built field by field (fields selected, formatted, or foreign documents added).
    Parsed(Map<String, Value>),
    /// The stored document, written byte for byte, followed by `extra` (`_rankingScore` and
    /// the like).
    Stored {
        source: Arc<[u8]>,
        extra: Map<String, Value>,
    },
}

impl HitBody {
    /// The hit as a map: the stored document parsed, `extra` after its fields.
    pub fn into_map(self) -> Map<String, Value> {
        match self {
            HitBody::Parsed(map) => map,
            HitBody::Stored { source, extra } => {
                let mut map: Map<String, Value> =
                    serde_json::from_slice(&source).unwrap_or_default();
                map.extend(extra);
                map
            }
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            HitBody::Parsed(map) => write_json(out, map),
            HitBody::Stored { source, extra } if extra.is_empty() => out.extend_from_slice(source),
            HitBody::Stored { source, extra } => {
                // `source` is a compact object: its closing brace gives way to the extra fields.
                let fields = &source[..source.len() - 1];
                out.extend_from_slice(fields);
                let mut first = fields == b"{";
                for (key, value) in extra {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    write_json(out, key);
                    out.push(b':');
                    write_json(out, value);
                }
                out.push(b'}');
            }
        }
    }
}

/// Whether the stored document `source` can be written through with `extra_keys` after it:
/// it is an object, and none of those keys is already one of its fields (the map a hit is
/// otherwise built in would replace the field in place). A key found anywhere in the bytes,
/// even inside a value, sends the hit the parsed way, which is always right.
pub fn can_write_through(source: &[u8], extra_keys: &[&str]) -> bool {
    source.first() == Some(&b'{')
        && source.last() == Some(&b'}')
        && extra_keys.iter().all(|key| {
            let quoted = format!("\"{key}\"");
            memchr::memmem::find(source, quoted.as_bytes()).is_none()
        })
}

/// A search response: `hits` first, then the other fields in order.
pub struct SearchBody {
    pub hits: Vec<HitBody>,
    pub rest: Map<String, Value>,
}

impl SearchBody {
    /// The response as a JSON map (multi-search merges and the chat tool read it).
    pub fn into_map(self) -> Map<String, Value> {
        let mut body = Map::with_capacity(self.rest.len() + 1);
        let hits = self
            .hits
            .into_iter()
            .map(|hit| Value::Object(hit.into_map()))
            .collect();
        body.insert("hits".into(), Value::Array(hits));
        body.extend(self.rest);
        body
    }

    /// Writes the response's fields, without the braces around them, after `out`'s bytes.
    pub fn write_fields(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\"hits\":[");
        for (i, hit) in self.hits.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            hit.write(out);
        }
        out.push(b']');
        for (key, value) in &self.rest {
            out.push(b',');
            write_json(out, key);
            out.push(b':');
            write_json(out, value);
        }
    }

    /// The response as JSON bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let stored: usize = self
            .hits
            .iter()
            .map(|hit| match hit {
                HitBody::Stored { source, .. } => source.len(),
                HitBody::Parsed(_) => 256,
            })
            .sum();
        let mut out = Vec::with_capacity(stored + 512);
        out.push(b'{');
        self.write_fields(&mut out);
        out.push(b'}');
        out
    }
}

/// Writes `value` as JSON after `out`'s bytes.
pub fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing a map or string into a vector cannot fail: its keys are strings.
    serde_json::to_writer(out, value).expect("JSON values always serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(source: &str, extra: Value) -> HitBody {
        HitBody::Stored {
            source: source.as_bytes().into(),
            extra: match extra {
                Value::Object(map) => map,
                _ => Map::new(),
            },
        }
    }

    fn written(hit: &HitBody) -> String {
        let mut out = Vec::new();
        hit.write(&mut out);
        String::from_utf8(out).unwrap()
    }

    /// The sources are written as `serde_json` writes them, as the index stores documents.
    #[test]
    fn a_stored_hit_is_written_as_its_parsed_form_would_be() {
        let cases = [
            (r#"{"id":1,"t":"a\"b\\c\u0001é"}"#, json!({})),
            (
                r#"{"id":"x","n":[1.5,-2,1e+300],"o":{"k":null}}"#,
                json!({"_rankingScore": 0.5}),
            ),
            ("{}", json!({"_rankingScore": 1.0, "_geoDistance": 3})),
        ];
        for (source, extra) in cases {
            let hit = stored(source, extra.clone());
            let map = stored(source, extra).into_map();
            assert_eq!(
                written(&hit),
                serde_json::to_string(&map).unwrap(),
                "{source}"
            );
        }
    }

    #[test]
    fn a_body_is_written_as_its_map_would_be() {
        let body = || SearchBody {
            hits: vec![
                stored(r#"{"id":1}"#, json!({"_rankingScore": 0.25})),
                HitBody::Parsed(json!({"id": 2}).as_object().unwrap().clone()),
            ],
            rest: json!({"query": "q", "limit": 20})
                .as_object()
                .unwrap()
                .clone(),
        };
        let bytes = body().to_bytes();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            serde_json::to_string(&body().into_map()).unwrap()
        );
    }

    #[test]
    fn a_field_named_like_an_extra_one_sends_the_hit_the_parsed_way() {
        assert!(can_write_through(br#"{"id":1}"#, &["_rankingScore"]));
        assert!(!can_write_through(
            br#"{"id":1,"_rankingScore":3}"#,
            &["_rankingScore"]
        ));
        assert!(!can_write_through(b"[1]", &[]));
    }
}
