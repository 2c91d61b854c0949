//! Just enough protobuf to write an OTLP `ExportTraceServiceRequest`
//! (opentelemetry/proto/collector/trace/v1), field numbers as in the published .proto files.

use super::span::{SpanData, Value};

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn tag(out: &mut Vec<u8>, field: u32, wire: u8) {
    varint(out, (u64::from(field) << 3) | u64::from(wire));
}

fn bytes(out: &mut Vec<u8>, field: u32, data: &[u8]) {
    tag(out, field, 2);
    varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

fn message(out: &mut Vec<u8>, field: u32, build: impl FnOnce(&mut Vec<u8>)) {
    let mut inner = Vec::new();
    build(&mut inner);
    bytes(out, field, &inner);
}

fn fixed64(out: &mut Vec<u8>, field: u32, v: u64) {
    tag(out, field, 1);
    out.extend_from_slice(&v.to_le_bytes());
}

fn uint(out: &mut Vec<u8>, field: u32, v: u64) {
    tag(out, field, 0);
    varint(out, v);
}

/// `KeyValue { key = 1; AnyValue value = 2 }`, `AnyValue { string = 1; bool = 2; int = 3 }`.
fn key_value(out: &mut Vec<u8>, field: u32, key: &str, value: &Value) {
    message(out, field, |kv| {
        bytes(kv, 1, key.as_bytes());
        message(kv, 2, |any| match value {
            Value::Str(s) => bytes(any, 1, s.as_bytes()),
            Value::Bool(b) => uint(any, 2, u64::from(*b)),
            Value::Int(i) => uint(any, 3, *i as u64),
        });
    });
}

fn span(out: &mut Vec<u8>, s: &SpanData) {
    message(out, 2, |m| {
        bytes(m, 1, &s.context.trace_id);
        bytes(m, 2, &s.context.span_id);
        if let Some(parent) = &s.parent {
            bytes(m, 4, parent);
        }
        bytes(m, 5, s.name.as_bytes());
        uint(m, 6, s.kind as u64);
        fixed64(m, 7, s.start_unix_nano);
        fixed64(m, 8, s.end_unix_nano);
        for (k, v) in &s.attributes {
            key_value(m, 9, k, v);
        }
        // Status { message = 2; code = 3 } with code 2 = ERROR.
        if let Some(error) = &s.error {
            message(m, 15, |st| {
                bytes(st, 2, error.as_bytes());
                uint(st, 3, 2);
            });
        }
    });
}

/// `ExportTraceServiceRequest { ResourceSpans resource_spans = 1 }` with one resource
/// (`Resource { attributes = 1 }`) and one scope (`ScopeSpans { scope = 1; spans = 2 }`).
pub fn export_request(resource: &[(String, Value)], spans: &[SpanData]) -> Vec<u8> {
    let mut out = Vec::new();
    message(&mut out, 1, |rs| {
        message(rs, 1, |res| {
            for (k, v) in resource {
                key_value(res, 1, k, v);
            }
        });
        message(rs, 2, |ss| {
            message(ss, 1, |scope| {
                bytes(scope, 1, b"wahub");
                bytes(scope, 2, env!("CARGO_PKG_VERSION").as_bytes());
            });
            for s in spans {
                span(ss, s);
            }
        });
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_the_protobuf_encoding() {
        let mut out = Vec::new();
        varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
        let mut out = Vec::new();
        uint(&mut out, 3, u64::MAX);
        assert_eq!(out.len(), 11);
        // A negative int64 is its two's complement as a 10-byte varint.
        let mut out = Vec::new();
        key_value(&mut out, 1, "k", &Value::Int(-1));
        assert_eq!(out.len(), 2 + 3 + 2 + 11);
    }
}
