use std::time::Duration;

use serde_json::{json, Value};
use wahub_tests::{eventually, json_of, spawn_app, spawn_app_with, TestUser, WsClient};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

fn seq(frame: &Value) -> i64 {
    frame["seq"].as_i64().expect("seq")
}

/// Reads `n` event frames, failing on anything else.
async fn events(ws: &mut WsClient, n: usize) -> Vec<Value> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let frame = ws.next_json().await;
        assert_eq!(frame["type"], "event", "unexpected frame {frame}");
        out.push(frame);
    }
    out
}

/// Nothing more arrives for a while.
async fn quiet(ws: &mut WsClient) {
    match ws.try_next_json(Duration::from_millis(400)).await {
        Ok(None) => {}
        other => panic!("unexpected frame: {other:?}"),
    }
}

#[tokio::test]
async fn upgrade_needs_a_valid_token_or_api_key() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    assert_eq!(WsClient::refusal(&app.ws_url("")).await, Some(401));
    assert_eq!(WsClient::refusal(&app.ws_url("token=not-a-jwt")).await, Some(401));
    assert_eq!(WsClient::refusal(&app.ws_url("api_key=wh_nope")).await, Some(401));
    assert_eq!(WsClient::refusal(&app.ws_url(&format!("token={}&since=-1", user.token))).await, Some(422));
    assert_eq!(WsClient::refusal(&app.ws_url(&format!("token={}", user.token))).await, None);

    let key = json_of(app.post("/api/v1/api-keys", &user.token, json!({ "name": "ws" })).await, 201).await;
    let key = key["key"].as_str().expect("key");
    let mut ws = WsClient::connect(&app.ws_url(&format!("api_key={key}"))).await.expect("api key ws");
    assert_eq!(ws.next_json().await["type"], "hello");
    app.stop().await;
}

#[tokio::test]
async fn expired_token_closes_with_4401() {
    let app = spawn_app_with(|s| s.auth.access_token_ttl_secs = 2).await;
    let user = app.register("a@example.com").await;
    let mut ws = app.ws(&user, None).await;
    assert_eq!(ws.next_json().await["type"], "hello");
    assert_eq!(ws.close_code(6).await, Some(4401));
    // Once expired, the token no longer upgrades at all.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(WsClient::refusal(&app.ws_url(&format!("token={}", user.token))).await, Some(401));
    app.stop().await;
}

#[tokio::test]
async fn hello_has_sessions_and_qrs_then_pong_and_server_pings() {
    let app = spawn_app_with(|s| s.ws.ws_ping_secs = 1).await;
    let user = app.register("a@example.com").await;
    let s = app.create_session(&user, "main", true).await;
    app.wait_status(&user, &id(&s), "scan_qr").await;
    let mut ws = app.ws(&user, None).await;
    let hello = ws.next_json().await;
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["resumed"], false);
    assert!(hello["seq"].as_i64().expect("seq") >= 1);
    assert_eq!(hello["sessions"][0]["id"], id(&s));
    assert!(hello["qr"][id(&s)]["value"].as_str().expect("qr").starts_with("2@"));
    assert_eq!(hello["qr"][id(&s)]["attempt"], 1);

    ws.send_json(&json!({ "type": "ping" })).await;
    assert_eq!(ws.next_json().await, json!({ "type": "pong" }));
    assert!(ws.next_ping(3).await, "server pings every ws_ping_secs");
    app.stop().await;
}

#[tokio::test]
async fn rest_events_are_the_frames_of_the_socket() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let mut ws = app.ws(&user, None).await;
    let base = seq(&ws.next_json().await);
    let s = app.connected_session(&user, "main", "6281234567890").await;
    let sid = id(&s);
    for i in 0..3 {
        let body = json!({ "from": "6289999999999", "text": format!("hi {i}") });
        json_of(app.post(&format!("/api/v1/sessions/{sid}/sim/incoming"), &user.token, body).await, 200).await;
    }
    let rest = eventually(10, "the third message in the log", || async {
        let list = json_of(app.get(&format!("/api/v1/events?since={base}&limit=1000"), &user.token).await, 200).await;
        let list = list.as_array().cloned().unwrap_or_default();
        list.iter().any(|e| e["data"]["text"] == "hi 2").then_some(list)
    })
    .await;
    let last = rest.last().map(seq).expect("events");
    let live = events(&mut ws, (last - base) as usize).await;
    let mut ws2 = app.ws(&user, Some(base)).await;
    assert_eq!(ws2.next_json().await["resumed"], true);
    let replayed = events(&mut ws2, (last - base) as usize).await;
    for ((a, b), c) in rest.iter().zip(&live).zip(&replayed) {
        for field in ["type", "seq", "event", "session_id", "data"] {
            assert_eq!(a[field], b[field], "{field} of seq {} (live)", seq(a));
            assert_eq!(a[field], c[field], "{field} of seq {} (replayed)", seq(a));
        }
    }
    assert!(rest.iter().any(|e| e["event"] == "message.received" && e["data"]["text"] == "hi 2"));
    let names: Vec<&str> = rest.iter().filter_map(|e| e["event"].as_str()).collect();
    assert!(names.contains(&"session.created") && names.contains(&"session.qr") && names.contains(&"session.status"));
    let page = json_of(app.get(&format!("/api/v1/events?since={base}&limit=2"), &user.token).await, 200).await;
    assert_eq!(page.as_array().map(Vec::len), Some(2));
    assert_eq!(seq(&page[0]), base + 1);
    app.stop().await;
}

