//! /api/v1/webhooks

use std::sync::Arc;

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use crate::error::Problem;
use crate::http::ApiTags;
use crate::http::AppState;
use crate::http::{scope, Auth};
use crate::webhooks::service;
use crate::webhooks::types::*;

pub struct WebhooksApi {
    pub state: Arc<AppState>,
}

#[derive(ApiResponse)]
enum Created {
    #[oai(status = 201)]
    Created(Json<CreatedWebhook>),
}

#[derive(ApiResponse)]
enum Deleted {
    #[oai(status = 204)]
    NoContent,
}

#[derive(ApiResponse)]
enum Queued {
    #[oai(status = 202)]
    Accepted(Json<DeliveryOut>),
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Webhooks")]
impl WebhooksApi {
    /// Register a webhook
    ///
    /// Register an endpoint. Every matching event is POSTed to it, signed (see docs/webhooks.md). The secret
    /// (generated when omitted) is returned only in this response.
    #[oai(path = "/webhooks", method = "post", operation_id = "createWebhook")]
    async fn create(&self, auth: Auth<scope::Control>, body: Json<CreateWebhookRequest>) -> Result<Created, Problem> {
        let (row, secret) = service::create(&self.state.webhooks, auth.id(), body.0).await?;
        Ok(Created::Created(Json(CreatedWebhook { webhook: row.into(), secret })))
    }

    /// List webhooks
    ///
    /// The caller's webhooks (secrets are never listed).
    #[oai(path = "/webhooks", method = "get", operation_id = "listWebhooks")]
    async fn list(&self, auth: Auth<scope::Read>) -> Result<Json<Vec<WebhookOut>>, Problem> {
        let rows = service::list(&self.state.webhooks, auth.id()).await?;
        Ok(Json(rows.into_iter().map(Into::into).collect()))
    }

    /// Get a webhook
    ///
    /// One of the caller's webhooks (without its secret).
    #[oai(path = "/webhooks/:id", method = "get", operation_id = "getWebhook")]
    async fn get(&self, auth: Auth<scope::Read>, id: Path<Uuid>) -> Result<Json<WebhookOut>, Problem> {
        Ok(Json(service::find_owned(&self.state.webhooks, auth.id(), id.0).await?.into()))
    }

    /// Update a webhook
    ///
    /// Change the URL, the events, the secret, or pause it (`active: false`).
    #[oai(path = "/webhooks/:id", method = "patch", operation_id = "updateWebhook")]
    async fn update(
        &self,
        auth: Auth<scope::Control>,
        id: Path<Uuid>,
        body: Json<UpdateWebhookRequest>,
    ) -> Result<Json<WebhookOut>, Problem> {
        Ok(Json(service::update(&self.state.webhooks, auth.id(), id.0, body.0).await?.into()))
    }

    /// Delete a webhook
    ///
    /// Delete the endpoint and its delivery log; pending deliveries are dropped.
    #[oai(path = "/webhooks/:id", method = "delete", operation_id = "deleteWebhook")]
    async fn delete(&self, auth: Auth<scope::Control>, id: Path<Uuid>) -> Result<Deleted, Problem> {
        service::delete(&self.state.webhooks, auth.id(), id.0).await?;
        Ok(Deleted::NoContent)
    }

    /// List deliveries
    ///
    /// The webhook's delivery log, newest first.
    #[oai(path = "/webhooks/:id/deliveries", method = "get", operation_id = "listDeliveries")]
    async fn deliveries(
        &self,
        auth: Auth<scope::Read>,
        id: Path<Uuid>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] limit: Query<Option<u64>>,
    ) -> Result<Json<Vec<DeliveryOut>>, Problem> {
        let rows = service::deliveries(&self.state.webhooks, auth.id(), id.0, limit.0.unwrap_or(50)).await?;
        Ok(Json(rows.into_iter().map(Into::into).collect()))
    }

    /// Redeliver
    ///
    /// Send a past delivery's payload again, as a new delivery (new id).
    #[oai(path = "/webhooks/:id/deliveries/:delivery_id/redeliver", method = "post", operation_id = "redeliver")]
    async fn redeliver(
        &self,
        auth: Auth<scope::Control>,
        id: Path<Uuid>,
        delivery_id: Path<Uuid>,
    ) -> Result<Queued, Problem> {
        let row = service::redeliver(&self.state.webhooks, auth.id(), id.0, delivery_id.0).await?;
        Ok(Queued::Accepted(Json(row.into())))
    }
}
