//! OTLP/HTTP trace export to a loopback collector, decoded field by field against the
//! OpenTelemetry .proto definitions (collector/trace/v1, trace/v1, common/v1).

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::json;
use wahub_tests::{spawn_app_with, Receiver};

/// One decoded protobuf field: a varint, a fixed64, or length-delimited bytes.
#[derive(Debug, Clone)]
enum Field {
    Varint(u64),
    Fixed64(u64),
    Bytes(Vec<u8>),
}

/// The wire format, independent of the server's encoder: field number → values in order.
fn decode(mut buf: &[u8]) -> BTreeMap<u32, Vec<Field>> {
    fn varint(buf: &mut &[u8]) -> u64 {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (b, rest) = buf.split_first().expect("truncated varint");
            *buf = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return v;
            }
        }
        panic!("varint too long")
    }
    let mut out: BTreeMap<u32, Vec<Field>> = BTreeMap::new();
    while !buf.is_empty() {
        let key = varint(&mut buf);
        let field = (key >> 3) as u32;
        let value = match key & 7 {
            0 => Field::Varint(varint(&mut buf)),
            1 => {
                let (b, rest) = buf.split_at(8);
                buf = rest;
                Field::Fixed64(u64::from_le_bytes(b.try_into().unwrap()))
            }
            2 => {
                let len = varint(&mut buf) as usize;
                let (b, rest) = buf.split_at(len);
                buf = rest;
                Field::Bytes(b.to_vec())
            }
            other => panic!("unexpected wire type {other}"),
        };
        out.entry(field).or_default().push(value);
    }
    out
}

fn bytes(m: &BTreeMap<u32, Vec<Field>>, field: u32) -> Vec<Vec<u8>> {
    m.get(&field)
        .into_iter()
        .flatten()
        .map(|f| match f {
            Field::Bytes(b) => b.clone(),
            other => panic!("field {field} is not bytes: {other:?}"),
        })
        .collect()
}

fn one_bytes(m: &BTreeMap<u32, Vec<Field>>, field: u32) -> Option<Vec<u8>> {
    bytes(m, field).into_iter().next()
}

fn string(m: &BTreeMap<u32, Vec<Field>>, field: u32) -> String {
    String::from_utf8(one_bytes(m, field).unwrap_or_default()).expect("utf-8")
}

fn fixed(m: &BTreeMap<u32, Vec<Field>>, field: u32) -> u64 {
    match m.get(&field).and_then(|v| v.first()) {
        Some(Field::Fixed64(v)) => *v,
        other => panic!("field {field} is not fixed64: {other:?}"),
    }
}

fn uint(m: &BTreeMap<u32, Vec<Field>>, field: u32) -> u64 {
    match m.get(&field).and_then(|v| v.first()) {
        Some(Field::Varint(v)) => *v,
        None => 0,
        other => panic!("field {field} is not a varint: {other:?}"),
    }
}

/// `KeyValue { key = 1; AnyValue value = 2 }` → key and a readable value.
fn attributes(m: &BTreeMap<u32, Vec<Field>>, field: u32) -> BTreeMap<String, String> {
    bytes(m, field)
        .iter()
        .map(|kv| {
            let kv = decode(kv);
            let any = decode(&one_bytes(&kv, 2).expect("value"));
            let value = if let Some(s) = one_bytes(&any, 1) {
                String::from_utf8(s).unwrap()
            } else {
                (uint(&any, 3) as i64).to_string()
            };
            (string(&kv, 1), value)
        })
        .collect()
}

#[derive(Debug)]
struct Span {
    trace_id: String,
    span_id: String,
    parent: String,
    name: String,
    kind: u64,
    start: u64,
    end: u64,
    attrs: BTreeMap<String, String>,
}

