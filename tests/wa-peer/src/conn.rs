//! One client connection: WebSocket, Noise handshake, then encrypted binary nodes.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use wacore_binary::marshal::{marshal, unmarshal_ref};
use wacore_binary::node::Node;
use wacore_binary::util::unpack;

use crate::nodes::describe;
use crate::noise::{self, Framer, Handshaked, Step, Transport};
use crate::server::Shared;
use crate::state::{Cmd, Conn, Record};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);

struct Wire {
    ws: WebSocketStream<TcpStream>,
    framer: Framer,
}

impl Wire {
    async fn next_frame(&mut self) -> Result<Option<Vec<u8>>> {
        loop {
            if let Some(f) = self.framer.next_frame()? {
                return Ok(Some(f));
            }
            match self.ws.next().await {
                Some(Ok(Message::Binary(b))) => self.framer.feed(&b),
                Some(Ok(Message::Close(_))) | None => return Ok(None),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
            }
        }
    }

    async fn send_raw(&mut self, payload: &[u8]) -> Result<()> {
        self.ws.send(Message::Binary(noise::frame(payload).into())).await?;
        Ok(())
    }
}

async fn send_node(wire: &mut Wire, transport: &mut Transport, node: &Node) -> Result<()> {
    tracing::debug!("wa-peer -> {}", describe(node));
    let plain = marshal(node).map_err(|e| anyhow!("marshal: {e}"))?;
    let cipher = transport.encrypt(&plain)?;
    wire.send_raw(&cipher).await
}

fn decode(plain: &[u8]) -> Result<Node> {
    let unpacked = unpack(plain).map_err(|e| anyhow!("unpack: {e}"))?;
    let node = unmarshal_ref(&unpacked).map_err(|e| anyhow!("unmarshal: {e}"))?;
    Ok(node.to_owned())
}

async fn handshake(shared: &Shared, wire: &mut Wire) -> Result<Handshaked> {
    let hello = wire.next_frame().await?.ok_or_else(|| anyhow!("closed before ClientHello"))?;
    match noise::respond(&shared.identity, &hello)? {
        Step::Ik { server_hello, done } => {
            wire.send_raw(&server_hello).await?;
            Ok(*done)
        }
        Step::Xx { server_hello, pending } => {
            wire.send_raw(&server_hello).await?;
            let finish = wire.next_frame().await?.ok_or_else(|| anyhow!("closed before ClientFinish"))?;
            pending.finish(&finish)
        }
    }
}

pub async fn serve(shared: Arc<Shared>, tcp: TcpStream) {
    let _ = tcp.set_nodelay(true);
    let ws = match tokio_tungstenite::accept_async(tcp).await {
        Ok(ws) => ws,
        Err(e) => {
            tracing::debug!("wa-peer: websocket upgrade failed: {e}");
            return;
        }
    };
    let mut wire = Wire { ws, framer: Framer::new() };
    let hs = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(&shared, &mut wire)).await {
        Ok(Ok(hs)) => hs,
        Ok(Err(e)) => {
            tracing::info!("wa-peer: handshake failed: {e:#}");
            return;
        }
        Err(_) => {
            tracing::info!("wa-peer: handshake timed out");
            return;
        }
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let id = {
        let mut inner = shared.lock();
        inner.next_conn += 1;
        let id = inner.next_conn;
        inner.conns.insert(id, Conn { tx: tx.clone(), jid: None, registration: None });
        inner.record(Record::Handshake { conn: id, pattern: hs.pattern.to_owned() });
        id
    };
    let Handshaked { client_static, payload, transport, .. } = hs;
    if let Err(e) = run(&shared, id, &mut wire, transport, rx, client_static, payload).await {
        tracing::info!("wa-peer: connection {id} ended: {e:#}");
    }
    let mut inner = shared.lock();
    inner.conns.remove(&id);
    inner.pending_pairs.retain(|_, p| p.conn != id);
    inner.code_offers.remove(&id);
    inner.record(Record::Closed { conn: id });
}

async fn wait_while_logins_held(shared: &Shared, id: u64, payload: &waproto::whatsapp::ClientPayload) {
    let mut recorded = false;
    while shared.lock().logins_held {
        if !recorded {
            let user = payload.username.map(|u| u.to_string()).unwrap_or_default();
            shared.lock().record(Record::LoginHeld { conn: id, user });
            recorded = true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn run(
    shared: &Arc<Shared>,
    id: u64,
    wire: &mut Wire,
    mut transport: Transport,
    mut rx: mpsc::UnboundedReceiver<Cmd>,
    client_static: [u8; 32],
    payload: waproto::whatsapp::ClientPayload,
) -> Result<()> {
    if payload.device_pairing_data.as_option().is_none() {
        wait_while_logins_held(shared, id, &payload).await;
    }
    for node in shared.on_login(id, client_static, &payload)? {
        send_node(wire, &mut transport, &node).await?;
    }
    loop {
        tokio::select! {
            frame = wire.next_frame() => {
                let Some(frame) = frame? else { return Ok(()) };
                let plain = transport.decrypt(&frame)?;
                let node = decode(&plain).context("client stanza")?;
                tracing::debug!("wa-peer <- {}", describe(&node));
                for reply in shared.on_stanza(id, &node) {
                    send_node(wire, &mut transport, &reply).await?;
                }
            }
            cmd = rx.recv() => match cmd {
                Some(Cmd::Send(node)) => send_node(wire, &mut transport, &node).await?,
                Some(Cmd::SendAndClose(node)) => {
                    send_node(wire, &mut transport, &node).await?;
                    let _ = wire.ws.close(None).await;
                    return Ok(());
                }
                Some(Cmd::Close) | None => {
                    let _ = wire.ws.close(None).await;
                    return Ok(());
                }
                Some(Cmd::Reset) => {
                    // SO_LINGER 0 turns the close into a TCP RST.
                    #[allow(deprecated)]
                    let _ = wire.ws.get_ref().set_linger(Some(Duration::ZERO));
                    bail!("reset by the peer's network drop");
                }
            }
        }
    }
}
