//! The whatsapp engine's storage: whatsapp-rust's `Backend` over wahub's encrypted
//! per-session `KeyStore`, on SQLite (default) or PostgreSQL
//! (`WAHUB_TEST_DATABASE_URL`). Every trait group is written, read, overwritten and
//! deleted; the raw `engine_keys.value` column must never hold the plaintext.
//! Also: a link that cannot reach WhatsApp ends with `ConnectFailure`, quickly.
//!
//! Needs wahub's `whatsapp` feature.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use tokio::sync::mpsc;
use uuid::Uuid;
use wa_rs::bytes::Bytes;
use wa_rs::wacore::appstate::hash::HashState;
use wa_rs::wacore::appstate::processor::AppStateMutationMAC;
use wa_rs::wacore::store::traits::{
    AppStateSyncKey, AppSyncStore, DeviceInfo, DeviceListRecord, DeviceStore, LidPnMappingEntry, MsgSecretEntry,
    MsgSecretStore, ProtocolStore, SignalStore, TcTokenEntry,
};
use wa_rs::wacore::store::Device;
use wa_rs::Jid;
use wahub::db::crypto::Cipher;
use wahub::engine::whatsapp::whatsapp_rust as wa_rs;
use wahub::engine::whatsapp::{KeyStoreBackend, WhatsappConfig, WhatsappEngine};
use wahub::engine::{ConnectSpec, Engine, EngineEvent, KeyStore};
use wahub_tests::TestDb;

/// Bytes that must never appear in the raw value column.
const MARK: &[u8] = b"PLAINTEXT-MARKER";

fn marked(extra: &str) -> Vec<u8> {
    let mut v = MARK.to_vec();
    v.extend_from_slice(extra.as_bytes());
    v
}

struct Fixture {
    db: TestDb,
    conn: DatabaseConnection,
    cipher: Arc<Cipher>,
}

impl Fixture {
    async fn new() -> Self {
        let db = TestDb::create().await;
        let conn = db.conn().await;
        Self { db, conn, cipher: Arc::new(Cipher::new([7u8; 32])) }
    }

    /// A session row (and its user) to store keys for: keys reference their session.
    async fn session(&self) -> Uuid {
        wahub_tests::insert_session_row(&self.conn).await
    }

    fn keys(&self, session_id: Uuid) -> KeyStore {
        KeyStore::new(self.conn.clone(), self.cipher.clone(), session_id)
    }

    fn backend(&self, session_id: Uuid) -> KeyStoreBackend {
        KeyStoreBackend::new(self.keys(session_id))
    }

    /// Every raw value of a session's rows, straight from the table.
    async fn raw_values(&self, session_id: Uuid) -> Vec<(String, String, Vec<u8>)> {
        let backend = self.conn.get_database_backend();
        let sql = match backend {
            sea_orm::DatabaseBackend::Postgres => "SELECT namespace, key, value FROM engine_keys WHERE session_id = $1",
            _ => "SELECT namespace, key, value FROM engine_keys WHERE session_id = ?",
        };
        let rows = self
            .conn
            .query_all(Statement::from_sql_and_values(backend, sql, [session_id.into()]))
            .await
            .expect("read engine_keys");
        rows.iter()
            .map(|r| {
                (
                    r.try_get::<String>("", "namespace").expect("namespace"),
                    r.try_get::<String>("", "key").expect("key"),
                    r.try_get::<Vec<u8>>("", "value").expect("value"),
                )
            })
            .collect()
    }

