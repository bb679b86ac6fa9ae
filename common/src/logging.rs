//! One place that sets up `tracing` output for every binary.

use std::io::IsTerminal;

/// Logs to stderr, filtered by `RUST_LOG` (default `info`). Safe to call twice. Colours
/// only on a terminal: log files stay plain text (and every request's span fields were
/// being painted, about 1% of a small GET's CPU).
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
