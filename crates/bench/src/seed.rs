//! Deterministic test data from a seed number, written straight into the tables the server's
//! migrations created: batched multi-row inserts in few transactions, so that a million posts
//! take minutes. Post IDs are UUIDv7 values that grow in thread order, as the server's do.

use anyhow::Context as _;
use chrono::{DateTime, TimeZone as _, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait, Value};
use uuid::{Builder, Uuid};

use crate::db::{Kind, stmt};
use crate::rng::Rng;

/// 2025-01-01T00:00:00Z: seeded rows are older than anything the server writes during the run.
const BASE_MS: u64 = 1_735_689_600_000;
/// Posts in the thread whose page is measured, enough for the largest page size.
pub const HOT_POSTS: u64 = 200;
/// Posts the write thread starts with.
const WRITE_POSTS: u64 = 20;
const REACTIONS: [&str; 5] = ["THUMBS_UP", "HEART", "CELEBRATE", "INSIGHTFUL", "QUESTION"];
const WORDS: [&str; 24] = [
    "agenda",
    "minutes",
    "budget",
    "speaker",
    "slides",
    "venue",
    "coffee",
    "review",
    "draft",
    "proposal",
    "schedule",
    "keynote",
    "workshop",
    "poster",
    "deadline",
    "session",
    "panel",
    "travel",
    "room",
    "badge",
    "dinner",
    "recording",
    "chair",
    "abstract",
];
/// Bound parameters per statement: below SQLite's 32766 and PostgreSQL's 65535.
const MAX_PARAMS: usize = 30_000;
/// Rows per transaction.
const ROWS_PER_TX: usize = 100_000;

/// How big the data set is; everything follows from the number of posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub posts: u64,
    pub users: u64,
    pub groups: u64,
}

impl Shape {
    pub fn for_posts(posts: u64) -> Self {
        Self {
            posts: posts.max(HOT_POSTS + WRITE_POSTS),
            users: (posts / 100).clamp(100, 10_000),
            groups: (posts / 50_000).clamp(4, 40),
        }
    }
}

/// The rows the cases need to find again.
#[derive(Debug, Clone, Copy)]
pub struct Landmarks {
    pub hot_thread: Uuid,
    pub write_thread: Uuid,
    pub group: Uuid,
}

/// A row, as the values of its columns.
pub type Row = Vec<Value>;

/// One thread with its posts and their reactions.
pub struct ThreadRows {
    pub thread: Row,
    pub posts: Vec<Row>,
    pub reactions: Vec<Row>,
}

/// The data set, generated lazily so that a million posts never sit in memory at once.
pub struct Generator {
    rng: Rng,
    owner: Uuid,
    users: Vec<Uuid>,
    groups: Vec<Uuid>,
    clock_ms: u64,
    posts_left: u64,
    thread_index: u64,
}

impl Generator {
    /// `owner` is the user registered through the API; they own every group.
    pub fn new(seed: u64, shape: Shape, owner: Uuid) -> Self {
        let mut rng = Rng::new(seed);
        let mut clock_ms = BASE_MS;
        let mut next_id = |rng: &mut Rng| {
            clock_ms += 1;
            v7(clock_ms, rng)
        };
        let users = (0..shape.users).map(|_| next_id(&mut rng)).collect();
        let groups = (0..shape.groups).map(|_| next_id(&mut rng)).collect();
        Self {
            rng,
            owner,
            users,
            groups,
            clock_ms: BASE_MS + shape.users + shape.groups,
            posts_left: shape.posts,
            thread_index: 0,
        }
    }

    fn next_thread_id(&mut self) -> Uuid {
        self.clock_ms += 1;
        v7(self.clock_ms, &mut self.rng)
    }

    pub fn user_rows(&self, password_hash: &str) -> Vec<Row> {
        self.users
            .iter()
            .enumerate()
            .map(|(i, &id)| {
                let handle = format!("u{i:07}");
                vec![
                    id.into(),
                    handle.clone().into(),
                    format!("{handle}@bench.example").into(),
                    format!("{handle}@bench.example").into(),
                    format!("User {i}").into(),
                    password_hash.to_owned().into(),
                    false.into(),
                    at_ms(BASE_MS).into(),
                ]
            })
            .collect()
    }

