//! The numbers the writer keeps about its own work (documents indexed, batch durations), and
//! the histogram type `/metrics` uses for every duration. Plain data: the server renders it
//! in the Prometheus text format; nothing here knows that format.

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// Upper bounds, in seconds, of the buckets of every latency histogram (Prometheus's defaults,
/// widened at both ends: searches take microseconds, batches minutes).
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0, 300.0,
];

/// A cumulative histogram of durations, in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Observations at most `LATENCY_BUCKETS[i]` seconds (not cumulative; rendering sums them).
    pub counts: Vec<u64>,
    pub count: u64,
    pub sum: f64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; LATENCY_BUCKETS.len()],
            count: 0,
            sum: 0.0,
        }
    }
}

impl Histogram {
    pub fn observe(&mut self, seconds: f64) {
        if let Some(i) = LATENCY_BUCKETS.iter().position(|b| seconds <= *b) {
            self.counts[i] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }

    /// `(upper bound, cumulative count)` for every bucket, then `+Inf` with the total.
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut acc = 0;
        let mut out: Vec<(f64, u64)> = LATENCY_BUCKETS
            .iter()
            .zip(&self.counts)
            .map(|(bound, n)| {
                acc += n;
                (*bound, acc)
            })
            .collect();
        out.push((f64::INFINITY, self.count));
        out
    }
}

/// Counters the writer thread updates after each batch.
#[derive(Default)]
pub struct WriterMetrics {
    documents_indexed: AtomicU64,
    batches: Mutex<Histogram>,
}

/// A copy of [`WriterMetrics`] taken at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct WriterMetricsSnapshot {
    pub documents_indexed: u64,
    pub batch_durations: Histogram,
}

impl WriterMetrics {
    pub(crate) fn record_batch(&self, seconds: f64, documents_indexed: u64) {
        self.documents_indexed
            .fetch_add(documents_indexed, Ordering::Relaxed);
        self.batches.lock().observe(seconds);
    }

    pub fn snapshot(&self) -> WriterMetricsSnapshot {
        WriterMetricsSnapshot {
            documents_indexed: self.documents_indexed.load(Ordering::Relaxed),
            batch_durations: self.batches.lock().clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_end_with_inf() {
        let mut h = Histogram::default();
        for s in [0.0001, 0.003, 0.003, 1000.0] {
            h.observe(s);
        }
        let c = h.cumulative();
        assert_eq!(c[0], (0.0005, 1));
        assert_eq!(c.iter().find(|(b, _)| *b == 0.005).unwrap().1, 3);
        assert_eq!(c[c.len() - 2].1, 3, "1000 s is above every finite bucket");
        assert_eq!(*c.last().unwrap(), (f64::INFINITY, 4));
        assert_eq!(h.count, 4);
    }
}
