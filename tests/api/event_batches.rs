//! Group commit: many publishes share a transaction, yet each user's sequence stays
//! gap-free and in order, a failing change fails only its own publish, and a batch that
//! does not commit delivers nothing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;
use uuid::Uuid;
use wahub::events::{Batching, Event, EventHub, Fanout, NoHook, TxnChange};
use wahub_tests::{spawn_app_with, TestDb, WsClient};

/// Records every delivered event.
#[derive(Default)]
struct Recorder(Mutex<Vec<Arc<Event>>>);

impl Fanout for Recorder {
    fn deliver(&self, ev: &Arc<Event>) {
        self.0.lock().expect("recorder lock").push(ev.clone());
    }
}

impl Recorder {
    fn seqs(&self, user: Uuid) -> Vec<i64> {
        self.0.lock().expect("recorder lock").iter().filter(|e| e.user_id == user).map(|e| e.seq).collect()
    }
}

/// A hub on `conn` whose batches stay open long enough to gather every publish of a test.
fn gathering_hub(conn: DatabaseConnection, recorder: Arc<Recorder>) -> EventHub {
    EventHub::with_fanout(conn, 64, Arc::new(NoHook), move |_| recorder).with_batching(Batching {
        max: 1_000,
        wait: Duration::from_millis(300),
        writers: 1,
    })
}

#[tokio::test]
async fn concurrent_publishes_of_many_users_arrive_gap_free_and_in_order() {
    let app = spawn_app_with(|s| {
        s.database.event_batch_max = 64;
        s.database.event_batch_wait_ms = 2;
        s.database.event_writers = 3;
    })
    .await;
    let mut users = Vec::new();
    for i in 0..6 {
        let user = app.register(&format!("batch{i}@example.com")).await;
        let mut ws = app.ws(&user, None).await;
        assert_eq!(ws.next_json().await["type"], "hello");
        users.push((user.id.parse::<Uuid>().expect("uuid"), ws));
    }
    let per_user = 60;
    let hub = app.state.events.clone();
    let mut tasks = Vec::new();
    for (uid, _) in &users {
        for lane in 0..3 {
            let (hub, uid) = (hub.clone(), *uid);
            tasks.push(tokio::spawn(async move {
                for i in 0..per_user / 3 {
                    hub.publish(uid, "test.batch", None, json!({ "lane": lane, "i": i })).await.expect("publish");
                }
            }));
        }
    }
    for t in join_all(tasks).await {
        t.expect("publisher task");
    }
    for (uid, ws) in &mut users {
        let got = seqs(ws, per_user).await;
        assert_eq!(got, (1..=per_user).collect::<Vec<_>>(), "user {uid}: every seq once, in order");
        let stored: Vec<i64> = hub.after(*uid, 0, 1_000).await.expect("log").iter().map(|e| e.seq).collect();
        assert_eq!(stored, got);
    }
    app.stop().await;
}

async fn seqs(ws: &mut WsClient, n: i64) -> Vec<i64> {
    let mut out = Vec::new();
    while (out.len() as i64) < n {
        let frame = ws.next_json_within(60).await;
        assert_eq!(frame["type"], "event", "unexpected frame {frame}");
        out.push(frame["seq"].as_i64().expect("seq"));
    }
    out
}

#[tokio::test]
async fn a_failing_change_fails_only_its_own_publish() {
    let db = TestDb::create().await;
    let recorder = Arc::new(Recorder::default());
    let hub = gathering_hub(db.conn().await, recorder.clone());
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let publishes = (0..10).map(|i| {
        let user = if i % 2 == 0 { a } else { b };
        let change: Option<TxnChange> = (i == 4).then(|| -> TxnChange {
            Box::new(|txn| {
                Box::pin(async move {
                    // A real statement error, which on PostgreSQL aborts the transaction
                    // unless its savepoint is rolled back.
                    txn.execute_unprepared("INSERT INTO no_such_table VALUES (1)").await.map(|_| ())
                })
            })
        });
        hub.publish_with(user, "test.batch", None, json!({ "i": i }), change)
    });
    let results = join_all(publishes).await;
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.is_err(), i == 4, "publish {i}: {r:?}");
    }
    assert_eq!(recorder.seqs(a), vec![1, 2, 3, 4], "user a lost only the failed publish's slot");
    assert_eq!(recorder.seqs(b), vec![1, 2, 3, 4, 5]);
    let next = hub.publish(a, "test.next", None, json!({})).await.expect("publish");
    assert_eq!(next.seq, 5);
    db.drop_db().await;
}

#[tokio::test]
async fn a_batch_that_fails_to_commit_delivers_nothing_and_fails_every_publish() {
    let db = TestDb::create().await;
    let conn = db.conn().await;
    // Checked only at COMMIT: an insert that breaks it passes its statement (and savepoint).
    conn.execute_unprepared(
        "CREATE TABLE deferred_probe (id INTEGER PRIMARY KEY, parent INTEGER \
         REFERENCES deferred_probe (id) DEFERRABLE INITIALLY DEFERRED)",
    )
    .await
    .expect("probe table");
    let recorder = Arc::new(Recorder::default());
    let hub = gathering_hub(conn.clone(), recorder.clone());
    let user = Uuid::new_v4();
    let publishes = (0..6).map(|i| {
        let change: Option<TxnChange> = (i == 3).then(|| -> TxnChange {
            Box::new(|txn| {
                Box::pin(async move {
                    txn.execute_unprepared("INSERT INTO deferred_probe (id, parent) VALUES (1, 999)").await.map(|_| ())
                })
            })
        });
        hub.publish_with(user, "test.doomed", None, json!({ "i": i }), change)
    });
    let results = join_all(publishes).await;
    assert!(results.iter().all(|r| r.is_err()), "every publish of the batch fails: {results:?}");
    assert!(recorder.seqs(user).is_empty(), "nothing delivered");
    assert!(hub.after(user, 0, 100).await.expect("log").is_empty(), "nothing stored");
    assert_eq!(hub.last_seq(user).await.expect("last seq"), 0, "no seq taken");
    let next = hub.publish(user, "test.next", None, json!({})).await.expect("publish");
    assert_eq!((next.seq, recorder.seqs(user)), (1, vec![1]));
    db.drop_db().await;
}
