use async_trait::async_trait;
use chrono::{DateTime, Utc};
use convene_domain::ids::{SessionId, UserId};
use convene_domain::ports::{AccountStore, IdempotencyKey};
use convene_domain::{DomainError, DomainResult, Event, Page, PageRequest, Session, User};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, JoinType, QueryFilter,
    QuerySelect, RelationDef,
};

use crate::convert;
use crate::db::Database;
use crate::entity::{idempotency_key, session, user};
use crate::error::DbResultExt;
use crate::paginate::{by_ids, count, keyset_page};

pub(crate) struct SqlAccountStore {
    db: Database,
}

impl SqlAccountStore {
    pub(crate) fn new(db: Database) -> Self {
        Self { db }
    }
}

fn hex_hash(token_hash: &[u8; 32]) -> String {
    hex::encode(token_hash)
}

fn live_sessions(user: UserId, now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(session::Column::UserId.eq(user.as_uuid()))
        .add(session::Column::ExpiresAt.gt(now))
}

#[async_trait]
impl AccountStore for SqlAccountStore {
    async fn create_user(
        &self,
        user: &User,
        password_hash: &str,
        idempotency: Option<&IdempotencyKey>,
    ) -> DomainResult<()> {
        let row = user::Model {
            id: user.id.as_uuid(),
            handle: user.handle.as_str().to_owned(),
            email: user.email.as_str().to_owned(),
            email_normalized: user.email.normalized(),
            display_name: user.display_name.clone(),
            bio: user.bio.clone(),
            organization: user.organization.clone(),
            password_hash: password_hash.to_owned(),
            is_admin: user.is_admin,
            created_at: user.created_at,
        };
        let write = self.db.begin_write().await.dom()?;
        user::Entity::insert(row.into_active_model())
            .exec_without_returning(&write.tx)
            .await
            .dom()?;
        if let Some(key) = idempotency {
            let key_row = idempotency_key::Model {
                scope: key.scope.clone(),
                key: key.key.clone(),
                resource_id: user.id.as_uuid(),
                created_at: user.created_at,
            };
            idempotency_key::Entity::insert(key_row.into_active_model())
                .exec_without_returning(&write.tx)
                .await
                .dom()?;
        }
        write.commit(&[]).await.dom()
    }

    async fn user_for_key(
        &self,
        key: &IdempotencyKey,
        since: DateTime<Utc>,
    ) -> DomainResult<Option<UserId>> {
        let row = idempotency_key::Entity::find_by_id((key.scope.clone(), key.key.clone()))
            .filter(idempotency_key::Column::CreatedAt.gt(since))
            .one(self.db.conn())
            .await
            .dom()?;
        Ok(row.map(|r| UserId::from_uuid(r.resource_id)))
    }

    async fn credentials(&self, login: &str) -> DomainResult<Option<(User, String)>> {
        let login = login.trim().to_lowercase();
        let row = user::Entity::find()
            .filter(
                Condition::any()
                    .add(user::Column::Handle.eq(login.as_str()))
                    .add(user::Column::EmailNormalized.eq(login.as_str())),
            )
            .one(self.db.conn())
            .await
            .dom()?;
        row.map(|row| {
            let hash = row.password_hash.clone();
            convert::user(row).map(|user| (user, hash))
        })
        .transpose()
    }

    async fn password_hash(&self, user: UserId) -> DomainResult<Option<String>> {
        let row = user::Entity::find_by_id(user.as_uuid())
            .one(self.db.conn())
            .await
            .dom()?;
        Ok(row.map(|r| r.password_hash))
    }

    async fn users_by_ids(&self, ids: &[UserId]) -> DomainResult<Vec<User>> {
        let rows = by_ids::<user::Entity, _>(
            user::Column::Id,
            ids.iter().map(UserId::as_uuid),
            self.db.conn(),
        )
        .await
        .dom()?;
        convert::all(rows, convert::user)
    }

    async fn user_by_handle(&self, handle: &str) -> DomainResult<Option<User>> {
        let row = user::Entity::find()
            .filter(user::Column::Handle.eq(handle.to_lowercase()))
            .one(self.db.conn())
            .await
            .dom()?;
        row.map(convert::user).transpose()
    }

    async fn set_admin(&self, handle: &str, is_admin: bool) -> DomainResult<User> {
        let write = self.db.begin_write().await.dom()?;
        user::Entity::update_many()
            .col_expr(user::Column::IsAdmin, Expr::value(is_admin))
            .filter(user::Column::Handle.eq(handle.to_lowercase()))
            .exec(&write.tx)
            .await
            .dom()?;
        let row = user::Entity::find()
            .filter(user::Column::Handle.eq(handle.to_lowercase()))
            .one(&write.tx)
            .await
            .dom()?
            .ok_or(DomainError::NotFound)?;
        let changed = Event::AccountChanged {
            user: UserId::from_uuid(row.id),
        };
        write.commit(&[changed]).await.dom()?;
        convert::user(row)
    }

