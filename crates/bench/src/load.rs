//! A closed-loop load generator: a fixed number of workers, each sending its next request as
//! soon as the previous one is answered, for a fixed time. Latencies are kept whole (a few
//! hundred thousand at most) and sorted once, so that percentiles are exact.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

/// How one run of a load loop went.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Latencies of the requests that succeeded.
    pub latencies: Latencies,
    pub failures: u64,
    /// The first failure, to show what went wrong.
    pub first_failure: Option<String>,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn ok(&self) -> u64 {
        self.latencies.len() as u64
    }

    /// Successful requests per second; failures are not throughput.
    pub fn throughput(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.ok() as f64 / secs
        } else {
            0.0
        }
    }

    /// The figures every report carries for one side of a comparison.
    pub fn summary(&self) -> Value {
        json!({
            "ok": self.ok(),
            "failures": self.failures,
            "first_failure": self.first_failure,
            "seconds": round3(self.elapsed.as_secs_f64()),
            "throughput_per_s": round3(self.throughput()),
            "p50_ms": self.latencies.ms(0.50),
            "p99_ms": self.latencies.ms(0.99),
            "max_ms": self.latencies.ms(1.0),
        })
    }
}

/// Runs `request` from `concurrency` workers for `duration`, after `warmup` whose results are
/// dropped. `request(worker, n)` returns `Err(reason)` for a failure.
pub async fn run<F, Fut>(
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
    request: F,
) -> Outcome
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let request = Arc::new(request);
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let mut workers = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let request = request.clone();
        workers.push(tokio::spawn(async move {
            let mut mine = Outcome::default();
            let mut n = 0u64;
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let result = request(worker, n).await;
                n += 1;
                if sent < measure_from {
                    continue;
                }
                match result {
                    Ok(()) => mine.latencies.push(sent.elapsed()),
                    Err(reason) => {
                        mine.failures += 1;
                        mine.first_failure.get_or_insert(reason);
                    }
                }
            }
            mine
        }));
    }
    let mut total = Outcome::default();
    for worker in workers {
        match worker.await {
            Ok(mine) => {
                total.latencies.extend(mine.latencies);
                total.failures += mine.failures;
                if total.first_failure.is_none() {
                    total.first_failure = mine.first_failure;
                }
            }
            Err(e) => {
                total.failures += 1;
                total
                    .first_failure
                    .get_or_insert(format!("a worker panicked: {e}"));
            }
        }
    }
    // Requests still in flight at `end` finish after it; they count, so does their time.
    total.elapsed = measure_from.elapsed();
    total.latencies.sort();
    total
}

/// A set of latencies; percentiles by nearest rank.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    values: Vec<Duration>,
    sorted: bool,
}

impl Latencies {
    pub fn push(&mut self, latency: Duration) {
        self.values.push(latency);
        self.sorted = false;
    }

    pub fn extend(&mut self, other: Latencies) {
        self.values.extend(other.values);
        self.sorted = false;
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn sort(&mut self) {
        self.values.sort_unstable();
        self.sorted = true;
    }

    /// The nearest-rank percentile `q` (0..=1) in milliseconds, rounded to microseconds, for
    /// reports; `None` when empty.
    pub fn ms(&self, q: f64) -> Option<f64> {
        let mut values = self.values.clone();
        if !self.sorted {
            values.sort_unstable();
        }
        percentile_of_sorted(&values, q).map(|d| round3(d.as_secs_f64() * 1000.0))
    }
}

/// The nearest-rank percentile of sorted values: the smallest value with at least `q` of all
/// values at or below it.
pub fn percentile_of_sorted(sorted: &[Duration], q: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

pub fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_millis(v)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let sorted = ms(&(1..=100).collect::<Vec<_>>());
        assert_eq!(
            percentile_of_sorted(&sorted, 0.5),
            Some(Duration::from_millis(50))
        );
        assert_eq!(
            percentile_of_sorted(&sorted, 0.99),
            Some(Duration::from_millis(99))
        );
        assert_eq!(
            percentile_of_sorted(&sorted, 1.0),
            Some(Duration::from_millis(100))
        );
        assert_eq!(
            percentile_of_sorted(&sorted, 0.0),
            Some(Duration::from_millis(1))
        );
    }

    #[test]
    fn small_and_empty_sets() {
        assert_eq!(percentile_of_sorted(&[], 0.5), None);
        let one = ms(&[7]);
        assert_eq!(
            percentile_of_sorted(&one, 0.99),
            Some(Duration::from_millis(7))
        );
        let two = ms(&[1, 9]);
        assert_eq!(
            percentile_of_sorted(&two, 0.5),
            Some(Duration::from_millis(1))
        );
        assert_eq!(
            percentile_of_sorted(&two, 0.51),
            Some(Duration::from_millis(9))
        );
    }

    #[test]
    fn unsorted_input_is_sorted_first() {
        let mut latencies = Latencies::default();
        for v in [30, 10, 20] {
            latencies.push(Duration::from_millis(v));
        }
        assert_eq!(latencies.ms(0.5), Some(20.0));
        assert_eq!(latencies.ms(1.0), Some(30.0));
    }

    #[test]
    fn throughput_counts_successes_only() {
        let mut outcome = Outcome {
            failures: 5,
            elapsed: Duration::from_secs(2),
            ..Outcome::default()
        };
        for _ in 0..10 {
            outcome.latencies.push(Duration::from_millis(1));
        }
        assert_eq!(outcome.throughput(), 5.0);
    }
}
