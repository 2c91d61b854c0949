//! Session lifecycle under stress: deadlines, slow or silent links, a database that
//! refuses writes, message acknowledgements, shutdown.

use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use wahub_tests::{eventually, json_of, spawn_app_with, TestApp, TestUser};

const PEER: &str = "6289876543210";

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

async fn events(app: &TestApp, user: &TestUser) -> Vec<Value> {
    let list = json_of(app.get("/api/v1/events?since=0&limit=1000", &user.token).await, 200).await;
    list.as_array().unwrap().clone()
}

fn statuses(events: &[Value], sid: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["event"] == "session.status" && e["session_id"] == sid)
        .map(|e| e["data"]["status"].as_str().unwrap().to_owned())
        .collect()
}

fn message_updates(events: &[Value], message: &str) -> Vec<Value> {
    events
        .iter()
        .filter(|e| e["event"] == "message.updated" && e["data"]["id"] == message)
        .map(|e| e["data"].clone())
        .collect()
}

/// Makes the database refuse every update of a session row (a fault injected in the
/// real database, on SQLite and PostgreSQL alike).
async fn refuse_session_updates(app: &TestApp) {
    let sql: &[&str] = if app.db().is_postgres() {
        &[
            "CREATE FUNCTION refuse_update() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_session_updates BEFORE UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION refuse_update()",
        ]
    } else {
        &["CREATE TRIGGER refuse_session_updates BEFORE UPDATE ON sessions BEGIN SELECT RAISE(ABORT, 'refused'); END"]
    };
    for stmt in sql {
        app.state.db.execute_unprepared(stmt).await.expect("install trigger");
    }
}

async fn accept_session_updates(app: &TestApp) {
    let stmt = if app.db().is_postgres() {
        "DROP TRIGGER refuse_session_updates ON sessions"
    } else {
        "DROP TRIGGER refuse_session_updates"
    };
    app.state.db.execute_unprepared(stmt).await.expect("drop trigger");
}

#[tokio::test]
async fn a_start_with_no_qr_and_no_connection_ends_start_timeout() {
    let app = spawn_app_with(|s| {
        s.sessions.start_timeout_ms = 300;
        s.sim.sim_connect_delay_ms = 60_000;
    })
    .await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.create_session(&user, "main", true).await);
    let failed = app.wait_status(&user, &sid, "failed").await;
    assert_eq!(failed["status_reason"], "start_timeout");
    assert_eq!(failed["socket_open"], false);
    app.stop().await;
}

#[tokio::test]
async fn the_start_deadline_does_not_touch_a_session_offering_a_qr() {
    let app = spawn_app_with(|s| s.sessions.start_timeout_ms = 300).await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.create_session(&user, "main", true).await);
    app.wait_status(&user, &sid, "scan_qr").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(app.session(&user, &sid).await["status"], "scan_qr");
    app.stop().await;
}

