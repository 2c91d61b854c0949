//! Printing: every figure of one run, and for interleaved runs the medians per server
//! and the wahub/peer ratios, pair by pair.

use crate::run::Figures;
use crate::stats::Latency;

pub fn print_run(f: &Figures, sockets: usize) {
    println!(
        "connections held: {} / {sockets} during the load ({} failed{})",
        f.sockets_held,
        f.failed_sockets,
        f.first_failure.as_ref().map(|e| format!(", first: {e}")).unwrap_or_default()
    );
    if let (Some(before), Some(idle), Some(per)) = (f.rss_before_kib, f.rss_idle_kib, f.rss_per_socket_kib()) {
        println!(
            "server RSS: {:.1} MiB before sockets, {:.1} MiB with {} idle sockets = {per:.1} KiB per socket; {:.1} MiB after load",
            before as f64 / 1024.0,
            idle as f64 / 1024.0,
            f.sockets_opened,
            f.rss_loaded_kib.unwrap_or(0) as f64 / 1024.0
        );
    }
    println!(
        "published: {} events in {:.1} s = {:.0}/s ({} requests failed); server counted {} published, {} slow closes",
        f.published,
        f.window_s,
        f.published_per_s(),
        f.failed_requests,
        f.server_published,
        f.server_slow_closes,
    );
    println!(
        "delivered: {:.0} events/s ({} frames in the window); {} in all of {} expected ({:.1} s to drain), {} missing, {} out of order, {} closed 4008",
        f.delivered_per_s(),
        f.delivered_in_window,
        f.delivered_total,
        f.expected,
        f.drain_s,
        f.missing(),
        f.out_of_order,
        f.closed_4008
    );
    print_latency("latency (event at -> frame received)", f.server_latency.as_ref());
    print_latency("end-to-end (client POST sent -> frame received)", f.end_to_end.as_ref());
    println!(
        "server CPU: {} s{} over load + drain = {} CPU-s per million delivered events ({} of them in the kernel); bench client CPU {} s = {} CPU-s per million; server context switches {} per published event",
        opt(f.server_cpu.map(|c| c.total()), 2),
        f.database_cpu_s.map(|d| format!(" + {d:.2} s in PostgreSQL backends")).unwrap_or_default(),
        opt(f.cpu_s_per_million(), 2),
        opt(f.kernel_cpu_s_per_million(), 2),
        opt(f.client_cpu.map(|c| c.total()), 2),
        opt(f.client_cpu_s_per_million(), 2),
        opt(f.switches_per_publish(), 1)
    );
    println!("load average: {} before, {} after", load(f.load_before), load(f.load_after));
}

fn print_latency(what: &str, l: Option<&Latency>) {
    match l {
        Some(l) => println!(
            "{what}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} frames",
            l.p50_ms, l.p99_ms, l.max_ms, l.samples
        ),
        None => println!("{what}: no frames received"),
    }
}

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "?".into(), |v| format!("{v:.decimals$}"))
}

fn load(l: Option<[f64; 3]>) -> String {
    l.map_or_else(|| "?".into(), |[a, b, c]| format!("{a:.2} {b:.2} {c:.2}"))
}

/// One figure of a run, for the comparison table.
struct Row {
    name: &'static str,
    get: fn(&Figures) -> Option<f64>,
    decimals: usize,
}

const ROWS: &[Row] = &[
    Row { name: "published/s", get: |f| Some(f.published_per_s()), decimals: 0 },
    Row { name: "delivered events/s", get: |f| Some(f.delivered_per_s()), decimals: 0 },
    Row { name: "server p50 ms (at -> received)", get: |f| f.server_latency.as_ref().map(|l| l.p50_ms), decimals: 2 },
    Row { name: "server p99 ms", get: |f| f.server_latency.as_ref().map(|l| l.p99_ms), decimals: 2 },
    Row { name: "end-to-end p50 ms (POST -> received)", get: |f| f.end_to_end.as_ref().map(|l| l.p50_ms), decimals: 2 },
    Row { name: "end-to-end p99 ms", get: |f| f.end_to_end.as_ref().map(|l| l.p99_ms), decimals: 2 },
    Row { name: "server (+ PG) CPU-s per M delivered", get: |f| f.cpu_s_per_million(), decimals: 2 },
    Row { name: "  of which server kernel CPU-s", get: |f| f.kernel_cpu_s_per_million(), decimals: 2 },
    Row { name: "bench client CPU-s per M delivered", get: |f| f.client_cpu_s_per_million(), decimals: 2 },
    Row { name: "server context switches per publish", get: |f| f.switches_per_publish(), decimals: 1 },
    Row { name: "RSS per idle socket KiB", get: |f| f.rss_per_socket_kib(), decimals: 2 },
    Row {
        name: "missing + out of order + 4008",
        get: |f| Some((f.missing() + f.out_of_order + f.closed_4008) as f64),
        decimals: 0,
    },
    Row { name: "load average (1 min) after", get: |f| f.load_after.map(|l| l[0]), decimals: 2 },
];

/// `pairs[i]` = (wahub run i, peer run i), run back to back.
pub fn print_comparison(pairs: &[(Figures, Figures)]) {
    println!("\n=== {} interleaved rounds, medians (min-max); ratio = median of wahub/peer pair by pair", pairs.len());
    let label = |f: &Figures| format!("{} ({})", f.target, f.database);
    println!("{:<38} {:>24} {:>24} {:>16}", "figure", label(&pairs[0].0), label(&pairs[0].1), "wahub/peer");
    for row in ROWS {
        let a: Vec<f64> = pairs.iter().filter_map(|(a, _)| (row.get)(a)).collect();
        let b: Vec<f64> = pairs.iter().filter_map(|(_, b)| (row.get)(b)).collect();
        let ratios: Vec<f64> =
            pairs.iter().filter_map(|(a, b)| Some((row.get)(a)? / (row.get)(b)?)).filter(|r| r.is_finite()).collect();
        println!(
            "{:<38} {:>24} {:>24} {:>16}",
            row.name,
            spread(&a, row.decimals),
            spread(&b, row.decimals),
            median(&ratios).map_or_else(|| "-".into(), |r| format!("{r:.2}"))
        );
    }
}

fn spread(v: &[f64], decimals: usize) -> String {
    match (median(v), v.iter().copied().reduce(f64::min), v.iter().copied().reduce(f64::max)) {
        (Some(m), Some(lo), Some(hi)) if v.len() > 1 => format!("{m:.decimals$} ({lo:.decimals$}-{hi:.decimals$})"),
        (Some(m), _, _) => format!("{m:.decimals$}"),
        _ => "?".into(),
    }
}

fn median(v: &[f64]) -> Option<f64> {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[n / 2]),
        n => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(spread(&[1.0, 3.0, 2.0], 1), "2.0 (1.0-3.0)");
    }
}
