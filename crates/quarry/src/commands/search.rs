//! `quarry search NAME "query"`: one search through the HTTP API, printed as a readable table
//! (or the raw response with `--json`).

use std::io::IsTerminal;

use anyhow::Context;
use serde_json::{json, Map, Value};

use super::{path_segment, Client, Connection};

#[derive(Debug, Clone, clap::Args)]
pub struct SearchArgs {
    /// The index to search.
    pub index: String,

    /// What to search for (empty: every document, in ranking order).
    #[arg(default_value = "")]
    pub query: String,

    /// How many hits to show.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,

    /// A filter expression, e.g. `year > 2000 AND genres = Drama`.
    #[arg(long)]
    pub filter: Option<String>,

    /// Sort criteria, e.g. `--sort year:desc` (repeatable).
    #[arg(long)]
    pub sort: Vec<String>,

    /// The attributes to show as columns (default: the identifier and the first few fields).
    #[arg(long, value_delimiter = ',')]
    pub attributes: Vec<String>,

    /// Prints the search response as JSON instead of a table.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub connection: Connection,
}

const MAX_COLUMNS: usize = 4;
const MAX_CELL: usize = 48;

pub fn run(args: SearchArgs) -> anyhow::Result<()> {
    let client = Client::new(&args.connection)?;
    let index = path_segment(&args.index);
    let mut body = json!({"q": args.query, "limit": args.limit});
    if let Some(filter) = &args.filter {
        body["filter"] = json!(filter);
    }
    if !args.sort.is_empty() {
        body["sort"] = json!(args.sort);
    }
    let bold = std::io::stdout().is_terminal() && !args.json;
    if bold {
        body["attributesToHighlight"] = json!(["*"]);
        body["highlightPreTag"] = json!("\u{1b}[1m");
        body["highlightPostTag"] = json!("\u{1b}[0m");
    }
    let answer = client.json(
        reqwest::Method::POST,
        &format!("/indexes/{index}/search"),
        &body,
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    let primary_key = client.get(&format!("/indexes/{index}"))?["primaryKey"]
        .as_str()
        .map(str::to_string);
    let hits = answer["hits"].as_array().context("no hits in the answer")?;
    let columns = choose_columns(hits, primary_key.as_deref(), &args.attributes);
    let rows: Vec<Vec<String>> = hits
        .iter()
        .map(|hit| {
            let shown = hit.get("_formatted").unwrap_or(hit);
            columns.iter().map(|c| cell(shown.get(c))).collect()
        })
        .collect();
    print!("{}", table(&columns, &rows));
    let total = answer["estimatedTotalHits"]
        .as_u64()
        .unwrap_or(hits.len() as u64);
    println!(
        "{} of about {total} results in {} ms",
        hits.len(),
        answer["processingTimeMs"].as_u64().unwrap_or(0)
    );
    Ok(())
}

/// The identifier first, then the fields the hits have most, up to a few columns.
fn choose_columns(hits: &[Value], primary_key: Option<&str>, wanted: &[String]) -> Vec<String> {
    if !wanted.is_empty() {
        return wanted.to_vec();
    }
    let mut columns: Vec<String> = primary_key.map(str::to_string).into_iter().collect();
    let Some(Value::Object(first)) = hits.first() else {
        return columns;
    };
    for (name, value) in first {
        if columns.len() >= MAX_COLUMNS {
            break;
        }
        if name.starts_with('_') || columns.contains(name) {
            continue;
        }
        if value.is_string() || value.is_number() || value.is_array() {
            columns.push(name.clone());
        }
    }
    columns
}

fn cell(value: Option<&Value>) -> String {
    let text = match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| cell(Some(v)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::Object(map)) => Value::Object(Map::clone(map)).to_string(),
        Some(other) => other.to_string(),
    };
    let text = text.replace(['\n', '\t'], " ");
    if visible_len(&text) > MAX_CELL {
        let mut cut = String::new();
        for c in text.chars() {
            if visible_len(&cut) >= MAX_CELL - 1 {
                break;
            }
            cut.push(c);
        }
        // Never leave a highlight open at the cut.
        if cut.matches("\u{1b}[1m").count() > cut.matches("\u{1b}[0m").count() {
            cut.push_str("\u{1b}[0m");
        }
        cut.push('…');
        cut
    } else {
        text
    }
}

/// Characters a terminal shows (ANSI highlight sequences take no room).
fn visible_len(text: &str) -> usize {
    text.replace("\u{1b}[1m", "")
        .replace("\u{1b}[0m", "")
        .chars()
        .count()
}

fn table(columns: &[String], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for row in rows {
        for (i, value) in row.iter().enumerate() {
            widths[i] = widths[i].max(visible_len(value));
        }
    }
    let line = |values: &[String]| -> String {
        let cells: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{v}{}", " ".repeat(widths[i] - visible_len(v))))
            .collect();
        format!("{}\n", cells.join("  ").trim_end())
    };
    let mut out = line(columns);
    let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
    out.push_str(&line(&rule));
    for row in rows {
        out.push_str(&line(row));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_cut_without_breaking_highlights() {
        let long = format!("\u{1b}[1m{}\u{1b}[0m", "a".repeat(80));
        let cut = cell(Some(&json!(long)));
        assert_eq!(visible_len(&cut), MAX_CELL);
        assert!(cut.ends_with("\u{1b}[0m…"));
        assert_eq!(cell(Some(&json!(["x", 2]))), "x, 2");
        assert_eq!(cell(None), "");
    }

    #[test]
    fn tables_align_columns() {
        let out = table(
            &["id".into(), "title".into()],
            &[
                vec!["1".into(), "Alien".into()],
                vec!["22".into(), "Up".into()],
            ],
        );
        assert_eq!(out, "id  title\n──  ─────\n1   Alien\n22  Up\n");
    }
}
