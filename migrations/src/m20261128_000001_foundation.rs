//! Accounts, sessions, groups, memberships, the moderation log and idempotency keys.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    boolean, pk_uuid, string, string_null, text, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid, uuid_null,
};

use crate::util::{foreign_key, index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    Handle,
    Email,
    EmailNormalized,
    DisplayName,
    Bio,
    Organization,
    PasswordHash,
    IsAdmin,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Sessions {
    Table,
    Id,
    UserId,
    TokenHash,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    UserAgent,
}

#[derive(DeriveIden, Clone, Copy)]
enum Groups {
    Table,
    Id,
    Slug,
    Name,
    Description,
    Visibility,
    JoinPolicy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Memberships {
    Table,
    Id,
    GroupId,
    UserId,
    Role,
    State,
    Application,
    CreatedAt,
    DecidedAt,
    DecidedBy,
    BannedUntil,
}

#[derive(DeriveIden, Clone, Copy)]
enum ModerationLog {
    Table,
    Id,
    GroupId,
    ActorId,
    Action,
    TargetUserId,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum IdempotencyKeys {
    Table,
    Scope,
    Key,
    ResourceId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(string(Users::Handle))
                    .col(string(Users::Email))
                    .col(string(Users::EmailNormalized))
                    .col(string(Users::DisplayName))
                    .col(text_null(Users::Bio))
                    .col(string_null(Users::Organization))
                    .col(string(Users::PasswordHash))
                    .col(boolean(Users::IsAdmin).default(false))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .to_owned(),
            )
            .await?;
        unique_index(manager, "users_handle_key", Users::Table, &[Users::Handle]).await?;
        unique_index(
            manager,
            "users_email_key",
            Users::Table,
            &[Users::EmailNormalized],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(pk_uuid(Sessions::Id))
                    .col(uuid(Sessions::UserId))
                    .col(string(Sessions::TokenHash))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(string_null(Sessions::UserAgent))
                    .foreign_key(&mut foreign_key(
                        "sessions_user_fkey",
                        (Sessions::Table, Sessions::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "sessions_token_hash_key",
            Sessions::Table,
            &[Sessions::TokenHash],
        )
        .await?;
        index(
            manager,
            "sessions_user_idx",
            Sessions::Table,
            &[Sessions::UserId, Sessions::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Groups::Table)
                    .col(pk_uuid(Groups::Id))
                    .col(string(Groups::Slug))
                    .col(string(Groups::Name))
                    .col(text(Groups::Description))
                    .col(string(Groups::Visibility))
                    .col(string(Groups::JoinPolicy))
                    .col(timestamp_with_time_zone(Groups::CreatedAt))
                    .to_owned(),
            )
            .await?;
        unique_index(manager, "groups_slug_key", Groups::Table, &[Groups::Slug]).await?;

        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(pk_uuid(Memberships::Id))
                    .col(uuid(Memberships::GroupId))
                    .col(uuid(Memberships::UserId))
                    .col(string(Memberships::Role))
                    .col(string(Memberships::State))
                    .col(text_null(Memberships::Application))
                    .col(timestamp_with_time_zone(Memberships::CreatedAt))
                    .col(timestamp_with_time_zone_null(Memberships::DecidedAt))
                    .col(uuid_null(Memberships::DecidedBy))
                    .col(timestamp_with_time_zone_null(Memberships::BannedUntil))
                    .foreign_key(&mut foreign_key(
                        "memberships_group_fkey",
                        (Memberships::Table, Memberships::GroupId),
                        (Groups::Table, Groups::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "memberships_user_fkey",
                        (Memberships::Table, Memberships::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "memberships_decided_by_fkey",
                        (Memberships::Table, Memberships::DecidedBy),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "memberships_group_user_key",
            Memberships::Table,
            &[Memberships::GroupId, Memberships::UserId],
        )
        .await?;
        index(
            manager,
            "memberships_group_state_idx",
            Memberships::Table,
            &[Memberships::GroupId, Memberships::State, Memberships::Id],
        )
        .await?;
        index(
            manager,
            "memberships_user_state_idx",
            Memberships::Table,
            &[Memberships::UserId, Memberships::State, Memberships::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ModerationLog::Table)
                    .col(pk_uuid(ModerationLog::Id))
                    .col(uuid(ModerationLog::GroupId))
                    .col(uuid(ModerationLog::ActorId))
                    .col(string(ModerationLog::Action))
                    .col(uuid_null(ModerationLog::TargetUserId))
                    .col(text_null(ModerationLog::Reason))
                    .col(timestamp_with_time_zone(ModerationLog::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        "moderation_log_group_fkey",
                        (ModerationLog::Table, ModerationLog::GroupId),
                        (Groups::Table, Groups::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "moderation_log_actor_fkey",
                        (ModerationLog::Table, ModerationLog::ActorId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "moderation_log_target_user_fkey",
                        (ModerationLog::Table, ModerationLog::TargetUserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "moderation_log_group_idx",
            ModerationLog::Table,
            &[ModerationLog::GroupId, ModerationLog::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(string(IdempotencyKeys::Scope))
                    .col(string(IdempotencyKeys::Key))
                    .col(uuid(IdempotencyKeys::ResourceId))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .primary_key(
                        Index::create()
                            .name("idempotency_keys_pkey")
                            .col(IdempotencyKeys::Scope)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
