use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "threads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub group_id: Uuid,
    pub author_id: Uuid,
    pub title: String,
    pub created_at: DateTimeUtc,
    /// Microseconds since the epoch: an integer, so that keyset comparisons are exact on
    /// every backend.
    pub last_activity_us: i64,
    pub reply_count: i64,
    pub is_pinned: bool,
    pub is_locked: bool,
    pub answer_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
