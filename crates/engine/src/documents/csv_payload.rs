//! CSV payloads. The first record names the fields; a name may carry a type after its last
//! colon (`price:number`, `available:boolean`, `title:string`), as Meilisearch's CSV format
//! has it. An unknown suffix is not a type: `a:b` stays a string field named `a:b`, while
//! `a:b:number` is a number field named `a:b`. Each following record becomes one document
//! with the fields in header order. Empty cells become `null`. A quoted field still open at
//! the end of the body (`"a,b` with no closing quote) is refused: the `csv` crate would
//! silently take everything up to the end as that field.

use std::io::{Read, Write};

use serde_json::{Map, Number, Value};

use super::{abbreviate, malformed, DocumentSink, PayloadError, PayloadFormat};

/// How much of a bad cell is quoted in an error message.
const MAX_QUOTED_CELL: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CellType {
    String,
    Number,
    Boolean,
}

/// Splits a header cell into the field name and its type.
fn parse_header(header: &str) -> (&str, CellType) {
    match header.rsplit_once(':') {
        Some((name, "string")) => (name, CellType::String),
        Some((name, "number")) => (name, CellType::Number),
        Some((name, "boolean")) => (name, CellType::Boolean),
        _ => (header, CellType::String),
    }
}

pub(super) fn normalize_csv<R: Read, W: Write>(
    input: R,
    delimiter: u8,
    sink: &mut DocumentSink<W>,
) -> Result<(), PayloadError> {
    let format = PayloadFormat::Csv { delimiter };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .from_reader(QuoteTracker::new(input, delimiter));

    let headers = reader
        .byte_headers()
        .map_err(|err| csv_error(format, err))?
        .clone();
    let header_line = headers.position().map_or(1, |position| position.line());
    let mut fields = Vec::with_capacity(headers.len());
    for (index, cell) in headers.iter().enumerate() {
        let cell = std::str::from_utf8(cell).map_err(|_| {
            malformed(
                format,
                &format!(
                    "The header of column {} (line {header_line}) is not valid UTF-8",
                    index + 1
                ),
            )
        })?;
        let (name, cell_type) = parse_header(cell);
        fields.push((name.to_owned(), cell_type));
    }

    let mut record = csv::ByteRecord::new();
    while reader
        .read_byte_record(&mut record)
        .map_err(|err| csv_error(format, err))?
    {
        let line = record.position().map_or(0, |position| position.line());
        let mut document = Map::with_capacity(fields.len());
        for (index, (cell, (name, cell_type))) in record.iter().zip(&fields).enumerate() {
            let cell = std::str::from_utf8(cell).map_err(|_| {
                malformed(
                    format,
                    &format!(
                        "The value of field `{name}` (line {line}, column {}) is not valid UTF-8",
                        index + 1
                    ),
                )
            })?;
            let value = convert_cell(cell, *cell_type).map_err(|reason| {
                malformed(
                    format,
                    &format!(
                        "Could not parse {:?} as a {} for field `{name}` (line {line}, column {}): {reason}",
                        abbreviate(cell, MAX_QUOTED_CELL),
                        match cell_type {
                            CellType::Number => "number",
                            CellType::Boolean => "boolean",
                            CellType::String => "string",
                        },
                        index + 1
                    ),
                )
            })?;
            // Duplicate header names collapse into one field: first position, last value.
            document.insert(name.clone(), value);
        }
        sink.push(&document)?;
    }
    if let Some(line) = reader.get_ref().open_quote_line() {
        return Err(malformed(
            format,
            &format!("CSV error: the quoted field opened on line {line} is never closed"),
        ));
    }
    Ok(())
}

/// Where the bytes read so far leave the CSV grammar, as far as quotes go. It mirrors the
/// `csv` crate's reader (quote `"`, doubled quotes inside quoted fields, no escape character,
/// `\r`, `\n` or `\r\n` ending records), whose quoting rules are: a quote opens a quoted field
/// only at the start of a field, a quote elsewhere in an unquoted field is a plain character,
/// and characters after a closing quote continue the field unquoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: either it closes the field or a second quote follows.
    QuoteInQuoted,
}

