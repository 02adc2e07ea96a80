//! fanout_1k / fanout_10k: N subscribers of one thread, each on its own connection; for each
//! of several replies, the time from the `postReply` response to the event read by each
//! subscriber. The reference broadcasts one prepared frame to the same number of sockets,
//! triggered and timed the same way (an HTTP request, then the arrivals).

use std::future::Future;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Value, json};
use tokio::time::{Instant, timeout_at};

use crate::cases::crowd::{Crowd, wait_until};
use crate::client::{Arrival, http_client};
use crate::fixture::{Dataset, global_id};
use crate::load::{Latencies, round3};
use crate::report::Report;
use crate::server::{Process, metrics};

const MUTATION: &str =
    "mutation($input: PostReplyInput!) { postReply(input: $input) { post { id } } }";
/// How long the last subscriber may take before its event counts as lost.
const PATIENCE: Duration = Duration::from_secs(30);
/// A pause between replies, so that each is timed on its own.
const GAP: Duration = Duration::from_millis(100);
const SETTLE: Duration = Duration::from_secs(120);

/// What the subscribers saw of several replies.
#[derive(Debug, Default)]
struct Delivery {
    latencies: Latencies,
    delivered: u64,
    failures: u64,
    first_failure: Option<String>,
    /// Events read before the trigger's response: their latency counts as zero.
    before_ack: u64,
    /// Summed over replies: from sending the trigger to the last subscriber's event.
    busy: Duration,
}

impl Delivery {
    fn fail(&mut self, n: u64, why: String) {
        self.failures += n;
        self.first_failure.get_or_insert(why);
    }

    fn per_second(&self) -> f64 {
        let secs = self.busy.as_secs_f64();
        if secs > 0.0 {
            self.delivered as f64 / secs
        } else {
            0.0
        }
    }

    fn summary(&self) -> Value {
        json!({
            "delivered": self.delivered,
            "failures": self.failures,
            "first_failure": self.first_failure,
            "arrived_before_ack": self.before_ack,
            "deliveries_per_s": round3(self.per_second()),
            "p50_ms": self.latencies.ms(0.50),
            "p99_ms": self.latencies.ms(0.99),
            "max_ms": self.latencies.ms(1.0),
        })
    }
}

/// Triggers `replies` events one after the other and collects every subscriber's arrivals.
async fn deliver<F, Fut>(crowd: &mut Crowd, replies: usize, trigger: F) -> Delivery
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<String, String>>,
{
    let mut delivery = Delivery::default();
    let mut alive = crowd.len() as u64;
    for r in 0..replies {
        let sent = Instant::now();
        let post = match trigger(r).await {
            Ok(post) => post,
            Err(why) => {
                delivery.fail(alive, format!("trigger: {why}"));
                continue;
            }
        };
        let acked = Instant::now();
        let deadline = acked + PATIENCE;
        let mut got = 0;
        let mut last = acked;
        while got < alive {
            match timeout_at(deadline, crowd.arrivals.recv()).await {
                Ok(Some(Arrival::Event { post: id, at })) if id == post => {
                    got += 1;
                    delivery.latencies.push(at.saturating_duration_since(acked));
                    delivery.before_ack += u64::from(at < acked);
                    last = last.max(at);
                }
                Ok(Some(Arrival::Event { post: id, .. })) => {
                    delivery.fail(1, format!("an event for {id} while waiting for {post}"));
                }
                Ok(Some(Arrival::Failure(why))) => {
                    alive -= 1;
                    delivery.fail(1, why);
                }
                Ok(None) => break,
                Err(_) => {
                    delivery.fail(
                        alive - got,
                        format!("{} events not there after {PATIENCE:?}", alive - got),
                    );
                    break;
                }
            }
        }
        delivery.delivered += got;
        delivery.busy += last.saturating_duration_since(sent);
        tokio::time::sleep(GAP).await;
    }
    delivery.latencies.sort();
    delivery
}

