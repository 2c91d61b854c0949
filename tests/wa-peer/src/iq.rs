//! Answers to the IQs a logged-in companion sends to stay connected. Each one is
//! recorded; what the peer does not model gets the error a server gives for an
//! unknown request (501), so the gap is visible in the record.

use std::sync::Arc;

use wacore_binary::node::Node;

use crate::nodes::{attr, bytes, child, children, iq_error, iq_result, node};
use crate::server::Shared;
use crate::state::{Inner, Record};

pub fn answer(shared: &Arc<Shared>, inner: &mut Inner, conn_id: u64, iq: &Node) -> Vec<Node> {
    let xmlns = attr(iq, "xmlns").unwrap_or_default();
    let iq_type = attr(iq, "type").unwrap_or_default();
    let first = children(iq).first().map(|c| c.tag.to_string()).unwrap_or_default();
    let jid = inner.conns.get(&conn_id).and_then(|c| c.jid.clone());
    let mut extra = Vec::new();
    let reply: Option<Node> = match (xmlns.as_str(), first.as_str()) {
        ("w:p", "ping") => Some(iq_result(iq, vec![])),
        ("passive", tag) => {
            if tag == "active" {
                // Nothing is queued while the device was away.
                extra.push(node("ib", &[], vec![node("offline", &[("count", "0".into())], vec![])]));
            }
            Some(iq_result(iq, vec![]))
        }
        ("encrypt", "count") => {
            let n = jid.as_ref().and_then(|j| inner.devices.get(j)).map(|d| d.prekeys.len()).unwrap_or(0);
            Some(iq_result(iq, vec![node("count", &[("value", n.to_string())], vec![])]))
        }
        ("encrypt", "registration") | ("encrypt", "list") if iq_type == "set" => {
            if let Some(dev) = jid.as_ref().and_then(|j| inner.devices.get_mut(j)) {
                if let Some(list) = child(iq, "list") {
                    for key in children(list) {
                        let id = child(key, "id").and_then(bytes).map(be).unwrap_or(0);
                        let value = child(key, "value").and_then(bytes).map(<[u8]>::to_vec).unwrap_or_default();
                        dev.prekeys.push((id, value));
                    }
                }
                if let Some(skey) = child(iq, "skey") {
                    let id = child(skey, "id").and_then(bytes).map(be).unwrap_or(0);
                    let value = child(skey, "value").and_then(bytes).map(<[u8]>::to_vec).unwrap_or_default();
                    let sig = child(skey, "signature").and_then(bytes).map(<[u8]>::to_vec).unwrap_or_default();
                    dev.signed_prekey = Some((id, value, sig));
                }
            }
            Some(iq_result(iq, vec![]))
        }
        ("usync", "usync") => Some(usync(inner, iq)),
        ("encrypt", "key") => Some(key_bundles(inner, iq)),
        ("md", "link_code_companion_reg") => Some(link_code(shared, inner, conn_id, iq, &mut extra)),
        ("blocklist", _) => Some(iq_result(iq, vec![node("list", &[], vec![])])),
        ("privacy", _) => Some(iq_result(iq, vec![node("privacy", &[], vec![])])),
        // A fresh account has no app state: every collection is empty at its version.
        ("w:sync:app:state", "sync") => {
            let collections = child(iq, "sync")
                .map(children)
                .unwrap_or_default()
                .iter()
                .filter(|c| c.tag == "collection")
                .map(|c| {
                    let name = attr(c, "name").unwrap_or_default();
                    let version = attr(c, "version").unwrap_or_else(|| "0".into());
                    node("collection", &[("name", name), ("version", version)], vec![])
                })
                .collect();
            Some(iq_result(iq, vec![node("sync", &[], collections)]))
        }
        ("abt", "props") => Some(iq_result(iq, vec![node("props", &[("protocol", "1".into())], vec![])])),
        ("w", "props") => {
            Some(iq_result(iq, vec![node("props", &[("protocol", "2".into()), ("hash", "peer".into())], vec![])]))
        }
        _ => None,
    };
    let _ = shared;
    let answered = reply.is_some();
    inner.record(Record::Iq { conn: conn_id, xmlns, iq_type, child: first, answered });
    let mut out = vec![reply.unwrap_or_else(|| iq_error(iq, 501, "feature-not-implemented"))];
    out.extend(extra);
    out
}

