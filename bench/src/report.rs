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
    println!(
        "kubecast-bench path: {} clients, rate {} ev/s (0 = unbounded), batch {}, {:?}",
        args.clients, args.rate, args.batch, args.duration
    );
    println!("| figure | value |");
    println!("|---|---|");
    println!("| events published | {} |", r.published.events);
    println!(
        "| publish rate (events/s) | {:.0} |",
        r.published.events as f64 / secs
    );
    println!(
        "| append latency p50 / p99 (ms, per batch) | {:.3} / {:.3} |",
        ms(app.value_at_quantile(0.5)),
        ms(app.value_at_quantile(0.99))
    );
    println!("| deliveries | {} |", r.delivered);
    println!("| deliveries/s | {:.0} |", r.delivered as f64 / window);
    println!(
        "| append → WS receive p50 / p99 / p99.9 / max (ms) | {:.3} / {:.3} / {:.3} / {:.3} |",
        ms(lat.value_at_quantile(0.5)),
        ms(lat.value_at_quantile(0.99)),
        ms(lat.value_at_quantile(0.999)),
        ms(lat.max())
    );
    println!(
        "| gaps / duplicates / incomplete clients | {} / {} / {} |",
        r.gaps, r.duplicates, r.incomplete_clients
    );
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

pub fn print_producer(
    args: &crate::producer::ProducerArgs,
    memory_per_object: f64,
    r: &crate::producer::IngestReport,
) {
    let storm_secs = r.storm_ingest.as_secs_f64().max(1e-9);
    let publish_window = r.storm_published_in.as_secs_f64();
    let app = &r.append_us;
    println!(
        "kubecast-bench producer: {} pods, storm of {} watch events, debounce {:?}, batch ≤ {}",
        args.objects, args.storm, args.debounce, args.batch_max
    );
    println!("| figure | value |");
    println!("|---|---|");
    println!(
        "| initial list published ({} added events) | {:.2} s |",
        args.objects,
        r.initial_publish.as_secs_f64()
    );
    println!(
        "| watch events ingested/s (storm) | {:.0} |",
        r.storm_events as f64 / storm_secs
    );
    println!(
        "| events published during the storm (coalesced) | {} |",
        r.storm_published
    );
    println!(
        "| storm ingested and published within | {:.2} s |",
        publish_window
    );
    println!(
        "| events published/s during the storm | {:.0} |",
        r.storm_published as f64 / publish_window.max(1e-9)
    );
    println!(
        "| producer CPU per 10k watch events | {:.1} ms |",
        r.cpu_per_10k * 1000.0
    );
    println!(
        "| producer memory per tracked object (RSS growth) | {:.0} bytes |",
        memory_per_object
    );
    println!(
        "| append latency p50 / p99 / max (ms, per batch) | {:.3} / {:.3} / {:.3} |",
        ms(app.value_at_quantile(0.5)),
        ms(app.value_at_quantile(0.99)),
        ms(app.max())
    );
}
