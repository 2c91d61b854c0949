//! The server: accepts connections, keeps the shared state, and exposes the phone's
//! actions to tests and the control API.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use wacore_binary::node::Node;

use crate::cert::{now_secs, ServerIdentity};
use crate::nodes::{self, attr, bytes, child, node, SERVER};
use crate::phone::{self, Phone};
use crate::state::{Cmd, Device, Inner, PendingPair, Record, Registration};

/// Knobs for tests.
#[derive(Debug, Clone, Default)]
pub struct PeerOptions {
    /// Send a fresh `pair-device` ref this often (the client shows each as a new QR).
    /// `None`: one `pair-device` with six refs, the client rotates on WhatsApp's own
    /// timings (60 s, then 20 s each).
    pub qr_rotate_every: Option<Duration>,
}

pub struct Shared {
    pub identity: ServerIdentity,
    pub options: PeerOptions,
    inner: Mutex<Inner>,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running peer on 127.0.0.1. Dropping it stops accepting connections.
pub struct Peer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

fn random_ref() -> String {
    use base64::prelude::*;
    let raw: [u8; 18] = rand::random();
    format!("2@{}", BASE64_STANDARD.encode(raw))
}

impl Peer {
    pub async fn start(options: PeerOptions) -> Result<Peer> {
        Self::bind("127.0.0.1:0".parse()?, options).await
    }

