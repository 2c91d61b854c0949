//! wahub's session lifecycle on the real `whatsapp` engine, against wa-peer (an
//! offline WhatsApp server and phone on loopback): the same contract the `sim`
//! engine is held to.

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use wa_peer::{Peer, PeerOptions, Record};
use wahub::db::entities::engine_key;
use wahub_tests::{eventually, json_of, spawn_app_with, TestApp, TestUser};

const PHONE: &str = "15550001111";

async fn peer() -> Peer {
    let peer =
        Peer::start(PeerOptions { qr_rotate_every: Some(Duration::from_millis(700)) }).await.expect("peer starts");
    peer.add_phone(PHONE, "Alice");
    peer
}

fn on_peer(peer: &Peer) -> impl FnOnce(&mut wahub::config::Settings) + '_ {
    move |s| {
        s.sessions.engine = wahub::domain::EngineKind::Whatsapp;
        s.sessions.whatsapp_ws_url = Some(peer.ws_url());
        s.sessions.whatsapp_app_version = Some("2.3000.1000000000".into());
        s.sessions.reconnect_base_ms = 100;
        s.sessions.reconnect_max_ms = 300;
        s.sessions.reconnect_max_attempts = 8;
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

async fn events(app: &TestApp, user: &TestUser) -> Vec<Value> {
    json_of(app.get("/api/v1/events?since=0&limit=1000", &user.token).await, 200)
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn statuses(app: &TestApp, user: &TestUser, sid: &str) -> Vec<String> {
    events(app, user)
        .await
        .into_iter()
        .filter(|e| e["event"] == "session.status" && e["session_id"] == sid)
        .map(|e| e["data"]["status"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn current_qr(app: &TestApp, user: &TestUser, sid: &str) -> Value {
    eventually(20, "a QR on offer", || async {
        let r = app.get(&format!("/api/v1/sessions/{sid}/qr"), &user.token).await;
        (r.status() == 200).then_some(())?;
        r.json::<Value>().await.ok()
    })
    .await
}

/// Like `wait_status`, with room for a fresh pairing: the client waits up to 10 s for
/// an app-state key share the peer's phone does not send (see docs/engines.md).
async fn wait_paired(app: &TestApp, user: &TestUser, sid: &str, status: &str) -> Value {
    eventually(60, &format!("session {sid} to be {status}"), || async {
        let s = app.session(user, sid).await;
        (s["status"] == status).then_some(s)
    })
    .await
}

/// `expires_at - at` of a `session.qr` event, in seconds.
fn qr_lifetime_secs(event: &Value) -> f64 {
    let ts = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().expect("timestamp")).expect("RFC 3339").timestamp_millis()
    };
    (ts(&event["data"]["expires_at"]) - ts(&event["at"])) as f64 / 1000.0
}

fn count(peer: &Peer, pred: impl Fn(&Record) -> bool) -> usize {
    peer.records().iter().filter(|r| pred(r)).count()
}

/// Links a session through a QR scan on the peer's phone; returns its id and device JID.
async fn linked(app: &TestApp, peer: &Peer, user: &TestUser, name: &str) -> (String, String) {
    let s = app.create_session(user, name, true).await;
    let sid = id(&s);
    let qr = current_qr(app, user, &sid).await;
    let jid = peer.scan(PHONE, qr["value"].as_str().expect("qr value")).await.expect("scan");
    wait_paired(app, user, &sid, "connected").await;
    (sid, jid)
}

#[tokio::test(flavor = "multi_thread")]
async fn qr_rotates_then_scan_goes_pairing_then_connected_and_a_restart_logs_in_without_a_qr() {
    let peer = peer().await;
    let app = spawn_app_with(on_peer(&peer)).await;
    let user = app.register("a@example.com").await;
    let mut ws = app.ws(&user, None).await;
    let s = app.create_session(&user, "main", true).await;
    let sid = id(&s);

    // The QR arrives over the WebSocket, then rotates (the peer hands out a new ref).
    let first = ws.next_event("session.qr", Some(&sid)).await;
    let second = ws.next_event("session.qr", Some(&sid)).await;
    assert_ne!(first["data"]["value"], second["data"]["value"]);
    assert!(second["data"]["attempt"].as_u64() > first["data"]["attempt"].as_u64());
    // Each code carries the client's own lifetime: WhatsApp's 60 s for the first code of
    // a `pair-device` (the peer scales rotation down by handing out a new ref instead).
    let lifetime = qr_lifetime_secs(&first);
    assert!((55.0..=61.0).contains(&lifetime), "first QR lives {lifetime} s");
    assert_eq!(count(&peer, |r| matches!(r, Record::Login { .. })), 0);

    // Hold the post-515 login: between `pair-success` and `success` the session must be
    // `pairing`, never `connected`.
    peer.hold_logins();
    let qr = current_qr(&app, &user, &sid).await;
    let jid = peer.scan(PHONE, qr["value"].as_str().expect("value")).await.expect("the phone links the device");
    let user_part = jid.split([':', '@']).next().expect("user").to_owned();
    peer.wait_for(Duration::from_secs(60), |r| matches!(r, Record::LoginHeld { user: u, .. } if *u == user_part))
        .await
        .expect("the new device logs in after 515");
    // Give a wrong `connected` time to show up while the login is held.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let held = app.session(&user, &sid).await;
    assert_eq!(held["status"], "pairing", "before `success`: {held}");
    assert!(!statuses(&app, &user, &sid).await.contains(&"connected".to_owned()));
    peer.release_logins();
    let connected = wait_paired(&app, &user, &sid, "connected").await;
    assert_eq!(connected["phone"], PHONE);
    assert_eq!(connected["push_name"], "Alice");
    assert_eq!(connected["auth_paired"], true);
    assert_eq!(connected["socket_open"], true);
    let seen = statuses(&app, &user, &sid).await;
    let pairing = seen.iter().position(|s| s == "pairing").expect("a pairing status");
    let first_connected = seen.iter().position(|s| s == "connected").expect("connected");
    assert!(pairing < first_connected, "pairing before connected: {seen:?}");
    // Connected only once the device logged in as itself (after the 515 restart).
    assert_eq!(count(&peer, |r| matches!(r, Record::Login { jid: j, .. } if *j == jid)), 1);
    assert!(peer.is_online(&jid));

    // A restart restores the session from the encrypted keys: a login, no QR.
    let registrations = count(&peer, |r| matches!(r, Record::Registration { .. }));
    let qrs_before = events(&app, &user).await.iter().filter(|e| e["event"] == "session.qr").count();
    let app = app.restart_with(on_peer(&peer)).await;
    let restored = wait_paired(&app, &user, &sid, "connected").await;
    assert_eq!(restored["phone"], PHONE);
    assert_eq!(count(&peer, |r| matches!(r, Record::Login { jid: j, .. } if *j == jid)), 2);
    assert_eq!(count(&peer, |r| matches!(r, Record::Registration { .. })), registrations);
    let qrs_after = events(&app, &user).await.iter().filter(|e| e["event"] == "session.qr").count();
    assert_eq!(qrs_before, qrs_after, "restoring must not offer a QR");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unlink_from_the_phone_logs_out_and_wipes_the_keys() {
    let peer = peer().await;
    let app = spawn_app_with(on_peer(&peer)).await;
    let user = app.register("a@example.com").await;
    let (sid, jid) = linked(&app, &peer, &user, "main").await;
    peer.unlink(&jid).expect("unlink");
    let s = app.wait_status(&user, &sid, "logged_out").await;
    assert_eq!(s["status_reason"], "device_removed");
    assert_eq!(s["auth_paired"], false);
    let (session_id, db) = (sid.parse::<uuid::Uuid>().expect("uuid"), &app.state.db);
    let keys = move || async move {
        engine_key::Entity::find().filter(engine_key::Column::SessionId.eq(session_id)).count(db).await.expect("count")
    };
    // The wipe runs once the closing link let go of the keys, just after the status.
    let logged_out = std::time::Instant::now();
    eventually(20, "keys wiped", || async { (keys().await == 0).then_some(()) }).await;
    println!("keys wiped {:?} after logged_out was seen", logged_out.elapsed());
    // ... and no late write of the library's background tasks brings them back.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(keys().await, 0, "keys stay wiped");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn replaced_and_banned_sessions_fail_with_their_reasons() {
    let peer = peer().await;
    let app = spawn_app_with(on_peer(&peer)).await;
    let user = app.register("a@example.com").await;
    let (sid, jid) = linked(&app, &peer, &user, "main").await;
    peer.replace(&jid).expect("replace");
    let s = app.wait_status(&user, &sid, "failed").await;
    assert_eq!(s["status_reason"], "stream_replaced");
    assert_eq!(s["auth_paired"], true, "credentials are kept");

    // Banned: the next login is refused with 402 and the ban code.
    peer.ban(PHONE, 101, 3600).expect("ban");
    let s = json_of(app.post(&format!("/api/v1/sessions/{sid}/start"), &user.token, json!({})).await, 200).await;
    assert_ne!(s["status"], "connected");
    let s = app.wait_status(&user, &sid, "failed").await;
    assert_eq!(s["status_reason"], "temporary_ban");
    assert!(count(&peer, |r| matches!(r, Record::LoginRefused { reason: 402, .. })) >= 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_network_drop_and_a_server_close_reconnect() {
    let peer = peer().await;
    let app = spawn_app_with(on_peer(&peer)).await;
    let user = app.register("a@example.com").await;
    let (sid, jid) = linked(&app, &peer, &user, "main").await;
    let logins = count(&peer, |r| matches!(r, Record::Login { .. }));
    peer.drop_network(Duration::from_millis(600));
    let seen = eventually(20, "reconnecting then connected", || async {
        let s = statuses(&app, &user, &sid).await;
        let last_reconnecting = s.iter().rposition(|x| x == "reconnecting")?;
        (s.last().map(String::as_str) == Some("connected") && last_reconnecting < s.len() - 1).then_some(s)
    })
    .await;
    assert!(seen.contains(&"reconnecting".to_owned()));
    assert!(count(&peer, |r| matches!(r, Record::Login { .. })) > logins);
    assert!(peer.is_online(&jid));

    // A clean server-side close is a network loss too: reconnecting, then connected.
    let logins = count(&peer, |r| matches!(r, Record::Login { .. }));
    let reconnects = seen.iter().filter(|x| *x == "reconnecting").count();
    peer.close(&jid).expect("close");
    eventually(20, "reconnecting again then connected", || async {
        let s = statuses(&app, &user, &sid).await;
        let again = s.iter().filter(|x| *x == "reconnecting").count() > reconnects;
        (again && s.last().map(String::as_str) == Some("connected")).then_some(())
    })
    .await;
    assert!(count(&peer, |r| matches!(r, Record::Login { .. })) > logins);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_phone_paired_into_two_sessions_fails_the_second_with_duplicate_phone() {
    let peer = peer().await;
    let app = spawn_app_with(on_peer(&peer)).await;
    let alice = app.register("alice@example.com").await;
    let bob = app.register("bob@example.com").await;
    let (a, _) = linked(&app, &peer, &alice, "a").await;
    let b = id(&app.create_session(&bob, "b", true).await);
    let qr = current_qr(&app, &bob, &b).await;
    // The same phone links a second device (its :2) into Bob's session.
    let _ = peer.scan(PHONE, qr["value"].as_str().expect("value")).await;
    let failed = app.wait_status(&bob, &b, "failed").await;
    assert_eq!(failed["status_reason"], "duplicate_phone");
    assert_eq!(failed["auth_paired"], false);
    assert_eq!(app.session(&alice, &a).await["status"], "connected");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pairing_by_phone_code_completes_when_the_phone_enters_the_code() {
    let peer = peer().await;
    let app = spawn_app_with(on_peer(&peer)).await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.create_session(&user, "main", true).await);
    current_qr(&app, &user, &sid).await;
    let r = app.post(&format!("/api/v1/sessions/{sid}/pair-code"), &user.token, json!({ "phone": PHONE })).await;
    let code = json_of(r, 200).await["code"].as_str().expect("code").to_owned();
    assert!(!code.is_empty());
    // A wrong code does not link anything.
    assert!(peer.enter_code(PHONE, "ZZZZZZZZ").await.is_err());
    assert!(peer.devices_of(PHONE).is_empty());
    // The companion offers a fresh code after a failed attempt: ask for one again.
    let r = app.post(&format!("/api/v1/sessions/{sid}/pair-code"), &user.token, json!({ "phone": PHONE })).await;
    let code = json_of(r, 200).await["code"].as_str().expect("code").to_owned();
    let jid = peer.enter_code(PHONE, &code).await.expect("the code links the device");
    let connected = wait_paired(&app, &user, &sid, "connected").await;
    assert_eq!(connected["phone"], PHONE);
    assert_eq!(peer.devices_of(PHONE), vec![jid.clone()]);
    assert!(peer.is_online(&jid));
    app.stop().await;
}

/// Two accounts on the peer, each linked into its own wahub session: a message sent
/// through `POST /messages` is Signal-encrypted by one unmodified client (usync and
/// prekey bundles answered by the peer), routed by the peer, decrypted by the other
/// client, and arrives as `message.received` with its text; the sender's ends `sent`.
#[tokio::test(flavor = "multi_thread")]
async fn messages_cross_the_peer_end_to_end_in_both_directions() {
    const BOB: &str = "15550002222";
    let peer = peer().await;
    peer.add_phone(BOB, "Bob");
    let app = spawn_app_with(on_peer(&peer)).await;
    let alice = app.register("alice@example.com").await;
    let bob = app.register("bob@example.com").await;
    let (a, _) = linked(&app, &peer, &alice, "a").await;
    let sb = id(&app.create_session(&bob, "b", true).await);
    let qr = current_qr(&app, &bob, &sb).await;
    let bob_jid = peer.scan(BOB, qr["value"].as_str().expect("value")).await.expect("scan");
    wait_paired(&app, &bob, &sb, "connected").await;
    let mut bob_ws = app.ws(&bob, None).await;
    let mut alice_ws = app.ws(&alice, None).await;

    let accepted =
        json_of(app.post("/api/v1/messages", &alice.token, json!({"to": BOB, "text": "hello bob"})).await, 202).await;
    let got = bob_ws.next_event("message.received", Some(&sb)).await;
    assert_eq!(got["data"]["text"], "hello bob");
    assert_eq!(got["data"]["peer"], PHONE);
    let update = alice_ws.next_event("message.updated", Some(&a)).await;
    assert_eq!(update["data"]["id"], accepted["id"]);
    assert_eq!(update["data"]["status"], "sent");
    assert!(
        count(
            &peer,
            |r| matches!(r, Record::Routed { to, enc, .. } if *to == bob_jid && enc.contains(&"pkmsg".to_owned()))
        ) >= 1
    );

    json_of(app.post("/api/v1/messages", &bob.token, json!({"to": PHONE, "text": "hi alice"})).await, 202).await;
    let got = alice_ws.next_event("message.received", Some(&a)).await;
    assert_eq!(got["data"]["text"], "hi alice");
    assert_eq!(got["data"]["peer"], BOB);
    app.stop().await;
}
