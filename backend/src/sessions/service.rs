//! Session records: creation, naming, the primary flag and deletion.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use uuid::Uuid;

use crate::db::constraint::{violated, Unique};
use crate::db::entities::session;
use crate::domain::Phone;
use crate::domain::SessionName;
use crate::domain::Status;
use crate::error::Problem;
use crate::events::EventHub;

/// The caller's session, or 404 (also for other users' sessions: existence is not revealed).
pub async fn find_owned(db: &DatabaseConnection, user_id: Uuid, id: Uuid) -> Result<session::Model, Problem> {
    session::Entity::find_by_id(id)
        .filter(session::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or_else(|| Problem::not_found("No such session."))
}

pub async fn list(db: &DatabaseConnection, user_id: Uuid) -> Result<Vec<session::Model>, Problem> {
    Ok(session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .order_by_asc(session::Column::CreatedAt)
        .order_by_asc(session::Column::Id)
        .all(db)
        .await?)
}

fn name_taken() -> Problem {
    Problem::conflict("name_taken", "You already have a session with this name.")
}

fn name_conflict(e: sea_orm::DbErr) -> Problem {
    if violated(&e) == Some(Unique::SessionName) {
        name_taken()
    } else {
        Problem::internal(e)
    }
}

async fn ensure_name_free(db: &DatabaseConnection, user_id: Uuid, name: &SessionName) -> Result<(), Problem> {
    let taken = session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::Name.eq(name.as_str()))
        .one(db)
        .await?;
    match taken {
        Some(_) => Err(name_taken()),
        None => Ok(()),
    }
}

pub struct NewSession {
    pub name: SessionName,
    pub phone: Option<Phone>,
    pub engine: &'static str,
}

/// Creates a session: unique name per user, within the instance limit, first one primary.
pub async fn create(
    db: &DatabaseConnection,
    hub: &EventHub,
    user_id: Uuid,
    new: NewSession,
    limit: u64,
    phone_in_use: bool,
) -> Result<session::Model, Problem> {
    if phone_in_use {
        return Err(Problem::conflict("phone_in_use", "This phone number is already linked to an active session."));
    }
    // Callers serialize creation; the unique indexes catch anything that still races.
    let existing = session::Entity::find().filter(session::Column::UserId.eq(user_id)).count(db).await?;
    if existing >= limit {
        return Err(Problem::conflict("instance_limit_reached", format!("You can have at most {limit} sessions.")));
    }
    ensure_name_free(db, user_id, &new.name).await?;
    let now = chrono::Utc::now();
    let row = session::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user_id),
        name: Set(new.name.into_string()),
        engine: Set(new.engine.to_owned()),
        status: Set(Status::Stopped.as_str().to_owned()),
        status_reason: Set(None),
        is_primary: Set(existing == 0),
        phone: Set(new.phone.map(|p| p.as_str().to_owned())),
        push_name: Set(None),
        auth_paired: Set(false),
        socket_open: Set(false),
        qr_expires_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        last_connected_at: Set(None),
        last_disconnected_at: Set(None),
        last_activity_at: Set(Some(now)),
    }
    .insert(db)
    .await
    // A unique index refusing the row means a concurrent create of the same name won.
    .map_err(name_conflict)?;
    let data = serde_json::to_value(super::types::SessionOut::from(row.clone())).unwrap_or_default();
    hub.publish(user_id, "session.created", Some(row.id), data).await?;
    Ok(row)
}

