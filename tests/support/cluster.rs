//! Multi-process harness: real `wahub serve` processes on loopback ports against one
//! uniquely named PostgreSQL database (and NATS at 127.0.0.1:4222), for cluster tests.
//! Children are killed and the database dropped when the `Cluster` drops, even on panic.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::{Method, Response};
use serde_json::{json, Value};

use super::{TestDb, TestUser};

/// NATS for cluster tests (loopback only); `WAHUB_TEST_NATS_URL` overrides it.
pub fn nats_url() -> String {
    std::env::var("WAHUB_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// How a cluster is started; `env` adds or overrides `WAHUB_*` settings of every node.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    pub nodes: usize,
    pub lease_ttl_secs: u64,
    /// Set `nats_url` (cluster mode); off, the nodes run in single-node mode.
    pub nats: bool,
    pub env: Vec<(String, String)>,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self { nodes: 3, lease_ttl_secs: 3, nats: true, env: Vec::new() }
    }
}

pub struct Node {
    pub id: String,
    /// Where the node listens; known once `wait_ready` has read it from the node's log.
    pub addr: std::net::SocketAddr,
    pub log: PathBuf,
    data_dir: PathBuf,
    child: Option<Child>,
}

impl Node {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn ws_url(&self, query: &str) -> String {
        format!("ws://{}/api/v1/ws?{}", self.addr, query)
    }

    pub fn pid(&self) -> Option<i32> {
        self.child.as_ref().and_then(|c| i32::try_from(c.id()).ok())
    }

    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }
}

pub struct Cluster {
    pub nodes: Vec<Node>,
    pub client: reqwest::Client,
    env: Vec<(String, String)>,
    dir: PathBuf,
    // Dropped last: children first, then the database.
    db: Option<TestDb>,
}

/// The `wahub` binary of this build, built once per test process (cargo is quick when
/// it is current). `WAHUB_BIN` names another binary instead.
pub fn wahub_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("WAHUB_BIN") {
            return PathBuf::from(bin);
        }
        // The test runs as <target>/<profile>/deps/<name>-<hash>.
        let exe = std::env::current_exe().expect("test executable path");
        let profile_dir = exe.parent().and_then(Path::parent).expect("target profile dir").to_path_buf();
        let target = profile_dir.parent().expect("target dir").to_path_buf();
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        // The variables cargo sets for a running test (CARGO_MANIFEST_DIR, CARGO_PKG_*, ...)
        // would make build scripts rerun and rebuild half the tree on every run.
        for (k, _) in std::env::vars() {
            if k.starts_with("CARGO_") && k != "CARGO_HOME" {
                cmd.env_remove(k);
            }
        }
        cmd.current_dir(&workspace).env("CARGO_TARGET_DIR", &target).args(["build", "-p", "wahub", "--bin", "wahub"]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build for the wahub binary");
        assert!(status.success(), "building the wahub binary failed");
        let built = profile_dir.join("wahub");
        // Other worktrees may share this target dir and rebuild the binary at any time:
        // run a private copy of the one just built.
        let dir = target.join("wahub-cluster-bin");
        std::fs::create_dir_all(&dir).expect("private binary dir");
        forget_old_copies(&dir);
        let bin = dir.join(format!("wahub-{}", std::process::id()));
        let _ = std::fs::remove_file(&bin);
        if std::fs::hard_link(&built, &bin).is_err() {
            std::fs::copy(&built, &bin).unwrap_or_else(|e| panic!("copy {}: {e}", built.display()));
        }
        bin
    })
    .clone()
}

