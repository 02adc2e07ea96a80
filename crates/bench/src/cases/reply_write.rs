//! reply_write: `postReply` mutations per second, each acknowledged after its commit, against
//! the raw insert loop with the same durability and the same number of concurrent writers,
//! both appending to the same thread.

use serde_json::json;

use crate::cases::page::Load;
use crate::fixture::{Dataset, global_id};
use crate::load;
use crate::reference::reply_write;
use crate::report::Report;
use crate::server::metrics;

const MUTATION: &str = "mutation($input: PostReplyInput!) { postReply(input: $input) { post { id } edge { cursor } } }";

pub async fn run(data: &Dataset, load_settings: Load) -> anyhow::Result<Report> {
    let gql = data.gql.clone();
    let token = data.token.clone();
    let thread = global_id("thr", data.landmarks.write_thread);
    let http = crate::client::http_client();
    let before = metrics(&http, &data.server.base_url).await?;
    let convene = load::run(
        load_settings.concurrency,
        load_settings.warmup,
        load_settings.duration,
        move |worker, n| {
            let gql = gql.clone();
            let token = token.clone();
            let thread = thread.clone();
            async move {
                let data = gql
                    .data(
                        Some(&token),
                        MUTATION,
                        json!({ "input": { "threadId": thread, "body": format!("bench reply {worker}-{n}") } }),
                    )
                    .await?;
                match data["postReply"]["post"]["id"].as_str() {
                    Some(_) => Ok(()),
                    None => Err(format!("no post in {data}")),
                }
            }
        },
    )
    .await;
    let after = metrics(&http, &data.server.base_url).await?;
    let statements = after
        .get("convene_sql_statements_total")
        .copied()
        .unwrap_or(0.0)
        - before
            .get("convene_sql_statements_total")
            .copied()
            .unwrap_or(0.0);
    let requests = (convene.ok() + convene.failures).max(1);

    let reference = reply_write::run(
        &data.target,
        (
            data.landmarks.write_thread,
            data.landmarks.group,
            data.owner,
        ),
        load_settings.concurrency,
        load_settings.warmup,
        load_settings.duration,
    )
    .await?;

    let value = convene.throughput();
    let baseline = reference.throughput();
    let ratio = Report::ratio_of(value, baseline);
    Ok(Report {
        name: "reply_write".into(),
        metric: "postReply/s".into(),
        value,
        baseline: Some(baseline),
        ratio,
        unit: "writes/s".into(),
        params: json!({
            "database": data.kind().name(),
            "posts": data.written.posts,
            "durability": match data.kind() {
                crate::db::Kind::Sqlite => "WAL, synchronous=FULL",
                crate::db::Kind::Postgres => "default commit (fsync)",
            },
            "concurrency": load_settings.concurrency,
            "warmup_s": load_settings.warmup.as_secs_f64(),
            "duration_s": load_settings.duration.as_secs_f64(),
            "sql_statements_per_reply_approx": load::round3(statements / requests as f64),
            "convene": convene.summary(),
            "reference": reference.summary(),
            "goal": "throughput >= 0.3 x reference",
        }),
        failures: convene.failures + reference.failures,
        goal_met: Some(ratio.is_some_and(|r| r >= 0.3)),
        goal: "ratio >= 0.3".into(),
        note: format!(
            "p99 {} vs {} ms",
            crate::cases::thread_page::fmt_ms(convene.latencies.ms(0.99)),
            crate::cases::thread_page::fmt_ms(reference.latencies.ms(0.99))
        ),
    })
}
