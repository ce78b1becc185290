//! Document templates: the Liquid text that turns one document into a short piece of prose, as
//! Meilisearch's `documentTemplate` does for chat and embedders. One implementation serves the
//! chat search tool (each hit rendered for the model) and `POST /render-template`.
//!
//! A template sees two variables: `doc`, the document itself (`{{ doc.title }}`), and `fields`,
//! its top-level fields in document order, each `{name, value, is_searchable}`. Referring to a
//! field the document lacks is an error, as in Meilisearch (Liquid is strict about indexes).

use serde_json::{Map, Value};

/// What an index renders with when its `chat.documentTemplate` was never set: every searchable
/// field that has a value, one `name: value` line each.
pub const DEFAULT_DOCUMENT_TEMPLATE: &str = "{% for field in fields %}{% if field.is_searchable and field.value != nil %}{{ field.name }}: {{ field.value }}\n{% endif %}{% endfor %}";

/// The default cap on a rendered document, in bytes.
pub const DEFAULT_DOCUMENT_TEMPLATE_MAX_BYTES: usize = 400;

/// Why a template could not be used: its text does not parse, or rendering it on a document
/// failed (a missing field, a filter given the wrong type...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    Parse(String),
    Render(String),
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TemplateError::Parse(e) => write!(f, "user error: cannot parse template: {e}"),
            TemplateError::Render(e) => write!(f, "user error: missing field in document: {e}"),
        }
    }
}

impl std::error::Error for TemplateError {}

/// A parsed template, ready to render any number of documents.
pub struct DocumentTemplate {
    text: String,
    template: liquid::Template,
}

impl std::fmt::Debug for DocumentTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentTemplate")
            .field("text", &self.text)
            .finish()
    }
}

impl DocumentTemplate {
    /// Parses `text` with Liquid's standard tags and filters.
    pub fn parse(text: &str) -> Result<DocumentTemplate, TemplateError> {
        let parser = liquid::ParserBuilder::with_stdlib()
            .build()
            .map_err(|e| TemplateError::Parse(e.to_string()))?;
        let template = parser
            .parse(text)
            .map_err(|e| TemplateError::Parse(e.to_string()))?;
        Ok(DocumentTemplate {
            text: text.to_string(),
            template,
        })
    }

    /// The text the template was parsed from.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Renders `document`; `is_searchable` says which top-level fields `fields[i].is_searchable`
    /// marks. The result is cut to `max_bytes` (on a character boundary) when given.
    pub fn render(
        &self,
        document: &Map<String, Value>,
        is_searchable: &dyn Fn(&str) -> bool,
        max_bytes: Option<usize>,
    ) -> Result<String, TemplateError> {
        let to_liquid = |value: &Value| {
            liquid::model::to_value(value).map_err(|e| TemplateError::Render(e.to_string()))
        };
        let fields = document
            .iter()
            .map(|(name, value)| {
                let mut field = liquid::Object::new();
                field.insert("name".into(), liquid::model::Value::scalar(name.clone()));
                field.insert("value".into(), to_liquid(value)?);
                field.insert(
                    "is_searchable".into(),
                    liquid::model::Value::scalar(is_searchable(name)),
                );
                Ok(liquid::model::Value::Object(field))
            })
            .collect::<Result<Vec<_>, TemplateError>>()?;
        let mut globals = liquid::Object::new();
        globals.insert("doc".into(), to_liquid(&Value::Object(document.clone()))?);
        globals.insert("fields".into(), liquid::model::Value::Array(fields));
        let mut rendered = self
            .template
            .render(&globals)
            .map_err(|e| TemplateError::Render(e.to_string()))?;
        if let Some(max) = max_bytes {
            truncate_at_char_boundary(&mut rendered, max);
        }
        Ok(rendered)
    }
}

/// Shortens `text` to at most `max` bytes without splitting a character.
fn truncate_at_char_boundary(text: &mut String, max: usize) {
    if text.len() <= max {
        return;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
}

/// Whether `field` is searchable under `searchable_attributes` (`None` or `*` = every field).
pub fn is_searchable_field(searchable_attributes: Option<&[String]>, field: &str) -> bool {
    match searchable_attributes {
        None => true,
        Some(list) => list.iter().any(|attribute| {
            attribute == "*"
                || attribute == field
                || attribute
                    .strip_prefix(field)
                    .is_some_and(|rest| rest.starts_with('.'))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn render(
        template: &str,
        document: Value,
        max: Option<usize>,
    ) -> Result<String, TemplateError> {
        DocumentTemplate::parse(template)?.render(&doc(document), &|f| f != "hidden", max)
    }

    #[test]
    fn renders_doc_fields_and_filters() {
        let cases: &[(&str, Value, Option<usize>, &str)] = &[
            (
                "{{ doc.title }} ({{ doc.year }})",
                json!({"title": "Alien", "year": 1979}),
                None,
                "Alien (1979)",
            ),
            (
                "{{ doc.overview | truncatewords: 3 }}",
                json!({"overview": "one two three four five"}),
                None,
                "one two three...",
            ),
            (
                "{{ doc.genres | join: \", \" }}",
                json!({"genres": ["Horror", "Sci-Fi"]}),
                None,
                "Horror, Sci-Fi",
            ),
            (
                "{{ doc.title }}",
                json!({"title": "été à Paris"}),
                Some(2),
                "é",
            ),
            ("abcdef", json!({}), Some(3), "abc"),
            (
                DEFAULT_DOCUMENT_TEMPLATE,
                json!({"title": "Alien", "hidden": "x", "none": null}),
                None,
                "title: Alien\n",
            ),
        ];
        for (template, document, max, expected) in cases {
            assert_eq!(
                render(template, document.clone(), *max).unwrap(),
                *expected,
                "{template}"
            );
        }
    }

    #[test]
    fn parse_and_render_errors() {
        let err = DocumentTemplate::parse("{{ doc.title").unwrap_err();
        assert!(matches!(err, TemplateError::Parse(_)), "{err:?}");
        assert!(err
            .to_string()
            .starts_with("user error: cannot parse template: "));
        let err = render("{{ doc.missing }}", json!({"title": "x"}), None).unwrap_err();
        assert!(matches!(err, TemplateError::Render(_)));
        let message = err.to_string();
        assert!(
            message.starts_with("user error: missing field in document: liquid: Unknown index"),
            "{message}"
        );
        assert!(message.contains("requested index=missing"), "{message}");
    }

    #[test]
    fn searchable_fields() {
        let list = vec!["title".to_string(), "cast.name".to_string()];
        assert!(is_searchable_field(None, "anything"));
        assert!(is_searchable_field(Some(&list), "title"));
        assert!(is_searchable_field(Some(&list), "cast"));
        assert!(!is_searchable_field(Some(&list), "year"));
    }
}
