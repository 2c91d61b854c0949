//! NUL (U+0000) answered 500 on PostgreSQL (its text type cannot hold it) and a NUL
//! push_name left a session stuck: refused at the boundary with 422 on both databases,
//! stripped from what the network sends.

use serde_json::{json, Value};
use wahub_tests::{eventually, json_of, spawn_app};

async fn refused(resp: reqwest::Response, what: &str) -> Value {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 422, "{what}: {body}");
    assert!(body["code"].is_string(), "{what}: problem body {body}");
    body
}

#[tokio::test]
async fn nul_in_request_strings_is_refused_with_422_and_changes_nothing() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let pw = "correct horse battery";
    let anon = [
        ("/api/v1/auth/register", json!({ "email": "b\u{0}@example.com", "password": pw })),
        ("/api/v1/auth/register", json!({ "email": "c@example.com", "password": pw, "display_name": "C\u{0}" })),
        ("/api/v1/auth/login", json!({ "email": "a@example.com\u{0}", "password": pw })),
        ("/api/v1/auth/refresh", json!({ "refresh_token": "x\u{0}y" })),
    ];
    for (path, body) in anon {
        refused(app.post_anon(path, body.clone()).await, &format!("{path} {body}")).await;
    }
    // A name must not carry other control characters either.
    refused(
        app.post_anon(
            "/api/v1/auth/register",
            json!({ "email": "d@example.com", "password": pw, "display_name": "D\u{7}" }),
        )
        .await,
        "display_name with BEL",
    )
    .await;
    for name in ["key\u{0}", "key\u{1b}[31m"] {
        refused(app.post("/api/v1/api-keys", &user.token, json!({ "name": name })).await, "api key name").await;
    }
    let session = app.connected_session(&user, "s", "15550001111").await;
    let sid = session["id"].as_str().unwrap();
    let sends = [
        json!({ "session_id": sid, "to": "15550002222", "text": "hi\u{0}" }),
        json!({ "session_id": sid, "to": "1555000\u{0}2222", "text": "hi" }),
        json!({ "session_id": sid, "to": "15550002222", "media": { "mimetype": "image/png", "data_base64": "AA==", "caption": "c\u{0}" } }),
    ];
    for body in sends {
        refused(app.post("/api/v1/messages", &user.token, body.clone()).await, &format!("send {body}")).await;
    }
    refused(app.post("/api/v1/sessions", &user.token, json!({ "name": "n\u{0}" })).await, "session name").await;
    refused(
        app.post("/api/v1/webhooks", &user.token, json!({ "url": "https://example.com/\u{0}" })).await,
        "webhook url",
    )
    .await;

    // Nothing was created, and the server still answers normally.
    let keys = json_of(app.get("/api/v1/api-keys", &user.token).await, 200).await;
    assert_eq!(keys.as_array().unwrap().len(), 0);
    let msgs = json_of(app.get("/api/v1/messages", &user.token).await, 200).await;
    assert_eq!(msgs.as_array().unwrap().len(), 0);
    let sessions = json_of(app.get("/api/v1/sessions", &user.token).await, 200).await;
    assert_eq!(sessions.as_array().unwrap().len(), 1);
    let login = app.post_anon("/api/v1/auth/login", json!({ "email": "b@example.com", "password": pw })).await;
    assert_eq!(login.status(), 401, "the NUL registration created no account");
    app.stop().await;
}

#[tokio::test]
async fn nul_from_the_network_is_stripped_before_storage() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let s = app.create_session(&user, "s", true).await;
    let id = s["id"].as_str().unwrap().to_owned();
    app.wait_status(&user, &id, "scan_qr").await;
    // The simulated phone stands for the network: it may send anything.
    let scan = app
        .post(
            &format!("/api/v1/sessions/{id}/sim/scan"),
            &user.token,
            json!({ "phone": "15550001111", "push_name": "Bo\u{0}b" }),
        )
        .await;
    assert_eq!(scan.status(), 200);
    let connected = app.wait_status(&user, &id, "connected").await;
    assert_eq!(connected["push_name"], "Bob");
    let r = app
        .post(
            &format!("/api/v1/sessions/{id}/sim/incoming"),
            &user.token,
            json!({ "from": "15550002222", "text": "he\u{0}llo" }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let got = eventually(10, "the incoming message", || async {
        let list = json_of(app.get("/api/v1/messages?direction=in", &user.token).await, 200).await;
        list.as_array().and_then(|a| a.first().cloned())
    })
    .await;
    assert_eq!(got["text"], "hello");
    app.stop().await;
}