#[tokio::test]
async fn resume_after_dropped_sockets_loses_nothing_while_events_flow() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.create_session(&user, "s", false).await);
    let mut ws = app.ws(&user, None).await;
    let mut last = seq(&ws.next_json().await);
    const TOTAL: usize = 300;
    let producer = {
        let (client, base, token, sid) = (app.client.clone(), app.base.clone(), user.token.clone(), sid.clone());
        tokio::spawn(async move {
            for i in 0..TOTAL {
                let resp = client
                    .patch(format!("{base}/api/v1/sessions/{sid}"))
                    .bearer_auth(&token)
                    .json(&json!({ "name": format!("n{i}") }))
                    .send()
                    .await
                    .expect("PATCH");
                assert_eq!(resp.status(), 200);
            }
        })
    };
    let mut names = Vec::new();
    let mut drops = 0;
    while names.len() < TOTAL {
        for frame in events(&mut ws, 1).await {
            assert_eq!(seq(&frame), last + 1, "no gap, no duplicate");
            last = seq(&frame);
            assert_eq!(frame["event"], "session.updated");
            names.push(frame["data"]["name"].as_str().expect("name").to_owned());
        }
        if names.len() % 40 == 0 && names.len() < TOTAL {
            // Drop without a close handshake, as a lost network would.
            drop(ws);
            drops += 1;
            tokio::time::sleep(Duration::from_millis(30)).await;
            ws = app.ws(&user, Some(last)).await;
            let hello = ws.next_json().await;
            assert_eq!(hello["resumed"], true);
            assert!(seq(&hello) >= last);
        }
    }
    producer.await.expect("producer");
    assert!(drops >= 5);
    let expected: Vec<String> = (0..TOTAL).map(|i| format!("n{i}")).collect();
    assert_eq!(names, expected);
    quiet(&mut ws).await;
    app.stop().await;
}

#[tokio::test]
async fn resume_from_a_purged_point_falls_back_to_the_snapshot() {
    let app = spawn_app_with(|s| s.database.event_retention = 2).await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.create_session(&user, "s", false).await);
    for i in 0..5 {
        app.rename_session(&user, &sid, &format!("n{i}")).await;
    }
    app.state.events.purge(2).await.expect("purge");
    let mut ws = app.ws(&user, Some(1)).await;
    let hello = ws.next_json().await;
    assert_eq!(hello["resumed"], false);
    assert_eq!(hello["sessions"][0]["name"], "n4");
    quiet(&mut ws).await;
    // A `since` ahead of the log cannot be resumed either.
    let mut ws = app.ws(&user, Some(seq(&hello) + 10)).await;
    assert_eq!(ws.next_json().await["resumed"], false);
    app.stop().await;
}

#[tokio::test]
async fn every_tab_of_a_user_gets_every_event() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.create_session(&user, "s", false).await);
    let mut tabs = Vec::new();
    for _ in 0..4 {
        let mut ws = app.ws(&user, None).await;
        ws.next_json().await;
        tabs.push(ws);
    }
    for i in 0..20 {
        app.rename_session(&user, &sid, &format!("n{i}")).await;
    }
    let mut seen = Vec::new();
    for ws in &mut tabs {
        let got: Vec<i64> = events(ws, 20).await.iter().map(seq).collect();
        quiet(ws).await;
        seen.push(got);
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]));
    assert!(seen[0].windows(2).all(|w| w[1] == w[0] + 1));
    app.stop().await;
}

