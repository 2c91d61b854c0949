//! Stanzas other than IQs from the companion: acks, receipts, presence, messages.

use std::sync::Arc;

use wacore_binary::node::Node;

use crate::nodes::{attr, node};
use crate::server::Shared;
use crate::state::Inner;

pub fn answer(_shared: &Arc<Shared>, _inner: &mut Inner, _conn_id: u64, stanza: &Node) -> Vec<Node> {
    match stanza.tag.as_ref() {
        // The server acks every receipt and message it routes.
        "receipt" | "message" => {
            let mut attrs = vec![("class", stanza.tag.to_string()), ("id", attr(stanza, "id").unwrap_or_default())];
            if let Some(t) = attr(stanza, "type") {
                attrs.push(("type", t));
            }
            if let Some(to) = attr(stanza, "to") {
                attrs.push(("from", to));
            }
            vec![node("ack", &attrs, vec![])]
        }
        _ => vec![],
    }
}
