//! A wahub server per test, bound to port 0.

use std::sync::Arc;

use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use wahub::config::{Secret, Settings};
use wahub::http::AppState;

use super::{TestDb, WsClient};

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub state: Arc<AppState>,
    pub settings: Settings,
    db: Option<TestDb>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

/// A registered user and their tokens.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub password: String,
    pub token: String,
    pub refresh: String,
}

/// Settings for fast tests: quick pairing and retries, no send spacing.
fn test_settings(db: &TestDb, data_dir: &std::path::Path) -> Settings {
    let mut s = Settings::default();
    s.server.bind = "127.0.0.1:0".into();
    s.server.data_dir = data_dir.to_path_buf();
    s.database.database_url = Some(Secret::new(db.url()));
    s.auth.jwt_secret = Some(Secret::new("test-secret-test-secret-test-secret-0123"));
    s.auth.login_max_failures = 5;
    // Every test client shares 127.0.0.1; the budget's own tests lower it again.
    s.auth.auth_ip_budget = 100_000;
    s.auth.auth_ip_concurrent_hashes = 10_000;
    s.sim.sim_pair_delay_ms = 50;
    s.sessions.min_send_interval_ms = 0;
    s.sessions.reconnect_base_ms = 50;
    s.sessions.reconnect_max_ms = 400;
    s.sessions.reconnect_max_attempts = 5;
    s.webhooks.webhook_retry_base_ms = 100;
    s.webhooks.webhook_poll_ms = 50;
    s.webhooks.webhook_timeout_ms = 2_000;
    // Receivers and file servers in tests listen on loopback; tests of the refusal set it false.
    s.webhooks.allow_private_targets = true;
    s
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns a server; `adjust` may change any setting first.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDb::create().await;
    let data_dir = std::env::temp_dir().join(format!("wahub_data_{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&data_dir).expect("create data dir");
    let mut settings = test_settings(&db, &data_dir);
    adjust(&mut settings);
    start(settings, db).await
}

/// Starts a server with these settings on `db` (from `shutdown`, or `spawn_app`'s).
pub async fn start(settings: Settings, db: TestDb) -> TestApp {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    let addr = listener.local_addr().expect("local addr");
    let state = wahub::startup::build_state(settings.clone()).await.expect("build app state");
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(wahub::startup::run(state.clone(), listener, async move {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        base: format!("http://{addr}"),
        client: reqwest::Client::builder().build().expect("http client"),
        state,
        settings,
        db: Some(db),
        stop: Some(stop),
        server: Some(server),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn ws_url(&self, query: &str) -> String {
        format!("ws://{}/api/v1/ws?{}", self.addr, query)
    }

    pub fn db(&self) -> &TestDb {
        self.db.as_ref().expect("database")
    }

    async fn shutdown_server(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.state.db.clone().close().await.ok();
    }

    /// Stops gracefully and starts a new server on the same database and data dir.
    pub async fn restart(self) -> TestApp {
        self.restart_with(|_| {}).await
    }

    pub async fn restart_with(mut self, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        self.shutdown_server().await;
        let mut settings = self.settings.clone();
        adjust(&mut settings);
        let db = self.db.take().expect("database");
        start(settings, db).await
    }

    /// Stops gracefully and hands back the settings and the database, e.g. to start
    /// another node on it with `start`.
    pub async fn shutdown(mut self) -> (Settings, TestDb) {
        self.shutdown_server().await;
        (self.settings.clone(), self.db.take().expect("database"))
    }

    /// Settings for another node on this app's database: its own data dir and node id,
    /// the same encryption key (nodes of one deployment share it).
    pub fn peer_settings(&self, node_id: &str) -> Settings {
        let mut s = self.settings.clone();
        if s.database.encryption_key.is_none() {
            let key = std::fs::read_to_string(s.server.data_dir.join("wahub.key")).expect("the first node's key");
            s.database.encryption_key = Some(Secret::new(key.trim()));
        }
        s.server.data_dir = std::env::temp_dir().join(format!("wahub_data_{}", uuid::Uuid::new_v4().simple()));
        s.cluster.node_id = Some(node_id.to_owned());
        s
    }

    /// Stops the server and drops its database.
    pub async fn stop(mut self) {
        self.shutdown_server().await;
        if let Some(db) = self.db.take() {
            db.drop_db().await;
        }
        let _ = std::fs::remove_dir_all(&self.settings.server.data_dir);
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token)).send().await.expect("GET")
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::POST, path, Some(token)).json(&body).send().await.expect("POST")
    }

    /// POST without credentials (login, register, refresh).
    pub async fn post_anon(&self, path: &str, body: Value) -> Response {
        self.request(Method::POST, path, None).json(&body).send().await.expect("POST")
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.request(Method::DELETE, path, Some(token)).send().await.expect("DELETE")
    }

    /// Renames a session (each rename publishes a `session.updated` event).
    pub async fn rename_session(&self, user: &TestUser, session: &str, name: &str) {
        let resp = self
            .request(Method::PATCH, &format!("/api/v1/sessions/{session}"), Some(&user.token))
            .json(&json!({ "name": name }))
            .send()
            .await
            .expect("PATCH");
        assert_eq!(resp.status(), 200, "rename to {name}");
    }

    /// Registers a webhook for `events` and returns its id.
    pub async fn create_webhook(&self, user: &TestUser, url: &str, events: Value) -> String {
        let r = self.post("/api/v1/webhooks", &user.token, json!({"url": url, "events": events})).await;
        json_of(r, 201).await["id"].as_str().expect("id").to_owned()
    }

    /// Registers `email` with a fixed password and returns the tokens.
    pub async fn register(&self, email: &str) -> TestUser {
        register_at(&self.client, &self.url("/api/v1/auth/register"), email).await
    }

    /// Creates a session (not started) and returns its JSON.
    pub async fn create_session(&self, user: &TestUser, name: &str, start: bool) -> Value {
        let resp = self.post("/api/v1/sessions", &user.token, json!({ "name": name, "start": start })).await;
        assert_eq!(resp.status(), 201, "create session {name}");
        resp.json().await.expect("json")
    }

    pub async fn session(&self, user: &TestUser, id: &str) -> Value {
        let resp = self.get(&format!("/api/v1/sessions/{id}"), &user.token).await;
        assert_eq!(resp.status(), 200);
        resp.json().await.expect("json")
    }

    /// Waits until the session has `status`.
    pub async fn wait_status(&self, user: &TestUser, id: &str, status: &str) -> Value {
        super::eventually(15, &format!("session {id} to be {status}"), || async {
            let s = self.session(user, id).await;
            (s["status"] == status).then_some(s)
        })
        .await
    }

    /// Creates a session, starts it and completes a simulated scan with `phone`.
    pub async fn connected_session(&self, user: &TestUser, name: &str, phone: &str) -> Value {
        let s = self.create_session(user, name, true).await;
        let id = s["id"].as_str().expect("id").to_owned();
        self.wait_status(user, &id, "scan_qr").await;
        let resp = self
            .post(&format!("/api/v1/sessions/{id}/sim/scan"), &user.token, json!({ "phone": phone, "push_name": name }))
            .await;
        assert_eq!(resp.status(), 200, "scan");
        self.wait_status(user, &id, "connected").await
    }

    pub async fn ws(&self, user: &TestUser, since: Option<i64>) -> WsClient {
        let mut q = format!("token={}", user.token);
        if let Some(s) = since {
            q.push_str(&format!("&since={s}"));
        }
        WsClient::connect(&self.ws_url(&q)).await.expect("ws connect")
    }
}

/// Reads a response body as JSON and checks the status.
pub async fn json_of(resp: Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    assert_eq!(got, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Runs a server with `settings` and returns the error it stops with at start, or
/// `None` once it serves (it answered `/healthz`; it is then stopped).
pub async fn start_error(settings: Settings) -> Option<anyhow::Error> {
    let state = match wahub::startup::build_state(settings).await {
        Ok(state) => state,
        Err(e) => return Some(e),
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    let health = format!("http://{}/healthz", listener.local_addr().expect("local addr"));
    let (stop, stopped) = oneshot::channel::<()>();
    let mut server = tokio::spawn(wahub::startup::run(state, listener, async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while tokio::time::Instant::now() < deadline {
        if server.is_finished() {
            return match (&mut server).await {
                Ok(result) => result.err(),
                Err(join) => Some(anyhow::anyhow!("server task failed: {join}")),
            };
        }
        if client.get(&health).send().await.is_ok_and(|r| r.status().is_success()) {
            let _ = stop.send(());
            let _ = server.await;
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the server neither failed nor served within 60 s");
}

/// Registers `email` with a fixed password at `url` (a register endpoint) and returns the tokens.
pub async fn register_at(client: &reqwest::Client, url: &str, email: &str) -> TestUser {
    let password = "correct horse battery".to_owned();
    let resp = client.post(url).json(&json!({ "email": email, "password": password })).send().await.expect("register");
    assert_eq!(resp.status(), 201, "register {email}");
    let body: Value = resp.json().await.expect("json");
    TestUser {
        id: body["user"]["id"].as_str().expect("id").to_owned(),
        email: email.to_owned(),
        password,
        token: body["access_token"].as_str().expect("access").to_owned(),
        refresh: body["refresh_token"].as_str().expect("refresh").to_owned(),
    }
}