#[tokio::test]
async fn fifty_users_see_only_their_own_events() {
    let app = spawn_app().await;
    let mut users = Vec::new();
    for chunk in 0..5 {
        let batch = (0..10).map(|i| {
            let (app, email) = (&app, format!("u{}@example.com", chunk * 10 + i));
            async move { app.register(&email).await }
        });
        users.extend(futures_util::future::join_all(batch).await);
    }
    // Sockets first, then sessions one by one (concurrent creates are not what this
    // tests), then renames from all users at once so their events interleave.
    let mut sockets = Vec::new();
    for user in &users {
        let mut ws = app.ws(user, None).await;
        let base = seq(&ws.next_json().await);
        sockets.push((ws, base));
    }
    let mut sids = Vec::new();
    for user in &users {
        sids.push(id(&app.create_session(user, &format!("{}-s", user.email), false).await));
    }
    let app_ref = &app;
    let renames = users.iter().zip(&sids).map(|(user, sid)| async move {
        app_ref.rename_session(user, sid, &format!("{}-r1", user.email)).await;
        app_ref.rename_session(user, sid, &format!("{}-r2", user.email)).await;
    });
    futures_util::future::join_all(renames).await;
    let mut runs: Vec<(TestUser, String, WsClient, i64)> =
        users.into_iter().zip(sids).zip(sockets).map(|((u, s), (ws, base))| (u, s, ws, base)).collect();
    for (user, sid, ws, base) in &mut runs {
        let got = events(ws, 3).await;
        let kinds: Vec<&str> = got.iter().filter_map(|f| f["event"].as_str()).collect();
        assert_eq!(kinds, ["session.created", "session.updated", "session.updated"]);
        assert!(got.iter().all(|f| f["session_id"] == sid.as_str()));
        assert_eq!(got.iter().map(seq).collect::<Vec<_>>(), [*base + 1, *base + 2, *base + 3]);
        assert_eq!(got[2]["data"]["name"], format!("{}-r2", user.email));
        let rest = json_of(app.get("/api/v1/events?since=0&limit=1000", &user.token).await, 200).await;
        assert!(rest.as_array().expect("list").iter().all(|e| e["session_id"] == sid.as_str()));
    }
    for (_, _, ws, _) in &mut runs {
        quiet(ws).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn stalled_reader_is_closed_with_4008_and_resumes_without_loss() {
    let app = spawn_app_with(|s| s.ws.ws_buffer = 8).await;
    let user = app.register("a@example.com").await;
    let sid = id(&app.connected_session(&user, "main", "6281234567890").await);
    let mut ws = app.ws(&user, None).await;
    let base = seq(&ws.next_json().await);
    // Far more than the kernel's socket buffers hold, while this client reads nothing.
    const SENT: i64 = 240;
    let text = "x".repeat(60_000);
    let user_id: uuid::Uuid = user.id.parse().expect("uuid");
    let mut closed = None;
    for i in 0..SENT {
        let body = json!({ "from": "6289999999999", "text": format!("{i} {text}") });
        json_of(app.post(&format!("/api/v1/sessions/{sid}/sim/incoming"), &user.token, body).await, 200).await;
        // The server gives up on the socket as soon as it is too far behind; the client
        // then reads up to the close frame while the rest is still being posted.
        if closed.is_none() && app.state.events.receiver_count(user_id) == 0 {
            closed = Some(ws.drain_until_close(30).await);
        }
    }
    let (frames, code) = match closed {
        Some(closed) => closed,
        None => ws.drain_until_close(30).await,
    };
    assert_eq!(code, Some(4008), "after {} frames", frames.len());
    assert!((frames.len() as i64) < SENT, "the socket was closed before all events");
    let mut last = base;
    for f in &frames {
        assert_eq!(seq(f), last + 1);
        last = seq(f);
    }
    let mut ws = app.ws(&user, Some(last)).await;
    let hello = ws.next_json().await;
    assert_eq!(hello["resumed"], true);
    // The posts may still be on their way through the engine; read until all arrived.
    let mut received = frames.iter().filter(|f| f["event"] == "message.received").count() as i64;
    while received < SENT {
        let f = events(&mut ws, 1).await.remove(0);
        assert_eq!(seq(&f), last + 1);
        last = seq(&f);
        received += i64::from(f["event"] == "message.received");
    }
    assert_eq!(received, SENT);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_connect_disconnect_cycles_leave_nothing_behind() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let user_id: uuid::Uuid = user.id.parse().expect("uuid");
    let url = app.ws_url(&format!("token={}", user.token));
    // Warm up pools and caches before taking the baseline.
    WsClient::connect(&url).await.expect("ws").close().await;
    let tasks_before = tokio::runtime::Handle::current().metrics().num_alive_tasks();
    const WORKERS: usize = 50;
    const CYCLES: usize = 10_000;
    let workers = (0..WORKERS).map(|w| {
        let url = url.clone();
        tokio::spawn(async move {
            for i in 0..CYCLES / WORKERS {
                let mut ws = WsClient::connect(&url).await.expect("ws");
                assert_eq!(ws.next_json().await["type"], "hello");
                if (w + i) % 2 == 0 {
                    ws.close().await;
                } else {
                    drop(ws);
                }
            }
        })
    });
    for w in futures_util::future::join_all(workers).await {
        w.expect("worker");
    }
    let events = &app.state.events;
    eventually(20, "every socket to be gone", || async { (events.sockets() == 0).then_some(()) }).await;
    eventually(5, "every subscription to be dropped", || async {
        (events.receiver_count(user_id) == 0 && events.channels() == 0).then_some(())
    })
    .await;
    eventually(10, "connection tasks to end", || async {
        let now = tokio::runtime::Handle::current().metrics().num_alive_tasks();
        (now <= tasks_before).then_some(())
    })
    .await;
    // Still serving.
    let mut ws = app.ws(&user, None).await;
    assert_eq!(ws.next_json().await["type"], "hello");
    app.stop().await;
}
