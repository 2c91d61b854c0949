//! /metrics in the Prometheus text format, parsed as a scraper would, and the Grafana
//! dashboard in docs/ querying only what it exposes.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use wahub_tests::{spawn_app, TestApp};

/// A label set without `le`, in order.
type Labels = Vec<(String, String)>;

#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Families by name with their TYPE, and every sample; panics on a malformed line.
fn parse(text: &str) -> (BTreeMap<String, String>, Vec<Sample>) {
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit()))
    };
    let mut types = BTreeMap::new();
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(valid_name(name), "{line}");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(types.insert(name.to_owned(), kind.to_owned()).is_none(), "TYPE twice: {line}");
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.starts_with('#'), "unknown comment: {line}");
        let (series, value) = line.rsplit_once(' ').expect("sample value");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value: {line}"));
        let (name, labels) = match series.split_once('{') {
            None => (series, BTreeMap::new()),
            Some((name, rest)) => {
                let inner = rest.strip_suffix('}').expect("closing brace");
                let labels = inner
                    .split(',')
                    .map(|pair| {
                        let (k, v) = pair.split_once('=').expect("label=value");
                        let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).expect("quoted label value");
                        assert!(valid_name(k), "{line}");
                        (k.to_owned(), v.to_owned())
                    })
                    .collect();
                (name, labels)
            }
        };
        assert!(valid_name(name), "{line}");
        samples.push(Sample { name: name.to_owned(), labels, value });
    }
    (types, samples)
}

/// The family a sample belongs to (`x_bucket` → `x` for histograms).
fn family<'a>(types: &BTreeMap<String, String>, name: &'a str) -> &'a str {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if types.get(base).is_some_and(|k| k == "histogram") {
                return base;
            }
        }
    }
    name
}

async fn scrape(app: &TestApp) -> (BTreeMap<String, String>, Vec<Sample>) {
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    parse(&r.text().await.unwrap())
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v)))
        .map(|s| s.value)
}

#[tokio::test]
async fn metrics_follow_prometheus_conventions() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    app.create_session(&user, "one", false).await;
    app.create_session(&user, "two", false).await;
    let (types, samples) = scrape(&app).await;

    for s in &samples {
        let fam = family(&types, &s.name);
        let kind = types.get(fam).unwrap_or_else(|| panic!("{} has no TYPE", s.name));
        assert!(fam.starts_with("wahub_"), "{}", s.name);
        assert_eq!(kind == "counter", fam.ends_with("_total"), "counters and only counters end in _total: {fam}");
        if kind == "histogram" {
            assert!(fam.ends_with("_seconds"), "latency histograms are in seconds: {fam}");
        }
    }

    // Latency histograms: cumulative buckets ending in +Inf, equal to _count.
    for fam in ["wahub_http_request_duration_seconds", "wahub_event_publish_duration_seconds"] {
        assert_eq!(types.get(fam).map(String::as_str), Some("histogram"), "{fam}");
        let mut by_series: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
        for s in samples.iter().filter(|s| s.name == format!("{fam}_bucket")) {
            let le = s.labels["le"].as_str();
            let le = if le == "+Inf" { f64::INFINITY } else { le.parse().expect("le") };
            let key = s.labels.iter().filter(|(k, _)| *k != "le").map(|(k, v)| (k.clone(), v.clone())).collect();
            by_series.entry(key).or_default().push((le, s.value));
        }
        assert!(!by_series.is_empty(), "{fam} has observations");
        for (labels, buckets) in by_series {
            assert!(buckets.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1), "{fam} {labels:?}");
            let (last_le, last) = *buckets.last().unwrap();
            assert!(last_le.is_infinite());
            let refs: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            assert_eq!(value(&samples, &format!("{fam}_count"), &refs), Some(last), "{fam} {labels:?}");
            assert!(value(&samples, &format!("{fam}_sum"), &refs).is_some());
        }
    }
    // Two sessions created: at least two publishes timed, and the registrations' 2xx answers.
    assert!(value(&samples, "wahub_event_publish_duration_seconds_count", &[]).unwrap() >= 2.0);
    assert!(
        value(&samples, "wahub_http_request_duration_seconds_count", &[("method", "POST"), ("status", "2xx")]).unwrap()
            >= 3.0
    );

    // Per-status session gauges: every status, and the two new sessions as stopped.
    assert_eq!(types.get("wahub_sessions").map(String::as_str), Some("gauge"));
    for status in ["stopped", "starting", "scan_qr", "pairing", "connected", "reconnecting", "failed", "logged_out"] {
        assert!(value(&samples, "wahub_sessions", &[("status", status)]).is_some(), "{status}");
    }
    let stopped = value(&samples, "wahub_sessions", &[("status", "stopped")]).unwrap();
    assert!(stopped >= 2.0, "{stopped}");

    // A 404 shows up under 4xx on the next scrape.
    let before = value(&samples, "wahub_http_request_duration_seconds_count", &[("method", "GET"), ("status", "4xx")])
        .unwrap_or(0.0);
    assert_eq!(app.client.get(app.url("/api/v1/nothing-here")).send().await.unwrap().status(), 404);
    let (_, samples) = scrape(&app).await;
    let after =
        value(&samples, "wahub_http_request_duration_seconds_count", &[("method", "GET"), ("status", "4xx")]).unwrap();
    assert!(after >= before + 1.0, "{before} -> {after}");
    app.stop().await;
}

