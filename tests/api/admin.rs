//! /api/v1/admin/*: users, every session, the audit log; admins only.

use reqwest::Method;
use serde_json::{json, Value};
use wahub_tests::{json_of, spawn_app, spawn_app_with, TestApp, TestUser};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

async fn patch_user(app: &TestApp, admin: &TestUser, user_id: &str, body: Value) -> reqwest::Response {
    app.request(Method::PATCH, &format!("/api/v1/admin/users/{user_id}"), Some(&admin.token))
        .json(&body)
        .send()
        .await
        .expect("PATCH")
}

async fn with_key(app: &TestApp, method: Method, path: &str, key: &str) -> reqwest::Response {
    app.client.request(method, app.url(path)).header("X-Api-Key", key).send().await.expect("request")
}

async fn key_of(app: &TestApp, user: &TestUser, body: Value) -> String {
    let created = json_of(app.post("/api/v1/api-keys", &user.token, body).await, 201).await;
    created["key"].as_str().expect("key").to_owned()
}

fn user_row<'a>(users: &'a Value, email: &str) -> &'a Value {
    users.as_array().expect("list").iter().find(|u| u["email"] == email).expect("user listed")
}

#[tokio::test]
async fn admin_routes_answer_404_to_everyone_but_admins() {
    let app = spawn_app().await;
    let admin = app.register("admin@example.com").await;
    let user = app.register("user@example.com").await;
    let session = app.create_session(&admin, "a", false).await;
    let user_key = key_of(&app, &user, json!({ "name": "k" })).await;
    let paths = [
        (Method::GET, "/api/v1/admin/users".to_owned()),
        (Method::PATCH, format!("/api/v1/admin/users/{}", admin.id)),
        (Method::GET, "/api/v1/admin/sessions".to_owned()),
        (Method::POST, format!("/api/v1/admin/sessions/{}/stop", id(&session))),
        (Method::POST, format!("/api/v1/admin/sessions/{}/logout", id(&session))),
        (Method::GET, "/api/v1/admin/audit".to_owned()),
    ];
    for (method, path) in &paths {
        let resp = app.request(method.clone(), path, Some(&user.token)).json(&json!({"disabled": true})).send().await;
        let body = json_of(resp.expect("send"), 404).await;
        assert_eq!(body["code"], "not_found", "{method} {path} as a user");
        let body = json_of(with_key(&app, method.clone(), path, &user_key).await, 404).await;
        assert_eq!(body["code"], "not_found", "{method} {path} with a user's key");
        let body = json_of(app.request(method.clone(), path, None).send().await.expect("send"), 401).await;
        assert_eq!(body["code"], "unauthorized", "{method} {path} anonymous");
    }
    // Nothing changed: the admin is still enabled and the session untouched.
    assert_eq!(json_of(app.get("/api/v1/me", &admin.token).await, 200).await["role"], "admin");
    assert_eq!(app.session(&admin, &id(&session)).await["status"], "stopped");
    app.stop().await;
}

