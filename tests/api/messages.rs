use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{json, Value};
use wahub::db::entities::message;
use wahub_tests::{eventually, json_of, spawn_app, spawn_app_with, Receiver, TestApp, TestUser};

const PEER: &str = "6289876543210";

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

async fn send(app: &TestApp, user: &TestUser, body: Value) -> reqwest::Response {
    app.post("/api/v1/messages", &user.token, body).await
}

async fn sim_sent(app: &TestApp, user: &TestUser, session: &str) -> Vec<Value> {
    let sent = json_of(app.get(&format!("/api/v1/sessions/{session}/sim/sent"), &user.token).await, 200).await;
    sent.as_array().expect("array").clone()
}

async fn list(app: &TestApp, user: &TestUser, query: &str) -> Vec<Value> {
    let list = json_of(app.get(&format!("/api/v1/messages{query}"), &user.token).await, 200).await;
    list.as_array().expect("array").clone()
}

async fn health(app: &TestApp, user: &TestUser, session: &str) -> Value {
    json_of(app.get(&format!("/api/v1/sessions/{session}/health"), &user.token).await, 200).await
}

#[tokio::test]
async fn text_goes_through_the_primary_session_and_is_reported_sent() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let primary = id(&app.connected_session(&user, "main", "6281234567890").await);
    let second = id(&app.connected_session(&user, "second", "6281111111111").await);
    let mut ws = app.ws(&user, None).await;
    assert_eq!(ws.next_json().await["type"], "hello");

    let accepted = json_of(send(&app, &user, json!({"to": "+62 898-7654-3210", "text": "hello"})).await, 202).await;
    assert_eq!(accepted["status"], "queued");
    assert_eq!(accepted["session_id"], primary.as_str(), "the primary session sends by default");
    let update = ws.next_event("message.updated", Some(&primary)).await;
    assert_eq!(update["data"], json!({"id": accepted["id"], "status": "sent"}));

    let sent = sim_sent(&app, &user, &primary).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["to"], PEER);
    assert_eq!(sent[0]["text"], "hello");
    assert!(sim_sent(&app, &user, &second).await.is_empty());

    // An explicit session_id picks that session.
    let other =
        json_of(send(&app, &user, json!({"session_id": second, "to": PEER, "text": "via second"})).await, 202).await;
    assert_eq!(other["session_id"], second.as_str());
    eventually(10, "the second session to send", || async {
        (sim_sent(&app, &user, &second).await.len() == 1).then_some(())
    })
    .await;

    let out = list(&app, &user, &format!("?session_id={primary}")).await;
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["id"], accepted["id"]);
    assert_eq!(out[0]["direction"], "out");
    assert_eq!(out[0]["peer"], PEER);
    assert_eq!(out[0]["text"], "hello");
    assert_eq!(out[0]["status"], "sent");
    assert!(out[0]["external_id"].as_str().unwrap().starts_with("SIM"));
    app.stop().await;
}

#[tokio::test]
async fn media_from_base64_and_from_a_url() {
    let app = spawn_app().await;
    let files = Receiver::start().await;
    let user = app.register("a@example.com").await;
    let s = id(&app.connected_session(&user, "main", "6281234567890").await);
    let inline = json!({"to": PEER, "media": {"mimetype": "image/png", "data_base64": "iVBORw0KGgo=", "filename": "a.png", "caption": "look"}});
    let a = json_of(send(&app, &user, inline).await, 202).await;
    let by_url = json!({"to": PEER, "media": {"mimetype": "text/plain", "url": files.url}});
    let b = json_of(send(&app, &user, by_url).await, 202).await;
    let sent = eventually(10, "both media messages", || async {
        let sent = sim_sent(&app, &user, &s).await;
        (sent.len() == 2).then_some(sent)
    })
    .await;
    assert_eq!(sent[0]["media_mimetype"], "image/png");
    assert_eq!(sent[0]["text"], "look");
    assert_eq!(sent[1]["media_mimetype"], "text/plain");
    assert_eq!(files.requests()[0].method, "GET", "wahub downloaded the media");
    // The phone has both; wahub records `sent` right after the engine accepted each.
    let listed = eventually(10, "both messages marked sent", || async {
        let listed = list(&app, &user, "").await;
        listed.iter().all(|m| m["status"] == "sent").then_some(listed)
    })
    .await;
    let find = |id: &Value| listed.iter().find(|m| m["id"] == *id).cloned().unwrap();
    let a = find(&a["id"]);
    assert_eq!(a["status"], "sent");
    assert_eq!(a["media"]["mimetype"], "image/png");
    assert_eq!(a["media"]["filename"], "a.png");
    assert_eq!(a["media"]["caption"], "look");
    assert!(a["media"].get("data_base64").is_none(), "file data is not listed");
    assert_eq!(find(&b["id"])["status"], "sent");

    for bad in [
        json!({"to": PEER}),
        json!({"to": PEER, "text": ""}),
        json!({"to": PEER, "media": {"mimetype": "image/png"}}),
        json!({"to": PEER, "media": {"mimetype": "image/png", "data_base64": "AA==", "url": "https://example.com/a.png"}}),
        json!({"to": PEER, "media": {"mimetype": "image/png", "data_base64": "not base64!"}}),
        json!({"to": PEER, "media": {"mimetype": "image/png", "url": "ftp://example.com/a.png"}}),
        json!({"to": PEER, "media": {"mimetype": "png", "data_base64": "AA=="}}),
    ] {
        let r = send(&app, &user, bad.clone()).await;
        assert_eq!(json_of(r, 422).await["code"], "validation_failed", "{bad}");
    }
    let r = send(&app, &user, json!({"to": "12", "text": "x"})).await;
    assert_eq!(json_of(r, 422).await["code"], "invalid_phone");
    let r = send(&app, &user, json!({"to": 6289876543210u64, "text": "x"})).await;
    assert!(r.status().is_client_error());
    app.stop().await;
}

