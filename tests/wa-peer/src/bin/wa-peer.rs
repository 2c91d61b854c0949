//! `wa-peer`: run the offline WhatsApp server and phone, with an HTTP control API.
//!
//! ```text
//! wa-peer --listen 127.0.0.1:5222 --control 127.0.0.1:5223
//! WAHUB_WHATSAPP_WS_URL=ws://127.0.0.1:5222/ws/chat WAHUB_WHATSAPP_APP_VERSION=2.3000.1 wahub ...
//! ```
//! (wahub must be a test build: `--features danger-skip-cert-chain-verify`.)

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use wa_peer::{Peer, PeerOptions};

#[derive(Parser)]
#[command(about = "Offline WhatsApp Web server and scriptable phone (loopback only)")]
struct Args {
    /// WebSocket address for clients.
    #[arg(long, default_value = "127.0.0.1:5222")]
    listen: SocketAddr,
    /// HTTP control API address.
    #[arg(long, default_value = "127.0.0.1:5223")]
    control: SocketAddr,
    /// Hand out a new QR ref this often (milliseconds); default: six refs at once.
    #[arg(long)]
    qr_rotate_ms: Option<u64>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let args = Args::parse();
    for addr in [args.listen, args.control] {
        if !addr.ip().is_loopback() {
            anyhow::bail!("wa-peer listens on loopback only, not {addr}");
        }
    }
    let options = PeerOptions { qr_rotate_every: args.qr_rotate_ms.map(Duration::from_millis) };
    let peer = Arc::new(Peer::bind(args.listen, options).await?);
    println!("wa-peer: clients at {}, control at http://{}", peer.ws_url(), args.control);
    poem::Server::new(poem::listener::TcpListener::bind(args.control)).run(wa_peer::control::routes(peer)).await?;
    Ok(())
}