/// Private binaries of test runs older than an hour are gone.
fn forget_old_copies(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let old = entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
        if old.is_some_and(|age| age > Duration::from_secs(3600)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Nodes bind port 0 and say where they listen in their log ("wahub listening addr=…"):
/// a port picked here and released would race other tests for it.
fn listening_addr(log: &str) -> Option<std::net::SocketAddr> {
    let line = log.lines().find(|l| l.contains("wahub listening"))?;
    let plain = strip_ansi(line);
    let rest = &plain[plain.find("addr=")? + "addr=".len()..];
    rest.split_whitespace().next()?.parse().ok()
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC '[' parameters, ended by a letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Cluster {
    /// Starts `opts.nodes` nodes, or returns `None` (printing why) when
    /// `WAHUB_TEST_DATABASE_URL` is not PostgreSQL: such tests are skipped, not passed.
    pub async fn start(test: &str, opts: ClusterOptions) -> Option<Cluster> {
        let pg = std::env::var("WAHUB_TEST_DATABASE_URL").ok().filter(|u| u.starts_with("postgres"));
        if pg.is_none() {
            eprintln!("SKIPPED {test}: cluster tests need WAHUB_TEST_DATABASE_URL=postgres://...");
            return None;
        }
        let bin = wahub_bin();
        let db = TestDb::create().await;
        let dir = std::env::temp_dir().join(format!("wahub_cluster_{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("cluster dir");
        let key = random_key();
        let mut env: Vec<(String, String)> = vec![
            ("WAHUB_DATABASE_URL".into(), db.url().to_owned()),
            ("WAHUB_ENCRYPTION_KEY".into(), key),
            ("WAHUB_JWT_SECRET".into(), "test-secret-test-secret-test-secret-0123".into()),
            ("WAHUB_LEASE_TTL_SECS".into(), opts.lease_ttl_secs.to_string()),
            ("WAHUB_SIM_PAIR_DELAY_MS".into(), "50".into()),
            ("WAHUB_MIN_SEND_INTERVAL_MS".into(), "0".into()),
            ("WAHUB_RECONNECT_BASE_MS".into(), "50".into()),
            ("WAHUB_RECONNECT_MAX_MS".into(), "400".into()),
            ("WAHUB_RESTORE_JITTER_MS".into(), "0".into()),
            ("WAHUB_AUTH_IP_BUDGET".into(), "100000".into()),
            ("WAHUB_AUTH_IP_CONCURRENT_HASHES".into(), "10000".into()),
            ("WAHUB_ALLOW_PRIVATE_TARGETS".into(), "true".into()),
            ("WAHUB_WEBHOOK_POLL_MS".into(), "50".into()),
            ("WAHUB_WEBHOOK_RETRY_BASE_MS".into(), "100".into()),
            // The simulated server notices two live links of one device (stream_replaced).
            ("WAHUB_SIM_STREAM_CHECK_MS".into(), "100".into()),
        ];
        if opts.nats {
            env.push(("WAHUB_NATS_URL".into(), nats_url()));
            // Subjects of their own, so parallel clusters (node-0 in each) never cross.
            env.push(("WAHUB_NATS_PREFIX".into(), format!("t{}", uuid::Uuid::new_v4().simple())));
        }
        for (k, v) in opts.env {
            env.retain(|(e, _)| *e != k);
            env.push((k, v));
        }
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("http client");
        let mut cluster = Cluster { nodes: Vec::new(), client, env, dir, db: Some(db) };
        for i in 0..opts.nodes {
            let node = cluster.spawn(&bin, &format!("node{i}"));
            cluster.nodes.push(node);
            // The first node migrates the database; the others start together after it.
            if i == 0 {
                cluster.wait_ready(0).await;
            }
        }
        for i in 1..opts.nodes {
            cluster.wait_ready(i).await;
        }
        Some(cluster)
    }

    fn spawn(&self, bin: &Path, id: &str) -> Node {
        let data_dir = self.dir.join(id);
        std::fs::create_dir_all(&data_dir).expect("node data dir");
        let log = self.dir.join(format!("{id}.log"));
        let out = std::fs::File::create(&log).expect("node log");
        let err = out.try_clone().expect("node log");
        let mut cmd = Command::new(bin);
        cmd.arg("serve").stdin(Stdio::null()).stdout(out).stderr(err);
        for (k, _) in std::env::vars() {
            if k.starts_with("WAHUB_") {
                cmd.env_remove(k);
            }
        }
        cmd.env(
            "RUST_LOG",
            std::env::var("WAHUB_TEST_NODE_LOG").unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
        )
        .env("WAHUB_BIND", "127.0.0.1:0")
        .env("WAHUB_DATA_DIR", &data_dir)
        .env("WAHUB_NODE_ID", id);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn wahub serve");
        let unknown = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        Node { id: id.to_owned(), addr: unknown, log, data_dir, child: Some(child) }
    }

    /// Waits until node `i` answers `/healthz` (panics with its log when it exits or takes too long).
    pub async fn wait_ready(&mut self, i: usize) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if self.nodes[i].addr.port() == 0 {
                if let Some(addr) = listening_addr(&self.log(i)) {
                    self.nodes[i].addr = addr;
                }
            }
            if self.nodes[i].addr.port() != 0 && self.healthy(i).await {
                return;
            }
            if !self.nodes[i].is_running() || Instant::now() > deadline {
                panic!("node {} did not become ready; log:\n{}", self.nodes[i].id, self.log_tail(i, 60));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn healthy(&self, i: usize) -> bool {
        let answer = self.client.get(self.nodes[i].url("/healthz")).send().await;
        answer.is_ok_and(|r| r.status().is_success())
    }

    /// Starts node `i` again (same id and data dir, a new port) after it exited.
    pub async fn restart(&mut self, i: usize) {
        let id = self.nodes[i].id.clone();
        self.reap(i);
        let node = self.spawn(&wahub_bin(), &id);
        self.nodes[i] = node;
        self.wait_ready(i).await;
    }

    /// Adds one more node (`node<N>`) and waits until it serves.
    pub async fn add_node(&mut self) -> usize {
        let id = format!("node{}", self.nodes.len());
        let node = self.spawn(&wahub_bin(), &id);
        self.nodes.push(node);
        let i = self.nodes.len() - 1;
        self.wait_ready(i).await;
        i
    }

    pub fn signal(&self, i: usize, sig: i32) {
        if let Some(pid) = self.nodes[i].pid() {
            // SAFETY: plain kill(2) on a child we spawned and have not reaped.
            unsafe {
                libc::kill(pid, sig);
            }
        }
    }

    /// kill -9: the node dies without releasing anything.
    pub fn kill9(&mut self, i: usize) {
        self.signal(i, libc::SIGKILL);
        self.reap(i);
    }

    pub fn sigstop(&self, i: usize) {
        self.signal(i, libc::SIGSTOP);
    }

    pub fn sigcont(&self, i: usize) {
        self.signal(i, libc::SIGCONT);
    }

    /// Starts one more node without waiting for it (e.g. one expected to refuse to start).
    pub fn spawn_unready(&mut self, id: &str) -> usize {
        let node = self.spawn(&wahub_bin(), id);
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// SIGTERM, then waits (up to `wait`) for the node to exit; true when it did.
    pub async fn sigterm(&mut self, i: usize, wait: Duration) -> bool {
        self.signal(i, libc::SIGTERM);
        self.wait_exit(i, wait).await
    }

    /// Waits (up to `wait`) for node `i` to exit; true when it did.
    pub async fn wait_exit(&mut self, i: usize, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if !self.nodes[i].is_running() {
                self.reap(i);
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    fn reap(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(&self.nodes[i].log).unwrap_or_default()
    }

    pub fn log_tail(&self, i: usize, lines: usize) -> String {
        let log = self.log(i);
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    pub fn db(&self) -> &TestDb {
        self.db.as_ref().expect("database")
    }

    pub async fn request(&self, i: usize, method: Method, path: &str, token: &str, body: Option<Value>) -> Response {
        let mut req = self.client.request(method, self.nodes[i].url(path)).bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("request to a node")
    }

    pub async fn get(&self, i: usize, path: &str, token: &str) -> Response {
        self.request(i, Method::GET, path, token, None).await
    }

    pub async fn post(&self, i: usize, path: &str, token: &str, body: Value) -> Response {
        self.request(i, Method::POST, path, token, Some(body)).await
    }

    /// Registers `email` through node `i`.
    pub async fn register(&self, i: usize, email: &str) -> TestUser {
        crate::app::register_at(&self.client, &self.nodes[i].url("/api/v1/auth/register"), email).await
    }

    /// The session as node `i` shows it (`None` if the node does not answer 200).
    pub async fn session(&self, i: usize, user: &TestUser, id: &str) -> Option<Value> {
        let r = self.client.get(self.nodes[i].url(&format!("/api/v1/sessions/{id}"))).bearer_auth(&user.token);
        let r = r.send().await.ok()?;
        if r.status() != 200 {
            return None;
        }
        r.json().await.ok()
    }

    /// Creates a session through node `i` (which runs it, unless placement puts it elsewhere)
    /// and scans it with `phone`; returns it once connected.
    pub async fn connected_session(&self, i: usize, user: &TestUser, name: &str, phone: &str) -> Value {
        let r = self.post(i, "/api/v1/sessions", &user.token, json!({ "name": name, "start": true })).await;
        let s = super::json_of(r, 201).await;
        let id = s["id"].as_str().expect("id").to_owned();
        super::eventually(30, &format!("{name} offering a QR"), || async {
            self.session(i, user, &id).await.filter(|s| s["status"] == "scan_qr")
        })
        .await;
        // Through node `i` also when placement put the session elsewhere: the scan reaches
        // the simulated phone in the owner's process.
        let r = self
            .post(
                i,
                &format!("/api/v1/sessions/{id}/sim/scan"),
                &user.token,
                json!({ "phone": phone, "push_name": name }),
            )
            .await;
        assert_eq!(r.status(), 200, "scan {name} through node {i}");
        super::eventually(30, &format!("{name} connected"), || async {
            self.session(i, user, &id).await.filter(|s| s["status"] == "connected")
        })
        .await
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        for i in 0..self.nodes.len() {
            // A stopped process must run again to die of anything but SIGKILL; SIGKILL works anyway.
            self.signal(i, libc::SIGKILL);
            self.reap(i);
            if panicking {
                eprintln!("---- log of {} (last 40 lines) ----\n{}", self.nodes[i].id, self.log_tail(i, 40));
            }
        }
        for node in &self.nodes {
            let _ = std::fs::remove_dir_all(&node.data_dir);
        }
        if !panicking {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        // TestDb's own Drop drops the database.
        self.db.take();
    }
}

/// A random 32-byte encryption key, base64, shared by all nodes of one cluster.
fn random_key() -> String {
    use base64::Engine as _;
    let bytes: Vec<u8> = (0..2).flat_map(|_| *uuid::Uuid::new_v4().as_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