pub async fn rename(
    db: &DatabaseConnection,
    hub: &EventHub,
    row: session::Model,
    name: SessionName,
) -> Result<session::Model, Problem> {
    if row.name == name.as_str() {
        return Ok(row);
    }
    ensure_name_free(db, row.user_id, &name).await?;
    session::Entity::update_many()
        .col_expr(session::Column::Name, Expr::value(name.as_str()))
        .col_expr(session::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(session::Column::Id.eq(row.id))
        .exec(db)
        .await
        .map_err(name_conflict)?;
    let updated = find_owned(db, row.user_id, row.id).await?;
    publish_updated(hub, &updated).await?;
    Ok(updated)
}

pub async fn publish_updated(hub: &EventHub, row: &session::Model) -> Result<(), Problem> {
    let data = serde_json::to_value(super::types::SessionOut::from(row.clone())).unwrap_or_default();
    hub.publish(row.user_id, "session.updated", Some(row.id), data).await?;
    Ok(())
}

/// Makes `row` the user's primary session in one transaction.
pub async fn set_primary(
    db: &DatabaseConnection,
    hub: &EventHub,
    row: session::Model,
) -> Result<session::Model, Problem> {
    if row.is_primary {
        return Ok(row);
    }
    let mut attempts = 0;
    let previous = loop {
        attempts += 1;
        match swap_primary(db, row.user_id, row.id).await {
            Ok(Swap::Done(previous)) => break previous,
            // Deleted since it was read: nothing was changed.
            Ok(Swap::Gone) => return Err(Problem::not_found("No such session.")),
            // A concurrent swap or delete won; try again on the new state.
            Err(e) if attempts < RETRIES && retryable(&e) => continue,
            Err(e) => return Err(Problem::internal(e)),
        }
    };
    hub.publish(
        row.user_id,
        "session.primary",
        Some(row.id),
        serde_json::json!({ "session_id": row.id, "previous_session_id": previous }),
    )
    .await?;
    find_owned(db, row.user_id, row.id).await
}

/// Attempts at a primary change that lost a race to a concurrent one.
const RETRIES: u32 = 5;

/// A concurrent primary change made this transaction fail; running it again is safe.
fn retryable(e: &sea_orm::DbErr) -> bool {
    violated(e) == Some(Unique::OnePrimary) || crate::db::constraint::transient(e)
}

enum Swap {
    Done(Option<Uuid>),
    Gone,
}

async fn swap_primary(db: &DatabaseConnection, user_id: Uuid, id: Uuid) -> Result<Swap, sea_orm::DbErr> {
    let txn = db.begin().await?;
    // Write first: on SQLite a transaction that reads and then writes can be refused
    // (SQLITE_BUSY_SNAPSHOT) if another writer committed in between. On PostgreSQL the
    // row lock also orders this swap against a concurrent delete of the same row.
    let touched = session::Entity::update_many()
        .col_expr(session::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(session::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    if touched.rows_affected == 0 {
        txn.rollback().await?;
        return Ok(Swap::Gone);
    }
    let previous = session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::IsPrimary.eq(true))
        .one(&txn)
        .await?
        .map(|s| s.id);
    if previous == Some(id) {
        txn.commit().await?;
        return Ok(Swap::Done(previous));
    }
    session::Entity::update_many()
        .col_expr(session::Column::IsPrimary, Expr::value(false))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::IsPrimary.eq(true))
        .exec(&txn)
        .await?;
    session::Entity::update_many()
        .col_expr(session::Column::IsPrimary, Expr::value(true))
        .filter(session::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Swap::Done(previous))
}

/// Deletes the row; if no primary is left, the oldest remaining session becomes primary.
pub async fn delete(db: &DatabaseConnection, hub: &EventHub, row: &session::Model) -> Result<(), Problem> {
    let mut attempts = 0;
    let promoted = loop {
        attempts += 1;
        match delete_and_promote(db, row.user_id, row.id).await {
            Ok(promoted) => break promoted,
            Err(e) if attempts < RETRIES && retryable(&e) => continue,
            Err(e) => return Err(Problem::internal(e)),
        }
    };
    hub.publish(row.user_id, "session.deleted", Some(row.id), serde_json::json!({ "id": row.id })).await?;
    if let Some(next) = promoted {
        hub.publish(
            row.user_id,
            "session.primary",
            Some(next),
            serde_json::json!({ "session_id": next, "previous_session_id": row.id }),
        )
        .await?;
    }
    Ok(())
}

/// The promotion is decided inside the transaction, from what is there after the delete,
/// never from a flag read earlier: a concurrent set-primary may have moved it meanwhile.
async fn delete_and_promote(db: &DatabaseConnection, user_id: Uuid, id: Uuid) -> Result<Option<Uuid>, sea_orm::DbErr> {
    let txn = db.begin().await?;
    session::Entity::delete_by_id(id).exec(&txn).await?;
    let primary_left = session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::IsPrimary.eq(true))
        .one(&txn)
        .await?;
    let mut promoted = None;
    if primary_left.is_none() {
        let next = session::Entity::find()
            .filter(session::Column::UserId.eq(user_id))
            .order_by_asc(session::Column::CreatedAt)
            .order_by_asc(session::Column::Id)
            .one(&txn)
            .await?;
        if let Some(next) = next {
            session::Entity::update_many()
                .col_expr(session::Column::IsPrimary, Expr::value(true))
                .filter(session::Column::Id.eq(next.id))
                .exec(&txn)
                .await?;
            promoted = Some(next.id);
        }
    }
    txn.commit().await?;
    Ok(promoted)
}
