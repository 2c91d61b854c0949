//! The background exporter: collects finished spans and POSTs them in batches as
//! OTLP/HTTP protobuf. Spans that do not fit the queue are dropped, never waited for.

use std::time::Duration;

use tokio::sync::mpsc;

use super::span::{SpanData, Value};

/// Spans waiting for export at most; beyond, new spans are dropped.
pub const QUEUE: usize = 4096;
const BATCH: usize = 512;
/// How long a batch waits for more spans after its first.
const LINGER: Duration = Duration::from_millis(200);
const TIMEOUT: Duration = Duration::from_secs(10);

/// `http://collector:4318` → `http://collector:4318/v1/traces`; a URL with a path is used as it is.
pub fn traces_url(endpoint: &str) -> Result<url::Url, String> {
    let mut url = url::Url::parse(endpoint).map_err(|e| format!("{endpoint:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("{endpoint:?} is not an http(s) URL"));
    }
    if url.path() == "/" || url.path().is_empty() {
        url.set_path("/v1/traces");
    }
    Ok(url)
}

pub async fn run(url: url::Url, resource: Vec<(String, Value)>, mut rx: mpsc::Receiver<SpanData>) {
    let client = match reqwest::Client::builder().timeout(TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the OTLP client; traces are not exported");
            return;
        }
    };
    let mut failing = false;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let until = tokio::time::Instant::now() + LINGER;
        while batch.len() < BATCH {
            match tokio::time::timeout_at(until, rx.recv()).await {
                Ok(Some(span)) => batch.push(span),
                _ => break,
            }
        }
        let body = super::proto::export_request(&resource, &batch);
        let sent = client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/x-protobuf")
            .body(body)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status);
        // One warning per outage, not one per batch.
        match sent {
            Ok(_) if failing => {
                failing = false;
                tracing::info!("OTLP export works again");
            }
            Ok(_) => {}
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, spans = batch.len(), "OTLP export failed; spans are dropped until it works");
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::traces_url;

    #[test]
    fn the_traces_path_is_added_to_a_bare_endpoint() {
        assert_eq!(traces_url("http://c:4318").unwrap().as_str(), "http://c:4318/v1/traces");
        assert_eq!(traces_url("https://c/custom/v1/traces").unwrap().as_str(), "https://c/custom/v1/traces");
        assert!(traces_url("grpc://c:4317").is_err());
        assert!(traces_url("not a url").is_err());
    }
}