    pub async fn bind(addr: SocketAddr, options: PeerOptions) -> Result<Peer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared =
            Arc::new(Shared { identity: ServerIdentity::generate(), options, inner: Mutex::new(Inner::default()) });
        let s = shared.clone();
        let accept = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let refusing = s.lock().refuse_until.is_some_and(|t| Instant::now() < t);
                if refusing {
                    #[allow(deprecated)]
                    let _ = tcp.set_linger(Some(Duration::ZERO));
                    drop(tcp);
                    continue;
                }
                tokio::spawn(crate::conn::serve(s.clone(), tcp));
            }
        });
        Ok(Peer { shared, addr, accept })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What whatsapp-rust's transport should connect to.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws/chat", self.addr)
    }

    /// The leaf key of the peer's certificate chain (its Noise static key).
    pub fn static_key(&self) -> [u8; 32] {
        self.shared.identity.static_pub()
    }

    /// Creates (or renames) the phone `number` with the given push name.
    pub fn add_phone(&self, number: &str, push_name: &str) {
        let mut inner = self.shared.lock();
        match inner.phones.get_mut(number) {
            Some(p) => p.push_name = push_name.to_owned(),
            None => {
                inner.phones.insert(number.to_owned(), Phone::new(number, push_name));
            }
        }
    }

    pub fn records(&self) -> Vec<Record> {
        self.shared.lock().records.clone()
    }

    /// Waits until a record matches, up to `timeout`.
    pub async fn wait_for(&self, timeout: Duration, pred: impl Fn(&Record) -> bool) -> Result<Record> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(r) = self.shared.lock().records.iter().find(|r| pred(r)) {
                return Ok(r.clone());
            }
            if Instant::now() >= deadline {
                bail!("no matching record within {timeout:?}; records: {:#?}", self.records());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The devices linked to `number`.
    pub fn devices_of(&self, number: &str) -> Vec<String> {
        let mut v: Vec<String> =
            self.shared.lock().devices.values().filter(|d| d.phone == number).map(|d| d.jid.clone()).collect();
        v.sort();
        v
    }

    /// Whether a device is logged in on a live connection.
    pub fn is_online(&self, jid: &str) -> bool {
        self.shared.lock().conn_of(jid).is_some()
    }

    /// The phone scans a QR string: answers the companion with `pair-success` and
    /// waits for its `pair-device-sign`. Returns the new device's JID.
    pub async fn scan(&self, number: &str, qr: &str) -> Result<String> {
        let qr = phone::parse_qr(qr)?;
        let done = {
            let mut inner = self.shared.lock();
            let (conn_id, conn) = inner
                .conn_with_ref(&qr.pairing_ref)
                .ok_or_else(|| anyhow!("no companion is showing ref {}", qr.pairing_ref))?;
            let registration = conn.registration.clone().ok_or_else(|| anyhow!("connection is not registering"))?;
            if registration.identity_pub != qr.identity_pub || registration.noise_pub != qr.noise_pub {
                bail!("QR keys do not match the companion that was given this ref");
            }
            let tx = conn.tx.clone();
            let (done_tx, done_rx) = oneshot::channel();
            let success = offer_pair_success(&mut inner, conn_id, number, registration, &qr.adv_secret, done_tx)?;
            tx.send(Cmd::Send(success)).map_err(|_| anyhow!("companion connection is gone"))?;
            done_rx
        };
        await_pairing(done).await
    }

    /// The phone's user types the code a companion shows (pairing by phone number).
    /// Returns the new device's JID once the companion signed its identity.
    pub async fn enter_code(&self, number: &str, code: &str) -> Result<String> {
        let done = {
            let mut inner = self.shared.lock();
            let account = inner.phones.get(number).ok_or_else(|| anyhow!("no phone {number}"))?.account.public_key;
            let conn_id = inner
                .code_offers
                .iter()
                .find(|(_, o)| o.phone == number && o.primary_ephemeral.is_none())
                .map(|(id, _)| *id)
                .ok_or_else(|| anyhow!("no companion is waiting for a code for {number}"))?;
            let notification_id = inner.fresh_id();
            let offer = inner.code_offers.get(&conn_id).ok_or_else(|| anyhow!("offer vanished"))?;
            let (ephemeral, wrapped) = crate::pair_code::enter_code(offer, code)?;
            let hello = node(
                "notification",
                &[("from", SERVER.into()), ("type", "link_code_companion_reg".into()), ("id", notification_id)],
                vec![node(
                    "link_code_companion_reg",
                    &[("stage", "primary_hello".into())],
                    vec![
                        nodes::bytes_node("link_code_pairing_wrapped_primary_ephemeral_pub", &[], wrapped),
                        nodes::bytes_node("primary_identity_pub", &[], account.public_key_bytes().to_vec()),
                        nodes::bytes_node("link_code_pairing_ref", &[], offer.pairing_ref.clone()),
                    ],
                )],
            );
            let (done_tx, done_rx) = oneshot::channel();
            let tx = inner.conns.get(&conn_id).map(|c| c.tx.clone()).ok_or_else(|| anyhow!("companion is gone"))?;
            if let Some(offer) = inner.code_offers.get_mut(&conn_id) {
                offer.primary_ephemeral = Some(ephemeral);
                offer.code = Some(code.to_owned());
                offer.done = Some(done_tx);
            }
            tx.send(Cmd::Send(hello)).map_err(|_| anyhow!("companion connection is gone"))?;
            done_rx
        };
        await_pairing(done).await
    }

    fn send_to(&self, jid: &str, cmd: Cmd) -> Result<()> {
        let inner = self.shared.lock();
        let (_, conn) = inner.conn_of(jid).ok_or_else(|| anyhow!("{jid} is not connected"))?;
        conn.tx.send(cmd).map_err(|_| anyhow!("{jid}'s connection is gone"))
    }

    /// The phone removes the device: `<stream:error code="401"><conflict type="device_removed"/>`
    /// on its connection, and later logins are refused with 401.
    pub fn unlink(&self, jid: &str) -> Result<()> {
        let removed = self.shared.lock().devices.remove(jid).is_some();
        if !removed {
            bail!("{jid} is not linked");
        }
        let err = node(
            "stream:error",
            &[("code", "401".into())],
            vec![node("conflict", &[("type", "device_removed".into())], vec![])],
        );
        // Offline devices learn at their next login (failure 401).
        let _ = self.send_to(jid, Cmd::SendAndClose(err));
        Ok(())
    }

    /// The account logged in elsewhere: `<stream:error><conflict type="replaced"/>`.
    pub fn replace(&self, jid: &str) -> Result<()> {
        let err = node("stream:error", &[], vec![node("conflict", &[("type", "replaced".into())], vec![])]);
        self.send_to(jid, Cmd::SendAndClose(err))
    }

    /// Temporarily bans the phone's account: live devices are closed, logins get
    /// `<failure reason="402" code=.. expire=..>` until [`Peer::unban`].
    pub fn ban(&self, number: &str, code: u32, expire_secs: u64) -> Result<()> {
        let jids = {
            let mut inner = self.shared.lock();
            let phone = inner.phones.get_mut(number).ok_or_else(|| anyhow!("no phone {number}"))?;
            phone.ban = Some((code, expire_secs));
            inner.devices.values().filter(|d| d.phone == number).map(|d| d.jid.clone()).collect::<Vec<_>>()
        };
        for jid in jids {
            let _ = self.send_to(&jid, Cmd::Close);
        }
        Ok(())
    }

    pub fn unban(&self, number: &str) {
        if let Some(p) = self.shared.lock().phones.get_mut(number) {
            p.ban = None;
        }
    }

    /// A server-side close of the device's connection (clean WebSocket close).
    pub fn close(&self, jid: &str) -> Result<()> {
        self.send_to(jid, Cmd::Close)
    }

    /// Logins (not registrations) wait after the handshake until [`Peer::release_logins`]:
    /// tests look at the companion between `pair-success` and `success`.
    pub fn hold_logins(&self) {
        self.shared.lock().logins_held = true;
    }

    pub fn release_logins(&self) {
        self.shared.lock().logins_held = false;
    }

    /// A network drop: every live connection is reset (TCP RST) and new ones are
    /// reset on accept for `for_how_long`.
    pub fn drop_network(&self, for_how_long: Duration) {
        let mut inner = self.shared.lock();
        inner.refuse_until = Some(Instant::now() + for_how_long);
        for conn in inner.conns.values() {
            let _ = conn.tx.send(Cmd::Reset);
        }
    }
}

