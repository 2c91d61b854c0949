//! The dashboard: the built SPA in `static/`, embedded into the binary.
//!
//! API routes answer first; a GET that no route knows and that is not under `/api`
//! gets the matching file, or `index.html` so client-side routes work on reload.
//! The build writes `.br` and `.gz` next to compressible files; a client that accepts one
//! gets it as is, with `Content-Encoding` and `Vary: Accept-Encoding`.

use poem::http::{header, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../static/"]
struct Assets;

fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/") || matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// Precompressed variants, best first: (file suffix, `Content-Encoding`).
const ENCODINGS: [(&str, &str); 2] = [(".br", "br"), (".gz", "gzip")];

/// Whether `Accept-Encoding` allows `coding` (a listed token without `q=0`, or `*`).
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    let mut wildcard = false;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let token = parts.next().unwrap_or("").trim();
        let refused = parts.any(|p| {
            let p = p.trim();
            p.strip_prefix("q=").is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
        });
        if token.eq_ignore_ascii_case(coding) {
            return !refused;
        }
        if token == "*" {
            wildcard = !refused;
        }
    }
    wildcard
}

fn asset(path: &str, accept_encoding: &str) -> Option<Response> {
    let file = Assets::get(path)?;
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    // Vite puts content hashes in asset names: those can be cached forever.
    let cache = if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut builder = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, mime.as_ref())
        .header(header::CACHE_CONTROL, cache);
    let variants: Vec<_> = ENCODINGS
        .iter()
        .filter_map(|(suffix, coding)| Assets::get(&format!("{path}{suffix}")).map(|f| (*coding, f)))
        .collect();
    if variants.is_empty() {
        return Some(builder.body(file.data.into_owned()));
    }
    builder = builder.header(header::VARY, "Accept-Encoding");
    match variants.into_iter().find(|(coding, _)| accepts(accept_encoding, coding)) {
        Some((coding, encoded)) => {
            Some(builder.header(header::CONTENT_ENCODING, coding).body(encoded.data.into_owned()))
        }
        None => Some(builder.body(file.data.into_owned())),
    }
}

fn spa_response(path: &str, accept_encoding: &str) -> Option<Response> {
    let trimmed = path.trim_start_matches('/');
    if !trimmed.is_empty() {
        if let Some(resp) = asset(trimmed, accept_encoding) {
            return Some(resp);
        }
        // A missing file with an extension is a real 404, not a client route.
        if trimmed.rsplit('/').next().is_some_and(|last| last.contains('.')) {
            return None;
        }
    }
    asset("index.html", accept_encoding)
}

pub async fn with_spa_fallback<E: Endpoint>(ep: &E, req: Request) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    let spa_candidate = req.method() == Method::GET && !is_api_path(&path);
    let accept_encoding =
        req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    match ep.call(req).await {
        Ok(resp) => Ok(resp.into_response()),
        Err(err) if spa_candidate && err.status() == StatusCode::NOT_FOUND => {
            spa_response(&path, &accept_encoding).ok_or(err)
        }
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::accepts;

    #[test]
    fn reads_accept_encoding() {
        assert!(accepts("gzip, deflate, br", "br"));
        assert!(accepts("gzip;q=0.5", "gzip"));
        assert!(!accepts("gzip;q=0, br", "gzip"));
        assert!(!accepts("", "gzip"));
        assert!(!accepts("identity", "br"));
        assert!(accepts("*", "br"));
        assert!(!accepts("*, br;q=0", "br"));
        assert!(accepts("GZIP", "gzip"));
    }
}