    async fn finish(self) {
        self.conn.close().await.ok();
        self.db.drop_db().await;
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn signal_store_round_trips() {
    let fx = Fixture::new().await;
    let s = fx.backend(fx.session().await);
    let addr = "6281234567890.0:1";
    let addr_dev = "6281234567890:3@s.whatsapp.net";

    // identities
    assert_eq!(s.load_identity(addr).await.unwrap(), None);
    s.put_identity(addr, [1; 32]).await.unwrap();
    assert_eq!(s.load_identity(addr).await.unwrap(), Some([1; 32]));
    s.put_identity(addr, [2; 32]).await.unwrap();
    assert_eq!(s.load_identity(addr).await.unwrap(), Some([2; 32]));
    s.delete_identity(addr).await.unwrap();
    assert_eq!(s.load_identity(addr).await.unwrap(), None);
    s.put_identities_batch(&[(Arc::from("a@lid"), [3; 32]), (Arc::from("b@lid"), [4; 32])]).await.unwrap();
    assert_eq!(s.load_identity("b@lid").await.unwrap(), Some([4; 32]));

    // sessions
    assert!(!s.has_session(addr_dev).await.unwrap());
    assert!(!s.has_signal_state_for_user("6281234567890").await.unwrap());
    s.put_session(addr_dev, &marked("s1")).await.unwrap();
    assert_eq!(s.get_session(addr_dev).await.unwrap(), Some(Bytes::from(marked("s1"))));
    assert!(s.has_session(addr_dev).await.unwrap());
    assert!(s.has_signal_state_for_user("6281234567890").await.unwrap());
    assert!(!s.has_signal_state_for_user("628123456789").await.unwrap());
    s.put_session(addr_dev, &marked("s2")).await.unwrap();
    assert_eq!(s.get_session(addr_dev).await.unwrap(), Some(Bytes::from(marked("s2"))));
    s.put_sessions_batch(&[(Arc::from("x@s.whatsapp.net"), Bytes::from_static(b"bx"))]).await.unwrap();
    assert_eq!(s.get_session("x@s.whatsapp.net").await.unwrap(), Some(Bytes::from_static(b"bx")));
    s.delete_session(addr_dev).await.unwrap();
    assert_eq!(s.get_session(addr_dev).await.unwrap(), None);

    // one-time pre-keys
    assert_eq!(s.get_max_prekey_id().await.unwrap(), 0);
    s.store_prekey(9, &marked("pk9"), false).await.unwrap();
    s.store_prekeys_batch(&[(10, Bytes::from(marked("pk10"))), (11, Bytes::from(marked("pk11")))], true).await.unwrap();
    assert_eq!(s.get_max_prekey_id().await.unwrap(), 11);
    assert_eq!(s.load_prekey(9).await.unwrap(), Some(Bytes::from(marked("pk9"))));
    s.store_prekey(9, &marked("pk9b"), false).await.unwrap();
    s.mark_prekeys_uploaded(&[9, 12]).await.unwrap();
    assert_eq!(s.load_prekey(9).await.unwrap(), Some(Bytes::from(marked("pk9b"))));
    assert_eq!(s.load_prekey(12).await.unwrap(), None, "marking must not resurrect keys");
    let batch = s.load_prekeys_batch(&[9, 10, 99]).await.unwrap();
    assert_eq!(batch.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![9, 10]);
    s.remove_prekey(11).await.unwrap();
    assert_eq!(s.load_prekey(11).await.unwrap(), None);
    assert_eq!(s.get_max_prekey_id().await.unwrap(), 10);

    // signed pre-keys
    s.store_signed_prekey(1, &marked("spk1")).await.unwrap();
    s.store_signed_prekey(2, &marked("spk2")).await.unwrap();
    s.store_signed_prekey(1, &marked("spk1b")).await.unwrap();
    assert_eq!(s.load_signed_prekey(1).await.unwrap(), Some(marked("spk1b")));
    let all = s.load_all_signed_prekeys().await.unwrap();
    assert_eq!(all, vec![(1, marked("spk1b")), (2, marked("spk2"))]);
    s.remove_signed_prekey(1).await.unwrap();
    assert_eq!(s.load_signed_prekey(1).await.unwrap(), None);

    // sender keys
    let sk = "120363021033254949@g.us::6281234567890:3@s.whatsapp.net";
    s.put_sender_key(sk, &marked("sk1")).await.unwrap();
    s.put_sender_key(sk, &marked("sk2")).await.unwrap();
    assert_eq!(s.get_sender_key(sk).await.unwrap(), Some(marked("sk2")));
    s.delete_sender_key(sk).await.unwrap();
    assert_eq!(s.get_sender_key(sk).await.unwrap(), None);

    fx.finish().await;
}

#[tokio::test]
async fn app_sync_store_round_trips() {
    let fx = Fixture::new().await;
    let s = fx.backend(fx.session().await);

    assert!(s.get_sync_key(&[1, 2]).await.unwrap().is_none());
    assert_eq!(s.get_latest_sync_key_id().await.unwrap(), None);
    let key = |n: u8| AppStateSyncKey {
        key_data: marked(&format!("key{n}")),
        fingerprint: vec![n; 4],
        timestamp: 1_700_000_000 + i64::from(n),
    };
    s.set_sync_key(&[1, 2], key(1)).await.unwrap();
    s.set_sync_key(&[3, 4], key(2)).await.unwrap();
    s.set_sync_key(&[1, 2], key(3)).await.unwrap();
    let got = s.get_sync_key(&[1, 2]).await.unwrap().expect("sync key");
    assert_eq!((got.key_data, got.timestamp), (marked("key3"), 1_700_000_003));
    assert_eq!(s.get_latest_sync_key_id().await.unwrap(), Some(vec![1, 2]));

    // versions: missing is the default state
    let empty = s.get_version("regular_high").await.unwrap();
    assert_eq!(empty.version, 0);
    let mut state = HashState { version: 7, hash: [9; 128], ..Default::default() };
    state.index_value_map.insert("idx".into(), marked("v"));
    s.set_version("regular_high", state.clone()).await.unwrap();
    let back = s.get_version("regular_high").await.unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), serde_json::to_value(&state).unwrap());
    state.version = 8;
    s.set_version("regular_high", state).await.unwrap();
    assert_eq!(s.get_version("regular_high").await.unwrap().version, 8);

