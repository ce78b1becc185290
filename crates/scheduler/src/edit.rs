//! Edit documents by function (`documentEdition` tasks): a Rhai script run on each selected
//! document, sandboxed. The script sees the document as `doc` and the request's `context`;
//! what `doc` holds when it ends replaces the document, `()` deletes it. The engine is built
//! without module loading (no file access: the crate's `no_module` feature), printing goes
//! nowhere, `eval` is disabled, and each document's run is bounded in operations, call depth,
//! expression depth, string, array and map sizes, and wall-clock time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use quarry_engine::index::DocumentEdit;
use quarry_engine::{EngineError, UserError, UserErrorKind};
use rhai::{Dynamic, Engine, Scope, AST};
use serde_json::{Map, Value};

/// Most Rhai operations one document's run may take.
pub const MAX_OPERATIONS: u64 = 1_000_000;
/// Longest one document's run may take.
pub const MAX_DURATION: Duration = Duration::from_secs(1);
/// Deepest function call nesting.
pub const MAX_CALL_LEVELS: usize = 64;
/// Deepest expression nesting (top level and inside functions).
pub const MAX_EXPR_DEPTH: usize = 128;
/// Longest string a script may build, in bytes.
pub const MAX_STRING_SIZE: usize = 1024 * 1024;
/// Most items of an array or keys of a map a script may build.
pub const MAX_COLLECTION_SIZE: usize = 10_000;
/// Most functions a script may define.
pub const MAX_FUNCTIONS: usize = 64;

fn sandboxed_engine(deadline: Arc<Mutex<Instant>>) -> Engine {
    let mut engine = Engine::new();
    engine.set_max_operations(MAX_OPERATIONS);
    engine.set_max_call_levels(MAX_CALL_LEVELS);
    engine.set_max_expr_depths(MAX_EXPR_DEPTH, MAX_EXPR_DEPTH);
    engine.set_max_string_size(MAX_STRING_SIZE);
    engine.set_max_array_size(MAX_COLLECTION_SIZE);
    engine.set_max_map_size(MAX_COLLECTION_SIZE);
    engine.set_max_functions(MAX_FUNCTIONS);
    engine.disable_symbol("eval");
    engine.on_print(|_| {});
    engine.on_debug(|_, _, _| {});
    engine.on_progress(move |_| {
        if Instant::now() > *deadline.lock() {
            Some(Dynamic::from("the function ran for too long"))
        } else {
            None
        }
    });
    engine
}

/// Compiles `function` the way the route checks it before enqueuing: `Err` holds the parse
/// error as Rhai words it.
pub fn check_function(function: &str) -> Result<(), String> {
    let engine = sandboxed_engine(Arc::new(Mutex::new(Instant::now() + MAX_DURATION)));
    engine
        .compile(function)
        .map(drop)
        .map_err(|e| e.to_string())
}

fn edition_error(message: impl Into<String>) -> EngineError {
    UserError::new(UserErrorKind::EditDocumentsByFunction, message).into()
}

/// A compiled edit function with its context, ready to run on documents.
pub struct DocumentEditor {
    engine: Engine,
    ast: AST,
    context: Dynamic,
    primary_key: Option<String>,
    deadline: Arc<Mutex<Instant>>,
}

impl DocumentEditor {
    pub fn new(
        function: &str,
        context: Option<&Value>,
        primary_key: Option<String>,
    ) -> Result<DocumentEditor, EngineError> {
        let deadline = Arc::new(Mutex::new(Instant::now() + MAX_DURATION));
        let engine = sandboxed_engine(deadline.clone());
        let ast = engine.compile(function).map_err(|e| {
            edition_error(format!(
                "Document edition compilation error encountered while parsing the function: {e}"
            ))
        })?;
        let context = match context {
            Some(value) => rhai::serde::to_dynamic(value)
                .map_err(|e| edition_error(format!("The context cannot be used: {e}")))?,
            None => Dynamic::UNIT,
        };
        Ok(DocumentEditor {
            engine,
            ast,
            context,
            primary_key,
            deadline,
        })
    }

    /// Runs the function on one document.
    pub fn edit(&self, document: &Map<String, Value>) -> Result<DocumentEdit, EngineError> {
        let runtime = |e: &dyn std::fmt::Display| {
            edition_error(format!(
                "Document edition runtime error encountered while running the function: {e}"
            ))
        };
        let doc = rhai::serde::to_dynamic(document).map_err(|e| runtime(&e))?;
        let mut scope = Scope::new();
        scope.push_dynamic("doc", doc);
        scope.push_constant_dynamic("context", self.context.clone());
        *self.deadline.lock() = Instant::now() + MAX_DURATION;
        self.engine
            .run_ast_with_scope(&mut scope, &self.ast)
            .map_err(|e| runtime(&e))?;
        let result = scope.get_value::<Dynamic>("doc").unwrap_or(Dynamic::UNIT);
        if result.is_unit() {
            return Ok(DocumentEdit::Delete);
        }
        if !result.is_map() {
            return Err(edition_error(
                "Document editions must keep documents as objects",
            ));
        }
        let new: Value = rhai::serde::from_dynamic(&result).map_err(|e| runtime(&e))?;
        let Value::Object(new) = new else {
            return Err(edition_error(
                "Document editions must keep documents as objects",
            ));
        };
        if &new == document {
            return Ok(DocumentEdit::Keep);
        }
        if let Some(key) = &self.primary_key {
            if new.get(key) != document.get(key) {
                return Err(edition_error(
                    "Document editions cannot modify a document's primary key",
                ));
            }
        }
        Ok(DocumentEdit::Replace(new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn edits_deletes_and_keeps() {
        let editor = DocumentEditor::new(
            "if doc.id == 2 { doc = () } else if doc.id == 1 { doc.title = `${doc.title}!`; doc.n = context.n }",
            Some(&json!({"n": 7})),
            Some("id".into()),
        )
        .unwrap();
        assert_eq!(
            editor.edit(&doc(json!({"id": 1, "title": "a"}))).unwrap(),
            DocumentEdit::Replace(doc(json!({"id": 1, "title": "a!", "n": 7})))
        );
        assert_eq!(
            editor.edit(&doc(json!({"id": 2}))).unwrap(),
            DocumentEdit::Delete
        );
        assert_eq!(
            editor.edit(&doc(json!({"id": 3}))).unwrap(),
            DocumentEdit::Keep
        );
    }

    #[test]
    fn the_sandbox_stops_runaway_and_forbidden_scripts() {
        let message = |function: &str| match DocumentEditor::new(function, None, Some("id".into()))
            .and_then(|e| e.edit(&doc(json!({"id": 1}))))
        {
            Err(EngineError::User(e)) => e.message,
            other => panic!("{function}: {other:?}"),
        };
        assert!(message("loop {}").contains("Too many operations"));
        assert!(message("fn f(x) { f(x + 1) } f(0)").contains("runtime error"));
        assert!(message("let s = \"x\"; loop { s += s; }").contains("runtime error"));
        assert!(message("import \"x\" as y;").contains("compilation error"));
        assert!(message("eval(\"1\")").contains("error"));
        assert_eq!(
            message("doc.id = 5"),
            "Document editions cannot modify a document's primary key"
        );
        assert_eq!(
            message("doc = 5"),
            "Document editions must keep documents as objects"
        );
    }
}
