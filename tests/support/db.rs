//! A uniquely named database per test, dropped afterwards.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

pub struct TestDb {
    url: String,
    /// For PostgreSQL: (admin url, database name) to drop it.
    postgres: Option<(String, String)>,
    dir: Option<std::path::PathBuf>,
    dropped: bool,
}

impl TestDb {
    /// SQLite by default; PostgreSQL when `WAHUB_TEST_DATABASE_URL=postgres://...` is set.
    pub async fn create() -> Self {
        let name = format!("wahub_test_{}", uuid::Uuid::new_v4().simple());
        match std::env::var("WAHUB_TEST_DATABASE_URL").ok().filter(|u| u.starts_with("postgres")) {
            Some(base) => {
                let base = base.trim_end_matches('/').to_owned();
                let server = match base.rsplit_once('/') {
                    Some((server, db)) if !server.ends_with('/') && !db.contains('@') => server.to_owned(),
                    _ => base.clone(),
                };
                let admin_url = format!("{server}/postgres");
                let admin = Database::connect(&admin_url).await.expect("connect to PostgreSQL");
                admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
                admin.close().await.ok();
                Self { url: format!("{server}/{name}"), postgres: Some((admin_url, name)), dir: None, dropped: false }
            }
            None => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir).expect("create temp dir");
                let url = format!("sqlite://{}/wahub.db?mode=rwc", dir.display());
                Self { url, postgres: None, dir: Some(dir), dropped: false }
            }
        }
    }

    /// The same database for another node of a cluster; dropping it leaves the database
    /// to its owner.
    pub fn shared(&self) -> TestDb {
        Self { url: self.url.clone(), postgres: None, dir: None, dropped: true }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// A migrated connection.
    pub async fn conn(&self) -> DatabaseConnection {
        wahub::db::connect(&self.url).await.expect("connect to the test database")
    }

    pub async fn drop_db(mut self) {
        self.dropped = true;
        drop_now(self.postgres.take(), self.dir.take()).await;
    }
}

async fn drop_now(postgres: Option<(String, String)>, dir: Option<std::path::PathBuf>) {
    if let Some((admin_url, name)) = postgres {
        if let Ok(admin) = Database::connect(&admin_url).await {
            let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
            let _ = admin.close().await;
        }
    }
    if let Some(dir) = dir {
        let _ = std::fs::remove_dir_all(dir);
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let postgres = self.postgres.take();
        let dir = self.dir.take();
        // Also clean up after a failed (panicking) test.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                rt.block_on(drop_now(postgres, dir));
            }
        })
        .join();
    }
}

/// A session row (and its user), for tests that store engine keys directly: keys reference
/// their session.
pub async fn insert_session_row(conn: &sea_orm::DatabaseConnection) -> uuid::Uuid {
    use sea_orm::{ActiveModelTrait, Set};
    use wahub::db::entities::{session, user};
    let now = chrono::Utc::now();
    let (user_id, id) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    user::ActiveModel {
        id: Set(user_id),
        email: Set(format!("{user_id}@example.com")),
        password_hash: Set("x".into()),
        role: Set("user".into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
    .expect("user row");
    session::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        name: Set("s".into()),
        engine: Set("whatsapp".into()),
        status: Set("stopped".into()),
        is_primary: Set(true),
        auth_paired: Set(false),
        socket_open: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
    .expect("session row");
    id
}
