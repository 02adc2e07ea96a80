//! The `convene` command line.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use convene_server::{Config, Server, init_tracing, open_database, seed_demo, shutdown_signal};

/// Convene: the backend of communities of practice.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The configuration file (default: `convene.toml` in the working directory, if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database, then serve HTTP (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) that `schema.graphql` holds.
    ExportSchema,
    /// Make a registered user a site admin, who moderates every group.
    CreateAdmin {
        /// The user's handle.
        handle: String,
    },
    /// Create the demo community: the Counter-Trafficking group, its webinar thread and recording.
    SeedDemo,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config_path = cli.config.as_deref();
    match cli.command.unwrap_or(Command::Serve) {
        Command::ExportSchema => {
            print!("{}", convene_graphql::sdl());
            Ok(())
        }
        Command::Serve => {
            let server = Server::bind(setup(config_path)?).await?;
            tracing::info!(address = %server.local_addr()?, "listening");
            server.run(shutdown_signal()).await
        }
        Command::Migrate => {
            open_database(&setup(config_path)?).await?;
            Ok(())
        }
        Command::CreateAdmin { handle } => {
            let database = open_database(&setup(config_path)?).await?;
            let user = database
                .account_store()
                .set_admin(&handle, true)
                .await
                .with_context(|| format!("no user has the handle {handle:?}; register it first"))?;
            println!("{} ({}) is now a site admin", user.handle, user.id);
            Ok(())
        }
        Command::SeedDemo => {
            let database = open_database(&setup(config_path)?).await?;
            let report = seed_demo(&database).await?;
            for (handle, password) in &report.accounts {
                match password {
                    Some(password) => println!("created user {handle} with password {password}"),
                    None => println!("user {handle} already exists"),
                }
            }
            let done = |created: bool| if created { "created" } else { "already there" };
            println!("group counter-trafficking: {}", done(report.created_group));
            println!("webinar thread: {}", done(report.created_thread));
            println!("webinar recording: {}", done(report.created_presentation));
            Ok(())
        }
    }
}

/// Starts logging and loads the configuration.
fn setup(path: Option<&Path>) -> anyhow::Result<Config> {
    init_tracing();
    Ok(Config::load(path)?)
}