#[tokio::test]
async fn nothing_can_send_is_409_and_other_users_sessions_are_404() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let other = app.register("b@example.com").await;
    let r = send(&app, &user, json!({"to": PEER, "text": "x"})).await;
    assert_eq!(json_of(r, 409).await["code"], "no_connected_session", "no session at all");
    let stopped = id(&app.create_session(&user, "idle", false).await);
    let r = send(&app, &user, json!({"to": PEER, "text": "x"})).await;
    assert_eq!(json_of(r, 409).await["code"], "no_connected_session", "a stopped primary");
    let r = send(&app, &user, json!({"session_id": stopped, "to": PEER, "text": "x"})).await;
    assert_eq!(json_of(r, 409).await["code"], "no_connected_session");
    let theirs = id(&app.connected_session(&other, "theirs", "6281234567890").await);
    let r = send(&app, &user, json!({"session_id": theirs, "to": PEER, "text": "x"})).await;
    assert_eq!(json_of(r, 404).await["code"], "not_found");
    let r = app.get(&format!("/api/v1/messages?session_id={theirs}"), &user.token).await;
    assert_eq!(json_of(r, 404).await["code"], "not_found");
    assert!(list(&app, &user, "").await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn messages_queued_while_reconnecting_are_sent_in_order_after_reconnect() {
    // Retries every 300 ms, up to 5: the 800 ms outage is survived.
    let app = spawn_app_with(|s| {
        s.sessions.reconnect_base_ms = 300;
        s.sessions.reconnect_max_ms = 300;
    })
    .await;
    let user = app.register("a@example.com").await;
    let s = id(&app.connected_session(&user, "main", "6281234567890").await);
    let mut ws = app.ws(&user, None).await;
    let r = app.post(&format!("/api/v1/sessions/{s}/sim/drop"), &user.token, json!({"down_for_ms": 800})).await;
    assert_eq!(r.status(), 200);
    ws.next_status(&s, "reconnecting").await;

    let mut ids = Vec::new();
    for i in 0..5 {
        let accepted = json_of(send(&app, &user, json!({"to": PEER, "text": format!("m{i}")})).await, 202).await;
        assert_eq!(accepted["status"], "queued");
        ids.push(accepted["id"].clone());
    }
    assert_eq!(app.session(&user, &s).await["status"], "reconnecting", "still down while queueing");
    assert!(sim_sent(&app, &user, &s).await.is_empty());
    let stored = list(&app, &user, "").await;
    assert!(stored.iter().all(|m| m["status"] == "queued"), "queued in the database");

    ws.next_status(&s, "connected").await;
    let mut updates = Vec::new();
    while updates.len() < 5 {
        let ev = ws.next_event("message.updated", Some(&s)).await;
        assert_eq!(ev["data"]["status"], "sent");
        updates.push(ev["data"]["id"].clone());
    }
    assert_eq!(updates, ids, "sent in the order they were queued");
    let texts: Vec<Value> = sim_sent(&app, &user, &s).await.iter().map(|m| m["text"].clone()).collect();
    assert_eq!(texts, vec!["m0", "m1", "m2", "m3", "m4"]);
    app.stop().await;
}

#[tokio::test]
async fn queued_messages_survive_a_restart() {
    // Slow retries: the session is still reconnecting when the server restarts.
    let app = spawn_app_with(|s| s.sessions.reconnect_base_ms = 5_000).await;
    let user = app.register("a@example.com").await;
    let s = id(&app.connected_session(&user, "main", "6281234567890").await);
    app.post(&format!("/api/v1/sessions/{s}/sim/drop"), &user.token, json!({"down_for_ms": 60_000})).await;
    app.wait_status(&user, &s, "reconnecting").await;
    for i in 0..3 {
        json_of(send(&app, &user, json!({"to": PEER, "text": format!("m{i}")})).await, 202).await;
    }
    // A new process (and a network that works again): the queue is still there.
    let app = app.restart().await;
    app.wait_status(&user, &s, "connected").await;
    let sent = eventually(10, "the queue to drain", || async {
        let sent = sim_sent(&app, &user, &s).await;
        (sent.len() == 3).then_some(sent)
    })
    .await;
    let texts: Vec<&str> = sent.iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["m0", "m1", "m2"]);
    eventually(5, "every message marked sent", || async {
        list(&app, &user, "").await.iter().all(|m| m["status"] == "sent").then_some(())
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn queued_messages_fail_when_the_session_gives_up() {
    let app = spawn_app_with(|s| {
        s.sessions.reconnect_max_attempts = 2;
        s.sessions.reconnect_base_ms = 400;
        s.sessions.reconnect_max_ms = 400;
    })
    .await;
    let user = app.register("a@example.com").await;
    let s = id(&app.connected_session(&user, "main", "6281234567890").await);
    let mut ws = app.ws(&user, None).await;
    app.post(&format!("/api/v1/sessions/{s}/sim/drop"), &user.token, json!({"down_for_ms": 60_000})).await;
    ws.next_status(&s, "reconnecting").await;
    let queued = json_of(send(&app, &user, json!({"to": PEER, "text": "doomed"})).await, 202).await;
    let ev = ws.next_event("message.updated", Some(&s)).await;
    assert_eq!(ev["data"]["id"], queued["id"]);
    assert_eq!(ev["data"]["status"], "failed");
    assert!(ev["data"]["error"].as_str().unwrap().contains("max_retries"));
    assert_eq!(app.session(&user, &s).await["status"], "failed");
    let r = send(&app, &user, json!({"to": PEER, "text": "x"})).await;
    assert_eq!(json_of(r, 409).await["code"], "no_connected_session");
    app.stop().await;
}

#[tokio::test]
async fn incoming_messages_are_stored_per_user_and_pushed() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let other = app.register("b@example.com").await;
    let s = id(&app.connected_session(&user, "main", "6281234567890").await);
    app.connected_session(&other, "theirs", "6281111111111").await;
    let mut ws = app.ws(&user, None).await;
    let mut other_ws = app.ws(&other, None).await;
    other_ws.next_json().await;
    let r = app
        .post(
            &format!("/api/v1/sessions/{s}/sim/incoming"),
            &user.token,
            json!({"from": "+62 898 7654 3210", "text": "hi"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let ev = ws.next_event("message.received", Some(&s)).await;
    assert_eq!(ev["data"]["direction"], "in");
    assert_eq!(ev["data"]["peer"], PEER);
    assert_eq!(ev["data"]["text"], "hi");
    assert_eq!(ev["data"]["status"], "received");
    assert_eq!(ev["data"]["session_id"], s.as_str());

    let inbox = list(&app, &user, "?direction=in").await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0]["id"], ev["data"]["id"]);
    assert!(list(&app, &user, "?direction=out").await.is_empty());
    assert!(list(&app, &other, "").await.is_empty(), "another user sees none of it");
    assert!(other_ws
        .try_next_json(Duration::from_millis(300))
        .await
        .ok()
        .flatten()
        .is_none_or(|f| f["event"] != "message.received"));
    assert_eq!(health(&app, &user, &s).await["messages_received_today"], 1);
    app.stop().await;
}

#[tokio::test]
async fn listing_pages_newest_first() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let s = id(&app.connected_session(&user, "main", "6281234567890").await);
    let mut sent = Vec::new();
    for i in 0..7 {
        sent.push(
            json_of(send(&app, &user, json!({"to": PEER, "text": format!("m{i}")})).await, 202).await["id"].clone(),
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    app.post(&format!("/api/v1/sessions/{s}/sim/incoming"), &user.token, json!({"from": PEER, "text": "in"})).await;
    eventually(10, "the incoming message", || async {
        (list(&app, &user, "?direction=in").await.len() == 1).then_some(())
    })
    .await;

    let mut seen = Vec::new();
    let mut query = "?direction=out&limit=3".to_owned();
    loop {
        let page = list(&app, &user, &query).await;
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        let before = last["created_at"].as_str().unwrap().to_owned();
        seen.extend(page.iter().map(|m| m["id"].clone()));
        let encoded: String = before.replace('+', "%2B").replace(':', "%3A");
        query = format!("?direction=out&limit=3&before={encoded}");
    }
    sent.reverse();
    assert_eq!(seen, sent, "every outgoing message once, newest first");
    assert_eq!(list(&app, &user, "").await.len(), 8);
    assert_eq!(list(&app, &user, "?limit=1").await[0]["direction"], "in");
    for bad in ["?limit=0", "?limit=501", "?direction=sideways", "?before=yesterday"] {
        let r = app.get(&format!("/api/v1/messages{bad}"), &user.token).await;
        assert!(r.status().is_client_error(), "{bad}: {}", r.status());
    }
    app.stop().await;
}

#[tokio::test]
async fn daily_limit_and_health_levels() {
    let app = spawn_app_with(|s| s.sessions.daily_message_limit = 10).await;
    let user = app.register("a@example.com").await;
    let s = id(&app.connected_session(&user, "main", "6281234567890").await);
    let h = health(&app, &user, &s).await;
    assert_eq!(
        h,
        json!({"messages_sent_today": 0, "messages_received_today": 0, "daily_limit": 10, "usage_percent": 0.0, "level": "healthy", "connected": true})
    );

    let mut levels = Vec::new();
    for i in 0..10 {
        json_of(send(&app, &user, json!({"to": PEER, "text": format!("m{i}")})).await, 202).await;
        levels.push(health(&app, &user, &s).await["level"].as_str().unwrap().to_owned());
    }
    // 10 % .. 100 %: healthy below 70, warning below 90, then critical.
    let expected: Vec<&str> = [["healthy"; 6].as_slice(), &["warning"; 2], &["critical"; 2]].concat();
    assert_eq!(levels, expected);
    let h = health(&app, &user, &s).await;
    assert_eq!(h["messages_sent_today"], 10);
    assert_eq!(h["usage_percent"], 100.0);

    let r = send(&app, &user, json!({"to": PEER, "text": "one too many"})).await;
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&retry), "Retry-After until UTC midnight: {retry}");
    assert_eq!(json_of(r, 429).await["code"], "daily_limit_reached");
    app.stop().await;
}

#[tokio::test]
async fn concurrent_sends_never_overshoot_the_limit() {
    let app = spawn_app_with(|s| s.sessions.daily_message_limit = 5).await;
    let user = app.register("a@example.com").await;
    app.connected_session(&user, "main", "6281234567890").await;
    let sends = (0..12).map(|i| send(&app, &user, json!({"to": PEER, "text": format!("m{i}")})));
    let statuses: Vec<u16> = futures_util::future::join_all(sends).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 202).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 7, "{statuses:?}");
    app.stop().await;
}

