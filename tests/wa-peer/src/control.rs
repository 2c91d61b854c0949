//! The HTTP control API of the `wa-peer` binary: the phone's actions, for manual
//! runs and benches. Loopback only; JSON in, JSON out, 4xx with `{code, detail}`.

use std::sync::Arc;
use std::time::Duration;

use poem::http::StatusCode;
use poem::web::{Data, Json, Path};
use poem::{get, handler, post, EndpointExt, IntoResponse, Response, Route};
use serde::Deserialize;
use serde_json::json;

use crate::Peer;

fn problem(status: StatusCode, code: &str, detail: impl std::fmt::Display) -> Response {
    (status, Json(json!({ "code": code, "detail": detail.to_string() }))).into_response()
}

fn done(r: anyhow::Result<serde_json::Value>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => problem(StatusCode::CONFLICT, "peer_refused", format!("{e:#}")),
    }
}

#[handler]
fn records(peer: Data<&Arc<Peer>>) -> Response {
    Json(json!({ "ws_url": peer.ws_url(), "records": peer.records() })).into_response()
}

#[derive(Deserialize)]
struct NewPhone {
    number: String,
    push_name: String,
}

#[handler]
fn add_phone(peer: Data<&Arc<Peer>>, Json(p): Json<NewPhone>) -> Response {
    if p.number.is_empty() || !p.number.bytes().all(|b| b.is_ascii_digit()) {
        return problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_phone", "number must be digits");
    }
    peer.add_phone(&p.number, &p.push_name);
    Json(json!({ "number": p.number })).into_response()
}

#[derive(Deserialize)]
struct Scan {
    qr: String,
}

#[handler]
async fn scan(peer: Data<&Arc<Peer>>, Path(number): Path<String>, Json(s): Json<Scan>) -> Response {
    done(peer.scan(&number, &s.qr).await.map(|jid| json!({ "jid": jid })))
}

#[derive(Deserialize)]
struct Ban {
    code: u32,
    expire_secs: u64,
}

#[handler]
fn ban(peer: Data<&Arc<Peer>>, Path(number): Path<String>, Json(b): Json<Ban>) -> Response {
    done(peer.ban(&number, b.code, b.expire_secs).map(|()| json!({ "banned": number })))
}

#[handler]
fn unban(peer: Data<&Arc<Peer>>, Path(number): Path<String>) -> Response {
    peer.unban(&number);
    Json(json!({ "unbanned": number })).into_response()
}

#[handler]
fn device_action(peer: Data<&Arc<Peer>>, Path((jid, action)): Path<(String, String)>) -> Response {
    let r = match action.as_str() {
        "unlink" => peer.unlink(&jid),
        "replace" => peer.replace(&jid),
        "close" => peer.close(&jid),
        _ => return problem(StatusCode::NOT_FOUND, "unknown_action", "use unlink, replace or close"),
    };
    done(r.map(|()| json!({ "jid": jid, "action": action })))
}

#[derive(Deserialize)]
struct Drop {
    for_ms: u64,
}

#[handler]
fn drop_network(peer: Data<&Arc<Peer>>, Json(d): Json<Drop>) -> Response {
    peer.drop_network(Duration::from_millis(d.for_ms));
    Json(json!({ "dropped_for_ms": d.for_ms })).into_response()
}

pub fn routes(peer: Arc<Peer>) -> impl poem::Endpoint {
    Route::new()
        .at("/records", get(records))
        .at("/phones", post(add_phone))
        .at("/phones/:number/scan", post(scan))
        .at("/phones/:number/ban", post(ban).delete(unban))
        .at("/devices/:jid/:action", post(device_action))
        .at("/network/drop", post(drop_network))
        .data(peer)
}

/// Serves the control API on an ephemeral loopback port; returns its address.
pub async fn spawn(peer: Arc<Peer>) -> anyhow::Result<std::net::SocketAddr> {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    let acceptor = poem::listener::TcpAcceptor::from_std(std_listener)?;
    tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor).run(routes(peer)).await;
    });
    Ok(addr)
}
