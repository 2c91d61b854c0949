use reqwest::Method;
use wahub_tests::{spawn_app, LogCapture};

#[tokio::test]
async fn request_ids_are_accepted_or_generated_echoed_and_in_problems_and_logs() {
    let logs = LogCapture::global();
    let app = spawn_app().await;

    // A safe id from the client is kept: on the answer, in the problem body, in the log.
    let r = app
        .request(Method::GET, "/api/v1/sessions", None)
        .header("X-Request-Id", "trace-abc.123_x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["x-request-id"], "trace-abc.123_x");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["request_id"], "trace-abc.123_x", "{body}");

    // No id, an unsafe one, or a long one: a generated id instead, on success answers too.
    let mut generated = Vec::new();
    for sent in [None, Some("evil\"id with spaces"), Some(&*"a".repeat(65))] {
        let mut req = app.request(Method::GET, "/healthz", None);
        if let Some(sent) = sent {
            req = req.header("X-Request-Id", sent);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 200);
        let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        assert_ne!(Some(id.as_str()), sent);
        generated.push(id);
    }
    generated.dedup();
    assert_eq!(generated.len(), 3, "each request gets its own id");

    // Unknown routes and framework-level refusals carry it too.
    let r = app.request(Method::GET, "/api/v1/nope", None).header("X-Request-Id", "r-404").send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["x-request-id"], "r-404");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["request_id"], "r-404");
    let r = app
        .request(Method::POST, "/api/v1/auth/register", None)
        .header("X-Request-Id", "r-bad-json")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["request_id"], "r-bad-json", "{body}");

    app.stop().await;
    let text = logs.text();
    let line = text.lines().find(|l| l.contains("/api/v1/sessions") && l.contains("trace-abc.123_x"));
    assert!(line.is_some(), "the request log line carries the request id:\n{text}");
}
