//! Incoming messages: a redelivery is dropped quietly, and a message is acknowledged to
//! the network only once it is committed (the sim redelivers what was never acknowledged).

use std::time::Duration;

use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use wahub_tests::{eventually, json_of, spawn_app, Receiver, TestApp, TestUser};

const PHONE: &str = "6281234567890";
const PEER: &str = "6289876543210";

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

async fn incoming(app: &TestApp, user: &TestUser, session: &str, body: Value) {
    let r = app.post(&format!("/api/v1/sessions/{session}/sim/incoming"), &user.token, body).await;
    assert_eq!(r.status(), 200, "sim incoming");
}

async fn inbox(app: &TestApp, user: &TestUser) -> Vec<Value> {
    let list = json_of(app.get("/api/v1/messages?direction=in", &user.token).await, 200).await;
    list.as_array().expect("array").clone()
}

async fn received_events(app: &TestApp, user: &TestUser) -> Vec<Value> {
    let log = json_of(app.get("/api/v1/events?since=0&limit=500", &user.token).await, 200).await;
    let events = log.get("events").cloned().unwrap_or(log);
    events.as_array().expect("array").iter().filter(|e| e["event"] == "message.received").cloned().collect()
}

#[tokio::test]
async fn a_redelivered_message_is_stored_and_announced_once() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let receiver = Receiver::start().await;
    let r =
        app.post("/api/v1/webhooks", &user.token, json!({"url": receiver.url, "events": ["message.received"]})).await;
    json_of(r, 201).await;
    let s = id(&app.connected_session(&user, "main", PHONE).await);
    incoming(&app, &user, &s, json!({"from": PEER, "text": "hello", "external_id": "WAMID1"})).await;
    incoming(&app, &user, &s, json!({"from": PEER, "text": "hello", "external_id": "WAMID1"})).await;
    incoming(&app, &user, &s, json!({"from": PEER, "text": "next", "external_id": "WAMID2"})).await;
    receiver.wait_for(2, 10).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let hooks: Vec<String> = receiver.requests().iter().map(|r| r.json()["data"]["text"].to_string()).collect();
    assert_eq!(hooks, vec!["\"hello\"", "\"next\""], "one webhook per message");
    let texts: Vec<Value> = inbox(&app, &user).await.iter().map(|m| m["text"].clone()).collect();
    assert_eq!(texts, vec![json!("next"), json!("hello")], "one row per message");
    assert_eq!(received_events(&app, &user).await.len(), 2, "one message.received per message");
    assert_eq!(app.session(&user, &s).await["status"], "connected", "the duplicate did no harm");
    app.stop().await;
}

async fn refuse_incoming_inserts(app: &TestApp, on: bool) {
    let sql: &[&str] = match (app.db().is_postgres(), on) {
        (false, true) => &["CREATE TRIGGER refuse_incoming BEFORE INSERT ON messages WHEN NEW.direction = 'in' \
                           BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"],
        (false, false) => &["DROP TRIGGER refuse_incoming"],
        (true, true) => &[
            "CREATE FUNCTION refuse_incoming() RETURNS trigger AS $$ BEGIN \
             IF NEW.direction = 'in' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$ \
             LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_incoming BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_incoming()",
        ],
        (true, false) => &["DROP TRIGGER refuse_incoming ON messages"],
    };
    for statement in sql {
        app.state.db.execute_unprepared(statement).await.expect("trigger DDL");
    }
}

#[tokio::test]
async fn a_message_that_was_not_committed_is_not_acknowledged_and_comes_again() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let s = id(&app.connected_session(&user, "main", PHONE).await);
    // The database refuses the message: it must stay unacknowledged on the network side.
    refuse_incoming_inserts(&app, true).await;
    incoming(&app, &user, &s, json!({"from": PEER, "text": "keep me"})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(inbox(&app, &user).await.is_empty());
    refuse_incoming_inserts(&app, false).await;
    // The next connection redelivers it.
    let r = app.post(&format!("/api/v1/sessions/{s}/sim/drop"), &user.token, json!({})).await;
    assert_eq!(r.status(), 200);
    let stored = eventually(10, "the redelivered message", || async {
        let inbox = inbox(&app, &user).await;
        (!inbox.is_empty()).then_some(inbox)
    })
    .await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["text"], "keep me");
    // Acknowledged now: another reconnect brings nothing new.
    app.wait_status(&user, &s, "connected").await;
    let r = app.post(&format!("/api/v1/sessions/{s}/sim/drop"), &user.token, json!({})).await;
    assert_eq!(r.status(), 200);
    app.wait_status(&user, &s, "connected").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(inbox(&app, &user).await.len(), 1);
    assert_eq!(received_events(&app, &user).await.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn copies_arriving_together_are_stored_once_beside_the_rest_of_their_batch() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let s = id(&app.connected_session(&user, "main", PHONE).await);
    // Answered once stored: the copies and the others reach the writer together.
    let posts = (0..12).map(|i| {
        let body = if i % 2 == 0 {
            json!({"from": PEER, "text": "copy", "external_id": "SAME"})
        } else {
            json!({"from": PEER, "text": format!("m{i}"), "external_id": format!("M{i}")})
        };
        incoming(&app, &user, &s, body)
    });
    futures_util::future::join_all(posts).await;
    let texts: Vec<String> =
        inbox(&app, &user).await.iter().map(|m| m["text"].as_str().expect("text").into()).collect();
    assert_eq!(texts.len(), 7, "one row per network id: {texts:?}");
    assert_eq!(texts.iter().filter(|t| *t == "copy").count(), 1, "{texts:?}");
    let events = received_events(&app, &user).await;
    assert_eq!(events.len(), 7, "one message.received per stored message");
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().expect("seq")).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "gap-free: {seqs:?}");
    app.stop().await;
}