    // mutation MACs, per collection; names with '_' must not leak into others
    let mac = |i: u8, v: &str| AppStateMutationMAC { index_mac: vec![i; 32], value_mac: marked(v) };
    s.put_mutation_macs("regular_high", 8, &[mac(1, "a"), mac(2, "b")]).await.unwrap();
    s.put_mutation_macs("regularXhigh", 8, &[mac(1, "other")]).await.unwrap();
    s.put_mutation_macs("regular_high", 9, &[mac(1, "a2")]).await.unwrap();
    assert_eq!(s.get_mutation_mac("regular_high", &[1; 32]).await.unwrap(), Some(marked("a2")));
    let many = s.get_mutation_macs("regular_high", &[[1; 32], [2; 32], [3; 32]]).await.unwrap();
    assert_eq!(many.len(), 2);
    s.delete_mutation_macs("regular_high", &[vec![2; 32]]).await.unwrap();
    assert_eq!(s.get_mutation_mac("regular_high", &[2; 32]).await.unwrap(), None);
    s.clear_mutation_macs("regular_high").await.unwrap();
    assert_eq!(s.get_mutation_mac("regular_high", &[1; 32]).await.unwrap(), None);
    assert_eq!(
        s.get_mutation_mac("regularXhigh", &[1; 32]).await.unwrap(),
        Some(marked("other")),
        "clearing one collection leaves the others"
    );

    fx.finish().await;
}

