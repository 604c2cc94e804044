//! Prints a run's figures as a table (and JSON on request).

use crate::path::{PathArgs, PathReport};

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

pub fn print(args: &PathArgs, r: &PathReport) {
    let secs = r.published.elapsed.as_secs_f64().max(1e-9);
    let window = r.delivery_window.as_secs_f64().max(1e-9);
    let lat = &r.latency_us;
    let app = &r.published.append_us;
    println!("kubecast-bench path: {} clients, rate {} ev/s (0 = unbounded), batch {}, {:?}", args.clients, args.rate, args.batch, args.duration);
    println!("| figure | value |");
    println!("|---|---|");
    println!("| events published | {} |", r.published.events);
    println!("| publish rate (events/s) | {:.0} |", r.published.events as f64 / secs);
    println!("| append latency p50 / p99 (ms, per batch) | {:.3} / {:.3} |", ms(app.value_at_quantile(0.5)), ms(app.value_at_quantile(0.99)));
    println!("| deliveries | {} |", r.delivered);
    println!("| deliveries/s | {:.0} |", r.delivered as f64 / window);
    println!("| append → WS receive p50 / p99 / p99.9 / max (ms) | {:.3} / {:.3} / {:.3} / {:.3} |", ms(lat.value_at_quantile(0.5)), ms(lat.value_at_quantile(0.99)), ms(lat.value_at_quantile(0.999)), ms(lat.max()));
    println!("| gaps / duplicates / incomplete clients | {} / {} / {} |", r.gaps, r.duplicates, r.incomplete_clients);
    if args.json {
        let json = serde_json::json!({
            "clients": args.clients, "rate": args.rate, "batch": args.batch,
            "published": r.published.events, "publish_per_s": r.published.events as f64 / secs,
            "deliveries": r.delivered, "deliveries_per_s": r.delivered as f64 / window,
            "latency_ms": {"p50": ms(lat.value_at_quantile(0.5)), "p99": ms(lat.value_at_quantile(0.99)), "p999": ms(lat.value_at_quantile(0.999)), "max": ms(lat.max())},
            "append_ms": {"p50": ms(app.value_at_quantile(0.5)), "p99": ms(app.value_at_quantile(0.99))},
            "gaps": r.gaps, "duplicates": r.duplicates, "incomplete_clients": r.incomplete_clients,
        });
        println!("{json}");
    }
}
