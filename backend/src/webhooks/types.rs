//! Request and response bodies of the webhook endpoints.

use poem_openapi::Object;
use uuid::Uuid;

use crate::db::entities::{webhook, webhook_delivery};
use crate::domain::Text;

#[derive(Debug, Object)]
pub struct CreateWebhookRequest {
    /// An http(s) URL that receives a POST per event.
    pub url: Text,
    /// Event names (`message.received`), prefixes (`session.*`) or `*`. Default `["*"]`.
    pub events: Option<Vec<Text>>,
    /// The signing secret (16 to 256 characters); generated as `whsec_<base64>` when omitted.
    /// Keys `webhook-signature` (Standard Webhooks) and `X-Wahub-Signature`.
    pub secret: Option<Text>,
}

#[derive(Debug, Object)]
pub struct UpdateWebhookRequest {
    pub url: Option<Text>,
    pub events: Option<Vec<Text>>,
    pub active: Option<bool>,
    /// A new signing secret (16 to 256 characters).
    pub secret: Option<Text>,
}

#[derive(Debug, Object)]
#[oai(rename = "Webhook")]
pub struct WebhookOut {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: crate::domain::Timestamp,
}

impl From<webhook::Model> for WebhookOut {
    fn from(w: webhook::Model) -> Self {
        Self {
            id: w.id,
            url: w.url,
            events: serde_json::from_str(&w.events).unwrap_or_default(),
            active: w.active,
            created_at: w.created_at.into(),
        }
    }
}

/// The endpoint as created, with its signing secret: the only time it is shown.
#[derive(Debug, Object)]
pub struct CreatedWebhook {
    #[oai(flatten)]
    pub webhook: WebhookOut,
    pub secret: String,
}

#[derive(Debug, Object)]
#[oai(rename = "WebhookDelivery")]
pub struct DeliveryOut {
    /// Also sent as `X-Wahub-Delivery`; stays the same across retries.
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<crate::domain::Timestamp>,
    pub created_at: crate::domain::Timestamp,
    pub delivered_at: Option<crate::domain::Timestamp>,
    /// The JSON body that is (or was) posted.
    pub payload: serde_json::Value,
}

impl From<webhook_delivery::Model> for DeliveryOut {
    fn from(d: webhook_delivery::Model) -> Self {
        Self {
            id: d.id,
            webhook_id: d.webhook_id,
            event: d.event,
            next_attempt_at: (d.status == "pending").then_some(d.next_attempt_at.into()),
            status: d.status,
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: d.created_at.into(),
            delivered_at: d.delivered_at.map(Into::into),
            payload: serde_json::from_str(&d.payload).unwrap_or(serde_json::Value::Null),
        }
    }
}
