//! Security headers on every answer, a CSP the dashboard runs under, and the Origin of
//! WebSocket upgrades checked (a page elsewhere cannot ride a browser's credentials).

use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use wahub_tests::{spawn_app, spawn_app_with, TestApp};

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> &'a str {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("{name} missing"))
}

fn directive<'a>(csp: &'a str, name: &str) -> Option<&'a str> {
    csp.split(';').map(str::trim).find(|d| d.split_whitespace().next() == Some(name))
}

#[tokio::test]
async fn dashboard_and_api_answers_carry_security_headers() {
    let app = spawn_app().await;
    for path in ["/", "/sessions/some-client-route", "/api/v1/me", "/healthz", "/no-such-file.js"] {
        let resp = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(header(&resp, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&resp, "referrer-policy"), "no-referrer", "{path}");
        assert_eq!(header(&resp, "x-frame-options"), "DENY", "{path}");
        let csp = header(&resp, "content-security-policy");
        assert_eq!(directive(csp, "frame-ancestors"), Some("frame-ancestors 'none'"), "{path}: {csp}");
        let script = directive(csp, "script-src").or(directive(csp, "default-src")).expect("script policy");
        assert!(!script.contains("unsafe-inline") && !script.contains("unsafe-eval"), "{path}: {csp}");
        assert_eq!(directive(csp, "object-src"), Some("object-src 'none'"), "{path}: {csp}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_built_dashboard_needs_no_inline_script() {
    let app = spawn_app().await;
    let html = app.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert!(!scripts.is_empty(), "the dashboard loads a script: {html}");
    for tag in scripts {
        let open = &tag[..tag.find('>').expect("tag end")];
        assert!(open.contains("src="), "inline script would be blocked by the CSP: <script{open}>");
        assert!(tag[open.len() + 1..].trim_start().starts_with("</script>"), "script body must be empty");
    }
    for handler in ["onload=", "onclick=", "onerror=", "javascript:"] {
        assert!(!html.contains(handler), "inline handler {handler} would be blocked by the CSP");
    }
    app.stop().await;
}

async fn upgrade_with_origin(app: &TestApp, token: &str, origin: Option<&str>) -> Option<u16> {
    let mut req = app.ws_url(&format!("token={token}")).into_client_request().unwrap();
    if let Some(origin) = origin {
        req.headers_mut().insert("origin", origin.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok(_) => None,
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Some(resp.status().as_u16()),
        Err(e) => panic!("ws connect: {e}"),
    }
}

#[tokio::test]
async fn websocket_upgrades_from_foreign_origins_are_refused() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let same = format!("http://{}", app.addr);
    assert_eq!(upgrade_with_origin(&app, &user.token, Some(&same)).await, None, "same origin");
    assert_eq!(upgrade_with_origin(&app, &user.token, None).await, None, "no Origin: not a browser");
    for foreign in ["https://evil.example", "null", &format!("http://{}.evil.example", app.addr.ip())] {
        assert_eq!(upgrade_with_origin(&app, &user.token, Some(foreign)).await, Some(403), "{foreign}");
    }
    app.stop().await;

    let app =
        spawn_app_with(|s| s.ws.ws_allowed_origins = "https://dash.example.com, http://localhost:5173".into()).await;
    let user = app.register("a@example.com").await;
    assert_eq!(upgrade_with_origin(&app, &user.token, Some("https://dash.example.com")).await, None);
    assert_eq!(upgrade_with_origin(&app, &user.token, Some("http://localhost:5173")).await, None);
    assert_eq!(upgrade_with_origin(&app, &user.token, Some("https://other.example.com")).await, Some(403));
    app.stop().await;
}
