//! Bad load-generator options are refused before any client connects: by clap (exit 2) for
//! values out of range, by [`check_hybrid`](super::check_hybrid) for combinations.

use super::ClientsArgs;
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: ClientsArgs,
}

fn parse(extra: &[&str]) -> Result<ClientsArgs, clap::Error> {
    let base = ["clients", "--url", "ws://127.0.0.1:1/ws"];
    Cli::try_parse_from(base.iter().chain(extra)).map(|c| c.args)
}

#[test]
fn slow_and_hybrid_options_parse() {
    let a = parse(&[
        "--slow-share",
        "0.01",
        "--slow-read-rate",
        "512",
        "--mode",
        "hybrid",
    ])
    .expect("valid options");
    assert_eq!((a.slow.slow_share, a.slow.slow_read_rate), (0.01, 512));
    assert!(super::check_hybrid(&a).is_ok());
}

#[test]
fn out_of_range_values_are_usage_errors() {
    for bad in [
        ["--slow-share", "2"],
        ["--slow-share", "-0.5"],
        ["--slow-read-rate", "0"],
        ["--poll-interval", "0s"],
    ] {
        let err = parse(&bad)
            .err()
            .unwrap_or_else(|| panic!("{bad:?} was accepted"));
        assert_eq!(err.exit_code(), 2, "{bad:?}");
    }
}

#[test]
fn hybrid_socketio_clients_are_refused() {
    let a = parse(&[
        "--mode",
        "hybrid",
        "--protocol",
        "socketio",
        "--epoch",
        "e1",
    ])
    .expect("parses");
    let err = super::check_hybrid(&a).expect_err("refused");
    assert!(err.to_string().contains("--protocol kubecast"), "{err}");
}