fn be_u32(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |acc, x| (acc << 8) | u32::from(*x))
}

fn arr32(b: Option<&[u8]>) -> Option<[u8; 32]> {
    b.and_then(|b| b.try_into().ok())
}

impl Shared {
    /// After the handshake: a registration gets `pair-device`, a login `success` or `failure`.
    pub fn on_login(
        self: &Arc<Self>,
        conn_id: u64,
        client_static: [u8; 32],
        payload: &waproto::whatsapp::ClientPayload,
    ) -> Result<Vec<Node>> {
        let mut inner = self.lock();
        if let Some(reg) = payload.device_pairing_data.as_option() {
            let identity_pub =
                arr32(reg.e_ident.as_deref()).ok_or_else(|| anyhow!("registration without a 32-byte identity"))?;
            let registration = Registration {
                noise_pub: client_static,
                identity_pub,
                registration_id: be_u32(reg.e_regid.as_deref().unwrap_or_default()),
                signed_prekey: (
                    be_u32(reg.e_skey_id.as_deref().unwrap_or_default()),
                    reg.e_skey_val.clone().unwrap_or_default(),
                    reg.e_skey_sig.clone().unwrap_or_default(),
                ),
                refs: Vec::new(),
            };
            let refs: Vec<String> = if self.options.qr_rotate_every.is_some() {
                vec![random_ref()]
            } else {
                (0..6).map(|_| random_ref()).collect()
            };
            let mut registration = registration;
            registration.refs = refs.clone();
            if let Some(c) = inner.conns.get_mut(&conn_id) {
                c.registration = Some(registration);
            }
            inner.record(Record::Registration { conn: conn_id });
            let id = inner.fresh_id();
            if let Some(every) = self.options.qr_rotate_every {
                tokio::spawn(rotate_refs(self.clone(), conn_id, every));
            }
            return Ok(vec![pair_device(id, &refs)]);
        }

        let user = payload.username.ok_or_else(|| anyhow!("login payload without username"))?;
        let device = payload.device.unwrap_or(0);
        let jid = if device == 0 { format!("{user}@{SERVER}") } else { format!("{user}:{device}@{SERVER}") };
        let known =
            inner.devices.get(&jid).filter(|d| d.noise_pub == client_static).map(|d| (d.phone.clone(), d.lid.clone()));
        let Some((number, lid)) = known else {
            inner.record(Record::LoginRefused { conn: conn_id, jid, reason: 401 });
            close_after(&inner, conn_id);
            return Ok(vec![node("failure", &[("reason", "401".into()), ("location", "peer".into())], vec![])]);
        };
        if let Some((code, expire)) = inner.phones.get(&number).and_then(|p| p.ban) {
            inner.record(Record::LoginRefused { conn: conn_id, jid, reason: 402 });
            close_after(&inner, conn_id);
            return Ok(vec![node(
                "failure",
                &[("reason", "402".into()), ("code", code.to_string()), ("expire", expire.to_string())],
                vec![],
            )]);
        }
        // One connection per device: a second login replaces the first.
        if let Some((old, c)) = inner.conn_of(&jid) {
            if old != conn_id {
                let _ = c.tx.send(Cmd::SendAndClose(node(
                    "stream:error",
                    &[],
                    vec![node("conflict", &[("type", "replaced".into())], vec![])],
                )));
            }
        }
        if let Some(c) = inner.conns.get_mut(&conn_id) {
            c.jid = Some(jid.clone());
        }
        inner.record(Record::Login { conn: conn_id, jid });
        let now = now_secs().to_string();
        Ok(vec![node(
            "success",
            &[
                ("t", now.clone()),
                ("props", "1".into()),
                ("location", "peer".into()),
                ("lid", lid),
                ("creation", now),
                ("abprops", "1".into()),
            ],
            vec![],
        )])
    }

