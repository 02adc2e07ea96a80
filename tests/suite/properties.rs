//! Property tests: invariants checked on generated inputs rather than on chosen examples.
//!
//! Failures are not written to `proptest-regressions/`: a failing case is printed, shrunk, and
//! belongs in a unit test next to the fix. `PROPTEST_CASES` raises every count for a long run.

mod ids;
mod markdown;
mod policy;
mod safe_html;

use proptest::test_runner::Config;

/// `cases` generated inputs per property, and no regression files in the source tree.
fn config(cases: u32) -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(cases),
        failure_persistence: None,
        ..Config::default()
    }
}