    pub fn group_rows(&self) -> Vec<Row> {
        self.groups
            .iter()
            .enumerate()
            .map(|(i, &id)| {
                vec![
                    id.into(),
                    format!("bench-{i}").into(),
                    format!("Bench group {i}").into(),
                    String::new().into(),
                    "PUBLIC".into(),
                    "OPEN".into(),
                    at_ms(BASE_MS).into(),
                ]
            })
            .collect()
    }

    /// Each seeded user is a member of one group; the owner owns them all.
    pub fn membership_rows(&mut self) -> Vec<Row> {
        let mut rows = Vec::new();
        let member = |rng: &mut Rng, group: Uuid, user: Uuid, role: &str| -> Row {
            vec![
                v7(BASE_MS, rng).into(),
                group.into(),
                user.into(),
                role.to_owned().into(),
                "ACTIVE".into(),
                at_ms(BASE_MS).into(),
            ]
        };
        for (g, &group) in self.groups.iter().enumerate() {
            rows.push(member(&mut self.rng, group, self.owner, "OWNER"));
            for &user in self.users.iter().skip(g).step_by(self.groups.len()) {
                rows.push(member(&mut self.rng, group, user, "MEMBER"));
            }
        }
        rows
    }

    /// A member of group `g`.
    fn author_in(&mut self, g: usize) -> Uuid {
        let groups = self.groups.len();
        let in_group = (self.users.len() - g).div_ceil(groups) as u64;
        self.users[g + groups * self.rng.below(in_group) as usize]
    }

    fn post_row(&mut self, thread: Uuid, group: Uuid, g: usize) -> (Row, Uuid, u64) {
        self.clock_ms += 1;
        let id = v7(self.clock_ms, &mut self.rng);
        let author = self.author_in(g);
        let words = self.rng.between(8, 30);
        let body = (0..words)
            .map(|_| WORDS[self.rng.below(WORDS.len() as u64) as usize])
            .collect::<Vec<_>>()
            .join(" ");
        let html = format!("<p>{body}</p>\n");
        let row = vec![
            id.into(),
            thread.into(),
            group.into(),
            author.into(),
            Some(body).into(),
            Some(html).into(),
            Option::<Uuid>::None.into(),
            at_ms(self.clock_ms).into(),
            Option::<DateTime<Utc>>::None.into(),
            author.into(),
            Option::<DateTime<Utc>>::None.into(),
        ];
        (row, id, self.clock_ms)
    }

    fn reaction_rows(&mut self, post: Uuid, at: u64) -> Vec<Row> {
        let count = self.rng.below(4);
        let first = self.rng.below(self.users.len() as u64) as usize;
        (0..count as usize)
            .map(|k| {
                let user = self.users[(first + k) % self.users.len()];
                let content = REACTIONS[self.rng.below(REACTIONS.len() as u64) as usize];
                vec![post.into(), user.into(), content.into(), at_ms(at).into()]
            })
            .collect()
    }
}

impl Iterator for Generator {
    type Item = ThreadRows;

    fn next(&mut self) -> Option<ThreadRows> {
        if self.posts_left == 0 {
            return None;
        }
        let (wanted, g) = match self.thread_index {
            0 => (HOT_POSTS, 0),
            1 => (WRITE_POSTS, 0),
            _ => (
                self.rng.between(20, 180),
                self.rng.below(self.groups.len() as u64) as usize,
            ),
        };
        let n = wanted.min(self.posts_left);
        self.posts_left -= n;
        let index = self.thread_index;
        self.thread_index += 1;
        let id = self.next_thread_id();
        let group = self.groups[g];
        let mut posts = Vec::with_capacity(n as usize);
        let mut reactions = Vec::new();
        let mut first_author = Uuid::nil();
        let mut last_ms = self.clock_ms;
        for k in 0..n {
            let (row, post, ms) = self.post_row(id, group, g);
            if k == 0 {
                first_author = uuid_of(&row[3]);
            }
            reactions.extend(self.reaction_rows(post, ms));
            posts.push(row);
            last_ms = ms;
        }
        let thread = vec![
            id.into(),
            group.into(),
            first_author.into(),
            format!("Thread {index}").into(),
            at_ms(self.clock_ms - n).into(),
            ((last_ms * 1000) as i64).into(),
            (n as i64 - 1).into(),
            false.into(),
            false.into(),
            Option::<Uuid>::None.into(),
        ];
        Some(ThreadRows {
            thread,
            posts,
            reactions,
        })
    }
}

