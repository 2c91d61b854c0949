use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;
use wahub_tests::{eventually, json_of, spawn_app, spawn_app_with, Received, Receiver, TestApp, TestUser};

const SECRET: &str = "a-test-secret-of-some-length";

async fn create_hook(app: &TestApp, user: &TestUser, url: &str, events: Value) -> Value {
    let r = app.post("/api/v1/webhooks", &user.token, json!({"url": url, "events": events, "secret": SECRET})).await;
    json_of(r, 201).await
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

async fn deliveries(app: &TestApp, user: &TestUser, hook: &str) -> Vec<Value> {
    let log = json_of(app.get(&format!("/api/v1/webhooks/{hook}/deliveries"), &user.token).await, 200).await;
    log.as_array().expect("array").clone()
}

/// Waits until the hook's only delivery has left `pending` and returns it.
async fn settled(app: &TestApp, user: &TestUser, hook: &str) -> Value {
    eventually(15, "the delivery to settle", || async {
        let log = deliveries(app, user, hook).await;
        log.first().filter(|d| d["status"] != "pending").cloned()
    })
    .await
}

/// Recomputes the signature as a receiver would.
fn verify(req: &Received, secret: &str) -> bool {
    let ts = req.header("x-wahub-timestamp");
    let Some(hex_sig) = req.header("x-wahub-signature").strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{ts}.{}", req.body).as_bytes());
    mac.verify_slice(&sig).is_ok()
}

async fn patch(app: &TestApp, user: &TestUser, path: &str, body: Value) -> reqwest::Response {
    app.request(Method::PATCH, path, Some(&user.token)).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn crud_validation_and_ownership() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let other = app.register("b@example.com").await;

    let created = create_hook(&app, &user, "https://example.com/hook", json!(["session.*", "message.received"])).await;
    assert_eq!(created["secret"], SECRET, "the secret is shown on create");
    assert_eq!(created["events"], json!(["session.*", "message.received"]));
    assert_eq!(created["active"], true);
    let hook = id(&created);

    // Without a secret or events: a generated secret, every event.
    let r = app.post("/api/v1/webhooks", &user.token, json!({"url": "http://127.0.0.1:9/x"})).await;
    let generated = json_of(r, 201).await;
    assert!(generated["secret"].as_str().unwrap().starts_with("whsec_"));
    assert!(generated["secret"].as_str().unwrap().len() >= 40);
    assert_eq!(generated["events"], json!(["*"]));

    // Listing and reading never show the secret.
    let list = json_of(app.get("/api/v1/webhooks", &user.token).await, 200).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(list.as_array().unwrap().iter().all(|w| w.get("secret").is_none()));
    let one = json_of(app.get(&format!("/api/v1/webhooks/{hook}"), &user.token).await, 200).await;
    assert_eq!(one["url"], "https://example.com/hook");
    assert!(one.get("secret").is_none());

    let updated = json_of(
        patch(
            &app,
            &user,
            &format!("/api/v1/webhooks/{hook}"),
            json!({"events": ["*"], "active": false, "url": "https://example.org/new"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(updated["events"], json!(["*"]));
    assert_eq!(updated["active"], false);
    assert_eq!(updated["url"], "https://example.org/new");

    // Only http(s) URLs, known events, sane secrets, strict types.
    for body in [
        json!({"url": "ftp://example.com/x"}),
        json!({"url": "file:///etc/passwd"}),
        json!({"url": "not a url"}),
        json!({"url": "https://example.com", "events": ["message.sent"]}),
        json!({"url": "https://example.com", "events": ["nope.*"]}),
        json!({"url": "https://example.com", "events": []}),
        json!({"url": "https://example.com", "secret": "short"}),
    ] {
        let r = app.post("/api/v1/webhooks", &user.token, body.clone()).await;
        assert_eq!(json_of(r, 422).await["code"], "validation_failed", "{body}");
    }
    for body in [json!({"url": 42}), json!({"url": "https://example.com", "events": "session.qr"}), json!({})] {
        let r = app.post("/api/v1/webhooks", &user.token, body.clone()).await;
        assert!(r.status().is_client_error(), "{body}: {}", r.status());
    }
    let r = patch(&app, &user, &format!("/api/v1/webhooks/{hook}"), json!({"url": "gopher://x"})).await;
    assert_eq!(json_of(r, 422).await["code"], "validation_failed");

    // Another user's webhook does not exist for them.
    let fake = uuid::Uuid::new_v4();
    for (method, path) in [
        (Method::GET, format!("/api/v1/webhooks/{hook}")),
        (Method::PATCH, format!("/api/v1/webhooks/{hook}")),
        (Method::DELETE, format!("/api/v1/webhooks/{hook}")),
        (Method::GET, format!("/api/v1/webhooks/{hook}/deliveries")),
        (Method::POST, format!("/api/v1/webhooks/{hook}/deliveries/{fake}/redeliver")),
    ] {
        let r = app.request(method.clone(), &path, Some(&other.token)).json(&json!({})).send().await.unwrap();
        assert_eq!(json_of(r, 404).await["code"], "not_found", "{method} {path}");
    }
    assert!(json_of(app.get("/api/v1/webhooks", &other.token).await, 200).await.as_array().unwrap().is_empty());
    let r = app.post(&format!("/api/v1/webhooks/{hook}/deliveries/{fake}/redeliver"), &user.token, json!({})).await;
    assert_eq!(json_of(r, 404).await["code"], "not_found");

    let r = app.get(&format!("/api/v1/webhooks/{hook}/deliveries?limit=0"), &user.token).await;
    assert!(r.status().is_client_error());
    let spec = json_of(app.client.get(app.url("/api/openapi.json")).send().await.unwrap(), 200).await;
    for path in
        ["/api/v1/webhooks", "/api/v1/webhooks/{id}", "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver"]
    {
        assert!(spec["paths"].get(path).is_some(), "{path} is documented");
    }

    assert_eq!(app.delete(&format!("/api/v1/webhooks/{hook}"), &user.token).await.status(), 204);
    assert_eq!(app.get(&format!("/api/v1/webhooks/{hook}"), &user.token).await.status(), 404);
    assert_eq!(app.delete(&format!("/api/v1/webhooks/{hook}"), &user.token).await.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn deliveries_are_signed_and_only_for_subscribed_events() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let user = app.register("a@example.com").await;
    let hook = id(&create_hook(&app, &user, &receiver.url, json!(["session.created"])).await);
    let session = app.create_session(&user, "main", false).await;
    // session.updated is not subscribed: only the creation arrives.
    patch(&app, &user, &format!("/api/v1/sessions/{}", id(&session)), json!({"name": "renamed"})).await;

    let seen = receiver.wait_for(1, 10).await;
    let req = &seen[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/hook");
    assert!(req.header("content-type").starts_with("application/json"));
    assert_eq!(req.header("x-wahub-event"), "session.created");
    assert!(uuid::Uuid::parse_str(req.header("x-wahub-delivery")).is_ok());
    let ts: i64 = req.header("x-wahub-timestamp").parse().expect("unix seconds");
    assert!((chrono::Utc::now().timestamp() - ts).abs() < 60);
    assert!(verify(req, SECRET), "the signature verifies");
    assert!(!verify(req, "some-other-secret-entirely"));
    let body = req.json();
    assert_eq!(body["event"], "session.created");
    assert_eq!(body["session_id"], id(&session).as_str());
    assert_eq!(body["data"]["name"], "main");
    assert!(body["seq"].as_i64().unwrap() > 0);

    let log = settled(&app, &user, &hook).await;
    assert_eq!(log["status"], "delivered");
    assert_eq!(log["id"], req.header("x-wahub-delivery"));
    assert_eq!(log["attempts"], 1);
    assert_eq!(log["last_status_code"], 200);
    assert!(log["delivered_at"].is_string());
    assert_eq!(log["payload"], body);

    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.requests().len(), 1, "unsubscribed events are not sent");
    assert_eq!(deliveries(&app, &user, &hook).await.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_same_delivery_until_it_acknowledges() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    receiver.fail_next(2, 503);
    let user = app.register("a@example.com").await;
    let hook = id(&create_hook(&app, &user, &receiver.url, json!(["*"])).await);
    app.create_session(&user, "main", false).await;

    let seen = receiver.wait_for(3, 15).await;
    let answered: Vec<u16> = seen.iter().map(|r| r.answered).collect();
    assert_eq!(answered, vec![503, 503, 200]);
    let ids: Vec<&str> = seen.iter().map(|r| r.header("x-wahub-delivery")).collect();
    assert!(ids.iter().all(|d| *d == ids[0]), "one delivery id across retries: {ids:?}");
    let attempts: Vec<&str> = seen.iter().map(|r| r.header("x-wahub-attempt")).collect();
    assert_eq!(attempts, vec!["1", "2", "3"]);
    assert!(seen.iter().all(|r| verify(r, SECRET)));
    assert!(seen.iter().all(|r| r.body == seen[0].body), "the same body every time");

    let log = settled(&app, &user, &hook).await;
    assert_eq!(log["status"], "delivered");
    assert_eq!(log["attempts"], 3);
    assert_eq!(log["last_status_code"], 200);
    // Acknowledged once: nothing more arrives.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.requests().iter().filter(|r| r.answered == 200).count(), 1);
    assert_eq!(receiver.requests().len(), 3);
    app.stop().await;
}

#[tokio::test]
async fn client_errors_are_final_but_408_and_429_are_retried() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let user = app.register("a@example.com").await;
    let hook = id(&create_hook(&app, &user, &receiver.url, json!(["session.created"])).await);

    receiver.fail_next(1, 400);
    app.create_session(&user, "one", false).await;
    let log = settled(&app, &user, &hook).await;
    assert_eq!(log["status"], "failed");
    assert_eq!(log["attempts"], 1);
    assert_eq!(log["last_status_code"], 400);

    for (i, code) in [408u16, 429].into_iter().enumerate() {
        receiver.fail_next(1, code);
        app.create_session(&user, &format!("s{i}"), false).await;
        let latest = eventually(15, "the retried delivery", || async {
            let log = deliveries(&app, &user, &hook).await;
            log.first().filter(|d| d["status"] == "delivered").cloned()
        })
        .await;
        assert_eq!(latest["attempts"], 2, "{code} is retried");
    }
    app.stop().await;
}

#[tokio::test]
async fn gives_up_after_max_attempts_and_redeliver_sends_again() {
    let app = spawn_app_with(|s| s.webhooks.webhook_max_attempts = 3).await;
    let receiver = Receiver::start().await;
    receiver.fail_next(3, 500);
    let user = app.register("a@example.com").await;
    let hook = id(&create_hook(&app, &user, &receiver.url, json!(["session.created"])).await);
    app.create_session(&user, "main", false).await;

    let failed = settled(&app, &user, &hook).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["attempts"], 3);
    assert_eq!(failed["last_status_code"], 500);
    assert!(failed["last_error"].as_str().unwrap().contains("gave up after 3 attempts"));
    assert_eq!(receiver.requests().len(), 3);

    let r = app
        .post(&format!("/api/v1/webhooks/{hook}/deliveries/{}/redeliver", id(&failed)), &user.token, json!({}))
        .await;
    let again = json_of(r, 202).await;
    assert_ne!(again["id"], failed["id"], "a redelivery is a new delivery");
    assert_eq!(again["status"], "pending");
    assert_eq!(again["payload"], failed["payload"]);
    let seen = receiver.wait_for(4, 10).await;
    assert_eq!(seen[3].header("x-wahub-delivery"), again["id"].as_str().unwrap());
    assert_eq!(seen[3].body, seen[0].body);
    assert!(verify(&seen[3], SECRET));
    let log = eventually(10, "the redelivery to be delivered", || async {
        let log = deliveries(&app, &user, &hook).await;
        (log.len() == 2 && log[0]["status"] == "delivered").then_some(log)
    })
    .await;
    assert_eq!(log[1]["status"], "failed", "the old delivery keeps its history");
    app.stop().await;
}

#[tokio::test]
async fn slow_receivers_time_out_and_are_retried() {
    let app = spawn_app_with(|s| s.webhooks.webhook_timeout_ms = 300).await;
    let receiver = Receiver::start().await;
    receiver.set_delay(Duration::from_millis(1_500));
    let user = app.register("a@example.com").await;
    let hook = id(&create_hook(&app, &user, &receiver.url, json!(["session.created"])).await);
    app.create_session(&user, "main", false).await;
    let timed_out = eventually(10, "a timed-out attempt", || async {
        let log = deliveries(&app, &user, &hook).await;
        log.first().filter(|d| d["last_error"].as_str().is_some_and(|e| e.contains("timed out"))).cloned()
    })
    .await;
    assert_eq!(timed_out["status"], "pending");
    assert!(timed_out["last_status_code"].is_null());
    receiver.set_delay(Duration::ZERO);
    let log = settled(&app, &user, &hook).await;
    assert_eq!(log["status"], "delivered");
    assert!(log["attempts"].as_i64().unwrap() >= 2);
    app.stop().await;
}

#[tokio::test]
async fn a_restart_mid_retry_loses_nothing() {
    // A long first backoff, so the restart happens while the retry is pending.
    let app = spawn_app_with(|s| s.webhooks.webhook_retry_base_ms = 1_500).await;
    let receiver = Receiver::start().await;
    receiver.fail_next(1, 500);
    let user = app.register("a@example.com").await;
    let hook = id(&create_hook(&app, &user, &receiver.url, json!(["session.created"])).await);
    app.create_session(&user, "main", false).await;
    let first = receiver.wait_for(1, 10).await;
    let delivery = first[0].header("x-wahub-delivery").to_owned();
    eventually(5, "the failure to be recorded", || async {
        let log = deliveries(&app, &user, &hook).await;
        log.first().filter(|d| d["last_status_code"] == 500).cloned()
    })
    .await;

    let app = app.restart().await;
    let seen = receiver.wait_for(2, 15).await;
    assert_eq!(seen[1].header("x-wahub-delivery"), delivery, "the same delivery after the restart");
    assert_eq!(seen[1].answered, 200);
    assert!(verify(&seen[1], SECRET));
    let log = settled(&app, &user, &hook).await;
    assert_eq!(log["status"], "delivered");
    assert_eq!(log["attempts"], 2);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.requests().len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn pending_deliveries_follow_a_url_change_and_survive_a_restart() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let receiver = Receiver::start().await;
    // Nobody listens yet: every attempt fails at the transport level.
    let dead = "http://127.0.0.1:9/hook";
    let hook = id(&create_hook(&app, &user, dead, json!(["session.created"])).await);
    app.create_session(&user, "main", false).await;
    eventually(5, "a failed attempt", || async {
        let log = deliveries(&app, &user, &hook).await;
        log.first().filter(|d| d["attempts"].as_i64() >= Some(1) && d["last_error"].is_string()).cloned()
    })
    .await;
    patch(&app, &user, &format!("/api/v1/webhooks/{hook}"), json!({"url": receiver.url})).await;
    let app = app.restart().await;
    let seen = receiver.wait_for(1, 15).await;
    assert_eq!(seen[0].header("x-wahub-event"), "session.created");
    assert_eq!(settled(&app, &user, &hook).await["status"], "delivered");
    app.stop().await;
}

#[tokio::test]
async fn paused_webhooks_get_nothing_and_resume_on_activation() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let user = app.register("a@example.com").await;
    let hook = id(&create_hook(&app, &user, &receiver.url, json!(["session.*"])).await);
    patch(&app, &user, &format!("/api/v1/webhooks/{hook}"), json!({"active": false})).await;
    app.create_session(&user, "quiet", false).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.requests().is_empty());
    assert!(deliveries(&app, &user, &hook).await.is_empty());
    patch(&app, &user, &format!("/api/v1/webhooks/{hook}"), json!({"active": true})).await;
    app.create_session(&user, "loud", false).await;
    let seen = receiver.wait_for(1, 10).await;
    assert_eq!(seen[0].json()["data"]["name"], "loud");
    app.stop().await;
}

#[tokio::test]
async fn message_events_reach_webhooks() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let user = app.register("a@example.com").await;
    create_hook(&app, &user, &receiver.url, json!(["message.*"])).await;
    let s = app.connected_session(&user, "main", "6281234567890").await;
    let r = app
        .post(
            &format!("/api/v1/sessions/{}/sim/incoming", id(&s)),
            &user.token,
            json!({"from": "6289876543210", "text": "hi there"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = app.post("/api/v1/messages", &user.token, json!({"to": "6289876543210", "text": "hello back"})).await;
    let sent = json_of(r, 202).await;
    let seen = receiver.wait_for(2, 10).await;
    let by_event = |name: &str| seen.iter().find(|r| r.header("x-wahub-event") == name).map(Received::json);
    let received = by_event("message.received").expect("message.received");
    assert_eq!(received["data"]["text"], "hi there");
    assert_eq!(received["data"]["peer"], "6289876543210");
    assert_eq!(received["data"]["direction"], "in");
    let updated = by_event("message.updated").expect("message.updated");
    assert_eq!(updated["data"], json!({"id": sent["id"], "status": "sent"}));
    assert!(seen.iter().all(|r| r.header("x-wahub-event").starts_with("message.")));
    app.stop().await;
}

/// Verifies `webhook-signature` as the Standard Webhooks libraries do: the key is the
/// base64 after `whsec_`, the MAC covers `id.timestamp.body`.
fn verify_standard(req: &Received, whsec: &str) -> bool {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let Some(key) = whsec.strip_prefix("whsec_").and_then(|k| b64.decode(k).ok()) else {
        return false;
    };
    let signed = format!("{}.{}.{}", req.header("webhook-id"), req.header("webhook-timestamp"), req.body);
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(signed.as_bytes());
    let expected = format!("v1,{}", b64.encode(mac.finalize().into_bytes()));
    req.header("webhook-signature").split(' ').any(|sig| sig == expected)
}

#[tokio::test]
async fn deliveries_carry_standard_webhooks_headers_for_generated_and_chosen_secrets() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let user = app.register("a@example.com").await;
    let generated = json_of(
        app.post("/api/v1/webhooks", &user.token, json!({"url": receiver.url, "events": ["session.created"]})).await,
        201,
    )
    .await;
    let whsec = generated["secret"].as_str().expect("secret").to_owned();
    assert!(whsec.starts_with("whsec_"), "{whsec}");
    app.create_session(&user, "main", false).await;
    let seen = receiver.wait_for(1, 15).await;
    let req = &seen[0];
    assert_eq!(req.header("webhook-id"), req.header("x-wahub-delivery"), "the delivery id is the message id");
    assert_eq!(req.header("webhook-timestamp"), req.header("x-wahub-timestamp"));
    assert!(req.header("webhook-signature").starts_with("v1,"));
    assert!(verify_standard(req, &whsec), "a generated secret is used as it is");
    assert!(verify(req, &whsec), "X-Wahub-Signature keys with the secret string, as before");
    assert!(!verify_standard(req, "whsec_c29tZS1vdGhlci1zZWNyZXQtZW50aXJlbHk="));

    // A chosen secret (any string): the Standard Webhooks secret is `whsec_` + base64 of its bytes.
    let hook = id(&generated);
    let r = patch(&app, &user, &format!("/api/v1/webhooks/{hook}"), json!({"secret": SECRET})).await;
    assert_eq!(r.status(), 200);
    app.create_session(&user, "second", false).await;
    let seen = receiver.wait_for(2, 15).await;
    let req = &seen[1];
    use base64::Engine as _;
    let mapped = format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(SECRET));
    assert!(verify_standard(req, &mapped));
    assert!(verify(req, SECRET));
    assert_ne!(seen[0].header("webhook-id"), req.header("webhook-id"));
    app.stop().await;
}
