//! argon2id password hashing, run off the async threads.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tokio::sync::Semaphore;

/// Each argon2id hash takes ~19 MiB and a core for tens of milliseconds. Running at most
/// one per core keeps a burst of logins from exhausting CPU and from leaving one
/// allocator arena of hash memory behind per blocking thread (seen: >1 GiB RSS after a
/// few hundred concurrent registrations).
fn hashing_slots() -> &'static Semaphore {
    static SLOTS: std::sync::OnceLock<Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| Semaphore::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)))
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    let _slot = hashing_slots().acquire().await?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await?
}

/// `false` for a wrong password or a malformed stored hash.
pub async fn verify(password: String, stored: String) -> bool {
    let Ok(_slot) = hashing_slots().acquire().await else { return false };
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password, verified against when the email is unknown so that
/// unknown emails take as long as wrong passwords.
pub fn dummy_hash() -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(b"wahub-timing-equalizer", &salt).map(|h| h.to_string()).unwrap_or_default()
}
