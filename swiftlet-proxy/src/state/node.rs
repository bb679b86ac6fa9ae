//! Storage nodes as the proxy sees them: a ring device (primary or handoff for a request),
//! and the error limiter that remembers which nodes failed often lately.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use swiftlet_ring::Device;

#[derive(Debug, Clone)]
pub struct Node {
    pub dev: Device,
    pub primary: bool,
}

impl Node {
    /// `ip:port/device`, the key errors are counted under.
    pub fn key(&self) -> String {
        node_key(&self.dev)
    }
}

pub(crate) fn node_key(dev: &Device) -> String {
    format!("{}:{}/{}", dev.ip, dev.port, dev.device)
}

/// Counts each node's recent errors; a node over the limit is tried last until its errors age out.
pub struct ErrorLimiter {
    limit: u32,
    interval: Duration,
    errors: Mutex<HashMap<String, (u32, Instant)>>,
}

impl ErrorLimiter {
    pub fn new(limit: u32, interval: Duration) -> Self {
        ErrorLimiter { limit, interval, errors: Mutex::new(HashMap::new()) }
    }

    pub fn record_error(&self, node: &Node) {
        let mut map = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let entry = map.entry(node.key()).or_insert((0, now));
        if now.duration_since(entry.1) > self.interval {
            entry.0 = 0;
        }
        entry.0 += 1;
        entry.1 = now;
        if entry.0 == self.limit + 1 {
            tracing::warn!(node = %node.key(), "node error limited");
        }
    }

    pub fn is_limited(&self, node: &Node) -> bool {
        let map = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&node.key()).is_some_and(|(count, last)| *count > self.limit && last.elapsed() <= self.interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(port: u16) -> Node {
        Node { dev: Device::new(0, (1, 1), ("127.0.0.1", port), "sdb", 1.0), primary: true }
    }

    #[test]
    fn limits_after_threshold_and_recovers() {
        let l = ErrorLimiter::new(2, Duration::from_millis(50));
        let n = node(1);
        for _ in 0..2 {
            l.record_error(&n);
        }
        assert!(!l.is_limited(&n));
        l.record_error(&n);
        assert!(l.is_limited(&n));
        assert!(!l.is_limited(&node(2)));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!l.is_limited(&n));
    }
}
