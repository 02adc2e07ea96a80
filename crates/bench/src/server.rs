//! Child processes the bench drives: `convene serve` and the reference servers (this binary in
//! a reference mode), each on a port of its own, with their memory and counters readable.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::time::Instant;

/// How long a child may take to migrate and answer its readiness probe.
const STARTUP: Duration = Duration::from_secs(120);
/// How long a child may take to exit after SIGTERM before it is killed.
const SHUTDOWN: Duration = Duration::from_secs(15);

/// A running child process, killed when dropped.
pub struct Process {
    child: Child,
    name: String,
    pub base_url: String,
    pub addr: String,
    log: PathBuf,
}

impl Process {
    /// Starts `convene serve` on `database_url` with its data directory in `dir`, and waits
    /// until `/readyz` answers 200.
    pub async fn convene(
        binary: &Path,
        dir: &Path,
        database_url: &str,
        extra_env: &[(&str, String)],
    ) -> anyhow::Result<Self> {
        let mut command = Command::new(binary);
        // No `convene.toml` of the working directory, no settings of the environment.
        command.current_dir(dir).env_remove("DATABASE_URL");
        for (name, _) in std::env::vars() {
            if name.starts_with("CONVENE_") {
                command.env_remove(name);
            }
        }
        command
            .arg("serve")
            .env("CONVENE_LISTEN", "127.0.0.1:0")
            .env("CONVENE_DATA_DIR", dir)
            .env("DATABASE_URL", database_url)
            .env("RUST_LOG", "warn,convene=info")
            .env("NO_COLOR", "1");
        for (name, value) in extra_env {
            command.env(name, value);
        }
        Self::spawn("convene", command, dir, "/readyz").await
    }

    /// Starts this binary as the reference server `kind`, which answers `/healthz` when ready.
    pub async fn reference(
        kind: &str,
        dir: &Path,
        database_url: Option<&str>,
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating the bench executable")?;
        let mut command = Command::new(exe);
        command
            .current_dir(dir)
            .args(["reference", kind, "--listen", "127.0.0.1:0"]);
        if let Some(url) = database_url {
            command.args(["--database-url", url]);
        }
        Self::spawn(kind, command, dir, "/healthz").await
    }

    /// Starts `command`, which listens on a port the kernel picks (port 0: no race with other
    /// processes that probe for free ports) and logs `listening address=…`.
    async fn spawn(
        name: &str,
        mut command: Command,
        dir: &Path,
        probe: &str,
    ) -> anyhow::Result<Self> {
        // A file per start, so that a restarted server keeps the log of the one before.
        let log = (0..)
            .map(|n| dir.join(format!("{name}-{n}.log")))
            .find(|path| !path.exists())
            .context("naming a log file")?;
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        command
            .stdin(Stdio::null())
            .stdout(out.try_clone().context("log file")?)
            .stderr(out);
        let child = command
            .spawn()
            .with_context(|| format!("starting {name} ({command:?})"))?;
        let mut process = Self {
            child,
            name: name.to_owned(),
            base_url: String::new(),
            addr: String::new(),
            log,
        };
        process.wait_ready(probe).await?;
        process.ensure_alive()?;
        Ok(process)
    }

    async fn wait_ready(&mut self, probe: &str) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + STARTUP;
        loop {
            if let Some(status) = self.child.try_wait().context("polling a child")? {
                bail!("{} exited ({status}):\n{}", self.name, self.log_text());
            }
            if self.addr.is_empty() {
                if let Some(addr) = listening_address(&self.log_text()) {
                    self.base_url = format!("http://{addr}");
                    self.addr = addr;
                }
            }
            let ready = !self.addr.is_empty()
                && client
                    .get(format!("{}{probe}", self.base_url))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200);
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "{} not ready within {STARTUP:?}:\n{}",
                    self.name,
                    self.log_text()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails, with the exit status and the log, if the process has exited.
    pub fn ensure_alive(&mut self) -> anyhow::Result<()> {
        match self.child.try_wait().context("polling a child")? {
            None => Ok(()),
            Some(status) => {
                let log = self.log_text();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                bail!(
                    "{} exited ({status}); its log ends:\n{}",
                    self.name,
                    tail.join("\n")
                )
            }
        }
    }

    /// Resident memory now, in bytes (`VmRSS` of `/proc/<pid>/status`).
    pub fn rss_bytes(&mut self) -> anyhow::Result<u64> {
        self.ensure_alive()?;
        let path = format!("/proc/{}/status", self.pid());
        let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        let kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .with_context(|| format!("no VmRSS in {path}"))?;
        Ok(kib * 1024)
    }

    /// Asks the process to shut down as a service manager does, and waits for it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .context("running kill")?;
        if !status.success() {
            bail!("kill -TERM {} failed", self.pid());
        }
        let deadline = Instant::now() + SHUTDOWN;
        while self
            .child
            .try_wait()
            .context("waiting for a child")?
            .is_none()
        {
            if Instant::now() > deadline {
                bail!("{} still running {SHUTDOWN:?} after SIGTERM", self.name);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The counters of `/metrics`, summed over labels.
pub async fn metrics(
    client: &reqwest::Client,
    base_url: &str,
) -> anyhow::Result<HashMap<String, f64>> {
    let text = client
        .get(format!("{base_url}/metrics"))
        .send()
        .await
        .context("GET /metrics")?
        .error_for_status()
        .context("GET /metrics")?
        .text()
        .await
        .context("reading /metrics")?;
    Ok(parse_metrics(&text))
}

/// Parses the Prometheus text format: `name{labels} value` or `name value`, comments skipped.
pub fn parse_metrics(text: &str) -> HashMap<String, f64> {
    let mut counters = HashMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let Some((key, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let name = key.split('{').next().unwrap_or(key).trim();
        if let Ok(value) = value.trim().parse::<f64>() {
            *counters.entry(name.to_owned()).or_insert(0.0) += value;
        }
    }
    counters
}

/// The address of a `listening` log line: `… listening address=127.0.0.1:PORT`.
pub fn listening_address(log: &str) -> Option<String> {
    let line = log.lines().find(|l| l.contains("listening"))?;
    let rest = &line[line.find("address")?..];
    let start = rest.find("127.0.0.1:")?;
    let addr: String = rest[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
        .collect();
    addr.contains(':').then_some(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_summed_over_labels() {
        let text = "# HELP x\n# TYPE x counter\nconvene_sql_statements_total 12\nconvene_ws_connections{a=\"1\"} 2\nconvene_ws_connections{a=\"2\"} 3\n";
        let counters = parse_metrics(text);
        assert_eq!(counters["convene_sql_statements_total"], 12.0);
        assert_eq!(counters["convene_ws_connections"], 5.0);
    }

    #[test]
    fn the_listening_address_is_read_from_the_log() {
        let log = "2026-11-29T00:00:00Z  INFO convene: listening address=127.0.0.1:40123\n";
        assert_eq!(listening_address(log).as_deref(), Some("127.0.0.1:40123"));
        assert_eq!(listening_address("nothing here"), None);
    }
}