#[tokio::test]
async fn a_silent_link_is_probed_and_reconnected() {
    let app = spawn_app_with(|s| {
        s.sessions.liveness_idle_ms = 150;
        s.sessions.liveness_probe_timeout_ms = 150;
    })
    .await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.connected_session(&user, "main", "6281234567890").await);
    // A quiet but healthy link answers its probes and stays connected.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let quiet = statuses(&events(&app, &user).await, &sid);
    assert_eq!(quiet.last().map(String::as_str), Some("connected"));
    assert!(!quiet.contains(&"reconnecting".to_owned()), "{quiet:?}");
    // A link that goes silent is found out and replaced.
    let r = app.post(&format!("/api/v1/sessions/{sid}/sim/silence"), &user.token, json!({})).await;
    assert_eq!(r.status(), 200);
    let after = eventually(10, "a reconnect after the link went silent", || async {
        let s = statuses(&events(&app, &user).await, &sid);
        let tail = s[quiet.len()..].to_vec();
        (tail.first().map(String::as_str) == Some("reconnecting")
            && tail.last().map(String::as_str) == Some("connected"))
        .then_some(tail)
    })
    .await;
    assert!(after.iter().all(|s| s == "reconnecting" || s == "connected"), "{after:?}");
    // The new link works: a message arrives.
    let r = app
        .post(&format!("/api/v1/sessions/{sid}/sim/incoming"), &user.token, json!({"from": PEER, "text": "hi"}))
        .await;
    assert_eq!(r.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn a_pair_code_the_link_never_answers_does_not_hold_up_the_session() {
    let app = spawn_app_with(|s| s.sessions.session_call_timeout_ms = 500).await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.create_session(&user, "main", true).await);
    app.wait_status(&user, &sid, "scan_qr").await;
    app.post(&format!("/api/v1/sessions/{sid}/sim/silence"), &user.token, json!({})).await;
    let r =
        app.post(&format!("/api/v1/sessions/{sid}/pair-code"), &user.token, json!({"phone": "6281234567890"})).await;
    assert_eq!(json_of(r, 503).await["code"], "session_busy");
    // The session still answers commands at once (within the same deadline).
    let stopped = json_of(app.post(&format!("/api/v1/sessions/{sid}/stop"), &user.token, json!({})).await, 200).await;
    assert_eq!(stopped["status"], "stopped");
    app.stop().await;
}

#[tokio::test]
async fn a_link_that_closes_slowly_does_not_hold_up_the_session() {
    let app = spawn_app_with(|s| {
        s.sessions.session_call_timeout_ms = 500;
        s.sim.sim_close_delay_ms = 2_000;
    })
    .await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.connected_session(&user, "main", "6281234567890").await);
    let stop = format!("/api/v1/sessions/{sid}/stop");
    let stopped = json_of(app.post(&stop, &user.token, json!({})).await, 200).await;
    assert_eq!(stopped["status"], "stopped");
    // While the old link is still closing, the session answers and can start again;
    // the new link opens once the old one is closed.
    let started = json_of(app.post(&format!("/api/v1/sessions/{sid}/start"), &user.token, json!({})).await, 200).await;
    assert_eq!(started["status"], "starting");
    app.wait_status(&user, &sid, "connected").await;
    app.stop().await;
}

#[tokio::test]
async fn shutdown_closes_every_session_in_parallel_under_one_deadline() {
    let app = spawn_app_with(|s| {
        s.sessions.shutdown_timeout_ms = 1_000;
        s.sim.sim_close_delay_ms = 3_000;
    })
    .await;
    let user = app.register("a@example.com").await;
    for i in 0..4 {
        app.connected_session(&user, &format!("s{i}"), &format!("628111111111{i}")).await;
    }
    let began = Instant::now();
    app.stop().await;
    // One after the other that would be 4 × 3 s.
    let took = began.elapsed();
    assert!(took < Duration::from_secs(6), "shutdown took {took:?}");
}

#[tokio::test]
async fn websockets_are_closed_with_1001_on_shutdown() {
    let app = spawn_app_with(|_| {}).await;
    let user = app.register("a@example.com").await;
    let mut ws = app.ws(&user, None).await;
    assert_eq!(ws.next_json().await["type"], "hello");
    let stopping = tokio::spawn(app.stop());
    assert_eq!(ws.close_code(10).await, Some(1001));
    stopping.await.unwrap();
}

#[tokio::test]
async fn a_command_whose_change_cannot_be_saved_changes_nothing() {
    let app = spawn_app_with(|_| {}).await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.connected_session(&user, "main", "6281234567890").await);
    let uuid: uuid::Uuid = sid.parse().unwrap();
    refuse_session_updates(&app).await;
    let r = app.post(&format!("/api/v1/sessions/{sid}/stop"), &user.token, json!({})).await;
    assert_eq!(json_of(r, 503).await["code"], "storage_unavailable");
    // Memory and database still agree: connected, and the link is still up.
    assert_eq!(app.session(&user, &sid).await["status"], "connected");
    assert!(app.state.sim.as_ref().unwrap().is_linked(uuid), "the stop's effects ran anyway");
    accept_session_updates(&app).await;
    let r = app.post(&format!("/api/v1/sessions/{sid}/stop"), &user.token, json!({})).await;
    assert_eq!(json_of(r, 200).await["status"], "stopped");
    eventually(5, "the link to close", || async { (!app.state.sim.as_ref().unwrap().is_linked(uuid)).then_some(()) })
        .await;
    app.stop().await;
}

