use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use wahub::db::entities::engine_key;
use wahub_tests::{eventually, json_of, spawn_app, spawn_app_with, TestApp, TestUser};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

async fn keys_of(app: &TestApp, session: &str) -> u64 {
    engine_key::Entity::find()
        .filter(engine_key::Column::SessionId.eq(session.parse::<uuid::Uuid>().unwrap()))
        .count(&app.state.db)
        .await
        .unwrap()
}

/// Keys are wiped once the closing link is done with them (it may still be unlinking the
/// device when `logged_out` is recorded), so they go shortly after the status, not with it.
async fn keys_wiped(app: &TestApp, session: &str) {
    eventually(15, "the session's keys to be wiped", || async { (keys_of(app, session).await == 0).then_some(()) })
        .await;
}

async fn events(app: &TestApp, user: &TestUser) -> Vec<Value> {
    let list = json_of(app.get("/api/v1/events?since=0&limit=1000", &user.token).await, 200).await;
    list.as_array().unwrap().clone()
}

#[tokio::test]
async fn create_offers_a_qr_in_json_svg_and_png() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let s = app.create_session(&user, "main", true).await;
    assert_eq!(s["status"], "scan_qr");
    assert_eq!(s["engine"], "sim");
    assert_eq!(s["is_primary"], true);
    assert_eq!(s["auth_paired"], false);
    assert!(s["qr_expires_at"].is_string());
    let qr = json_of(app.get(&format!("/api/v1/sessions/{}/qr", id(&s)), &user.token).await, 200).await;
    assert_eq!(qr["attempt"], 1);
    assert_eq!(qr["max_attempts"], 6);
    assert!(qr["value"].as_str().unwrap().starts_with("2@"));
    let svg = app.get(&format!("/api/v1/sessions/{}/qr?format=svg", id(&s)), &user.token).await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("<svg"));
    let png = app.get(&format!("/api/v1/sessions/{}/qr?format=png", id(&s)), &user.token).await;
    assert_eq!(png.headers()["content-type"], "image/png");
    assert_eq!(&png.bytes().await.unwrap()[1..4], b"PNG");
    // A stopped session has no QR.
    let stopped = app.create_session(&user, "idle", false).await;
    assert_eq!(stopped["status"], "stopped");
    let r = app.get(&format!("/api/v1/sessions/{}/qr", id(&stopped)), &user.token).await;
    assert_eq!(json_of(r, 404).await["code"], "no_qr");
    app.stop().await;
}

#[tokio::test]
async fn twenty_concurrent_starts_share_one_qr() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let s = app.create_session(&user, "main", false).await;
    let path = format!("/api/v1/sessions/{}/start", id(&s));
    let starts = (0..20).map(|_| app.post(&path, &user.token, json!({})));
    let results = futures_util::future::join_all(starts).await;
    let mut expiries = Vec::new();
    for r in results {
        let body = json_of(r, 200).await;
        assert_eq!(body["status"], "scan_qr");
        expiries.push(body["qr_expires_at"].clone());
    }
    expiries.dedup();
    assert_eq!(expiries.len(), 1, "every start saw the same QR");
    let qrs: Vec<_> = events(&app, &user).await.into_iter().filter(|e| e["event"] == "session.qr").collect();
    assert_eq!(qrs.len(), 1, "exactly one QR was generated");
    app.stop().await;
}