/// Every `wahub_*` name a query of every dashboard panel uses.
fn dashboard_metric_names(dashboard: &Value) -> BTreeSet<String> {
    let mut exprs = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("expr" | "query", Value::String(s)) => out.push(s.clone()),
                        _ => walk(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    walk(dashboard, &mut exprs);
    let mut names = BTreeSet::new();
    for expr in exprs {
        let mut rest = expr.as_str();
        while let Some(at) = rest.find("wahub_") {
            let tail = &rest[at..];
            let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')).unwrap_or(tail.len());
            names.insert(tail[..end].to_owned());
            rest = &tail[end..];
        }
    }
    names
}

#[tokio::test]
async fn the_grafana_dashboard_queries_only_exposed_metrics() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/grafana-dashboard.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("dashboard file")).expect("JSON");
    let used = dashboard_metric_names(&dashboard);
    assert!(used.len() >= 10, "the dashboard charts the metrics: {used:?}");

    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    app.create_session(&user, "one", false).await;
    let (types, samples) = scrape(&app).await;
    let exposed: BTreeSet<&str> =
        samples.iter().map(|s| s.name.as_str()).chain(types.keys().map(String::as_str)).collect();
    let missing: Vec<&String> = used.iter().filter(|n| !exposed.contains(n.as_str())).collect();
    assert!(missing.is_empty(), "the dashboard queries names /metrics does not expose: {missing:?}");
    // Each panel has a query, and each family /metrics exposes is charted.
    for panel in dashboard["panels"].as_array().expect("panels") {
        assert!(!panel["targets"].as_array().expect("targets").is_empty(), "{}", panel["title"]);
    }
    let charted: BTreeSet<&str> = used.iter().map(|n| family(&types, n)).collect();
    let uncharted: Vec<&String> = types.keys().filter(|f| !charted.contains(f.as_str())).collect();
    assert!(uncharted.is_empty(), "metrics no panel shows: {uncharted:?}");
    app.stop().await;
}

/// Rows in `users` as the SQLite database file alone holds them (the WAL not read); 0 while
/// the file does not even hold the table.
async fn users_in_the_database_file(url: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let file_only = url.replace("mode=rwc", "immutable=true");
    let conn = sea_orm::Database::connect(file_only.as_str()).await.expect("open the file read-only");
    let sql = Statement::from_string(conn.get_database_backend(), "SELECT COUNT(*) AS n FROM users");
    let n = conn.query_one(sql).await.ok().flatten().and_then(|row| row.try_get_by_index::<i64>(0).ok());
    conn.close().await.ok();
    n.unwrap_or(0)
}

#[tokio::test]
async fn sqlite_wal_is_copied_back_into_the_database_file_in_the_background() {
    let app = spawn_app().await;
    if app.db().is_postgres() {
        return;
    }
    // Metrics are per process and test servers share this one: the counter only grows.
    let (_, samples) = scrape(&app).await;
    let before = value(&samples, "wahub_sqlite_checkpoints_total", &[]).expect("checkpoint counter");
    for k in 0..5 {
        app.register(&format!("wal{k}@example.com")).await;
    }
    // The writer's connection checkpoints only past its backstop (10,000 pages): these rows
    // reach the database file only through the background checkpoint.
    wahub_tests::eventually(10, "the new users in the database file itself", || async {
        (users_in_the_database_file(app.db().url()).await >= 5).then_some(())
    })
    .await;
    let (_, samples) = scrape(&app).await;
    assert!(value(&samples, "wahub_sqlite_checkpoints_total", &[]).expect("counter") > before);
}
