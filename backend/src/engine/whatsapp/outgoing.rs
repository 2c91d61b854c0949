//! Builds the WhatsApp message for a wahub [`Outgoing`]: plain text, or uploaded
//! media (image / video / audio / document chosen from the MIME type) with a caption.

use whatsapp_rust::buffa::MessageField;
use whatsapp_rust::download::MediaType;
use whatsapp_rust::upload::UploadResponse;
use whatsapp_rust::wacore::proto_helpers::MessageBuilderExt;
use whatsapp_rust::waproto::whatsapp as wa;
use whatsapp_rust::{Client, UploadOptions};

use crate::engine::{EngineError, Outgoing, OutgoingMedia};

/// The kind of WhatsApp media message a MIME type is sent as.
pub fn media_type_for(mimetype: &str) -> MediaType {
    let lower = mimetype.trim().to_ascii_lowercase();
    if lower.starts_with("image/") && lower != "image/svg+xml" {
        MediaType::Image
    } else if lower.starts_with("video/") {
        MediaType::Video
    } else if lower.starts_with("audio/") {
        MediaType::Audio
    } else {
        MediaType::Document
    }
}

/// The message to send: uploads the media first when there is any.
pub async fn build_message(client: &Client, msg: Outgoing) -> Result<wa::Message, EngineError> {
    let Some(mut media) = msg.media else {
        return match msg.text {
            Some(text) if !text.is_empty() => Ok(wa::Message::text(text)),
            _ => Err(EngineError::Failed("nothing to send: no text and no media".into())),
        };
    };
    let kind = media_type_for(&media.mimetype);
    let uploaded = client
        .upload(std::mem::take(&mut media.data), kind, UploadOptions::new())
        .await
        .map_err(|e| EngineError::Failed(format!("media upload failed: {e:#}")))?;
    // A caption of its own wins; otherwise the message text captions the media.
    let caption = media.caption.clone().or(msg.text);
    Ok(media_message(kind, &media, caption, Uploaded::from(uploaded)))
}

/// Where an uploaded blob lives and the keys to open it.
#[derive(Debug, Clone)]
pub struct Uploaded {
    pub url: String,
    pub direct_path: String,
    pub media_key: [u8; 32],
    pub file_enc_sha256: [u8; 32],
    pub file_sha256: [u8; 32],
    pub file_length: u64,
    pub media_key_timestamp: i64,
    pub streaming_sidecar: Option<Vec<u8>>,
}

impl From<UploadResponse> for Uploaded {
    fn from(r: UploadResponse) -> Self {
        Self {
            url: r.url,
            direct_path: r.direct_path,
            media_key: r.media_key,
            file_enc_sha256: r.file_enc_sha256,
            file_sha256: r.file_sha256,
            file_length: r.file_length,
            media_key_timestamp: r.media_key_timestamp,
            streaming_sidecar: r.streaming_sidecar,
        }
    }
}

/// A media message struct with the fields every kind shares (where the blob is, its
/// keys and hashes, its MIME type), plus the fields given for that kind. The kinds are
/// distinct protobuf types, so a macro rather than a function fills them.
macro_rules! blob_message {
    ($($ty:ident)::+, $up:expr, $media:expr, { $($field:ident: $value:expr),* $(,)? }) => {
        $($ty)::+ {
            url: Some($up.url),
            direct_path: Some($up.direct_path),
            mimetype: Some($media.mimetype.clone()),
            file_length: Some($up.file_length),
            media_key: Some($up.media_key.to_vec()),
            file_sha256: Some($up.file_sha256.to_vec()),
            file_enc_sha256: Some($up.file_enc_sha256.to_vec()),
            media_key_timestamp: Some($up.media_key_timestamp),
            $($field: $value,)*
            ..Default::default()
        }
    };
}

/// The media message for an uploaded blob (no network; unit-testable).
pub fn media_message(kind: MediaType, media: &OutgoingMedia, caption: Option<String>, up: Uploaded) -> wa::Message {
    let mut message = wa::Message::default();
    match kind {
        MediaType::Image => {
            message.image_message =
                MessageField::some(blob_message!(wa::message::ImageMessage, up, media, { caption: caption }));
        }
        MediaType::Video => {
            let sidecar = up.streaming_sidecar.clone();
            message.video_message = MessageField::some(
                blob_message!(wa::message::VideoMessage, up, media, { caption: caption, streaming_sidecar: sidecar }),
            );
        }
        MediaType::Audio => {
            let sidecar = up.streaming_sidecar.clone();
            message.audio_message =
                MessageField::some(blob_message!(wa::message::AudioMessage, up, media, { streaming_sidecar: sidecar }));
        }
        _ => {
            let file_name = media.filename.clone().unwrap_or_else(|| "file".to_owned());
            message.document_message = MessageField::some(blob_message!(wa::message::DocumentMessage, up, media, {
                title: Some(file_name.clone()),
                file_name: Some(file_name),
                caption: caption,
            }));
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_types_choose_the_message_kind() {
        assert!(matches!(media_type_for("image/jpeg"), MediaType::Image));
        assert!(matches!(media_type_for("IMAGE/PNG"), MediaType::Image));
        assert!(matches!(media_type_for("image/svg+xml"), MediaType::Document));
        assert!(matches!(media_type_for("video/mp4"), MediaType::Video));
        assert!(matches!(media_type_for("audio/ogg; codecs=opus"), MediaType::Audio));
        assert!(matches!(media_type_for("application/pdf"), MediaType::Document));
    }

    fn uploaded() -> Uploaded {
        Uploaded {
            url: "https://mmg.whatsapp.net/x".into(),
            direct_path: "/v/x".into(),
            media_key: [1; 32],
            file_enc_sha256: [2; 32],
            file_sha256: [3; 32],
            file_length: 10,
            media_key_timestamp: 1_700_000_000,
            streaming_sidecar: None,
        }
    }

    #[test]
    fn documents_carry_file_name_and_caption() {
        let media = OutgoingMedia {
            mimetype: "application/pdf".into(),
            data: vec![0; 10],
            filename: Some("report.pdf".into()),
            caption: None,
        };
        let m = media_message(MediaType::Document, &media, Some("hi".into()), uploaded());
        let doc = m.document_message.as_option().cloned().unwrap_or_default();
        assert_eq!(doc.file_name.as_deref(), Some("report.pdf"));
        assert_eq!(doc.caption.as_deref(), Some("hi"));
        assert_eq!(doc.file_length, Some(10));
        assert_eq!(doc.media_key.as_deref(), Some(&[1u8; 32][..]));
    }

    #[test]
    fn images_carry_caption_and_keys() {
        let media = OutgoingMedia {
            mimetype: "image/png".into(),
            data: vec![0; 10],
            filename: None,
            caption: Some("look".into()),
        };
        let m = media_message(MediaType::Image, &media, Some("look".into()), uploaded());
        let img = m.image_message.as_option().cloned().unwrap_or_default();
        assert_eq!(img.caption.as_deref(), Some("look"));
        assert_eq!(img.mimetype.as_deref(), Some("image/png"));
        assert_eq!(img.direct_path.as_deref(), Some("/v/x"));
    }
}
