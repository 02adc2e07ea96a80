use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use convene_domain::content::{self, NewPresentation, Scope, ThreadFlag};
use convene_domain::ids::{GroupId, PostId, PresentationId, RevisionId, ThreadId, UserId};
use convene_domain::policy::Standing;
use convene_domain::ports::{ContentStore, IdempotencyKey};
use convene_domain::values::{PostBody, Reason, ThreadTitle};
use convene_domain::{
    Actor, DomainError, DomainResult, Event, Group, Page, PageRequest, Post, PostRevision,
    Presentation, ReactionContent, ReactionGroup, StoredFile, SubscriptionLevel, Thread, ThreadKey,
    ThreadOrder, User,
};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend,
    EntityTrait, IntoActiveModel, JoinType, QueryFilter, QueryOrder, QuerySelect, RelationDef,
    Select, SqlErr, Statement,
};
use uuid::Uuid;

use crate::convert;
use crate::db::{Database, DatabaseKind};
use crate::entity::{
    group, idempotency_key, post, post_revision, presentation, reaction, thread, thread_read,
    thread_subscription, user,
};
use crate::error::{DbResultExt, db_err};
use crate::groups::{insert_log, membership_of};
use crate::paginate::{by_ids, count, keyset_page, keyset_page_two};

/// How long an idempotency key answers with its first result.
const IDEMPOTENCY_WINDOW: Duration = Duration::hours(24);

pub(crate) struct SqlContentStore {
    db: Database,
}

impl SqlContentStore {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }

    /// Sets (with `Some`) or clears the thread's answer inside `tx`, as the rules allow.
    async fn set_answer(
        &self,
        tx: &DatabaseTransaction,
        actor: Actor,
        thread_id: ThreadId,
        answer: Option<&Post>,
        now: DateTime<Utc>,
    ) -> DomainResult<(Thread, Vec<Event>)> {
        let current = find_thread(
            tx,
            self.locked(thread::Entity::find_by_id(thread_id.as_uuid())),
        )
        .await?;
        let (group, standing) = standing_in(tx, actor, current.group_id, now).await?;
        let updated = content::mark_answer(&scope(now, actor, standing, &group), &current, answer)?;
        update_thread(tx, &updated).await?;
        // Both the former answer and the new one change their `isAnswer`.
        let events = [current.answer_id, updated.answer_id]
            .into_iter()
            .flatten()
            .filter(|_| current.answer_id != updated.answer_id)
            .map(|post| post_updated(&updated, post))
            .collect();
        Ok((updated, events))
    }

    /// Locks the selected rows for the transaction on PostgreSQL (SQLite serializes writers).
    fn locked<E: EntityTrait>(&self, select: Select<E>) -> Select<E> {
        match self.db.kind() {
            DatabaseKind::Postgres => select.lock_exclusive(),
            DatabaseKind::Sqlite => select,
        }
    }
}

/// The event of a post's change.
fn post_changed(post: &Post) -> Event {
    Event::PostUpdated {
        group: post.group_id,
        thread: post.thread_id,
        post: post.id,
    }
}

/// The event of a change to one of a thread's posts.
fn post_updated(thread: &Thread, post: PostId) -> Event {
    Event::PostUpdated {
        group: thread.group_id,
        thread: thread.id,
        post,
    }
}

/// The group and the actor's standing in it, read inside the transaction.
async fn standing_in(
    db: &impl ConnectionTrait,
    actor: Actor,
    group: GroupId,
    now: DateTime<Utc>,
) -> DomainResult<(Group, Standing)> {
    let row = group::Entity::find_by_id(group.as_uuid())
        .one(db)
        .await
        .dom()?
        .ok_or(DomainError::NotFound)?;
    let membership = membership_of(db, group, actor.user_id).await?;
    let standing = Standing::of(Some(actor), membership.as_ref(), now);
    Ok((convert::group(row)?, standing))
}

/// A retried creation answers with its first result only while the actor may still read the
/// group it is in: a member removed or banned since must not read the group through an old
/// idempotency key.
async fn require_read_in(
    db: &impl ConnectionTrait,
    actor: Actor,
    group: GroupId,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let (group, standing) = standing_in(db, actor, group, now).await?;
    scope(now, actor, standing, &group).require_read()
}

fn scope<'a>(now: DateTime<Utc>, actor: Actor, standing: Standing, group: &'a Group) -> Scope<'a> {
    Scope {
        now,
        actor,
        standing,
        group,
    }
}

