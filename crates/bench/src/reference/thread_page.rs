//! The thread page served by one axum handler with two raw SQL statements: the newest posts
//! joined with their authors, then the reaction counts of those posts. It answers
//! `GET /thread/{uuid}?last=N` with exactly the JSON the GraphQL thread page query returns
//! for an anonymous viewer, so that both sides send and parse the same bytes.
//!
//! What it leaves out is what Convene adds: the thread and group lookups for access checks,
//! the GraphQL parse/validate/execute, the dataloaders.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::{Kind, Target, stmt};

const REACTIONS: [&str; 5] = ["THUMBS_UP", "HEART", "CELEBRATE", "INSIGHTFUL", "QUESTION"];

const POSTS: &str = "SELECT p.id, p.body, p.body_html, p.created_at, p.deleted_at, u.id, u.handle, u.display_name \
     FROM posts p JOIN users u ON u.id = p.author_id \
     WHERE p.thread_id = $1 ORDER BY p.id DESC LIMIT $2";
const COUNTS: &str = "SELECT post_id, content, COUNT(*) FROM reactions \
     WHERE post_id IN (SELECT id FROM posts WHERE thread_id = $1 ORDER BY id DESC LIMIT $2) \
     GROUP BY post_id, content";

#[derive(Clone)]
struct AppState {
    conn: DatabaseConnection,
    kind: Kind,
}

/// Serves until the process is killed.
pub async fn serve(listen: SocketAddr, database_url: &str) -> anyhow::Result<()> {
    let target = Target::existing(database_url);
    // The server's pool sizes: 8 connections on SQLite, 16 on PostgreSQL.
    let size = if target.kind == Kind::Sqlite { 8 } else { 16 };
    let state = AppState {
        conn: target.connect(size).await?,
        kind: target.kind,
    };
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/thread/{id}", get(thread_page))
        .with_state(state);
    super::serve(listen, app).await
}

#[derive(Deserialize)]
struct PageQuery {
    last: Option<u32>,
}

async fn thread_page(
    State(state): State<AppState>,
    Path(thread): Path<Uuid>,
    Query(query): Query<PageQuery>,
) -> Result<Json<Response>, (StatusCode, String)> {
    let last = i64::from(query.last.unwrap_or(20).clamp(1, 100));
    let internal = |e: sea_orm::DbErr| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    let rows = state
        .conn
        .query_all_raw(stmt(state.kind, POSTS, vec![thread.into(), last.into()]))
        .await
        .map_err(internal)?;
    let counts = state
        .conn
        .query_all_raw(stmt(state.kind, COUNTS, vec![thread.into(), last.into()]))
        .await
        .map_err(internal)?;
    let mut by_post: HashMap<Uuid, [i64; 5]> = HashMap::new();
    for row in counts {
        let post: Uuid = row.try_get_by_index(0).map_err(internal)?;
        let content: String = row.try_get_by_index(1).map_err(internal)?;
        let count: i64 = row.try_get_by_index(2).map_err(internal)?;
        if let Some(slot) = REACTIONS.iter().position(|&r| r == content) {
            by_post.entry(post).or_default()[slot] = count;
        }
    }
    let mut edges = Vec::with_capacity(rows.len());
    for row in rows.iter().rev() {
        let id: Uuid = row.try_get_by_index(0).map_err(internal)?;
        let deleted: Option<DateTime<Utc>> = row.try_get_by_index(4).map_err(internal)?;
        let text = |i: usize| -> Result<String, (StatusCode, String)> {
            let value: Option<String> = row.try_get_by_index(i).map_err(internal)?;
            Ok(if deleted.is_some() {
                String::new()
            } else {
                value.unwrap_or_default()
            })
        };
        let created: DateTime<Utc> = row.try_get_by_index(3).map_err(internal)?;
        let author: Uuid = row.try_get_by_index(5).map_err(internal)?;
        let counts = by_post.get(&id).copied().unwrap_or_default();
        edges.push(Edge {
            cursor: cursor(id),
            node: Node {
                id: format!("pst_{}", id.simple()),
                body: text(1)?,
                body_html: text(2)?,
                created_at: created.to_rfc3339(),
                author: Author {
                    id: format!("usr_{}", author.simple()),
                    handle: row.try_get_by_index(6).map_err(internal)?,
                    display_name: row.try_get_by_index(7).map_err(internal)?,
                },
                reaction_groups: REACTIONS
                    .iter()
                    .zip(counts)
                    .map(|(&content, count)| ReactionGroup {
                        content,
                        count,
                        viewer_has_reacted: false,
                    })
                    .collect(),
            },
        });
    }
    Ok(Json(Response {
        data: Data {
            node: ThreadNode {
                posts: Posts { edges },
            },
        },
    }))
}

/// The API's post cursor: `k1:` and the post's UUID, base64url.
fn cursor(id: Uuid) -> String {
    let mut bytes = b"k1:".to_vec();
    bytes.extend_from_slice(id.as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Serialize)]
struct Response {
    data: Data,
}

#[derive(Serialize)]
struct Data {
    node: ThreadNode,
}

#[derive(Serialize)]
struct ThreadNode {
    posts: Posts,
}

#[derive(Serialize)]
struct Posts {
    edges: Vec<Edge>,
}

#[derive(Serialize)]
struct Edge {
    cursor: String,
    node: Node,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Node {
    id: String,
    body: String,
    body_html: String,
    created_at: String,
    author: Author,
    reaction_groups: Vec<ReactionGroup>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Author {
    id: String,
    handle: String,
    display_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReactionGroup {
    content: &'static str,
    count: i64,
    viewer_has_reacted: bool,
}
