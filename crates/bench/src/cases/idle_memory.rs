//! idle_subscriber_memory: how much the server's resident memory grows per idle `replyAdded`
//! subscription, each on its own connection, measured on a freshly started process so that
//! memory freed by earlier cases cannot hide the growth.

use std::time::Duration;

use serde_json::json;

use crate::cases::crowd::{Crowd, wait_until};
use crate::cases::fanout::counter;
use crate::cases::page;
use crate::client::http_client;
use crate::fixture::{Dataset, global_id};
use crate::report::Report;

const SETTLE: Duration = Duration::from_secs(120);
/// Time for the allocator and the tasks to come to rest before reading RSS.
const REST: Duration = Duration::from_secs(1);

pub async fn run(data: &mut Dataset, n: usize) -> anyhow::Result<Report> {
    data.restart().await?;
    let http = http_client();
    let base = data.server.base_url.clone();
    let thread = global_id("thr", data.landmarks.write_thread);
    // Warm up what every process pays once: pools, the schema, one subscription's machinery.
    page::fetch(&data.gql, &global_id("thr", data.landmarks.hot_thread), 50)
        .await
        .map_err(anyhow::Error::msg)?;
    let warm = Crowd::open(&data.server.addr, Some(&data.token), &thread, 10).await?;
    wait_until("warm-up subscriptions", SETTLE, || async {
        let seen = counter(&http, &base, "convene_live_subscriptions").await?;
        Ok((seen >= 10.0, seen))
    })
    .await?;
    tokio::time::sleep(REST).await;
    let before = data.server.rss_bytes()?;

    eprintln!("idle_subscriber_memory: opening {n} subscribers");
    let crowd = Crowd::open(&data.server.addr, Some(&data.token), &thread, n).await?;
    wait_until("convene_live_subscriptions", SETTLE, || async {
        let seen = counter(&http, &base, "convene_live_subscriptions").await?;
        Ok((seen >= (n + 10) as f64, seen))
    })
    .await?;
    tokio::time::sleep(REST).await;
    let after = data.server.rss_bytes()?;
    let connections = counter(&http, &base, "convene_ws_connections").await?;
    crowd.close();
    warm.close();
    wait_until("convene_ws_connections", SETTLE, || async {
        let seen = counter(&http, &base, "convene_ws_connections").await?;
        Ok((seen <= 0.0, seen))
    })
    .await?;
    tokio::time::sleep(REST).await;
    let after_close = data.server.rss_bytes()?;

    let per_kib = after.saturating_sub(before) as f64 / n as f64 / 1024.0;
    Ok(Report {
        name: "idle_subscriber_memory".into(),
        metric: "RSS per idle subscription".into(),
        value: per_kib,
        baseline: None,
        ratio: None,
        unit: "KiB".into(),
        params: json!({
            "database": data.kind().name(),
            "subscriptions": n,
            "connections": connections,
            "one_subscription_per_connection": true,
            "subscription": crate::client::REPLY_ADDED,
            "rss_before_bytes": before,
            "rss_with_subscribers_bytes": after,
            "rss_after_closing_bytes": after_close,
            "goal": "<= 16 KiB per subscription",
        }),
        failures: 0,
        goal_met: Some(per_kib <= 16.0),
        goal: "<= 16 KiB".into(),
        note: format!(
            "RSS {:.0} -> {:.0} MiB",
            before as f64 / 1048576.0,
            after as f64 / 1048576.0
        ),
    })
}
