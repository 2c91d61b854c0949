//! Cluster mode, in-process nodes on one PostgreSQL database and NATS: a socket on any
//! node gets every event of its user in seq order, whichever node produced it, also when
//! NATS lost frames; commands reach the node running the session, or answer 503.

use std::time::Duration;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, Statement, TransactionTrait,
};
use serde_json::{json, Value};
use uuid::Uuid;
use wahub::db::entities::event;
use wahub::sessions::route::{RemoteCommand, RemoteReply};
use wahub_tests::{cluster_available, spawn_cluster, stop_cluster, TestApp, WsClient};

async fn newest_seq(app: &TestApp, user_id: &str) -> i64 {
    let user_id: Uuid = user_id.parse().expect("user id");
    let conn = &app.state.db;
    let rows = event::Entity::find()
        .filter(event::Column::UserId.eq(user_id))
        .order_by_desc(event::Column::Seq)
        .limit(1)
        .all(conn)
        .await
        .expect("read events");
    rows.first().map_or(0, |e| e.seq)
}

/// Reads event frames until `until`; each must be the one after the previous.
async fn read_in_order(ws: &mut WsClient, mut last: i64, until: i64) -> Vec<Value> {
    let mut got = vec![];
    while last < until {
        let frame = ws.next_json_within(20).await;
        if frame["type"] != "event" {
            continue;
        }
        let seq = frame["seq"].as_i64().expect("seq");
        assert_eq!(seq, last + 1, "events arrive once each, in seq order: {frame}");
        last = seq;
        got.push(frame);
    }
    got
}

async fn hello_seq(ws: &mut WsClient) -> i64 {
    let hello = ws.next_json().await;
    assert_eq!(hello["type"], "hello");
    hello["seq"].as_i64().expect("hello seq")
}