    async fn create_session(&self, session: &Session, token_hash: &[u8; 32]) -> DomainResult<()> {
        let row = session::Model {
            id: session.id.as_uuid(),
            user_id: session.user_id.as_uuid(),
            token_hash: hex_hash(token_hash),
            created_at: session.created_at,
            last_seen_at: session.last_seen_at,
            expires_at: session.expires_at,
            user_agent: session.user_agent.clone(),
        };
        let write = self.db.begin_write().await.dom()?;
        session::Entity::insert(row.into_active_model())
            .exec_without_returning(&write.tx)
            .await
            .dom()?;
        write.commit(&[]).await.dom()
    }

    async fn session_by_token_hash(
        &self,
        token_hash: &[u8; 32],
        now: DateTime<Utc>,
    ) -> DomainResult<Option<(Session, User)>> {
        // One query: the session and its owner.
        let owner: RelationDef = session::Entity::belongs_to(user::Entity)
            .from(session::Column::UserId)
            .to(user::Column::Id)
            .into();
        let found = session::Entity::find()
            .filter(session::Column::TokenHash.eq(hex_hash(token_hash)))
            .filter(session::Column::ExpiresAt.gt(now))
            .join(JoinType::InnerJoin, owner)
            .select_also(user::Entity)
            .one(self.db.conn())
            .await
            .dom()?;
        match found {
            Some((found, Some(owner))) => {
                Ok(Some((convert::session(found), convert::user(owner)?)))
            }
            _ => Ok(None),
        }
    }

    async fn touch_session(&self, id: SessionId, now: DateTime<Utc>) -> DomainResult<()> {
        let write = self.db.begin_write().await.dom()?;
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(now))
            .filter(session::Column::Id.eq(id.as_uuid()))
            .exec(&write.tx)
            .await
            .dom()?;
        write.commit(&[]).await.dom()
    }

    async fn delete_session(&self, user: UserId, id: SessionId) -> DomainResult<()> {
        let write = self.db.begin_write().await.dom()?;
        let deleted = session::Entity::delete_many()
            .filter(session::Column::Id.eq(id.as_uuid()))
            .filter(session::Column::UserId.eq(user.as_uuid()))
            .exec(&write.tx)
            .await
            .dom()?;
        write
            .commit(&[Event::AccountChanged { user }])
            .await
            .dom()?;
        if deleted.rows_affected == 0 {
            Err(DomainError::NotFound)
        } else {
            Ok(())
        }
    }

    async fn change_password(
        &self,
        user: UserId,
        password_hash: &str,
        keep: SessionId,
    ) -> DomainResult<()> {
        let write = self.db.begin_write().await.dom()?;
        let found = user::Entity::find_by_id(user.as_uuid())
            .one(&write.tx)
            .await
            .dom()?
            .ok_or(DomainError::NotFound)?;
        let mut row = found.into_active_model();
        row.password_hash = sea_orm::Set(password_hash.to_owned());
        row.update(&write.tx).await.dom()?;
        session::Entity::delete_many()
            .filter(session::Column::UserId.eq(user.as_uuid()))
            .filter(session::Column::Id.ne(keep.as_uuid()))
            .exec(&write.tx)
            .await
            .dom()?;
        write.commit(&[Event::AccountChanged { user }]).await.dom()
    }

    async fn sessions(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        page: &PageRequest,
    ) -> DomainResult<Page<Session>> {
        let select = session::Entity::find().filter(live_sessions(user, now));
        let rows = keyset_page(select, session::Column::Id, page, self.db.conn())
            .await
            .dom()?;
        Ok(rows.map(convert::session))
    }

    async fn count_sessions(&self, user: UserId, now: DateTime<Utc>) -> DomainResult<u64> {
        count::<session::Entity, _>(live_sessions(user, now), self.db.conn())
            .await
            .dom()
    }

    async fn session_of(
        &self,
        user: UserId,
        id: SessionId,
        now: DateTime<Utc>,
    ) -> DomainResult<Option<Session>> {
        let row = session::Entity::find_by_id(id.as_uuid())
            .filter(live_sessions(user, now))
            .one(self.db.conn())
            .await
            .dom()?;
        Ok(row.map(convert::session))
    }
}