/// Passes the body through to the CSV reader while following [`QuoteState`], so that a
/// quoted field the body never closes can be reported once the reader reaches the end.
struct QuoteTracker<R> {
    inner: R,
    delimiter: u8,
    state: QuoteState,
    /// The line being read (1-based) and the line of the quote that opened the current field.
    line: u64,
    opened_on: u64,
}

impl<R: Read> QuoteTracker<R> {
    fn new(inner: R, delimiter: u8) -> Self {
        QuoteTracker {
            inner,
            delimiter,
            state: QuoteState::FieldStart,
            line: 1,
            opened_on: 0,
        }
    }

    /// The line of the quote that opened a field still open at the end of the input.
    fn open_quote_line(&self) -> Option<u64> {
        (self.state == QuoteState::Quoted).then_some(self.opened_on)
    }

    fn advance(&mut self, byte: u8) {
        let ends_field = byte == self.delimiter || byte == b'\r' || byte == b'\n';
        self.state = match self.state {
            // The reader checks the quote before the delimiter at a field's start only.
            QuoteState::FieldStart if byte == b'"' => {
                self.opened_on = self.line;
                QuoteState::Quoted
            }
            QuoteState::FieldStart | QuoteState::Unquoted if ends_field => QuoteState::FieldStart,
            QuoteState::FieldStart | QuoteState::Unquoted => QuoteState::Unquoted,
            QuoteState::Quoted if byte == b'"' => QuoteState::QuoteInQuoted,
            QuoteState::Quoted => QuoteState::Quoted,
            QuoteState::QuoteInQuoted if byte == b'"' => QuoteState::Quoted,
            QuoteState::QuoteInQuoted if ends_field => QuoteState::FieldStart,
            QuoteState::QuoteInQuoted => QuoteState::Unquoted,
        };
        if byte == b'\n' {
            self.line += 1;
        }
    }
}

impl<R: Read> Read for QuoteTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        for &byte in &buf[..read] {
            self.advance(byte);
        }
        Ok(read)
    }
}

/// The JSON value of one cell, or why it does not fit its column's type.
fn convert_cell(cell: &str, cell_type: CellType) -> Result<Value, String> {
    match cell_type {
        CellType::String if cell.is_empty() => Ok(Value::Null),
        CellType::String => Ok(Value::String(cell.to_owned())),
        CellType::Number => {
            let trimmed = cell.trim();
            if trimmed.is_empty() {
                return Ok(Value::Null);
            }
            if let Ok(integer) = trimmed.parse::<i64>() {
                return Ok(Value::from(integer));
            }
            match trimmed.parse::<f64>() {
                Ok(float) => Number::from_f64(float)
                    .filter(|_| float.is_finite())
                    .map(Value::Number)
                    .ok_or_else(|| "the number is not finite".to_owned()),
                Err(err) => Err(err.to_string()),
            }
        }
        CellType::Boolean => match cell.trim() {
            "" => Ok(Value::Null),
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err("expected `true` or `false`".to_owned()),
        },
    }
}

fn csv_error(format: PayloadFormat, err: csv::Error) -> PayloadError {
    if err.is_io_error() {
        if let csv::ErrorKind::Io(io) = err.into_kind() {
            return PayloadError::Io(io);
        }
        unreachable!("is_io_error() implies an Io kind");
    }
    let detail = match err.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => {
            let line = pos.as_ref().map_or(0, |position| position.line());
            format!(
                "The record at line {line} has {len} field{}, but the header has {expected_len}",
                if *len == 1 { "" } else { "s" }
            )
        }
        _ => format!("CSV error: {err}"),
    };
    malformed(format, &detail)
}

#[cfg(test)]
mod tests {
    use super::super::normalize_payload;
    use super::*;

    const COMMA: PayloadFormat = PayloadFormat::Csv { delimiter: b',' };

    fn normalize(format: PayloadFormat, body: &[u8]) -> Result<String, PayloadError> {
        let mut out = Vec::new();
        let summary = normalize_payload(format, body, &mut out)?;
        let out = String::from_utf8(out).unwrap();
        assert_eq!(summary.documents, out.lines().count() as u64);
        Ok(out)
    }