async fn find_post(db: &impl ConnectionTrait, select: Select<post::Entity>) -> DomainResult<Post> {
    select
        .one(db)
        .await
        .dom()?
        .map(convert::post)
        .ok_or(DomainError::NotFound)
}

async fn find_thread(
    db: &impl ConnectionTrait,
    select: Select<thread::Entity>,
) -> DomainResult<Thread> {
    select
        .one(db)
        .await
        .dom()?
        .map(convert::thread)
        .transpose()?
        .ok_or(DomainError::NotFound)
}

async fn update_thread(db: &impl ConnectionTrait, thread: &Thread) -> DomainResult<()> {
    convert::thread_row(thread)
        .into_active_model()
        .reset_all()
        .update(db)
        .await
        .dom()?;
    Ok(())
}

async fn update_post(db: &impl ConnectionTrait, post: &Post) -> DomainResult<()> {
    convert::post_row(post)
        .into_active_model()
        .reset_all()
        .update(db)
        .await
        .dom()?;
    Ok(())
}

/// Makes requests that carry the same idempotency key wait for one another until the
/// transaction ends, so that a retry sent while the first request is still in flight finds its
/// result instead of writing a second one. PostgreSQL: a transaction-level advisory lock on the
/// key; SQLite writers are serialized already.
async fn lock_key(db: &impl ConnectionTrait, key: Option<&IdempotencyKey>) -> DomainResult<()> {
    let Some(key) = key else {
        return Ok(());
    };
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock(hashtext($1))",
        [format!("{}\n{}", key.scope, key.key).into()],
    ))
    .await
    .dom()?;
    Ok(())
}

/// The resource an idempotency key produced after `since`.
async fn remembered(
    db: &impl ConnectionTrait,
    key: Option<&IdempotencyKey>,
    since: DateTime<Utc>,
) -> DomainResult<Option<Uuid>> {
    let Some(key) = key else {
        return Ok(None);
    };
    let row = idempotency_key::Entity::find_by_id((key.scope.clone(), key.key.clone()))
        .filter(idempotency_key::Column::CreatedAt.gt(since))
        .one(db)
        .await
        .dom()?;
    Ok(row.map(|r| r.resource_id))
}

async fn remember(
    db: &impl ConnectionTrait,
    key: Option<&IdempotencyKey>,
    resource: Uuid,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let Some(key) = key else {
        return Ok(());
    };
    // An expired key is reused: replace it.
    idempotency_key::Entity::delete_by_id((key.scope.clone(), key.key.clone()))
        .exec(db)
        .await
        .dom()?;
    let row = idempotency_key::Model {
        scope: key.scope.clone(),
        key: key.key.clone(),
        resource_id: resource,
        created_at: now,
    };
    idempotency_key::Entity::insert(row.into_active_model())
        .exec_without_returning(db)
        .await
        .dom()?;
    Ok(())
}

/// Rows strictly beyond `key` in the tuple order (pinned, time, id): `greater` picks the side.
fn beyond(key: &ThreadKey, order: ThreadOrder, greater: bool) -> Condition {
    let cmp = |column: thread::Column, value: sea_orm::Value| {
        if greater {
            column.gt(value)
        } else {
            column.lt(value)
        }
    };
    let pinned = thread::Column::IsPinned;
    let same_pin = pinned.eq(key.pinned);
    let mut tie = Condition::all().add(same_pin.clone());
    let mut any = Condition::any().add(cmp(pinned, key.pinned.into()));
    match order {
        ThreadOrder::LastActivity => {
            let time = thread::Column::LastActivityUs;
            any = any.add(
                Condition::all()
                    .add(same_pin)
                    .add(cmp(time, key.at_micros.into())),
            );
            tie = tie.add(time.eq(key.at_micros));
        }
        ThreadOrder::Created => {}
    }
    any.add(tie.add(cmp(thread::Column::Id, key.id.into())))
}

