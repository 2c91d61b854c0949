//! /api/v1/sessions/* and /api/v1/phone/check.

use std::sync::Arc;

use poem::web::RemoteAddr;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json, PlainText};
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use super::ip::client_ip;
use crate::auth::audit::{self, Action, Entry};
use crate::domain::Phone;
use crate::error::Problem;
use crate::http::ApiTags;
use crate::http::AppState;
use crate::http::{parse_name, parse_phone};
use crate::http::{scope, Auth};
use crate::messages::types::HealthOut;
use crate::sessions::machine::Input;
use crate::sessions::service::{self, NewSession};
use crate::sessions::types::*;

pub struct SessionsApi {
    pub state: Arc<AppState>,
}

#[derive(ApiResponse)]
enum CreatedSession {
    #[oai(status = 201)]
    Created(Json<SessionOut>),
}

#[derive(ApiResponse)]
enum Deleted {
    #[oai(status = 204)]
    NoContent,
}

#[derive(ApiResponse)]
enum QrResponse {
    #[oai(status = 200)]
    Json(Json<QrOut>),
    #[oai(status = 200, content_type = "image/svg+xml")]
    Svg(PlainText<String>),
    #[oai(status = 200, content_type = "image/png")]
    Png(Binary<Vec<u8>>),
}

/// The daily message limit per session of this user: the override, else the server default.
pub(super) fn daily_limit(state: &AppState, user: &crate::auth::AuthUser) -> u64 {
    user.daily_message_limit.unwrap_or(state.settings.sessions.daily_message_limit)
}

impl SessionsApi {
    async fn owned(
        &self,
        auth: &Auth<impl scope::Needs>,
        id: Uuid,
    ) -> Result<crate::db::entities::session::Model, Problem> {
        service::find_owned(&self.state.db, auth.id(), id).await
    }

