//! What a case found: one JSON file per case (`<out>/<name>.json`) and one row of the stdout
//! table. Failures are part of the verdict, so that a case that errored never reads as fast.

use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub name: String,
    pub metric: String,
    pub value: f64,
    /// The reference measured in the same run, when the case has one.
    pub baseline: Option<f64>,
    /// `value / baseline`, the figure the goal is about when there is a baseline.
    pub ratio: Option<f64>,
    pub unit: String,
    /// Sizes, durations, both sides' percentiles, failure counts, the database kind, the goal.
    pub params: Value,
    /// Requests or events that failed (an `errors` entry, a wrong body, a timeout).
    #[serde(skip)]
    pub failures: u64,
    /// Whether the goal of BENCHMARKS.md was met; `None` when the run cannot tell.
    #[serde(skip)]
    pub goal_met: Option<bool>,
    #[serde(skip)]
    pub goal: String,
    /// A figure worth seeing in the table besides the value (e.g. the other side's p99).
    #[serde(skip)]
    pub note: String,
}

impl Report {
    pub fn ratio_of(value: f64, baseline: f64) -> Option<f64> {
        (baseline > 0.0 && baseline.is_finite() && value.is_finite()).then(|| value / baseline)
    }

    /// Writes `<dir>/<name>.json`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(format!("{}.json", self.name));
        let json = serde_json::to_string_pretty(self).context("serialising a report")?;
        std::fs::write(&path, json + "\n").with_context(|| format!("writing {}", path.display()))
    }

    fn status(&self) -> String {
        if self.failures > 0 {
            return format!("FAILED: {} failures", self.failures);
        }
        match self.goal_met {
            Some(true) => "goal met".to_owned(),
            Some(false) => "GOAL MISSED".to_owned(),
            None => "-".to_owned(),
        }
    }
}

pub const HEADER: &str = "| case | metric | value | baseline | ratio | unit | goal | status |\n| --- | --- | --- | --- | --- | --- | --- | --- |";

/// One markdown table row, so that the output pastes into the README as it is.
pub fn row(report: &Report) -> String {
    let number = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), format_number);
    let status = if report.note.is_empty() {
        report.status()
    } else {
        format!("{}; {}", report.status(), report.note)
    };
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} |",
        report.name,
        report.metric,
        format_number(report.value),
        number(report.baseline),
        report
            .ratio
            .map_or_else(|| "-".to_owned(), |r| format!("{r:.2}")),
        report.unit,
        report.goal,
        status,
    )
}

fn format_number(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Report {
        Report {
            name: "thread_page".into(),
            metric: "throughput".into(),
            value: 1200.0,
            baseline: Some(2400.0),
            ratio: Report::ratio_of(1200.0, 2400.0),
            unit: "req/s".into(),
            params: json!({ "concurrency": 8 }),
            failures: 0,
            goal_met: Some(false),
            goal: "ratio >= 0.6".into(),
            note: String::new(),
        }
    }

    #[test]
    fn the_json_has_exactly_the_documented_keys() {
        let value = serde_json::to_value(sample()).expect("serialises");
        let mut keys: Vec<&str> = value
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "baseline", "metric", "name", "params", "ratio", "unit", "value"
            ]
        );
        assert_eq!(value["ratio"], json!(0.5));
    }

    #[test]
    fn a_missing_baseline_is_null_and_failures_are_loud() {
        let mut report = sample();
        report.baseline = None;
        report.ratio = None;
        report.failures = 3;
        let value = serde_json::to_value(&report).expect("serialises");
        assert!(value["baseline"].is_null());
        assert!(row(&report).contains("FAILED: 3 failures"));
    }

    #[test]
    fn no_ratio_against_zero() {
        assert_eq!(Report::ratio_of(1.0, 0.0), None);
    }
}
