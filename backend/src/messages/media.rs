//! Media for outgoing messages: decoded from base64 or downloaded from a user-given URL
//! with one shared client that refuses internal targets (`net`), follows no redirects,
//! and streams under a hard cap (`max_body_bytes`) instead of buffering whatever the
//! server sends. Once a message is finished its file data is dropped from the row.

use base64::Engine as _;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::types::MediaIn;
use crate::config::Settings;
use crate::db::entities::message;
use crate::engine::OutgoingMedia;
use crate::net::{OutboundOptions, TargetPolicy};

pub struct MediaFetcher {
    client: reqwest::Client,
    policy: TargetPolicy,
    max_bytes: usize,
}

impl MediaFetcher {
    pub fn new(settings: &Settings) -> reqwest::Result<Self> {
        let policy = TargetPolicy::from_settings(settings);
        let client = crate::net::outbound_client(
            policy,
            OutboundOptions {
                timeout: std::time::Duration::from_secs(30),
                connect_timeout: std::time::Duration::from_secs(10),
                user_agent: concat!("wahub-media/", env!("CARGO_PKG_VERSION")),
                proxy: settings.webhooks.outbound_proxy.clone(),
            },
        )?;
        Ok(Self { client, policy, max_bytes: settings.server.max_body_bytes })
    }

    pub async fn load(&self, media: MediaIn) -> Result<OutgoingMedia, String> {
        let data = match (&media.data_base64, &media.url) {
            (Some(b64), _) => base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| "media data is not valid base64".to_owned())?,
            (None, Some(url)) => self.download(url).await?,
            (None, None) => return Err("media needs data_base64 or url".into()),
        };
        Ok(OutgoingMedia {
            mimetype: media.mimetype.0,
            data,
            filename: media.filename.map(String::from),
            caption: media.caption.map(String::from),
        })
    }

    fn too_large(&self) -> String {
        format!("media is larger than {} bytes", self.max_bytes)
    }

    async fn download(&self, raw: &str) -> Result<Vec<u8>, String> {
        let unreachable = || "media url is unreachable".to_owned();
        let url = url::Url::parse(raw).map_err(|_| "media url is not a URL".to_owned())?;
        crate::net::check_literal(self.policy, &url).map_err(|_| unreachable())?;
        let mut resp = self.client.get(url).send().await.map_err(|e| {
            if e.is_timeout() {
                "media download timed out".to_owned()
            } else {
                unreachable()
            }
        })?;
        if !resp.status().is_success() {
            return Err(format!("media download answered HTTP {}", resp.status().as_u16()));
        }
        if resp.content_length().is_some_and(|n| n > self.max_bytes as u64) {
            return Err(self.too_large());
        }
        let mut data = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|_| "media download broke off".to_owned())? {
            if data.len() + chunk.len() > self.max_bytes {
                return Err(self.too_large());
            }
            data.extend_from_slice(&chunk);
        }
        Ok(data)
    }
}

/// Keeps only the media's metadata once the message is sent or failed: the file data
/// must not stay in the messages table for ever.
pub async fn forget_data(db: &DatabaseConnection, id: Uuid) -> Result<(), sea_orm::DbErr> {
    let Some(row) = message::Entity::find_by_id(id).one(db).await? else { return Ok(()) };
    let Some(mut media) = row.media.as_deref().and_then(|m| serde_json::from_str::<MediaIn>(m).ok()) else {
        return Ok(());
    };
    if media.data_base64.take().is_none() {
        return Ok(());
    }
    let kept = serde_json::to_string(&media).unwrap_or_default();
    message::Entity::update_many()
        .col_expr(message::Column::Media, Expr::value(kept))
        .filter(message::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
