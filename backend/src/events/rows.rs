//! The statements a batch runs once for all its publishes: the incoming messages, the
//! per-user counters and the events, each kind in one statement (per 500 rows).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryTrait, Set};
use uuid::Uuid;

use super::hub::RowChange;
use super::seq::Reserved;
use super::Event;
use crate::db::entities::{event, message, user_seq};

/// A row that cannot fail on its own, stored first in the batch without a savepoint
/// (see `RowChange`); when it is there already, its publish has no event.
pub enum Upsert {
    /// An incoming message, skipped when the session has one with the same network id:
    /// the messages of a batch go in one statement.
    Message(Box<message::Model>),
    /// Any other such row, stored on its own.
    Row(RowChange),
}

/// Rows per statement: far below every backend's parameter limit (at most 12 columns each).
const ROWS_PER_INSERT: usize = 500;

/// Inserts `rows`, skipping any whose (session, direction, network id) is stored already
/// (or comes earlier in `rows`); returns the ids of those it stored.
pub(super) async fn insert_messages(
    txn: &impl ConnectionTrait,
    rows: &[&message::Model],
) -> Result<HashSet<Uuid>, DbErr> {
    let mut stored = HashSet::with_capacity(rows.len());
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut stmt = message::Entity::insert_many(chunk.iter().map(|m| message::ActiveModel::from((*m).clone())))
            .on_conflict(
                OnConflict::columns([
                    message::Column::SessionId,
                    message::Column::Direction,
                    message::Column::ExternalId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .into_query();
        stmt.returning_col(message::Column::Id);
        for row in txn.query_all(txn.get_database_backend().build(&stmt)).await? {
            stored.insert(row.try_get::<Uuid>("", "id")?);
        }
    }
    Ok(stored)
}

/// Reserves `counts[user]` sequence numbers for every user at once. The rows stay locked
/// until the transaction ends (taken in user order, so writers cannot deadlock).
pub(super) async fn reserve_seqs(
    txn: &impl ConnectionTrait,
    counts: &HashMap<Uuid, i64>,
) -> Result<HashMap<Uuid, Reserved>, DbErr> {
    let mut users: Vec<(&Uuid, &i64)> = counts.iter().collect();
    users.sort_unstable();
    let mut reserved = HashMap::with_capacity(users.len());
    for chunk in users.chunks(ROWS_PER_INSERT) {
        let mut insert = Query::insert();
        insert.into_table(user_seq::Entity).columns([user_seq::Column::UserId, user_seq::Column::LastSeq]);
        for (user, n) in chunk {
            insert.values_panic([(**user).into(), (**n).into()]);
        }
        let excluded = Expr::col((Alias::new("excluded"), user_seq::Column::LastSeq));
        insert
            .on_conflict(
                OnConflict::column(user_seq::Column::UserId)
                    .value(
                        user_seq::Column::LastSeq,
                        Expr::col((user_seq::Entity, user_seq::Column::LastSeq)).add(excluded),
                    )
                    .to_owned(),
            )
            .returning(Query::returning().columns([
                user_seq::Column::UserId,
                user_seq::Column::LastSeq,
                user_seq::Column::WebhooksGen,
            ]));
        for row in txn.query_all(txn.get_database_backend().build(&insert)).await? {
            let user: Uuid = row.try_get("", "user_id")?;
            let last: i64 = row.try_get("", "last_seq")?;
            let n = counts.get(&user).copied().ok_or_else(|| DbErr::Custom("a counter of another user".into()))?;
            reserved.insert(user, Reserved { first: last - n + 1, webhooks_gen: row.try_get("", "webhooks_gen")? });
        }
    }
    if reserved.len() != counts.len() {
        return Err(DbErr::Custom("the sequence upsert missed a user".into()));
    }
    Ok(reserved)
}

/// Inserts the numbered events of a batch.
pub(super) async fn insert_events(txn: &impl ConnectionTrait, events: &[Arc<Event>]) -> Result<(), DbErr> {
    for chunk in events.chunks(ROWS_PER_INSERT) {
        event::Entity::insert_many(chunk.iter().map(|ev| event::ActiveModel {
            user_id: Set(ev.user_id),
            seq: Set(ev.seq),
            event: Set(ev.event.clone()),
            session_id: Set(ev.session_id),
            data: Set(ev.data.to_string()),
            created_at: Set(ev.at),
            ..Default::default()
        }))
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}
