//! The container files in the repository say what the code does: the image runs as uid
//! 10001 and is health-checked with `wahub healthcheck`, and the compose files set only
//! settings wahub reads. (No Docker daemon runs here; `serve_binary.rs` runs the
//! healthcheck itself against the real binary.)

use std::collections::BTreeSet;
use std::path::Path;

/// Settings the cluster work adds on its own branch; the compose files already use them.
const CLUSTER_SETTINGS: &[&str] = &["nats_url"];

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn known_settings() -> BTreeSet<String> {
    let json = serde_json::to_value(wahub::config::Settings::default()).expect("settings serialize");
    let mut keys: BTreeSet<String> = json.as_object().expect("flat settings").keys().cloned().collect();
    keys.extend(CLUSTER_SETTINGS.iter().map(|k| k.to_string()));
    keys
}

/// Every `WAHUB_<KEY>` a file sets, as lower-case keys.
fn wahub_vars(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
        let mut rest = line;
        while let Some(at) = rest.find("WAHUB_") {
            let tail = &rest[at + "WAHUB_".len()..];
            let end =
                tail.find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')).unwrap_or(tail.len());
            out.insert(tail[..end].to_ascii_lowercase());
            rest = &tail[end..];
        }
    }
    out
}

#[test]
fn the_image_runs_unprivileged_with_a_real_healthcheck() {
    let dockerfile = read("Dockerfile");
    let runtime = dockerfile.rsplit("FROM ").next().expect("a runtime stage");
    assert!(runtime.contains("useradd --system --uid 10001"), "{runtime}");
    assert!(runtime.lines().any(|l| l.trim() == "USER 10001:10001"), "the runtime stage runs as uid 10001");
    let healthcheck = runtime.lines().find(|l| l.starts_with("HEALTHCHECK")).expect("a HEALTHCHECK");
    assert!(healthcheck.ends_with(r#"CMD ["wahub", "healthcheck"]"#), "{healthcheck}");
    for key in wahub_vars(runtime) {
        assert!(
            known_settings().contains(&key),
            "the Dockerfile sets WAHUB_{} which is no setting",
            key.to_uppercase()
        );
    }
}

#[test]
fn compose_files_set_only_known_settings() {
    let known = known_settings();
    for file in ["docs/deploy/docker-compose.single.yml", "docs/deploy/docker-compose.cluster.yml"] {
        let text = read(file);
        assert!(text.contains(r#"test: ["CMD", "wahub", "healthcheck"]"#), "{file}");
        for key in wahub_vars(&text) {
            assert!(known.contains(&key), "{file} sets WAHUB_{} which is no setting", key.to_uppercase());
        }
    }
    let cluster = read("docs/deploy/docker-compose.cluster.yml");
    let nodes: BTreeSet<&str> = cluster.lines().filter_map(|l| l.trim().strip_prefix("WAHUB_NODE_ID: ")).collect();
    assert_eq!(nodes.len(), 3, "three nodes with their own node_id: {nodes:?}");
    for needle in [
        "WAHUB_DATABASE_URL: postgres://",
        "WAHUB_NATS_URL: nats://",
        "image: postgres:",
        "image: nats:",
        "--jetstream",
    ] {
        assert!(cluster.contains(needle), "the cluster file has {needle}");
    }
}
