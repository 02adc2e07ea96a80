use convene_domain::{Page, PageRequest};
use sea_orm::sea_query::IntoCondition;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, SelectTwo,
};

/// Reads one keyset page of `select`, ordered by `key` (a UUIDv7 column: creation order).
/// The cursor bounds are exclusive; one extra row tells whether more exist.
pub(crate) async fn keyset_page<E, C>(
    select: Select<E>,
    key: E::Column,
    request: &PageRequest,
    db: &C,
) -> Result<Page<E::Model>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let rows = keyset(select, key, request).all(db).await?;
    Ok(Page::from_scan(rows, request))
}

/// Like [`keyset_page`], each row with the row of another entity that `select` joins.
pub(crate) async fn keyset_page_two<E, F, C>(
    select: SelectTwo<E, F>,
    key: E::Column,
    request: &PageRequest,
    db: &C,
) -> Result<Page<(E::Model, Option<F::Model>)>, DbErr>
where
    E: EntityTrait,
    F: EntityTrait,
    C: ConnectionTrait,
{
    let rows = keyset(select, key, request).all(db).await?;
    Ok(Page::from_scan(rows, request))
}

/// Bounds, orders and limits `select` for one keyset page (one row more than asked).
fn keyset<S, K>(mut select: S, key: K, request: &PageRequest) -> S
where
    S: QueryFilter + QueryOrder + QuerySelect,
    K: ColumnTrait,
{
    if let Some(after) = request.after {
        select = select.filter(key.gt(after));
    }
    if let Some(before) = request.before {
        select = select.filter(key.lt(before));
    }
    select = if request.backward {
        select.order_by_desc(key)
    } else {
        select.order_by_asc(key)
    };
    select.limit(request.limit.saturating_add(1))
}

/// Counts the rows `condition` selects.
pub(crate) async fn count<E, C>(condition: impl IntoCondition, db: &C) -> Result<u64, DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    E::find().filter(condition).count(db).await
}

/// The rows whose `key` is one of `ids` (for the batched loaders).
pub(crate) async fn by_ids<E, C>(
    key: E::Column,
    ids: impl IntoIterator<Item = uuid::Uuid>,
    db: &C,
) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    E::find().filter(key.is_in(ids)).all(db).await
}
