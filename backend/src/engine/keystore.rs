//! Per-session key/value storage for engine credentials and protocol state.
//!
//! Values are encrypted with AES-256-GCM (random nonce per write); the associated data
//! binds each value to its session, namespace and key, so a value copied to another row
//! does not decrypt. Key names are stored in clear so they can be looked up.

use std::sync::Arc;

use sea_orm::sea_query::{LikeExpr, OnConflict};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::db::crypto::Cipher;
use crate::db::entities::engine_key;
use crate::db::fence::Fence;

#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("stored value does not decrypt with the configured key")]
    Decrypt,
    #[error("this link's key store is retired: its credentials were wiped")]
    Retired,
}

/// One session's slice of the engine key table.
#[derive(Clone)]
pub struct KeyStore {
    db: DatabaseConnection,
    cipher: Arc<Cipher>,
    session_id: Uuid,
    /// Writes commit only while this lease holds (a link's store); `None` for the server's
    /// own wipes (delete, logout without a task).
    fence: Option<Fence>,
    /// `true` (for this store and its clones) once retired: set before the session's
    /// credentials are wiped, after the writes in flight finished, so a closed link's late
    /// background write cannot bring keys back. Every write holds it for reading.
    retired: Arc<tokio::sync::RwLock<bool>>,
}

impl KeyStore {
    pub fn new(db: DatabaseConnection, cipher: Arc<Cipher>, session_id: Uuid) -> Self {
        Self { db, cipher, session_id, fence: None, retired: Arc::default() }
    }

    /// Refuses every later write through this store and its clones (the link's copy);
    /// returns once the writes in flight have ended.
    pub async fn retire(&self) {
        *self.retired.write().await = true;
    }

    /// Whether a copy of this store is held anywhere else (a link that may still write).
    pub fn shared(&self) -> bool {
        Arc::strong_count(&self.retired) > 1
    }

    /// Held for the whole of one write: the store is not retired meanwhile.
    async fn open_for_writes(&self) -> Result<tokio::sync::OwnedRwLockReadGuard<bool>, KeyStoreError> {
        let open = self.retired.clone().read_owned().await;
        if *open {
            return Err(KeyStoreError::Retired);
        }
        Ok(open)
    }

    /// This store with every write fenced by `fence`.
    pub fn fenced(mut self, fence: Fence) -> Self {
        self.fence = Some(fence);
        self
    }

    /// A transaction for one write, with the fence checked first.
    async fn write_txn(&self) -> Result<DatabaseTransaction, KeyStoreError> {
        let txn = self.db.begin().await?;
        if let Some(fence) = &self.fence {
            fence.check(&txn).await?;
        }
        Ok(txn)
    }

    pub fn session_id(&self) -> Uuid {
        self.session_id
    }

    fn aad(&self, namespace: &str, key: &str) -> Vec<u8> {
        format!("{}\u{0}{}\u{0}{}", self.session_id, namespace, key).into_bytes()
    }

    pub async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, KeyStoreError> {
        let row = engine_key::Entity::find()
            .filter(engine_key::Column::SessionId.eq(self.session_id))
            .filter(engine_key::Column::Namespace.eq(namespace))
            .filter(engine_key::Column::Key.eq(key))
            .one(&self.db)
            .await?;
        match row {
            None => Ok(None),
            Some(row) => {
                self.cipher.decrypt(&row.value, &self.aad(namespace, key)).map(Some).ok_or(KeyStoreError::Decrypt)
            }
        }
    }

    pub async fn put(&self, namespace: &str, key: &str, value: &[u8]) -> Result<(), KeyStoreError> {
        let sealed = self.cipher.encrypt(value, &self.aad(namespace, key));
        let _open = self.open_for_writes().await?;
        let txn = self.write_txn().await?;
        let row = engine_key::ActiveModel {
            session_id: Set(self.session_id),
            namespace: Set(namespace.to_owned()),
            key: Set(key.to_owned()),
            value: Set(sealed),
            updated_at: Set(chrono::Utc::now()),
        };
        engine_key::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    engine_key::Column::SessionId,
                    engine_key::Column::Namespace,
                    engine_key::Column::Key,
                ])
                .update_columns([engine_key::Column::Value, engine_key::Column::UpdatedAt])
                .to_owned(),
            )
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn delete(&self, namespace: &str, key: &str) -> Result<(), KeyStoreError> {
        let _open = self.open_for_writes().await?;
        let txn = self.write_txn().await?;
        engine_key::Entity::delete_many()
            .filter(engine_key::Column::SessionId.eq(self.session_id))
            .filter(engine_key::Column::Namespace.eq(namespace))
            .filter(engine_key::Column::Key.eq(key))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// All entries of a namespace whose key starts with `prefix`, ordered by key.
    pub async fn list(&self, namespace: &str, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, KeyStoreError> {
        let rows = engine_key::Entity::find()
            .filter(engine_key::Column::SessionId.eq(self.session_id))
            .filter(engine_key::Column::Namespace.eq(namespace))
            .filter(engine_key::Column::Key.like(LikeExpr::new(like_prefix(prefix)).escape('\\')))
            .order_by_asc(engine_key::Column::Key)
            .all(&self.db)
            .await?;
        rows.into_iter()
            // SQLite's LIKE ignores case: keep only exact prefix matches.
            .filter(|row| row.key.starts_with(prefix))
            .map(|row| {
                let plain =
                    self.cipher.decrypt(&row.value, &self.aad(namespace, &row.key)).ok_or(KeyStoreError::Decrypt)?;
                Ok((row.key, plain))
            })
            .collect()
    }

    pub async fn delete_namespace(&self, namespace: &str) -> Result<(), KeyStoreError> {
        let _open = self.open_for_writes().await?;
        let txn = self.write_txn().await?;
        engine_key::Entity::delete_many()
            .filter(engine_key::Column::SessionId.eq(self.session_id))
            .filter(engine_key::Column::Namespace.eq(namespace))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Removes every key of this session (logout, force relink, delete).
    pub async fn wipe(&self) -> Result<(), KeyStoreError> {
        let _open = self.open_for_writes().await?;
        let txn = self.write_txn().await?;
        engine_key::Entity::delete_many().filter(engine_key::Column::SessionId.eq(self.session_id)).exec(&txn).await?;
        txn.commit().await?;
        Ok(())
    }
}

/// `prefix%` with LIKE's wildcards in the prefix escaped.
fn like_prefix(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_prefix_escapes_wildcards() {
        assert_eq!(super::like_prefix("a_b%c\\"), "a\\_b\\%c\\\\%");
    }
}
