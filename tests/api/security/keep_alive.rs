//! A request rejected before its body was read leaves that body on the connection: the
//! server must say `Connection: close` instead of silently dropping a keep-alive client.
//! Requests hyper cannot parse never reach wahub; they still get a 4xx and a closed
//! connection, and the server keeps serving.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wahub_tests::{spawn_app_with, TestApp};

/// Sends raw bytes and reads the answer until the server closes (or 5 s pass).
async fn raw(app: &TestApp, request: &[u8]) -> String {
    let mut sock = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    sock.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), sock.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn head(resp: &str) -> String {
    resp.split("\r\n\r\n").next().unwrap_or("").to_ascii_lowercase()
}

#[tokio::test]
async fn rejected_requests_with_unread_bodies_say_connection_close() {
    let app = spawn_app_with(|s| s.server.max_body_bytes = 1024).await;
    let body = "{\"name\":\"x\"}";
    let unauthenticated = format!(
        "POST /api/v1/sessions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let too_large = "POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n{";
    for (what, req) in [("401", unauthenticated.as_str()), ("413", too_large)] {
        let resp = raw(&app, req.as_bytes()).await;
        let h = head(&resp);
        assert!(h.starts_with(&format!("http/1.1 {what}")), "{what}: {resp}");
        assert!(h.contains("connection: close"), "{what} must announce the close: {h}");
        assert!(resp.contains("\"code\""), "{what} has a problem body: {resp}");
    }
    app.stop().await;
}

#[tokio::test]
async fn unparsable_requests_get_a_4xx_and_the_server_keeps_serving() {
    let app = spawn_app_with(|_| {}).await;
    let long_url = format!("GET /{} HTTP/1.1\r\nhost: x\r\n\r\n", "a".repeat(100 * 1024));
    let cases: [(&str, Vec<u8>); 3] = [
        ("bad content-length", b"POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\n\r\n".to_vec()),
        ("NUL in a header", b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-a: a\0b\r\n\r\n".to_vec()),
        ("100 KB URL", long_url.into_bytes()),
    ];
    for (what, req) in cases {
        let resp = raw(&app, &req).await;
        let status: u16 = resp.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        assert!((400..500).contains(&status), "{what}: {resp}");
    }
    let ok = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    app.stop().await;
}