#[tokio::test]
async fn protocol_store_round_trips() {
    let fx = Fixture::new().await;
    let s = fx.backend(fx.session().await);
    let group = "120363021033254949@g.us";
    let other = "120363000000000000@g.us";
    let d1 = "6281111111111:1@s.whatsapp.net";
    let d2 = "6282222222222@s.whatsapp.net";

    // sender-key distribution status
    s.set_sender_key_status(group, &[(d1, true), (d2, false)]).await.unwrap();
    s.set_sender_key_status(other, &[(d1, true)]).await.unwrap();
    s.set_sender_key_status(group, &[(d2, true)]).await.unwrap();
    let mut devices = s.get_sender_key_devices(group).await.unwrap();
    devices.sort();
    assert_eq!(devices, vec![(d1.to_owned(), true), (d2.to_owned(), true)]);
    s.delete_sender_key_device_rows(&[d1]).await.unwrap();
    assert_eq!(s.get_sender_key_devices(group).await.unwrap(), vec![(d2.to_owned(), true)]);
    assert!(s.get_sender_key_devices(other).await.unwrap().is_empty());
    s.set_sender_key_status(other, &[(d2, false)]).await.unwrap();
    s.clear_sender_key_devices(group).await.unwrap();
    assert!(s.get_sender_key_devices(group).await.unwrap().is_empty());
    assert_eq!(s.get_sender_key_devices(other).await.unwrap().len(), 1);
    s.clear_all_sender_key_devices().await.unwrap();
    assert!(s.get_sender_key_devices(other).await.unwrap().is_empty());

    // LID <-> phone mapping, including a LID whose phone changes
    let entry = |lid: &str, pn: &str, at: i64| LidPnMappingEntry {
        lid: lid.into(),
        phone_number: pn.into(),
        created_at: at,
        updated_at: at,
        learning_source: "usync".into(),
    };
    assert!(s.get_lid_mapping("100").await.unwrap().is_none());
    s.put_lid_mapping(&entry("100", "6281111111111", 1)).await.unwrap();
    s.put_lid_mappings(&[entry("200", "6282222222222", 2)]).await.unwrap();
    assert_eq!(s.get_pn_mapping("6281111111111").await.unwrap().map(|e| e.lid), Some("100".into()));
    s.put_lid_mapping(&entry("100", "6283333333333", 3)).await.unwrap();
    assert!(s.get_pn_mapping("6281111111111").await.unwrap().is_none());
    assert_eq!(s.get_pn_mapping("6283333333333").await.unwrap().map(|e| e.lid), Some("100".into()));
    assert_eq!(s.get_lid_mapping("100").await.unwrap().map(|e| e.updated_at), Some(3));
    assert_eq!(s.get_all_lid_mappings().await.unwrap().len(), 2);

    // base keys
    s.save_base_key(d1, "MSG1", &marked("bk")).await.unwrap();
    assert!(s.has_same_base_key(d1, "MSG1", &marked("bk")).await.unwrap());
    assert!(!s.has_same_base_key(d1, "MSG1", b"other").await.unwrap());
    s.save_base_key(d1, "MSG1", b"other").await.unwrap();
    assert!(s.has_same_base_key(d1, "MSG1", b"other").await.unwrap());
    s.delete_base_key(d1, "MSG1").await.unwrap();
    assert!(!s.has_same_base_key(d1, "MSG1", b"other").await.unwrap());

    // device lists
    let record = |n: u32| DeviceListRecord {
        user: "6281111111111".into(),
        devices: vec![DeviceInfo::new(0, None), DeviceInfo::new(n, Some(n))],
        timestamp: i64::from(n),
        phash: Some("2:abc".into()),
        raw_id: Some(n),
    };
    s.update_device_list(record(1)).await.unwrap();
    s.update_device_lists(vec![record(2)]).await.unwrap();
    let got = s.get_devices("6281111111111").await.unwrap().expect("device list");
    assert_eq!((got.devices.len(), got.raw_id), (2, Some(2)));
    s.delete_devices("6281111111111").await.unwrap();
    assert!(s.get_devices("6281111111111").await.unwrap().is_none());

    // group metadata blobs
    s.put_group_metadata(group, &marked("g1")).await.unwrap();
    s.put_group_metadata(group, &marked("g2")).await.unwrap();
    assert_eq!(s.get_group_metadata(group).await.unwrap(), Some(marked("g2")));
    s.delete_group_metadata(group).await.unwrap();
    assert_eq!(s.get_group_metadata(group).await.unwrap(), None);

    // trusted-contact tokens
    let jid = "100@lid";
    s.put_tc_token(jid, &TcTokenEntry { token: marked("t1"), token_timestamp: 100, sender_timestamp: None })
        .await
        .unwrap();
    s.touch_tc_token_sender_timestamp(jid, 150).await.unwrap();
    s.touch_tc_token_sender_timestamp(jid, 120).await.unwrap();
    s.store_received_tc_token(jid, b"older", 50).await.unwrap();
    let tok = s.get_tc_token(jid).await.unwrap().expect("token");
    assert_eq!((tok.token, tok.token_timestamp, tok.sender_timestamp), (marked("t1"), 100, Some(150)));
    s.store_received_tc_token(jid, &marked("t2"), 200).await.unwrap();
    assert_eq!(s.get_tc_token(jid).await.unwrap().map(|t| t.token), Some(marked("t2")));
    s.touch_tc_token_sender_timestamp("200@lid", 10).await.unwrap();
    let mut jids = s.get_all_tc_token_jids().await.unwrap();
    jids.sort();
    assert_eq!(jids, vec!["100@lid".to_owned(), "200@lid".to_owned()]);
    assert_eq!(s.delete_expired_tc_tokens(150, 100).await.unwrap(), 1);
    assert!(s.get_tc_token("200@lid").await.unwrap().is_none());
    s.delete_tc_token(jid).await.unwrap();
    assert!(s.get_tc_token(jid).await.unwrap().is_none());

    // sent messages: atomic take, expiry
    s.store_sent_message(d2, "M1", &marked("p1")).await.unwrap();
    s.store_sent_message(d2, "M1", &marked("p1b")).await.unwrap();
    s.store_sent_message(d2, "M2", &marked("p2")).await.unwrap();
    assert_eq!(s.take_sent_message(d2, "M1").await.unwrap(), Some(marked("p1b")));
    assert_eq!(s.take_sent_message(d2, "M1").await.unwrap(), None);
    assert_eq!(s.delete_expired_sent_messages(0).await.unwrap(), 0);
    assert_eq!(s.delete_expired_sent_messages(i64::MAX).await.unwrap(), 1);
    assert_eq!(s.take_sent_message(d2, "M2").await.unwrap(), None);

    // pending inbound buffer
    s.store_pending_inbound(d2, d2, "IN1", &marked("i1")).await.unwrap();
    s.store_pending_inbound(d2, d2, "IN1", &marked("i1b")).await.unwrap();
    assert_eq!(s.get_pending_inbound(d2, d2, "IN1").await.unwrap(), Some(marked("i1b")));
    s.delete_pending_inbound(d2, d2, "IN1").await.unwrap();
    assert_eq!(s.get_pending_inbound(d2, d2, "IN1").await.unwrap(), None);
    s.store_pending_inbound(d2, d2, "IN2", b"x").await.unwrap();
    assert_eq!(s.delete_expired_pending_inbound(i64::MAX).await.unwrap(), 1);

    fx.finish().await;
}

