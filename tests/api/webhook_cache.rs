//! Which endpoints an event goes to: unreadable subscriptions fail closed, and the cache
//! of subscriptions never outlives a change.

use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use wahub::db::entities::webhook;
use wahub_tests::{spawn_app, Receiver};

#[tokio::test]
async fn malformed_stored_events_subscribe_to_nothing() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let healthy = Receiver::start().await;
    let broken = Receiver::start().await;
    app.create_webhook(&user, &healthy.url, json!(["*"])).await;
    let bad = app.create_webhook(&user, &broken.url, json!(["*"])).await;
    // A row damaged outside the API: its event list is not JSON.
    webhook::Entity::update_many()
        .col_expr(webhook::Column::Events, Expr::value("{not json"))
        .filter(webhook::Column::Id.eq(bad.parse::<uuid::Uuid>().expect("uuid")))
        .exec(&app.state.db)
        .await
        .expect("damage the row");
    app.state.webhooks.outbox.invalidate(user.id.parse().expect("user id"));
    let s = app.create_session(&user, "main", false).await;
    let sid = s["id"].as_str().expect("id");
    app.rename_session(&user, sid, "renamed").await;
    let seen = healthy.wait_for(2, 10).await;
    assert!(seen.iter().any(|r| r.json()["event"] == "session.updated"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(broken.requests().is_empty(), "an unreadable subscription must not mean 'everything'");
    app.stop().await;
}

/// Subscriptions change while events are being published (on PostgreSQL publishes and
/// webhook changes run at the same time); after the last change only it counts.
#[tokio::test]
async fn the_last_subscription_change_wins_under_concurrent_publishes() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let receiver = Receiver::start().await;
    let h = app.create_webhook(&user, &receiver.url, json!(["session.updated"])).await;
    let s = app.create_session(&user, "main", false).await;
    let sid = s["id"].as_str().expect("id").to_owned();
    for round in 0..40 {
        let events = if round % 2 == 0 { json!(["session.deleted"]) } else { json!(["session.updated"]) };
        let change = async {
            let r = app
                .request(reqwest::Method::PATCH, &format!("/api/v1/webhooks/{h}"), Some(&user.token))
                .json(&json!({ "events": events }))
                .send()
                .await
                .expect("PATCH");
            assert_eq!(r.status(), 200);
        };
        let publishes = async {
            for i in 0..3 {
                app.rename_session(&user, &sid, &format!("n{round}x{i}")).await;
            }
        };
        tokio::join!(change, publishes);
    }
    // The last change (round 39) subscribed to session.updated; now unsubscribe and check.
    let r = app
        .request(reqwest::Method::PATCH, &format!("/api/v1/webhooks/{h}"), Some(&user.token))
        .json(&json!({ "events": ["session.deleted"] }))
        .send()
        .await
        .expect("PATCH");
    assert_eq!(r.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = receiver.requests().len();
    for i in 0..5 {
        app.rename_session(&user, &sid, &format!("final{i}")).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let after: Vec<_> = receiver.requests().into_iter().skip(before).collect();
    assert!(after.is_empty(), "{} deliveries after unsubscribing", after.len());
    app.stop().await;
}