#[tokio::test]
async fn qr_rotates_then_times_out() {
    let app = spawn_app_with(|s| {
        s.sessions.qr_first_timeout_ms = 300;
        s.sessions.qr_next_timeout_ms = 100;
        s.sessions.qr_max_attempts = 3;
    })
    .await;
    let user = app.register("a@example.com").await;
    let s = app.create_session(&user, "main", true).await;
    let failed = app.wait_status(&user, &id(&s), "failed").await;
    assert_eq!(failed["status_reason"], "qr_timeout");
    assert!(failed["qr_expires_at"].is_null());
    let attempts: Vec<_> = events(&app, &user)
        .await
        .into_iter()
        .filter(|e| e["event"] == "session.qr")
        .map(|e| e["data"]["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, vec![1, 2, 3]);
    let r = app.get(&format!("/api/v1/sessions/{}/qr", id(&s)), &user.token).await;
    assert_eq!(r.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn scan_goes_pairing_then_connected_never_connected_early() {
    let app = spawn_app_with(|s| s.sim.sim_pair_delay_ms = 400).await;
    let user = app.register("a@example.com").await;
    let s = app.create_session(&user, "main", true).await;
    let sid = id(&s);
    let r = app
        .post(
            &format!("/api/v1/sessions/{sid}/sim/scan"),
            &user.token,
            json!({"phone": "+62 812-3456-7890", "push_name": "Ann"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let pairing = app.wait_status(&user, &sid, "pairing").await;
    assert_eq!(pairing["socket_open"], true);
    assert_eq!(pairing["auth_paired"], false);
    let connected = app.wait_status(&user, &sid, "connected").await;
    assert_eq!(connected["auth_paired"], true);
    assert_eq!(connected["socket_open"], true);
    assert_eq!(connected["phone"], "6281234567890");
    assert_eq!(connected["push_name"], "Ann");
    assert!(connected["last_connected_at"].is_string());
    // The row is written just before its event is appended: wait for the event too.
    let statuses: Vec<String> = eventually(5, "the connected event", || async {
        let s: Vec<String> = events(&app, &user)
            .await
            .into_iter()
            .filter(|e| e["event"] == "session.status")
            .map(|e| e["data"]["status"].as_str().unwrap().to_owned())
            .collect();
        s.contains(&"connected".to_owned()).then_some(s)
    })
    .await;
    let first_connected = statuses.iter().position(|s| s == "connected").unwrap();
    assert!(statuses[..first_connected].contains(&"pairing".to_owned()));
    // Scanning with no QR on offer is refused.
    let r = app.post(&format!("/api/v1/sessions/{sid}/sim/scan"), &user.token, json!({"phone": "6281234567890"})).await;
    assert_eq!(json_of(r, 409).await["code"], "no_qr");
    app.stop().await;
}

#[tokio::test]
async fn a_failed_scan_fails_the_session() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let s = app.create_session(&user, "main", true).await;
    assert_eq!(
        app.post(&format!("/api/v1/sessions/{}/sim/fail-scan", id(&s)), &user.token, json!({})).await.status(),
        200
    );
    let failed = app.wait_status(&user, &id(&s), "failed").await;
    assert_eq!(failed["status_reason"], "scan_failed");
    app.stop().await;
}

#[tokio::test]
async fn force_relink_wipes_credentials_and_pairs_afresh() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let s = app.connected_session(&user, "main", "6281234567890").await;
    let sid = id(&s);
    assert!(keys_of(&app, &sid).await > 0);
    let r = app.post(&format!("/api/v1/sessions/{sid}/start"), &user.token, json!({"force_relink": true})).await;
    let body = json_of(r, 200).await;
    assert_eq!(body["status"], "scan_qr");
    assert_eq!(body["auth_paired"], false);
    assert!(body["phone"].is_null());
    assert_eq!(keys_of(&app, &sid).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_restart_restores_paired_sessions_without_a_qr() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let s = app.connected_session(&user, "main", "6281234567890").await;
    let pending = app.create_session(&user, "pending", true).await;
    let sid = id(&s);
    let app = app.restart().await;
    let before = events(&app, &user).await.len();
    let restored = app.wait_status(&user, &sid, "connected").await;
    assert_eq!(restored["phone"], "6281234567890");
    let after = events(&app, &user).await;
    assert!(after[before..].iter().all(|e| e["event"] != "session.qr"), "restoring must not offer a QR");
    // A session that was only offering a QR cannot be restored: it is stopped, honestly.
    let p = app.wait_status(&user, &id(&pending), "stopped").await;
    assert_eq!(p["status_reason"], "server_restart");
    // And it can still send.
    let r = app.post("/api/v1/messages", &user.token, json!({"to": "6289999999999", "text": "after restart"})).await;
    assert_eq!(r.status(), 202);
    app.stop().await;
}

#[tokio::test]
async fn right_after_a_restart_no_session_claims_to_be_connected() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.connected_session(&user, "main", "6281234567890").await);
    // Links come back slowly: the first answer after the restart must not say connected.
    let app = app
        .restart_with(|s| {
            s.sessions.restore_jitter_ms = 1_000;
            s.sim.sim_connect_delay_ms = 500;
        })
        .await;
    let list = json_of(app.get("/api/v1/sessions", &user.token).await, 200).await;
    let s = list.as_array().unwrap().iter().find(|s| s["id"] == sid.as_str()).unwrap().clone();
    assert_eq!(s["status"], "starting", "{s}");
    assert_eq!(s["status_reason"], "server_restart");
    assert_eq!(s["socket_open"], false);
    assert_eq!(s["auth_paired"], true);
    let restored = app.wait_status(&user, &sid, "connected").await;
    assert!(restored["status_reason"].is_null());
    app.stop().await;
}

#[tokio::test]
async fn a_restart_reconnects_paired_sessions_a_few_at_a_time() {
    let app = spawn_app_with(|s| s.sessions.max_sessions_per_user = 20).await;
    let user = app.register("a@example.com").await;
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(id(&app.connected_session(&user, &format!("s{i}"), &format!("62811111111{i:02}")).await));
    }
    let app = app
        .restart_with(|s| {
            s.sessions.restore_concurrency = 3;
            s.sessions.restore_jitter_ms = 100;
            s.sim.sim_connect_delay_ms = 150;
        })
        .await;
    for sid in &ids {
        app.wait_status(&user, sid, "connected").await;
    }
    let sim = app.state.sim.as_ref().unwrap();
    let most = sim.max_concurrent_connects();
    assert!((1..=3).contains(&most), "{most} sessions connected at once; the limit is 3");
    app.stop().await;
}

#[tokio::test]
async fn a_lost_link_reconnects_with_backoff_or_gives_up() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let s = app.connected_session(&user, "main", "6281234567890").await;
    let sid = id(&s);
    let r = app.post(&format!("/api/v1/sessions/{sid}/sim/drop"), &user.token, json!({"down_for_ms": 150})).await;
    assert_eq!(r.status(), 200);
    let statuses = eventually(10, "reconnect", || async {
        let ev = events(&app, &user).await;
        let s: Vec<String> = ev
            .iter()
            .filter(|e| e["event"] == "session.status")
            .map(|e| e["data"]["status"].as_str().unwrap().to_owned())
            .collect();
        (s.last().map(String::as_str) == Some("connected") && s.contains(&"reconnecting".to_owned())).then_some(s)
    })
    .await;
    assert!(statuses.iter().rev().take_while(|s| *s != "reconnecting").all(|s| s == "connected"));
    let reconnected = app.session(&user, &sid).await;
    assert!(reconnected["last_disconnected_at"].is_string());
    // Down for longer than every retry: the session gives up with max_retries.
    let r = app.post(&format!("/api/v1/sessions/{sid}/sim/drop"), &user.token, json!({"down_for_ms": 60_000})).await;
    assert_eq!(r.status(), 200);
    let failed = app.wait_status(&user, &sid, "failed").await;
    assert_eq!(failed["status_reason"], "max_retries");
    assert_eq!(failed["auth_paired"], true, "credentials are kept");
    app.stop().await;
}

fn statuses_of(events: &[Value], sid: &str) -> Vec<(String, Value)> {
    events
        .iter()
        .filter(|e| e["event"] == "session.status" && e["session_id"] == sid)
        .map(|e| (e["data"]["status"].as_str().unwrap().to_owned(), e["data"]["reason"].clone()))
        .collect()
}

#[tokio::test]
async fn an_unpaired_session_losing_its_network_retries_as_starting_never_reconnecting() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.create_session(&user, "main", true).await);
    app.wait_status(&user, &sid, "scan_qr").await;
    // A short outage: it comes back offering a fresh QR.
    let r = app.post(&format!("/api/v1/sessions/{sid}/sim/drop"), &user.token, json!({"down_for_ms": 150})).await;
    assert_eq!(r.status(), 200);
    let statuses = eventually(10, "a new QR after the outage", || async {
        let s = statuses_of(&events(&app, &user).await, &sid);
        (s.len() >= 4 && s.last().is_some_and(|(st, _)| st == "scan_qr")).then_some(s)
    })
    .await;
    assert!(statuses.contains(&("starting".to_owned(), json!("network"))), "{statuses:?}");
    // A long outage: it gives up as failed/network.
    let r = app.post(&format!("/api/v1/sessions/{sid}/sim/drop"), &user.token, json!({"down_for_ms": 60_000})).await;
    assert_eq!(r.status(), 200);
    let failed = app.wait_status(&user, &sid, "failed").await;
    assert_eq!(failed["status_reason"], "network");
    assert_eq!(failed["auth_paired"], false);
    let statuses = statuses_of(&events(&app, &user).await, &sid);
    assert!(statuses.iter().all(|(st, _)| st != "reconnecting"), "reconnecting is for paired sessions: {statuses:?}");
    app.stop().await;
}