#[tokio::test]
async fn msg_secret_store_round_trips_and_merges() {
    let fx = Fixture::new().await;
    let s = fx.backend(fx.session().await);
    let chat = Jid::pn("6281111111111");
    let me = Jid::pn("6289999999999");

    assert_eq!(s.get_msg_secret(&chat.to_string(), &me.to_string(), "M1").await.unwrap(), None);
    s.put_msg_secret(&chat.to_string(), &me.to_string(), "M1", &[5; 32]).await.unwrap();
    assert_eq!(s.get_msg_secret(&chat.to_string(), &me.to_string(), "M1").await.unwrap(), Some(vec![5; 32]));
    let n = s
        .put_msg_secrets(vec![
            MsgSecretEntry::new(&chat, &me, "M2", [6; 32], 100, 50),
            MsgSecretEntry::new(&chat, &me, "M3", [7; 32], 300, 0),
        ])
        .await
        .unwrap();
    assert_eq!(n, 2);
    // overwrite: new secret; later deadline and known timestamp win
    s.put_msg_secrets(vec![MsgSecretEntry::new(&chat, &me, "M2", [8; 32], 200, 0)]).await.unwrap();
    assert_eq!(
        s.get_msg_secret_with_ts(&chat.to_string(), &me.to_string(), "M2").await.unwrap(),
        Some((vec![8; 32], 50))
    );
    // M1 never expires (0); M2 expires at 200; M3 at 300
    assert_eq!(s.delete_expired_msg_secrets(250).await.unwrap(), 1);
    assert!(s.get_msg_secret(&chat.to_string(), &me.to_string(), "M2").await.unwrap().is_none());
    assert!(s.get_msg_secret(&chat.to_string(), &me.to_string(), "M1").await.unwrap().is_some());
    assert!(s.get_msg_secret(&chat.to_string(), &me.to_string(), "M3").await.unwrap().is_some());

    fx.finish().await;
}