#[tokio::test]
async fn admin_lists_users_with_session_counts_and_changes_roles() {
    let app = spawn_app().await;
    let admin = app.register("admin@example.com").await;
    let user = app.register("user@example.com").await;
    app.create_session(&user, "one", false).await;
    app.create_session(&user, "two", false).await;

    let users = json_of(app.get("/api/v1/admin/users", &admin.token).await, 200).await;
    assert_eq!(users.as_array().unwrap().len(), 2);
    let row = user_row(&users, "user@example.com");
    assert_eq!(row["session_count"], 2);
    assert_eq!(row["role"], "user");
    assert_eq!(row["disabled"], false);
    assert_eq!(row["max_sessions"], Value::Null);
    assert_eq!(row["effective_max_sessions"], 10);
    assert_eq!(user_row(&users, "admin@example.com")["session_count"], 0);

    // The last admin cannot demote or disable themselves.
    let body = json_of(patch_user(&app, &admin, &admin.id, json!({ "role": "user" })).await, 409).await;
    assert_eq!(body["code"], "last_admin");
    let body = json_of(patch_user(&app, &admin, &admin.id, json!({ "disabled": true })).await, 409).await;
    assert_eq!(body["code"], "last_admin");

    // Bad input changes nothing.
    let resp = patch_user(&app, &admin, &user.id, json!({ "role": "root" })).await;
    assert!(resp.status().is_client_error(), "unknown role: {}", resp.status());
    let resp = patch_user(&app, &admin, &user.id, json!({ "max_sessions": -1 })).await;
    assert!(resp.status().is_client_error(), "negative limit: {}", resp.status());
    let body =
        json_of(patch_user(&app, &admin, &uuid::Uuid::new_v4().to_string(), json!({"role": "admin"})).await, 404).await;
    assert_eq!(body["code"], "not_found");
    assert_eq!(json_of(app.get("/api/v1/me", &user.token).await, 200).await["role"], "user");

    let promoted = json_of(patch_user(&app, &admin, &user.id, json!({ "role": "admin" })).await, 200).await;
    assert_eq!(promoted["role"], "admin");
    assert_eq!(json_of(app.get("/api/v1/me", &user.token).await, 200).await["role"], "admin");
    assert_eq!(app.get("/api/v1/admin/users", &user.token).await.status(), 200, "the new admin sees admin routes");
    // With a second admin, the first may step down.
    let demoted = json_of(patch_user(&app, &admin, &admin.id, json!({ "role": "user" })).await, 200).await;
    assert_eq!(demoted["role"], "user");
    assert_eq!(app.get("/api/v1/admin/users", &admin.token).await.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn a_disabled_user_is_locked_out_at_once_and_back_when_enabled() {
    let app = spawn_app().await;
    let admin = app.register("admin@example.com").await;
    let user = app.register("user@example.com").await;
    let key = key_of(&app, &user, json!({ "name": "k" })).await;
    assert_eq!(with_key(&app, Method::GET, "/api/v1/sessions", &key).await.status(), 200);

    let row = json_of(patch_user(&app, &admin, &user.id, json!({ "disabled": true })).await, 200).await;
    assert_eq!(row["disabled"], true);
    assert_eq!(app.get("/api/v1/me", &user.token).await.status(), 401, "access token");
    assert_eq!(with_key(&app, Method::GET, "/api/v1/sessions", &key).await.status(), 401, "API key");
    let body =
        json_of(app.post_anon("/api/v1/auth/refresh", json!({ "refresh_token": user.refresh })).await, 401).await;
    assert_eq!(body["code"], "invalid_refresh_token");
    let login = json!({ "email": user.email, "password": user.password });
    let body = json_of(app.post_anon("/api/v1/auth/login", login.clone()).await, 403).await;
    assert_eq!(body["code"], "account_disabled");
    // A wrong password still says only that.
    let wrong = json!({ "email": user.email, "password": "not the password" });
    assert_eq!(json_of(app.post_anon("/api/v1/auth/login", wrong).await, 401).await["code"], "invalid_credentials");

    json_of(patch_user(&app, &admin, &user.id, json!({ "disabled": false })).await, 200).await;
    assert_eq!(with_key(&app, Method::GET, "/api/v1/sessions", &key).await.status(), 200, "keys work again");
    let fresh = json_of(app.post_anon("/api/v1/auth/login", login).await, 200).await;
    assert_eq!(app.get("/api/v1/me", fresh["access_token"].as_str().unwrap()).await.status(), 200);
    // Refresh tokens revoked by the disable stay revoked.
    assert_eq!(app.post_anon("/api/v1/auth/refresh", json!({ "refresh_token": user.refresh })).await.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn per_user_limits_override_the_server_defaults() {
    let app = spawn_app_with(|s| {
        s.sessions.max_sessions_per_user = 5;
        s.sessions.daily_message_limit = 100;
    })
    .await;
    let admin = app.register("admin@example.com").await;
    let user = app.register("user@example.com").await;
    let other = app.register("other@example.com").await;
    let row =
        json_of(patch_user(&app, &admin, &user.id, json!({ "max_sessions": 1, "daily_message_limit": 1 })).await, 200)
            .await;
    assert_eq!(row["max_sessions"], 1);
    assert_eq!(row["effective_daily_message_limit"], 1);

    let session = app.connected_session(&user, "one", "6281200000001").await;
    let resp = app.post("/api/v1/sessions", &user.token, json!({ "name": "two", "start": false })).await;
    assert_eq!(json_of(resp, 409).await["code"], "instance_limit_reached");
    // Another user keeps the server default.
    app.create_session(&other, "x", false).await;
    app.create_session(&other, "y", false).await;

    let send = json!({ "session_id": id(&session), "to": "6281299999999", "text": "hi" });
    json_of(app.post("/api/v1/messages", &user.token, send.clone()).await, 202).await;
    let body = json_of(app.post("/api/v1/messages", &user.token, send.clone()).await, 429).await;
    assert_eq!(body["code"], "daily_limit_reached");
    let health = json_of(app.get(&format!("/api/v1/sessions/{}/health", id(&session)), &user.token).await, 200).await;
    assert_eq!(health["daily_limit"], 1, "{health}");

    // `null` goes back to the default.
    let row = json_of(patch_user(&app, &admin, &user.id, json!({ "daily_message_limit": null })).await, 200).await;
    assert_eq!(row["daily_message_limit"], Value::Null);
    assert_eq!(row["max_sessions"], 1, "an absent field is left alone");
    assert_eq!(row["effective_daily_message_limit"], 100);
    json_of(app.post("/api/v1/messages", &user.token, send).await, 202).await;
    app.stop().await;
}

#[tokio::test]
async fn admin_sees_every_session_and_stops_or_logs_out_any() {
    let app = spawn_app().await;
    let admin = app.register("admin@example.com").await;
    let user = app.register("user@example.com").await;
    let first = app.connected_session(&user, "first", "6281200000001").await;
    let second = app.connected_session(&user, "second", "6281200000002").await;
    app.create_session(&admin, "mine", false).await;

    let all = json_of(app.get("/api/v1/admin/sessions", &admin.token).await, 200).await;
    let all = all.as_array().expect("list");
    assert_eq!(all.len(), 3);
    let row = all.iter().find(|s| s["id"] == first["id"]).expect("listed");
    assert_eq!(row["owner_email"], "user@example.com");
    assert_eq!(row["owner_id"], user.id.as_str());
    assert_eq!(row["status"], "connected");
    assert_eq!(row["node"], Value::Null);
    let only = json_of(app.get(&format!("/api/v1/admin/sessions?user_id={}", user.id), &admin.token).await, 200).await;
    assert_eq!(only.as_array().unwrap().len(), 2);

    let stopped =
        json_of(app.post(&format!("/api/v1/admin/sessions/{}/stop", id(&first)), &admin.token, json!({})).await, 200)
            .await;
    assert_eq!(stopped["status"], "stopped");
    let mine = app.session(&user, &id(&first)).await;
    assert_eq!(mine["status"], "stopped");
    assert_eq!(mine["auth_paired"], true, "stop keeps credentials");

    let out = json_of(
        app.post(&format!("/api/v1/admin/sessions/{}/logout", id(&second)), &admin.token, json!({})).await,
        200,
    )
    .await;
    assert_eq!(out["auth_paired"], false, "{out}");
    assert_eq!(app.session(&user, &id(&second)).await["auth_paired"], false);

    let missing = format!("/api/v1/admin/sessions/{}/stop", uuid::Uuid::new_v4());
    assert_eq!(json_of(app.post(&missing, &admin.token, json!({})).await, 404).await["code"], "not_found");
    app.stop().await;
}

fn actions(page: &Value) -> Vec<String> {
    page["items"].as_array().expect("items").iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_audit_log_records_security_actions_newest_first_in_pages() {
    let app = spawn_app().await;
    let admin = app.register("admin@example.com").await;
    let user = app.register("user@example.com").await;
    json_of(app.post_anon("/api/v1/auth/login", json!({ "email": user.email, "password": user.password })).await, 200)
        .await;
    let bad = json!({ "email": "user@example.com", "password": "wrong password" });
    json_of(app.post_anon("/api/v1/auth/login", bad).await, 401).await;
    let key =
        json_of(app.post("/api/v1/api-keys", &user.token, json!({ "name": "ci", "scopes": ["read"] })).await, 201)
            .await;
    assert_eq!(app.delete(&format!("/api/v1/api-keys/{}", id(&key)), &user.token).await.status(), 204);
    let session = app.create_session(&user, "doomed", false).await;
    assert_eq!(app.delete(&format!("/api/v1/sessions/{}", id(&session)), &user.token).await.status(), 204);
    json_of(patch_user(&app, &admin, &user.id, json!({ "role": "admin" })).await, 200).await;
    json_of(patch_user(&app, &admin, &user.id, json!({ "disabled": true })).await, 200).await;

    let all = json_of(app.get("/api/v1/admin/audit?limit=500", &admin.token).await, 200).await;
    assert_eq!(
        actions(&all),
        [
            "admin.user_disabled",
            "admin.user_role_changed",
            "session.deleted",
            "api_key.deleted",
            "api_key.created",
            "auth.login_failed",
            "auth.login",
            "auth.register",
            "auth.register",
        ]
    );
    let items = all["items"].as_array().unwrap();
    for e in items {
        assert_eq!(e["ip"], "127.0.0.1", "{e}");
        assert!(e["at"].as_str().is_some());
    }
    let disabled = &items[0];
    assert_eq!(disabled["actor_email"], "admin@example.com");
    assert_eq!(disabled["target_type"], "user");
    assert_eq!(disabled["target_id"], user.id.as_str());
    assert_eq!(items[1]["detail"], json!({ "from": "user", "to": "admin" }));
    assert_eq!(items[2]["target_id"], session["id"]);
    assert_eq!(items[2]["actor_id"], user.id.as_str());
    assert_eq!(items[4]["detail"]["scopes"], "read");
    let failed = &items[5];
    assert_eq!(failed["actor_id"], Value::Null);
    assert_eq!(failed["actor_email"], "user@example.com");
    assert_eq!(all["next_before"], Value::Null);

    // Paging: 4 + 4 + 1, no entry twice, none lost.
    let mut seen = Vec::new();
    let mut path = "/api/v1/admin/audit?limit=4".to_owned();
    loop {
        let page = json_of(app.get(&path, &admin.token).await, 200).await;
        seen.extend(actions(&page));
        match page["next_before"].as_i64() {
            Some(before) => path = format!("/api/v1/admin/audit?limit=4&before={before}"),
            None => break,
        }
    }
    assert_eq!(seen, actions(&all));
    let resp = app.get("/api/v1/admin/audit?limit=0", &admin.token).await;
    assert!(resp.status().is_client_error());
    app.stop().await;
}

#[tokio::test]
async fn server_info_needs_no_auth_and_tells_a_first_visit_apart() {
    let app = spawn_app().await;
    let info: Value = json_of(app.request(Method::GET, "/api/v1/server", None).send().await.unwrap(), 200).await;
    assert_eq!(info["has_users"], false);
    assert_eq!(info["registration_open"], true);
    assert_eq!(info["engine"], "sim");
    assert_eq!(info["node"], Value::Null);
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    app.register("first@example.com").await;
    let info: Value = json_of(app.request(Method::GET, "/api/v1/server", None).send().await.unwrap(), 200).await;
    assert_eq!(info["has_users"], true);
    app.stop().await;

    let closed = spawn_app_with(|s| s.auth.registration_open = false).await;
    let info: Value = json_of(closed.request(Method::GET, "/api/v1/server", None).send().await.unwrap(), 200).await;
    assert_eq!(info["registration_open"], false);
    closed.stop().await;
}
