//! Recently checked credentials, so an API call does not read its user, token family or
//! API key from the database on every request (on SQLite those reads queue behind event
//! batches on the one connection).
//!
//! An entry lives `ttl` at most. Every change to a user's credentials, role, limits or
//! disabled flag made on this node forgets that user's entries at once (`forget`), so here
//! it takes effect on the next request; other nodes of a cluster see it within `ttl`.
//! Only what the database confirmed is kept: a wrong API key is looked up every time, so
//! made-up keys cannot fill the cache.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::Scopes;

/// Beyond this many entries of one kind the cache starts over (a bound, not a policy).
const MAX_ENTRIES: usize = 100_000;

/// What authentication needs of a user row.
#[derive(Debug, Clone)]
pub struct UserFacts {
    pub role: String,
    pub disabled: bool,
    pub max_sessions: Option<i32>,
    pub daily_message_limit: Option<i32>,
}

pub struct CredentialCache {
    ttl: Duration,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Counts `forget`s: a lookup started before one must not store what it read.
    generation: u64,
    /// `None`: no such user.
    users: Entries<Uuid, Option<UserFacts>>,
    /// Family id → (its user, alive).
    families: Entries<Uuid, (Uuid, bool)>,
    /// API key hash → (its user, scopes, expiry).
    keys: Entries<String, (Uuid, Scopes, Option<DateTime<Utc>>)>,
}

struct Entries<K, V>(HashMap<K, (Instant, V)>);

impl<K, V> Default for Entries<K, V> {
    fn default() -> Self {
        Self(HashMap::new())
    }
}

impl<K: Eq + Hash, V: Clone> Entries<K, V> {
    fn get<Q: Eq + Hash + ?Sized>(&self, key: &Q, ttl: Duration) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
    {
        self.0.get(key).filter(|(at, _)| at.elapsed() < ttl).map(|(_, v)| v.clone())
    }

    fn put(&mut self, key: K, value: V, at: Instant) {
        if self.0.len() >= MAX_ENTRIES {
            self.0.clear();
        }
        self.0.insert(key, (at, value));
    }
}

impl CredentialCache {
    /// `ttl` zero: nothing is kept.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, inner: Mutex::new(Inner::default()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn user(&self, id: Uuid) -> Option<Option<UserFacts>> {
        self.lock().users.get(&id, self.ttl)
    }

    /// Taken before reading the database; the `put_*` that follows stores nothing when a
    /// `forget` came in between (it may have changed what was read).
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    fn store(&self, generation: u64, put: impl FnOnce(&mut Inner, Instant)) {
        if self.ttl.is_zero() {
            return;
        }
        let mut inner = self.lock();
        if inner.generation == generation {
            put(&mut inner, Instant::now());
        }
    }

    pub fn put_user(&self, generation: u64, id: Uuid, facts: Option<UserFacts>) {
        self.store(generation, |inner, at| inner.users.put(id, facts, at));
    }

    pub fn family(&self, family: Uuid) -> Option<bool> {
        self.lock().families.get(&family, self.ttl).map(|(_, alive)| alive)
    }

    pub fn put_family(&self, generation: u64, family: Uuid, user: Uuid, alive: bool) {
        self.store(generation, |inner, at| inner.families.put(family, (user, alive), at));
    }

    pub fn key(&self, hash: &str) -> Option<(Uuid, Scopes)> {
        let (user, scopes, expires) = self.lock().keys.get(hash, self.ttl)?;
        expires.is_none_or(|t| t > Utc::now()).then_some((user, scopes))
    }

    pub fn put_key(&self, generation: u64, hash: String, user: Uuid, scopes: Scopes, expires: Option<DateTime<Utc>>) {
        self.store(generation, |inner, at| inner.keys.put(hash, (user, scopes, expires), at));
    }

    /// Forgets everything about `user`; lookups in flight store nothing (see `generation`).
    pub fn forget(&self, user: Uuid) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.users.0.remove(&user);
        inner.families.0.retain(|_, (_, (owner, _))| *owner != user);
        inner.keys.0.retain(|_, (_, (owner, _, _))| *owner != user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Option<UserFacts> {
        Some(UserFacts { role: "user".into(), disabled: false, max_sessions: None, daily_message_limit: None })
    }

    #[test]
    fn entries_expire_and_forget_drops_only_that_users() {
        let cache = CredentialCache::new(Duration::from_millis(50));
        let (alice, bob, family) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let g = cache.generation();
        cache.put_user(g, alice, facts());
        cache.put_user(g, bob, facts());
        cache.put_family(g, family, alice, true);
        cache.put_key(g, "h".into(), alice, Scopes::default(), None);
        assert!(cache.user(alice).is_some() && cache.family(family) == Some(true) && cache.key("h").is_some());
        cache.forget(alice);
        assert!(cache.user(alice).is_none() && cache.family(family).is_none() && cache.key("h").is_none());
        assert!(cache.user(bob).is_some(), "another user's entry stays");
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.user(bob).is_none(), "expired");
    }

    #[test]
    fn a_lookup_that_raced_a_change_stores_nothing() {
        let cache = CredentialCache::new(Duration::from_secs(60));
        let alice = Uuid::new_v4();
        // The lookup reads the row, then the change commits and forgets, then the lookup stores.
        let g = cache.generation();
        cache.forget(alice);
        cache.put_user(g, alice, facts());
        assert!(cache.user(alice).is_none(), "what was read before the change is not kept");
    }

    #[test]
    fn an_expired_key_is_not_served_and_a_zero_ttl_keeps_nothing() {
        let cache = CredentialCache::new(Duration::from_secs(60));
        let past = Utc::now() - chrono::Duration::seconds(1);
        cache.put_key(cache.generation(), "old".into(), Uuid::new_v4(), Scopes::default(), Some(past));
        assert!(cache.key("old").is_none());
        let off = CredentialCache::new(Duration::ZERO);
        off.put_user(off.generation(), Uuid::new_v4(), facts());
        assert!(off.lock().users.0.is_empty());
    }
}