#[async_trait]
impl ContentStore for SqlContentStore {
    async fn start_thread(
        &self,
        actor: Actor,
        group: GroupId,
        title: ThreadTitle,
        body: PostBody,
        idempotency: Option<&IdempotencyKey>,
        now: DateTime<Utc>,
    ) -> DomainResult<(Thread, Post)> {
        let write = self.db.begin_write().await.dom()?;
        let tx = &write.tx;
        lock_key(tx, idempotency).await?;
        if let Some(id) = remembered(tx, idempotency, now - IDEMPOTENCY_WINDOW).await? {
            let thread = find_thread(tx, thread::Entity::find_by_id(id)).await?;
            require_read_in(tx, actor, thread.group_id, now).await?;
            let opening = find_post(
                tx,
                post::Entity::find()
                    .filter(post::Column::ThreadId.eq(id))
                    .order_by_asc(post::Column::Id),
            )
            .await?;
            return Ok((thread, opening));
        }
        let (group, standing) = standing_in(tx, actor, group, now).await?;
        let (thread, opening) =
            content::start_thread(&scope(now, actor, standing, &group), title, body)?;
        thread::Entity::insert(convert::thread_row(&thread).into_active_model())
            .exec_without_returning(tx)
            .await
            .dom()?;
        post::Entity::insert(convert::post_row(&opening).into_active_model())
            .exec_without_returning(tx)
            .await
            .dom()?;
        remember(tx, idempotency, thread.id.as_uuid(), now).await?;
        write
            .commit(&[Event::ThreadAdded {
                group: thread.group_id,
                thread: thread.id,
            }])
            .await
            .dom()?;
        Ok((thread, opening))
    }

    async fn reply(
        &self,
        actor: Actor,
        thread_id: ThreadId,
        body: PostBody,
        reply_to: Option<PostId>,
        idempotency: Option<&IdempotencyKey>,
        now: DateTime<Utc>,
    ) -> DomainResult<Post> {
        let write = self.db.begin_write().await.dom()?;
        let tx = &write.tx;
        lock_key(tx, idempotency).await?;
        if let Some(id) = remembered(tx, idempotency, now - IDEMPOTENCY_WINDOW).await? {
            let post = find_post(tx, post::Entity::find_by_id(id)).await?;
            require_read_in(tx, actor, post.group_id, now).await?;
            return Ok(post);
        }
        let thread = find_thread(
            tx,
            self.locked(thread::Entity::find_by_id(thread_id.as_uuid())),
        )
        .await?;
        let (group, standing) = standing_in(tx, actor, thread.group_id, now).await?;
        let scope = scope(now, actor, standing, &group);
        scope.require_read()?;
        let reply_to = match reply_to {
            Some(id) => Some(
                post::Entity::find_by_id(id.as_uuid())
                    .filter(post::Column::ThreadId.eq(thread_id.as_uuid()))
                    .one(tx)
                    .await
                    .dom()?
                    .map(convert::post)
                    .ok_or_else(|| {
                        DomainError::invalid("replyToId", "must be a post of the same thread")
                    })?,
            ),
            None => None,
        };
        let last: Option<Uuid> = post::Entity::find()
            .select_only()
            .column(post::Column::Id)
            .filter(post::Column::ThreadId.eq(thread_id.as_uuid()))
            .order_by_desc(post::Column::Id)
            .into_tuple()
            .one(tx)
            .await
            .dom()?;
        let (thread, reply) = content::reply(
            &scope,
            &thread,
            last.map(PostId::from_uuid),
            body,
            reply_to.as_ref(),
        )?;
        post::Entity::insert(convert::post_row(&reply).into_active_model())
            .exec_without_returning(tx)
            .await
            .dom()?;
        update_thread(tx, &thread).await?;
        remember(tx, idempotency, reply.id.as_uuid(), now).await?;
        write
            .commit(&[Event::ReplyAdded {
                group: reply.group_id,
                thread: reply.thread_id,
                post: reply.id,
            }])
            .await
            .dom()?;
        Ok(reply)
    }

    async fn edit_post(
        &self,
        actor: Actor,
        post_id: PostId,
        body: PostBody,
        now: DateTime<Utc>,
    ) -> DomainResult<Post> {
        let write = self.db.begin_write().await.dom()?;
        let tx = &write.tx;
        let current =
            find_post(tx, self.locked(post::Entity::find_by_id(post_id.as_uuid()))).await?;
        let (group, standing) = standing_in(tx, actor, current.group_id, now).await?;
        let (edited, revision) =
            content::edit(&scope(now, actor, standing, &group), &current, body)?;
        post_revision::Entity::insert(convert::revision_row(&revision).into_active_model())
            .exec_without_returning(tx)
            .await
            .dom()?;
        update_post(tx, &edited).await?;
        write.commit(&[post_changed(&edited)]).await.dom()?;
        Ok(edited)
    }

