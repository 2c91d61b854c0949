//! Percentiles of the delivery latencies.

pub struct Latency {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub samples: usize,
}

pub fn latency(mut micros: Vec<u32>) -> Option<Latency> {
    if micros.is_empty() {
        return None;
    }
    micros.sort_unstable();
    let at = |q: f64| micros[((micros.len() - 1) as f64 * q).round() as usize] as f64 / 1000.0;
    Some(Latency { p50_ms: at(0.50), p99_ms: at(0.99), max_ms: at(1.0), samples: micros.len() })
}
