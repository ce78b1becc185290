//! Document payloads: turning a request body (JSON, NDJSON or CSV) into a stream of
//! documents, and the per-document rules that come with them (primary key inference,
//! document id extraction and validation, partial-update merging).
//!
//! The HTTP layer hands a body to [`normalize_payload`], which checks it while streaming it
//! into a compact NDJSON spool (one document a line, field order kept). The indexer later
//! reads that spool back with [`read_normalized`]. Nothing here keeps more than one document
//! in memory at a time, so a very large array or CSV file costs no more memory than its
//! largest document.

mod csv_payload;
mod document_id;
mod json;

use std::borrow::Cow;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};

use serde_json::{Map, Value};

pub use document_id::{
    extract_document_id, id_from_value, infer_primary_key, merge_documents, validate_document_id,
    DocumentIdError, PrimaryKeyError,
};

/// The format of a document payload, as chosen by the request's `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadFormat {
    /// `application/json`: one object, or an array of objects.
    Json,
    /// `application/x-ndjson`: a stream of objects, one a line.
    Ndjson,
    /// `text/csv`: a header line with optionally typed column names, then one row a document.
    Csv { delimiter: u8 },
}

impl PayloadFormat {
    /// The name used in error messages (`The `json` payload provided is malformed...`).
    pub fn name(&self) -> &'static str {
        match self {
            PayloadFormat::Json => "json",
            PayloadFormat::Ndjson => "ndjson",
            PayloadFormat::Csv { .. } => "csv",
        }
    }
}

/// What [`normalize_payload`] found in a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PayloadSummary {
    /// How many documents were written.
    pub documents: u64,
}

/// Why a payload could not be normalized.
#[derive(thiserror::Error, Debug)]
pub enum PayloadError {
    /// The body is empty or holds only whitespace (`missing_payload`).
    #[error("the payload is missing: the request body is empty")]
    Missing,
    /// The body is not a valid payload of its format (`malformed_payload`); the string is the
    /// complete message meant for the user.
    #[error("{0}")]
    Malformed(String),
    /// Reading the body or writing the normalized documents failed.
    #[error("I/O error while normalizing a payload: {0}")]
    Io(#[from] io::Error),
}

/// Streams a request body in `format` and writes each document as one compact JSON object
/// a line (NDJSON) to `out`.
///
/// A JSON body may be one object or an array of objects; NDJSON is a stream of objects
/// separated by whitespace (normally one a line); CSV uses Meilisearch's typed headers
/// (`name`, `name:string`, `name:number`, `name:boolean`). Field order inside each document
/// is preserved. Only one document is held in memory at a time.
pub fn normalize_payload<R: Read, W: Write>(
    format: PayloadFormat,
    input: R,
    out: W,
) -> Result<PayloadSummary, PayloadError> {
    let mut input = BufReader::with_capacity(64 * 1024, input);
    let leading = match skip_leading_whitespace(&mut input)? {
        Some(leading) => leading,
        None => return Err(PayloadError::Missing),
    };
    // Give the parsers back the blank lines we consumed so that the line and column numbers
    // in their error messages match what the user sent.
    // The outer buffer matters: serde_json reads byte by byte, and `io::Bytes` only has a
    // fast path for a `BufReader`.
    let input = BufReader::with_capacity(
        64 * 1024,
        io::repeat(b'\n')
            .take(leading.newlines)
            .chain(io::Cursor::new(leading.tail))
            .chain(input),
    );

    let mut sink = DocumentSink::new(out);
    match format {
        PayloadFormat::Json => json::normalize_json(serde_json::de::IoRead::new(input), &mut sink)?,
        PayloadFormat::Ndjson => {
            json::normalize_ndjson(serde_json::de::IoRead::new(input), &mut sink)?
        }
        PayloadFormat::Csv { delimiter } => {
            csv_payload::normalize_csv(input, delimiter, &mut sink)?
        }
    }
    let documents = sink.finish()?;
    tracing::debug!(format = format.name(), documents, "payload normalized");
    Ok(PayloadSummary { documents })
}

/// [`normalize_payload`] for a body held in memory (a request body is): JSON and NDJSON are
/// parsed from the slice, several times faster than through a reader, with the same output. A
/// malformed body is read again through a reader for the error message: serde_json places some
/// errors one column apart depending on how it reads, and users get the message they always got.
pub fn normalize_payload_slice<W: Write>(
    format: PayloadFormat,
    body: &[u8],
    out: W,
) -> Result<PayloadSummary, PayloadError> {
    if let PayloadFormat::Csv { .. } = format {
        return normalize_payload(format, body, out);
    }
    // What `skip_leading_whitespace` does: a byte order mark, then blanks (which the parser
    // skips itself, counting lines as the reader path does).
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.iter().all(|b| is_whitespace(*b)) {
        return Err(PayloadError::Missing);
    }
    let mut sink = DocumentSink::new(out);
    let read = serde_json::de::SliceRead::new(body);
    let parsed = match format {
        PayloadFormat::Json => json::normalize_json(read, &mut sink),
        _ => json::normalize_ndjson(read, &mut sink),
    };
    if let Err(PayloadError::Malformed(message)) = parsed {
        return Err(match normalize_payload(format, body, io::sink()) {
            Err(e) => e,
            Ok(_) => PayloadError::Malformed(message),
        });
    }
    parsed?;
    let documents = sink.finish()?;
    tracing::debug!(format = format.name(), documents, "payload normalized");
    Ok(PayloadSummary { documents })
}

/// Reads back what [`normalize_payload`] wrote, one document at a time. Blank lines are
/// skipped; a line that is not a JSON object yields a [`PayloadError::Malformed`] and ends
/// the iteration.
pub fn read_normalized<R: BufRead>(
    input: R,
) -> impl Iterator<Item = Result<Map<String, Value>, PayloadError>> {
    let mut reader = NormalizedReader::new(input);
    std::iter::from_fn(move || {
        reader
            .next_document()
            .map(|r| r.map(|(document, _)| document))
    })
}

/// A parsed document with the line it was read from.
pub type DocumentLine<'a> = (Map<String, Value>, &'a [u8]);

