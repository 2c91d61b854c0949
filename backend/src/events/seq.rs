//! Sequence numbers come from the user's counter row, taken inside the transaction that
//! stores the events: no process caches them, and purging events never lowers them.

use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait};
use uuid::Uuid;

use crate::db::entities::user_seq;

/// What reserving numbers for a user's events read from the user's counter row (`rows::reserve_seqs`).
pub(super) struct Reserved {
    /// The first of the reserved sequence numbers.
    pub first: i64,
    /// The generation of the user's webhooks the events are stored under.
    pub webhooks_gen: i64,
}

/// Marks the user's webhooks changed, inside the transaction of the change: events stored
/// after it commits carry the new generation, and every node reloads its cached endpoints.
pub async fn bump_webhooks_gen(txn: &impl ConnectionTrait, user_id: Uuid) -> Result<(), DbErr> {
    let stmt = Query::insert()
        .into_table(user_seq::Entity)
        .columns([user_seq::Column::UserId, user_seq::Column::LastSeq, user_seq::Column::WebhooksGen])
        .values_panic([user_id.into(), 0i64.into(), 1i64.into()])
        .on_conflict(
            OnConflict::column(user_seq::Column::UserId)
                .value(
                    user_seq::Column::WebhooksGen,
                    Expr::col((user_seq::Entity, user_seq::Column::WebhooksGen)).add(1),
                )
                .to_owned(),
        )
        .to_owned();
    txn.execute(txn.get_database_backend().build(&stmt)).await?;
    Ok(())
}

/// The user's last sequence number (0 before their first event).
pub(super) async fn last(db: &impl ConnectionTrait, user_id: Uuid) -> Result<i64, DbErr> {
    Ok(user_seq::Entity::find_by_id(user_id).one(db).await?.map_or(0, |r| r.last_seq))
}