/// The companion's side of pairing by code; see [`crate::pair_code`].
fn link_code(_shared: &Arc<Shared>, inner: &mut Inner, conn_id: u64, iq: &Node, extra: &mut Vec<Node>) -> Node {
    let Some(reg) = child(iq, "link_code_companion_reg") else { return iq_error(iq, 400, "bad-request") };
    let stage = attr(reg, "stage").unwrap_or_default();
    let phone = attr(reg, "jid").unwrap_or_default().split('@').next().unwrap_or_default().to_owned();
    match stage.as_str() {
        "companion_hello" => {
            let Some(wrapped) = child(reg, "link_code_pairing_wrapped_companion_ephemeral_pub").and_then(bytes) else {
                return iq_error(iq, 400, "bad-request");
            };
            if !inner.phones.contains_key(&phone) {
                return iq_error(iq, 404, "item-not-found");
            }
            let pairing_ref: Vec<u8> = format!("peer-code-{}", inner.fresh_id()).into_bytes();
            inner.code_offers.insert(
                conn_id,
                crate::pair_code::CodeOffer {
                    conn: conn_id,
                    phone,
                    pairing_ref: pairing_ref.clone(),
                    wrapped_companion_ephemeral: wrapped.to_vec(),
                    primary_ephemeral: None,
                    code: None,
                    done: None,
                },
            );
            iq_result(
                iq,
                vec![node(
                    "link_code_companion_reg",
                    &[],
                    vec![crate::nodes::bytes_node("link_code_pairing_ref", &[], pairing_ref)],
                )],
            )
        }
        "companion_finish" => {
            let Some(mut offer) = inner.code_offers.remove(&conn_id) else {
                return iq_error(iq, 404, "item-not-found");
            };
            let (Some(eph), Some(code)) = (offer.primary_ephemeral.as_ref(), offer.code.clone()) else {
                return iq_error(iq, 409, "conflict");
            };
            let Some(bundle) = child(reg, "link_code_pairing_wrapped_key_bundle").and_then(bytes) else {
                return iq_error(iq, 400, "bad-request");
            };
            let Some(account) = inner.phones.get(&offer.phone).map(|p| p.account.clone()) else {
                return iq_error(iq, 404, "item-not-found");
            };
            let done = offer.done.take();
            let opened =
                crate::pair_code::open_key_bundle(eph, &account, &offer.wrapped_companion_ephemeral, &code, bundle);
            let registration = inner.conns.get(&conn_id).and_then(|c| c.registration.clone());
            let outcome = match (opened, registration) {
                (Ok((identity, adv_secret)), Some(reg)) if reg.identity_pub == identity => {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    match crate::server::offer_pair_success(inner, conn_id, &offer.phone, reg, &adv_secret, tx) {
                        Ok(success) => {
                            extra.push(success);
                            // Relay the pairing outcome to whoever entered the code.
                            if let Some(done) = done {
                                tokio::spawn(async move {
                                    let r = rx.await.unwrap_or_else(|_| Err("companion disconnected".into()));
                                    let _ = done.send(r);
                                });
                            }
                            return iq_result(iq, vec![]);
                        }
                        Err(e) => format!("{e:#}"),
                    }
                }
                (Ok(_), Some(_)) => "key bundle names another identity than the companion registered".to_owned(),
                (Ok(_), None) => "connection is not registering".to_owned(),
                (Err(e), _) => format!("{e:#}"),
            };
            if let Some(done) = done {
                let _ = done.send(Err(outcome));
            }
            iq_error(iq, 400, "bad-request")
        }
        _ => iq_error(iq, 400, "bad-request"),
    }
}