#[tokio::test]
async fn sockets_on_every_node_get_each_nodes_events_in_order() {
    if !cluster_available() {
        return;
    }
    let nodes = spawn_cluster(2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let user = a.register("fan@example.com").await;
    let mut on_a = a.ws(&user, None).await;
    let mut on_b = b.ws(&user, None).await;
    let (from_a, from_b) = (hello_seq(&mut on_a).await, hello_seq(&mut on_b).await);

    // One session runs on node a, the other on node b.
    a.connected_session(&user, "on-a", "6281234567001").await;
    b.connected_session(&user, "on-b", "6281234567002").await;
    let newest = newest_seq(a, &user.id).await;
    assert!(newest >= 8, "both sessions produced events (newest seq {newest})");

    let seen_a = read_in_order(&mut on_a, from_a, newest).await;
    let seen_b = read_in_order(&mut on_b, from_b, newest).await;
    assert_eq!(seen_a, seen_b, "both nodes deliver the same frames");
    let sessions: std::collections::HashSet<_> = seen_b.iter().filter_map(|f| f["session_id"].as_str()).collect();
    assert_eq!(sessions.len(), 2, "events of both nodes' sessions reached each socket");
    stop_cluster(nodes).await;
}

#[tokio::test]
async fn frames_nats_never_brought_are_filled_from_the_log() {
    if !cluster_available() {
        return;
    }
    let nodes = spawn_cluster(2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let user = a.register("gap@example.com").await;
    let user_id: Uuid = user.id.parse().expect("uuid");
    let mut ws = b.ws(&user, None).await;
    let from = hello_seq(&mut ws).await;

    // An event committed whose frame never went out (as if its node died right after the commit)...
    let lost = |seq: i64| {
        let db = a.state.db.clone();
        async move {
            let txn = db.begin().await.expect("begin");
            event::ActiveModel {
                user_id: Set(user_id),
                seq: Set(seq),
                event: Set("test.lost".into()),
                session_id: Set(None),
                data: Set(json!({ "n": seq }).to_string()),
                created_at: Set(chrono::Utc::now()),
                ..Default::default()
            }
            .insert(&txn)
            .await
            .expect("insert a lost event");
            txn.execute(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "INSERT INTO user_seq (user_id, last_seq) VALUES ($1, $2) \
                 ON CONFLICT (user_id) DO UPDATE SET last_seq = EXCLUDED.last_seq",
                [user_id.into(), seq.into()],
            ))
            .await
            .expect("take its seq");
            txn.commit().await.expect("commit");
        }
    };
    lost(from + 1).await;
    // ...is revealed by the next frame's seq and read from the log before it.
    a.state.events.publish(user_id, "test.after", None, json!({})).await.expect("publish");
    let frames = read_in_order(&mut ws, from, from + 2).await;
    assert_eq!(frames[0]["event"], "test.lost");
    assert_eq!(frames[1]["event"], "test.after");

    // With no later frame at all, the sweep finds it.
    lost(from + 3).await;
    let frames = read_in_order(&mut ws, from + 2, from + 3).await;
    assert_eq!(frames[0]["event"], "test.lost");
    assert!(ws.try_next_json(Duration::from_millis(1_500)).await.is_ok_and(|f| f.is_none()), "no duplicates");
    stop_cluster(nodes).await;
}

#[tokio::test]
async fn commands_run_on_the_node_they_are_sent_to_and_an_absent_owner_is_503() {
    if !cluster_available() {
        return;
    }
    let nodes = spawn_cluster(2, |s| s.cluster.route_timeout_ms = 1_000).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let user = a.register("route@example.com").await;
    let session = a.create_session(&user, "routed", false).await;
    let id: Uuid = session["id"].as_str().expect("id").parse().expect("uuid");
    let router = a.state.sessions.router().expect("cluster mode has a router");

    let err = router.send("node-gone", &RemoteCommand::Start { session_id: id, force_relink: false }).await;
    let err = err.expect_err("nobody serves node-gone");
    assert_eq!((err.status.as_u16(), err.code), (503, "session_owner_unavailable"));
    assert_eq!(a.session(&user, &id.to_string()).await["status"], "stopped", "nothing changed");

    let reply = router.send("node-1", &RemoteCommand::Start { session_id: id, force_relink: false }).await;
    assert!(matches!(reply, Ok(RemoteReply::Done)), "{reply:?}");
    a.wait_status(&user, &id.to_string(), "scan_qr").await;
    assert_eq!((a.state.sessions.live_count(), b.state.sessions.live_count()), (0, 1), "the session runs on node-1");

    let reply = router.send("node-1", &RemoteCommand::Stop { session_id: id }).await;
    assert!(matches!(reply, Ok(RemoteReply::Done)), "{reply:?}");
    a.wait_status(&user, &id.to_string(), "stopped").await;
    assert_eq!(a.state.sessions.live_count(), 0, "the stop ran on node-1 only");
    stop_cluster(nodes).await;
}

/// A NATS server of the test's own on a free loopback port, so that restarting it
/// disturbs no other test.
struct OwnNats {
    port: u16,
    child: Option<std::process::Child>,
    store: std::path::PathBuf,
}

impl OwnNats {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
        let store = std::env::temp_dir().join(format!("wahub_nats_{}", Uuid::new_v4().simple()));
        let mut nats = Self { port, child: None, store };
        nats.restart();
        nats
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn restart(&mut self) {
        let child = std::process::Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
            .arg(&self.store)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nats-server on PATH");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "nats-server did not listen on {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

#[tokio::test]
async fn a_node_without_nats_refuses_to_start() {
    if !cluster_available() {
        return;
    }
    let nodes = spawn_cluster(1, |_| {}).await;
    let mut settings = nodes[0].peer_settings("node-lonely");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    settings.cluster.nats_url = Some(format!("nats://127.0.0.1:{closed}"));
    let err = wahub_tests::start_error(settings).await.expect("no NATS, no start");
    assert!(err.to_string().contains("cannot connect to NATS") && err.to_string().contains("nats_url"), "{err:#}");
    stop_cluster(nodes).await;
}

#[tokio::test]
async fn a_nats_restart_mid_load_loses_no_event_on_any_socket() {
    if !cluster_available() {
        return;
    }
    let mut nats = OwnNats::start();
    let url = nats.url();
    let nodes = spawn_cluster(3, |s| s.cluster.nats_url = Some(url.clone())).await;
    let user = nodes[0].register("restart@example.com").await;
    let user_id: Uuid = user.id.parse().expect("uuid");
    let mut sockets = vec![];
    for node in &nodes {
        let mut ws = node.ws(&user, None).await;
        let from = hello_seq(&mut ws).await;
        sockets.push((ws, from));
    }
    // Writers on two nodes; NATS dies a third of the way in and comes back later.
    for i in 0..150 {
        let node = &nodes[i % 2];
        node.state.events.publish(user_id, "test.load", None, json!({ "i": i })).await.expect("publish");
        if i == 50 {
            nats.kill();
        }
        if i == 100 {
            nats.restart();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let newest = newest_seq(&nodes[0], &user.id).await;
    for (ws, from) in &mut sockets {
        let frames = read_in_order(ws, *from, newest).await;
        let count = frames.iter().filter(|f| f["event"] == "test.load").count();
        assert_eq!(count, 150, "every event reached the socket once");
    }
    stop_cluster(nodes).await;
}
