//! Cluster mode with real `wahub serve` processes (PostgreSQL only; skipped otherwise).

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wahub_tests::{eventually, json_of, Cluster, ClusterOptions, TestUser};

#[tokio::test]
async fn harness_runs_stops_and_kills_real_processes() {
    let opts = ClusterOptions { nodes: 1, nats: false, ..Default::default() };
    let Some(mut c) = Cluster::start("harness_runs_stops_and_kills_real_processes", opts).await else { return };
    let admin = c.register(0, "admin@example.com").await;
    c.sigstop(0);
    let stalled = c.client.get(c.nodes[0].url("/healthz")).timeout(Duration::from_millis(500)).send().await;
    assert!(stalled.is_err(), "a stopped process answers nothing");
    c.sigcont(0);
    c.wait_ready(0).await;
    assert!(c.sigterm(0, Duration::from_secs(30)).await, "SIGTERM stops the node");
    c.restart(0).await;
    assert_eq!(c.get(0, "/api/v1/admin/nodes", &admin.token).await.status(), 200);
    c.kill9(0);
    assert!(!c.nodes[0].is_running());
}

/// One stored event: (seq, name, session id, data).
pub(crate) type Ev = (i64, String, Option<String>, Value);

/// Every event of a user from the database, in seq order: (seq, event, session_id, data).
pub(crate) async fn events_of(c: &Cluster, user: &TestUser) -> Vec<Ev> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    use wahub::db::entities::event;
    let conn = c.db().conn().await;
    let user_id: uuid::Uuid = user.id.parse().expect("user id");
    let rows = event::Entity::find()
        .filter(event::Column::UserId.eq(user_id))
        .order_by_asc(event::Column::Seq)
        .all(&conn)
        .await
        .expect("events");
    conn.close().await.ok();
    rows.into_iter()
        .map(|e| {
            (e.seq, e.event, e.session_id.map(|s| s.to_string()), serde_json::from_str(&e.data).unwrap_or_default())
        })
        .collect()
}

pub(crate) fn assert_no_gap(events: &[Ev]) {
    for (i, e) in events.iter().enumerate() {
        assert_eq!(
            e.0,
            i as i64 + 1,
            "seq gap or duplicate at {i}: {:?}",
            events.iter().map(|e| e.0).collect::<Vec<_>>()
        );
    }
}

/// Creates `n` connected sessions of a fresh user on node `i`.
pub(crate) async fn user_with_sessions(c: &Cluster, i: usize, n: usize) -> (TestUser, Vec<String>) {
    let user = c.register(i, &format!("user{i}@example.com")).await;
    let mut ids = Vec::new();
    for k in 0..n {
        let s = c.connected_session(i, &user, &format!("s{k}"), &format!("62812000{i}{k:04}")).await;
        assert_eq!(s["node"], c.nodes[i].id.as_str(), "the node that started a session runs it: {s}");
        ids.push(s["id"].as_str().expect("id").to_owned());
    }
    (user, ids)
}

