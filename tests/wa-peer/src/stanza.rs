//! Stanzas other than IQs from a companion: messages and receipts are routed to the
//! addressed devices (the server never sees their plaintext); everything is acked.

use std::sync::Arc;

use wacore_binary::node::{Node, NodeContent};

use crate::cert::now_secs;
use crate::iq::user_of;
use crate::nodes::{attr, child, children, node};
use crate::server::Shared;
use crate::state::{Cmd, Inner, Record};

pub fn answer(_shared: &Arc<Shared>, inner: &mut Inner, conn_id: u64, stanza: &Node) -> Vec<Node> {
    match stanza.tag.as_ref() {
        "message" => {
            route_message(inner, conn_id, stanza);
            vec![ack(stanza)]
        }
        "receipt" => {
            route_receipt(inner, conn_id, stanza);
            vec![ack(stanza)]
        }
        _ => vec![],
    }
}

fn ack(stanza: &Node) -> Node {
    let mut attrs = vec![("class", stanza.tag.to_string()), ("id", attr(stanza, "id").unwrap_or_default())];
    if let Some(t) = attr(stanza, "type") {
        attrs.push(("type", t));
    }
    if let Some(to) = attr(stanza, "to") {
        attrs.push(("from", to));
    }
    attrs.push(("t", now_secs().to_string()));
    node("ack", &attrs, vec![])
}

fn send_to_device(inner: &Inner, jid: &str, stanza: Node) -> bool {
    match inner.conn_of(jid) {
        Some((_, c)) => c.tx.send(Cmd::Send(stanza)).is_ok(),
        None => false,
    }
}

/// `<message to=user><participants><to jid=device><enc/></to>…</participants>…</message>`:
/// each addressed device gets its own `<message from=sender-device>` with its `enc`.
/// A device that is offline misses it (the peer keeps no offline queue).
fn route_message(inner: &mut Inner, conn_id: u64, msg: &Node) {
    let Some(sender) = inner.conns.get(&conn_id).and_then(|c| c.jid.clone()) else { return };
    let to = attr(msg, "to").unwrap_or_default();
    let id = attr(msg, "id").unwrap_or_default();
    let push_name = inner
        .devices
        .get(&sender)
        .and_then(|d| inner.phones.get(&d.phone))
        .map(|p| p.push_name.clone())
        .unwrap_or_default();
    // Everything but the per-device envelopes travels with each copy.
    let shared_children: Vec<Node> =
        children(msg).iter().filter(|c| c.tag != "participants" && c.tag != "enc").cloned().collect();
    let mut targets: Vec<(String, Vec<Node>)> = Vec::new();
    if let Some(parts) = child(msg, "participants") {
        for p in children(parts).iter().filter(|p| p.tag == "to") {
            if let Some(jid) = attr(p, "jid") {
                targets.push((jid, children(p).iter().filter(|c| c.tag == "enc").cloned().collect()));
            }
        }
    }
    let direct: Vec<Node> = children(msg).iter().filter(|c| c.tag == "enc").cloned().collect();
    if !direct.is_empty() {
        targets.push((to.clone(), direct));
    }
    for (device, encs) in targets {
        let enc_types: Vec<String> = encs.iter().filter_map(|e| attr(e, "type")).collect();
        let mut attrs = vec![
            ("from", sender.clone()),
            ("id", id.clone()),
            ("type", attr(msg, "type").unwrap_or_else(|| "text".into())),
            ("t", now_secs().to_string()),
            ("notify", push_name.clone()),
        ];
        // A copy for the sender's own other devices names the chat it belongs to.
        if user_of(&device) == user_of(&sender) {
            attrs.push(("recipient", to.clone()));
        }
        let mut kids = encs;
        kids.extend(shared_children.iter().cloned());
        let delivered =
            Node { tag: "message".into(), attrs: Default::default(), content: Some(NodeContent::Nodes(kids)) };
        let mut delivered = delivered;
        for (k, v) in attrs {
            delivered.attrs.insert(k, v);
        }
        send_to_device(inner, &device, delivered);
        inner.record(Record::Routed {
            conn: conn_id,
            from: sender.clone(),
            to: device,
            id: id.clone(),
            enc: enc_types,
        });
    }
}

/// A receipt from a recipient device goes to every online device of the sender.
fn route_receipt(inner: &mut Inner, conn_id: u64, receipt: &Node) {
    let Some(from) = inner.conns.get(&conn_id).and_then(|c| c.jid.clone()) else { return };
    let Some(to) = attr(receipt, "to") else { return };
    let id = attr(receipt, "id").unwrap_or_default();
    let receipt_type = attr(receipt, "type").unwrap_or_default();
    let number = user_of(&to).to_owned();
    let devices: Vec<String> = inner.devices.values().filter(|d| d.phone == number).map(|d| d.jid.clone()).collect();
    for device in devices {
        let mut out = receipt.clone();
        out.attrs = Default::default();
        out.attrs.insert("from", from.clone());
        out.attrs.insert("id", id.clone());
        out.attrs.insert("t", now_secs().to_string());
        if !receipt_type.is_empty() {
            out.attrs.insert("type", receipt_type.clone());
        }
        if send_to_device(inner, &device, out) {
            inner.record(Record::ReceiptRouted {
                conn: conn_id,
                from: from.clone(),
                to: device,
                id: id.clone(),
                receipt_type: receipt_type.clone(),
            });
        }
    }
}
