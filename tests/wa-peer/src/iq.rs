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

fn be(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |acc, x| (acc << 8) | u32::from(*x))
}
