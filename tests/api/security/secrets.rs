//! The JWT secret was stored in plaintext (a token minted with it for role admin was
//! accepted) and wahub.db was world-readable: now the secret is sealed with the key file,
//! and the data dir and database files are private.

use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use wahub::auth::jwt::JwtKeys;
use wahub::db::entities::meta;
use wahub_tests::spawn_app_with;

/// What an attacker with a database dump would try: mint an admin token from the stored value.
fn forged(secret: &str, user: &str) -> String {
    JwtKeys::new(secret.as_bytes(), 600).issue(user.parse().unwrap(), "admin").unwrap()
}

#[tokio::test]
async fn the_generated_jwt_secret_is_not_readable_from_the_database() {
    let app = spawn_app_with(|s| s.auth.jwt_secret = None).await;
    let user = app.register("a@example.com").await;
    assert_eq!(app.get("/api/v1/me", &user.token).await.status(), 200);
    let rows = meta::Entity::find().all(&app.state.db).await.unwrap();
    assert!(rows.iter().all(|r| r.key != "jwt_secret"), "no plaintext secret row");
    for row in &rows {
        let token = forged(&row.value, &user.id);
        assert_eq!(
            app.get("/api/v1/me", &token).await.status(),
            401,
            "a token minted from meta.{} was accepted",
            row.key
        );
    }
    // The sealed secret survives a restart: tokens issued before stay valid.
    let app = app.restart().await;
    assert_eq!(app.get("/api/v1/me", &user.token).await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn a_plaintext_secret_from_an_older_version_is_sealed_on_start() {
    let app = spawn_app_with(|s| s.auth.jwt_secret = None).await;
    let user = app.register("a@example.com").await;
    // Make the database look like an older version wrote it: the secret in plaintext.
    let old = "an-old-plaintext-secret-stored-by-an-older-wahub";
    meta::Entity::delete_many().exec(&app.state.db).await.unwrap();
    meta::ActiveModel { key: Set("jwt_secret".into()), value: Set(old.into()) }.insert(&app.state.db).await.unwrap();
    let app = app.restart().await;
    // Tokens issued by the old version stay valid...
    assert_eq!(app.get("/api/v1/me", &forged(old, &user.id)).await.status(), 200);
    // ...and the plaintext is gone from the database.
    let rows = meta::Entity::find().all(&app.state.db).await.unwrap();
    assert!(rows.iter().all(|r| r.key != "jwt_secret" && !r.value.contains(old)), "{rows:?}");
    let app = app.restart().await;
    assert_eq!(app.get("/api/v1/me", &forged(old, &user.id)).await.status(), 200, "still the same secret");
    app.stop().await;
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_dir_and_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let parent = std::env::temp_dir().join(format!("wahub_modes_{}", uuid::Uuid::new_v4().simple()));
    let dir = parent.join("data");
    let dir_for_app = dir.clone();
    let app = spawn_app_with(move |s| {
        s.server.data_dir = dir_for_app;
        s.database.database_url = None;
        s.auth.jwt_secret = None;
    })
    .await;
    app.register("a@example.com").await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "data dir");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = entry.path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 3, "wahub.key, wahub.db and its WAL were checked ({checked})");
    app.stop().await;
    let _ = std::fs::remove_dir_all(parent);
}
