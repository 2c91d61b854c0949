//! Users with one connected simulated session each, made through the public API.

use std::time::Duration;

use anyhow::{bail, Context};
use futures_util::{stream, StreamExt, TryStreamExt};
use serde_json::{json, Value};

pub struct BenchUser {
    pub token: String,
    pub session_id: String,
}

pub async fn users(client: &reqwest::Client, base: &str, count: usize) -> anyhow::Result<Vec<BenchUser>> {
    stream::iter(0..count).map(|i| one(client, base, i)).buffered(8).try_collect().await
}

async fn one(client: &reqwest::Client, base: &str, i: usize) -> anyhow::Result<BenchUser> {
    let body = json!({ "email": format!("bench{i}@example.com"), "password": "bench password 123" });
    let reg = call(client.post(format!("{base}/api/v1/auth/register")).json(&body)).await?;
    let token = reg["access_token"].as_str().context("access_token")?.to_owned();
    let session = call(
        client
            .post(format!("{base}/api/v1/sessions"))
            .bearer_auth(&token)
            .json(&json!({ "name": "bench", "start": true })),
    )
    .await?;
    let session_id = session["id"].as_str().context("session id")?.to_owned();
    let url = format!("{base}/api/v1/sessions/{session_id}");
    wait_status(client, &url, &token, "scan_qr").await?;
    let phone = format!("62811{i:08}");
    call(
        client
            .post(format!("{url}/sim/scan"))
            .bearer_auth(&token)
            .json(&json!({ "phone": phone, "push_name": "bench" })),
    )
    .await?;
    wait_status(client, &url, &token, "connected").await?;
    Ok(BenchUser { token, session_id })
}

async fn wait_status(client: &reqwest::Client, url: &str, token: &str, status: &str) -> anyhow::Result<()> {
    for _ in 0..300 {
        let s = call(client.get(url).bearer_auth(token)).await?;
        if s["status"] == status {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bail!("session {url} never became {status}")
}

/// One request; a 5xx is retried a few times (SQLite may report "database is locked"
/// under concurrent setup).
async fn call(req: reqwest::RequestBuilder) -> anyhow::Result<Value> {
    let mut attempt = 0;
    loop {
        let this = req.try_clone().context("request body is not cloneable")?;
        let resp = this.send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        if status.is_success() {
            return Ok(serde_json::from_str(&text)?);
        }
        attempt += 1;
        if !status.is_server_error() || attempt >= 5 {
            bail!("HTTP {status}: {text}");
        }
        tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
    }
}
