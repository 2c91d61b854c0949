//! Small helpers over wacore-binary nodes: reading attributes and children, and
//! building the stanzas the server sends.

use wacore_binary::builder::NodeBuilder;
use wacore_binary::node::{Node, NodeContent};

pub const SERVER: &str = "s.whatsapp.net";

pub fn attr(node: &Node, key: &str) -> Option<String> {
    node.attrs.get(key).map(|v| v.as_str().into_owned())
}

pub fn children(node: &Node) -> &[Node] {
    node.children().unwrap_or(&[])
}

pub fn child<'a>(node: &'a Node, tag: &str) -> Option<&'a Node> {
    children(node).iter().find(|c| c.tag == tag)
}

pub fn bytes(node: &Node) -> Option<&[u8]> {
    match &node.content {
        Some(NodeContent::Bytes(b)) => Some(b),
        _ => None,
    }
}

/// The content as text (bytes decoded as UTF-8, or a string node).
pub fn text(node: &Node) -> Option<String> {
    match &node.content {
        Some(NodeContent::Bytes(b)) => String::from_utf8(b.clone()).ok(),
        Some(NodeContent::String(s)) => Some(s.to_string()),
        _ => None,
    }
}

/// `<iq type="result" id=.. from="s.whatsapp.net">children</iq>` answering `request`.
pub fn iq_result(request: &Node, content: Vec<Node>) -> Node {
    let mut b = NodeBuilder::new("iq")
        .attr("type", "result")
        .attr("id", attr(request, "id").unwrap_or_default())
        .attr("from", attr(request, "to").unwrap_or_else(|| SERVER.to_owned()));
    if !content.is_empty() {
        b = b.children(content);
    }
    b.build()
}

/// `<iq type="error"><error code text/></iq>` answering `request`.
pub fn iq_error(request: &Node, code: u16, text: &str) -> Node {
    NodeBuilder::new("iq")
        .attr("type", "error")
        .attr("id", attr(request, "id").unwrap_or_default())
        .attr("from", attr(request, "to").unwrap_or_else(|| SERVER.to_owned()))
        .children([NodeBuilder::new("error").attr("code", code.to_string()).attr("text", text).build()])
        .build()
}

pub fn node(tag: &'static str, attrs: &[(&'static str, String)], content: Vec<Node>) -> Node {
    let mut b = NodeBuilder::new(tag);
    for (k, v) in attrs {
        b = b.attr(k, v.clone());
    }
    if !content.is_empty() {
        b = b.children(content);
    }
    b.build()
}

pub fn bytes_node(tag: &'static str, attrs: &[(&'static str, String)], content: Vec<u8>) -> Node {
    let mut b = NodeBuilder::new(tag);
    for (k, v) in attrs {
        b = b.attr(k, v.clone());
    }
    b.bytes(content).build()
}

/// A compact one-line rendering for logs and records.
pub fn describe(node: &Node) -> String {
    let mut s = format!("<{}", node.tag);
    for (k, v) in node.attrs.iter() {
        s.push_str(&format!(" {k}={v}"));
    }
    match &node.content {
        Some(NodeContent::Nodes(kids)) => {
            s.push('>');
            for k in kids {
                s.push_str(&describe(k));
            }
            s.push_str(&format!("</{}>", node.tag));
        }
        Some(NodeContent::Bytes(b)) => s.push_str(&format!(">[{} bytes]</{}>", b.len(), node.tag)),
        Some(NodeContent::String(t)) => s.push_str(&format!(">{t}</{}>", node.tag)),
        None => s.push_str("/>"),
    }
    s
}
