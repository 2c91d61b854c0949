//! Where committed events go. The log calls one `deliver` per committed event; what
//! delivery means (this process's sockets, a message bus, both) is the implementor's.

use std::sync::Arc;

use super::Event;

pub trait Fanout: Send + Sync + 'static {
    /// Called once for each event after its transaction committed, each user's events in
    /// sequence order, and never for an event that was not stored. Must not block.
    fn deliver(&self, ev: &Arc<Event>);
}