#[tokio::test]
async fn a_network_change_that_cannot_be_saved_fails_the_session_visibly() {
    let app = spawn_app_with(|_| {}).await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.connected_session(&user, "main", "6281234567890").await);
    let uuid: uuid::Uuid = sid.parse().unwrap();
    refuse_session_updates(&app).await;
    let r = app.post(&format!("/api/v1/sessions/{sid}/sim/drop"), &user.token, json!({"down_for_ms": 60_000})).await;
    assert_eq!(r.status(), 200);
    // Past the retries (100 + 400 ms) the link is closed rather than left running
    // unrecorded, and no reconnect is attempted; the row still says what memory says.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert!(!app.state.sim.as_ref().unwrap().is_linked(uuid));
    assert_eq!(app.session(&user, &sid).await["status"], "connected");
    accept_session_updates(&app).await;
    let failed = app.wait_status(&user, &sid, "failed").await;
    assert_eq!(failed["status_reason"], "storage_error", "{:?}", statuses(&events(&app, &user).await, &sid));
    assert_eq!(failed["auth_paired"], true, "credentials are kept");
    app.stop().await;
}

#[tokio::test]
async fn a_message_the_server_never_acknowledges_fails_with_no_ack() {
    let app = spawn_app_with(|s| s.sessions.ack_timeout_ms = 300).await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.connected_session(&user, "main", "6281234567890").await);
    app.post(&format!("/api/v1/sessions/{sid}/sim/silence"), &user.token, json!({})).await;
    let sent =
        json_of(app.post("/api/v1/messages", &user.token, json!({"to": PEER, "text": "hello?"})).await, 202).await;
    let mid = id(&sent);
    let updates = eventually(10, "the message to fail", || async {
        let u = message_updates(&events(&app, &user).await, &mid);
        (!u.is_empty()).then_some(u)
    })
    .await;
    assert_eq!(updates, vec![json!({"id": mid, "status": "failed", "error": "no ack"})]);
    app.stop().await;
}

#[tokio::test]
async fn receipts_move_a_message_to_sent_delivered_and_read() {
    let app = spawn_app_with(|_| {}).await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.connected_session(&user, "main", "6281234567890").await);
    let mut ws = app.ws(&user, None).await;
    assert_eq!(ws.next_json().await["type"], "hello");
    let sent = json_of(app.post("/api/v1/messages", &user.token, json!({"to": PEER, "text": "hi"})).await, 202).await;
    let mid = id(&sent);
    assert_eq!(ws.next_event("message.updated", Some(&sid)).await["data"], json!({"id": mid, "status": "sent"}));
    let receipt = |kind: &str| format!("/api/v1/sessions/{sid}/sim/{kind}");
    assert_eq!(app.post(&receipt("delivered"), &user.token, json!({"from": PEER})).await.status(), 200);
    assert_eq!(ws.next_event("message.updated", Some(&sid)).await["data"], json!({"id": mid, "status": "delivered"}));
    assert_eq!(app.post(&receipt("read"), &user.token, json!({"from": PEER})).await.status(), 200);
    assert_eq!(ws.next_event("message.updated", Some(&sid)).await["data"], json!({"id": mid, "status": "read"}));
    // A late delivery receipt does not move it back.
    assert_eq!(app.post(&receipt("delivered"), &user.token, json!({"from": PEER})).await.status(), 200);
    let list = json_of(app.get("/api/v1/messages?direction=out", &user.token).await, 200).await;
    assert_eq!(list[0]["status"], "read");
    assert_eq!(message_updates(&events(&app, &user).await, &mid).len(), 3);
    app.stop().await;
}
