//! Queuing an outgoing message: which session sends it, whether it may, the daily limit,
//! and the stored row. The sender delivers it once the session task is nudged.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::store::MessageStore;
use super::types::{MediaIn, SendAccepted};
use crate::db::entities::{message, session};
use crate::domain::Phone;
use crate::error::Problem;

/// A validated message to send.
pub struct NewMessage {
    /// `None`: the user's primary session sends it.
    pub session_id: Option<Uuid>,
    pub to: Phone,
    pub text: Option<String>,
    pub media: Option<MediaIn>,
}

fn no_session() -> Problem {
    Problem::conflict("no_connected_session", "No connected (or reconnecting) session can send this message.")
}

/// The user's session that sends: the one asked for (404 when not theirs) or the primary.
async fn sending_session(
    store: &MessageStore,
    user_id: Uuid,
    session_id: Option<Uuid>,
) -> Result<session::Model, Problem> {
    let row = match session_id {
        Some(id) => session::Entity::find_by_id(id)
            .filter(session::Column::UserId.eq(user_id))
            .one(&store.db)
            .await?
            .ok_or_else(|| Problem::not_found("No such session."))?,
        None => session::Entity::find()
            .filter(session::Column::UserId.eq(user_id))
            .filter(session::Column::IsPrimary.eq(true))
            .one(&store.db)
            .await?
            .ok_or_else(no_session)?,
    };
    let can_send =
        matches!(row.status.as_str(), "connected" | "reconnecting") || (row.status == "starting" && row.auth_paired);
    if can_send {
        Ok(row)
    } else {
        Err(no_session())
    }
}

impl MessageStore {
    /// Stores `msg` as `queued` on its session, within the session's daily limit.
    pub async fn queue(&self, user_id: Uuid, msg: NewMessage, daily_limit: u64) -> Result<SendAccepted, Problem> {
        let row = sending_session(self, user_id, msg.session_id).await?;
        // Counting and inserting under the session's lock keeps its concurrent sends
        // from overshooting the limit; other sessions do not wait for it.
        let _counted = self.send_locks.lock(row.id).await;
        if super::health::sent_today(&self.db, row.id).await? >= daily_limit {
            return Err(Problem::too_many(
                "daily_limit_reached",
                format!("This session reached its daily limit of {daily_limit} messages."),
                secs_to_utc_midnight(Utc::now()),
            ));
        }
        let now = Utc::now();
        let id = Uuid::new_v4();
        message::ActiveModel {
            id: Set(id),
            user_id: Set(user_id),
            session_id: Set(row.id),
            direction: Set("out".into()),
            peer: Set(msg.to.as_str().to_owned()),
            text: Set(msg.text),
            media: Set(msg.media.map(|m| serde_json::to_string(&m).unwrap_or_default())),
            status: Set("queued".into()),
            error: Set(None),
            external_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&self.db)
        .await?;
        Ok(SendAccepted { id, session_id: row.id, status: "queued".into() })
    }
}

/// The daily limit counts per UTC day: it lifts at the next midnight.
fn secs_to_utc_midnight(now: chrono::DateTime<Utc>) -> u64 {
    let midnight = now.date_naive().succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc());
    midnight.map_or(86_400, |m| (m - now).num_seconds().max(1) as u64)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    #[test]
    fn the_daily_limit_lifts_at_utc_midnight() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 3, 1, 23, 59, 30).unwrap();
        assert_eq!(super::secs_to_utc_midnight(now), 30);
        let now = chrono::Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        assert_eq!(super::secs_to_utc_midnight(now), 86_400);
    }
}
