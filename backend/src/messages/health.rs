//! Per-session daily counters and the health level derived from them.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use super::types::{HealthLevel, HealthOut};
use crate::db::entities::{message, session};
use crate::error::Problem;

/// Midnight UTC of today: counters start again there.
pub fn start_of_day(now: DateTime<Utc>) -> DateTime<Utc> {
    now.date_naive().and_hms_opt(0, 0, 0).map(|d| d.and_utc()).unwrap_or(now)
}

/// Outgoing messages of today that count against the limit (queued or sent).
pub async fn sent_today(db: &DatabaseConnection, session_id: Uuid) -> Result<u64, sea_orm::DbErr> {
    message::Entity::find()
        .filter(message::Column::SessionId.eq(session_id))
        .filter(message::Column::Direction.eq("out"))
        .filter(message::Column::Status.ne("failed"))
        .filter(message::Column::CreatedAt.gte(start_of_day(Utc::now())))
        .count(db)
        .await
}

pub async fn received_today(db: &DatabaseConnection, session_id: Uuid) -> Result<u64, sea_orm::DbErr> {
    message::Entity::find()
        .filter(message::Column::SessionId.eq(session_id))
        .filter(message::Column::Direction.eq("in"))
        .filter(message::Column::CreatedAt.gte(start_of_day(Utc::now())))
        .count(db)
        .await
}

pub fn level(usage_percent: f64) -> HealthLevel {
    if usage_percent < 70.0 {
        HealthLevel::Healthy
    } else if usage_percent < 90.0 {
        HealthLevel::Warning
    } else {
        HealthLevel::Critical
    }
}

pub async fn health(db: &DatabaseConnection, limit: u64, row: &session::Model) -> Result<HealthOut, Problem> {
    let sent = sent_today(db, row.id).await?;
    let received = received_today(db, row.id).await?;
    let usage = if limit == 0 { 100.0 } else { (sent as f64 * 100.0 / limit as f64 * 10.0).round() / 10.0 };
    Ok(HealthOut {
        messages_sent_today: sent,
        messages_received_today: received,
        daily_limit: limit,
        usage_percent: usage,
        level: level(usage),
        connected: row.status == "connected",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_thresholds() {
        assert_eq!(level(0.0), HealthLevel::Healthy);
        assert_eq!(level(69.9), HealthLevel::Healthy);
        assert_eq!(level(70.0), HealthLevel::Warning);
        assert_eq!(level(89.9), HealthLevel::Warning);
        assert_eq!(level(90.0), HealthLevel::Critical);
    }

    #[test]
    fn day_starts_at_midnight_utc() {
        let t = DateTime::parse_from_rfc3339("2026-11-24T23:59:59Z").unwrap().with_timezone(&Utc);
        assert_eq!(start_of_day(t).to_rfc3339(), "2026-11-24T00:00:00+00:00");
    }
}