pub async fn run(data: &Dataset, n: usize, replies: usize) -> anyhow::Result<Report> {
    let name = if n >= 10_000 {
        "fanout_10k".to_owned()
    } else {
        format!("fanout_{}k", n / 1000)
    };
    let http = http_client();
    let base = data.server.base_url.clone();
    let thread = global_id("thr", data.landmarks.write_thread);

    eprintln!("{name}: opening {n} Convene subscribers");
    let mut crowd = Crowd::open(&data.server.addr, Some(&data.token), &thread, n).await?;
    wait_until("convene_live_subscriptions", SETTLE, || async {
        let seen = counter(&http, &base, "convene_live_subscriptions").await?;
        Ok((seen >= n as f64, seen))
    })
    .await?;
    let before = metrics(&http, &base).await?;
    let convene = deliver(&mut crowd, replies, |r| {
        let gql = data.gql.clone();
        let token = data.token.clone();
        let thread = thread.clone();
        async move {
            let body =
                json!({ "input": { "threadId": thread, "body": format!("fanout reply {r}") } });
            let data = gql.data(Some(&token), MUTATION, body).await?;
            data["postReply"]["post"]["id"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("no post in {data}"))
        }
    })
    .await;
    let after = metrics(&http, &base).await?;
    crowd.close();
    wait_until("convene_ws_connections", SETTLE, || async {
        let seen = counter(&http, &base, "convene_ws_connections").await?;
        Ok((seen <= 0.0, seen))
    })
    .await?;
    let delta = |name: &str| {
        after.get(name).copied().unwrap_or(0.0) - before.get(name).copied().unwrap_or(0.0)
    };

    eprintln!("{name}: opening {n} reference subscribers");
    let reference = Process::reference("fanout", data.dir(), None).await?;
    let mut crowd = Crowd::open(&reference.addr, None, "thr_reference", n).await?;
    let subscribers_url = format!("{}/subscribers", reference.base_url);
    wait_until("reference subscribers", SETTLE, || async {
        let seen: f64 = http
            .get(&subscribers_url)
            .send()
            .await
            .context("GET /subscribers")?
            .text()
            .await
            .context("reading /subscribers")?
            .trim()
            .parse()
            .context("a number of subscribers")?;
        Ok((seen >= n as f64, seen))
    })
    .await?;
    let publish_url = format!("{}/publish", reference.base_url);
    let baseline = deliver(&mut crowd, replies, |r| {
        let http = http.clone();
        let url = publish_url.clone();
        async move {
            let post = global_id("pst", uuid::Uuid::now_v7());
            let response = http
                .post(&url)
                .body(post.clone())
                .send()
                .await
                .map_err(|e| format!("publish {r}: {e}"))?;
            if response.status() != 200 {
                return Err(format!("publish {r}: HTTP {}", response.status()));
            }
            Ok(post)
        }
    })
    .await;
    crowd.close();
    reference.stop().await?;

    let value = convene.per_second();
    let ratio = Report::ratio_of(value, baseline.per_second());
    let p99 = convene.latencies.ms(0.99);
    let events = replies as f64;
    Ok(Report {
        name,
        metric: "deliveries/s".into(),
        value,
        baseline: Some(baseline.per_second()),
        ratio,
        unit: "events/s".into(),
        params: json!({
            "database": data.kind().name(),
            "subscribers": n,
            "connections": n,
            "replies": replies,
            "gap_ms": GAP.as_millis() as u64,
            "subscription": crate::client::REPLY_ADDED,
            "latency": "from the trigger's HTTP response to the event read by the subscriber",
            "convene": convene.summary(),
            "reference": baseline.summary(),
            "server_sql_statements_per_reply": round3(delta("convene_sql_statements_total") / events),
            "server_events_delivered": delta("convene_live_events_delivered_total"),
            "server_queue_overflows": delta("convene_live_queue_overflows_total"),
            "goal": "p99 < 50 ms (at 10k), deliveries/s >= 0.5 x reference",
        }),
        failures: convene.failures + baseline.failures,
        goal_met: Some(ratio.is_some_and(|r| r >= 0.5) && p99.is_some_and(|p| p < 50.0)),
        goal: "p99 < 50 ms, ratio >= 0.5".into(),
        note: format!(
            "p99 {} vs {} ms",
            crate::cases::thread_page::fmt_ms(p99),
            crate::cases::thread_page::fmt_ms(baseline.latencies.ms(0.99))
        ),
    })
}

pub async fn counter(http: &reqwest::Client, base: &str, name: &str) -> anyhow::Result<f64> {
    Ok(metrics(http, base).await?.get(name).copied().unwrap_or(0.0))
}
