//! Cluster mode: events reach a node from NATS in any order, twice, or not at all; a
//! channel broadcasts them exactly once each, in seq order. The log decides: the seq of
//! a frame past the next expected one proves the events in between are committed (each
//! user's numbers are taken in commit order), so they are read from the database.

use std::sync::Arc;

use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::channel::UserChannel;
use super::Event;
use crate::db::entities::event;

const FILL_PAGE: u64 = 500;

/// Broadcasts `ev` after everything before it, once.
pub(super) async fn deliver(db: &DatabaseConnection, channel: &UserChannel, ev: Arc<Event>) {
    if channel.receivers() == 0 {
        return;
    }
    let mut last = channel.delivered.lock().await;
    // Not set up (yet): setup reads the log after subscribing, so nothing is missed.
    let Some(mut done) = *last else { return };
    if ev.seq <= done {
        return;
    }
    if ev.seq > done + 1 {
        match fill(db, channel, ev.user_id, done, ev.seq - 1).await {
            Ok(filled) => done = filled,
            Err(e) => {
                // Left for the next frame or the sweep; broadcasting now would skip events.
                tracing::warn!(error = %e, user_id = %ev.user_id, "cannot fill an event gap from the log");
                *last = Some(done);
                return;
            }
        }
    }
    if ev.seq == done + 1 {
        done = ev.seq;
        channel.send(ev);
    }
    *last = Some(done);
}

/// Brings the channel up to the log's newest event (for a node that may have missed frames).
pub(super) async fn catch_up(db: &DatabaseConnection, channel: &UserChannel, user_id: Uuid) -> Result<(), DbErr> {
    if channel.receivers() == 0 {
        return Ok(());
    }
    let mut last = channel.delivered.lock().await;
    let Some(done) = *last else { return Ok(()) };
    *last = Some(fill(db, channel, user_id, done, i64::MAX).await?);
    Ok(())
}

/// Broadcasts the stored events `after+1..=until`; returns the last one broadcast.
async fn fill(
    db: &DatabaseConnection,
    channel: &UserChannel,
    user_id: Uuid,
    after: i64,
    until: i64,
) -> Result<i64, DbErr> {
    let mut done = after;
    while done < until {
        let rows = event::Entity::find()
            .filter(event::Column::UserId.eq(user_id))
            .filter(event::Column::Seq.gt(done))
            .filter(event::Column::Seq.lte(until))
            .order_by_asc(event::Column::Seq)
            .limit(FILL_PAGE)
            .all(db)
            .await?;
        let Some(newest) = rows.last().map(|r| r.seq) else { break };
        for row in rows {
            crate::metrics::FANOUT_GAP_FILLS.inc();
            channel.send(Arc::new(Event::from_row(row)));
        }
        done = newest;
    }
    Ok(done)
}
