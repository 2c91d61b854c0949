use serde_json::{json, Value};
use wahub_tests::{json_of, spawn_app, spawn_app_with};

async fn problem(resp: reqwest::Response, status: u16) -> Value {
    assert_eq!(
        resp.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "problem content type"
    );
    let body = json_of(resp, status).await;
    for field in ["type", "title", "status", "detail", "code"] {
        assert!(body.get(field).is_some(), "problem body lacks {field}: {body}");
    }
    body
}

#[tokio::test]
async fn malformed_json_wrong_types_and_unknown_enums_get_4xx_problems() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let post_raw = |path: &'static str, body: &'static str| {
        let app = &app;
        let token = user.token.clone();
        async move {
            app.client
                .post(app.url(path))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    problem(post_raw("/api/v1/sessions", "{\"name\": ").await, 422).await;
    problem(post_raw("/api/v1/sessions", "{\"name\": 42}").await, 422).await;
    problem(post_raw("/api/v1/sessions", "[]").await, 422).await;
    problem(post_raw("/api/v1/auth/login", "{}").await, 422).await;
    let r = app.get("/api/v1/sessions/not-a-uuid", &user.token).await;
    problem(r, 422).await;
    let s = app.create_session(&user, "x", false).await;
    let r = app.get(&format!("/api/v1/sessions/{}/qr?format=gif", s["id"].as_str().unwrap()), &user.token).await;
    problem(r, 422).await;
    let r = app.get("/api/v1/messages?direction=sideways", &user.token).await;
    problem(r, 422).await;
    // Nothing was created by the bad requests.
    let list = json_of(app.get("/api/v1/sessions", &user.token).await, 200).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn oversized_bodies_get_413_with_and_without_content_length() {
    let app = spawn_app_with(|s| s.server.max_body_bytes = 64 * 1024).await;
    let user = app.register("a@example.com").await;
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(200 * 1024));
    let r = app
        .client
        .post(app.url("/api/v1/sessions"))
        .bearer_auth(&user.token)
        .header("content-type", "application/json")
        .body(huge.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(problem(r, 413).await["code"], "payload_too_large");
    let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(huge.into_bytes())]);
    let r = app
        .client
        .post(app.url("/api/v1/sessions"))
        .bearer_auth(&user.token)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(r, 413).await["code"], "payload_too_large");
    let list = json_of(app.get("/api/v1/sessions", &user.token).await, 200).await;
    assert!(list.as_array().unwrap().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn unknown_api_paths_are_json_404_and_other_paths_serve_the_dashboard() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/api/v1/nothing-here")).send().await.unwrap();
    assert_eq!(problem(r, 404).await["code"], "not_found");
    let r = app.client.get(app.url("/sessions/some/client/route")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("<!doctype html>"));
    let r = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = app.client.get(app.url("/missing-file.js")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn ops_endpoints_and_openapi_answer_without_auth() {
    let app = spawn_app().await;
    assert_eq!(json_of(app.client.get(app.url("/healthz")).send().await.unwrap(), 200).await["status"], "ok");
    assert_eq!(json_of(app.client.get(app.url("/readyz")).send().await.unwrap(), 200).await["status"], "ready");
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("# TYPE wahub_http_requests_total counter"));
    let spec = json_of(app.client.get(app.url("/api/openapi.json")).send().await.unwrap(), 200).await;
    assert!(spec["paths"]["/api/v1/sessions"].is_object());
    assert!(spec["paths"]["/api/v1/auth/login"].is_object());
    let docs = app.client.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let _ = json!({});
    app.stop().await;
}
