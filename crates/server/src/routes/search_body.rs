//! A search response before it is written: hits whose document is shown whole keep the stored
//! JSON bytes and are written through as they are, rather than parsed into a map and written
//! again (for long documents that was about a quarter of a keystroke's work).

use std::sync::Arc;

use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use quarry_engine::EngineError;
use serde_json::{Map, Value};

use crate::error::ApiResult;

/// A response body already written as JSON, answered as `application/json` like `Json`.
pub struct JsonBytes(pub Vec<u8>);

impl JsonBytes {
    /// `value` written as JSON.
    pub fn of<T: serde::Serialize + ?Sized>(value: &T) -> JsonBytes {
        let mut out = Vec::new();
        write_json(&mut out, value);
        JsonBytes(out)
    }
}

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
    pub fn into_map(self) -> ApiResult<Map<String, Value>> {
        match self {
            HitBody::Parsed(map) => Ok(map),
            HitBody::Stored { source, extra } => {
                let mut map: Map<String, Value> =
                    serde_json::from_slice(&source).map_err(EngineError::from)?;
                map.extend(extra);
                Ok(map)
            }
        }
    }

    /// The hit's map, when it was built field by field.
    pub fn parsed_mut(&mut self) -> Option<&mut Map<String, Value>> {
        match self {
            HitBody::Parsed(map) => Some(map),
            HitBody::Stored { .. } => None,
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

/// Which hits of one search can be written from their stored bytes: those that are objects
/// holding none of the keys the search adds after a document's fields (the map a hit is
/// otherwise built in would replace such a field in place), nor `_vectors` (never shown as
/// stored). A key found anywhere in the bytes, even inside a value, sends the hit the parsed
/// way, which is always right. The needles are built once per search, not per hit.
pub struct WriteThrough {
    needles: Vec<memchr::memmem::Finder<'static>>,
}

impl WriteThrough {
    /// `added`: the keys the search may add after a hit's fields.
    pub fn new(added: &[&str]) -> WriteThrough {
        let needles = added
            .iter()
            .chain(&["_vectors"])
            .map(|key| memchr::memmem::Finder::new(format!("\"{key}\"").as_bytes()).into_owned())
            .collect();
        WriteThrough { needles }
    }

    pub fn allows(&self, source: &[u8]) -> bool {
        source.first() == Some(&b'{')
            && source.last() == Some(&b'}')
            && self.needles.iter().all(|n| n.find(source).is_none())
    }
}

/// A search response: `hits` first, then the other fields in order.
pub struct SearchBody {
    pub hits: Vec<HitBody>,
    pub rest: Map<String, Value>,
}

impl SearchBody {
    /// The response as a JSON map (federated multi-search merges it, the chat tool reads it).
    pub fn into_map(self) -> ApiResult<Map<String, Value>> {
        let mut body = Map::with_capacity(self.rest.len() + 1);
        let hits = self
            .hits
            .into_iter()
            .map(|hit| hit.into_map().map(Value::Object))
            .collect::<ApiResult<_>>()?;
        body.insert("hits".into(), Value::Array(hits));
        body.extend(self.rest);
        Ok(body)
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
            let map = stored(source, extra).into_map().unwrap();
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
            serde_json::to_string(&body().into_map().unwrap()).unwrap()
        );
    }

    #[test]
    fn a_field_named_like_an_extra_one_sends_the_hit_the_parsed_way() {
        let scored = WriteThrough::new(&["_rankingScore"]);
        assert!(scored.allows(br#"{"id":1}"#));
        assert!(scored.allows(br#"{"id":1,"_rankingScoreDetails":3}"#));
        assert!(!scored.allows(br#"{"id":1,"_rankingScore":3}"#));
        assert!(!scored.allows(br#"{"id":1,"_vectors":{}}"#));
        assert!(!WriteThrough::new(&[]).allows(b"[1]"));
    }
}
