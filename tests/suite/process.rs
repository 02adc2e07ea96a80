//! A real `convene serve` child process on a port of its own, killed when dropped (also when
//! the test panics), for what one in-process server cannot show: several processes on one
//! database, shutdown by signal, and a crash followed by a restart on the same data.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::time::Instant;

/// How long a child may take to migrate and answer `/readyz`.
const STARTUP: Duration = Duration::from_secs(60);

pub struct ServerProcess {
    child: Child,
    pub url: String,
    data_dir: PathBuf,
    database_url: Option<String>,
    env: Vec<(String, String)>,
    /// Every process started on this data writes here, one after the other.
    log: PathBuf,
    _own_dir: Option<tempfile::TempDir>,
}

impl ServerProcess {
    /// Starts `convene serve` on `database_url` (`None`: SQLite in a data directory of its own)
    /// and waits until `/readyz` answers 200.
    pub async fn start(database_url: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut process = Self::start_on(dir.path(), database_url, &[]).await;
        process._own_dir = Some(dir);
        process
    }

    /// Starts `convene serve` on `data_dir`, which holds the SQLite database unless
    /// `database_url` names another, with `env` added to its environment, and waits until
    /// `/readyz` answers 200. The caller keeps `data_dir` for as long as the process runs.
    pub async fn start_on(
        data_dir: &Path,
        database_url: Option<&str>,
        env: &[(&str, &str)],
    ) -> Self {
        let log = data_dir.join("convene.log");
        let (child, url) = spawn(data_dir, database_url, env, &log);
        let mut process = Self {
            child,
            url,
            data_dir: data_dir.to_path_buf(),
            database_url: database_url.map(str::to_owned),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            log,
            _own_dir: None,
        };
        process.wait_ready().await;
        process
    }

    /// Kills the process with SIGKILL, as a crash or the OOM killer would: no shutdown, no
    /// flush, requests in flight are cut off. Fails if the process had already exited.
    pub fn kill(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "convene serve exited before it was killed ({status}):\n{}",
                self.log()
            );
        }
        self.child.kill().expect("SIGKILL sent");
        self.child.wait().expect("the killed process is reaped");
    }

    /// Starts a new process on the same data directory, database and environment, after
    /// [`ServerProcess::kill`], and waits until `/readyz` answers 200. It listens on a new
    /// port: `url` changes.
    pub async fn restart(&mut self) {
        assert!(
            matches!(self.child.try_wait(), Ok(Some(_))),
            "restart follows kill"
        );
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (child, url) = spawn(
            &self.data_dir,
            self.database_url.as_deref(),
            &env,
            &self.log,
        );
        self.child = child;
        self.url = url;
        self.wait_ready().await;
    }

    async fn wait_ready(&mut self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + STARTUP;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("convene serve exited ({status}):\n{}", self.log());
            }
            let ready = client
                .get(format!("{}/readyz", self.url))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "convene serve not ready within {STARTUP:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Asks the process to shut down gracefully, as a service manager does.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM sent");
    }

    /// What the processes wrote so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns `convene serve` on a free port, its output appended to `log`; returns it and its URL.
fn spawn(
    data_dir: &Path,
    database_url: Option<&str>,
    env: &[(&str, &str)],
    log: &Path,
) -> (Child, String) {
    let port = free_port();
    let mut out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file");
    writeln!(out, "--- convene serve on port {port}").expect("log file");
    let mut command = Command::new(env!("CARGO_BIN_EXE_convene"));
    // No `convene.toml` of the working directory, no settings of the environment.
    command.current_dir(data_dir).env_remove("DATABASE_URL");
    for (name, _) in std::env::vars() {
        if name.starts_with("CONVENE_") {
            command.env_remove(name);
        }
    }
    command
        .arg("serve")
        .env("CONVENE_LISTEN", format!("127.0.0.1:{port}"))
        .env("CONVENE_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        // Tests post as fast as they can; the posting limit is tested in process.
        .env("CONVENE_POSTS_PER_USER_PER_MINUTE", "0")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("log file"))
        .stderr(out);
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    let child = command.spawn().expect("convene serve starts");
    (child, format!("http://127.0.0.1:{port}"))
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}
