//! Fuzz target: the document payload parsers (JSON array or object, NDJSON, CSV with any ASCII
//! delimiter). Whatever they accept must read back from the normalized spool unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quarry_engine::documents::{normalize_payload, read_normalized, PayloadError, PayloadFormat};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the format (and, for CSV, the delimiter); the rest is the body.
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let format = match selector % 8 {
        0 | 1 => PayloadFormat::Json,
        2 | 3 => PayloadFormat::Ndjson,
        4 => PayloadFormat::Csv { delimiter: b';' },
        5 => PayloadFormat::Csv {
            delimiter: selector & 0x7f,
        },
        _ => PayloadFormat::Csv { delimiter: b',' },
    };
    let mut spool = Vec::new();
    match normalize_payload(format, body, &mut spool) {
        Ok(summary) => {
            let mut read_back = 0u64;
            for document in read_normalized(&spool[..]) {
                document.expect("a normalized document reads back");
                read_back += 1;
            }
            assert_eq!(
                read_back, summary.documents,
                "documents written vs read back"
            );
        }
        Err(PayloadError::Missing) => {
            let blank = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
            assert!(
                blank.iter().all(|b| b" \t\r\n".contains(b)),
                "missing but not blank"
            );
        }
        Err(PayloadError::Malformed(message)) => assert!(!message.is_empty()),
        Err(PayloadError::Io(err)) => panic!("reading from memory cannot fail: {err}"),
    }
});
