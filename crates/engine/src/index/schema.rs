//! The fixed tantivy schema every Quarry index uses. User fields are not tantivy fields: they
//! live in `_source` and are projected into the few internal fields below, so that settings can
//! change without a schema migration.

use tantivy::schema::{
    BytesOptions, Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, STRING,
};

/// Name of the tokenizer registered for pre-tokenized fields. Quarry analyzes text itself, so
/// tantivy never runs it on document text; it only has to exist.
pub const RAW_TOKENIZER: &str = "raw";

#[derive(Debug, Clone, Copy)]
pub struct SchemaFields {
    /// The document id, as an untokenized term: the key for replace, update and delete.
    pub id: Field,
    /// The original document as compact JSON, returned unchanged.
    pub source: Field,
    /// Every searchable word, with position `attribute_rank << 16 | word_position`.
    pub text: Field,
    /// The name of each field a document has: field distribution and `EXISTS`.
    pub field_names: Field,
}

pub fn build_schema() -> (Schema, SchemaFields) {
    let mut builder = Schema::builder();
    let id = builder.add_text_field("_id", STRING);
    let source = builder.add_bytes_field("_source", BytesOptions::default().set_stored());
    let text_indexing = TextFieldIndexing::default()
        .set_tokenizer(RAW_TOKENIZER)
        .set_fieldnorms(false)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let text = builder.add_text_field(
        "_text",
        TextOptions::default().set_indexing_options(text_indexing),
    );
    let field_names = builder.add_text_field("_fields", STRING);
    (
        builder.build(),
        SchemaFields {
            id,
            source,
            text,
            field_names,
        },
    )
}

/// Reads the internal fields back from an opened index's schema.
pub fn fields_of(schema: &Schema) -> tantivy::Result<SchemaFields> {
    Ok(SchemaFields {
        id: schema.get_field("_id")?,
        source: schema.get_field("_source")?,
        text: schema.get_field("_text")?,
        field_names: schema.get_field("_fields")?,
    })
}

/// Packs an attribute rank and a word position into one tantivy position.
pub fn pack_position(attribute_rank: u16, word_position: u32) -> u32 {
    (u32::from(attribute_rank) << 16) | word_position.min(u32::from(u16::MAX))
}

/// The attribute rank of a packed position.
pub fn attribute_of(position: u32) -> u16 {
    (position >> 16) as u16
}

/// The word position, within its attribute, of a packed position.
pub fn word_position_of(position: u32) -> u16 {
    (position & 0xFFFF) as u16
}
