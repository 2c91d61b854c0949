//! `outbound_proxy`: webhook deliveries go through the proxy, and wahub resolves no
//! target name itself (the target here is a `.invalid` name, which never resolves).

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wahub_tests::spawn_app_with;

#[tokio::test]
async fn webhook_deliveries_go_through_the_proxy_without_local_dns() {
    let proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = proxy.accept().await {
            let seen = seen_tx.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&got).lines().next().unwrap_or_default().to_owned();
                let _ = seen.send(head);
                let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
            });
        }
    });
    let app = spawn_app_with(|s| {
        s.webhooks.allow_private_targets = false;
        s.webhooks.outbound_proxy = Some(proxy_url.clone());
    })
    .await;
    let user = app.register("a@example.com").await;
    app.create_webhook(&user, "http://hooks.example.invalid/wahub", json!(["session.created"])).await;
    app.create_session(&user, "s", false).await;
    let line = tokio::time::timeout(Duration::from_secs(60), seen_rx.recv())
        .await
        .expect("a delivery reached the proxy")
        .unwrap();
    assert_eq!(line, "POST http://hooks.example.invalid/wahub HTTP/1.1");
    app.stop().await;
}