/// Waits until every session in `ids` is connected on a node other than `gone`; answers
/// how long each took from `since`.
async fn wait_moved(
    c: &Cluster,
    via: usize,
    user: &TestUser,
    ids: &[String],
    gone: &str,
    since: Instant,
) -> Vec<Duration> {
    let mut took: Vec<Option<Duration>> = vec![None; ids.len()];
    // A session adopted elsewhere shows its new node before it connected there: only a new
    // connection counts.
    let mut connected_before = Vec::new();
    for id in ids {
        let s = c.session(via, user, id).await.expect("session before the move");
        connected_before.push(s["last_connected_at"].clone());
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while took.iter().any(Option::is_none) {
        assert!(Instant::now() < deadline, "sessions not moved off {gone} in time: {took:?}");
        for (k, id) in ids.iter().enumerate() {
            if took[k].is_some() {
                continue;
            }
            if let Some(s) = c.session(via, user, id).await {
                let node = s["node"].as_str().unwrap_or("");
                let reconnected = s["last_connected_at"] != connected_before[k];
                if s["status"] == "connected" && reconnected && !node.is_empty() && node != gone {
                    took[k] = Some(since.elapsed());
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    took.into_iter().flatten().collect()
}

/// Status events of `ids` after seq `after`: each must have moved with `reason`, and no QR offered.
pub(crate) fn assert_moved_without_qr(events: &[Ev], after: i64, ids: &[String], reason: &str) {
    let later: Vec<_> = events.iter().filter(|e| e.0 > after).collect();
    for id in ids {
        let mine: Vec<_> = later.iter().filter(|e| e.2.as_deref() == Some(id.as_str())).collect();
        assert!(mine.iter().all(|e| e.1 != "session.qr"), "no QR after the move for {id}: {mine:?}");
        assert!(
            mine.iter().any(|e| e.1 == "session.status" && e.3["status"] == "starting" && e.3["reason"] == reason),
            "{id} restarted with reason {reason}: {mine:?}"
        );
        assert!(mine.iter().any(|e| e.1 == "session.status" && e.3["status"] == "connected"), "{id} connected again");
    }
}

#[tokio::test]
async fn kill_9_of_one_of_three_nodes_moves_its_sessions_with_node_lost_and_no_qr() {
    let test = "kill_9_of_one_of_three_nodes_moves_its_sessions_with_node_lost_and_no_qr";
    let Some(mut c) = Cluster::start(test, ClusterOptions::default()).await else { return };
    let (victim_user, victims) = user_with_sessions(&c, 0, 4).await;
    let (other_user, others) = user_with_sessions(&c, 1, 2).await;
    let before = events_of(&c, &victim_user).await.last().map_or(0, |e| e.0);

    let killed = Instant::now();
    c.kill9(0);
    let took = wait_moved(&c, 1, &victim_user, &victims, "node0", killed).await;
    let max = took.iter().max().copied().unwrap_or_default();
    println!("failover after kill -9 (TTL 3 s): {took:?}, max {max:?}");
    assert!(max < Duration::from_secs(3 + 20), "failover within TTL + backoff (generous on a loaded machine): {max:?}");

    let events = events_of(&c, &victim_user).await;
    assert_no_gap(&events);
    assert_never_replaced(&events);
    assert_moved_without_qr(&events, before, &victims, "node_lost");
    // The other node's sessions never moved.
    for id in &others {
        let s = c.session(2, &other_user, id).await.expect("session");
        assert_eq!((s["status"].as_str(), s["node"].as_str()), (Some("connected"), Some("node1")), "{s}");
    }
}

#[tokio::test]
async fn sigterm_drains_a_node_and_others_take_over_within_2_s_without_qr() {
    let test = "sigterm_drains_a_node_and_others_take_over_within_2_s_without_qr";
    let Some(mut c) = Cluster::start(test, ClusterOptions { nodes: 2, ..Default::default() }).await else { return };
    let (user, ids) = user_with_sessions(&c, 0, 3).await;
    let before = events_of(&c, &user).await.last().map_or(0, |e| e.0);

    let drained = Instant::now();
    c.signal(0, libc::SIGTERM);
    let took = wait_moved(&c, 1, &user, &ids, "node0", drained).await;
    println!("handover after SIGTERM: {took:?}");
    assert!(c.sigterm(0, Duration::from_secs(30)).await, "the drained node exits");
    for t in &took {
        assert!(*t < Duration::from_secs(2), "handover under 2 s per session: {took:?}");
    }
    let events = events_of(&c, &user).await;
    assert_no_gap(&events);
    assert_moved_without_qr(&events, before, &ids, "server_restart");
}

#[tokio::test]
async fn a_stopped_node_loses_its_leases_and_drops_its_links_after_sigcont() {
    let test = "a_stopped_node_loses_its_leases_and_drops_its_links_after_sigcont";
    let Some(c) = Cluster::start(test, ClusterOptions { nodes: 2, ..Default::default() }).await else { return };
    let (user, ids) = user_with_sessions(&c, 0, 3).await;

    let stopped = Instant::now();
    c.sigstop(0);
    let took = wait_moved(&c, 1, &user, &ids, "node0", stopped).await;
    println!("failover after SIGSTOP (TTL 3 s): {took:?}");
    c.sigcont(0);
    // The resumed node finds its leases gone: each task drops its link and writes nothing.
    eventually(30, "node0 dropping the links it lost", || async {
        let metrics = c.client.get(c.nodes[0].url("/metrics")).send().await.ok()?.text().await.ok()?;
        let fenced = metrics
            .lines()
            .find_map(|l| l.strip_prefix("wahub_fenced_writes_total "))
            .and_then(|n| n.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        (fenced >= ids.len() as f64).then_some(())
    })
    .await;
    // The sessions stay where they moved, connected.
    tokio::time::sleep(Duration::from_secs(4)).await;
    for id in &ids {
        let s = c.session(0, &user, id).await.expect("session");
        assert_eq!((s["status"].as_str(), s["node"].as_str()), (Some("connected"), Some("node1")), "{s}");
    }
    let events = events_of(&c, &user).await;
    assert_no_gap(&events);
    assert_never_replaced(&events);
    let noticed = c.log(0).matches("a newer link logged in with this device").count();
    println!("node0's frozen links that found themselves replaced on waking: {noticed}");
}

/// The simulated server saw no device with two live links whose newer one lost (a link
/// that holds its lease records `stream_replaced`; a fenced one cannot record anything).
fn assert_never_replaced(events: &[Ev]) {
    let replaced: Vec<_> = events.iter().filter(|e| e.3["reason"] == "stream_replaced").collect();
    assert!(replaced.is_empty(), "a session ran on two nodes at once: {replaced:?}");
}

#[tokio::test]
async fn a_command_for_a_session_on_another_node_runs_on_the_node_owning_it() {
    let test = "a_command_for_a_session_on_another_node_runs_on_the_node_owning_it";
    let Some(c) = Cluster::start(test, ClusterOptions { nodes: 2, ..Default::default() }).await else { return };
    let (user, ids) = user_with_sessions(&c, 0, 1).await;
    // Asked on node 1, the stop is forwarded over NATS to node 0, whose task runs it.
    let r = c.post(1, &format!("/api/v1/sessions/{}/stop", ids[0]), &user.token, json!({})).await;
    let s = json_of(r, 200).await;
    assert_eq!(s["status"], "stopped", "the forwarded stop answered once done: {s}");
    let s = c.session(0, &user, &ids[0]).await.expect("session");
    assert_eq!(s["status"], "stopped", "{s}");
}

#[tokio::test]
async fn a_second_node_without_nats_is_still_refused() {
    let test = "a_second_node_without_nats_is_still_refused";
    let opts = ClusterOptions { nodes: 1, nats: false, ..Default::default() };
    let Some(mut c) = Cluster::start(test, opts).await else { return };
    let i = c.spawn_unready("intruder");
    assert!(c.wait_exit(i, Duration::from_secs(60)).await, "the second single-node process exits");
    assert!(c.log(i).contains("another wahub node (node0) is running"), "{}", c.log(i));
}

/// What the load of the kill -9 test got accepted: sends (message ids) and incoming
/// messages (external ids, with the node that took them).
#[derive(Default)]
struct Accepted {
    sends: Vec<String>,
    incoming: Vec<(String, String)>,
    refused: usize,
}

/// Sends through nodes 1 and 2 and plays incoming messages at the node running each
/// session, until `stop`.
async fn load(c: &Cluster, user: &TestUser, ids: &[String], stop: &std::sync::atomic::AtomicBool) -> Accepted {
    use std::sync::atomic::Ordering;
    let mut got = Accepted::default();
    let mut k = 0usize;
    while !stop.load(Ordering::SeqCst) {
        let sid = &ids[k % ids.len()];
        let body = json!({ "session_id": sid, "to": "6289900000001", "text": format!("out {k}") });
        match c
            .client
            .post(c.nodes[1 + k % 2].url("/api/v1/messages"))
            .bearer_auth(&user.token)
            .json(&body)
            .send()
            .await
        {
            Ok(r) if r.status() == 202 => {
                let v: Value = r.json().await.expect("accepted message");
                got.sends.push(v["id"].as_str().expect("message id").to_owned());
            }
            _ => got.refused += 1,
        }
        // The simulated phone is in the process running the session.
        let owner = c.session(1 + k % 2, user, sid).await.and_then(|s| s["node"].as_str().map(str::to_owned));
        if let Some(i) = owner.and_then(|o| c.nodes.iter().position(|n| n.id == o)) {
            let external = format!("in-{k}");
            let body = json!({ "from": "6289900000002", "text": format!("in {k}"), "external_id": external });
            let path = format!("/api/v1/sessions/{sid}/sim/incoming");
            let r = c.client.post(c.nodes[i].url(&path)).bearer_auth(&user.token).json(&body).send().await;
            if r.is_ok_and(|r| r.status() == 200) {
                got.incoming.push((external, c.nodes[i].id.clone()));
            }
        }
        k += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    got
}

#[tokio::test]
async fn kill_9_under_send_and_incoming_load_loses_and_repeats_nothing_acknowledged() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let test = "kill_9_under_send_and_incoming_load_loses_and_repeats_nothing_acknowledged";
    let Some(mut c) = Cluster::start(test, ClusterOptions::default()).await else { return };
    let receiver = wahub_tests::Receiver::start().await;
    let (user, ids) = user_with_sessions(&c, 0, 3).await;
    let hook = json!({ "url": receiver.url, "events": ["message.*"], "secret": "kill-9-test-secret-0123456789" });
    json_of(c.post(1, "/api/v1/webhooks", &user.token, hook).await, 201).await;
    let before = events_of(&c, &user).await.last().map_or(0, |e| e.0);

    let stop = AtomicBool::new(false);
    let (accepted, took) = tokio::join!(load(&c, &user, &ids, &stop), async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let killed = Instant::now();
        c.signal(0, libc::SIGKILL);
        let took = wait_moved(&c, 1, &user, &ids, "node0", killed).await;
        // Keep the load on the new owners a little longer.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        stop.store(true, Ordering::SeqCst);
        took
    });
    c.kill9(0);
    println!(
        "failover under load (TTL 3 s): {took:?}; accepted {} sends ({} refused), {} incoming",
        accepted.sends.len(),
        accepted.refused,
        accepted.incoming.len()
    );
    assert!((10..=500).contains(&accepted.sends.len()), "the load ran: {} sends", accepted.sends.len());

    // Every accepted send is sent, once — except one node0 had already put on the wire when it
    // died, before the server's ack was recorded: its fate is unknown, so the new owner reports
    // it `failed` with "no ack" instead of sending it again (at most one per session: a session
    // sends one message at a time).
    let on_the_wire_when_killed =
        |m: &Value| m["status"] == "failed" && m["error"] == "no ack" && m["external_id"].as_str().is_some();
    let messages = eventually(60, "every accepted send to be settled", || async {
        let r = c.get(1, "/api/v1/messages?direction=out&limit=500", &user.token).await;
        let out = json_of(r, 200).await.as_array().cloned().unwrap_or_default();
        let settled = |id: &String| {
            out.iter().any(|m| {
                m["id"] == id.as_str()
                    && (matches!(m["status"].as_str(), Some("sent" | "delivered")) || on_the_wire_when_killed(m))
            })
        };
        accepted.sends.iter().all(settled).then_some(out)
    })
    .await;
    for id in &accepted.sends {
        assert_eq!(messages.iter().filter(|m| m["id"] == id.as_str()).count(), 1, "send {id} stored once");
    }
    let unknown: Vec<&Value> = messages.iter().filter(|m| on_the_wire_when_killed(m)).collect();
    assert!(unknown.len() <= ids.len(), "at most one message per session was in flight: {unknown:?}");
    println!("sends on the wire when node0 died, reported failed/no ack: {}", unknown.len());
    let events = events_of(&c, &user).await;
    assert_no_gap(&events);
    assert_never_replaced(&events);
    let sent_events: Vec<&Ev> = events.iter().filter(|e| e.1 == "message.updated" && e.3["status"] == "sent").collect();
    for id in &accepted.sends {
        let n = sent_events.iter().filter(|e| e.3["id"] == id.as_str()).count();
        let expected = usize::from(!unknown.iter().any(|m| m["id"] == id.as_str()));
        assert_eq!(n, expected, "send {id} reported sent exactly once, or not at all when its fate is unknown");
    }

    // Incoming messages the surviving nodes took are stored once; node0's may have died with it, never twice.
    let received: Vec<&Ev> = events.iter().filter(|e| e.1 == "message.received").collect();
    let mut lost_with_node0 = 0;
    for (external, node) in &accepted.incoming {
        let text = format!("in {}", external.trim_start_matches("in-"));
        let n = received.iter().filter(|e| e.3["text"] == text.as_str()).count();
        assert!(n <= 1, "incoming {external} stored {n} times");
        if node == "node0" {
            lost_with_node0 += usize::from(n == 0);
        } else {
            assert_eq!(n, 1, "incoming {external} taken by {node} is stored");
        }
    }
    println!("incoming taken by node0 but not yet committed when it died: {lost_with_node0}");

    // Webhooks: every message event after the start reaches the endpoint at least once.
    let wanted: Vec<i64> = events.iter().filter(|e| e.0 > before && e.1.starts_with("message.")).map(|e| e.0).collect();
    let deadline = Instant::now() + Duration::from_secs(90);
    let seen = loop {
        let seen: std::collections::HashSet<i64> =
            receiver.requests().iter().filter_map(|r| r.json()["seq"].as_i64()).collect();
        let missing: Vec<i64> = wanted.iter().copied().filter(|s| !seen.contains(s)).collect();
        if missing.is_empty() {
            break seen;
        }
        assert!(Instant::now() < deadline, "webhooks never came for seqs {missing:?} (of {})", wanted.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    println!(
        "webhooks: {} message events, {} distinct delivered, {} requests",
        wanted.len(),
        seen.len(),
        receiver.requests().len()
    );
}

#[tokio::test]
async fn three_nodes_started_at_once_on_a_fresh_database_all_come_up() {
    let test = "three_nodes_started_at_once_on_a_fresh_database_all_come_up";
    let Some(mut c) = Cluster::start(test, ClusterOptions { nodes: 0, ..Default::default() }).await else { return };
    // Each migrates the empty database; they must take turns, not fail on each other's tables.
    for i in 0..3 {
        c.spawn_unready(&format!("node{i}"));
    }
    for i in 0..3 {
        c.wait_ready(i).await;
    }
    let admin = c.register(2, "admin@example.com").await;
    let nodes = json_of(c.get(1, "/api/v1/admin/nodes", &admin.token).await, 200).await;
    let alive = nodes.as_array().map_or(0, |n| n.iter().filter(|n| n["alive"] == true).count());
    assert_eq!(alive, 3, "{nodes}");
}
