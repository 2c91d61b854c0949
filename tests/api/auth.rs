use reqwest::Method;
use serde_json::{json, Value};
use wahub_tests::{json_of, spawn_app, spawn_app_with};

#[tokio::test]
async fn register_login_me_and_first_user_is_admin() {
    let app = spawn_app().await;
    let admin = app.register("Admin@Example.com").await;
    let user = app.register("user@example.com").await;
    let me: Value = json_of(app.get("/api/v1/me", &admin.token).await, 200).await;
    assert_eq!(me["email"], "admin@example.com");
    assert_eq!(me["role"], "admin");
    let me: Value = json_of(app.get("/api/v1/me", &user.token).await, 200).await;
    assert_eq!(me["role"], "user");
    let login =
        app.post_anon("/api/v1/auth/login", json!({"email": "user@example.com", "password": user.password})).await;
    let body = json_of(login, 200).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    app.stop().await;
}

#[tokio::test]
async fn duplicate_email_and_bad_input_are_rejected() {
    let app = spawn_app().await;
    app.register("a@example.com").await;
    let r = app.post_anon("/api/v1/auth/register", json!({"email": "A@example.com", "password": "longenough"})).await;
    assert_eq!(json_of(r, 409).await["code"], "email_taken");
    let r = app.post_anon("/api/v1/auth/register", json!({"email": "not-an-email", "password": "longenough"})).await;
    assert_eq!(json_of(r, 422).await["code"], "invalid_email");
    let r = app.post_anon("/api/v1/auth/register", json!({"email": "b@example.com", "password": "short"})).await;
    assert_eq!(json_of(r, 422).await["code"], "weak_password");
    app.stop().await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let app = spawn_app().await;
    app.register("a@example.com").await;
    let wrong =
        app.post_anon("/api/v1/auth/login", json!({"email": "a@example.com", "password": "wrong password"})).await;
    let unknown =
        app.post_anon("/api/v1/auth/login", json!({"email": "nobody@example.com", "password": "wrong password"})).await;
    assert_eq!(wrong.headers()["content-type"], "application/problem+json");
    let (mut a, mut b) = (json_of(wrong, 401).await, json_of(unknown, 401).await);
    // Each answer names its own request; everything else is the same.
    assert_ne!(a.as_object_mut().unwrap().remove("request_id"), b.as_object_mut().unwrap().remove("request_id"));
    assert_eq!(a, b);
    assert_eq!(a["code"], "invalid_credentials");
    app.stop().await;
}

