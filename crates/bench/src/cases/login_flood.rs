//! login_flood: thread page p99 while 64 clients log in as fast as the server answers (far
//! faster than argon2 can hash), against the p99 of the same load without the flood. The
//! logins' own outcomes are counted: succeeded, `RATE_LIMITED`, other failures, and how long
//! they took.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use crate::cases::page::{self, Load};
use crate::cases::thread_page::fmt_ms;
use crate::client::{Gql, error_code};
use crate::fixture::{Dataset, OWNER_HANDLE, OWNER_PASSWORD};
use crate::load::Latencies;
use crate::report::Report;

const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { token } }";
/// The flood starts this long before the measured load, so that its queue has built up.
const RAMP: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct Logins {
    ok: u64,
    rate_limited: u64,
    other: u64,
    first_other: Option<String>,
    latencies: Latencies,
}

pub async fn run(data: &Dataset, load: Load, loops: usize) -> anyhow::Result<Report> {
    let quiet = page::load_convene(data, load).await;

    let stop = Arc::new(AtomicBool::new(false));
    let mut flood = Vec::with_capacity(loops);
    for _ in 0..loops {
        let gql = Gql::new(&data.server.base_url);
        let stop = stop.clone();
        flood.push(tokio::spawn(async move {
            let mut logins = Logins::default();
            let input = json!({ "input": { "login": OWNER_HANDLE, "password": OWNER_PASSWORD } });
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                match gql.body(None, LOGIN, input.clone()).await {
                    Ok(body) => match error_code(&body).as_deref() {
                        None if body["data"]["login"]["token"].is_string() => {
                            logins.ok += 1;
                            logins.latencies.push(sent.elapsed());
                        }
                        Some("RATE_LIMITED") => logins.rate_limited += 1,
                        _ => {
                            logins.other += 1;
                            logins.first_other.get_or_insert(body.to_string());
                        }
                    },
                    Err(why) => {
                        logins.other += 1;
                        logins.first_other.get_or_insert(why);
                    }
                }
            }
            logins
        }));
    }
    let flood_started = Instant::now();
    tokio::time::sleep(RAMP).await;
    let flooded = page::load_convene(data, load).await;
    stop.store(true, Ordering::Relaxed);
    let mut logins = Logins::default();
    for task in flood {
        let mine = task.await?;
        logins.ok += mine.ok;
        logins.rate_limited += mine.rate_limited;
        logins.other += mine.other;
        if logins.first_other.is_none() {
            logins.first_other = mine.first_other;
        }
        logins.latencies.extend(mine.latencies);
    }
    let flood_seconds = flood_started.elapsed().as_secs_f64();

    let value = flooded.latencies.ms(0.99).unwrap_or(f64::INFINITY);
    let baseline = quiet.latencies.ms(0.99).unwrap_or(0.0);
    let ratio = Report::ratio_of(value, baseline);
    Ok(Report {
        name: "login_flood".into(),
        metric: "thread page p99 under a login flood".into(),
        value,
        baseline: Some(baseline),
        ratio,
        unit: "ms".into(),
        params: json!({
            "database": data.kind().name(),
            "login_loops": loops,
            "page_concurrency": load.concurrency,
            "warmup_s": load.warmup.as_secs_f64(),
            "duration_s": load.duration.as_secs_f64(),
            "flood_seconds": crate::load::round3(flood_seconds),
            "logins_ok": logins.ok,
            "logins_rate_limited": logins.rate_limited,
            "logins_other_failures": logins.other,
            "first_other_failure": logins.first_other,
            "logins_ok_per_s": crate::load::round3(logins.ok as f64 / flood_seconds),
            "login_p50_ms": logins.latencies.ms(0.5),
            "login_p99_ms": logins.latencies.ms(0.99),
            "login_max_ms": logins.latencies.ms(1.0),
            "thread_page_quiet": quiet.summary(),
            "thread_page_flooded": flooded.summary(),
            "goal": "p99 <= 1.5 x without the flood; the excess logins get RATE_LIMITED, not a queue",
        }),
        failures: quiet.failures + flooded.failures + logins.other,
        goal_met: Some(ratio.is_some_and(|r| r <= 1.5) && logins.rate_limited > 0),
        goal: "ratio <= 1.5, excess RATE_LIMITED".into(),
        note: format!(
            "logins ok {} / RATE_LIMITED {} / p99 {} ms",
            logins.ok,
            logins.rate_limited,
            fmt_ms(logins.latencies.ms(0.99))
        ),
    })
}