/// Reads a normalized payload and also hands out each document's line: it is already the
/// document's compact JSON, so the indexer stores it as is instead of serializing the parsed
/// document again.
pub struct NormalizedReader<R> {
    input: R,
    line: Vec<u8>,
    line_number: u64,
    done: bool,
}

impl<R: BufRead> NormalizedReader<R> {
    pub fn new(input: R) -> Self {
        NormalizedReader {
            input,
            line: Vec::new(),
            line_number: 0,
            done: false,
        }
    }

    /// The next document and its compact JSON (without the line break).
    pub fn next_document(&mut self) -> Option<Result<DocumentLine<'_>, PayloadError>> {
        while !self.done {
            self.line.clear();
            match self.input.read_until(b'\n', &mut self.line) {
                Ok(0) => self.done = true,
                Ok(_) => {
                    self.line_number += 1;
                    if self.line.iter().all(|b| is_whitespace(*b)) {
                        continue;
                    }
                    let parsed = parse_normalized_line(&self.line, self.line_number)
                        .expect("the line is not blank");
                    if parsed.is_err() {
                        self.done = true;
                    }
                    return Some(parsed);
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    self.done = true;
                    return Some(Err(PayloadError::Io(err)));
                }
            }
        }
        None
    }
}

/// Parses one line of a normalized payload (numbered from 1, for the error message): `None`
/// for a blank line, else the document and its compact JSON (the line without its line break).
pub fn parse_normalized_line(
    line: &[u8],
    line_number: u64,
) -> Option<Result<DocumentLine<'_>, PayloadError>> {
    if line.iter().all(|b| is_whitespace(*b)) {
        return None;
    }
    Some(match serde_json::from_slice::<Map<String, Value>>(line) {
        Ok(document) => Ok((document, line.trim_ascii_end())),
        Err(err) => Err(PayloadError::Malformed(format!(
            "The normalized document spool is corrupted at line {line_number}: {err}."
        ))),
    })
}

/// Writes documents as compact NDJSON and counts them.
pub(crate) struct DocumentSink<W: Write> {
    out: BufWriter<W>,
    count: u64,
}

