//! Webhook endpoints and their deliveries in the database. Every change calls
//! `WebhookOutbox::invalidate`, which caches each user's active endpoints.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, TransactionTrait,
};
use uuid::Uuid;

use super::types::{CreateWebhookRequest, UpdateWebhookRequest};
use super::validate;
use crate::db::crypto::Cipher;
use crate::db::entities::{webhook, webhook_delivery};
use crate::error::Problem;

/// What the webhook endpoints and the dispatcher need.
#[derive(Clone)]
pub struct WebhookService {
    pub db: sea_orm::DatabaseConnection,
    pub cipher: std::sync::Arc<Cipher>,
    pub outbox: super::WebhookOutbox,
    pub settings: std::sync::Arc<crate::config::Settings>,
}

pub const MAX_WEBHOOKS_PER_USER: u64 = 20;

fn aad(id: Uuid) -> Vec<u8> {
    format!("webhook_secret:{id}").into_bytes()
}

/// Secrets are stored sealed with the engine-key cipher, like session credentials.
pub fn seal_secret(cipher: &Cipher, id: Uuid, secret: &str) -> String {
    B64.encode(cipher.encrypt(secret.as_bytes(), &aad(id)))
}

pub fn open_secret(cipher: &Cipher, row: &webhook::Model) -> Option<Vec<u8>> {
    let sealed = B64.decode(&row.secret).ok()?;
    cipher.decrypt(&sealed, &aad(row.id))
}

fn events_json(events: &[String]) -> String {
    serde_json::Value::from(events.to_vec()).to_string()
}

pub async fn create(
    svc: &WebhookService,
    user_id: Uuid,
    req: CreateWebhookRequest,
) -> Result<(webhook::Model, String), Problem> {
    let url = validate::url(&req.url)?;
    crate::net::public_target(crate::net::TargetPolicy::from_settings(&svc.settings), &url).await?;
    let events = match &req.events {
        Some(list) => validate::events(list)?,
        None => vec!["*".to_owned()],
    };
    let secret = match &req.secret {
        Some(s) => validate::secret(s)?,
        None => super::sign::new_secret(),
    };
    let count = webhook::Entity::find().filter(webhook::Column::UserId.eq(user_id)).count(&svc.db).await?;
    if count >= MAX_WEBHOOKS_PER_USER {
        return Err(Problem::conflict(
            "webhook_limit_reached",
            format!("At most {MAX_WEBHOOKS_PER_USER} webhooks per user."),
        ));
    }
    let id = Uuid::new_v4();
    let txn = svc.db.begin().await?;
    let row = webhook::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        url: Set(url),
        events: Set(events_json(&events)),
        secret: Set(seal_secret(&svc.cipher, id, &secret)),
        active: Set(true),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    crate::events::bump_webhooks_gen(&txn, user_id).await?;
    txn.commit().await?;
    svc.outbox.invalidate(user_id);
    Ok((row, secret))
}

pub async fn list(svc: &WebhookService, user_id: Uuid) -> Result<Vec<webhook::Model>, Problem> {
    Ok(webhook::Entity::find()
        .filter(webhook::Column::UserId.eq(user_id))
        .order_by_asc(webhook::Column::CreatedAt)
        .order_by_asc(webhook::Column::Id)
        .all(&svc.db)
        .await?)
}

/// The caller's webhook, or 404 (also for another user's: existence is not revealed).
pub async fn find_owned(svc: &WebhookService, user_id: Uuid, id: Uuid) -> Result<webhook::Model, Problem> {
    webhook::Entity::find_by_id(id)
        .filter(webhook::Column::UserId.eq(user_id))
        .one(&svc.db)
        .await?
        .ok_or_else(|| Problem::not_found("No such webhook."))
}

pub async fn update(
    svc: &WebhookService,
    user_id: Uuid,
    id: Uuid,
    req: UpdateWebhookRequest,
) -> Result<webhook::Model, Problem> {
    let row = find_owned(svc, user_id, id).await?;
    let url = req.url.as_deref().map(|u| validate::url(u)).transpose()?;
    if let Some(url) = &url {
        crate::net::public_target(crate::net::TargetPolicy::from_settings(&svc.settings), url).await?;
    }
    let events = req.events.as_deref().map(validate::events).transpose()?;
    let secret = req.secret.as_deref().map(|s| validate::secret(s)).transpose()?;
    let mut active = row.into_active_model();
    if let Some(url) = url {
        active.url = Set(url);
    }
    if let Some(events) = events {
        active.events = Set(events_json(&events));
    }
    if let Some(secret) = secret {
        active.secret = Set(seal_secret(&svc.cipher, id, &secret));
    }
    if let Some(on) = req.active {
        active.active = Set(on);
    }
    let txn = svc.db.begin().await?;
    let row = active.update(&txn).await?;
    crate::events::bump_webhooks_gen(&txn, user_id).await?;
    txn.commit().await?;
    svc.outbox.invalidate(user_id);
    Ok(row)
}

/// Deletes the endpoint; its deliveries go with it (foreign key cascade).
pub async fn delete(svc: &WebhookService, user_id: Uuid, id: Uuid) -> Result<(), Problem> {
    find_owned(svc, user_id, id).await?;
    let txn = svc.db.begin().await?;
    webhook_delivery::Entity::delete_many().filter(webhook_delivery::Column::WebhookId.eq(id)).exec(&txn).await?;
    webhook::Entity::delete_by_id(id).exec(&txn).await?;
    crate::events::bump_webhooks_gen(&txn, user_id).await?;
    txn.commit().await?;
    svc.outbox.invalidate(user_id);
    Ok(())
}

pub async fn deliveries(
    svc: &WebhookService,
    user_id: Uuid,
    id: Uuid,
    limit: u64,
) -> Result<Vec<webhook_delivery::Model>, Problem> {
    find_owned(svc, user_id, id).await?;
    Ok(webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::WebhookId.eq(id))
        .order_by_desc(webhook_delivery::Column::CreatedAt)
        .order_by_desc(webhook_delivery::Column::Id)
        .limit(limit)
        .all(&svc.db)
        .await?)
}

/// Queues the payload of a past delivery again, as a new delivery with a new id (the
/// old one stays in the log as it ended). Receivers deduplicating by
/// `X-Wahub-Delivery` therefore accept it: a redelivery is asked for on purpose.
pub async fn redeliver(
    svc: &WebhookService,
    user_id: Uuid,
    id: Uuid,
    delivery_id: Uuid,
) -> Result<webhook_delivery::Model, Problem> {
    find_owned(svc, user_id, id).await?;
    let old = webhook_delivery::Entity::find_by_id(delivery_id)
        .filter(webhook_delivery::Column::WebhookId.eq(id))
        .one(&svc.db)
        .await?
        .ok_or_else(|| Problem::not_found("No such delivery."))?;
    let now = Utc::now();
    Ok(super::outbox::new_delivery(old.webhook_id, old.user_id, old.event, old.payload, now).insert(&svc.db).await?)
}