#[tokio::test]
async fn repeated_login_failures_are_rate_limited() {
    let app = spawn_app_with(|s| s.auth.login_max_failures = 3).await;
    let user = app.register("a@example.com").await;
    for _ in 0..3 {
        let r = app.post_anon("/api/v1/auth/login", json!({"email": "a@example.com", "password": "nope nope"})).await;
        assert_eq!(r.status(), 401);
    }
    let r = app.post_anon("/api/v1/auth/login", json!({"email": "a@example.com", "password": user.password})).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    assert_eq!(json_of(r, 429).await["code"], "rate_limited");
    // Another account from the same address is not locked.
    app.register("b@example.com").await;
    let r = app.post_anon("/api/v1/auth/login", json!({"email": "b@example.com", "password": user.password})).await;
    assert_eq!(r.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let refresh = |token: String| {
        let app = &app;
        async move { app.post_anon("/api/v1/auth/refresh", json!({"refresh_token": token})).await }
    };
    let first = json_of(refresh(user.refresh.clone()).await, 200).await;
    let second_token = first["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_token, user.refresh);
    // The new access token works.
    assert_eq!(app.get("/api/v1/me", first["access_token"].as_str().unwrap()).await.status(), 200);
    // The rotated token is refused, and presenting it revokes the family...
    assert_eq!(json_of(refresh(user.refresh.clone()).await, 401).await["code"], "invalid_refresh_token");
    // ...so the legitimate successor no longer works either.
    assert_eq!(refresh(second_token).await.status(), 401);
    // A fresh login starts a new family that works.
    let login = app.post_anon("/api/v1/auth/login", json!({"email": user.email, "password": user.password})).await;
    let login = json_of(login, 200).await;
    assert_eq!(refresh(login["refresh_token"].as_str().unwrap().to_owned()).await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let r = app.post_anon("/api/v1/auth/logout", json!({"refresh_token": user.refresh})).await;
    assert_eq!(r.status(), 204);
    let r = app.post_anon("/api/v1/auth/refresh", json!({"refresh_token": user.refresh})).await;
    assert_eq!(r.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn expired_tampered_and_missing_tokens_are_refused() {
    let app = spawn_app_with(|s| s.auth.access_token_ttl_secs = 1).await;
    let user = app.register("a@example.com").await;
    assert_eq!(app.get("/api/v1/me", &user.token).await.status(), 200);
    let mut tampered = user.token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(json_of(app.get("/api/v1/me", &tampered).await, 401).await["code"], "unauthorized");
    let r = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(json_of(r, 401).await["code"], "unauthorized");
    // A token signed with another secret.
    let forged = wahub::auth::jwt::JwtKeys::new(b"some-other-secret-some-other-secret", 900)
        .issue(user.id.parse().unwrap(), "admin")
        .unwrap();
    assert_eq!(app.get("/api/v1/me", &forged).await.status(), 401);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(app.get("/api/v1/me", &user.token).await.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn api_keys_authenticate_until_deleted() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let created = json_of(app.post("/api/v1/api-keys", &user.token, json!({"name": "ci"})).await, 201).await;
    let key = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    let me = app.request(Method::GET, "/api/v1/me", None).header("X-Api-Key", &key).send().await.unwrap();
    assert_eq!(json_of(me, 200).await["email"], "a@example.com");
    let list = json_of(app.get("/api/v1/api-keys", &user.token).await, 200).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0].get("key").is_none(), "the key is shown only once");
    assert!(key.starts_with(list[0]["prefix"].as_str().unwrap()));
    // Only a hash is stored.
    use sea_orm::EntityTrait;
    let rows = wahub::db::entities::api_key::Entity::find().all(&app.state.db).await.unwrap();
    assert!(rows.iter().all(|r| r.key_hash != key && !r.key_hash.contains(&key)));
    assert_eq!(app.delete(&format!("/api/v1/api-keys/{id}"), &user.token).await.status(), 204);
    let me = app.request(Method::GET, "/api/v1/me", None).header("X-Api-Key", &key).send().await.unwrap();
    assert_eq!(me.status(), 401);
    // Another user cannot delete (or see) someone's key.
    let other = app.register("b@example.com").await;
    let created = json_of(app.post("/api/v1/api-keys", &user.token, json!({"name": "two"})).await, 201).await;
    let r = app.delete(&format!("/api/v1/api-keys/{}", created["id"].as_str().unwrap()), &other.token).await;
    assert_eq!(json_of(r, 404).await["code"], "not_found");
    app.stop().await;
}

#[tokio::test]
async fn registration_can_be_closed() {
    let app = spawn_app_with(|s| s.auth.registration_open = false).await;
    let r = app.post_anon("/api/v1/auth/register", json!({"email": "a@example.com", "password": "longenough"})).await;
    assert_eq!(json_of(r, 403).await["code"], "registration_closed");
    app.stop().await;
}

#[tokio::test]
async fn data_survives_a_restart() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    app.create_session(&user, "kept", false).await;
    let app = app.restart().await;
    // Same JWT secret (configured), same database: the old token and data still work.
    let list = json_of(app.get("/api/v1/sessions", &user.token).await, 200).await;
    assert_eq!(list[0]["name"], "kept");
    let login = app.post_anon("/api/v1/auth/login", json!({"email": user.email, "password": user.password})).await;
    assert_eq!(login.status(), 200);
    app.stop().await;
}
