//! What a server reports of every request it answered. [`EndpointStats`] counts requests
//! per endpoint and status class; a metrics exporter is another [`Observer`].

use http::{Method, StatusCode};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// One answered request.
#[derive(Debug)]
pub struct Observation<'a> {
    pub server: &'static str,
    pub endpoint: &'static str,
    pub method: &'a Method,
    pub status: StatusCode,
    /// From the request's headers being read to its response headers being ready.
    pub elapsed: Duration,
}

/// Told of every request a server answers.
pub trait Observer: Send + Sync {
    fn observe(&self, o: &Observation<'_>);
}

/// Requests answered by one endpoint.
#[derive(Debug, Default)]
pub struct EndpointCounts {
    /// By status class: index 0 for 1xx ... 4 for 5xx.
    by_class: [AtomicU64; 5],
    total_micros: AtomicU64,
}

impl EndpointCounts {
    /// Requests answered with a status of class `class` (1 to 5).
    pub fn class(&self, class: u16) -> u64 {
        let i = usize::from(class.clamp(1, 5) - 1);
        self.by_class[i].load(Ordering::Relaxed)
    }

    pub fn total(&self) -> u64 {
        self.by_class.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// The summed time to answer, for a mean.
    pub fn total_time(&self) -> Duration {
        Duration::from_micros(self.total_micros.load(Ordering::Relaxed))
    }
}

/// Per-endpoint request counts of one server.
#[derive(Debug, Default)]
pub struct EndpointStats {
    endpoints: RwLock<HashMap<&'static str, Arc<EndpointCounts>>>,
}

impl EndpointStats {
    /// The counts of `endpoint` (zeros if it never answered).
    pub fn get(&self, endpoint: &str) -> Arc<EndpointCounts> {
        let map = self.endpoints.read().unwrap_or_else(|e| e.into_inner());
        map.get(endpoint).cloned().unwrap_or_default()
    }

    fn entry(&self, endpoint: &'static str) -> Arc<EndpointCounts> {
        if let Some(c) = self.endpoints.read().unwrap_or_else(|e| e.into_inner()).get(endpoint) {
            return c.clone();
        }
        let mut map = self.endpoints.write().unwrap_or_else(|e| e.into_inner());
        map.entry(endpoint).or_default().clone()
    }
}

impl Observer for EndpointStats {
    fn observe(&self, o: &Observation<'_>) {
        let counts = self.entry(o.endpoint);
        let class = usize::from((o.status.as_u16() / 100).clamp(1, 5) - 1);
        counts.by_class[class].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(o.elapsed.as_micros()).unwrap_or(u64::MAX);
        counts.total_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_endpoint_and_class() {
        let stats = EndpointStats::default();
        let get = Method::GET;
        for status in [200, 204, 404, 503] {
            let status = StatusCode::from_u16(status).unwrap();
            let elapsed = Duration::from_millis(2);
            stats.observe(&Observation { server: "s", endpoint: "object.get", method: &get, status, elapsed });
        }
        let c = stats.get("object.get");
        assert_eq!((c.class(2), c.class(4), c.class(5), c.total()), (2, 1, 1, 4));
        assert_eq!(c.total_time(), Duration::from_millis(8));
        assert_eq!(stats.get("object.put").total(), 0);
    }
}
