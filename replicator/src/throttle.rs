//! A rate limit shared by the tasks of one daemon: callers report the units (bytes,
//! objects, updates) they just used, and wait until the average rate is back under the
//! limit. Waits end early when the pass is cancelled.

use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Up to this much unused time is credited, so a short burst after idling is not slowed.
const BURST: Duration = Duration::from_millis(250);

#[derive(Debug)]
pub struct Throttle {
    /// Units per second; 0 means unlimited.
    rate: u64,
    /// The instant at which the units used so far would be "paid for" at `rate`.
    paid_until: Mutex<Instant>,
}

impl Throttle {
    pub fn new(rate: u64) -> Self {
        Throttle { rate, paid_until: Mutex::new(Instant::now()) }
    }

    pub fn unlimited() -> Self {
        Self::new(0)
    }

    /// Records `units` used; returns how long the caller must wait to stay under the rate.
    pub fn charge(&self, units: u64) -> Duration {
        if self.rate == 0 || units == 0 {
            return Duration::ZERO;
        }
        let now = Instant::now();
        let mut paid = self.paid_until.lock().unwrap_or_else(|p| p.into_inner());
        let start = (*paid).max(now.checked_sub(BURST).unwrap_or(now));
        *paid = start + Duration::from_secs_f64(units as f64 / self.rate as f64);
        paid.saturating_duration_since(now)
    }

    /// Records `units` and sleeps as long as [`charge`](Self::charge) says (or until cancelled).
    pub async fn consume(&self, units: u64, cancel: &CancellationToken) {
        let wait = self.charge(units);
        if !wait.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = cancel.cancelled() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_never_waits_and_limited_adds_up() {
        let t = Throttle::unlimited();
        assert_eq!(t.charge(u64::MAX), Duration::ZERO);
        let t = Throttle::new(1000);
        // 500 units at 1000/s is 0.5 s of work; the burst credit covers at most 0.25 s.
        let first = t.charge(500);
        assert!(first > Duration::from_millis(200) && first <= Duration::from_millis(500), "{first:?}");
        let second = t.charge(1000);
        assert!(second > Duration::from_millis(1200) && second <= Duration::from_millis(1500), "{second:?}");
    }

    #[tokio::test]
    async fn consume_sleeps_and_stops_on_cancel() {
        let t = Throttle::new(100);
        let cancel = CancellationToken::new();
        let started = Instant::now();
        t.consume(5, &cancel).await;
        assert!(started.elapsed() >= Duration::from_millis(40), "{:?}", started.elapsed());
        cancel.cancel();
        let started = Instant::now();
        t.consume(1_000_000, &cancel).await;
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
