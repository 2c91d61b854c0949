//! The wa-peer binary's HTTP control API, driving a wahub whatsapp session: the phone
//! scans the QR wahub shows, then unlinks the device. Bad input is refused.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use wa_peer::{Peer, PeerOptions};
use wahub_tests::{eventually, spawn_app_with};

#[tokio::test(flavor = "multi_thread")]
async fn the_control_api_scans_and_unlinks() {
    let peer = Arc::new(Peer::start(PeerOptions::default()).await.expect("peer"));
    let control = wa_peer::control::spawn(peer.clone()).await.expect("control api");
    let http = reqwest::Client::new();
    let url = |p: &str| format!("http://{control}{p}");

    let r = http.post(url("/phones")).json(&json!({"number": "12x", "push_name": "B"})).send().await.expect("post");
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.expect("json")["code"], "invalid_phone");
    let r = http
        .post(url("/phones"))
        .json(&json!({"number": "15550002222", "push_name": "Bob"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 200);

    let ws_url = peer.ws_url();
    let app = spawn_app_with(|s| {
        s.sessions.engine = wahub::domain::EngineKind::Whatsapp;
        s.sessions.whatsapp_ws_url = Some(ws_url);
        s.sessions.whatsapp_app_version = Some("2.3000.1000000000".into());
    })
    .await;
    let user = app.register("c@example.com").await;
    let s = app.create_session(&user, "main", true).await;
    let sid = s["id"].as_str().expect("id").to_owned();
    let qr: Value = eventually(20, "a QR", || async {
        let r = app.get(&format!("/api/v1/sessions/{sid}/qr"), &user.token).await;
        (r.status() == 200).then_some(())?;
        r.json().await.ok()
    })
    .await;

    // A QR nobody is showing is refused, and changes nothing.
    let r = http
        .post(url("/phones/15550002222/scan"))
        .json(&json!({"qr": "2@nope,AAAA,AAAA,AAAA"}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 409);
    let r = http.post(url("/phones/15550002222/scan")).json(&json!({"qr": qr["value"]})).send().await.expect("post");
    assert_eq!(r.status(), 200);
    let jid = r.json::<Value>().await.expect("json")["jid"].as_str().expect("jid").to_owned();
    let connected: Value = eventually(60, "connected", || async {
        let s = app.session(&user, &sid).await;
        (s["status"] == "connected").then_some(s)
    })
    .await;
    assert_eq!(connected["push_name"], "Bob");

    let records: Value = http.get(url("/records")).send().await.expect("get").json().await.expect("json");
    assert!(records["records"].as_array().expect("records").iter().any(|r| r["kind"] == "login" && r["jid"] == jid));

    let r = http.post(url(&format!("/devices/{jid}/unlink"))).send().await.expect("post");
    assert_eq!(r.status(), 200);
    let s = app.wait_status(&user, &sid, "logged_out").await;
    assert_eq!(s["status_reason"], "device_removed");
    let r = http.post(url(&format!("/devices/{jid}/unlink"))).send().await.expect("post");
    assert_eq!(r.status(), 409, "already unlinked");
    tokio::time::sleep(Duration::from_millis(50)).await;
    app.stop().await;
}