    /// A stanza from the client; returns what to send back on the same connection.
    pub fn on_stanza(self: &Arc<Self>, conn_id: u64, stanza: &Node) -> Vec<Node> {
        let mut inner = self.lock();
        match stanza.tag.as_ref() {
            "iq" => {
                let iq_type = attr(stanza, "type").unwrap_or_default();
                if iq_type == "result" || iq_type == "error" {
                    self.on_iq_response(&mut inner, conn_id, stanza);
                    return vec![];
                }
                crate::iq::answer(self, &mut inner, conn_id, stanza)
            }
            tag => {
                inner.record(Record::Stanza {
                    conn: conn_id,
                    tag: tag.to_owned(),
                    stanza_type: attr(stanza, "type").unwrap_or_default(),
                });
                crate::stanza::answer(self, &mut inner, conn_id, stanza)
            }
        }
    }

    fn on_iq_response(&self, inner: &mut Inner, conn_id: u64, iq: &Node) {
        let Some(id) = attr(iq, "id") else { return };
        let Some(pending) = inner.pending_pairs.remove(&id) else { return };
        let outcome = (|| -> Result<Vec<u8>> {
            let sign = child(iq, "pair-device-sign")
                .ok_or_else(|| anyhow!("answer without pair-device-sign: {}", nodes::describe(iq)))?;
            let identity = child(sign, "device-identity")
                .and_then(bytes)
                .ok_or_else(|| anyhow!("pair-device-sign without device-identity"))?;
            if attr(child(sign, "device-identity").unwrap_or(sign), "key-index").as_deref()
                != Some(&pending.adv.key_index.to_string())
            {
                bail!("pair-device-sign with the wrong key-index");
            }
            let phone = inner.phones.get(&pending.phone).ok_or_else(|| anyhow!("phone vanished"))?;
            phone::verify_device_sign(phone, &pending.adv, &pending.registration.identity_pub, identity)?;
            Ok(identity.to_vec())
        })();
        match outcome {
            Ok(identity) => {
                let reg = &pending.registration;
                inner.devices.insert(
                    pending.device_jid.clone(),
                    Device {
                        jid: pending.device_jid.clone(),
                        lid: pending.lid.clone(),
                        phone: pending.phone.clone(),
                        noise_pub: reg.noise_pub,
                        identity_pub: reg.identity_pub,
                        registration_id: reg.registration_id,
                        signed_prekey: Some(reg.signed_prekey.clone()),
                        prekeys: Vec::new(),
                        device_identity: identity.to_vec(),
                    },
                );
                inner.record(Record::Paired { conn: conn_id, jid: pending.device_jid.clone() });
                if let Some(c) = inner.conns.get_mut(&conn_id) {
                    c.registration = None;
                    // The server restarts the stream so the companion logs in as itself.
                    let _ = c.tx.send(Cmd::SendAndClose(node("stream:error", &[("code", "515".into())], vec![])));
                }
                let _ = pending.done.send(Ok(pending.device_jid));
            }
            Err(e) => {
                let _ = pending.done.send(Err(format!("{e:#}")));
            }
        }
    }
}