impl<W: Write> DocumentSink<W> {
    fn new(out: W) -> Self {
        DocumentSink {
            out: BufWriter::with_capacity(64 * 1024, out),
            count: 0,
        }
    }

    pub(crate) fn push(&mut self, document: &Map<String, Value>) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, document).map_err(io::Error::from)?;
        self.out.write_all(b"\n")?;
        self.count += 1;
        Ok(())
    }

    fn finish(mut self) -> io::Result<u64> {
        self.out.flush()?;
        Ok(self.count)
    }
}

/// The blank start of a payload, consumed to tell an empty body from a real one.
struct Leading {
    /// How many line feeds were skipped.
    newlines: u64,
    /// The whitespace after the last line feed, kept verbatim (it is part of the first line).
    tail: Vec<u8>,
}

/// Consumes leading whitespace (and a UTF-8 byte order mark). Returns `None` when nothing
/// else is left, i.e. the payload is missing.
fn skip_leading_whitespace<R: BufRead>(input: &mut R) -> io::Result<Option<Leading>> {
    let mut leading = Leading {
        newlines: 0,
        tail: Vec::new(),
    };
    let mut at_start = true;
    loop {
        let buffer = match input.fill_buf() {
            Ok(buffer) => buffer,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        if buffer.is_empty() {
            return Ok(None);
        }
        if at_start {
            at_start = false;
            if buffer.starts_with(b"\xEF\xBB\xBF") {
                input.consume(3);
                continue;
            }
        }
        let blank = buffer.iter().take_while(|b| is_whitespace(**b)).count();
        for &byte in &buffer[..blank] {
            if byte == b'\n' {
                leading.newlines += 1;
                leading.tail.clear();
            } else {
                leading.tail.push(byte);
            }
        }
        let done = blank < buffer.len();
        input.consume(blank);
        if done {
            return Ok(Some(leading));
        }
    }
}

fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// Shortens `text` to about `max` bytes by cutting out its middle, on character boundaries.
pub(crate) fn abbreviate(text: &str, max: usize) -> Cow<'_, str> {
    const ELLIPSIS: &str = "...";
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let keep = max.saturating_sub(ELLIPSIS.len());
    let mut head_end = keep * 2 / 3;
    while !text.is_char_boundary(head_end) {
        head_end -= 1;
    }
    let mut tail_start = text.len() - (keep - keep * 2 / 3);
    while !text.is_char_boundary(tail_start) {
        tail_start += 1;
    }
    Cow::Owned(format!(
        "{}{}{}",
        &text[..head_end],
        ELLIPSIS,
        &text[tail_start..]
    ))
}

