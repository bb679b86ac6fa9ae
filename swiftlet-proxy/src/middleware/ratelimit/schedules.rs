//! The rate limiter's schedules: for each key (an account, a container), the time its
//! next request may run. This is Swift's memcached counter kept in the proxy's memory
//! instead (Swiftlet has no memcached), so each proxy process limits on its own: with
//! several proxies an account gets up to that many times the configured rate.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys kept at most; past it, schedules that have lapsed are dropped (they would restart
/// anyway), and if that is not enough all are (as memcached evicts): a flood of names may
/// cost limiting, never memory.
const MAX_KEYS: usize = 100_000;

pub(crate) struct Schedules {
    /// Ticks per second (Swift's `clock_accuracy`).
    accuracy: f64,
    /// Ticks a schedule may lag behind now before it restarts: the burst a quiet key earns.
    buffer: i64,
    /// Ticks of the longest wait; a request that would wait longer is refused.
    max_sleep: f64,
    start: Instant,
    map: Mutex<HashMap<String, i64>>,
}

/// The wait would have passed `max_sleep_time_seconds`.
#[derive(Debug, PartialEq)]
pub(crate) struct MaxSleep(pub Duration);

impl Schedules {
    pub(crate) fn new(clock_accuracy: u64, rate_buffer_seconds: u64, max_sleep_time_seconds: f64) -> Self {
        let accuracy = clock_accuracy.max(1) as f64;
        Schedules {
            accuracy,
            buffer: (rate_buffer_seconds as f64 * accuracy) as i64,
            max_sleep: max_sleep_time_seconds * accuracy,
            start: Instant::now(),
            map: Mutex::new(HashMap::new()),
        }
    }

    fn now(&self) -> i64 {
        (self.start.elapsed().as_secs_f64() * self.accuracy).round() as i64
    }

    /// Books the next slot of `key` at `rate` requests per second and says how long the
    /// caller must sleep before using it (Swift's `_get_sleep_time`). A refused request
    /// gives its slot back.
    pub(crate) fn book(&self, key: &str, rate: f64) -> Result<Duration, MaxSleep> {
        let now = self.now();
        let step = (self.accuracy / rate).round() as i64;
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if !map.contains_key(key) && map.len() >= MAX_KEYS {
            let horizon = now - self.buffer;
            map.retain(|_, next| *next >= horizon);
            if map.len() >= MAX_KEYS {
                tracing::warn!(keys = map.len(), "rate limit schedules full; forgetting them all");
                map.clear();
            }
        }
        let slot = map.entry(key.to_string()).or_insert(i64::MIN);
        let booked = slot.saturating_add(step);
        let wait = if now.saturating_sub(booked) > self.buffer {
            // Quiet for longer than the buffer (or never seen): start over from now.
            *slot = now + step;
            0
        } else {
            *slot = booked;
            (booked - now - step).max(0)
        };
        if self.max_sleep - wait as f64 <= self.accuracy * 0.01 {
            *slot -= step;
            return Err(MaxSleep(self.ticks(wait)));
        }
        Ok(self.ticks(wait))
    }

    fn ticks(&self, t: i64) -> Duration {
        Duration::from_secs_f64(t.max(0) as f64 / self.accuracy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_spaced_at_the_rate() {
        let s = Schedules::new(1000, 5, 60.0);
        // 10 per second: each booking right after the last waits one more 100 ms step.
        let waits: Vec<u128> = (0..4).map(|_| s.book("k", 10.0).unwrap().as_millis()).collect();
        assert!(waits[0] == 0, "{waits:?}");
        for (i, w) in waits.iter().enumerate().skip(1) {
            let want = 100 * i as u128;
            assert!(*w + 50 >= want && *w <= want, "{waits:?}");
        }
        // Other keys have their own schedule.
        assert_eq!(s.book("other", 10.0).unwrap(), Duration::ZERO);
    }

    #[test]
    fn too_long_a_wait_is_refused_and_gives_its_slot_back() {
        let s = Schedules::new(1000, 5, 0.25);
        assert_eq!(s.book("k", 10.0).unwrap(), Duration::ZERO);
        assert!(s.book("k", 10.0).is_ok()); // ~100 ms
        assert!(s.book("k", 10.0).is_ok()); // ~200 ms
        let refused = s.book("k", 10.0).unwrap_err();
        assert!(refused.0 >= Duration::from_millis(240), "{refused:?}");
        // The refused request did not take a slot: the next one is refused the same way.
        assert!(s.book("k", 10.0).unwrap_err().0 <= Duration::from_millis(300));
    }

    #[test]
    fn a_quiet_key_starts_over() {
        let s = Schedules::new(1000, 0, 60.0);
        s.book("k", 1000.0).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(s.book("k", 1000.0).unwrap(), Duration::ZERO);
    }

    #[test]
    fn the_map_stays_bounded() {
        let s = Schedules::new(1000, 0, 60.0);
        for i in 0..MAX_KEYS + 10 {
            s.book(&format!("k{i}"), 0.001).unwrap();
        }
        let len = s.map.lock().unwrap().len();
        assert!(len <= MAX_KEYS, "{len}");
    }
}
