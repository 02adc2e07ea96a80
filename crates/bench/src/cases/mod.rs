//! The cases of BENCHMARKS.md, run in an order that lets them share one seeded database: the
//! reads first, then the writes, then the cases that need a fresh process or a second database.

mod crowd;
mod fanout;
mod idle_memory;
mod login_flood;
mod page;
mod queries_per_page;
mod reply_write;
mod scale_flat;
mod thread_page;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;

use crate::fixture::{Dataset, Env};
use crate::report::{self, Report};
use page::Load;

/// Every case, in the order a run takes them.
pub const ALL: [&str; 8] = [
    "thread_page",
    "queries_per_page",
    "reply_write",
    "fanout_1k",
    "fanout_10k",
    "idle_subscriber_memory",
    "login_flood",
    "scale_flat",
];

fn first_line(e: &anyhow::Error) -> String {
    format!("{e:#}")
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Sizes and durations of a run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: &'static str,
    pub load: Load,
    pub small_posts: u64,
    pub large_posts: u64,
    pub fanout_replies: usize,
    pub idle_subscribers: usize,
    pub flood_loops: usize,
    /// The cases a run takes when none is named.
    pub default_cases: Vec<&'static str>,
}

impl Settings {
    /// Under 3 minutes on 2 cores: short loads, 10k posts against 100k, 1k subscribers.
    pub fn quick() -> Self {
        Self {
            mode: "quick",
            load: Load {
                concurrency: 8,
                warmup: Duration::from_secs(1),
                duration: Duration::from_secs(5),
            },
            small_posts: 10_000,
            large_posts: 100_000,
            fanout_replies: 10,
            idle_subscribers: 1_000,
            flood_loops: 64,
            default_cases: ALL.iter().copied().filter(|&c| c != "fanout_10k").collect(),
        }
    }

    /// The README figures: longer loads, 10k posts against 1M, 10k subscribers.
    pub fn full() -> Self {
        Self {
            mode: "full",
            load: Load {
                concurrency: 8,
                warmup: Duration::from_secs(3),
                duration: Duration::from_secs(20),
            },
            small_posts: 10_000,
            large_posts: 1_000_000,
            fanout_replies: 30,
            idle_subscribers: 10_000,
            flood_loops: 64,
            default_cases: ALL.to_vec(),
        }
    }
}

/// Runs `cases` (in the order of [`ALL`]), printing each row as it is done and writing each
/// report to `out`. Returns the reports; a case that could not run at all is an error row.
pub async fn run(
    env: &Env,
    settings: &Settings,
    cases: &[String],
    out: &Path,
) -> anyhow::Result<Vec<Report>> {
    for case in cases {
        if !ALL.contains(&case.as_str()) {
            bail!("unknown case {case:?}; the cases are {}", ALL.join(", "));
        }
    }
    let started = Instant::now();
    eprintln!("seeding {} posts", settings.small_posts);
    let mut data = Dataset::create(env, settings.small_posts).await?;
    eprintln!(
        "seeded {} posts, {} threads, {} reactions, {} users in {:.1} s ({})",
        data.written.posts,
        data.written.threads,
        data.written.reactions,
        data.written.users,
        data.seed_seconds,
        data.target.describe(),
    );
    println!("{}", report::HEADER);
    let mut reports = Vec::new();
    for &case in ALL.iter().filter(|c| cases.iter().any(|n| n == *c)) {
        eprintln!("{case}: running");
        let case_started = Instant::now();
        let result = match case {
            "thread_page" => thread_page::run(&data, settings.load).await,
            "queries_per_page" => queries_per_page::run(&data).await,
            "reply_write" => reply_write::run(&data, settings.load).await,
            "fanout_1k" => fanout::run(&data, 1_000, settings.fanout_replies).await,
            "fanout_10k" => fanout::run(&data, 10_000, settings.fanout_replies).await,
            "idle_subscriber_memory" => {
                idle_memory::run(&mut data, settings.idle_subscribers).await
            }
            "login_flood" => login_flood::run(&data, settings.load, settings.flood_loops).await,
            "scale_flat" => scale_flat::run(&data, env, settings.large_posts, settings.load).await,
            _ => continue,
        };
        match result {
            Ok(mut report) => {
                if let Some(params) = report.params.as_object_mut() {
                    params.insert("mode".into(), settings.mode.into());
                    params.insert("seed".into(), env.seed.into());
                    params.insert(
                        "case_seconds".into(),
                        crate::load::round3(case_started.elapsed().as_secs_f64()).into(),
                    );
                }
                report.write(out)?;
                println!("{}", report::row(&report));
                reports.push(report);
            }
            Err(e) => {
                println!(
                    "| {case} | ERROR | - | - | - | - | - | FAILED: {} |",
                    first_line(&e)
                );
                eprintln!("{case}: {e:?}");
            }
        }
        if let Err(e) = data.server.ensure_alive() {
            println!(
                "| {case} | SERVER DIED | - | - | - | - | - | FAILED: {} |",
                first_line(&e)
            );
            eprintln!("{case}: {e:#}");
            data.restart().await?;
        }
    }
    data.finish().await?;
    eprintln!(
        "{} run done in {:.1} s",
        settings.mode,
        started.elapsed().as_secs_f64()
    );
    Ok(reports)
}
