use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use convene_domain::Presentation;

use super::{GroupObject, ThreadObject, UserObject};
use crate::error::GqlResult;

/// Slides, a paper or a recording shared after a webinar.
pub(crate) struct PresentationObject(pub Presentation);

/// A stored file, served at `downloadUrl` to those who may read the group.
#[derive(SimpleObject)]
#[graphql(name = "PresentationFile")]
pub(crate) struct FileObject {
    filename: String,
    /// Decided from the file's bytes, not its name.
    content_type: String,
    byte_size: i64,
    /// Lowercase hex SHA-256 of the bytes.
    sha256: String,
    download_url: String,
}

#[Object(name = "Presentation")]
impl PresentationObject {
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn group(&self, ctx: &Context<'_>) -> GqlResult<GroupObject> {
        super::require_group(ctx, self.0.group_id).await
    }

    async fn thread(&self, ctx: &Context<'_>) -> GqlResult<Option<ThreadObject>> {
        match self.0.thread_id {
            Some(id) => Ok(super::load_thread(ctx, id).await?.map(ThreadObject)),
            None => Ok(None),
        }
    }

    async fn uploader(&self, ctx: &Context<'_>) -> GqlResult<UserObject> {
        super::require_user(ctx, self.0.uploader_id).await
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn description(&self) -> &str {
        &self.0.description
    }

    async fn speakers(&self) -> &[String] {
        &self.0.speakers
    }

    async fn event_date(&self) -> Option<DateTime<Utc>> {
        self.0.event_date
    }

    async fn recording_url(&self) -> Option<&str> {
        self.0.recording_url.as_deref()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Null when only a recording link was shared.
    async fn file(&self) -> Option<FileObject> {
        self.0.file.as_ref().map(|f| FileObject {
            filename: f.filename.clone(),
            content_type: f.content_type.clone(),
            byte_size: i64::try_from(f.byte_size).unwrap_or(i64::MAX),
            sha256: f.sha256.clone(),
            download_url: format!("/files/{}", self.0.id),
        })
    }
}
