//! queries_per_page: the SQL statements one thread page costs the server, read from its own
//! counter (`convene_sql_statements_total`) around a single request, at page sizes 10, 50 and
//! 100. A constant count means no N+1: authors and reactions are batched.

use anyhow::Context as _;
use serde_json::json;

use crate::cases::page;
use crate::fixture::{Dataset, global_id};
use crate::report::Report;
use crate::server::metrics;

const SIZES: [usize; 3] = [10, 50, 100];
/// Tries per size; the smallest count wins, in case a background task ran a statement.
const TRIES: usize = 3;
const COUNTER: &str = "convene_sql_statements_total";

pub async fn run(data: &Dataset) -> anyhow::Result<Report> {
    let http = crate::client::http_client();
    let base = &data.server.base_url;
    let thread = global_id("thr", data.landmarks.hot_thread);
    let mut counts = Vec::new();
    let mut failures = 0;
    for last in SIZES {
        let mut seen = Vec::new();
        for _ in 0..TRIES {
            let before = metrics(&http, base).await?;
            let result = page::fetch(&data.gql, &thread, last).await;
            let after = metrics(&http, base).await?;
            if result.is_err() {
                failures += 1;
            }
            let delta = after.get(COUNTER).context("no statement counter")?
                - before.get(COUNTER).context("no statement counter")?;
            seen.push(delta as u64);
        }
        counts.push(seen.iter().copied().min().unwrap_or(0));
    }
    let at_100 = counts[2] as f64;
    let at_10 = counts[0] as f64;
    let constant = counts.iter().all(|&c| c == counts[0]);
    Ok(Report {
        name: "queries_per_page".into(),
        metric: "SQL statements per page of 100".into(),
        value: at_100,
        baseline: Some(at_10),
        ratio: Report::ratio_of(at_100, at_10),
        unit: "statements".into(),
        params: json!({
            "database": data.kind().name(),
            "page_sizes": SIZES,
            "statements": counts,
            "tries_per_size": TRIES,
            "viewer": "anonymous",
            "goal": "constant across page sizes, <= 4",
        }),
        failures,
        goal_met: Some(constant && counts.iter().all(|&c| c <= 4)),
        goal: "constant, <= 4".into(),
        note: format!("10/50/100 -> {}/{}/{}", counts[0], counts[1], counts[2]),
    })
}
