//! Exactly one primary session survives any mix of concurrent deletes and set-primary calls.

use serde_json::{json, Value};
use wahub::db::entities::session;
use wahub::sessions::service;
use wahub_tests::{json_of, spawn_app, TestApp, TestUser};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

async fn primaries(app: &TestApp, user: &TestUser) -> Vec<String> {
    let list = json_of(app.get("/api/v1/sessions", &user.token).await, 200).await;
    list.as_array().expect("array").iter().filter(|s| s["is_primary"] == true).map(id).collect()
}

async fn row(app: &TestApp, user: &TestUser, id: &str) -> session::Model {
    let user_id = user.id.parse().expect("user id");
    service::find_owned(&app.state.db, user_id, id.parse().expect("session id")).await.expect("owned row")
}

/// The interleavings the race produces, played in a fixed order.
#[tokio::test]
async fn a_stale_view_of_the_primary_flag_never_leaves_zero_primaries() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let a = id(&app.create_session(&user, "a", false).await);
    let b = id(&app.create_session(&user, "b", false).await);
    let c = id(&app.create_session(&user, "c", false).await);

    // Delete read `b` as not primary; a set-primary on `b` commits before the delete runs.
    let stale_b = row(&app, &user, &b).await;
    json_of(app.post(&format!("/api/v1/sessions/{b}/primary"), &user.token, json!({})).await, 200).await;
    service::delete(&app.state.db, &app.state.events, &stale_b).await.expect("delete");
    assert_eq!(primaries(&app, &user).await, vec![a.clone()], "the oldest remaining session is promoted");

    // Set-primary read `c`; the delete of `c` commits before the swap runs.
    let stale_c = row(&app, &user, &c).await;
    assert_eq!(app.delete(&format!("/api/v1/sessions/{c}"), &user.token).await.status(), 204);
    let swapped = service::set_primary(&app.state.db, &app.state.events, stale_c).await;
    assert!(swapped.is_err(), "making a deleted session primary must fail, not demote the primary");
    assert_eq!(primaries(&app, &user).await, vec![a], "the primary was kept");
    app.stop().await;
}

#[tokio::test]
async fn concurrent_deletes_of_the_primary_and_set_primary_keep_exactly_one() {
    let app = spawn_app_with_limit().await;
    let user = app.register("a@example.com").await;
    for round in 0..6 {
        let mut ids = Vec::new();
        for i in 0..6 {
            ids.push(id(&app.create_session(&user, &format!("r{round}s{i}"), false).await));
        }
        let current = primaries(&app, &user).await;
        assert_eq!(current.len(), 1, "round {round} starts with one primary");
        // Delete the primary and half of the others while every session is made primary.
        let mut doomed: Vec<String> = ids.iter().step_by(2).cloned().collect();
        doomed.push(current[0].clone());
        let delete_paths: Vec<String> = doomed.iter().map(|s| format!("/api/v1/sessions/{s}")).collect();
        let set_paths: Vec<String> =
            ids.iter().chain(current.iter()).map(|s| format!("/api/v1/sessions/{s}/primary")).collect();
        let deletes = delete_paths.iter().map(|p| app.delete(p, &user.token));
        let sets = set_paths.iter().map(|p| app.post(p, &user.token, json!({})));
        let (deleted, set) =
            tokio::join!(futures_util::future::join_all(deletes), futures_util::future::join_all(sets));
        for r in deleted {
            assert!(matches!(r.status().as_u16(), 204 | 404), "delete answered {}", r.status());
        }
        for r in set {
            assert!(matches!(r.status().as_u16(), 200 | 404), "set-primary answered {}", r.status());
        }
        assert_eq!(primaries(&app, &user).await.len(), 1, "round {round} ends with exactly one primary");
    }
    app.stop().await;
}

async fn spawn_app_with_limit() -> TestApp {
    wahub_tests::spawn_app_with(|s| s.sessions.max_sessions_per_user = 100).await
}
