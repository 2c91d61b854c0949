//! Media downloads: streamed under a hard cap (a 300 MB answer took RSS to 569 MB), no
//! redirects (one to an internal URL was fetched and sent out), and the file data is not
//! kept in the messages table once the message is sent.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sea_orm::EntityTrait;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wahub_tests::{eventually, json_of, spawn_app_with, TestApp, TestUser};

/// A loopback file server: `/big` streams chunks without end, `/redirect` points at
/// `/secret`; it counts the bytes it wrote and the hits on `/secret`.
struct Files {
    base: String,
    written: Arc<AtomicUsize>,
    secret_hits: Arc<AtomicUsize>,
}

async fn files() -> Files {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let written = Arc::new(AtomicUsize::new(0));
    let secret_hits = Arc::new(AtomicUsize::new(0));
    let (w, hits) = (written.clone(), secret_hits.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (w, hits) = (w.clone(), hits.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                if path == "/big" {
                    let _ = sock
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ntransfer-encoding: chunked\r\n\r\n")
                        .await;
                    let chunk = vec![b'x'; 64 * 1024];
                    for _ in 0..(300 * 16) {
                        let frame =
                            [format!("{:x}\r\n", chunk.len()).into_bytes(), chunk.clone(), b"\r\n".to_vec()].concat();
                        if sock.write_all(&frame).await.is_err() {
                            return;
                        }
                        w.fetch_add(chunk.len(), Ordering::Relaxed);
                    }
                } else if path == "/redirect" {
                    let _ =
                        sock.write_all(b"HTTP/1.1 302 Found\r\nlocation: /secret\r\ncontent-length: 0\r\n\r\n").await;
                } else {
                    hits.fetch_add(1, Ordering::Relaxed);
                    let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nsecret").await;
                }
            });
        }
    });
    Files { base, written, secret_hits }
}

async fn send_and_wait(app: &TestApp, user: &TestUser, session: &str, media: Value) -> Value {
    let body = json!({ "session_id": session, "to": "15550002222", "media": media });
    let accepted = json_of(app.post("/api/v1/messages", &user.token, body).await, 202).await;
    let id = accepted["id"].as_str().unwrap().to_owned();
    eventually(20, "the message to finish", || async {
        let list = json_of(app.get("/api/v1/messages?direction=out", &user.token).await, 200).await;
        list.as_array().unwrap().iter().find(|m| m["id"] == id.as_str() && m["status"] != "queued").cloned()
    })
    .await
}

#[tokio::test]
async fn oversized_media_is_cut_off_at_the_cap_and_redirects_are_not_followed() {
    let app = spawn_app_with(|s| s.server.max_body_bytes = 1024 * 1024).await;
    let files = files().await;
    let user = app.register("a@example.com").await;
    let s = app.connected_session(&user, "main", "15550001111").await;
    let sid = s["id"].as_str().unwrap();

    let big =
        send_and_wait(&app, &user, sid, json!({ "mimetype": "image/png", "url": format!("{}/big", files.base) })).await;
    assert_eq!(big["status"], "failed", "{big}");
    assert!(big["error"].as_str().unwrap().contains("larger than"), "{big}");
    let written = files.written.load(Ordering::Relaxed);
    assert!(written < 64 * 1024 * 1024, "the download stopped near the cap, not after {written} bytes");

    let redirected =
        send_and_wait(&app, &user, sid, json!({ "mimetype": "text/plain", "url": format!("{}/redirect", files.base) }))
            .await;
    assert_eq!(redirected["status"], "failed", "{redirected}");
    assert_eq!(files.secret_hits.load(Ordering::Relaxed), 0, "the redirect target was never fetched");
    let sent = json_of(app.get(&format!("/api/v1/sessions/{sid}/sim/sent"), &user.token).await, 200).await;
    assert_eq!(sent.as_array().unwrap().len(), 0, "nothing went out");
    app.stop().await;
}

#[tokio::test]
async fn sent_media_leaves_no_file_data_in_the_messages_table() {
    let app = spawn_app_with(|_| {}).await;
    let user = app.register("a@example.com").await;
    let s = app.connected_session(&user, "main", "15550001111").await;
    let sid = s["id"].as_str().unwrap();
    let data = "aGVsbG8gd2FodWIgbWVkaWEgcGF5bG9hZA==";
    let done =
        send_and_wait(&app, &user, sid, json!({ "mimetype": "text/plain", "data_base64": data, "filename": "a.txt" }))
            .await;
    assert_eq!(done["status"], "sent");
    let rows = wahub::db::entities::message::Entity::find().all(&app.state.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    let media = rows[0].media.as_deref().expect("metadata kept");
    assert!(!media.contains(data), "file data still stored: {media}");
    let meta: Value = serde_json::from_str(media).unwrap();
    assert_eq!((meta["mimetype"].as_str(), meta["filename"].as_str()), (Some("text/plain"), Some("a.txt")));
    app.stop().await;
}