async fn await_pairing(done: oneshot::Receiver<Result<String, String>>) -> Result<String> {
    match tokio::time::timeout(Duration::from_secs(20), done).await {
        Ok(Ok(Ok(jid))) => Ok(jid),
        Ok(Ok(Err(e))) => bail!("pairing refused: {e}"),
        Ok(Err(_)) => bail!("companion disconnected before signing"),
        Err(_) => bail!("companion did not answer pair-success"),
    }
}

/// Allocates the next device of `number`, signs its identity (HMAC keyed by
/// `adv_secret`) and returns the `pair-success` IQ; the companion's answer is
/// expected under that IQ's id.
pub(crate) fn offer_pair_success(
    inner: &mut Inner,
    conn_id: u64,
    number: &str,
    registration: Registration,
    adv_secret: &[u8; 32],
    done: oneshot::Sender<Result<String, String>>,
) -> Result<Node> {
    let id = inner.fresh_id();
    let phone = inner.phones.get_mut(number).ok_or_else(|| anyhow!("no phone {number}; add_phone first"))?;
    let device = phone.next_device;
    phone.next_device += 1;
    let device_jid = format!("{number}:{device}@{SERVER}");
    let lid = format!("{}:{device}@lid", phone.lid_user);
    let adv = phone::sign_device_identity(phone, &registration.identity_pub, adv_secret, u32::from(device))?;
    let push_name = phone.push_name.clone();
    let success = node(
        "iq",
        &[("from", SERVER.into()), ("type", "set".into()), ("id", id.clone()), ("xmlns", "md".into())],
        vec![node(
            "pair-success",
            &[],
            vec![
                nodes::bytes_node("device-identity", &[], adv.hmac_container.clone()),
                node("platform", &[("name", "android".into())], vec![]),
                node("device", &[("jid", device_jid.clone()), ("lid", lid.clone())], vec![]),
                // The push name rides on <biz>, as for a WhatsApp Business phone;
                // see docs/engines.md (app-state pushName is not modelled).
                node("biz", &[("name", push_name)], vec![]),
            ],
        )],
    );
    inner
        .pending_pairs
        .insert(id, PendingPair { conn: conn_id, phone: number.to_owned(), device_jid, lid, registration, adv, done });
    Ok(success)
}

fn close_after(inner: &Inner, conn_id: u64) {
    if let Some(c) = inner.conns.get(&conn_id) {
        let _ = c.tx.send(Cmd::Close);
    }
}

fn pair_device(id: String, refs: &[String]) -> Node {
    node(
        "iq",
        &[("from", SERVER.into()), ("type", "set".into()), ("id", id), ("xmlns", "md".into())],
        vec![node(
            "pair-device",
            &[],
            refs.iter().map(|r| nodes::bytes_node("ref", &[], r.as_bytes().to_vec())).collect(),
        )],
    )
}

/// Test-speed QR rotation: a new ref every `every` while the companion is unpaired.
async fn rotate_refs(shared: Arc<Shared>, conn_id: u64, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let mut inner = shared.lock();
        let id = inner.fresh_id();
        let Some(conn) = inner.conns.get_mut(&conn_id) else { return };
        let Some(reg) = conn.registration.as_mut() else { return };
        let r = random_ref();
        reg.refs.push(r.clone());
        if conn.tx.send(Cmd::Send(pair_device(id, &[r]))).is_err() {
            return;
        }
    }
}
