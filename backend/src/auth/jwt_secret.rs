//! The generated HS256 secret, kept in the `meta` table sealed with the key file's key
//! (like engine credentials): a database dump alone cannot mint tokens. A plaintext
//! secret left by an older version is sealed on start, so its tokens stay valid.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use rand::RngCore;
use sea_orm::{DatabaseConnection, EntityTrait};

use crate::db::crypto::Cipher;
use crate::db::entities::meta;

const SEALED: &str = "jwt_secret_sealed";
const LEGACY_PLAIN: &str = "jwt_secret";

fn seal(cipher: &Cipher, secret: &str) -> String {
    B64.encode(cipher.encrypt(secret.as_bytes(), SEALED.as_bytes()))
}

fn unseal(cipher: &Cipher, stored: &str) -> anyhow::Result<String> {
    let raw = B64.decode(stored).map_err(|_| anyhow::anyhow!("meta.{SEALED} is not base64"))?;
    let plain = cipher
        .decrypt(&raw, SEALED.as_bytes())
        .ok_or_else(|| anyhow::anyhow!("meta.{SEALED} was not sealed with this encryption key"))?;
    String::from_utf8(plain).map_err(|_| anyhow::anyhow!("meta.{SEALED} is not text"))
}

/// The secret access tokens are signed with: stored sealed, created on first start.
pub async fn load_or_create(db: &DatabaseConnection, cipher: &Cipher) -> anyhow::Result<String> {
    if let Some(stored) = crate::db::meta::get(db, SEALED).await? {
        return unseal(cipher, &stored);
    }
    let secret = match crate::db::meta::get(db, LEGACY_PLAIN).await? {
        Some(plain) => plain,
        None => {
            let mut raw = [0u8; 48];
            rand::thread_rng().fill_bytes(&mut raw);
            B64.encode(raw)
        }
    };
    // First writer wins when several nodes start at once; everyone uses what is stored.
    let stored = crate::db::meta::get_or_insert(db, SEALED, seal(cipher, &secret)).await?;
    let secret = unseal(cipher, &stored)?;
    meta::Entity::delete_by_id(LEGACY_PLAIN.to_owned()).exec(db).await?;
    Ok(secret)
}
