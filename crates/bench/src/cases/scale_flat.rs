//! scale_flat: thread page p50 on a large database against the small one, the same thread
//! (same posts, same reactions) and the same load on both: the page must cost the same however
//! many other posts there are.

use serde_json::json;

use crate::cases::page::{self, Load};
use crate::cases::thread_page::fmt_ms;
use crate::fixture::{Dataset, Env};
use crate::load::round3;
use crate::report::Report;

pub async fn run(
    small: &Dataset,
    env: &Env,
    large_posts: u64,
    load: Load,
) -> anyhow::Result<Report> {
    let at_small = page::load_convene(small, load).await;
    eprintln!("scale_flat: seeding {large_posts} posts");
    let large = Dataset::create(env, large_posts).await?;
    eprintln!("scale_flat: seeded in {:.1} s", large.seed_seconds);
    let at_large = page::load_convene(&large, load).await;
    let seed_seconds = large.seed_seconds;
    let large_written = large.written;
    large.finish().await?;

    let value = at_large.latencies.ms(0.5).unwrap_or(f64::INFINITY);
    let baseline = at_small.latencies.ms(0.5).unwrap_or(0.0);
    let ratio = Report::ratio_of(value, baseline);
    Ok(Report {
        name: "scale_flat".into(),
        metric: "thread page p50, large database".into(),
        value,
        baseline: Some(baseline),
        ratio,
        unit: "ms".into(),
        params: json!({
            "database": small.kind().name(),
            "small_posts": small.written.posts,
            "large_posts": large_written.posts,
            "large_threads": large_written.threads,
            "large_users": large_written.users,
            "large_reactions": large_written.reactions,
            "large_seed_seconds": round3(seed_seconds),
            "concurrency": load.concurrency,
            "warmup_s": load.warmup.as_secs_f64(),
            "duration_s": load.duration.as_secs_f64(),
            "small": at_small.summary(),
            "large": at_large.summary(),
            "goal": "p50 ratio <= 1.3",
        }),
        failures: at_small.failures + at_large.failures,
        goal_met: Some(ratio.is_some_and(|r| r <= 1.3)),
        goal: "ratio <= 1.3".into(),
        note: format!(
            "{}k vs {}k posts; p99 {} vs {} ms",
            large_written.posts / 1000,
            small.written.posts / 1000,
            fmt_ms(at_large.latencies.ms(0.99)),
            fmt_ms(at_small.latencies.ms(0.99))
        ),
    })
}