#[tokio::test]
async fn unlink_logout_and_delete_wipe_credentials() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let a = id(&app.connected_session(&user, "a", "6281111111111").await);
    app.post(&format!("/api/v1/sessions/{a}/sim/unlink"), &user.token, json!({})).await;
    let s = app.wait_status(&user, &a, "logged_out").await;
    assert_eq!(s["status_reason"], "device_removed");
    assert_eq!(s["auth_paired"], false);
    keys_wiped(&app, &a).await;

    let b = id(&app.connected_session(&user, "b", "6282222222222").await);
    let s = json_of(app.post(&format!("/api/v1/sessions/{b}/logout"), &user.token, json!({})).await, 200).await;
    assert_eq!(s["status"], "logged_out");
    keys_wiped(&app, &b).await;

    let c = id(&app.connected_session(&user, "c", "6283333333333").await);
    assert!(keys_of(&app, &c).await > 0);
    assert_eq!(app.delete(&format!("/api/v1/sessions/{c}"), &user.token).await.status(), 204);
    assert_eq!(keys_of(&app, &c).await, 0);
    assert_eq!(app.get(&format!("/api/v1/sessions/{c}"), &user.token).await.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn a_start_racing_a_delete_cannot_resurrect_the_session() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    for round in 0..5 {
        let sid = id(&app.connected_session(&user, &format!("s{round}"), &format!("628111111111{round}")).await);
        let start = format!("/api/v1/sessions/{sid}/start");
        let starts = async {
            let mut answers = Vec::new();
            for _ in 0..10 {
                let batch = (0..5).map(|_| app.post(&start, &user.token, json!({})));
                answers.extend(futures_util::future::join_all(batch).await.into_iter().map(|r| r.status().as_u16()));
            }
            answers
        };
        let path = format!("/api/v1/sessions/{sid}");
        let delete = app.delete(&path, &user.token);
        let (answers, deleted) = tokio::join!(starts, delete);
        assert_eq!(deleted.status(), 204);
        assert!(answers.iter().all(|s| [200, 404, 503].contains(s)), "{answers:?}");
        // Whatever a late start did, nothing of the session is left running or stored.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert_eq!(app.state.sessions.live_count(), 0, "round {round}: a task survived the delete");
        assert_eq!(keys_of(&app, &sid).await, 0);
        let ev = events(&app, &user).await;
        let gone = ev.iter().position(|e| e["event"] == "session.deleted" && e["session_id"] == sid.as_str()).unwrap();
        assert!(
            ev[gone + 1..].iter().all(|e| e["session_id"] != sid.as_str()),
            "round {round}: events after the delete: {:?}",
            &ev[gone + 1..]
        );
        assert_eq!(app.post(&start, &user.token, json!({})).await.status(), 404);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_start_that_read_the_row_before_the_delete_cannot_resurrect_it() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.connected_session(&user, "a", "6281111111111").await);
    let uuid: uuid::Uuid = sid.parse().unwrap();
    // The exact interleaving: a start handler loaded the row, then the delete unlinked the
    // session (its row is not deleted yet), then the start reaches the manager.
    let row = wahub::db::entities::session::Entity::find_by_id(uuid).one(&app.state.db).await.unwrap().unwrap();
    app.state.sessions.delete(&row).await.unwrap();
    let late = app.state.sessions.start(&row, false).await;
    assert_eq!(late.err().map(|p| p.status.as_u16()), Some(404));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(app.state.sessions.live_count(), 0, "the late start spawned a task");
    assert!(!app.state.sim.as_ref().unwrap().is_linked(uuid));
    app.stop().await;
}

