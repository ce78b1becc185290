//! Cuts an NDJSON stream (a gzipped corpus decompressed on the fly) into batches bounded both
//! in documents and in bytes, so that every `POST /documents` stays under the server's payload
//! limit (100 MB by default for Meilisearch and Quarry) without holding the corpus in memory.

use std::io::BufRead;

use anyhow::{bail, Context, Result};

/// One request body: whole NDJSON lines, each ending with `\n`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Batch {
    pub data: Vec<u8>,
    pub docs: usize,
}

/// Iterator of [`Batch`]es over a reader of NDJSON. Blank lines are skipped; a single line
/// longer than `max_bytes` is an error (it could never be sent).
pub struct NdjsonBatcher<R> {
    reader: R,
    max_docs: usize,
    max_bytes: usize,
    /// A line read but not fitting in the previous batch.
    carry: Option<Vec<u8>>,
    line_no: u64,
    done: bool,
    /// An error met after some lines were batched: reported after that batch.
    error: Option<anyhow::Error>,
}

impl<R: BufRead> NdjsonBatcher<R> {
    pub fn new(reader: R, max_docs: usize, max_bytes: usize) -> Self {
        NdjsonBatcher {
            reader,
            max_docs: max_docs.max(1),
            max_bytes: max_bytes.max(2),
            carry: None,
            line_no: 0,
            done: false,
            error: None,
        }
    }

    /// Next non-blank line with a trailing newline, `None` at the end.
    fn next_line(&mut self) -> Result<Option<Vec<u8>>> {
        loop {
            let mut line = Vec::new();
            let n = self
                .reader
                .read_until(b'\n', &mut line)
                .with_context(|| format!("reading NDJSON after line {}", self.line_no))?;
            if n == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if line.last() != Some(&b'\n') {
                line.push(b'\n');
            }
            if line.len() > self.max_bytes {
                bail!(
                    "line {} is {} bytes, more than the batch limit of {} bytes",
                    self.line_no,
                    line.len(),
                    self.max_bytes
                );
            }
            return Ok(Some(line));
        }
    }

    fn next_batch(&mut self) -> Result<Option<Batch>> {
        let mut batch = Batch::default();
        loop {
            if batch.docs >= self.max_docs {
                break;
            }
            let line = match self.carry.take() {
                Some(line) => line,
                None => match self.next_line() {
                    Ok(Some(line)) => line,
                    Ok(None) => {
                        self.done = true;
                        break;
                    }
                    Err(e) if batch.docs > 0 => {
                        self.error = Some(e);
                        break;
                    }
                    Err(e) => return Err(e),
                },
            };
            if batch.data.len() + line.len() > self.max_bytes {
                self.carry = Some(line);
                break;
            }
            batch.data.extend_from_slice(&line);
            batch.docs += 1;
        }
        Ok((batch.docs > 0).then_some(batch))
    }
}

impl<R: BufRead> Iterator for NdjsonBatcher<R> {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.error.take() {
            self.done = true;
            self.carry = None;
            return Some(Err(e));
        }
        if self.done && self.carry.is_none() {
            return None;
        }
        match self.next_batch() {
            Ok(Some(batch)) => Some(Ok(batch)),
            Ok(None) => None,
            Err(e) => {
                self.done = true;
                self.carry = None;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batches(input: &str, docs: usize, bytes: usize) -> Vec<Batch> {
        NdjsonBatcher::new(input.as_bytes(), docs, bytes)
            .collect::<Result<Vec<_>>>()
            .unwrap()
    }

    #[test]
    fn splits_on_document_count() {
        let input = "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n";
        let b = batches(input, 2, 1000);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].docs, 2);
        assert_eq!(b[0].data, b"{\"id\":1}\n{\"id\":2}\n");
        assert_eq!(b[1].docs, 1);
        assert_eq!(b[1].data, b"{\"id\":3}\n");
    }

    #[test]
    fn splits_on_size_and_never_exceeds_it() {
        // Each line is 9 bytes with its newline.
        let input: String = (1..=9).map(|i| format!("{{\"id\":{i}}}\n")).collect();
        let b = batches(&input, 1000, 20);
        assert!(b.iter().all(|b| b.data.len() <= 20));
        assert_eq!(b.iter().map(|b| b.docs).sum::<usize>(), 9);
        assert_eq!(b[0].docs, 2);
        let joined: Vec<u8> = b.iter().flat_map(|b| b.data.clone()).collect();
        assert_eq!(joined, input.as_bytes());
    }

    #[test]
    fn exact_fit_stays_in_one_batch() {
        let input = "{\"id\":1}\n{\"id\":2}\n";
        let b = batches(input, 1000, 18);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].docs, 2);
    }

    #[test]
    fn adds_missing_final_newline_and_skips_blank_lines() {
        let input = "{\"id\":1}\n\n  \n{\"id\":2}";
        let b = batches(input, 10, 1000);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].docs, 2);
        assert_eq!(b[0].data, b"{\"id\":1}\n{\"id\":2}\n");
    }

    #[test]
    fn empty_input_gives_no_batch() {
        assert!(batches("", 10, 100).is_empty());
        assert!(batches("\n\n", 10, 100).is_empty());
    }

    #[test]
    fn oversized_line_is_an_error() {
        let input = "{\"id\":1}\n{\"id\":2, \"long\": \"xxxxxxxxxxxxxxxxxxxx\"}\n";
        let mut it = NdjsonBatcher::new(input.as_bytes(), 10, 16);
        let first = it.next().unwrap().unwrap();
        assert_eq!(first.docs, 1);
        let err = it.next().unwrap().unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(it.next().is_none());
    }

    #[test]
    fn gzip_stream_round_trip() {
        use flate2::{read::GzDecoder, write::GzEncoder, Compression};
        use std::io::{BufReader, Write};
        let input: String = (0..1000).map(|i| format!("{{\"id\":{i}}}\n")).collect();
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(input.as_bytes()).unwrap();
        let gz = enc.finish().unwrap();
        let reader = BufReader::new(GzDecoder::new(&gz[..]));
        let b: Vec<Batch> = NdjsonBatcher::new(reader, 300, 1 << 20)
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(
            b.iter().map(|b| b.docs).collect::<Vec<_>>(),
            [300, 300, 300, 100]
        );
    }
}
