//! Phone claims fail closed: when the database cannot say who holds a phone, nobody gets it.

use wahub::domain::Phone;
use wahub::sessions::PhoneClaims;
use wahub_tests::TestDb;

#[tokio::test]
async fn a_database_error_refuses_the_claim_and_is_not_reported_free() {
    let db = TestDb::create().await;
    let conn = db.conn().await;
    let phone = Phone::parse("6281234567890").expect("valid phone");
    let session = uuid::Uuid::new_v4();
    // Closing the pool makes every later query on any clone of it fail.
    let broken = conn.clone();
    conn.close().await.expect("close the pool");
    let claims = PhoneClaims;
    assert!(!claims.claim(&broken, &phone, session).await, "a claim must not be granted blind");
    assert!(claims.in_use(&broken, &phone).await.is_err(), "in_use must not answer 'free' blind");
    // Nothing was recorded: with a working database the phone is free.
    let working = db.conn().await;
    assert!(!claims.in_use(&working, &phone).await.expect("in_use"));
    // And no claim is granted for a session that does not exist.
    assert!(!claims.claim(&working, &phone, session).await, "a claim for no session");
    working.close().await.ok();
    db.drop_db().await;
}
