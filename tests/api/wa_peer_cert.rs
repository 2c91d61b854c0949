//! Certificate checks: only test builds skip whatsapp-rust's Noise certificate-chain
//! verification, and such a build stays on loopback.

use std::process::Command;

use serde_json::json;
use wahub_tests::spawn_app_with;

/// The features `cargo tree` resolves for wacore-noise when building `package` alone.
fn wacore_noise_features(package: &str) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "--locked",
            "-p",
            package,
            "-e",
            "features",
            "-i",
            "wacore-noise",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The wahub a user builds (`cargo build -p wahub`, default features) verifies the
/// chain against WhatsApp's root key; the wa-peer's self-signed chain would be refused.
/// Only this test crate turns the skip on.
#[test]
fn the_wahub_binary_verifies_the_certificate_chain_and_only_tests_skip_it() {
    let wahub = wacore_noise_features("wahub");
    assert!(wahub.contains("wacore-noise"), "wahub depends on wacore-noise: {wahub}");
    assert!(!wahub.contains("danger-skip-cert-chain-verify"), "wahub must verify certificates:\n{wahub}");
    let tests = wacore_noise_features("wahub-tests");
    assert!(tests.contains("danger-skip-cert-chain-verify"), "the test build skips it:\n{tests}");
}

/// With the skip compiled in, a whatsapp session aimed anywhere but loopback (here:
/// WhatsApp's own server, the default) fails at once, without any network traffic.
#[tokio::test]
async fn a_build_that_skips_the_check_refuses_a_non_loopback_server() {
    let app = spawn_app_with(|s| {
        s.sessions.engine = wahub::domain::EngineKind::Whatsapp;
        s.sessions.reconnect_base_ms = 20;
        s.sessions.reconnect_max_ms = 50;
        s.sessions.reconnect_max_attempts = 1;
    })
    .await;
    let user = app.register("guard@example.com").await;
    let s = app.create_session(&user, "real", true).await;
    let id = s["id"].as_str().unwrap();
    let failed = app.wait_status(&user, id, "failed").await;
    assert_eq!(failed["socket_open"], false);
    let r = app.post(&format!("/api/v1/sessions/{id}/sim/scan"), &user.token, json!({"phone": "6281234567890"})).await;
    assert_eq!(r.status(), 404);
    app.stop().await;
}