    async fn reload(&self, auth: &Auth<impl scope::Needs>, id: Uuid) -> Result<Json<SessionOut>, Problem> {
        Ok(Json(self.state.sessions.view(self.owned(auth, id).await?).await?))
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Sessions")]
impl SessionsApi {
    /// List sessions
    ///
    /// The caller's sessions.
    #[oai(path = "/sessions", method = "get", operation_id = "listSessions")]
    async fn list(&self, auth: Auth<scope::Read>) -> Result<Json<Vec<SessionOut>>, Problem> {
        let rows = service::list(&self.state.db, auth.id()).await?;
        Ok(Json(self.state.sessions.views(rows).await?))
    }

    /// Create a session
    ///
    /// Create a session; it starts pairing right away unless `start` is false.
    #[oai(path = "/sessions", method = "post", operation_id = "createSession")]
    async fn create(
        &self,
        auth: Auth<scope::Control>,
        body: Json<CreateSessionRequest>,
    ) -> Result<CreatedSession, Problem> {
        let name = parse_name(&body.name)?;
        let phone = body.phone.as_deref().filter(|p| !p.trim().is_empty()).map(|p| parse_phone(p)).transpose()?;
        let in_use = match &phone {
            Some(p) => self.state.sessions.phone_in_use(p).await?,
            None => false,
        };
        let row = {
            let _guard = self.state.create_lock.lock().await;
            service::create(
                &self.state.db,
                &self.state.events,
                auth.id(),
                NewSession { name, phone, engine: self.state.engine_kind.as_str() },
                auth.user().max_sessions.unwrap_or(self.state.settings.sessions.max_sessions_per_user),
                in_use,
            )
            .await?
        };
        if body.start.unwrap_or(true) {
            self.state.sessions.start(&row, false).await?;
        }
        Ok(CreatedSession::Created(self.reload(&auth, row.id).await?))
    }

    /// Get a session
    ///
    /// One of the caller's sessions.
    #[oai(path = "/sessions/:id", method = "get", operation_id = "getSession")]
    async fn get(&self, auth: Auth<scope::Read>, id: Path<Uuid>) -> Result<Json<SessionOut>, Problem> {
        self.reload(&auth, id.0).await
    }

    /// Rename a session
    ///
    /// Give a session a new name (unique per user).
    #[oai(path = "/sessions/:id", method = "patch", operation_id = "renameSession")]
    async fn rename(
        &self,
        auth: Auth<scope::Control>,
        id: Path<Uuid>,
        body: Json<RenameSessionRequest>,
    ) -> Result<Json<SessionOut>, Problem> {
        let row = self.owned(&auth, id.0).await?;
        let name = parse_name(&body.name)?;
        let row = service::rename(&self.state.db, &self.state.events, row, name).await?;
        Ok(Json(self.state.sessions.view(row).await?))
    }

    /// Delete a session
    ///
    /// Delete a session: logs the device out and wipes its credentials.
    #[oai(path = "/sessions/:id", method = "delete", operation_id = "deleteSession")]
    async fn delete(&self, auth: Auth<scope::Control>, addr: &RemoteAddr, id: Path<Uuid>) -> Result<Deleted, Problem> {
        let row = self.owned(&auth, id.0).await?;
        self.state.sessions.delete(&row).await?;
        service::delete(&self.state.db, &self.state.events, &row).await?;
        let entry =
            Entry::new(Action::SessionDeleted, Some(auth.id()), Some(client_ip(addr))).target("session", row.id);
        audit::record(&self.state.db, entry.detail(serde_json::json!({ "name": row.name }))).await;
        Ok(Deleted::NoContent)
    }

    /// Start a session
    ///
    /// Start (or keep) pairing or connecting. Concurrent starts share one QR. The body is optional;
    /// `force_relink: true` drops the stored credentials and pairs anew.
    #[oai(path = "/sessions/:id/start", method = "post", operation_id = "startSession")]
    async fn start(
        &self,
        auth: Auth<scope::Control>,
        id: Path<Uuid>,
        body: poem::Body,
    ) -> Result<Json<SessionOut>, Problem> {
        let row = self.owned(&auth, id.0).await?;
        let force = crate::http::optional_json::<StartRequest>(body, 1024).await?.force_relink.unwrap_or(false);
        self.state.sessions.start(&row, force).await?;
        self.reload(&auth, id.0).await
    }

    /// Stop a session
    ///
    /// Stop the session, keeping its credentials.
    #[oai(path = "/sessions/:id/stop", method = "post", operation_id = "stopSession")]
    async fn stop(&self, auth: Auth<scope::Control>, id: Path<Uuid>) -> Result<Json<SessionOut>, Problem> {
        let row = self.owned(&auth, id.0).await?;
        self.state.sessions.apply(&row, Input::Stop).await?;
        self.reload(&auth, id.0).await
    }

    /// Log out a session
    ///
    /// Unlink the device and wipe its credentials.
    #[oai(path = "/sessions/:id/logout", method = "post", operation_id = "logoutSession")]
    async fn logout(&self, auth: Auth<scope::Control>, id: Path<Uuid>) -> Result<Json<SessionOut>, Problem> {
        let row = self.owned(&auth, id.0).await?;
        self.state.sessions.apply(&row, Input::Logout).await?;
        self.reload(&auth, id.0).await
    }

    /// The QR code on offer
    ///
    /// The QR code on offer as JSON (default), SVG or PNG (`format`). 404 `no_qr` when none is on offer.
    #[oai(path = "/sessions/:id/qr", method = "get", operation_id = "getSessionQr")]
    async fn qr(
        &self,
        auth: Auth<scope::Read>,
        id: Path<Uuid>,
        format: Query<Option<QrFormat>>,
    ) -> Result<QrResponse, Problem> {
        let row = self.owned(&auth, id.0).await?;
        let qr = self
            .state
            .sessions
            .qrs_anywhere(std::slice::from_ref(&row))
            .await?
            .remove(&row.id)
            .ok_or_else(|| Problem::not_found("No QR code is on offer for this session.").with_code("no_qr"))?;
        Ok(match format.0.unwrap_or(QrFormat::Json) {
            QrFormat::Json => QrResponse::Json(Json(qr)),
            QrFormat::Svg => QrResponse::Svg(PlainText(
                crate::sessions::qr_render::svg(&qr.value).ok_or_else(|| Problem::internal("qr svg render failed"))?,
            )),
            QrFormat::Png => QrResponse::Png(Binary(
                crate::sessions::qr_render::png(&qr.value).ok_or_else(|| Problem::internal("qr png render failed"))?,
            )),
        })
    }

    /// Link by phone number
    ///
    /// Get a code to type into WhatsApp instead of scanning a QR.
    #[oai(path = "/sessions/:id/pair-code", method = "post", operation_id = "requestPairCode")]
    async fn pair_code(
        &self,
        auth: Auth<scope::Control>,
        id: Path<Uuid>,
        body: Json<PairCodeRequest>,
    ) -> Result<Json<PairCodeOut>, Problem> {
        let row = self.owned(&auth, id.0).await?;
        let phone = parse_phone(&body.phone)?;
        if self.state.sessions.phone_in_use(&phone).await? && row.phone.as_deref() != Some(phone.as_str()) {
            return Err(Problem::conflict("phone_in_use", "This phone number is already linked to an active session."));
        }
        Ok(Json(self.state.sessions.pair_code(&row, phone).await?))
    }

    /// Make a session primary
    ///
    /// Make this the primary session; sends without `session_id` use it.
    #[oai(path = "/sessions/:id/primary", method = "post", operation_id = "setPrimarySession")]
    async fn primary(&self, auth: Auth<scope::Control>, id: Path<Uuid>) -> Result<Json<SessionOut>, Problem> {
        let row = self.owned(&auth, id.0).await?;
        let row = service::set_primary(&self.state.db, &self.state.events, row).await?;
        Ok(Json(self.state.sessions.view(row).await?))
    }

    /// Session health
    ///
    /// Message counts of today (UTC) against the daily limit.
    #[oai(path = "/sessions/:id/health", method = "get", operation_id = "getSessionHealth")]
    async fn health(&self, auth: Auth<scope::Read>, id: Path<Uuid>) -> Result<Json<HealthOut>, Problem> {
        let row = self.owned(&auth, id.0).await?;
        Ok(Json(crate::messages::health::health(&self.state.db, daily_limit(&self.state, auth.user()), &row).await?))
    }

    /// Check a phone number
    ///
    /// Validate a phone number and tell whether an active session uses it.
    #[oai(path = "/phone/check", method = "post", operation_id = "checkPhone")]
    async fn phone_check(
        &self,
        _auth: Auth<scope::Read>,
        body: Json<PhoneRequest>,
    ) -> Result<Json<PhoneCheckOut>, Problem> {
        match Phone::parse(&body.phone) {
            Ok(phone) => {
                let in_use = self.state.sessions.phone_in_use(&phone).await?;
                Ok(Json(PhoneCheckOut { phone: phone.as_str().to_owned(), valid: true, in_use }))
            }
            Err(_) => Ok(Json(PhoneCheckOut { phone: body.phone.0.clone(), valid: false, in_use: false })),
        }
    }
}
