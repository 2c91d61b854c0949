//! Session leases and epoch fencing against the real database (both backends): two
//! nodes' lease stores on one database, as two processes would use them.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement};
use wahub::db::crypto::Cipher;
use wahub::db::fence::is_fenced;
use wahub::engine::keystore::KeyStoreError;
use wahub::engine::KeyStore;
use wahub::sessions::leases::{Acquired, Leases};
use wahub_tests::{insert_session_row, TestDb};

/// Ages every lease of `node` past its expiry, as if it had stopped renewing.
async fn expire(conn: &sea_orm::DatabaseConnection, node: &str) {
    let backend = conn.get_database_backend();
    let sql = "UPDATE session_leases SET expires_ms = expires_ms - 3600000 WHERE node_id = $1";
    conn.execute(Statement::from_sql_and_values(backend, sql, vec![node.into()])).await.expect("age leases");
}

#[tokio::test]
async fn a_taken_over_lease_fences_the_old_holders_writes() {
    let db = TestDb::create().await;
    let conn = db.conn().await;
    let session = insert_session_row(&conn).await;
    let ttl = Duration::from_secs(30);
    let a = Leases::new(conn.clone(), "a".into(), ttl);
    let b = Leases::new(conn.clone(), "b".into(), ttl);

    let Acquired::Mine { epoch: first, lost_by: None } = a.acquire(session).await.expect("acquire") else {
        panic!("a free session's lease goes to the first taker");
    };
    assert_eq!(a.acquire(session).await.expect("again"), Acquired::Mine { epoch: first, lost_by: None }, "same epoch");
    assert_eq!(b.acquire(session).await.expect("b"), Acquired::Elsewhere { node: "a".into() });
    assert_eq!(a.owner(session).await.expect("owner").as_deref(), Some("a"));
    let cipher = Arc::new(Cipher::new([5u8; 32]));
    let keys_a = KeyStore::new(conn.clone(), cipher.clone(), session).fenced(a.fence(session, first));
    keys_a.put("ns", "k", b"from a").await.expect("the holder writes");
    assert_eq!(a.renew_all().await.expect("renew"), [session].into());

    // a stops renewing; once its lease expired, b takes over with a new epoch.
    expire(&conn, "a").await;
    let Acquired::Mine { epoch: second, lost_by } = b.acquire(session).await.expect("takeover") else {
        panic!("an expired lease can be taken");
    };
    assert_eq!((second, lost_by.as_deref()), (first + 1, Some("a")));
    assert!(a.renew_all().await.expect("renew").is_empty(), "a lost lease is not renewed");

    let refused = keys_a.put("ns", "k", b"stale").await.expect_err("a's stale write is refused");
    assert!(matches!(&refused, KeyStoreError::Db(e) if is_fenced(e)), "{refused}");
    let check = a.fence(session, first).check(&conn).await.expect_err("a's fence fails");
    assert!(is_fenced(&check));
    b.fence(session, second).check(&conn).await.expect("b's fence holds");
    let keys_b = KeyStore::new(conn.clone(), cipher, session).fenced(b.fence(session, second));
    assert_eq!(
        keys_b.get("ns", "k").await.expect("get").as_deref(),
        Some(&b"from a"[..]),
        "the stale write changed nothing"
    );

    // Releasing with an old epoch leaves the new holder's lease alone.
    a.release(session, first).await.expect("release");
    assert_eq!(b.owner(session).await.expect("owner").as_deref(), Some("b"));
    b.release(session, second).await.expect("release");
    assert_eq!(b.owner(session).await.expect("owner"), None);
    conn.close().await.ok();
    db.drop_db().await;
}
