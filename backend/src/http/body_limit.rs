//! Refuses request bodies over the configured size with 413, whether or not the
//! client announced a Content-Length.

use poem::http::{header, StatusCode};
use poem::{Body, Request};

use crate::error::Problem;

fn too_large(max: usize) -> poem::Error {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("The request body is larger than {max} bytes."),
    )
    .into()
}

pub async fn limit(mut req: Request, max: usize) -> poem::Result<Request> {
    let announced =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    match announced {
        Some(len) if len > max as u64 => Err(too_large(max)),
        Some(_) => Ok(req),
        None if req.headers().contains_key(header::TRANSFER_ENCODING) => {
            let body = req.take_body();
            let bytes = body.into_bytes_limit(max).await.map_err(|_| too_large(max))?;
            req.set_body(Body::from(bytes));
            Ok(req)
        }
        None => Ok(req),
    }
}
