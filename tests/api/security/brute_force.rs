//! Brute force: a per-IP budget across login, register and refresh; a flood of bogus
//! logins from one address cannot queue ahead of someone else's valid login; lockouts
//! say how many minutes; register costs the same work for taken and new emails.

use std::net::IpAddr;

use serde_json::json;
use wahub_tests::{json_of, spawn_app_with, TestApp};

fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder().local_address(ip.parse::<IpAddr>().unwrap()).build().unwrap()
}

async fn post(app: &TestApp, client: &reqwest::Client, path: &str, body: serde_json::Value) -> reqwest::Response {
    client.post(app.url(path)).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn one_budget_per_ip_covers_login_register_and_refresh() {
    let app = spawn_app_with(|s| s.auth.auth_ip_budget = 9).await;
    let attacker = client_from("127.0.0.2");
    let pw = "correct horse battery";
    for i in 0..3 {
        let r = post(
            &app,
            &attacker,
            "/api/v1/auth/login",
            json!({ "email": format!("x{i}@example.com"), "password": pw }),
        )
        .await;
        assert_eq!(r.status(), 401);
        let r = post(
            &app,
            &attacker,
            "/api/v1/auth/register",
            json!({ "email": format!("n{i}@example.com"), "password": pw }),
        )
        .await;
        assert_eq!(r.status(), 201);
        let r = post(&app, &attacker, "/api/v1/auth/refresh", json!({ "refresh_token": "nope" })).await;
        assert_eq!(r.status(), 401);
    }
    for (path, body) in [
        ("/api/v1/auth/login", json!({ "email": "x@example.com", "password": pw })),
        ("/api/v1/auth/register", json!({ "email": "late@example.com", "password": pw })),
        ("/api/v1/auth/refresh", json!({ "refresh_token": "nope" })),
    ] {
        let r = post(&app, &attacker, path, body).await;
        assert!(r.headers().contains_key("retry-after"), "{path}");
        assert_eq!(json_of(r, 429).await["code"], "rate_limited", "{path}");
    }
    // Another address has its own budget.
    let other = client_from("127.0.0.3");
    let r = post(&app, &other, "/api/v1/auth/register", json!({ "email": "late@example.com", "password": pw })).await;
    assert_eq!(r.status(), 201);
    app.stop().await;
}

#[tokio::test]
async fn a_login_flood_from_one_address_does_not_starve_a_valid_login() {
    let app = spawn_app_with(|s| s.auth.auth_ip_concurrent_hashes = 2).await;
    let user = app.register("victim@example.com").await;
    let attacker = client_from("127.0.0.2");
    let flood: Vec<_> = (0..100)
        .map(|i| {
            let (client, url) = (attacker.clone(), app.url("/api/v1/auth/login"));
            tokio::spawn(async move {
                let body = json!({ "email": format!("bogus{i}@example.com"), "password": "wrong password" });
                client.post(url).json(&body).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
            })
        })
        .collect();
    tokio::task::yield_now().await;
    let victim = client_from("127.0.0.3");
    let r = post(&app, &victim, "/api/v1/auth/login", json!({ "email": user.email, "password": user.password })).await;
    assert_eq!(r.status(), 200, "the valid login went through during the flood");
    let mut refused_at_once = 0;
    for f in flood {
        if f.await.unwrap() == 429 {
            refused_at_once += 1;
        }
    }
    assert!(refused_at_once >= 90, "the flood was answered 429 instead of queueing ({refused_at_once} of 100)");
    app.stop().await;
}

#[tokio::test]
async fn a_login_lockout_says_how_many_minutes() {
    let app = spawn_app_with(|s| s.auth.login_window_secs = 900).await;
    let user = app.register("a@example.com").await;
    for _ in 0..5 {
        let r = app.post_anon("/api/v1/auth/login", json!({ "email": user.email, "password": "wrong password" })).await;
        assert_eq!(r.status(), 401);
    }
    let r = app.post_anon("/api/v1/auth/login", json!({ "email": user.email, "password": "wrong password" })).await;
    let body = json_of(r, 429).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("15 minutes"), "{detail}");
    app.stop().await;
}