#[tokio::test]
async fn counters_start_again_at_midnight_utc() {
    let app = spawn_app_with(|s| s.sessions.daily_message_limit = 2).await;
    let user = app.register("a@example.com").await;
    let s = id(&app.connected_session(&user, "main", "6281234567890").await);
    // Two messages from yesterday (23:59 UTC) do not count today.
    let yesterday: DateTime<Utc> = wahub::messages::health::start_of_day(Utc::now()) - chrono::Duration::minutes(1);
    for direction in ["out", "out", "in"] {
        message::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            user_id: Set(user.id.parse().unwrap()),
            session_id: Set(s.parse().unwrap()),
            direction: Set(direction.into()),
            peer: Set(PEER.into()),
            text: Set(Some("old".into())),
            media: Set(None),
            status: Set(if direction == "out" { "sent" } else { "received" }.into()),
            error: Set(None),
            external_id: Set(None),
            created_at: Set(yesterday),
            updated_at: Set(yesterday),
        }
        .insert(&app.state.db)
        .await
        .unwrap();
    }
    let h = health(&app, &user, &s).await;
    assert_eq!(h["messages_sent_today"], 0);
    assert_eq!(h["messages_received_today"], 0);
    json_of(send(&app, &user, json!({"to": PEER, "text": "today"})).await, 202).await;
    assert_eq!(health(&app, &user, &s).await["messages_sent_today"], 1);
    app.stop().await;
}

#[tokio::test]
async fn sends_keep_the_minimum_interval() {
    let app = spawn_app_with(|s| s.sessions.min_send_interval_ms = 300).await;
    let user = app.register("a@example.com").await;
    let s = id(&app.connected_session(&user, "main", "6281234567890").await);
    for i in 0..3 {
        json_of(send(&app, &user, json!({"to": PEER, "text": format!("m{i}")})).await, 202).await;
    }
    let sent = eventually(10, "three sends", || async {
        let sent = sim_sent(&app, &user, &s).await;
        (sent.len() == 3).then_some(sent)
    })
    .await;
    let at: Vec<DateTime<Utc>> = sent.iter().map(|m| m["at"].as_str().unwrap().parse().unwrap()).collect();
    for pair in at.windows(2) {
        let gap = (pair[1] - pair[0]).num_milliseconds();
        assert!(gap >= 290, "sends only {gap} ms apart");
    }
    app.stop().await;
}
