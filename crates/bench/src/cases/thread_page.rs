//! thread_page: GraphQL thread pages per second against the raw-SQL axum handler, both under
//! the same closed-loop load on the same database; first, a check that both serve the same JSON.

use serde_json::json;

use crate::cases::page::{self, Load};
use crate::client::http_client;
use crate::fixture::{Dataset, global_id};
use crate::report::Report;
use crate::server::Process;

pub async fn run(data: &Dataset, load: Load) -> anyhow::Result<Report> {
    let reference = Process::reference("thread-page", data.dir(), Some(&data.target.url)).await?;
    let url = page::reference_url(&reference.base_url, data, 50);
    let thread = global_id("thr", data.landmarks.hot_thread);
    let ours = page::fetch(&data.gql, &thread, 50)
        .await
        .map_err(anyhow::Error::msg)?;
    let theirs = page::fetch_reference(&http_client(), &url, 50)
        .await
        .map_err(anyhow::Error::msg)?;
    let same_json = ours == theirs;
    if !same_json {
        eprintln!(
            "WARNING thread_page: the reference's JSON differs from Convene's.\n convene:   {}\n reference: {}",
            &ours.to_string()[..600.min(ours.to_string().len())],
            &theirs.to_string()[..600.min(theirs.to_string().len())],
        );
    }

    let convene = page::load_convene(data, load).await;
    let reference_outcome = page::load_reference(url, load).await;
    reference.stop().await?;

    let value = convene.throughput();
    let baseline = reference_outcome.throughput();
    let ratio = Report::ratio_of(value, baseline);
    let p99 = convene.latencies.ms(0.99).unwrap_or(f64::INFINITY);
    let p99_reference = reference_outcome.latencies.ms(0.99).unwrap_or(0.0);
    let p99_ratio = Report::ratio_of(p99, p99_reference);
    Ok(Report {
        name: "thread_page".into(),
        metric: "thread pages/s".into(),
        value,
        baseline: Some(baseline),
        ratio,
        unit: "req/s".into(),
        params: json!({
            "database": data.kind().name(),
            "posts": data.written.posts,
            "page_size": 50,
            "viewer": "anonymous",
            "concurrency": load.concurrency,
            "warmup_s": load.warmup.as_secs_f64(),
            "duration_s": load.duration.as_secs_f64(),
            "same_json_as_reference": same_json,
            "p99_ratio": p99_ratio,
            "convene": convene.summary(),
            "reference": reference_outcome.summary(),
            "goal": "throughput >= 0.6 x reference, p99 <= 2 x reference",
        }),
        failures: convene.failures + reference_outcome.failures + u64::from(!same_json),
        goal_met: Some(ratio.is_some_and(|r| r >= 0.6) && p99_ratio.is_some_and(|r| r <= 2.0)),
        goal: "ratio >= 0.6, p99 <= 2x".into(),
        note: format!(
            "p99 {} vs {} ms",
            fmt_ms(convene.latencies.ms(0.99)),
            fmt_ms(reference_outcome.latencies.ms(0.99))
        ),
    })
}

pub fn fmt_ms(ms: Option<f64>) -> String {
    ms.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}