#[tokio::test]
async fn device_store_round_trips() {
    let fx = Fixture::new().await;
    let s = fx.backend(fx.session().await);

    assert!(!s.exists().await.unwrap());
    assert!(s.load().await.unwrap().is_none());
    let id = s.create().await.unwrap();
    assert!(s.exists().await.unwrap());
    assert_eq!(s.create().await.unwrap(), id, "create is idempotent");
    let created = s.load().await.unwrap().expect("created device");

    let mut device = created.clone();
    device.push_name = "PLAINTEXT-MARKER push name".into();
    device.pn = Some(Jid::pn("6281234567890"));
    device.login_counter = 3;
    s.save(&device).await.unwrap();
    let back = s.load().await.unwrap().expect("saved device");
    assert_eq!(
        serde_json::to_value(&back).unwrap(),
        serde_json::to_value(&device).unwrap(),
        "the device survives a round trip (keys included)"
    );
    assert_eq!(back.registration_id, created.registration_id);

    let fresh = Device::new();
    s.save(&fresh).await.unwrap();
    assert_eq!(s.load().await.unwrap().map(|d| d.registration_id), Some(fresh.registration_id));

    fx.finish().await;
}

#[tokio::test]
async fn values_are_encrypted_at_rest_and_sessions_are_isolated() {
    let fx = Fixture::new().await;
    let (a, b) = (fx.session().await, fx.session().await);
    let sa = fx.backend(a);
    let sb = fx.backend(b);

    // One marked value in every namespace the engine uses.
    sa.put_identity("x@s.whatsapp.net", MARK.repeat(2).try_into().unwrap()).await.unwrap();
    sa.put_session("x@s.whatsapp.net", &marked("session")).await.unwrap();
    sa.store_prekey(1, &marked("prekey"), false).await.unwrap();
    sa.store_signed_prekey(1, &marked("signed")).await.unwrap();
    sa.put_sender_key("g::x", &marked("sender")).await.unwrap();
    sa.set_sync_key(&[1], AppStateSyncKey { key_data: marked("sync"), fingerprint: vec![], timestamp: 0 })
        .await
        .unwrap();
    let mut hs = HashState::default();
    hs.index_value_map.insert("i".into(), marked("version"));
    sa.set_version("critical_block", hs).await.unwrap();
    sa.put_mutation_macs("critical_block", 1, &[AppStateMutationMAC { index_mac: vec![1], value_mac: marked("mac") }])
        .await
        .unwrap();
    sa.set_sender_key_status("g", &[("x", true)]).await.unwrap();
    sa.put_lid_mapping(&LidPnMappingEntry {
        lid: "1".into(),
        phone_number: "6281234567890".into(),
        created_at: 0,
        updated_at: 0,
        learning_source: "PLAINTEXT-MARKER".into(),
    })
    .await
    .unwrap();
    sa.save_base_key("x", "m", &marked("base")).await.unwrap();
    sa.update_device_list(DeviceListRecord {
        user: "6281234567890".into(),
        devices: vec![],
        timestamp: 0,
        phash: Some("PLAINTEXT-MARKER".into()),
        raw_id: None,
    })
    .await
    .unwrap();
    sa.put_group_metadata("g", &marked("group")).await.unwrap();
    sa.put_tc_token("x", &TcTokenEntry { token: marked("tc"), token_timestamp: 1, sender_timestamp: None })
        .await
        .unwrap();
    sa.store_sent_message("x", "m", &marked("sent")).await.unwrap();
    sa.store_pending_inbound("x", "x", "m", &marked("pending")).await.unwrap();
    let mut secret = [0u8; 32];
    secret[..MARK.len()].copy_from_slice(MARK);
    sa.put_msg_secret("x", "x", "m", &secret).await.unwrap();
    let mut device = Device::new();
    device.push_name = "PLAINTEXT-MARKER".into();
    sa.save(&device).await.unwrap();

    let rows = fx.raw_values(a).await;
    let namespaces: std::collections::BTreeSet<_> = rows.iter().map(|(ns, _, _)| ns.as_str()).collect();
    assert!(namespaces.len() >= 19, "every namespace was written: {namespaces:?}");
    for (ns, key, value) in &rows {
        assert!(!contains(value, MARK), "{ns}/{key} holds plaintext");
        assert!(!contains(value, b"6281234567890"), "{ns}/{key} holds a phone number in clear");
    }

    // The other session sees nothing, and wiping one leaves the other alone.
    assert!(sb.get_session("x@s.whatsapp.net").await.unwrap().is_none());
    assert!(!sb.exists().await.unwrap());
    sb.put_session("x@s.whatsapp.net", b"b's").await.unwrap();
    fx.keys(a).wipe().await.unwrap();
    assert!(fx.raw_values(a).await.is_empty());
    assert!(!sa.exists().await.unwrap());
    assert_eq!(sb.get_session("x@s.whatsapp.net").await.unwrap(), Some(Bytes::from_static(b"b's")));
    assert_eq!(fx.raw_values(b).await.len(), 1);

    fx.finish().await;
}

