//! The published API description: poem-openapi's document, completed with what its
//! derive macros cannot say (nullable fields, per-operation error responses with their
//! problem codes, limits, enums, examples, the QR's three media types), plus the
//! AsyncAPI document of the WebSocket protocol and Swagger UI.

mod asyncapi;
pub mod errors;
mod examples;
mod schemas;

use poem::endpoint::make_sync;
use poem::web::Html;
use poem::{Endpoint, Response, Route};
use serde_json::{json, Value};

/// Completes poem-openapi's raw document.
pub fn complete(raw: &str) -> Value {
    let mut doc: Value = serde_json::from_str(raw).unwrap_or_else(|_| json!({}));
    doc["servers"] = json!([{ "url": "/", "description": "This server (paths are absolute)." }]);
    plain_json_media_types(&mut doc);
    schemas::apply(&mut doc);
    errors::apply(&mut doc);
    describe_successes(&mut doc);
    examples::apply(&mut doc);
    doc
}

/// `application/json; charset=utf-8` → `application/json`, the key generators look for.
fn plain_json_media_types(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(content)) = map.get_mut("content") {
                if let Some(media) = content.remove("application/json; charset=utf-8") {
                    content.insert("application/json".into(), media);
                }
            }
            map.values_mut().for_each(plain_json_media_types);
        }
        Value::Array(items) => items.iter_mut().for_each(plain_json_media_types),
        _ => {}
    }
}

fn describe_successes(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for op in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|item| item.values_mut()) {
        let Some(responses) = op["responses"].as_object_mut() else { continue };
        for (status, resp) in responses.iter_mut() {
            if resp["description"].as_str().is_none_or(str::is_empty) {
                resp["description"] = json!(match status.as_str() {
                    "201" => "Created.",
                    "202" => "Accepted.",
                    "204" => "Done; no body.",
                    _ => "Success.",
                });
            }
        }
    }
}

fn json_response(body: String) -> Response {
    Response::builder().content_type("application/json; charset=utf-8").body(body)
}

/// `/api/openapi.json`, `/api/asyncapi.json` and `/api/docs` (Swagger UI, its validator
/// off: the spec never leaves the server).
pub fn endpoints(doc: &Value, swagger_html: &str) -> (impl Endpoint, impl Endpoint, impl Endpoint) {
    let spec = doc.to_string();
    let ui = swagger_ui(swagger_html, &spec);
    let asyncapi = asyncapi::document(doc).to_string();
    let spec_ep = make_sync(move |_| json_response(spec.clone()));
    let asyncapi_ep = make_sync(move |_| json_response(asyncapi.clone()));
    let docs_ep = Route::new().at("/", make_sync(move |_| Html(ui.clone())));
    (spec_ep, asyncapi_ep, docs_ep)
}

/// poem-openapi's Swagger UI page with the completed document and `validatorUrl: null`.
fn swagger_ui(html: &str, spec: &str) -> String {
    let Some(start) = html.find("let spec = ") else { return html.to_owned() };
    let Some(len) = html[start..].find(";\n") else { return html.to_owned() };
    let mut out = String::with_capacity(html.len() + spec.len());
    out.push_str(&html[..start]);
    out.push_str("let spec = ");
    // `</` inside a JSON string would end the inline script early.
    out.push_str(&spec.replace("</", "<\\/"));
    out.push_str(&html[start + len..]);
    out.replacen("deepLinking: true,", "deepLinking: true,\n        validatorUrl: null,", 1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn swagger_page_carries_the_document_and_no_validator() {
        let html = "<script>\n    let spec = {\"old\":1};\n    let x;\n    SwaggerUIBundle({\n        deepLinking: true,\n    })";
        let out = super::swagger_ui(html, r#"{"a":"</script>"}"#);
        assert!(out.contains(r#"let spec = {"a":"<\/script>"};"#), "{out}");
        assert!(!out.contains("old"));
        assert!(out.contains("validatorUrl: null"));
    }
}