#[tokio::test]
async fn engine_keys_go_with_their_session() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.connected_session(&user, "a", "6281111111111").await);
    assert!(keys_of(&app, &sid).await > 0);
    // Deleting the row alone (as a crash between unlink and delete would leave it) takes the keys.
    wahub::db::entities::session::Entity::delete_by_id(sid.parse::<uuid::Uuid>().unwrap())
        .exec(&app.state.db)
        .await
        .unwrap();
    assert_eq!(keys_of(&app, &sid).await, 0);
    // And no key can be stored for a session that does not exist.
    let ghost = app.state.sessions.keys(uuid::Uuid::new_v4());
    assert!(ghost.put("sim", "creds", b"x").await.is_err(), "an orphan key was stored");
    app.stop().await;
}

#[tokio::test]
async fn stop_keeps_credentials_and_start_reconnects_without_qr() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.connected_session(&user, "a", "6281111111111").await);
    let s = json_of(app.post(&format!("/api/v1/sessions/{sid}/stop"), &user.token, json!({})).await, 200).await;
    assert_eq!(s["status"], "stopped");
    assert_eq!(s["status_reason"], "user_stop");
    assert_eq!(s["auth_paired"], true);
    let s = json_of(app.post(&format!("/api/v1/sessions/{sid}/start"), &user.token, json!({})).await, 200).await;
    assert_eq!(s["status"], "connected");
    app.stop().await;
}

