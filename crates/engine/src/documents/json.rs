//! JSON and NDJSON payloads. A JSON body is one object or an array of objects; the array is
//! walked element by element with serde's `SeqAccess`, so each document is written out
//! before the next one is parsed and a huge array never sits in memory. NDJSON is a stream
//! of objects separated by whitespace, read the same way.
//!
//! serde_json's own recursion limit (128 nested arrays/objects) caps the nesting depth; going
//! deeper is reported as a malformed payload, never a stack overflow.

use std::fmt;
use std::io::{self, Write};

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer as _, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{abbreviate, malformed, DocumentSink, PayloadError, PayloadFormat};

/// How much of serde's description of an error (which may quote user input) is kept.
const MAX_ERROR_DETAIL: usize = 200;

/// Reads through `serde_json::de::IoRead` (a request body streamed) or `SliceRead` (a body in
/// memory: the same parser, several times faster).
pub(super) fn normalize_json<'de, R: serde_json::de::Read<'de>, W: Write>(
    input: R,
    sink: &mut DocumentSink<W>,
) -> Result<(), PayloadError> {
    let mut write_error = None;
    let mut deserializer = serde_json::Deserializer::new(input);
    let result = (&mut deserializer)
        .deserialize_any(TopLevel {
            sink,
            write_error: &mut write_error,
        })
        .and_then(|()| deserializer.end());
    if let Some(err) = write_error {
        return Err(PayloadError::Io(err));
    }
    result.map_err(|err| json_error(PayloadFormat::Json, err))
}

pub(super) fn normalize_ndjson<'de, R: serde_json::de::Read<'de>, W: Write>(
    input: R,
    sink: &mut DocumentSink<W>,
) -> Result<(), PayloadError> {
    let stream = serde_json::Deserializer::new(input).into_iter::<Document>();
    for document in stream {
        let Document(document) = document.map_err(|err| json_error(PayloadFormat::Ndjson, err))?;
        sink.push(&document)?;
    }
    Ok(())
}

/// Turns a serde_json error into a payload error: I/O stays I/O, everything else is a
/// malformed payload whose message keeps serde's position but not an endless quote of the
/// user's input.
fn json_error(format: PayloadFormat, err: serde_json::Error) -> PayloadError {
    if err.is_io() {
        return PayloadError::Io(err.into());
    }
    let full = err.to_string();
    let (line, column) = (err.line(), err.column());
    let (description, position) =
        match full.strip_suffix(&format!(" at line {line} column {column}")) {
            // serde_json reports "column 0" once it has read past a line feed: the problem is at
            // the end of the previous line (a scalar there, or an unfinished value).
            Some(description) if column == 0 && line > 1 => {
                (description, format!(" at the end of line {}", line - 1))
            }
            Some(description) => (description, format!(" at line {line} column {column}")),
            None => (full.as_str(), String::new()),
        };
    malformed(
        format,
        &format!(
            "Couldn't serialize document value: {}{}",
            abbreviate(description, MAX_ERROR_DETAIL),
            position
        ),
    )
}

/// One document: a JSON object. Anything else is refused with a message saying an object
/// was expected.
struct Document(Map<String, Value>);

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DocumentVisitor)
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Document;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Document, A::Error> {
        Map::deserialize(MapAccessDeserializer::new(map)).map(Document)
    }
}

/// The top-level value of a JSON payload: writes documents as it meets them.
struct TopLevel<'a, W: Write> {
    sink: &'a mut DocumentSink<W>,
    /// A failed write is smuggled out here; serde only sees a generic error that aborts parsing.
    write_error: &'a mut Option<io::Error>,
}

impl<W: Write> TopLevel<'_, W> {
    fn write<E: de::Error>(&mut self, document: &Map<String, Value>) -> Result<(), E> {
        self.sink.push(document).map_err(|err| {
            *self.write_error = Some(err);
            E::custom("writing the document failed")
        })
    }
}

