//! Which session holds which phone number, so that one phone has at most one
//! pairing/connected/reconnecting session in the whole system.

use std::collections::HashMap;
use std::sync::Mutex;

use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::db::entities::session;
use crate::domain::Phone;
use crate::domain::Status;

#[derive(Default)]
pub struct PhoneClaims {
    owners: Mutex<HashMap<Phone, Uuid>>,
}

const HOLDING: [Status; 3] = [Status::Pairing, Status::Connected, Status::Reconnecting];

impl PhoneClaims {
    /// Claims `phone` for `session`. `false` when another session holds it, and also when
    /// the database cannot say (fail closed: never two active sessions on one phone).
    pub async fn claim(&self, db: &DatabaseConnection, phone: &Phone, session: Uuid) -> bool {
        {
            let owners = self.owners.lock().unwrap_or_else(|p| p.into_inner());
            match owners.get(phone) {
                Some(owner) if *owner == session => return true,
                Some(_) => return false,
                None => {}
            }
        }
        // Not claimed in this process yet: a session restored from before a restart may
        // still hold it in the database.
        let holders = session::Entity::find()
            .filter(session::Column::Phone.eq(phone.as_str()))
            .filter(session::Column::Id.ne(session))
            .filter(session::Column::Status.is_in(HOLDING.map(Status::as_str)))
            .all(db)
            .await;
        let holders = match holders {
            Ok(holders) => holders,
            Err(e) => {
                tracing::error!(session_id = %session, error = %e, "cannot check who holds the phone; claim refused");
                return false;
            }
        };
        let mut owners = self.owners.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(owner) = owners.get(phone) {
            return *owner == session;
        }
        if !holders.is_empty() {
            return false;
        }
        owners.insert(phone.clone(), session);
        true
    }

    pub fn release(&self, phone: &Phone, session: Uuid) {
        let mut owners = self.owners.lock().unwrap_or_else(|p| p.into_inner());
        if owners.get(phone) == Some(&session) {
            owners.remove(phone);
        }
    }

    /// `true` when some session holds `phone`; an error when the database cannot say.
    pub async fn in_use(&self, db: &DatabaseConnection, phone: &Phone) -> Result<bool, DbErr> {
        if self.owners.lock().unwrap_or_else(|p| p.into_inner()).contains_key(phone) {
            return Ok(true);
        }
        let holder = session::Entity::find()
            .filter(session::Column::Phone.eq(phone.as_str()))
            .filter(session::Column::Status.is_in(HOLDING.map(Status::as_str)))
            .one(db)
            .await?;
        Ok(holder.is_some())
    }
}
