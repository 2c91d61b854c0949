//! wa-peer in a child process (this same binary, run with `--serve-peer`), so the
//! peer's own memory and CPU stay out of wahub's figures.

use std::process::Stdio;
use std::sync::Arc;

use anyhow::{bail, Context};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const PEER_FLAG: &str = "--serve-peer";

pub struct PeerProcess {
    child: Child,
    pub ws_url: String,
    control: String,
    http: reqwest::Client,
}

impl PeerProcess {
    pub async fn start() -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe).arg(PEER_FLAG).stdout(Stdio::piped()).kill_on_drop(true).spawn()?;
        let stdout = child.stdout.take().context("peer stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = lines.next_line().await?.context("peer exited before it was ready")?;
        let mut parts = line.split_whitespace();
        let (Some("READY"), Some(ws_url), Some(control)) = (parts.next(), parts.next(), parts.next()) else {
            bail!("unexpected peer output: {line}");
        };
        let (ws_url, control) = (ws_url.to_owned(), control.to_owned());
        // Keep draining so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { child, ws_url, control, http: reqwest::Client::new() })
    }

    pub async fn add_phone(&self, number: &str) -> anyhow::Result<()> {
        let r = self
            .http
            .post(format!("http://{}/phones", self.control))
            .json(&json!({"number": number, "push_name": format!("Phone {number}")}))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("add phone: {}", r.text().await?);
        }
        Ok(())
    }

    pub async fn scan(&self, number: &str, qr: &str) -> anyhow::Result<()> {
        let r = self
            .http
            .post(format!("http://{}/phones/{number}/scan", self.control))
            .json(&json!({"qr": qr}))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("scan: {}", r.text().await?);
        }
        Ok(())
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The child side: a peer on ephemeral loopback ports, announced on stdout.
pub async fn serve_peer() -> anyhow::Result<()> {
    let peer = Arc::new(wa_peer::Peer::start(wa_peer::PeerOptions::default()).await?);
    let control = wa_peer::control::spawn(peer.clone()).await?;
    println!("READY {} {control}", peer.ws_url());
    std::future::pending::<()>().await;
    Ok(())
}
