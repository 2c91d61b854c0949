//! Nodes: every wahub process registers itself in the database and keeps a heartbeat
//! by the database's clock. Today wahub runs one node per database, and a second live
//! node on the same database is refused at start rather than silently splitting the
//! sessions' state between two processes.

mod nats;
mod node_id;
mod registry;

pub use nats::connect as connect_nats;
pub use node_id::resolve_node_id;
pub use registry::{JoinError, NodeRegistry, NodeView};
