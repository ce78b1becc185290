//! A fingerprint of everything an index holds for each live document (every term of every
//! field with its positions, and the stored source), keyed by document id, so that tests can
//! prove that two ways of indexing the same documents wrote the same index whatever the segment
//! layout and doc ids. `QUARRY_FINGERPRINT=DIR[,DIR]` prints (and compares) the fingerprints of
//! index directories written by two builds: `cargo test -p quarry-engine --release --lib
//! fingerprint_of_directories -- --nocapture`.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use tantivy::postings::Postings;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocSet, Searcher, TERMINATED};

use super::{read_source_bytes, Index, SchemaFields};

/// Per live document id: a hash of its terms (field, bytes, positions) in term order and of its
/// stored source.
pub(crate) fn fingerprint(searcher: &Searcher, fields: SchemaFields) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let max_doc = segment.max_doc() as usize;
        let mut ids: Vec<Option<String>> = vec![None; max_doc];
        let mut states = vec![0xcbf2_9ce4_8422_2325_u64; max_doc];
        for (field, option) in [
            (fields.id, IndexRecordOption::Basic),
            (fields.field_names, IndexRecordOption::Basic),
            (fields.text, IndexRecordOption::WithFreqsAndPositions),
        ] {
            walk_terms(segment, field, option, |term, doc, positions| {
                if field == fields.id {
                    ids[doc as usize] = Some(String::from_utf8(term.to_vec()).unwrap());
                }
                let mut h = std::collections::hash_map::DefaultHasher::new();
                (field.field_id(), term, positions).hash(&mut h);
                mix(&mut states[doc as usize], h.finish());
            });
        }
        for doc in segment.doc_ids_alive() {
            let address = tantivy::DocAddress::new(ord as u32, doc);
            let source = read_source_bytes(searcher, fields, address).unwrap();
            let mut h = std::collections::hash_map::DefaultHasher::new();
            source.hash(&mut h);
            mix(&mut states[doc as usize], h.finish());
            let id = ids[doc as usize]
                .clone()
                .expect("every document has an id term");
            assert!(
                out.insert(id.clone(), states[doc as usize]).is_none(),
                "two live documents have the id {id}"
            );
        }
    }
    out
}

fn mix(state: &mut u64, value: u64) {
    *state = (*state ^ value)
        .wrapping_mul(0x0100_0000_01b3)
        .rotate_left(17);
}

/// Calls `f(term, doc, positions)` for every live document of every term of `field`.
fn walk_terms(
    segment: &tantivy::SegmentReader,
    field: Field,
    option: IndexRecordOption,
    mut f: impl FnMut(&[u8], u32, &[u32]),
) {
    let inverted = segment.inverted_index(field).unwrap();
    let mut stream = inverted.terms().stream().unwrap();
    let mut positions = Vec::new();
    while stream.advance() {
        let term = stream.key().to_vec();
        let mut postings = inverted
            .read_postings_from_terminfo(stream.value(), option)
            .unwrap();
        let mut doc = postings.doc();
        while doc != TERMINATED {
            if !segment.is_deleted(doc) {
                positions.clear();
                if option == IndexRecordOption::WithFreqsAndPositions {
                    postings.positions(&mut positions);
                }
                f(&term, doc, &positions);
            }
            doc = postings.advance();
        }
    }
}

/// Everything the index holds for one document, readable: `(field, term, positions)`.
pub(crate) fn document_terms(index: &Index, id: &str) -> Vec<(u32, String, Vec<u32>)> {
    let searcher = index.searcher();
    let fields = index.schema_fields();
    let address = super::find_document(&searcher, fields, id)
        .unwrap()
        .expect("no such document");
    let segment = searcher.segment_reader(address.segment_ord);
    let mut out = Vec::new();
    for (field, option) in [
        (fields.id, IndexRecordOption::Basic),
        (fields.field_names, IndexRecordOption::Basic),
        (fields.text, IndexRecordOption::WithFreqsAndPositions),
    ] {
        walk_terms(segment, field, option, |term, doc, positions| {
            if doc == address.doc_id {
                out.push((
                    field.field_id(),
                    String::from_utf8_lossy(term).into_owned(),
                    positions.to_vec(),
                ));
            }
        });
    }
    out
}

/// One hash of a whole fingerprint.
pub(crate) fn combined(fingerprint: &BTreeMap<String, u64>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    fingerprint.hash(&mut h);
    h.finish()
}

#[test]
fn fingerprint_of_directories() {
    let Ok(dirs) = std::env::var("QUARRY_FINGERPRINT") else {
        return;
    };
    let options = super::IndexOptions::default();
    let mut prints = Vec::new();
    for dir in dirs.split(',') {
        let index = Index::open(std::path::Path::new(dir), options).unwrap();
        let print = fingerprint(&index.searcher(), index.schema_fields());
        println!(
            "{dir}: {} documents, {} segments, fingerprint {:016x}",
            print.len(),
            index.searcher().segment_readers().len(),
            combined(&print)
        );
        prints.push((index, print));
    }
    if let [(a_index, a), (b_index, b)] = &prints[..] {
        let differing: Vec<&String> = a
            .iter()
            .filter(|(id, h)| b.get(*id) != Some(h))
            .map(|(id, _)| id)
            .chain(b.keys().filter(|id| !a.contains_key(*id)))
            .collect();
        if let Some(first) = differing.first() {
            println!("{} documents differ, the first: {first}", differing.len());
            if a.contains_key(*first) && b.contains_key(*first) {
                println!("first: {:?}", document_terms(a_index, first));
                println!("second: {:?}", document_terms(b_index, first));
            }
        }
        assert!(differing.is_empty(), "the indexes differ");
    }
}
