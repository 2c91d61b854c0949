//! Group commit: many publishes share a transaction, yet each user's sequence stays
//! gap-free and in order, a failing change fails only its own publish, and a batch that
//! does not commit delivers nothing — whether the caller awaits its publish or hands it
//! over with a completion (`submit`), and whether its change runs under a savepoint or is
//! an upsert that runs without one.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;
use sea_orm::DbErr;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;
use uuid::Uuid;
use wahub::events::{Answer, Batching, Change, Event, EventHub, Fanout, NoHook, RowChange, TxnChange, Upsert};
use wahub_tests::{eventually, json_of, spawn_app, spawn_app_with, TestDb, WsClient};

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
    create_deferred_probe(&conn).await;
    let recorder = Arc::new(Recorder::default());
    let hub = gathering_hub(conn.clone(), recorder.clone());
    let user = Uuid::new_v4();
    let publishes = (0..6).map(|i| {
        let change: Option<TxnChange> = (i == 3).then(deferred_violation);
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

/// An upsert of row `id` into `probe_rows`: stores it unless it is there.
fn probe_upsert(id: i64) -> RowChange {
    Box::new(move |txn| {
        Box::pin(async move {
            let sql = format!("INSERT INTO probe_rows (id) VALUES ({id}) ON CONFLICT DO NOTHING");
            Ok(txn.execute_unprepared(&sql).await?.rows_affected() > 0)
        })
    })
}

/// An upsert that fails with a real statement error (aborting the transaction on PostgreSQL).
fn failing_upsert() -> RowChange {
    Box::new(|txn| {
        Box::pin(async move { txn.execute_unprepared("INSERT INTO no_such_table VALUES (1)").await.map(|_| true) })
    })
}

#[tokio::test]
async fn upserts_run_without_savepoints_yet_a_failing_one_fails_alone_and_a_present_row_publishes_nothing() {
    let db = TestDb::create().await;
    let conn = db.conn().await;
    conn.execute_unprepared("CREATE TABLE probe_rows (id BIGINT PRIMARY KEY)").await.expect("probe table");
    let recorder = Arc::new(Recorder::default());
    let hub = gathering_hub(conn.clone(), recorder.clone());
    let user = Uuid::new_v4();
    let change = |i: usize| -> Change {
        match i {
            0 | 1 => Change { upsert: Some(Upsert::Row(probe_upsert(1))), ..Change::default() },
            2 => Change { upsert: Some(Upsert::Row(failing_upsert())), ..Change::default() },
            3 => Change { upsert: Some(Upsert::Row(probe_upsert(2))), ..Change::default() },
            _ => Change::default(),
        }
    };
    let publishes = (0..5).map(|i| hub.publish_change(user, "test.upsert", None, json!({ "i": i }), change(i)));
    let results = join_all(publishes).await;
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(matches!(results[1], Err(DbErr::RecordNotInserted)), "the row was there: {:?}", results[1]);
    assert!(results[2].as_ref().is_err_and(|e| !matches!(e, DbErr::RecordNotInserted)), "{:?}", results[2]);
    assert!(results[3].is_ok() && results[4].is_ok(), "{results:?}");
    let is: Vec<i64> = recorder.0.lock().expect("recorder").iter().map(|e| e.data["i"].as_i64().expect("i")).collect();
    assert_eq!(is, vec![0, 3, 4], "one event per stored publish, in order");
    assert_eq!(recorder.seqs(user), vec![1, 2, 3], "no seq for what stored nothing");
    let rows = conn
        .query_all(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT id FROM probe_rows ORDER BY id",
        ))
        .await
        .expect("rows");
    let ids: Vec<i64> = rows.iter().map(|r| r.try_get::<i64>("", "id").expect("id")).collect();
    assert_eq!(ids, vec![1, 2], "each row once, though the batch ran twice");
    db.drop_db().await;
}

/// Submits `n` publishes of `user`, the one at `doomed` (if any) with `change`; returns
/// the answers in the order the completions ran.
async fn submit_all(
    hub: &EventHub,
    user: Uuid,
    n: usize,
    doomed: Option<(usize, fn() -> TxnChange)>,
) -> Vec<(usize, Answer)> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..n {
        let change = match doomed {
            Some((at, make)) if at == i => Change::run(make()),
            _ => Change::default(),
        };
        let tx = tx.clone();
        hub.submit(user, "test.submit", None, json!({ "i": i }), change, move |answer| {
            let _ = tx.send((i, answer));
        })
        .await
        .expect("queued");
    }
    drop(tx);
    let mut answers = Vec::new();
    while let Some(a) = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await.expect("answers in time") {
        answers.push(a);
    }
    answers
}

