//! `GET /metrics`: the instance's numbers in the Prometheus text exposition format (0.0.4).
//! HTTP and search latencies are recorded here as requests pass; the writer's numbers come
//! from the scheduler; index sizes, document counts and memory are read when scraped.
//!
//! The HTTP and search series live in one process-wide registry, as Prometheus clients
//! usually keep them: labels are route patterns (never raw URLs), methods and statuses.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use quarry_engine::search::cache as search_cache;
use quarry_engine::Index;
use quarry_scheduler::metrics::Histogram;

use crate::error::ApiResult;
use crate::AppState;

/// Latencies of the HTTP requests and searches served by this process.
#[derive(Default)]
pub struct Registry {
    /// (route pattern, method, status) → latency histogram.
    http: Mutex<BTreeMap<(String, String, u16), Histogram>>,
    search: Mutex<Histogram>,
}

pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::default)
}

impl Registry {
    pub fn observe_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.http
            .lock()
            .entry((route.to_string(), method.to_string(), status))
            .or_default()
            .observe(seconds);
    }

    pub fn observe_search(&self, seconds: f64) {
        self.search.lock().observe(seconds);
    }
}

pub async fn metrics(State(state): State<AppState>) -> ApiResult<Response> {
    let text = super::routes::blocking(move || Ok(render(&state))).await?;
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response())
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn number(value: f64) -> String {
    if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        format!("{value}")
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A per-index gauge: its name, its help and how to read it from an index.
type IndexGauge = (&'static str, &'static str, fn(&Index) -> u64);

/// The lines of one histogram series; `labels` is `a="b",c="d"` or empty.
fn histogram(out: &mut String, name: &str, labels: &str, h: &Histogram) {
    let sep = if labels.is_empty() { "" } else { "," };
    for (bound, count) in h.cumulative() {
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"{}\"}} {count}",
            number(bound)
        );
    }
    let braces = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    };
    let _ = writeln!(out, "{name}_sum{braces} {}", number(h.sum));
    let _ = writeln!(out, "{name}_count{braces} {}", h.count);
}

fn render(state: &AppState) -> String {
    let mut out = String::new();
    let registry = registry();
    let http = registry.http.lock().clone();
    header(
        &mut out,
        "quarry_http_requests_total",
        "counter",
        "HTTP requests answered, by route pattern, method and status.",
    );
    for ((route, method, status), h) in &http {
        let _ = writeln!(
            out,
            "quarry_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {}",
            escape(route),
            escape(method),
            h.count
        );
    }
    header(
        &mut out,
        "quarry_http_request_duration_seconds",
        "histogram",
        "Time to answer an HTTP request, by route pattern, method and status.",
    );
    for ((route, method, status), h) in &http {
        let labels = format!(
            "route=\"{}\",method=\"{}\",status=\"{status}\"",
            escape(route),
            escape(method)
        );
        histogram(&mut out, "quarry_http_request_duration_seconds", &labels, h);
    }
    header(
        &mut out,
        "quarry_http_requests_in_flight",
        "gauge",
        "Requests holding one of the --max-concurrent-requests permits (/health is not counted).",
    );
    let _ = writeln!(
        out,
        "quarry_http_requests_in_flight {}",
        crate::limits::requests_in_flight(state)
    );
    header(
        &mut out,
        "quarry_search_duration_seconds",
        "histogram",
        "Time to run a search, from decoded request to response body.",
    );
    let search = registry.search.lock().clone();
    histogram(&mut out, "quarry_search_duration_seconds", "", &search);
    header(
        &mut out,
        "quarry_search_cache_bytes",
        "gauge",
        "Bytes of document sets the snapshots' search caches hold in memory, by kind; all \
         kinds share one budget (--search-cache-size).",
    );
    for (kind, bytes) in search_cache::usage_by_kind() {
        let _ = writeln!(out, "quarry_search_cache_bytes{{kind=\"{kind}\"}} {bytes}");
    }
    header(
        &mut out,
        "quarry_search_cache_evictions_total",
        "counter",
        "Times a snapshot's search cache dropped entries to stay within its budget.",
    );
    let _ = writeln!(
        out,
        "quarry_search_cache_evictions_total {}",
        search_cache::usage().1
    );
    header(
        &mut out,
        "quarry_search_answers_reused_total",
        "counter",
        "Searches answered with the kept answer of the same request on the same snapshot (an \
         empty query or one of one or two letters).",
    );
    let _ = writeln!(
        out,
        "quarry_search_answers_reused_total {}",
        search_cache::answers_reused()
    );

    let writer = state.scheduler.writer_metrics();
    header(
        &mut out,
        "quarry_documents_indexed_total",
        "counter",
        "Documents indexed by succeeded tasks since the process started.",
    );
    let _ = writeln!(
        out,
        "quarry_documents_indexed_total {}",
        writer.documents_indexed
    );
    header(
        &mut out,
        "quarry_batch_duration_seconds",
        "histogram",
        "Time the writer took to process a batch of tasks.",
    );
    histogram(
        &mut out,
        "quarry_batch_duration_seconds",
        "",
        &writer.batch_durations,
    );
    header(
        &mut out,
        "quarry_tasks",
        "gauge",
        "Tasks in the queue, by status.",
    );
    for (status, count) in state.scheduler.queue_depth() {
        let _ = writeln!(out, "quarry_tasks{{status=\"{status}\"}} {count}");
    }

    let indexes = state.scheduler.indexes();
    let gauges: [IndexGauge; 4] = [
        (
            "quarry_index_documents",
            "Documents in an index.",
            Index::number_of_documents,
        ),
        (
            "quarry_index_size_bytes",
            "Bytes an index's files take on disk.",
            Index::size_on_disk,
        ),
        (
            "quarry_index_segments",
            "Segments searches of an index read (merged in the background when the writer is idle).",
            |index| index.segment_count() as u64,
        ),
        (
            "quarry_index_merging",
            "1 while a background segment merge of an index runs.",
            |index| u64::from(index.is_merging()),
        ),
    ];
    for (name, help, value) in gauges {
        header(&mut out, name, "gauge", help);
        for (info, index) in &indexes {
            let _ = writeln!(
                out,
                "{name}{{index=\"{}\"}} {}",
                escape(&info.uid),
                value(index)
            );
        }
    }
    header(
        &mut out,
        "quarry_database_size_bytes",
        "gauge",
        "Bytes the whole data directory takes on disk.",
    );
    let _ = writeln!(
        out,
        "quarry_database_size_bytes {}",
        quarry_engine::index::dir_size(state.scheduler.db_path())
    );
    if let Some(rss) = resident_memory_bytes() {
        header(
            &mut out,
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
        );
        let _ = writeln!(out, "process_resident_memory_bytes {rss}");
    }
    out
}

/// `VmRSS` of `/proc/self/status` (Linux), in bytes.
fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}
