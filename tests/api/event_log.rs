//! The event log's own guarantees: publishing is cancel-safe, and sequence numbers only
//! grow, whatever is purged and across restarts.

use std::sync::Arc;

use futures_util::FutureExt;
use sea_orm::{ConnectionTrait, DbErr};
use serde_json::{json, Value};
use uuid::Uuid;
use wahub::events::{EventHub, TxnChange};
use wahub_tests::{spawn_app, TestApp, TestUser, WsClient};

fn user_id(user: &TestUser) -> Uuid {
    user.id.parse().expect("user id is a uuid")
}

/// Reads event frames until one with `seq == until`, returning their seqs.
async fn seqs_until(ws: &mut WsClient, until: i64) -> Vec<i64> {
    let mut out = Vec::new();
    loop {
        let frame = ws.next_json_within(60).await;
        assert_eq!(frame["type"], "event", "unexpected frame {frame}");
        let seq = frame["seq"].as_i64().expect("seq");
        out.push(seq);
        if seq >= until {
            return out;
        }
    }
}

/// A change that records `mark` as the user's display name.
fn rename(user: Uuid, mark: String) -> TxnChange {
    Box::new(move |txn| {
        Box::pin(async move {
            let stmt = sea_orm::Statement::from_sql_and_values(
                txn.get_database_backend(),
                match txn.get_database_backend() {
                    sea_orm::DatabaseBackend::Postgres => "UPDATE users SET display_name = $1 WHERE id = $2",
                    _ => "UPDATE users SET display_name = ? WHERE id = ?",
                },
                [mark.into(), user.into()],
            );
            txn.execute(stmt).await.map(|_| ())
        })
    })
}

async fn display_name(app: &TestApp, user: Uuid) -> Option<String> {
    use sea_orm::EntityTrait;
    wahub::db::entities::user::Entity::find_by_id(user)
        .one(&app.state.db)
        .await
        .expect("read user")
        .and_then(|u| u.display_name)
}

async fn log_seqs(hub: &EventHub, user: Uuid) -> Vec<i64> {
    hub.after(user, 0, 10_000).await.expect("read log").iter().map(|e| e.seq).collect()
}

#[tokio::test]
async fn a_cancelled_publish_is_stored_broadcast_and_its_seq_not_reused() {
    let app = spawn_app().await;
    let user = app.register("cancel@example.com").await;
    let uid = user_id(&user);
    let hub: Arc<EventHub> = app.state.events.clone();
    let mut ws = app.ws(&user, None).await;
    let hello = ws.next_json().await;
    let first = hello["seq"].as_i64().expect("hello seq");

    // Each publish is polled a few times (0 to 3 extra) and then dropped mid-flight.
    let n = 24;
    for i in 0..n {
        let mut publish = Box::pin(hub.publish_with(
            uid,
            "test.cancelled",
            None,
            json!({ "i": i }),
            Some(rename(uid, format!("mark {i}"))),
        ));
        for _ in 0..=(i % 4) {
            if (&mut publish).now_or_never().is_some() {
                break;
            }
            tokio::task::yield_now().await;
        }
        drop(publish);
    }
    let last = hub.publish(uid, "test.after", None, json!({})).await.expect("publish after the cancelled ones");
    assert_eq!(last.seq, first + n + 1, "every cancelled publish took exactly one seq");

    let live = seqs_until(&mut ws, last.seq).await;
    assert_eq!(live, ((first + 1)..=last.seq).collect::<Vec<_>>(), "each event broadcast once, in order");
    let stored = log_seqs(&hub, uid).await;
    assert_eq!(stored, (1..=last.seq).collect::<Vec<_>>(), "the log has every event, no gap, no repeat");
    assert_eq!(display_name(&app, uid).await.as_deref(), Some(format!("mark {}", n - 1).as_str()));
    app.stop().await;
}

#[tokio::test]
async fn a_failed_change_stores_and_broadcasts_nothing_and_takes_no_seq() {
    let app = spawn_app().await;
    let user = app.register("fail@example.com").await;
    let uid = user_id(&user);
    let hub = app.state.events.clone();
    let before = hub.publish(uid, "test.before", None, json!({})).await.expect("publish").seq;
    let failing: TxnChange = Box::new(|_| Box::pin(async { Err(DbErr::Custom("refused".into())) }));
    let err = hub.publish_with(uid, "test.failed", None, json!({}), Some(failing)).await;
    assert!(err.is_err(), "the caller sees the change's error");
    let next = hub.publish(uid, "test.next", None, json!({})).await.expect("publish").seq;
    assert_eq!(next, before + 1, "the failed publish took no seq");
    let names: Vec<String> = hub.after(uid, 0, 100).await.expect("log").into_iter().map(|e| e.event).collect();
    assert!(!names.iter().any(|n| n == "test.failed"), "{names:?}");
    app.stop().await;
}

#[tokio::test]
async fn seq_keeps_growing_after_every_event_is_purged_and_after_a_restart() {
    let app = spawn_app().await;
    let user = app.register("purge@example.com").await;
    let uid = user_id(&user);
    for _ in 0..3 {
        app.state.events.publish(uid, "test.before", None, json!({})).await.expect("publish");
    }
    let top = app.state.events.last_seq(uid).await.expect("last seq");
    assert!(top >= 3);
    app.state.db.execute_unprepared("DELETE FROM events").await.expect("purge every event");
    assert_eq!(app.state.events.last_seq(uid).await.expect("last seq"), top, "purging does not lower seq");

    let app = app.restart().await;
    assert_eq!(app.state.events.last_seq(uid).await.expect("last seq"), top, "nor does a restart");
    let mut ws = app.ws(&user, Some(1)).await;
    let hello: Value = ws.next_json().await;
    assert_eq!((hello["seq"].as_i64(), hello["resumed"].as_bool()), (Some(top), Some(false)), "{hello}");
    let next = app.state.events.publish(uid, "test.after", None, json!({})).await.expect("publish");
    assert_eq!(next.seq, top + 1);
    assert_eq!(seqs_until(&mut ws, top + 1).await, vec![top + 1]);

    // Retention purging keeps the newest event (and the counter) however small it is set.
    app.state.events.purge(0).await.expect("purge");
    assert_eq!(log_seqs(&app.state.events, uid).await, vec![top + 1]);
    app.stop().await;
}
