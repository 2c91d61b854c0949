//! The node registry: admins see the nodes, and a second live node on one database is refused.

use sea_orm::{ActiveModelTrait, Set};
use serde_json::Value;
use wahub::db::entities::node;
use wahub_tests::{eventually, json_of, spawn_app, spawn_app_with, start, start_error};

async fn nodes(app: &wahub_tests::TestApp, token: &str) -> Vec<Value> {
    json_of(app.get("/api/v1/admin/nodes", token).await, 200).await.as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn admins_see_this_node_with_its_sessions_and_sockets() {
    let app = spawn_app_with(|s| s.cluster.lease_ttl_secs = 1).await;
    let admin = app.register("admin@example.com").await;
    let user = app.register("user@example.com").await;
    let _session = app.connected_session(&user, "main", "6281234567890").await;
    let _socket = app.ws(&user, None).await;
    let node = eventually(10, "a heartbeat with the session and the socket", || async {
        let list = nodes(&app, &admin.token).await;
        list.first().filter(|n| n["sessions_owned"] == 1 && n["sockets"] == 1).cloned()
    })
    .await;
    assert_eq!(node["id"], app.state.nodes.id());
    assert_eq!(node["this_node"], true);
    assert_eq!(node["alive"], true);
    assert_eq!(node["version"], env!("CARGO_PKG_VERSION"));
    assert!(node["last_heartbeat_at"].as_str().is_some_and(|t| t.starts_with("20")), "{node}");
    let refused = json_of(app.get("/api/v1/admin/nodes", &user.token).await, 404).await;
    assert_eq!(refused["code"], "not_found", "non-admins do not learn the route exists");
    app.stop().await;
}

#[tokio::test]
async fn a_second_node_on_the_same_database_is_refused_while_the_first_lives() {
    let app = spawn_app().await;
    let first = app.state.nodes.id().to_owned();
    let intruder = app.peer_settings("intruder");
    let err = start_error(intruder.clone()).await.expect("the second node must refuse to start");
    assert!(err.to_string().contains("another wahub node") && err.to_string().contains(&first), "{err}");

    // A clean stop leaves the registry, so the other node may start at once.
    let (_, db) = app.shutdown().await;
    let second = start(intruder, db).await;
    let admin = second.register("admin@example.com").await;
    let list = nodes(&second, &admin.token).await;
    assert_eq!(list.len(), 1, "the first node left on its clean stop: {list:?}");
    assert_eq!(list[0]["id"], "intruder");
    second.stop().await;
}

#[tokio::test]
async fn a_crashed_node_blocks_only_until_its_heartbeat_is_older_than_the_ttl() {
    let app = spawn_app_with(|s| s.cluster.lease_ttl_secs = 5).await;
    let (settings, db) = app.shutdown().await;
    let conn = db.conn().await;
    let now = chrono::Utc::now().timestamp_millis();
    let row = |id: &str, heartbeat_ms: i64| node::ActiveModel {
        id: Set(id.to_owned()),
        version: Set("0.0.0".into()),
        started_at: Set(chrono::Utc::now()),
        heartbeat_ms: Set(heartbeat_ms),
        sessions: Set(3),
        sockets: Set(0),
    };
    row("crashed-long-ago", now - 60_000).insert(&conn).await.expect("insert stale node");
    row("crashed-just-now", now).insert(&conn).await.expect("insert live node");
    let mut next = settings.clone();
    next.cluster.node_id = Some("next".into());
    let err = start_error(next.clone()).await.expect("a fresh heartbeat blocks the start");
    assert!(err.to_string().contains("crashed-just-now"), "{err}");

    let aged =
        node::ActiveModel { id: Set("crashed-just-now".into()), heartbeat_ms: Set(now - 6_000), ..Default::default() };
    aged.update(&conn).await.expect("age the heartbeat past the TTL");
    conn.close().await.ok();
    let app = start(next, db).await;
    let admin = app.register("admin@example.com").await;
    let list = nodes(&app, &admin.token).await;
    let ids: Vec<_> = list.iter().map(|n| (n["id"].as_str().unwrap_or("").to_owned(), n["alive"] == true)).collect();
    assert!(ids.contains(&("next".into(), true)), "{ids:?}");
    assert!(ids.contains(&("crashed-just-now".into(), false)), "dead nodes stay listed as not alive: {ids:?}");
    app.stop().await;
}