/// A table whose foreign key is checked only at COMMIT: an insert that breaks it passes
/// its statement (and savepoint), and fails the whole batch's commit.
async fn create_deferred_probe(conn: &sea_orm::DatabaseConnection) {
    conn.execute_unprepared(
        "CREATE TABLE deferred_probe (id INTEGER PRIMARY KEY, parent INTEGER \
         REFERENCES deferred_probe (id) DEFERRABLE INITIALLY DEFERRED)",
    )
    .await
    .expect("probe table");
}

/// Breaks `deferred_probe`'s foreign key, detected at COMMIT.
fn deferred_violation() -> TxnChange {
    Box::new(|txn| {
        Box::pin(async move {
            txn.execute_unprepared("INSERT INTO deferred_probe (id, parent) VALUES (1, 999)").await.map(|_| ())
        })
    })
}

#[tokio::test]
async fn submitted_publishes_answer_in_order_after_delivery_and_a_failed_batch_fails_each() {
    let db = TestDb::create().await;
    let conn = db.conn().await;
    create_deferred_probe(&conn).await;
    let recorder = Arc::new(Recorder::default());
    let hub = gathering_hub(conn.clone(), recorder.clone());
    let user = Uuid::new_v4();
    // The batch fails at COMMIT: every completion hears an error, nothing is delivered or stored.
    let answers = submit_all(&hub, user, 6, Some((3, deferred_violation))).await;
    assert_eq!(answers.len(), 6, "every completion ran once");
    assert!(answers.iter().all(|(_, a)| a.is_err()), "{answers:?}");
    assert!(recorder.seqs(user).is_empty() && hub.after(user, 0, 100).await.expect("log").is_empty());
    // Then a burst commits: each completion runs after its event was delivered, in order.
    let answers = submit_all(&hub, user, 50, None).await;
    let order: Vec<usize> = answers.iter().map(|(i, _)| *i).collect();
    assert_eq!(order, (0..50).collect::<Vec<_>>(), "completions in submit order");
    let seqs: Vec<i64> = answers.iter().map(|(_, a)| a.as_ref().expect("stored").seq).collect();
    assert_eq!(seqs, (1..=50).collect::<Vec<_>>());
    assert_eq!(recorder.seqs(user), seqs, "delivered before answered, gap-free");
    db.drop_db().await;
}

#[tokio::test]
async fn a_burst_of_incoming_messages_from_one_session_is_stored_announced_and_acknowledged_in_order() {
    let app = spawn_app().await;
    let user = app.register("burst@example.com").await;
    let session = app.connected_session(&user, "main", "6281234567890").await;
    let sid = session["id"].as_str().expect("id").to_owned();
    let mut ws = app.ws(&user, None).await;
    assert_eq!(ws.next_json().await["type"], "hello");
    let n = 150;
    // Each post returns once the message is handed to the session: the session task queues
    // them to the writer without awaiting each commit, so they share batches.
    for i in 0..n {
        let body = json!({ "from": "6289876543210", "text": format!("m{i}"), "external_id": format!("BURST{i}") });
        let r = app.post(&format!("/api/v1/sessions/{sid}/sim/incoming"), &user.token, body).await;
        assert_eq!(r.status(), 200);
    }
    let mut texts = Vec::new();
    let mut seqs = Vec::new();
    while texts.len() < n {
        let frame = ws.next_json_within(60).await;
        if frame["event"] == "message.received" {
            texts.push(frame["data"]["text"].as_str().expect("text").to_owned());
            seqs.push(frame["seq"].as_i64().expect("seq"));
        }
    }
    assert_eq!(texts, (0..n).map(|i| format!("m{i}")).collect::<Vec<_>>(), "announced in arrival order");
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "gap-free: {seqs:?}");
    let sim = app.state.sim.clone().expect("sim engine");
    let session_id: Uuid = sid.parse().expect("uuid");
    eventually(10, "every message acknowledged", || async { (sim.unacked(session_id) == 0).then_some(()) }).await;
    let list = json_of(app.get("/api/v1/messages?direction=in&limit=500", &user.token).await, 200).await;
    assert_eq!(list.as_array().expect("array").len(), n, "one row per message");
    app.stop().await;
}
