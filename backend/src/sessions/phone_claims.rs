//! Which session holds which phone number, so that one phone has at most one
//! pairing/connected/reconnecting session in the whole system — across every node of a
//! cluster: claims are rows of `phone_claims`, and a claim counts while the claiming
//! session's lease is live (a crashed node's claims lapse with its leases).

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement, TransactionTrait, Value};
use uuid::Uuid;

use crate::db::fence::now_ms_sql;
use crate::domain::Phone;
use crate::domain::Status;

#[derive(Default)]
pub struct PhoneClaims;

const HOLDING: [Status; 3] = [Status::Pairing, Status::Connected, Status::Reconnecting];

/// Sessions whose row says they hold phone `$1` (a session from before a restart, or one
/// whose node died and whose failover has not marked it yet); `except_second`: other than `$2`.
fn holders_sql(except_second: bool) -> String {
    let holding: Vec<String> = HOLDING.iter().map(|s| format!("'{}'", s.as_str())).collect();
    let except = if except_second { " AND id <> $2" } else { "" };
    format!("SELECT 1 FROM sessions WHERE phone = $1{except} AND status IN ({})", holding.join(", "))
}

impl PhoneClaims {
    /// Claims `phone` for `session`. `false` when another session holds it, and also when
    /// the database cannot say (fail closed: never two active sessions on one phone).
    pub async fn claim(&self, db: &DatabaseConnection, phone: &Phone, session: Uuid) -> bool {
        match try_claim(db, phone, session).await {
            Ok(mine) => mine,
            Err(e) => {
                tracing::error!(session_id = %session, error = %e, "cannot check who holds the phone; claim refused");
                false
            }
        }
    }

    /// Gives up `session`'s claim on `phone` (if it holds it).
    pub async fn release(&self, db: &DatabaseConnection, phone: &Phone, session: Uuid) {
        let sql = "DELETE FROM phone_claims WHERE phone = $1 AND session_id = $2";
        let values: Vec<Value> = vec![phone.as_str().into(), session.into()];
        let backend = db.get_database_backend();
        if let Err(e) = db.execute(Statement::from_sql_and_values(backend, sql, values)).await {
            // The claim lapses with the session's lease anyway.
            tracing::warn!(session_id = %session, error = %e, "could not release the phone claim");
        }
    }

    /// `true` when some session holds `phone`; an error when the database cannot say.
    pub async fn in_use(&self, db: &DatabaseConnection, phone: &Phone) -> Result<bool, DbErr> {
        let backend = db.get_database_backend();
        let sql = format!(
            "SELECT 1 FROM phone_claims c JOIN session_leases l ON l.session_id = c.session_id \
             WHERE c.phone = $1 AND l.expires_ms > {now} \
             UNION ALL {holders}",
            now = now_ms_sql(backend),
            holders = holders_sql(false),
        );
        let row = db.query_one(Statement::from_sql_and_values(backend, sql, [phone.as_str().into()])).await?;
        Ok(row.is_some())
    }
}

async fn try_claim(db: &DatabaseConnection, phone: &Phone, session: Uuid) -> Result<bool, DbErr> {
    let backend = db.get_database_backend();
    let now = now_ms_sql(backend);
    let values = || -> Vec<Value> { vec![phone.as_str().into(), session.into()] };
    let txn = db.begin().await?;
    if txn.query_one(Statement::from_sql_and_values(backend, holders_sql(true), values())).await?.is_some() {
        return Ok(false);
    }
    // A claim whose session runs nowhere (no live lease) is stale.
    let stale = format!(
        "DELETE FROM phone_claims WHERE phone = $1 AND session_id <> $2 AND NOT EXISTS \
         (SELECT 1 FROM session_leases l WHERE l.session_id = phone_claims.session_id AND l.expires_ms > {now})"
    );
    txn.execute(Statement::from_sql_and_values(backend, stale, values())).await?;
    let insert = format!(
        "INSERT INTO phone_claims (phone, session_id, claimed_ms) VALUES ($1, $2, {now}) ON CONFLICT (phone) DO NOTHING"
    );
    txn.execute(Statement::from_sql_and_values(backend, insert, values())).await?;
    let owner = txn
        .query_one(Statement::from_sql_and_values(
            backend,
            "SELECT session_id FROM phone_claims WHERE phone = $1",
            [phone.as_str().into()],
        ))
        .await?;
    txn.commit().await?;
    let owner: Option<Uuid> = match owner {
        Some(row) => Some(row.try_get_by_index(0)?),
        None => None,
    };
    Ok(owner == Some(session))
}
