use async_trait::async_trait;
use chrono::{DateTime, Utc};
use convene_domain::ids::{GroupId, LogEntryId, MembershipId, UserId};
use convene_domain::membership::{self, Command, Context, Effect, GroupChanges, Outcome, Target};
use convene_domain::ports::{GroupFilter, GroupStore};
use convene_domain::{
    Actor, DomainError, DomainResult, Event, Group, Membership, MembershipState,
    ModerationLogEntry, Page, PageRequest, Role, Visibility,
};
use sea_orm::sea_query::IntoCondition;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, JoinType, QueryFilter, QuerySelect, RelationDef,
};
use uuid::Uuid;

use crate::convert;
use crate::db::{Database, DatabaseKind};
use crate::entity::{group, membership as member, moderation_log, user};
use crate::error::DbResultExt;
use crate::paginate::{by_ids, count, keyset_page};

pub(crate) struct SqlGroupStore {
    db: Database,
}

impl SqlGroupStore {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }

    /// Reads the group inside `tx`, locking its row on PostgreSQL so that membership changes
    /// of one group are serialized (SQLite already serializes writers).
    async fn lock_group(&self, tx: &DatabaseTransaction, id: GroupId) -> DomainResult<Group> {
        let mut select = group::Entity::find_by_id(id.as_uuid());
        if self.db.kind() == DatabaseKind::Postgres {
            select = select.lock_exclusive();
        }
        let row = select.one(tx).await.dom()?.ok_or(DomainError::NotFound)?;
        convert::group(row)
    }
}

pub(crate) async fn membership_of(
    db: &impl ConnectionTrait,
    group: GroupId,
    user: UserId,
) -> DomainResult<Option<Membership>> {
    member::Entity::find()
        .filter(member::Column::GroupId.eq(group.as_uuid()))
        .filter(member::Column::UserId.eq(user.as_uuid()))
        .one(db)
        .await
        .dom()?
        .map(convert::membership)
        .transpose()
}

async fn membership_by_id(
    db: &impl ConnectionTrait,
    id: MembershipId,
) -> DomainResult<Option<Membership>> {
    member::Entity::find_by_id(id.as_uuid())
        .one(db)
        .await
        .dom()?
        .map(convert::membership)
        .transpose()
}

pub(crate) async fn insert_log(
    tx: &DatabaseTransaction,
    entry: &ModerationLogEntry,
) -> DomainResult<()> {
    moderation_log::Entity::insert(convert::log_row(entry).into_active_model())
        .exec_without_returning(tx)
        .await
        .dom()?;
    Ok(())
}

async fn apply(tx: &DatabaseTransaction, effect: &Effect) -> DomainResult<()> {
    match effect {
        Effect::Insert(m) => {
            member::Entity::insert(convert::membership_row(m).into_active_model())
                .exec_without_returning(tx)
                .await
                .dom()?;
        }
        Effect::Update(m) => {
            convert::membership_row(m)
                .into_active_model()
                .reset_all()
                .update(tx)
                .await
                .dom()?;
        }
        Effect::Delete(id) => {
            member::Entity::delete_by_id(id.as_uuid())
                .exec(tx)
                .await
                .dom()?;
        }
    }
    Ok(())
}

/// `group_id IN (the groups where `user` has a membership in one of `states`)`.
fn groups_of(user: UserId, states: &[MembershipState]) -> SelectStatement {
    Query::select()
        .column(member::Column::GroupId)
        .from(member::Entity)
        .and_where(member::Column::UserId.eq(user.as_uuid()))
        .and_where(member::Column::State.is_in(states.iter().map(|s| s.as_str())))
        .to_owned()
}

/// Groups the viewer may know exist.
fn visible_groups(viewer: Option<Actor>) -> Condition {
    let not_secret = group::Column::Visibility.ne(Visibility::Secret.as_str());
    match viewer {
        Some(actor) if actor.is_admin => Condition::all(),
        Some(actor) => Condition::any()
            .add(not_secret)
            .add(group::Column::Id.in_subquery(groups_of(
                actor.user_id,
                &[MembershipState::Active, MembershipState::Invited],
            ))),
        None => Condition::all().add(not_secret),
    }
}