    async fn delete_post(
        &self,
        actor: Actor,
        post_id: PostId,
        reason: Option<Reason>,
        now: DateTime<Utc>,
    ) -> DomainResult<Post> {
        let write = self.db.begin_write().await.dom()?;
        let tx = &write.tx;
        let current =
            find_post(tx, self.locked(post::Entity::find_by_id(post_id.as_uuid()))).await?;
        let (group, standing) = standing_in(tx, actor, current.group_id, now).await?;
        let (deleted, log) =
            content::delete(&scope(now, actor, standing, &group), &current, reason)?;
        update_post(tx, &deleted).await?;
        post_revision::Entity::delete_many()
            .filter(post_revision::Column::PostId.eq(post_id.as_uuid()))
            .exec(tx)
            .await
            .dom()?;
        thread::Entity::update_many()
            .col_expr(thread::Column::AnswerId, Expr::value(Option::<Uuid>::None))
            .filter(thread::Column::Id.eq(current.thread_id.as_uuid()))
            .filter(thread::Column::AnswerId.eq(post_id.as_uuid()))
            .exec(tx)
            .await
            .dom()?;
        if let Some(entry) = &log {
            insert_log(tx, entry).await?;
        }
        write.commit(&[post_changed(&deleted)]).await.dom()?;
        Ok(deleted)
    }

    async fn redact_revision(
        &self,
        actor: Actor,
        revision: RevisionId,
        reason: Option<Reason>,
        now: DateTime<Utc>,
    ) -> DomainResult<PostRevision> {
        let write = self.db.begin_write().await.dom()?;
        let tx = &write.tx;
        let current = self
            .locked(post_revision::Entity::find_by_id(revision.as_uuid()))
            .one(tx)
            .await
            .dom()?
            .map(convert::revision)
            .ok_or(DomainError::NotFound)?;
        let post = find_post(tx, post::Entity::find_by_id(current.post_id.as_uuid())).await?;
        let (group, standing) = standing_in(tx, actor, current.group_id, now).await?;
        let (redacted, log) = content::redact(
            &scope(now, actor, standing, &group),
            &post,
            &current,
            reason,
        )?;
        convert::revision_row(&redacted)
            .into_active_model()
            .reset_all()
            .update(tx)
            .await
            .dom()?;
        insert_log(tx, &log).await?;
        write.commit(&[post_changed(&post)]).await.dom()?;
        Ok(redacted)
    }

    async fn flag_thread(
        &self,
        actor: Actor,
        thread_id: ThreadId,
        flag: ThreadFlag,
        now: DateTime<Utc>,
    ) -> DomainResult<Thread> {
        let write = self.db.begin_write().await.dom()?;
        let tx = &write.tx;
        let current = find_thread(
            tx,
            self.locked(thread::Entity::find_by_id(thread_id.as_uuid())),
        )
        .await?;
        let (group, standing) = standing_in(tx, actor, current.group_id, now).await?;
        let (flagged, log) = content::flag(&scope(now, actor, standing, &group), &current, flag)?;
        if let Some(entry) = &log {
            update_thread(tx, &flagged).await?;
            insert_log(tx, entry).await?;
        }
        write.commit(&[]).await.dom()?;
        Ok(flagged)
    }

    async fn mark_answer(
        &self,
        actor: Actor,
        post_id: PostId,
        now: DateTime<Utc>,
    ) -> DomainResult<Thread> {
        let write = self.db.begin_write().await.dom()?;
        let answer = find_post(&write.tx, post::Entity::find_by_id(post_id.as_uuid())).await?;
        let (marked, events) = self
            .set_answer(&write.tx, actor, answer.thread_id, Some(&answer), now)
            .await?;
        write.commit(&events).await.dom()?;
        Ok(marked)
    }

    async fn unmark_answer(
        &self,
        actor: Actor,
        thread_id: ThreadId,
        now: DateTime<Utc>,
    ) -> DomainResult<Thread> {
        let write = self.db.begin_write().await.dom()?;
        let (unmarked, events) = self
            .set_answer(&write.tx, actor, thread_id, None, now)
            .await?;
        write.commit(&events).await.dom()?;
        Ok(unmarked)
    }

