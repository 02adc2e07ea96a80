//! Threads, posts, revisions, reactions, read marks, thread subscriptions and presentations;
//! moderation log entries gain their thread and post targets.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, boolean, pk_uuid, string, string_null, text, text_null,
    timestamp_with_time_zone, timestamp_with_time_zone_null, uuid, uuid_null,
};

use crate::util::{foreign_key, index, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Groups {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum ModerationLog {
    Table,
    TargetThreadId,
    TargetPostId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Threads {
    Table,
    Id,
    GroupId,
    AuthorId,
    Title,
    CreatedAt,
    LastActivityUs,
    ReplyCount,
    IsPinned,
    IsLocked,
    AnswerId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Posts {
    Table,
    Id,
    ThreadId,
    GroupId,
    AuthorId,
    Body,
    BodyHtml,
    ReplyTo,
    CreatedAt,
    EditedAt,
    EditedBy,
    DeletedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PostRevisions {
    Table,
    Id,
    PostId,
    GroupId,
    Body,
    EditorId,
    CreatedAt,
    RedactedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Reactions {
    Table,
    PostId,
    UserId,
    Content,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ThreadReads {
    Table,
    UserId,
    ThreadId,
    LastReadPostId,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ThreadSubscriptions {
    Table,
    UserId,
    ThreadId,
    Level,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Presentations {
    Table,
    Id,
    GroupId,
    ThreadId,
    UploaderId,
    Title,
    Description,
    Speakers,
    EventDate,
    RecordingUrl,
    FileKey,
    FileName,
    ContentType,
    ByteSize,
    Sha256,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [ModerationLog::TargetThreadId, ModerationLog::TargetPostId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ModerationLog::Table)
                        .add_column(uuid_null(column))
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Threads::Table)
                    .col(pk_uuid(Threads::Id))
                    .col(uuid(Threads::GroupId))
                    .col(uuid(Threads::AuthorId))
                    .col(string(Threads::Title))
                    .col(timestamp_with_time_zone(Threads::CreatedAt))
                    .col(big_integer(Threads::LastActivityUs))
                    .col(big_integer(Threads::ReplyCount).default(0))
                    .col(boolean(Threads::IsPinned).default(false))
                    .col(boolean(Threads::IsLocked).default(false))
                    .col(uuid_null(Threads::AnswerId))
                    .foreign_key(&mut foreign_key(
                        "threads_group_fkey",
                        (Threads::Table, Threads::GroupId),
                        (Groups::Table, Groups::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "threads_author_fkey",
                        (Threads::Table, Threads::AuthorId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "threads_group_activity_idx",
            Threads::Table,
            &[
                Threads::GroupId,
                Threads::IsPinned,
                Threads::LastActivityUs,
                Threads::Id,
            ],
        )
        .await?;
        index(
            manager,
            "threads_group_created_idx",
            Threads::Table,
            &[Threads::GroupId, Threads::IsPinned, Threads::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Posts::Table)
                    .col(pk_uuid(Posts::Id))
                    .col(uuid(Posts::ThreadId))
                    .col(uuid(Posts::GroupId))
                    .col(uuid(Posts::AuthorId))
                    .col(text_null(Posts::Body))
                    .col(text_null(Posts::BodyHtml))
                    .col(uuid_null(Posts::ReplyTo))
                    .col(timestamp_with_time_zone(Posts::CreatedAt))
                    .col(timestamp_with_time_zone_null(Posts::EditedAt))
                    .col(uuid(Posts::EditedBy))
                    .col(timestamp_with_time_zone_null(Posts::DeletedAt))
                    .foreign_key(&mut foreign_key(
                        "posts_thread_fkey",
                        (Posts::Table, Posts::ThreadId),
                        (Threads::Table, Threads::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "posts_group_fkey",
                        (Posts::Table, Posts::GroupId),
                        (Groups::Table, Groups::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "posts_author_fkey",
                        (Posts::Table, Posts::AuthorId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "posts_thread_idx",
            Posts::Table,
            &[Posts::ThreadId, Posts::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PostRevisions::Table)
                    .col(pk_uuid(PostRevisions::Id))
                    .col(uuid(PostRevisions::PostId))
                    .col(uuid(PostRevisions::GroupId))
                    .col(text(PostRevisions::Body))
                    .col(uuid(PostRevisions::EditorId))
                    .col(timestamp_with_time_zone(PostRevisions::CreatedAt))
                    .col(timestamp_with_time_zone_null(PostRevisions::RedactedAt))
                    .foreign_key(&mut foreign_key(
                        "post_revisions_post_fkey",
                        (PostRevisions::Table, PostRevisions::PostId),
                        (Posts::Table, Posts::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "post_revisions_post_idx",
            PostRevisions::Table,
            &[PostRevisions::PostId, PostRevisions::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Reactions::Table)
                    .col(uuid(Reactions::PostId))
                    .col(uuid(Reactions::UserId))
                    .col(string(Reactions::Content))
                    .col(timestamp_with_time_zone(Reactions::CreatedAt))
                    .primary_key(
                        Index::create()
                            .name("reactions_pkey")
                            .col(Reactions::PostId)
                            .col(Reactions::UserId)
                            .col(Reactions::Content),
                    )
                    .foreign_key(&mut foreign_key(
                        "reactions_post_fkey",
                        (Reactions::Table, Reactions::PostId),
                        (Posts::Table, Posts::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "reactions_user_fkey",
                        (Reactions::Table, Reactions::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ThreadReads::Table)
                    .col(uuid(ThreadReads::UserId))
                    .col(uuid(ThreadReads::ThreadId))
                    .col(uuid(ThreadReads::LastReadPostId))
                    .col(timestamp_with_time_zone(ThreadReads::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .name("thread_reads_pkey")
                            .col(ThreadReads::UserId)
                            .col(ThreadReads::ThreadId),
                    )
                    .foreign_key(&mut foreign_key(
                        "thread_reads_user_fkey",
                        (ThreadReads::Table, ThreadReads::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "thread_reads_thread_fkey",
                        (ThreadReads::Table, ThreadReads::ThreadId),
                        (Threads::Table, Threads::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ThreadSubscriptions::Table)
                    .col(uuid(ThreadSubscriptions::UserId))
                    .col(uuid(ThreadSubscriptions::ThreadId))
                    .col(string(ThreadSubscriptions::Level))
                    .col(timestamp_with_time_zone(ThreadSubscriptions::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .name("thread_subscriptions_pkey")
                            .col(ThreadSubscriptions::UserId)
                            .col(ThreadSubscriptions::ThreadId),
                    )
                    .foreign_key(&mut foreign_key(
                        "thread_subscriptions_user_fkey",
                        (ThreadSubscriptions::Table, ThreadSubscriptions::UserId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "thread_subscriptions_thread_fkey",
                        (ThreadSubscriptions::Table, ThreadSubscriptions::ThreadId),
                        (Threads::Table, Threads::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Presentations::Table)
                    .col(pk_uuid(Presentations::Id))
                    .col(uuid(Presentations::GroupId))
                    .col(uuid_null(Presentations::ThreadId))
                    .col(uuid(Presentations::UploaderId))
                    .col(string(Presentations::Title))
                    .col(text(Presentations::Description))
                    .col(text(Presentations::Speakers))
                    .col(timestamp_with_time_zone_null(Presentations::EventDate))
                    .col(text_null(Presentations::RecordingUrl))
                    .col(string_null(Presentations::FileKey))
                    .col(string_null(Presentations::FileName))
                    .col(string_null(Presentations::ContentType))
                    .col(big_integer_null(Presentations::ByteSize))
                    .col(string_null(Presentations::Sha256))
                    .col(timestamp_with_time_zone(Presentations::CreatedAt))
                    .foreign_key(&mut foreign_key(
                        "presentations_group_fkey",
                        (Presentations::Table, Presentations::GroupId),
                        (Groups::Table, Groups::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut foreign_key(
                        "presentations_thread_fkey",
                        (Presentations::Table, Presentations::ThreadId),
                        (Threads::Table, Threads::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut foreign_key(
                        "presentations_uploader_fkey",
                        (Presentations::Table, Presentations::UploaderId),
                        (Users::Table, Users::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "presentations_group_idx",
            Presentations::Table,
            &[Presentations::GroupId, Presentations::Id],
        )
        .await?;
        index(
            manager,
            "presentations_thread_idx",
            Presentations::Table,
            &[Presentations::ThreadId, Presentations::Id],
        )
        .await?;
        unique_index(
            manager,
            "presentations_file_key_key",
            Presentations::Table,
            &[Presentations::FileKey],
        )
        .await
    }
}
