//! `convene-bench`: the benchmark suite of Convene, as BENCHMARKS.md specifies it.
//!
//! It drives a real `convene serve` process over HTTP and websockets, on a database it seeds
//! itself (deterministic from `--seed`), and measures each case next to a reference run in the
//! same run on the same database. Every response body is checked; a 200 with `errors` counts as
//! a failure, never as throughput.
//!
//! ```text
//! cargo run --release -p convene-bench -- quick       # builds both binaries; < 3 minutes, SQLite
//! cargo build --release -p convene -p convene-bench   # or build once, then run directly:
//! target/release/convene-bench quick
//! target/release/convene-bench full                   # the README figures
//! target/release/convene-bench quick --database-url postgres://postgres@127.0.0.1:5432/test
//! target/release/convene-bench quick --case thread_page --case fanout_1k
//! ```
//!
//! `quick` seeds 10k posts (scale_flat: against 100k), runs 5 s loads and 1k subscribers, and
//! leaves fanout_10k out unless `--case fanout_10k` names it; `full` seeds 10k and 1M posts,
//! runs 20 s loads and 10k subscribers. PostgreSQL runs create `convene_bench_<pid>_<n>`
//! databases next to the one given, and drop them.
//!
//! Each case writes `target/bench/<case>.json` (`--out` to change) with `name metric value
//! baseline ratio unit params`, and prints a markdown table row on stdout; progress goes to
//! stderr. The exit code is 1 when a case failed to run or saw failures, never because of a
//! timing: timings are for people to read, not for CI to assert.

mod cases;
mod client;
mod db;
mod fixture;
mod load;
mod reference;
mod report;
mod rng;
mod seed;
mod server;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::cases::Settings;
use crate::fixture::Env;

#[derive(Parser)]
#[command(
    name = "convene-bench",
    about = "Measures Convene against same-run references (BENCHMARKS.md)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Small sizes and short loads: under 3 minutes on 2 cores.
    Quick(RunArgs),
    /// The README figures: 1M posts, 10k subscribers, longer loads.
    Full(RunArgs),
    /// Serves a reference (started by the bench itself as a child process).
    #[command(hide = true)]
    Reference {
        kind: ReferenceKind,
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        database_url: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ReferenceKind {
    ThreadPage,
    Fanout,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Runs on PostgreSQL: a URL of an existing database on the server where the bench creates
    /// (and drops) its own databases, e.g. postgres://postgres@127.0.0.1:5432/test.
    #[arg(long)]
    database_url: Option<String>,
    /// The `convene` binary; by default the one next to this executable.
    #[arg(long)]
    server: Option<PathBuf>,
    /// Runs only this case (repeatable).
    #[arg(long = "case")]
    cases: Vec<String>,
    /// Where the JSON reports go; by default `target/bench`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The seed of the generated data.
    #[arg(long, default_value_t = 20_261_128)]
    seed: u64,
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("convene-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `Ok(false)` when a case failed or saw failures.
fn run() -> anyhow::Result<bool> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    match cli.command {
        Command::Quick(args) => runtime.block_on(bench(Settings::quick(), args)),
        Command::Full(args) => runtime.block_on(bench(Settings::full(), args)),
        Command::Reference {
            kind,
            listen,
            database_url,
        } => runtime.block_on(async {
            match kind {
                ReferenceKind::ThreadPage => {
                    let url =
                        database_url.context("the thread page reference needs --database-url")?;
                    reference::thread_page::serve(listen, &url).await?;
                }
                ReferenceKind::Fanout => reference::fanout::serve(listen).await?,
            }
            Ok(true)
        }),
    }
}

/// Under `cargo run` (which sets `CARGO`), builds the release `convene` binary first, so that
/// one command benchmarks the server as the checkout has it, never a stale binary.
fn build_server_if_under_cargo() -> anyhow::Result<()> {
    let Some(cargo) = std::env::var_os("CARGO") else {
        return Ok(());
    };
    eprintln!("building the release convene binary");
    let status = std::process::Command::new(cargo)
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            "convene",
            "--bin",
            "convene",
        ])
        .stdout(std::process::Stdio::null())
        .status()
        .context("running cargo build for the convene binary")?;
    if !status.success() {
        bail!("cargo build --release -p convene failed ({status})");
    }
    Ok(())
}

async fn bench(settings: Settings, args: RunArgs) -> anyhow::Result<bool> {
    let exe = std::env::current_exe().context("locating the bench executable")?;
    let exe_dir = exe
        .parent()
        .context("the bench executable has no directory")?;
    let server_bin = match args.server {
        Some(path) => path,
        None => {
            build_server_if_under_cargo()?;
            exe_dir.join("convene")
        }
    };
    if !server_bin.is_file() {
        bail!(
            "no convene binary at {}: run `cargo build --release` first, or pass --server PATH",
            server_bin.display()
        );
    }
    let out = args.out.unwrap_or_else(|| exe_dir.join("..").join("bench"));
    let cases: Vec<String> = if args.cases.is_empty() {
        settings
            .default_cases
            .iter()
            .map(|&c| c.to_owned())
            .collect()
    } else {
        args.cases
    };
    let env = Env {
        server_bin,
        postgres_url: args.database_url,
        seed: args.seed,
    };
    let reports = cases::run(&env, &settings, &cases, &out).await?;
    let clean = reports.len() == cases.len() && reports.iter().all(|r| r.failures == 0);
    eprintln!("reports in {}", out.display());
    Ok(clean)
}