impl<'de, W: Write> Visitor<'de> for TopLevel<'_, W> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object or an array of JSON objects")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, map: A) -> Result<(), A::Error> {
        let Document(document) = DocumentVisitor.visit_map(map)?;
        self.write(&document)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(Document(document)) = seq.next_element()? {
            self.write(&document)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read};

    use super::super::{
        normalize_payload, normalize_payload_slice, read_normalized, PayloadSummary,
    };
    use super::*;

    /// The outcome of a normalization, comparable: the documents written or the error.
    fn outcome(result: Result<PayloadSummary, PayloadError>, out: Vec<u8>) -> String {
        match result {
            Ok(summary) => format!("{} {}", summary.documents, String::from_utf8(out).unwrap()),
            Err(e) => format!("{e:?}"),
        }
    }

    /// Parsing a body from memory (`normalize_payload_slice`, what the route does) and through
    /// a reader (`normalize_payload`) write the same documents and fail with the same messages,
    /// on valid payloads and on thousands of damaged ones.
    #[test]
    fn slice_and_reader_agree() {
        let base = concat!(
            "\u{feff}\n  [{\"id\": 1, \"t\": \"caf\\u00e9 \\\"q\\\" \u{e9}\", \"n\": [1.5, -2, 1e300, 18446744073709551615],\n",
            "\"o\": {\"a\": null, \"b\": true, \"a\": {}}, \"e\": []},\r\n {\"id\": \"x-2\"}, {}]  \n"
        );
        let mut bodies: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"  \n\t ".to_vec(),
            b"\xEF\xBB\xBF".to_vec(),
            b"\xEF\xBB\xBF \n".to_vec(),
            b"\n\n{\"a\" 1}".to_vec(),
            b"\xEF\xBB\xBF{\"a\": x}".to_vec(),
            base.as_bytes().to_vec(),
            base.replace("}, {", "}\n{")
                .replace(['[', ']'], " ")
                .into_bytes(),
        ];
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = move |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound as u64) as usize
        };
        let noise = b"{}[],:\"\\ \n\r0a-.e\xff\xc3";
        for i in 0..4000 {
            let mut body = bodies[6 + i % 2].clone();
            match next(3) {
                0 => body.truncate(next(body.len())),
                1 => {
                    let at = next(body.len());
                    body[at] = noise[next(noise.len())];
                }
                _ => body.insert(next(body.len()), noise[next(noise.len())]),
            }
            bodies.push(body);
        }
        for body in &bodies {
            for format in [PayloadFormat::Json, PayloadFormat::Ndjson] {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                let from_reader = normalize_payload(format, &body[..], &mut a);
                let from_slice = normalize_payload_slice(format, body, &mut b);
                assert_eq!(
                    outcome(from_slice, b),
                    outcome(from_reader, a),
                    "{format:?} {:?}",
                    String::from_utf8_lossy(body)
                );
            }
        }
    }

    fn normalize(format: PayloadFormat, body: &str) -> Result<(u64, String), PayloadError> {
        let mut out = Vec::new();
        let summary = normalize_payload(format, body.as_bytes(), &mut out)?;
        Ok((summary.documents, String::from_utf8(out).unwrap()))
    }

    fn malformed_message(format: PayloadFormat, body: &[u8]) -> String {
        match normalize_payload(format, body, Vec::new()) {
            Err(PayloadError::Malformed(message)) => message,
            other => panic!("{format:?} {:?}: expected Malformed, got {other:?}", body),
        }
    }

    #[test]
    fn valid_json_payloads() {
        let cases: &[(&str, &str)] = &[
            (r#"{"id": 1}"#, "{\"id\":1}\n"),
            (r#"[]"#, ""),
            (r#"  [ ]  "#, ""),
            (r#"[{"id": 1}, {"id": 2}]"#, "{\"id\":1}\n{\"id\":2}\n"),
            (r#"{}"#, "{}\n"),
            (r#"[{}, {}]"#, "{}\n{}\n"),
            // Field order is kept, not sorted.
            (r#"{"z": 1, "a": 2, "m": 3}"#, "{\"z\":1,\"a\":2,\"m\":3}\n"),
            // Nested values, escapes, unicode.
            (
                r#"{"a": {"b": [1, 2.5, -3, null, true, "é\n\"\u00e9"]}}"#,
                "{\"a\":{\"b\":[1,2.5,-3,null,true,\"é\\n\\\"é\"]}}\n",
            ),
            // A duplicated key keeps its first place and its last value.
            (r#"{"a": 1, "b": 2, "a": 3}"#, "{\"a\":3,\"b\":2}\n"),
            // Floats round-trip.
            (
                r#"{"f": 0.1, "g": 1e300, "h": 1.0}"#,
                "{\"f\":0.1,\"g\":1e+300,\"h\":1.0}\n",
            ),
            // Integers beyond i64 but within u64 stay integers.
            (
                r#"{"n": 18446744073709551615}"#,
                "{\"n\":18446744073709551615}\n",
            ),
            ("\n\t{\"a\":1}\r\n", "{\"a\":1}\n"),
        ];
        for (body, expected) in cases {
            let (count, out) =
                normalize(PayloadFormat::Json, body).unwrap_or_else(|err| panic!("{body}: {err}"));
            assert_eq!(out, *expected, "{body}");
            assert_eq!(count, expected.lines().count() as u64, "{body}");
        }
    }

    #[test]
    fn malformed_json_payloads() {
        // (body, fragments the message must contain)
        let cases: &[(&[u8], &[&str])] = &[
            (
                b"1",
                &["expected a JSON object or an array of JSON objects"],
            ),
            (
                b"\"doc\"",
                &["invalid type: string \"doc\"", "line 1 column 5"],
            ),
            (b"null", &["invalid type: null"]),
            (b"true", &["invalid type: boolean"]),
            (
                b"[1, 2]",
                &["invalid type: integer `1`, expected a JSON object"],
            ),
            (
                b"[{\"a\": 1}, [1]]",
                &["invalid type: sequence, expected a JSON object"],
            ),
            (b"[{\"a\": 1}, \"x\"]", &["expected a JSON object"]),
            (
                b"{\"a\": 1} x",
                &["trailing characters", "line 1 column 10"],
            ),
            (b"{\"a\": 1} {\"b\": 2}", &["trailing characters"]),
            (b"[{\"a\": 1}] []", &["trailing characters"]),
            (b"{\"a\": 1", &["EOF while parsing an object"]),
            (b"[{\"a\": 1},", &["EOF while parsing"]),
            (b"[{\"a\": 1},]", &["trailing comma"]),
            (b"{a: 1}", &["key must be a string", "line 1 column 2"]),
            (
                b"{\"a\": 1,\n\"b\" 2}",
                &["expected `:`", "line 2 column 5"],
            ),
            (b"{\"a\": \"\xff\xfe\"}", &["invalid unicode code point"]),
            (b"\xff", &["expected value"]),
            (b"{\"a\": NaN}", &["expected value"]),
            (b"{\"a\": 1e999}", &["number out of range"]),
            (b"{\"a\": \"\\ud800\"}", &["hex escape"]),
        ];
        for (body, fragments) in cases {
            let message = malformed_message(PayloadFormat::Json, body);
            assert!(
                message.starts_with(
                    "The `json` payload provided is malformed. `Couldn't serialize document value: "
                ) && message.ends_with("`."),
                "{message}"
            );
            for fragment in *fragments {
                assert!(message.contains(fragment), "{body:?}: {message}");
            }
        }
    }

    #[test]
    fn long_user_input_is_abbreviated_in_errors() {
        let body = format!("[\"{}\"]", "x".repeat(100_000));
        let message = malformed_message(PayloadFormat::Json, body.as_bytes());
        assert!(message.len() < 400, "{} bytes: {message}", message.len());
        assert!(message.contains("..."), "{message}");
        assert!(message.contains("line 1 column 100003"), "{message}");
    }

    #[test]
    fn deep_nesting_is_malformed_not_a_crash() {
        for depth in [129, 1_000, 100_000] {
            for format in [PayloadFormat::Json, PayloadFormat::Ndjson] {
                let body = format!("{}{}", "{\"a\":".repeat(depth), "}".repeat(depth));
                let message = malformed_message(format, body.as_bytes());
                assert!(message.contains("recursion limit exceeded"), "{message}");
                let body = format!("{{\"a\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
                let message = malformed_message(format, body.as_bytes());
                assert!(message.contains("recursion limit exceeded"), "{message}");
            }
        }
        // Just under the limit is fine, and reads back.
        let body = format!("{}1{}", "{\"a\":".repeat(127), "}".repeat(127));
        let (count, out) = normalize(PayloadFormat::Json, &body).unwrap();
        assert_eq!(count, 1);
        assert_eq!(read_normalized(out.as_bytes()).count(), 1);
        assert!(read_normalized(out.as_bytes()).all(|doc| doc.is_ok()));
    }

    #[test]
    fn valid_ndjson_payloads() {
        let cases: &[(&str, &str)] = &[
            ("{\"id\":1}", "{\"id\":1}\n"),
            ("{\"id\":1}\n{\"id\":2}\n", "{\"id\":1}\n{\"id\":2}\n"),
            ("{\"id\":1}\r\n\r\n\n{\"id\":2}", "{\"id\":1}\n{\"id\":2}\n"),
            (
                "  {\"b\": 1, \"a\": [1, {}]}  \n",
                "{\"b\":1,\"a\":[1,{}]}\n",
            ),
            // Pretty-printed objects spanning lines are accepted, like Meilisearch does.
            ("{\n  \"id\": 1\n}\n{\"id\": 2}", "{\"id\":1}\n{\"id\":2}\n"),
            ("{\"a\":1}{\"b\":2}", "{\"a\":1}\n{\"b\":2}\n"),
            ("{}", "{}\n"),
        ];
        for (body, expected) in cases {
            let (count, out) = normalize(PayloadFormat::Ndjson, body)
                .unwrap_or_else(|err| panic!("{body:?}: {err}"));
            assert_eq!(out, *expected, "{body:?}");
            assert_eq!(count, expected.lines().count() as u64, "{body:?}");
        }
    }

    #[test]
    fn malformed_ndjson_payloads() {
        let cases: &[(&[u8], &[&str])] = &[
            (
                b"{\"a\":1}\n[{\"a\":2}]\n",
                &["expected a JSON object", "line 2"],
            ),
            (
                b"{\"a\":1}\n\n\n42\n",
                &["invalid type: integer `42`", "at the end of line 4"],
            ),
            (
                b"{\"a\":1}\n\n\n42",
                &["invalid type: integer `42`", "line 4 column 2"],
            ),
            (b"{\"a\":1}\n\"x\"", &["invalid type: string", "line 2"]),
            (b"{\"a\":1}\nnull", &["invalid type: null", "line 2"]),
            (b"{\"a\":1}\n{\"b\":", &["EOF while parsing", "line 2"]),
            (
                b"{\"a\":1}\n{\"b\" 2}\n{\"c\":3}",
                &["expected `:`", "line 2 column 6"],
            ),
            (b"{\"a\":1} garbage", &["expected value", "line 1"]),
            (b"{\"a\": \"\xc3\x28\"}", &["invalid unicode code point"]),
        ];
        for (body, fragments) in cases {
            let message = malformed_message(PayloadFormat::Ndjson, body);
            assert!(
                message.starts_with("The `ndjson` payload provided is malformed. `"),
                "{message}"
            );
            for fragment in *fragments {
                assert!(message.contains(fragment), "{body:?}: {message}");
            }
        }
    }

    #[test]
    fn large_array_streams() {
        // ~20 MB of documents in one array; the output must match document for document.
        struct Generated {
            next: u64,
            total: u64,
            pending: Vec<u8>,
            pos: usize,
        }
        impl Read for Generated {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.pos == self.pending.len() {
                    self.pending.clear();
                    self.pos = 0;
                    if self.next == 0 {
                        self.pending.push(b'[');
                    }
                    if self.next < self.total {
                        if self.next > 0 {
                            self.pending.push(b',');
                        }
                        let doc = format!(
                            "{{\"id\":{},\"title\":\"document number {}\",\"pad\":\"{}\"}}",
                            self.next,
                            self.next,
                            "p".repeat(150)
                        );
                        self.pending.extend_from_slice(doc.as_bytes());
                        self.next += 1;
                    } else if self.next == self.total {
                        self.pending.push(b']');
                        self.next += 1;
                    } else {
                        return Ok(0);
                    }
                }
                let n = buf.len().min(self.pending.len() - self.pos);
                buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
                self.pos += n;
                Ok(n)
            }
        }
        let total = 100_000;
        let input = Generated {
            next: 0,
            total,
            pending: Vec::new(),
            pos: 0,
        };
        let spool = tempfile::tempfile().unwrap();
        let summary = normalize_payload(PayloadFormat::Json, input, &spool).unwrap();
        assert_eq!(summary.documents, total);
        let mut spool = spool;
        io::Seek::rewind(&mut spool).unwrap();
        let mut lines = 0u64;
        for (i, line) in BufReader::new(spool).lines().enumerate() {
            let line = line.unwrap();
            assert!(line.starts_with(&format!("{{\"id\":{i},")), "{line}");
            lines += 1;
        }
        assert_eq!(lines, total);
    }

    #[test]
    fn movies_corpus_json_and_ndjson_agree() {
        let path = "/work/shared/data/movies.ndjson.gz";
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(err) => panic!("the movies corpus is needed for this test ({path}): {err}"),
        };
        let mut ndjson = Vec::new();
        flate2::read::GzDecoder::new(file)
            .read_to_end(&mut ndjson)
            .unwrap();

        // The same documents as one JSON array, pretty-ish with newlines between elements.
        let mut array = b"[\n".to_vec();
        let mut first = true;
        for line in ndjson.split(|b| *b == b'\n') {
            if line.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            if !first {
                array.extend_from_slice(b",\n");
            }
            first = false;
            array.extend_from_slice(line);
        }
        array.extend_from_slice(b"\n]\n");

        let mut from_ndjson = Vec::new();
        let ndjson_summary =
            normalize_payload(PayloadFormat::Ndjson, &ndjson[..], &mut from_ndjson).unwrap();
        let mut from_json = Vec::new();
        let json_summary =
            normalize_payload(PayloadFormat::Json, &array[..], &mut from_json).unwrap();

        assert_eq!(ndjson_summary.documents, 3201);
        assert_eq!(json_summary.documents, 3201);
        let ndjson_lines: Vec<&[u8]> = from_ndjson.split(|b| *b == b'\n').collect();
        let json_lines: Vec<&[u8]> = from_json.split(|b| *b == b'\n').collect();
        assert_eq!(ndjson_lines.len(), json_lines.len());
        for (i, (a, b)) in ndjson_lines.iter().zip(&json_lines).enumerate() {
            assert_eq!(a, b, "line {}", i + 1);
        }

        // Each normalized document equals its source line, parsed, field order included.
        let docs: Vec<Map<String, Value>> = read_normalized(&from_json[..])
            .collect::<Result<_, _>>()
            .unwrap();
        let sources = ndjson
            .split(|b| *b == b'\n')
            .filter(|line| !line.iter().all(|b| b.is_ascii_whitespace()));
        for (doc, source) in docs.iter().zip(sources) {
            let source: Map<String, Value> = serde_json::from_slice(source).unwrap();
            assert_eq!(doc, &source);
            assert!(doc.keys().eq(source.keys()));
        }
        assert!(docs.iter().all(|doc| doc.contains_key("id")));
    }
}