fn like_pattern(query: &str) -> String {
    let mut pattern = String::with_capacity(query.len() + 2);
    pattern.push('%');
    for c in query.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn group_condition(viewer: Option<Actor>, filter: &GroupFilter) -> Condition {
    let mut condition = Condition::all().add(visible_groups(viewer));
    if filter.mine {
        condition = match viewer {
            Some(actor) => condition.add(
                group::Column::Id.in_subquery(groups_of(actor.user_id, &[MembershipState::Active])),
            ),
            None => condition.add(group::Column::Id.is_in(Vec::<Uuid>::new())),
        };
    }
    if let Some(query) = filter.query.as_deref().filter(|q| !q.trim().is_empty()) {
        let pattern = like_pattern(query.trim());
        let mut any = Condition::any();
        for column in [
            group::Column::Slug,
            group::Column::Name,
            group::Column::Description,
        ] {
            any = any.add(
                Expr::expr(Func::lower(Expr::col((group::Entity, column))))
                    .like(LikeExpr::new(pattern.clone()).escape('\\')),
            );
        }
        condition = condition.add(any);
    }
    condition
}

fn member_condition(group: GroupId, state: MembershipState, role: Option<Role>) -> Condition {
    let mut condition = Condition::all()
        .add(member::Column::GroupId.eq(group.as_uuid()))
        .add(member::Column::State.eq(state.as_str()));
    if let Some(role) = role {
        condition = condition.add(member::Column::Role.eq(role.as_str()));
    }
    condition
}

/// `user`'s active memberships in groups whose member list `viewer` may read.
fn user_groups_condition(user: UserId, viewer: Option<Actor>) -> Condition {
    let mine = Condition::all()
        .add(member::Column::UserId.eq(user.as_uuid()))
        .add(member::Column::State.eq(MembershipState::Active.as_str()));
    if viewer.is_some_and(|v| v.is_admin) {
        return mine;
    }
    let public = Query::select()
        .column(group::Column::Id)
        .from(group::Entity)
        .and_where(group::Column::Visibility.eq(Visibility::Public.as_str()))
        .to_owned();
    let mut readable = Condition::any().add(member::Column::GroupId.in_subquery(public));
    if let Some(viewer) = viewer {
        readable = readable.add(
            member::Column::GroupId
                .in_subquery(groups_of(viewer.user_id, &[MembershipState::Active])),
        );
    }
    mine.add(readable)
}

#[async_trait]
impl GroupStore for SqlGroupStore {
    async fn create_group(&self, group: &Group, owner: &Membership) -> DomainResult<()> {
        let write = self.db.begin_write().await.dom()?;
        group::Entity::insert(convert::group_row(group).into_active_model())
            .exec_without_returning(&write.tx)
            .await
            .dom()?;
        apply(&write.tx, &Effect::Insert(owner.clone())).await?;
        write.commit(&[]).await.dom()
    }

    async fn update_group(
        &self,
        actor: Actor,
        id: GroupId,
        changes: GroupChanges,
        now: DateTime<Utc>,
    ) -> DomainResult<Group> {
        let write = self.db.begin_write().await.dom()?;
        let current = self.lock_group(&write.tx, id).await?;
        let own = membership_of(&write.tx, id, actor.user_id).await?;
        let (updated, entry) =
            membership::update_group(actor, own.as_ref(), &current, changes, now)?;
        convert::group_row(&updated)
            .into_active_model()
            .reset_all()
            .update(&write.tx)
            .await
            .dom()?;
        insert_log(&write.tx, &entry).await?;
        write
            .commit(&[Event::GroupUpdated { group: id }])
            .await
            .dom()?;
        Ok(updated)
    }

    async fn execute(
        &self,
        actor: Actor,
        command: Command,
        now: DateTime<Utc>,
    ) -> DomainResult<Outcome> {
        let write = self.db.begin_write().await.dom()?;
        let tx = &write.tx;
        let group_id = match command.target() {
            Target::Own(group) | Target::UserIn(group, _) => group,
            Target::Membership(id) => {
                membership_by_id(tx, id)
                    .await?
                    .ok_or(DomainError::NotFound)?
                    .group_id
            }
        };
        let group = self.lock_group(tx, group_id).await?;
        let actor_membership = membership_of(tx, group_id, actor.user_id).await?;
        let target = match command.target() {
            Target::Own(_) => actor_membership.clone(),
            Target::Membership(id) => membership_by_id(tx, id).await?,
            Target::UserIn(_, user) => {
                let exists = user::Entity::find_by_id(user.as_uuid())
                    .one(tx)
                    .await
                    .dom()?;
                if exists.is_none() {
                    return Err(DomainError::NotFound);
                }
                membership_of(tx, group_id, user).await?
            }
        };
        let owner_count = count::<member::Entity, _>(
            member_condition(group_id, MembershipState::Active, Some(Role::Owner)),
            tx,
        )
        .await
        .dom()?;
        let context = Context {
            now,
            actor,
            group,
            actor_membership,
            target,
            owner_count,
        };
        let decision = membership::decide(&context, command)?;
        for effect in &decision.effects {
            apply(tx, effect).await?;
        }
        if let Some(entry) = &decision.log {
            insert_log(tx, entry).await?;
        }
        let events: Vec<Event> = decision
            .effects
            .iter()
            .filter_map(|effect| match effect {
                Effect::Insert(m) | Effect::Update(m) => Some((m.user_id, Some(m.id))),
                Effect::Delete(id) => context
                    .target
                    .as_ref()
                    .filter(|target| target.id == *id)
                    .map(|target| (target.user_id, None)),
            })
            .map(|(user, membership)| Event::MembershipChanged {
                group: group_id,
                user,
                membership,
            })
            .collect();
        write.commit(&events).await.dom()?;
        Ok(decision.outcome)
    }

    async fn groups_by_ids(&self, ids: &[GroupId]) -> DomainResult<Vec<Group>> {
        let rows = by_ids::<group::Entity, _>(
            group::Column::Id,
            ids.iter().map(GroupId::as_uuid),
            self.db.conn(),
        )
        .await
        .dom()?;
        convert::all(rows, convert::group)
    }

    async fn groups_with_memberships(
        &self,
        ids: &[GroupId],
        viewer: Option<UserId>,
    ) -> DomainResult<Vec<(Group, Option<Membership>)>> {
        let Some(viewer) = viewer else {
            let groups = self.groups_by_ids(ids).await?;
            return Ok(groups.into_iter().map(|group| (group, None)).collect());
        };
        let viewer = viewer.as_uuid();
        let own: RelationDef = group::Entity::belongs_to(member::Entity)
            .from(group::Column::Id)
            .to(member::Column::GroupId)
            .on_condition(move |_, membership| {
                Expr::col((membership, member::Column::UserId))
                    .eq(viewer)
                    .into_condition()
            })
            .into();
        let rows = group::Entity::find()
            .filter(group::Column::Id.is_in(ids.iter().map(GroupId::as_uuid)))
            .join(JoinType::LeftJoin, own)
            .select_also(member::Entity)
            .all(self.db.conn())
            .await
            .dom()?;
        rows.into_iter()
            .map(|(group, membership)| {
                Ok((
                    convert::group(group)?,
                    membership.map(convert::membership).transpose()?,
                ))
            })
            .collect()
    }

    async fn group_by_slug(&self, slug: &str) -> DomainResult<Option<Group>> {
        group::Entity::find()
            .filter(group::Column::Slug.eq(slug))
            .one(self.db.conn())
            .await
            .dom()?
            .map(convert::group)
            .transpose()
    }

    async fn groups(
        &self,
        viewer: Option<Actor>,
        filter: &GroupFilter,
        page: &PageRequest,
    ) -> DomainResult<Page<Group>> {
        let select = group::Entity::find().filter(group_condition(viewer, filter));
        let rows = keyset_page(select, group::Column::Id, page, self.db.conn())
            .await
            .dom()?;
        rows.try_map(convert::group)
    }

    async fn count_groups(&self, viewer: Option<Actor>, filter: &GroupFilter) -> DomainResult<u64> {
        count::<group::Entity, _>(group_condition(viewer, filter), self.db.conn())
            .await
            .dom()
    }

    async fn memberships_by_ids(&self, ids: &[MembershipId]) -> DomainResult<Vec<Membership>> {
        let rows = by_ids::<member::Entity, _>(
            member::Column::Id,
            ids.iter().map(MembershipId::as_uuid),
            self.db.conn(),
        )
        .await
        .dom()?;
        convert::all(rows, convert::membership)
    }

    async fn memberships_of(
        &self,
        user: UserId,
        groups: &[GroupId],
    ) -> DomainResult<Vec<Membership>> {
        let rows = member::Entity::find()
            .filter(member::Column::UserId.eq(user.as_uuid()))
            .filter(member::Column::GroupId.is_in(groups.iter().map(GroupId::as_uuid)))
            .all(self.db.conn())
            .await
            .dom()?;
        convert::all(rows, convert::membership)
    }

    async fn member_counts(&self, groups: &[GroupId]) -> DomainResult<Vec<(GroupId, u64)>> {
        let rows: Vec<(Uuid, i64)> = member::Entity::find()
            .select_only()
            .column(member::Column::GroupId)
            .column_as(member::Column::Id.count(), "count")
            .filter(member::Column::GroupId.is_in(groups.iter().map(GroupId::as_uuid)))
            .filter(member::Column::State.eq(MembershipState::Active.as_str()))
            .group_by(member::Column::GroupId)
            .into_tuple()
            .all(self.db.conn())
            .await
            .dom()?;
        Ok(rows
            .into_iter()
            .map(|(id, n)| (GroupId::from_uuid(id), u64::try_from(n).unwrap_or(0)))
            .collect())
    }

    async fn members(
        &self,
        group: GroupId,
        role: Option<Role>,
        page: &PageRequest,
    ) -> DomainResult<Page<Membership>> {
        let select =
            member::Entity::find().filter(member_condition(group, MembershipState::Active, role));
        memberships_page(select, page, &self.db).await
    }

    async fn count_members(&self, group: GroupId, role: Option<Role>) -> DomainResult<u64> {
        count::<member::Entity, _>(
            member_condition(group, MembershipState::Active, role),
            self.db.conn(),
        )
        .await
        .dom()
    }

    async fn pending(&self, group: GroupId, page: &PageRequest) -> DomainResult<Page<Membership>> {
        let select =
            member::Entity::find().filter(member_condition(group, MembershipState::Pending, None));
        memberships_page(select, page, &self.db).await
    }

    async fn count_pending(&self, group: GroupId) -> DomainResult<u64> {
        count::<member::Entity, _>(
            member_condition(group, MembershipState::Pending, None),
            self.db.conn(),
        )
        .await
        .dom()
    }

    async fn log(
        &self,
        group: GroupId,
        page: &PageRequest,
    ) -> DomainResult<Page<ModerationLogEntry>> {
        let select = moderation_log::Entity::find()
            .filter(moderation_log::Column::GroupId.eq(group.as_uuid()));
        let rows = keyset_page(select, moderation_log::Column::Id, page, self.db.conn())
            .await
            .dom()?;
        rows.try_map(convert::log_entry)
    }

    async fn count_log(&self, group: GroupId) -> DomainResult<u64> {
        count::<moderation_log::Entity, _>(
            moderation_log::Column::GroupId.eq(group.as_uuid()),
            self.db.conn(),
        )
        .await
        .dom()
    }

    async fn log_entries_by_ids(
        &self,
        ids: &[LogEntryId],
    ) -> DomainResult<Vec<ModerationLogEntry>> {
        let rows = by_ids::<moderation_log::Entity, _>(
            moderation_log::Column::Id,
            ids.iter().map(LogEntryId::as_uuid),
            self.db.conn(),
        )
        .await
        .dom()?;
        convert::all(rows, convert::log_entry)
    }

    async fn user_groups(
        &self,
        user: UserId,
        viewer: Option<Actor>,
        page: &PageRequest,
    ) -> DomainResult<Page<Membership>> {
        let select = member::Entity::find().filter(user_groups_condition(user, viewer));
        memberships_page(select, page, &self.db).await
    }

    async fn count_user_groups(&self, user: UserId, viewer: Option<Actor>) -> DomainResult<u64> {
        count::<member::Entity, _>(user_groups_condition(user, viewer), self.db.conn())
            .await
            .dom()
    }
}

async fn memberships_page(
    select: sea_orm::Select<member::Entity>,
    page: &PageRequest,
    db: &Database,
) -> DomainResult<Page<Membership>> {
    let rows = keyset_page(select, member::Column::Id, page, db.conn())
        .await
        .dom()?;
    rows.try_map(convert::membership)
}
