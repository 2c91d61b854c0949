//! The unmodified whatsapp-rust client against wa-peer, driven directly (no wahub
//! session layer): handshake, QR pairing, the 515 restart and login, staying
//! connected, restart with stored keys. The client's storage is wahub's encrypted
//! `KeyStore` on the test database.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use wa_peer::{Peer, PeerOptions, Record};
use wa_rs::bot::{Bot, BotHandle};
use wa_rs::transport::TokioWebSocketTransportFactory;
use wa_rs::types::events::{Event, EventHandler};
use wa_rs::Client;
use wahub::db::crypto::Cipher;
use wahub::engine::whatsapp::whatsapp_rust as wa_rs;
use wahub::engine::whatsapp::KeyStoreBackend;
use wahub::engine::KeyStore;
use wahub_tests::TestDb;

struct Collect(mpsc::UnboundedSender<Arc<Event>>);

impl EventHandler for Collect {
    fn handle_event(&self, event: Arc<Event>) {
        let _ = self.0.send(event);
    }
}

struct Device {
    client: Arc<Client>,
    handle: BotHandle,
    events: mpsc::UnboundedReceiver<Arc<Event>>,
}

async fn start_client(peer: &Peer, keys: KeyStore) -> Device {
    let (tx, rx) = mpsc::unbounded_channel();
    let bot = Bot::builder()
        .with_backend(KeyStoreBackend::new(keys))
        .with_transport_factory(TokioWebSocketTransportFactory::new().with_url(peer.ws_url()))
        .with_event_handler(Collect(tx))
        .with_version((2, 3000, 1_000_000_000))
        .skip_history_sync()
        .build()
        .await
        .expect("client builds");
    let client = bot.client();
    let handle = bot.spawn();
    Device { client, handle, events: rx }
}

impl Device {
    /// The next event matching `pick`, skipping others, within `secs`.
    async fn next<T>(&mut self, peer: &Peer, secs: u64, what: &str, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let ev = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no {what} within {secs} s; the peer saw {:#?}", peer.records()))
                .unwrap_or_else(|| panic!("event stream ended before {what}"));
            if let Some(v) = pick(&ev) {
                return v;
            }
        }
    }

    async fn stop(self) {
        self.client.disconnect().await;
        let _ = tokio::time::timeout(Duration::from_secs(10), self.handle).await;
    }
}

fn logins(peer: &Peer) -> Vec<String> {
    peer.records()
        .into_iter()
        .filter_map(|r| match r {
            Record::Login { jid, .. } => Some(jid),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_pairs_by_qr_logs_in_after_515_and_restores_from_stored_keys() {
    let db = TestDb::create().await;
    let conn = db.conn().await;
    let session = wahub_tests::insert_session_row(&conn).await;
    let keys = KeyStore::new(conn.clone(), Arc::new(Cipher::new([3u8; 32])), session);
    let peer = Peer::start(PeerOptions::default()).await.expect("peer starts");
    peer.add_phone("15550001111", "Alice Phone");

    let mut dev = start_client(&peer, keys.clone()).await;
    let qr = dev
        .next(&peer, 20, "a QR code", |e| match e {
            Event::PairingQrCode(q) => Some(q.code.clone()),
            _ => None,
        })
        .await;
    assert!(matches!(peer.records().first(), Some(Record::Handshake { pattern, .. }) if pattern == "XX"));
    assert!(peer.records().iter().any(|r| matches!(r, Record::Registration { .. })));
    // Nothing is logged in before the phone scans.
    assert!(logins(&peer).is_empty());

    let jid = peer.scan("15550001111", &qr).await.expect("the phone links the device");
    assert_eq!(jid, "15550001111:1@s.whatsapp.net");
    let paired = dev
        .next(&peer, 10, "PairSuccess", |e| match e {
            Event::PairSuccess(p) => Some(p.clone()),
            _ => None,
        })
        .await;
    assert_eq!(paired.id.to_string(), jid);
    assert_eq!(paired.business_name, "Alice Phone");

    // 515, then the library reconnects and logs in as the new device.
    dev.next(&peer, 60, "Connected", |e| matches!(e, Event::Connected(_)).then_some(())).await;
    assert_eq!(logins(&peer), vec![jid.clone()]);
    assert!(dev.client.is_logged_in());
    assert_eq!(dev.client.push_name(), "Alice Phone");
    // It uploaded prekeys and went active.
    peer.wait_for(
        Duration::from_secs(10),
        |r| matches!(r, Record::Iq { xmlns, iq_type, .. } if xmlns == "encrypt" && iq_type == "set"),
    )
    .await
    .expect("prekey upload");
    peer.wait_for(
        Duration::from_secs(10),
        |r| matches!(r, Record::Iq { xmlns, child, .. } if xmlns == "passive" && child == "active"),
    )
    .await
    .expect("active");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(peer.is_online(&jid), "still connected: {:#?}", peer.records());
    dev.stop().await;

    // A new client on the same stored keys logs in (no registration, no QR).
    let registrations_before = peer.records().iter().filter(|r| matches!(r, Record::Registration { .. })).count();
    let mut dev = start_client(&peer, keys.clone()).await;
    dev.next(&peer, 60, "Connected after restart", |e| match e {
        Event::Connected(_) => Some(()),
        Event::PairingQrCode(_) => panic!("a restored device must not show a QR"),
        _ => None,
    })
    .await;
    assert_eq!(logins(&peer), vec![jid.clone(), jid.clone()]);
    // The restored client cached the peer's static key and used Noise IK this time.
    let patterns: Vec<String> = peer
        .records()
        .into_iter()
        .filter_map(|r| match r {
            Record::Handshake { pattern, .. } => Some(pattern),
            _ => None,
        })
        .collect();
    assert_eq!(patterns.last().map(String::as_str), Some("IK"), "{patterns:?}");
    let registrations_after = peer.records().iter().filter(|r| matches!(r, Record::Registration { .. })).count();
    assert_eq!(registrations_before, registrations_after);
    dev.stop().await;
    db.drop_db().await;
}
