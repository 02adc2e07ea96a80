//! A seeded database with `convene serve` running on it: the server migrates the empty
//! database, one real user registers through the API (for a valid password hash and a token),
//! the server stops, the bench seeds the tables, and the server starts again.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use serde_json::json;
use uuid::Uuid;

use crate::client::Gql;
use crate::db::{Kind, Target};
use crate::seed::{self, Landmarks, Shape, Written};
use crate::server::Process;

pub const OWNER_HANDLE: &str = "bench";
pub const OWNER_PASSWORD: &str = "bench password 2026";

/// Where and how a run starts its servers.
#[derive(Debug, Clone)]
pub struct Env {
    pub server_bin: PathBuf,
    pub postgres_url: Option<String>,
    pub seed: u64,
}

pub struct Dataset {
    pub target: Target,
    pub server: Process,
    pub gql: Gql,
    /// The user registered through the API, who owns every group.
    pub owner: Uuid,
    /// The owner's bearer token.
    pub token: String,
    pub landmarks: Landmarks,
    pub written: Written,
    pub seed_seconds: f64,
    env: Env,
    dir: tempfile::TempDir,
}

impl Dataset {
    pub async fn create(env: &Env, posts: u64) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("convene-bench-")
            .tempdir()
            .context("creating a work directory")?;
        let target = Target::fresh(env.postgres_url.as_deref(), dir.path()).await?;
        let server =
            Process::convene(&env.server_bin, dir.path(), &target.url, &server_env()).await?;
        let gql = Gql::new(&server.base_url);
        let data = gql
            .must(
                None,
                "mutation($input: RegisterInput!) { register(input: $input) { token viewer { id } } }",
                json!({ "input": {
                    "handle": OWNER_HANDLE,
                    "email": "bench@bench.example",
                    "password": OWNER_PASSWORD,
                    "displayName": "Bench",
                }}),
            )
            .await
            .context("registering the bench user")?;
        let token = data["register"]["token"]
            .as_str()
            .context("register returned no token")?
            .to_owned();
        let owner = uuid_of(
            data["register"]["viewer"]["id"]
                .as_str()
                .unwrap_or_default(),
        )?;
        // SQLite: one process writes the file at a time, so the server steps aside to seed.
        server.stop().await?;

        let started = Instant::now();
        let conn = target.connect(4).await?;
        let (landmarks, written) =
            seed::seed(&conn, target.kind, env.seed, Shape::for_posts(posts), owner)
                .await
                .context("seeding")?;
        conn.close()
            .await
            .context("closing the seeding connection")?;
        let seed_seconds = started.elapsed().as_secs_f64();

        let server =
            Process::convene(&env.server_bin, dir.path(), &target.url, &server_env()).await?;
        let gql = Gql::new(&server.base_url);
        Ok(Self {
            target,
            server,
            gql,
            owner,
            token,
            landmarks,
            written,
            seed_seconds,
            env: env.clone(),
            dir,
        })
    }

    /// Replaces the server process with a fresh one on the same database, for a case that
    /// measures the process itself.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        let fresh = Process::convene(
            &self.env.server_bin,
            self.dir.path(),
            &self.target.url,
            &server_env(),
        )
        .await?;
        let mut old = std::mem::replace(&mut self.server, fresh);
        if old.ensure_alive().is_ok() {
            old.stop().await?;
        }
        self.gql = Gql::new(&self.server.base_url);
        Ok(())
    }

    pub fn kind(&self) -> Kind {
        self.target.kind
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stops the server and drops a PostgreSQL database.
    pub async fn finish(self) -> anyhow::Result<()> {
        self.server.stop().await?;
        self.target.drop_database().await
    }
}

/// `<prefix>_<32 hex>`, the API's global ID of `id`.
pub fn global_id(prefix: &str, id: Uuid) -> String {
    format!("{prefix}_{}", id.simple())
}

/// The UUID inside a global ID.
pub fn uuid_of(global_id: &str) -> anyhow::Result<Uuid> {
    let (_, hex) = global_id
        .split_once('_')
        .with_context(|| format!("not a global ID: {global_id:?}"))?;
    Uuid::try_parse(hex).with_context(|| format!("not a global ID: {global_id:?}"))
}

/// The settings every measured server runs with: the defaults, except the per-user posting
/// limit, which the write and fan-out cases would hit at once (they post as one user as fast
/// as the server answers). The login limits stay on: `login_flood` measures them.
fn server_env() -> [(&'static str, String); 1] {
    [("CONVENE_POSTS_PER_USER_PER_MINUTE", "0".to_owned())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip() {
        let id = Uuid::now_v7();
        let gid = global_id("thr", id);
        assert_eq!(gid.len(), 4 + 32);
        assert_eq!(uuid_of(&gid).ok(), Some(id));
        assert!(uuid_of("nonsense").is_err());
    }
}