fn uuid_of(value: &Value) -> Uuid {
    match value {
        Value::Uuid(Some(id)) => *id,
        _ => Uuid::nil(),
    }
}

fn v7(ms: u64, rng: &mut Rng) -> Uuid {
    Builder::from_unix_timestamp_millis(ms, &rng.bytes10()).into_uuid()
}

fn at_ms(ms: u64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms as i64)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

const USERS: &str = "users (id, handle, email, email_normalized, display_name, password_hash, is_admin, created_at)";
const GROUPS: &str = "groups (id, slug, name, description, visibility, join_policy, created_at)";
const MEMBERSHIPS: &str = "memberships (id, group_id, user_id, role, state, created_at)";
const THREADS: &str = "threads (id, group_id, author_id, title, created_at, last_activity_us, reply_count, is_pinned, is_locked, answer_id)";
const POSTS: &str = "posts (id, thread_id, group_id, author_id, body, body_html, reply_to, created_at, edited_at, edited_by, deleted_at)";
const REACTIONS_TABLE: &str = "reactions (post_id, user_id, content, created_at)";

/// What seeding wrote, for the reports.
#[derive(Debug, Clone, Copy, Default)]
pub struct Written {
    pub users: u64,
    pub threads: u64,
    pub posts: u64,
    pub reactions: u64,
}

/// Writes the whole data set. `owner` must exist already (registered through the API) and
/// lends its password hash to every seeded user.
pub async fn seed(
    conn: &DatabaseConnection,
    kind: Kind,
    seed: u64,
    shape: Shape,
    owner: Uuid,
) -> anyhow::Result<(Landmarks, Written)> {
    let hash_row = conn
        .query_one_raw(stmt(
            kind,
            "SELECT password_hash FROM users WHERE id = $1",
            vec![owner.into()],
        ))
        .await
        .context("reading the owner's password hash")?
        .context("the owner is not in the users table")?;
    let hash: String = hash_row.try_get_by_index(0).context("password_hash")?;
    let mut generator = Generator::new(seed, shape, owner);
    let mut landmarks = Landmarks {
        hot_thread: Uuid::nil(),
        write_thread: Uuid::nil(),
        group: generator.groups[0],
    };
    let mut written = Written::default();

    let tx = conn.begin().await.context("BEGIN")?;
    let users = generator.user_rows(&hash);
    written.users = users.len() as u64;
    insert(&tx, kind, USERS, users).await?;
    insert(&tx, kind, GROUPS, generator.group_rows()).await?;
    insert(&tx, kind, MEMBERSHIPS, generator.membership_rows()).await?;
    tx.commit().await.context("COMMIT")?;

    let (mut threads, mut posts, mut reactions) = (Vec::new(), Vec::new(), Vec::new());
    for (index, batch) in generator.enumerate() {
        match index {
            0 => landmarks.hot_thread = uuid_of(&batch.thread[0]),
            1 => landmarks.write_thread = uuid_of(&batch.thread[0]),
            _ => {}
        }
        threads.push(batch.thread);
        posts.extend(batch.posts);
        reactions.extend(batch.reactions);
        if posts.len() >= ROWS_PER_TX {
            flush(
                conn,
                kind,
                &mut written,
                &mut threads,
                &mut posts,
                &mut reactions,
            )
            .await?;
        }
    }
    flush(
        conn,
        kind,
        &mut written,
        &mut threads,
        &mut posts,
        &mut reactions,
    )
    .await?;
    if kind == Kind::Postgres {
        // What autovacuum would have done on a database that grew to this size.
        conn.execute_unprepared("ANALYZE")
            .await
            .context("ANALYZE")?;
    }
    Ok((landmarks, written))
}