    async fn react(
        &self,
        actor: Actor,
        post_id: PostId,
        reaction_content: ReactionContent,
        add: bool,
        now: DateTime<Utc>,
    ) -> DomainResult<Post> {
        let write = self.db.begin_write().await.dom()?;
        let tx = &write.tx;
        let target = find_post(tx, post::Entity::find_by_id(post_id.as_uuid())).await?;
        let (group, standing) = standing_in(tx, actor, target.group_id, now).await?;
        content::check_react(&scope(now, actor, standing, &group), &target)?;
        let key = (
            post_id.as_uuid(),
            actor.user_id.as_uuid(),
            reaction_content.as_str().to_owned(),
        );
        if add {
            let row = reaction::Model {
                post_id: key.0,
                user_id: key.1,
                content: key.2,
                created_at: now,
            };
            let inserted = reaction::Entity::insert(row.into_active_model())
                .exec_without_returning(tx)
                .await;
            match inserted {
                Ok(_) => {}
                // Already reacted: adding again changes nothing.
                Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                    return Ok(target);
                }
                Err(err) => return Err(db_err(err)),
            }
        } else {
            reaction::Entity::delete_by_id(key).exec(tx).await.dom()?;
        }
        write.commit(&[post_changed(&target)]).await.dom()?;
        Ok(target)
    }

    async fn mark_read(
        &self,
        actor: Actor,
        thread_id: ThreadId,
        post_id: PostId,
        now: DateTime<Utc>,
    ) -> DomainResult<Thread> {
        let write = self.db.begin_write().await.dom()?;
        let tx = &write.tx;
        let current = find_thread(tx, thread::Entity::find_by_id(thread_id.as_uuid())).await?;
        let (group, standing) = standing_in(tx, actor, current.group_id, now).await?;
        scope(now, actor, standing, &group).require_read()?;
        let read = post::Entity::find_by_id(post_id.as_uuid())
            .filter(post::Column::ThreadId.eq(thread_id.as_uuid()))
            .one(tx)
            .await
            .dom()?;
        if read.is_none() {
            return Err(DomainError::invalid(
                "postId",
                "must be a post of the thread",
            ));
        }
        let key = (actor.user_id.as_uuid(), thread_id.as_uuid());
        thread_read::Entity::delete_by_id(key)
            .exec(tx)
            .await
            .dom()?;
        let row = thread_read::Model {
            user_id: key.0,
            thread_id: key.1,
            last_read_post_id: post_id.as_uuid(),
            updated_at: now,
        };
        thread_read::Entity::insert(row.into_active_model())
            .exec_without_returning(tx)
            .await
            .dom()?;
        write.commit(&[]).await.dom()?;
        Ok(current)
    }

    async fn set_subscription(
        &self,
        actor: Actor,
        thread_id: ThreadId,
        level: SubscriptionLevel,
        now: DateTime<Utc>,
    ) -> DomainResult<Thread> {
        let write = self.db.begin_write().await.dom()?;
        let tx = &write.tx;
        let current = find_thread(tx, thread::Entity::find_by_id(thread_id.as_uuid())).await?;
        let (group, standing) = standing_in(tx, actor, current.group_id, now).await?;
        scope(now, actor, standing, &group).require_read()?;
        let key = (actor.user_id.as_uuid(), thread_id.as_uuid());
        thread_subscription::Entity::delete_by_id(key)
            .exec(tx)
            .await
            .dom()?;
        let row = thread_subscription::Model {
            user_id: key.0,
            thread_id: key.1,
            level: level.as_str().to_owned(),
            updated_at: now,
        };
        thread_subscription::Entity::insert(row.into_active_model())
            .exec_without_returning(tx)
            .await
            .dom()?;
        write.commit(&[]).await.dom()?;
        Ok(current)
    }

    async fn check_share(
        &self,
        actor: Actor,
        group_id: GroupId,
        thread_id: Option<ThreadId>,
        new: &NewPresentation,
        has_file: bool,
        now: DateTime<Utc>,
    ) -> DomainResult<()> {
        let db = self.db.conn();
        let (group, standing) = standing_in(db, actor, group_id, now).await?;
        let scope = scope(now, actor, standing, &group);
        scope.require_read()?;
        let thread = match thread_id {
            Some(id) => Some(thread_in_group(db, id, group_id).await?),
            None => None,
        };
        content::check_share(&scope, thread.as_ref(), new, has_file)
    }

    async fn presentation_for_key(
        &self,
        actor: Actor,
        key: &IdempotencyKey,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> DomainResult<Option<Presentation>> {
        let db = self.db.conn();
        let Some(id) = remembered(db, Some(key), since).await? else {
            return Ok(None);
        };
        let presentation = presentation::Entity::find_by_id(id)
            .one(db)
            .await
            .dom()?
            .map(convert::presentation)
            .transpose()?;
        if let Some(presentation) = &presentation {
            require_read_in(db, actor, presentation.group_id, now).await?;
        }
        Ok(presentation)
    }

    #[allow(clippy::too_many_arguments)]
    async fn share_presentation(
        &self,
        actor: Actor,
        group_id: GroupId,
        thread_id: Option<ThreadId>,
        new: NewPresentation,
        file: Option<StoredFile>,
        idempotency: Option<&IdempotencyKey>,
        now: DateTime<Utc>,
    ) -> DomainResult<Presentation> {
        let write = self.db.begin_write().await.dom()?;
        let tx = &write.tx;
        lock_key(tx, idempotency).await?;
        if let Some(id) = remembered(tx, idempotency, now - IDEMPOTENCY_WINDOW).await? {
            let presentation = presentation::Entity::find_by_id(id)
                .one(tx)
                .await
                .dom()?
                .map(convert::presentation)
                .transpose()?
                .ok_or(DomainError::NotFound)?;
            require_read_in(tx, actor, presentation.group_id, now).await?;
            return Ok(presentation);
        }
        let (group, standing) = standing_in(tx, actor, group_id, now).await?;
        let scope = scope(now, actor, standing, &group);
        scope.require_read()?;
        let thread = match thread_id {
            Some(id) => Some(thread_in_group(tx, id, group_id).await?),
            None => None,
        };
        let shared = content::share(&scope, thread.as_ref(), new, file)?;
        presentation::Entity::insert(convert::presentation_row(&shared)?.into_active_model())
            .exec_without_returning(tx)
            .await
            .dom()?;
        remember(tx, idempotency, shared.id.as_uuid(), now).await?;
        write.commit(&[]).await.dom()?;
        Ok(shared)
    }

    async fn delete_presentation(
        &self,
        actor: Actor,
        id: PresentationId,
        now: DateTime<Utc>,
    ) -> DomainResult<Presentation> {
        let write = self.db.begin_write().await.dom()?;
        let tx = &write.tx;
        let current = self
            .locked(presentation::Entity::find_by_id(id.as_uuid()))
            .one(tx)
            .await
            .dom()?
            .map(convert::presentation)
            .transpose()?
            .ok_or(DomainError::NotFound)?;
        let (group, standing) = standing_in(tx, actor, current.group_id, now).await?;
        let log = content::delete_presentation(&scope(now, actor, standing, &group), &current)?;
        presentation::Entity::delete_by_id(id.as_uuid())
            .exec(tx)
            .await
            .dom()?;
        if let Some(entry) = &log {
            insert_log(tx, entry).await?;
        }
        write.commit(&[]).await.dom()?;
        Ok(current)
    }

    async fn threads_by_ids(&self, ids: &[ThreadId]) -> DomainResult<Vec<Thread>> {
        let rows = by_ids::<thread::Entity, _>(
            thread::Column::Id,
            ids.iter().map(ThreadId::as_uuid),
            self.db.conn(),
        )
        .await
        .dom()?;
        convert::all(rows, convert::thread)
    }

    async fn posts_by_ids(&self, ids: &[PostId]) -> DomainResult<Vec<Post>> {
        let rows = by_ids::<post::Entity, _>(
            post::Column::Id,
            ids.iter().map(PostId::as_uuid),
            self.db.conn(),
        )
        .await
        .dom()?;
        Ok(rows.into_iter().map(convert::post).collect())
    }

    async fn revisions_by_ids(&self, ids: &[RevisionId]) -> DomainResult<Vec<PostRevision>> {
        let rows = by_ids::<post_revision::Entity, _>(
            post_revision::Column::Id,
            ids.iter().map(RevisionId::as_uuid),
            self.db.conn(),
        )
        .await
        .dom()?;
        Ok(rows.into_iter().map(convert::revision).collect())
    }

    async fn presentations_by_ids(
        &self,
        ids: &[PresentationId],
    ) -> DomainResult<Vec<Presentation>> {
        let rows = by_ids::<presentation::Entity, _>(
            presentation::Column::Id,
            ids.iter().map(PresentationId::as_uuid),
            self.db.conn(),
        )
        .await
        .dom()?;
        convert::all(rows, convert::presentation)
    }

    async fn group_threads(
        &self,
        group: GroupId,
        order: ThreadOrder,
        page: &PageRequest<ThreadKey>,
    ) -> DomainResult<Page<Thread>> {
        let mut select = thread::Entity::find().filter(thread::Column::GroupId.eq(group.as_uuid()));
        if let Some(after) = &page.after {
            select = select.filter(beyond(after, order, false));
        }
        if let Some(before) = &page.before {
            select = select.filter(beyond(before, order, true));
        }
        let mut columns = vec![thread::Column::IsPinned];
        if order == ThreadOrder::LastActivity {
            columns.push(thread::Column::LastActivityUs);
        }
        columns.push(thread::Column::Id);
        for column in columns {
            select = if page.backward {
                select.order_by_asc(column)
            } else {
                select.order_by_desc(column)
            };
        }
        let rows = select
            .limit(page.limit.saturating_add(1))
            .all(self.db.conn())
            .await
            .dom()?;
        let page = Page::from_scan(rows, page);
        page.try_map(convert::thread)
    }

    async fn count_group_threads(&self, group: GroupId) -> DomainResult<u64> {
        count::<thread::Entity, _>(thread::Column::GroupId.eq(group.as_uuid()), self.db.conn())
            .await
            .dom()
    }

    async fn thread_posts(
        &self,
        thread_id: ThreadId,
        page: &PageRequest,
    ) -> DomainResult<Page<Post>> {
        let select = post::Entity::find().filter(post::Column::ThreadId.eq(thread_id.as_uuid()));
        let rows = keyset_page(select, post::Column::Id, page, self.db.conn())
            .await
            .dom()?;
        Ok(rows.map(convert::post))
    }

    async fn thread_posts_with_authors(
        &self,
        thread_id: ThreadId,
        page: &PageRequest,
    ) -> DomainResult<Page<(Post, User)>> {
        let author: RelationDef = post::Entity::belongs_to(user::Entity)
            .from(post::Column::AuthorId)
            .to(user::Column::Id)
            .into();
        let select = post::Entity::find()
            .filter(post::Column::ThreadId.eq(thread_id.as_uuid()))
            .join(JoinType::InnerJoin, author)
            .select_also(user::Entity);
        let rows = keyset_page_two(select, post::Column::Id, page, self.db.conn())
            .await
            .dom()?;
        rows.try_map(|(post, author)| {
            let author =
                author.ok_or_else(|| DomainError::internal("a post without its author"))?;
            Ok((convert::post(post), convert::user(author)?))
        })
    }

    async fn revisions(
        &self,
        post_id: PostId,
        page: &PageRequest,
    ) -> DomainResult<Page<PostRevision>> {
        let select = post_revision::Entity::find()
            .filter(post_revision::Column::PostId.eq(post_id.as_uuid()));
        let rows = keyset_page(select, post_revision::Column::Id, page, self.db.conn())
            .await
            .dom()?;
        Ok(rows.map(convert::revision))
    }

    async fn count_revisions(&self, post_id: PostId) -> DomainResult<u64> {
        count::<post_revision::Entity, _>(
            post_revision::Column::PostId.eq(post_id.as_uuid()),
            self.db.conn(),
        )
        .await
        .dom()
    }

    async fn reaction_groups(
        &self,
        posts: &[PostId],
        viewer: Option<UserId>,
    ) -> DomainResult<Vec<(PostId, Vec<ReactionGroup>)>> {
        let db = self.db.conn();
        let ids: Vec<Uuid> = posts.iter().map(PostId::as_uuid).collect();
        // One query: the count of each kind, and how many of those are the viewer's (0 or 1).
        let viewer = viewer.map_or(Uuid::nil(), |v| v.as_uuid());
        let mine = Expr::case(reaction::Column::UserId.eq(viewer), 1).finally(0);
        let counts: Vec<(Uuid, String, i64, i64)> = reaction::Entity::find()
            .select_only()
            .column(reaction::Column::PostId)
            .column(reaction::Column::Content)
            .column_as(reaction::Column::UserId.count(), "count")
            .column_as(Expr::from(Func::sum(mine)), "mine")
            .filter(reaction::Column::PostId.is_in(ids))
            .group_by(reaction::Column::PostId)
            .group_by(reaction::Column::Content)
            .into_tuple()
            .all(db)
            .await
            .dom()?;
        let mut groups: HashMap<PostId, Vec<ReactionGroup>> = posts
            .iter()
            .map(|&id| {
                let all = ReactionContent::ALL
                    .iter()
                    .map(|&content| ReactionGroup {
                        content,
                        count: 0,
                        viewer_has_reacted: false,
                    })
                    .collect();
                (id, all)
            })
            .collect();
        for (post, content, n, mine) in counts {
            if let Some(list) = groups.get_mut(&PostId::from_uuid(post)) {
                if let Some(g) = list.iter_mut().find(|g| g.content.as_str() == content) {
                    g.count = u64::try_from(n).unwrap_or(0);
                    g.viewer_has_reacted = mine > 0;
                }
            }
        }
        Ok(groups.into_iter().collect())
    }

    async fn unread_counts(
        &self,
        user: UserId,
        threads: &[ThreadId],
    ) -> DomainResult<Vec<(ThreadId, u64)>> {
        let db = self.db.conn();
        let marks: Vec<(Uuid, Uuid)> = thread_read::Entity::find()
            .select_only()
            .column(thread_read::Column::ThreadId)
            .column(thread_read::Column::LastReadPostId)
            .filter(thread_read::Column::UserId.eq(user.as_uuid()))
            .filter(thread_read::Column::ThreadId.is_in(threads.iter().map(ThreadId::as_uuid)))
            .into_tuple()
            .all(db)
            .await
            .dom()?;
        let marked: HashMap<Uuid, Uuid> = marks.into_iter().collect();
        let mut unread = Condition::any();
        for thread in threads {
            let id = thread.as_uuid();
            unread = unread.add(match marked.get(&id) {
                Some(last) => Condition::all()
                    .add(post::Column::ThreadId.eq(id))
                    .add(post::Column::Id.gt(*last)),
                None => Condition::all().add(post::Column::ThreadId.eq(id)),
            });
        }
        let counts: Vec<(Uuid, i64)> = post::Entity::find()
            .select_only()
            .column(post::Column::ThreadId)
            .column_as(post::Column::Id.count(), "count")
            .filter(unread)
            .group_by(post::Column::ThreadId)
            .into_tuple()
            .all(db)
            .await
            .dom()?;
        Ok(counts
            .into_iter()
            .map(|(id, n)| (ThreadId::from_uuid(id), u64::try_from(n).unwrap_or(0)))
            .collect())
    }

    async fn subscriptions(
        &self,
        user: UserId,
        threads: &[ThreadId],
    ) -> DomainResult<Vec<(ThreadId, SubscriptionLevel)>> {
        let rows: Vec<(Uuid, String)> = thread_subscription::Entity::find()
            .select_only()
            .column(thread_subscription::Column::ThreadId)
            .column(thread_subscription::Column::Level)
            .filter(thread_subscription::Column::UserId.eq(user.as_uuid()))
            .filter(
                thread_subscription::Column::ThreadId.is_in(threads.iter().map(ThreadId::as_uuid)),
            )
            .into_tuple()
            .all(self.db.conn())
            .await
            .dom()?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, level)| {
                Some((
                    ThreadId::from_uuid(id),
                    SubscriptionLevel::from_str_opt(&level)?,
                ))
            })
            .collect())
    }

    async fn presentations(
        &self,
        group: GroupId,
        thread_id: Option<ThreadId>,
        page: &PageRequest,
    ) -> DomainResult<Page<Presentation>> {
        let select = presentation::Entity::find().filter(presentation_condition(group, thread_id));
        let rows = keyset_page(select, presentation::Column::Id, page, self.db.conn())
            .await
            .dom()?;
        rows.try_map(convert::presentation)
    }

    async fn count_presentations(
        &self,
        group: GroupId,
        thread_id: Option<ThreadId>,
    ) -> DomainResult<u64> {
        count::<presentation::Entity, _>(presentation_condition(group, thread_id), self.db.conn())
            .await
            .dom()
    }
}

fn presentation_condition(group: GroupId, thread_id: Option<ThreadId>) -> Condition {
    let mut condition = Condition::all().add(presentation::Column::GroupId.eq(group.as_uuid()));
    if let Some(thread_id) = thread_id {
        condition = condition.add(presentation::Column::ThreadId.eq(thread_id.as_uuid()));
    }
    condition
}

/// A thread of the group; any other ID answers like an unknown one.
async fn thread_in_group(
    db: &impl ConnectionTrait,
    id: ThreadId,
    group: GroupId,
) -> DomainResult<Thread> {
    find_thread(
        db,
        thread::Entity::find_by_id(id.as_uuid())
            .filter(thread::Column::GroupId.eq(group.as_uuid())),
    )
    .await
}