/// With no reachable WhatsApp server, starting a link ends in `ConnectFailure`
/// quickly: no hang, no panic, no retry loop.
#[tokio::test]
async fn a_link_without_network_ends_in_connect_failure() {
    let fx = Fixture::new().await;
    let session = fx.session().await;
    // A closed local port: refused at once, with or without internet on this machine.
    let engine = WhatsappEngine::with_config(WhatsappConfig {
        ws_url: Some("ws://127.0.0.1:9/ws/chat".into()),
        app_version: Some((2, 3000, 1_000_000_000)),
        connect_timeout: Duration::from_secs(5),
        ..Default::default()
    });
    let (tx, mut rx) = mpsc::channel(16);
    let link = engine
        .connect(ConnectSpec { session_id: session, keys: fx.keys(session), events: tx })
        .await
        .expect("the attempt starts");
    let ev = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an event within 10 s")
        .expect("the channel stays open until the event");
    assert!(
        matches!(&ev, EngineEvent::ConnectFailure { permanent: false, reason } if reason.starts_with("network")),
        "got {ev:?}"
    );
    // Nothing else follows (no retry loop, no second terminal event): the engine
    // closes its side of the channel.
    match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        Ok(None) => {}
        other => panic!("expected the event channel to close, got {other:?}"),
    }
    tokio::time::timeout(Duration::from_secs(10), link.disconnect()).await.expect("disconnect returns");
    // A fresh device (not yet paired) was created in the encrypted store.
    assert!(KeyStoreBackend::new(fx.keys(session)).exists().await.unwrap());
    drop(link);
    fx.finish().await;
}

/// The watchdog: a server that accepts TCP but never answers still ends the link.
#[tokio::test]
async fn a_silent_server_ends_in_connect_failure_after_the_timeout() {
    let fx = Fixture::new().await;
    let session = fx.session().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let engine = WhatsappEngine::with_config(WhatsappConfig {
        ws_url: Some(format!("ws://127.0.0.1:{port}/ws/chat")),
        app_version: Some((2, 3000, 1_000_000_000)),
        connect_timeout: Duration::from_secs(2),
        ..Default::default()
    });
    let (tx, mut rx) = mpsc::channel(16);
    let started = std::time::Instant::now();
    let link = engine
        .connect(ConnectSpec { session_id: session, keys: fx.keys(session), events: tx })
        .await
        .expect("the attempt starts");
    let ev = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an event within 10 s")
        .expect("an event");
    assert!(matches!(ev, EngineEvent::ConnectFailure { permanent: false, .. }), "got {ev:?}");
    assert!(started.elapsed() < Duration::from_secs(6));
    tokio::time::timeout(Duration::from_secs(15), link.disconnect()).await.expect("disconnect returns");
    server.abort();
    fx.finish().await;
}