async fn flush(
    conn: &DatabaseConnection,
    kind: Kind,
    written: &mut Written,
    threads: &mut Vec<Row>,
    posts: &mut Vec<Row>,
    reactions: &mut Vec<Row>,
) -> anyhow::Result<()> {
    written.threads += threads.len() as u64;
    written.posts += posts.len() as u64;
    written.reactions += reactions.len() as u64;
    let tx = conn.begin().await.context("BEGIN")?;
    insert(&tx, kind, THREADS, std::mem::take(threads)).await?;
    insert(&tx, kind, POSTS, std::mem::take(posts)).await?;
    insert(&tx, kind, REACTIONS_TABLE, std::mem::take(reactions)).await?;
    tx.commit().await.context("COMMIT")
}

/// Multi-row `INSERT`s of `rows` into `table (columns)`, as few statements as the parameter
/// limit allows.
async fn insert(
    conn: &impl ConnectionTrait,
    kind: Kind,
    table: &str,
    rows: Vec<Row>,
) -> anyhow::Result<()> {
    let Some(width) = rows.first().map(Vec::len) else {
        return Ok(());
    };
    let per_statement = (MAX_PARAMS / width).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Row> = rows.by_ref().take(per_statement).collect();
        let mut sql = format!("INSERT INTO {table} VALUES ");
        let mut values = Vec::with_capacity(chunk.len() * width);
        for (r, row) in chunk.into_iter().enumerate() {
            if r > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..width {
                if c > 0 {
                    sql.push(',');
                }
                // SQLite resolves each `$N` by a linear search of the names before it, which
                // turns a statement of thousands of parameters quadratic; `?` is positional.
                match kind {
                    Kind::Sqlite => sql.push('?'),
                    Kind::Postgres => sql.push_str(&format!("${}", r * width + c + 1)),
                }
            }
            sql.push(')');
            values.extend(row);
        }
        conn.execute_raw(stmt(kind, sql, values))
            .await
            .with_context(|| format!("inserting into {table}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(seed: u64) -> (Vec<String>, u64) {
        let owner = Uuid::nil();
        let generator = Generator::new(seed, Shape::for_posts(2_000), owner);
        let mut posts = 0;
        let mut sample = Vec::new();
        for batch in generator {
            posts += batch.posts.len() as u64;
            sample.push(format!("{:?}", batch.thread));
            sample.push(format!("{:?}", batch.posts.last()));
        }
        (sample, posts)
    }

    #[test]
    fn the_same_seed_gives_the_same_data() {
        assert_eq!(digest(42), digest(42));
        assert_ne!(digest(42).0, digest(43).0);
    }

    #[test]
    fn every_post_is_generated_once() {
        assert_eq!(digest(1).1, 2_000);
    }

    #[test]
    fn post_ids_grow_in_thread_order_and_the_hot_thread_comes_first() {
        let generator = Generator::new(5, Shape::for_posts(1_000), Uuid::nil());
        let batches: Vec<ThreadRows> = generator.collect();
        assert_eq!(batches[0].posts.len() as u64, HOT_POSTS);
        for batch in &batches {
            let ids: Vec<Uuid> = batch.posts.iter().map(|row| uuid_of(&row[0])).collect();
            assert!(ids.windows(2).all(|w| w[0] < w[1]));
            assert!(uuid_of(&batch.thread[0]) < ids[0]);
        }
    }

    #[test]
    fn sizes_follow_the_number_of_posts() {
        let small = Shape::for_posts(10_000);
        let large = Shape::for_posts(1_000_000);
        assert_eq!((small.users, small.groups), (100, 4));
        assert_eq!((large.users, large.groups), (10_000, 20));
    }
}
