//! `Allow` on every 405: the methods the OpenAPI document lists for the request's path.

use std::sync::Arc;

use poem::http::header::{HeaderValue, ALLOW};
use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use serde_json::Value;

/// Path templates (`/api/v1/sessions/{id}`) split into segments, with their methods.
pub struct AllowTable(Vec<(Vec<String>, String)>);

impl AllowTable {
    pub fn from_openapi(doc: &Value) -> Self {
        let mut rows = Vec::new();
        if let Some(paths) = doc["paths"].as_object() {
            for (path, item) in paths {
                let mut methods: Vec<String> =
                    item.as_object().map(|m| m.keys().map(|k| k.to_uppercase()).collect()).unwrap_or_default();
                if methods.iter().any(|m| m == "GET") {
                    methods.push("HEAD".into());
                }
                let segments = path.trim_matches('/').split('/').map(str::to_owned).collect();
                rows.push((segments, methods.join(", ")));
            }
        }
        Self(rows)
    }

    pub fn methods_for(&self, path: &str) -> Option<&str> {
        let parts: Vec<&str> = path.trim_end_matches('/').trim_start_matches('/').split('/').collect();
        self.0
            .iter()
            .find(|(template, _)| {
                template.len() == parts.len() && template.iter().zip(&parts).all(|(t, p)| t.starts_with('{') || t == p)
            })
            .map(|(_, methods)| methods.as_str())
    }
}

pub struct AllowHeader(pub Arc<AllowTable>);

impl<E: Endpoint> Middleware<E> for AllowHeader {
    type Output = AllowHeaderEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        AllowHeaderEndpoint { inner: ep, table: self.0.clone() }
    }
}

pub struct AllowHeaderEndpoint<E> {
    inner: E,
    table: Arc<AllowTable>,
}

impl<E: Endpoint> Endpoint for AllowHeaderEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let path = req.uri().path().to_owned();
        let mut resp = self.inner.call(req).await?.into_response();
        if resp.status() == StatusCode::METHOD_NOT_ALLOWED {
            let methods = self.table.methods_for(&path).unwrap_or("GET, HEAD");
            if let Ok(value) = HeaderValue::from_str(methods) {
                resp.headers_mut().insert(ALLOW, value);
            }
        }
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::AllowTable;

    #[test]
    fn templates_match_concrete_paths() {
        let doc = serde_json::json!({ "paths": {
            "/api/v1/sessions": { "get": {}, "post": {} },
            "/api/v1/sessions/{id}": { "get": {}, "patch": {}, "delete": {} }
        }});
        let t = AllowTable::from_openapi(&doc);
        assert_eq!(t.methods_for("/api/v1/sessions/"), Some("GET, POST, HEAD"));
        assert_eq!(t.methods_for("/api/v1/sessions/abc"), Some("DELETE, GET, PATCH, HEAD"));
        assert_eq!(t.methods_for("/api/v1/nothing"), None);
    }
}
