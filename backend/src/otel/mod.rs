//! Optional OpenTelemetry traces: one span per HTTP request and per event publish,
//! exported over OTLP/HTTP (protobuf) when `otel_endpoint` is set. Off, a `Tracer`
//! is a `None` and every call on it returns at once.

mod export;
mod proto;
mod span;

use std::sync::Arc;

use tokio::sync::mpsc;

pub use export::traces_url;
use span::SpanData;
pub use span::{Kind, SpanContext, Value};

tokio::task_local! {
    /// The span the current task works under: new spans become its children.
    static CURRENT: SpanContext;
}

/// The span the caller runs under, if any.
pub fn current() -> Option<SpanContext> {
    CURRENT.try_with(|c| *c).ok()
}

/// Runs `fut` with `ctx` as the parent of the spans it starts.
pub async fn scope<F: std::future::Future>(ctx: SpanContext, fut: F) -> F::Output {
    CURRENT.scope(ctx, fut).await
}

#[derive(Clone, Default)]
pub struct Tracer(Option<Arc<mpsc::Sender<SpanData>>>);

impl Tracer {
    pub fn off() -> Self {
        Self(None)
    }

    /// Starts the exporter task (call inside a Tokio runtime); it ends when every clone
    /// of the tracer is dropped.
    pub fn start(endpoint: &str, resource: Vec<(String, Value)>) -> Result<Self, String> {
        let url = traces_url(endpoint)?;
        let (tx, rx) = mpsc::channel(export::QUEUE);
        tokio::spawn(export::run(url, resource, rx));
        Ok(Self(Some(Arc::new(tx))))
    }

    pub fn enabled(&self) -> bool {
        self.0.is_some()
    }

    /// A span that ends when [`ActiveSpan::end`] is called or it is dropped. Its parent
    /// is `parent`, else the current span, else none (a new trace).
    pub fn span(&self, name: impl Into<String>, kind: Kind, parent: Option<SpanContext>) -> ActiveSpan {
        if !self.enabled() {
            return ActiveSpan { tracer: Tracer::off(), data: None };
        }
        let parent = parent.or_else(current);
        let data = SpanData {
            context: SpanContext {
                trace_id: parent.map_or_else(span::new_trace_id, |p| p.trace_id),
                span_id: span::new_span_id(),
            },
            parent: parent.map(|p| p.span_id),
            name: name.into(),
            kind,
            start_unix_nano: span::now_unix_nano(),
            end_unix_nano: 0,
            attributes: Vec::new(),
            error: None,
        };
        ActiveSpan { tracer: self.clone(), data: Some(data) }
    }
}

pub struct ActiveSpan {
    tracer: Tracer,
    data: Option<SpanData>,
}

impl ActiveSpan {
    /// The context children of this span are started under (`None` when tracing is off).
    pub fn context(&self) -> Option<SpanContext> {
        self.data.as_ref().map(|d| d.context)
    }

    pub fn attr(&mut self, key: &'static str, value: Value) {
        if let Some(d) = &mut self.data {
            d.attributes.push((key, value));
        }
    }

    pub fn error(&mut self, message: impl Into<String>) {
        if let Some(d) = &mut self.data {
            d.error = Some(message.into());
        }
    }

    pub fn end(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        if let (Some(mut d), Some(tx)) = (self.data.take(), self.tracer.0.as_ref()) {
            d.end_unix_nano = span::now_unix_nano();
            // A full queue drops the span: tracing never slows the request down.
            let _ = tx.try_send(d);
        }
    }
}

impl Drop for ActiveSpan {
    fn drop(&mut self) {
        self.finish();
    }
}