    #[test]
    fn header_types() {
        let cases = [
            ("name", ("name", CellType::String)),
            ("name:string", ("name", CellType::String)),
            ("name:number", ("name", CellType::Number)),
            ("name:boolean", ("name", CellType::Boolean)),
            ("a:b:number", ("a:b", CellType::Number)),
            ("a:b", ("a:b", CellType::String)),
            ("a:Number", ("a:Number", CellType::String)),
            ("a:number ", ("a:number ", CellType::String)),
            (":number", ("", CellType::Number)),
            ("a:", ("a:", CellType::String)),
            ("", ("", CellType::String)),
        ];
        for (header, expected) in cases {
            assert_eq!(parse_header(header), expected, "{header}");
        }
    }

    #[test]
    fn valid_csv_payloads() {
        let cases: &[(PayloadFormat, &str, &str)] = &[
            (
                COMMA,
                "id,title\n1,Carol\n",
                "{\"id\":\"1\",\"title\":\"Carol\"}\n",
            ),
            (
                COMMA,
                "id:number,title\n1,Carol",
                "{\"id\":1,\"title\":\"Carol\"}\n",
            ),
            (COMMA, "id:number\n", ""),
            (COMMA, "id", ""),
            // Typed cells.
            (
                COMMA,
                "n:number,f:number,b:boolean,s:string\n-12,2.5,true,x\n 7 ,1e3,false, y \n",
                "{\"n\":-12,\"f\":2.5,\"b\":true,\"s\":\"x\"}\n\
                 {\"n\":7,\"f\":1000.0,\"b\":false,\"s\":\" y \"}\n",
            ),
            // Empty cells are null, whatever the type; blank numbers and booleans too.
            (
                COMMA,
                "a,b:number,c:boolean\n,,\n,  , \n",
                "{\"a\":null,\"b\":null,\"c\":null}\n{\"a\":null,\"b\":null,\"c\":null}\n",
            ),
            // Integers beyond i64 become floats.
            (
                COMMA,
                "n:number\n9223372036854775807\n9223372036854775808\n",
                "{\"n\":9223372036854775807}\n{\"n\":9.223372036854776e+18}\n",
            ),
            // Quoting, embedded delimiters, quotes and newlines.
            (
                COMMA,
                "id,text\n1,\"a, b\"\n2,\"say \"\"hi\"\"\"\n3,\"two\nlines\"\n",
                "{\"id\":\"1\",\"text\":\"a, b\"}\n{\"id\":\"2\",\"text\":\"say \\\"hi\\\"\"}\n\
                 {\"id\":\"3\",\"text\":\"two\\nlines\"}\n",
            ),
            // Other delimiters.
            (
                PayloadFormat::Csv { delimiter: b';' },
                "id:number;tags\n1;a,b\n",
                "{\"id\":1,\"tags\":\"a,b\"}\n",
            ),
            (
                PayloadFormat::Csv { delimiter: b'\t' },
                "id\tname\n1\tx y\n",
                "{\"id\":\"1\",\"name\":\"x y\"}\n",
            ),
            (
                PayloadFormat::Csv { delimiter: b'|' },
                "a|b:boolean\r\nx|true\r\n",
                "{\"a\":\"x\",\"b\":true}\n",
            ),
            // CRLF, blank lines, byte order mark, unicode.
            (
                COMMA,
                "\u{feff}id,ville\r\n\r\n1,Zürich\r\n\r\n2,東京\r\n",
                "{\"id\":\"1\",\"ville\":\"Zürich\"}\n{\"id\":\"2\",\"ville\":\"東京\"}\n",
            ),
            // Quotes that close, or that are plain characters inside an unquoted field.
            (COMMA, "a,b\n\"x\",\"\"\n", "{\"a\":\"x\",\"b\":null}\n"),
            (
                COMMA,
                "a,b\nx\"y,z\"\n",
                "{\"a\":\"x\\\"y\",\"b\":\"z\\\"\"}\n",
            ),
            (COMMA, "a\n\"x\"y\n", "{\"a\":\"xy\"}\n"),
            (COMMA, "a\n\"x\"\"\"", "{\"a\":\"x\\\"\"}\n"),
            // Duplicate names: first position, last value.
            (COMMA, "a,b,a\n1,2,3\n", "{\"a\":\"3\",\"b\":\"2\"}\n"),
            // Header order is kept.
            (
                COMMA,
                "z,a,m\n1,2,3\n",
                "{\"z\":\"1\",\"a\":\"2\",\"m\":\"3\"}\n",
            ),
        ];
        for (format, body, expected) in cases {
            let out =
                normalize(*format, body.as_bytes()).unwrap_or_else(|err| panic!("{body:?}: {err}"));
            assert_eq!(out, *expected, "{body:?}");
        }
    }