/// `The `{format}` payload provided is malformed. `{detail}`.`
pub(crate) fn malformed(format: PayloadFormat, detail: &str) -> PayloadError {
    PayloadError::Malformed(format!(
        "The `{}` payload provided is malformed. `{}`.",
        format.name(),
        detail
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn normalize(format: PayloadFormat, body: &[u8]) -> Result<(u64, String), PayloadError> {
        let mut out = Vec::new();
        let summary = normalize_payload(format, body, &mut out)?;
        Ok((summary.documents, String::from_utf8(out).unwrap()))
    }

    #[test]
    fn format_names() {
        assert_eq!(PayloadFormat::Json.name(), "json");
        assert_eq!(PayloadFormat::Ndjson.name(), "ndjson");
        assert_eq!(PayloadFormat::Csv { delimiter: b';' }.name(), "csv");
    }

    #[test]
    fn empty_bodies_are_missing() {
        let formats = [
            PayloadFormat::Json,
            PayloadFormat::Ndjson,
            PayloadFormat::Csv { delimiter: b',' },
        ];
        let bodies: [&[u8]; 5] = [b"", b" ", b"\n\n", b" \r\n\t ", b"\xEF\xBB\xBF \n"];
        for format in formats {
            for body in bodies {
                match normalize(format, body) {
                    Err(PayloadError::Missing) => {}
                    other => panic!("{format:?} {body:?}: expected Missing, got {other:?}"),
                }
            }
        }
    }

    #[test]
    fn leading_blank_lines_keep_error_positions() {
        let err = normalize(PayloadFormat::Json, b"\n\n  {\"a\" 1}").unwrap_err();
        let message = err.to_string();
        assert!(message.contains("line 3 column 8"), "{message}");
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let (count, out) = normalize(PayloadFormat::Json, b"\xEF\xBB\xBF{\"id\":1}").unwrap();
        assert_eq!((count, out.as_str()), (1, "{\"id\":1}\n"));
    }

    #[test]
    fn read_back_what_was_written() {
        let body = br#"[{"id": 1, "b": [1, {"c": null}], "a": "x"}, {"id": "two", "z": 1.5}]"#;
        let (count, out) = normalize(PayloadFormat::Json, body).unwrap();
        assert_eq!(count, 2);
        let docs: Vec<_> = read_normalized(out.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            Value::Array(docs.into_iter().map(Value::Object).collect()),
            json!([{"id": 1, "b": [1, {"c": null}], "a": "x"}, {"id": "two", "z": 1.5}])
        );
    }

    #[test]
    fn read_normalized_skips_blank_lines_and_stops_on_garbage() {
        let spool = b"{\"a\":1}\n\n  \n{\"b\":2}\nnot json\n{\"c\":3}\n";
        let mut iter = read_normalized(&spool[..]);
        assert_eq!(iter.next().unwrap().unwrap(), json_map(json!({"a": 1})));
        assert_eq!(iter.next().unwrap().unwrap(), json_map(json!({"b": 2})));
        match iter.next() {
            Some(Err(PayloadError::Malformed(message))) => {
                assert!(message.contains("line 5"), "{message}")
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(iter.next().is_none());
    }

    #[test]
    fn write_errors_are_io() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        // Large enough to overflow the internal buffer while parsing.
        let mut body = String::from("[");
        for i in 0..20_000 {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&format!("{{\"id\":{i},\"text\":\"some words here\"}}"));
        }
        body.push(']');
        let formats = [PayloadFormat::Json, PayloadFormat::Ndjson];
        for format in formats {
            let body = if format == PayloadFormat::Ndjson {
                body[1..body.len() - 1].replace("},{", "}\n{")
            } else {
                body.clone()
            };
            match normalize_payload(format, body.as_bytes(), Full) {
                Err(PayloadError::Io(err)) => assert_eq!(err.kind(), io::ErrorKind::StorageFull),
                other => panic!("{format:?}: expected Io, got {other:?}"),
            }
        }
        let csv = "id\n1\n";
        match normalize_payload(PayloadFormat::Csv { delimiter: b',' }, csv.as_bytes(), Full) {
            Err(PayloadError::Io(err)) => assert_eq!(err.kind(), io::ErrorKind::StorageFull),
            other => panic!("csv: expected Io, got {other:?}"),
        }
    }

    #[test]
    fn read_errors_are_io() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"))
            }
        }
        let formats = [
            PayloadFormat::Json,
            PayloadFormat::Ndjson,
            PayloadFormat::Csv { delimiter: b',' },
        ];
        for format in formats {
            let body = io::Cursor::new(b"  {\"a\":".to_vec()).chain(Broken);
            let body = if matches!(format, PayloadFormat::Csv { .. }) {
                Box::new(io::Cursor::new(b"a,b\n1,".to_vec()).chain(Broken)) as Box<dyn Read>
            } else {
                Box::new(body)
            };
            match normalize_payload(format, body, Vec::new()) {
                Err(PayloadError::Io(err)) => {
                    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset)
                }
                other => panic!("{format:?}: expected Io, got {other:?}"),
            }
        }
    }

    #[test]
    fn abbreviate_cuts_the_middle_on_char_boundaries() {
        let cases: [(&str, usize, &str); 4] = [
            ("short", 10, "short"),
            ("0123456789abcdefghij", 13, "012345...ghij"),
            ("ééééééééééééééé", 9, "éé...é"),
            ("exactly", 7, "exactly"),
        ];
        for (text, max, expected) in cases {
            assert_eq!(abbreviate(text, max), expected, "{text} / {max}");
        }
    }

    pub(crate) fn json_map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }
}