/// `ExportTraceServiceRequest { resource_spans = 1 }` → `ResourceSpans { resource = 1;
/// scope_spans = 2 }` → `ScopeSpans { scope = 1; spans = 2 }` → `Span`.
fn spans(body: &[u8]) -> (Vec<BTreeMap<String, String>>, Vec<Span>) {
    let mut resources = Vec::new();
    let mut out = Vec::new();
    for rs in bytes(&decode(body), 1) {
        let rs = decode(&rs);
        resources.push(attributes(&decode(&one_bytes(&rs, 1).expect("resource")), 1));
        for ss in bytes(&rs, 2) {
            let ss = decode(&ss);
            assert_eq!(string(&decode(&one_bytes(&ss, 1).expect("scope")), 1), "wahub");
            for span in bytes(&ss, 2) {
                let s = decode(&span);
                out.push(Span {
                    trace_id: hex::encode(one_bytes(&s, 1).expect("trace id")),
                    span_id: hex::encode(one_bytes(&s, 2).expect("span id")),
                    parent: hex::encode(one_bytes(&s, 4).unwrap_or_default()),
                    name: string(&s, 5),
                    kind: uint(&s, 6),
                    start: fixed(&s, 7),
                    end: fixed(&s, 8),
                    attrs: attributes(&s, 9),
                });
            }
        }
    }
    (resources, out)
}

#[tokio::test]
async fn requests_and_publishes_are_exported_as_otlp_protobuf() {
    let collector = Receiver::start().await;
    let base = collector.url.trim_end_matches("/hook").to_owned();
    let app = spawn_app_with(|s| s.server.otel_endpoint = Some(base.clone())).await;
    let user = app.register("a@example.com").await;

    // A request continuing the caller's trace; it publishes session.created.
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let r = app
        .request(Method::POST, "/api/v1/sessions", Some(&user.token))
        .header("traceparent", format!("00-{trace}-{caller_span}-01"))
        .header("x-request-id", "otel-test-1")
        .json(&json!({"name": "traced"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let (resources, mine) = loop {
        let mut resources = Vec::new();
        let mut all = Vec::new();
        for req in collector.requests() {
            assert_eq!(req.method, "POST");
            assert_eq!(req.path, "/v1/traces");
            assert_eq!(req.header("content-type"), "application/x-protobuf");
            let (res, spans) = spans(&req.raw_body);
            resources.extend(res);
            all.extend(spans);
        }
        let mine: Vec<Span> = all.into_iter().filter(|s| s.trace_id == trace).collect();
        if mine.len() >= 2 || tokio::time::Instant::now() > deadline {
            break (resources, mine);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let server = mine.iter().find(|s| s.kind == 2).unwrap_or_else(|| panic!("no server span: {mine:?}"));
    assert_eq!(server.name, "POST");
    assert_eq!(server.parent, caller_span, "the caller's traceparent is the parent");
    assert_eq!(server.attrs["http.request.method"], "POST");
    assert_eq!(server.attrs["url.path"], "/api/v1/sessions");
    assert_eq!(server.attrs["http.response.status_code"], "201");
    assert_eq!(server.attrs["wahub.request_id"], "otel-test-1");
    assert!(server.start > 1_600_000_000_000_000_000 && server.end >= server.start);
    assert_eq!(server.span_id.len(), 16);

    let publish =
        mine.iter().find(|s| s.name == "event.publish").unwrap_or_else(|| panic!("no publish span: {mine:?}"));
    assert_eq!(publish.parent, server.span_id, "a publish inside a request is its child");
    assert_eq!(publish.kind, 4, "PRODUCER");
    assert_eq!(publish.attrs["wahub.event"], "session.created");
    assert!(publish.attrs["wahub.seq"].parse::<i64>().unwrap() > 0);
    assert!(publish.start >= server.start && publish.end <= server.end);

    let resource = resources.first().expect("a resource");
    assert_eq!(resource["service.name"], "wahub");
    assert!(!resource["service.instance.id"].is_empty());
    app.stop().await;
}
