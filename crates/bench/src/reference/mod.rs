//! The references: the best straightforward code for what each case measures, written without
//! Convene's layers (domain, ORM entities, GraphQL, live feeds), and run on the same database.
//! The server references run as child processes of this binary, on the same footing as
//! `convene serve`: a process and a runtime of their own, and their own file descriptors.

pub mod fanout;
pub mod reply_write;
pub mod thread_page;

use std::net::SocketAddr;

use anyhow::Context as _;

/// Serves `app` on `listen`, announcing the address the kernel picked on stdout, where the
/// bench reads it.
async fn serve(listen: SocketAddr, app: axum::Router) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    println!(
        "listening address={}",
        listener.local_addr().context("local address")?
    );
    axum::serve(listener, app).await.context("serving")
}