/// Resident memory of this process, in KiB (Linux).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn measure_n() -> usize {
    std::env::var("WAHUB_MEASURE_N").ok().and_then(|v| v.parse().ok()).unwrap_or(100)
}

/// Holds N links open and prints the RSS they cost. Run one at a time:
/// `cargo test --features whatsapp --test api whatsapp_store::measure -- --ignored --nocapture --test-threads 1`
async fn measure(engine: &dyn Engine, label: &str) {
    let fx = Fixture::new().await;
    let n = measure_n();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_kib();
    let mut links = Vec::new();
    let mut receivers = Vec::new();
    for _ in 0..n {
        let session = fx.session().await;
        let (tx, rx) = mpsc::channel(64);
        let link = engine
            .connect(ConnectSpec { session_id: session, keys: fx.keys(session), events: tx })
            .await
            .expect("link starts");
        links.push(link);
        receivers.push(rx);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = rss_kib();
    let mut ended = 0;
    for rx in &mut receivers {
        while let Ok(ev) = rx.try_recv() {
            if matches!(ev, EngineEvent::ConnectFailure { .. } | EngineEvent::Disconnected { .. }) {
                ended += 1;
            }
        }
    }
    println!(
        "{label}: {n} links, RSS {before} KiB -> {after} KiB, {:.1} KiB per link ({ended} ended during the window)",
        (after.saturating_sub(before)) as f64 / n as f64
    );
    for link in &links {
        link.disconnect().await;
    }
    drop(links);
    fx.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "measurement, run by hand"]
async fn measure_rss_of_sim_links() {
    let engine = wahub::engine::sim::SimEngine::new(wahub::engine::sim::SimTimings {
        qr_first: Duration::from_secs(60),
        qr_next: Duration::from_secs(20),
        qr_max: 6,
        pair_delay: Duration::from_millis(1500),
        pair_code_timeout: Duration::from_secs(180),
        connect_delay: Duration::from_millis(5),
        close_delay: Duration::ZERO,
        stream_check: None,
    });
    measure(&engine, "sim (offering QR)").await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "measurement, run by hand"]
async fn measure_rss_of_whatsapp_links_trying_to_connect() {
    // A server that accepts TCP and never answers: each client sits in its
    // connection attempt for the whole window.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let engine = WhatsappEngine::with_config(WhatsappConfig {
        ws_url: Some(format!("ws://127.0.0.1:{port}/ws/chat")),
        app_version: Some((2, 3000, 1_000_000_000)),
        connect_timeout: Duration::from_secs(60),
        ..Default::default()
    });
    measure(&engine, "whatsapp (connecting)").await;
    server.abort();
}

/// Once the device is logged out (its link sets the flag), late writes from the
/// library's background tasks are dropped, so wiping the keys is final.
#[tokio::test]
async fn a_retired_backend_writes_nothing() {
    let fx = Fixture::new().await;
    let session = fx.session().await;
    let retired = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let backend = KeyStoreBackend::with_retired_flag(fx.keys(session), retired.clone());
    backend.put_session("x@s.whatsapp.net", b"before").await.unwrap();
    assert_eq!(fx.raw_values(session).await.len(), 1);
    retired.store(true, std::sync::atomic::Ordering::SeqCst);
    fx.keys(session).wipe().await.unwrap();
    backend.put_session("y@s.whatsapp.net", b"after").await.unwrap();
    assert!(fx.raw_values(session).await.is_empty());
    fx.finish().await;
}