#[tokio::test]
async fn one_phone_has_one_active_session() {
    let app = spawn_app().await;
    let alice = app.register("alice@example.com").await;
    let bob = app.register("bob@example.com").await;
    let a = id(&app.connected_session(&alice, "a", "6281234567890").await);
    // Bob pairs the same phone: his session fails, Alice's stays connected.
    let b = id(&app.create_session(&bob, "b", true).await);
    app.post(&format!("/api/v1/sessions/{b}/sim/scan"), &bob.token, json!({"phone": "6281234567890@s.whatsapp.net"}))
        .await;
    let failed = app.wait_status(&bob, &b, "failed").await;
    assert_eq!(failed["status_reason"], "duplicate_phone");
    assert_eq!(failed["auth_paired"], false);
    keys_wiped(&app, &b).await; // the duplicate is unlinked
    assert_eq!(app.session(&alice, &a).await["status"], "connected");
    // Creating with a phone in use is refused without saying whose.
    let r = app.post("/api/v1/sessions", &bob.token, json!({"name": "c", "phone": "+62 812 3456 7890"})).await;
    let p = json_of(r, 409).await;
    assert_eq!(p["code"], "phone_in_use");
    assert!(!p["detail"].as_str().unwrap().contains("alice"));
    let check =
        json_of(app.post("/api/v1/phone/check", &bob.token, json!({"phone": "+62-812-3456-7890"})).await, 200).await;
    assert_eq!(check, json!({"phone": "6281234567890", "valid": true, "in_use": true}));
    let check = json_of(app.post("/api/v1/phone/check", &bob.token, json!({"phone": "12ab"})).await, 200).await;
    assert_eq!(check["valid"], false);
    // Once Alice logs out, the phone is free again.
    app.post(&format!("/api/v1/sessions/{a}/logout"), &alice.token, json!({})).await;
    let check =
        json_of(app.post("/api/v1/phone/check", &bob.token, json!({"phone": "6281234567890"})).await, 200).await;
    assert_eq!(check["in_use"], false);
    app.stop().await;
}

