//! A Prometheus histogram with label sets, rendered in the text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds in seconds, from 1 ms (a cached read) to 10 s (a timeout).
pub const LATENCY_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct Series {
    /// Observations per bucket (not cumulative); the last slot is above every bound.
    counts: Vec<u64>,
    sum: f64,
}

pub struct Histogram {
    buckets: &'static [f64],
    /// Keyed by the rendered label set (`method="GET",status="2xx"`), empty for none.
    series: Mutex<BTreeMap<String, Series>>,
}

impl Histogram {
    pub const fn new(buckets: &'static [f64]) -> Self {
        Self { buckets, series: Mutex::new(BTreeMap::new()) }
    }

    pub fn observe(&self, labels: &str, took: Duration) {
        let secs = took.as_secs_f64();
        let slot = self.buckets.iter().position(|&le| secs <= le).unwrap_or(self.buckets.len());
        let mut series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let s = series.entry(labels.to_owned()).or_default();
        if s.counts.is_empty() {
            s.counts = vec![0; self.buckets.len() + 1];
        }
        s.counts[slot] += 1;
        s.sum += secs;
    }

    /// Appends `name_bucket`, `name_sum` and `name_count` of every label set.
    pub fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} histogram\n");
        let series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        for (labels, s) in series.iter() {
            let sep = if labels.is_empty() { "" } else { "," };
            let mut cumulative = 0;
            for (i, count) in s.counts.iter().enumerate() {
                cumulative += count;
                let le = self.buckets.get(i).map_or_else(|| "+Inf".to_owned(), |b| b.to_string());
                let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}");
            }
            let braces = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
            let _ = writeln!(out, "{name}_sum{braces} {}", s.sum);
            let _ = writeln!(out, "{name}_count{braces} {cumulative}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_end_in_inf() {
        let h = Histogram::new(&[0.1, 1.0]);
        h.observe("a=\"x\"", Duration::from_millis(50));
        h.observe("a=\"x\"", Duration::from_millis(500));
        h.observe("a=\"x\"", Duration::from_secs(5));
        let mut out = String::new();
        h.render("t_seconds", "test", &mut out);
        assert!(out.contains("t_seconds_bucket{a=\"x\",le=\"0.1\"} 1\n"), "{out}");
        assert!(out.contains("t_seconds_bucket{a=\"x\",le=\"1\"} 2\n"), "{out}");
        assert!(out.contains("t_seconds_bucket{a=\"x\",le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("t_seconds_count{a=\"x\"} 3\n"), "{out}");
        assert!(out.contains("t_seconds_sum{a=\"x\"} 5.55"), "{out}");
    }
}
