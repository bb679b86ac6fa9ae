//! Password hashing is expensive on purpose (argon2id: ~19 MiB and tens of milliseconds
//! each) and logins need no credentials, so without a bound a flood of bogus logins would
//! queue hashes without end on the shared blocking pool: memory runs out and the other
//! blocking work (SQLite calls, image files) starves. The gate runs at most `permits`
//! hashes at once, lets at most `queue` more wait (each for at most `max_wait`), and turns
//! the rest away at once, before any hashing, as 503 with Retry-After.

use crate::error::{Result, ShimError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// What a client that was turned away is told to wait, seconds.
pub const RETRY_AFTER_SECS: u64 = 1;

pub struct HashGate {
    /// One permit per hash that may run.
    running: Arc<Semaphore>,
    /// One permit per hash that may run or wait to.
    admitted: Arc<Semaphore>,
    max_wait: Duration,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    active: AtomicUsize,
    peak: AtomicUsize,
}

/// Counts one hash as running while it lives.
struct Active(Arc<Counts>);

impl Active {
    fn enter(counts: Arc<Counts>) -> Self {
        let now = counts.active.fetch_add(1, Ordering::SeqCst) + 1;
        counts.peak.fetch_max(now, Ordering::SeqCst);
        Active(counts)
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

impl HashGate {
    /// `permits` 0 means one per core.
    pub fn new(permits: usize, queue: usize, max_wait: Duration) -> Self {
        let permits = if permits == 0 { std::thread::available_parallelism().map_or(2, |n| n.get()) } else { permits };
        HashGate {
            running: Arc::new(Semaphore::new(permits)),
            admitted: Arc::new(Semaphore::new(permits.saturating_add(queue))),
            max_wait,
            counts: Arc::default(),
        }
    }

    /// Runs `work` (a hash or a verification) on the blocking pool once a permit is free,
    /// or answers [`ShimError::Busy`] without running it.
    pub async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let admitted = self.admitted.clone().try_acquire_owned().map_err(|_| busy())?;
        let permit = tokio::time::timeout(self.max_wait, self.running.clone().acquire_owned())
            .await
            .map_err(|_| busy())?
            .map_err(|_| busy())?;
        let counts = self.counts.clone();
        // The permits go with the work, not the request: a client that hangs up does not
        // free its slot until its hash has actually finished.
        tokio::task::spawn_blocking(move || {
            let active = Active::enter(counts);
            let out = work();
            // Counted out before the permits go, so the count never exceeds them.
            drop(active);
            drop((permit, admitted));
            out
        })
        .await
        .map_err(|e| ShimError::Internal(format!("password hash task: {e}")))
    }

    /// The most hashes that ran at once so far.
    pub fn peak(&self) -> usize {
        self.counts.peak.load(Ordering::SeqCst)
    }
}

fn busy() -> ShimError {
    ShimError::Busy { retry_after: RETRY_AFTER_SECS }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_permits_run_and_past_the_queue_callers_are_turned_away_at_once() {
        let gate = Arc::new(HashGate::new(2, 3, Duration::from_secs(10)));
        let calls: Vec<_> = (0..20)
            .map(|_| {
                let gate = gate.clone();
                tokio::spawn(async move {
                    let started = Instant::now();
                    let r = gate.run(|| std::thread::sleep(Duration::from_millis(100))).await;
                    (r.is_ok(), started.elapsed())
                })
            })
            .collect();
        let mut done = 0;
        for c in calls {
            let (ok, took) = c.await.unwrap();
            if ok {
                done += 1;
            } else {
                assert!(took < Duration::from_millis(90), "turned away before any work: {took:?}");
            }
        }
        assert_eq!(done, 5, "2 running and 3 waiting");
        assert_eq!(gate.peak(), 2);
        assert!(gate.run(|| 7).await.is_ok_and(|v| v == 7), "free again");
    }

    #[tokio::test]
    async fn a_wait_past_max_wait_is_turned_away() {
        let gate = Arc::new(HashGate::new(1, 5, Duration::from_millis(50)));
        let slow = tokio::spawn({
            let gate = gate.clone();
            async move { gate.run(|| std::thread::sleep(Duration::from_millis(500))).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(matches!(gate.run(|| ()).await, Err(ShimError::Busy { retry_after: RETRY_AFTER_SECS })));
        assert!(slow.await.unwrap().is_ok());
    }
}