#[tokio::test]
async fn invalid_phones_and_names_are_422() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let r = app.post("/api/v1/sessions", &user.token, json!({"name": "x", "phone": "12345"})).await;
    assert_eq!(json_of(r, 422).await["code"], "invalid_phone");
    let r = app.post("/api/v1/sessions", &user.token, json!({"name": "   "})).await;
    assert_eq!(json_of(r, 422).await["code"], "validation_failed");
    let r = app.post("/api/v1/sessions", &user.token, json!({"name": "y".repeat(65)})).await;
    assert_eq!(r.status(), 422);
    let list = json_of(app.get("/api/v1/sessions", &user.token).await, 200).await;
    assert!(list.as_array().unwrap().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn names_are_unique_per_user_and_renames_respect_it() {
    let app = spawn_app().await;
    let a = app.register("a@example.com").await;
    let b = app.register("b@example.com").await;
    let first = app.create_session(&a, "work", false).await;
    app.create_session(&a, "home", false).await;
    let r = app.post("/api/v1/sessions", &a.token, json!({"name": "work", "start": false})).await;
    assert_eq!(json_of(r, 409).await["code"], "name_taken");
    // Another user may use the same name.
    app.create_session(&b, "work", false).await;
    let r = app
        .request(reqwest::Method::PATCH, &format!("/api/v1/sessions/{}", id(&first)), Some(&a.token))
        .json(&json!({"name": "home"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(r, 409).await["code"], "name_taken");
    let r = app
        .request(reqwest::Method::PATCH, &format!("/api/v1/sessions/{}", id(&first)), Some(&a.token))
        .json(&json!({"name": "office"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(r, 200).await["name"], "office");
    app.stop().await;
}

#[tokio::test]
async fn the_instance_limit_holds_under_concurrency() {
    let app = spawn_app_with(|s| s.sessions.max_sessions_per_user = 3).await;
    let user = app.register("a@example.com").await;
    let creates =
        (0..10).map(|i| app.post("/api/v1/sessions", &user.token, json!({"name": format!("s{i}"), "start": false})));
    let results = futures_util::future::join_all(creates).await;
    let mut created = 0;
    for r in results {
        match r.status().as_u16() {
            201 => created += 1,
            409 => assert_eq!(json_of(r, 409).await["code"], "instance_limit_reached"),
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 3);
    let list = json_of(app.get("/api/v1/sessions", &user.token).await, 200).await;
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert_eq!(list.as_array().unwrap().iter().filter(|s| s["is_primary"] == true).count(), 1);
    app.stop().await;
}

#[tokio::test]
async fn exactly_one_primary_at_all_times() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(id(&app.create_session(&user, &format!("s{i}"), false).await));
    }
    let primaries = |list: &Value| -> Vec<String> {
        list.as_array().unwrap().iter().filter(|s| s["is_primary"] == true).map(id).collect()
    };
    let list = json_of(app.get("/api/v1/sessions", &user.token).await, 200).await;
    assert_eq!(primaries(&list), vec![ids[0].clone()], "the first session is primary");
    // Concurrent set-primary calls over every session: still exactly one primary.
    let paths: Vec<String> = (0..20).map(|i| format!("/api/v1/sessions/{}/primary", ids[i % 5])).collect();
    let sets = paths.iter().map(|p| app.post(p, &user.token, json!({})));
    for r in futures_util::future::join_all(sets).await {
        assert_eq!(r.status(), 200);
    }
    let list = json_of(app.get("/api/v1/sessions", &user.token).await, 200).await;
    assert_eq!(primaries(&list).len(), 1);
    let r = json_of(app.post(&format!("/api/v1/sessions/{}/primary", ids[3]), &user.token, json!({})).await, 200).await;
    assert_eq!(r["is_primary"], true);
    let ev = events(&app, &user).await;
    let last = ev.iter().rev().find(|e| e["event"] == "session.primary").unwrap();
    assert_eq!(last["data"]["session_id"], ids[3].as_str());
    // Deleting the primary promotes another.
    assert_eq!(app.delete(&format!("/api/v1/sessions/{}", ids[3]), &user.token).await.status(), 204);
    let list = json_of(app.get("/api/v1/sessions", &user.token).await, 200).await;
    let p = primaries(&list);
    assert_eq!(p.len(), 1);
    assert_ne!(p[0], ids[3]);
    // The database refuses a second primary even if code tried.
    use sea_orm::sea_query::Expr;
    let res = wahub::db::entities::session::Entity::update_many()
        .col_expr(wahub::db::entities::session::Column::IsPrimary, Expr::value(true))
        .filter(wahub::db::entities::session::Column::UserId.eq(user.id.parse::<uuid::Uuid>().unwrap()))
        .exec(&app.state.db)
        .await;
    assert!(res.is_err(), "a partial unique index keeps one primary per user");
    app.stop().await;
}

#[tokio::test]
async fn other_users_sessions_are_404() {
    let app = spawn_app().await;
    let owner = app.register("owner@example.com").await;
    let other = app.register("other@example.com").await;
    let s = id(&app.create_session(&owner, "mine", true).await);
    for (method, path) in [
        (reqwest::Method::GET, format!("/api/v1/sessions/{s}")),
        (reqwest::Method::PATCH, format!("/api/v1/sessions/{s}")),
        (reqwest::Method::DELETE, format!("/api/v1/sessions/{s}")),
        (reqwest::Method::POST, format!("/api/v1/sessions/{s}/start")),
        (reqwest::Method::POST, format!("/api/v1/sessions/{s}/stop")),
        (reqwest::Method::POST, format!("/api/v1/sessions/{s}/logout")),
        (reqwest::Method::POST, format!("/api/v1/sessions/{s}/primary")),
        (reqwest::Method::GET, format!("/api/v1/sessions/{s}/qr")),
        (reqwest::Method::GET, format!("/api/v1/sessions/{s}/health")),
        (reqwest::Method::POST, format!("/api/v1/sessions/{s}/sim/scan")),
    ] {
        let r = app
            .request(method.clone(), &path, Some(&other.token))
            .json(&json!({"name": "x", "phone": "6281234567890"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{method} {path}");
        assert_eq!(json_of(r, 404).await["code"], "not_found");
    }
    let list = json_of(app.get("/api/v1/sessions", &other.token).await, 200).await;
    assert!(list.as_array().unwrap().is_empty());
    assert_eq!(app.session(&owner, &s).await["status"], "scan_qr");
    app.stop().await;
}

#[tokio::test]
async fn pairing_by_phone_code() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.create_session(&user, "main", false).await);
    let r = app
        .post(&format!("/api/v1/sessions/{sid}/pair-code"), &user.token, json!({"phone": "+62 812 3456 7890"}))
        .await;
    let code = json_of(r, 200).await;
    let text = code["code"].as_str().unwrap();
    assert_eq!(text.len(), 9);
    assert!(code["expires_at"].is_string());
    let ev = events(&app, &user).await;
    assert!(ev.iter().any(|e| e["event"] == "session.pair_code" && e["data"]["code"] == text));
    // The phone enters the code.
    app.post(&format!("/api/v1/sessions/{sid}/sim/scan"), &user.token, json!({"phone": "6281234567890"})).await;
    let s = app.wait_status(&user, &sid, "connected").await;
    assert_eq!(s["phone"], "6281234567890");
    let r =
        app.post(&format!("/api/v1/sessions/{sid}/pair-code"), &user.token, json!({"phone": "6281234567890"})).await;
    assert_eq!(json_of(r, 409).await["code"], "already_paired");
    let r = app.post(&format!("/api/v1/sessions/{sid}/pair-code"), &user.token, json!({"phone": "123"})).await;
    assert_eq!(json_of(r, 422).await["code"], "invalid_phone");
    app.stop().await;
}

#[tokio::test]
async fn idle_sessions_are_stopped() {
    let app = spawn_app_with(|s| {
        s.sessions.idle_timeout_secs = 1;
        s.server.housekeeping_secs = 1;
    })
    .await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.connected_session(&user, "main", "6281234567890").await);
    let s = app.wait_status(&user, &sid, "stopped").await;
    assert_eq!(s["status_reason"], "inactive");
    assert_eq!(s["auth_paired"], true);
    app.stop().await;
}

#[tokio::test]
async fn a_newer_link_of_the_same_device_replaces_the_older_one() {
    let app = spawn_app_with(|s| s.sim.sim_stream_check_ms = 50).await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.connected_session(&user, "a", "6281111111111").await);
    // Another link (as another node would) logs the device in: the server replaces this one.
    let keys = app.state.sessions.keys(sid.parse().unwrap());
    keys.put("sim", "stream", b"a-newer-link").await.unwrap();
    let s = app.wait_status(&user, &sid, "failed").await;
    assert_eq!(s["status_reason"], "stream_replaced");
    app.stop().await;
}

#[tokio::test]
async fn a_retired_link_store_refuses_late_writes_so_a_wipe_stays_a_wipe() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.connected_session(&user, "a", "6281111111111").await);
    let session: uuid::Uuid = sid.parse().unwrap();
    let link_store = app.state.sessions.keys(session);
    let background_copy = link_store.clone();
    link_store.retire().await;
    app.state.sessions.keys(session).wipe().await.unwrap();
    let late = background_copy.put("sim", "late", b"written after the wipe").await;
    assert!(matches!(late, Err(wahub::engine::KeyStoreError::Retired)), "{late:?}");
    assert_eq!(keys_of(&app, &sid).await, 0);
    app.stop().await;
}
