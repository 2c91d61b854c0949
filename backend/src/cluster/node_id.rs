//! A node's name: configured, or generated once as `<hostname>-<random>` and kept in
//! the data directory, so a restarted process is the same node (its own old heartbeat
//! does not count as another live node after a crash).

use std::path::Path;

use rand::distributions::Alphanumeric;
use rand::Rng;

const FILE: &str = "node_id";

pub fn resolve_node_id(configured: Option<&str>, data_dir: &Path) -> String {
    if let Some(id) = configured.map(str::trim).filter(|id| !id.is_empty()) {
        return id.to_owned();
    }
    let path = data_dir.join(FILE);
    if let Some(stored) = std::fs::read_to_string(&path).ok().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        return stored;
    }
    let id = generate();
    // Without a writable data dir the id only lives as long as the process.
    if std::fs::create_dir_all(data_dir).and_then(|()| crate::db::files::write_private(&path, &id)).is_err() {
        tracing::warn!(path = %path.display(), "cannot keep the node id; a restart will register as a new node");
    }
    id
}

fn generate() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(48).collect::<String>())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "wahub".to_owned());
    let suffix: String = rand::thread_rng().sample_iter(&Alphanumeric).take(6).map(char::from).collect();
    format!("{host}-{}", suffix.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_wins_then_the_stored_id_is_kept() {
        let dir = std::env::temp_dir().join(format!("wahub_node_id_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(resolve_node_id(Some(" n1 "), &dir), "n1");
        let first = resolve_node_id(None, &dir);
        assert!(first.len() > 7 && first.contains('-'), "{first}");
        assert_eq!(resolve_node_id(None, &dir), first, "the same data dir is the same node");
        assert_eq!(resolve_node_id(Some(""), &dir), first, "an empty setting counts as unset");
        let _ = std::fs::remove_dir_all(dir);
    }
}