    #[test]
    fn malformed_csv_payloads() {
        let cases: &[(PayloadFormat, &[u8], &[&str])] = &[
            (
                COMMA,
                b"id,price:number\n1,12\n2,cheap\n",
                &["\"cheap\"", "field `price`", "line 3", "column 2", "number"],
            ),
            (COMMA, b"n:number\ninf\n", &["not finite", "line 2"]),
            (COMMA, b"n:number\nNaN\n", &["not finite"]),
            (COMMA, b"n:number\n1e400\n", &["not finite"]),
            (
                COMMA,
                b"n:number\n1,5\n",
                &["2 fields", "header has 1", "line 2"],
            ),
            (
                COMMA,
                b"b:boolean\ntrue\nTrue\n",
                &["\"True\"", "boolean", "field `b`", "line 3", "column 1"],
            ),
            (COMMA, b"b:boolean\n1\n", &["boolean", "`true` or `false`"]),
            (
                COMMA,
                b"a,b,c\n1,2,3\n4,5\n",
                &["line 3", "2 fields", "header has 3"],
            ),
            (
                COMMA,
                b"a,b\n1,2,3\n",
                &["line 2", "3 fields", "header has 2"],
            ),
            (
                COMMA,
                b"a,b\n1,2\n\xff,3\n",
                &["not valid UTF-8", "line 3", "column 1"],
            ),
            (
                COMMA,
                b"a,\xc3\n1,2\n",
                &["header", "column 2", "not valid UTF-8"],
            ),
            // The semicolon file read with a comma delimiter has unequal rows.
            (COMMA, b"a;b\n1,2\n", &["2 fields", "header has 1"]),
            // Quoted fields the body never closes.
            (COMMA, b"\"a,b", &["quoted field", "line 1", "never closed"]),
            (COMMA, b"a,b\n1,\"2\n", &["line 2", "never closed"]),
            (
                COMMA,
                b"a,b\n1,\"two\nlines\n3,4\n",
                &["line 2", "never closed"],
            ),
            (
                COMMA,
                b"a,b\n1,\"say \"\"hi\"\"\n",
                &["line 2", "never closed"],
            ),
            (COMMA, b"a\n\"x\"\"", &["line 2", "never closed"]),
            (
                PayloadFormat::Csv { delimiter: b';' },
                b"a;b\r\n1;\"2",
                &["line 2", "never closed"],
            ),
        ];
        for (format, body, fragments) in cases {
            match normalize(*format, body) {
                Err(PayloadError::Malformed(message)) => {
                    assert!(
                        message.starts_with("The `csv` payload provided is malformed. `")
                            && message.ends_with("`."),
                        "{message}"
                    );
                    for fragment in *fragments {
                        assert!(message.contains(fragment), "{body:?}: {message}");
                    }
                }
                other => panic!("{body:?}: expected Malformed, got {other:?}"),
            }
        }
    }

    #[test]
    fn long_bad_cells_are_abbreviated() {
        let body = format!("n:number\n{}\n", "9x".repeat(10_000));
        match normalize(COMMA, body.as_bytes()) {
            Err(PayloadError::Malformed(message)) => {
                assert!(message.len() < 400, "{message}");
                assert!(message.contains("..."), "{message}");
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
    }
}
