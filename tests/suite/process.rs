//! A real `convene serve` child process on a port of its own, killed when dropped (also when
//! the test panics), for what one in-process server cannot show: several processes on one
//! database, and shutdown by signal.

use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::time::Instant;

/// How long a child may take to migrate and answer `/readyz`.
const STARTUP: Duration = Duration::from_secs(60);

pub struct ServerProcess {
    child: Child,
    pub url: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts `convene serve` on `database_url` (`None`: SQLite in a data directory of its own)
    /// and waits until `/readyz` answers 200.
    pub async fn start(database_url: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let log = dir.path().join("convene.log");
        let out = File::create(&log).expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_convene"));
        // No `convene.toml` of the working directory, no settings of the environment.
        command.current_dir(dir.path()).env_remove("DATABASE_URL");
        for (name, _) in std::env::vars() {
            if name.starts_with("CONVENE_") {
                command.env_remove(name);
            }
        }
        command
            .arg("serve")
            .env("CONVENE_LISTEN", format!("127.0.0.1:{port}"))
            .env("CONVENE_DATA_DIR", dir.path())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out);
        if let Some(url) = database_url {
            command.env("DATABASE_URL", url);
        }
        let child = command.spawn().expect("convene serve starts");
        let mut process = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        };
        process.wait_ready().await;
        process
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

    /// What the process wrote so far.
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

/// A port nobody listens on now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}