/// The user part of a JID: `15550001111` of `15550001111:2@s.whatsapp.net`.
pub fn user_of(jid: &str) -> &str {
    let user = jid.split('@').next().unwrap_or_default();
    user.split(':').next().unwrap_or_default()
}

/// Device lists (`devices` protocol) of the users asked about. The primary phone
/// (device 0) is not listed: it is not a Signal endpoint in the peer.
fn usync(inner: &mut Inner, iq: &Node) -> Node {
    let Some(request) = child(iq, "usync") else { return iq_error(iq, 400, "bad-request") };
    let wants_devices = child(request, "query").is_some_and(|q| child(q, "devices").is_some());
    let users = child(request, "list").map(children).unwrap_or_default();
    let mut out = Vec::new();
    for user in users.iter().filter(|u| u.tag == "user") {
        let Some(jid) = attr(user, "jid") else { continue };
        let number = user_of(&jid).to_owned();
        let mut kids = Vec::new();
        if wants_devices {
            let mut devices: Vec<u32> = inner
                .devices
                .values()
                .filter(|d| d.phone == number)
                .filter_map(|d| d.jid.split(':').nth(1)?.split('@').next()?.parse().ok())
                .collect();
            devices.sort_unstable();
            let list = devices
                .iter()
                .map(|d| node("device", &[("id", d.to_string()), ("key-index", d.to_string())], vec![]))
                .collect();
            let mut dev_kids = vec![node("device-list", &[], list)];
            if let Some(phone) = inner.phones.get(&number) {
                dev_kids.push(crate::nodes::bytes_node(
                    "key-index-list",
                    &[("ts", crate::cert::now_secs().to_string())],
                    crate::phone::signed_key_index_list(phone, &devices),
                ));
            }
            kids.push(node("devices", &[], dev_kids));
        }
        out.push(node("user", &[("jid", format!("{number}@{}", crate::nodes::SERVER))], kids));
    }
    iq_result(iq, vec![node("usync", &[], vec![node("list", &[], out)])])
}

/// Prekey bundles of the devices asked about, from what each uploaded; one-time
/// prekeys are handed out once.
fn key_bundles(inner: &mut Inner, iq: &Node) -> Node {
    let users = child(iq, "key").map(children).unwrap_or_default();
    let mut out = Vec::new();
    for user in users.iter().filter(|u| u.tag == "user") {
        let Some(jid) = attr(user, "jid") else { continue };
        let Some(dev) = inner.devices.get_mut(&jid) else {
            out.push(node(
                "user",
                &[("jid", jid)],
                vec![node("error", &[("code", "404".into()), ("text", "item-not-found".into())], vec![])],
            ));
            continue;
        };
        let Some((skey_id, skey, sig)) = dev.signed_prekey.clone() else { continue };
        let mut kids = vec![
            crate::nodes::bytes_node("registration", &[], dev.registration_id.to_be_bytes().to_vec()),
            crate::nodes::bytes_node("type", &[], vec![5]),
            crate::nodes::bytes_node("identity", &[], dev.identity_pub.to_vec()),
            node(
                "skey",
                &[],
                vec![
                    crate::nodes::bytes_node("id", &[], id3(skey_id)),
                    crate::nodes::bytes_node("value", &[], skey),
                    crate::nodes::bytes_node("signature", &[], sig),
                ],
            ),
        ];
        if !dev.prekeys.is_empty() {
            let (id, value) = dev.prekeys.remove(0);
            kids.push(node(
                "key",
                &[],
                vec![crate::nodes::bytes_node("id", &[], id3(id)), crate::nodes::bytes_node("value", &[], value)],
            ));
        }
        kids.push(crate::nodes::bytes_node("device-identity", &[], dev.device_identity.clone()));
        out.push(node("user", &[("jid", jid)], kids));
    }
    iq_result(iq, vec![node("list", &[], out)])
}

fn id3(id: u32) -> Vec<u8> {
    id.to_be_bytes()[1..].to_vec()
}

fn be(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |acc, x| (acc << 8) | u32::from(*x))
}
