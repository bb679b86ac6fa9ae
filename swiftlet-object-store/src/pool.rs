//! A bounded blocking thread pool per device, so one slow disk cannot stall the others.
//!
//! Every file system call of the store (open, write, fsync, rename, xattrs, RocksDB)
//! runs here, never on the tokio runtime. Each device has its own threads: a disk that hangs
//! ties up only its own threads and its own queue. The queue is bounded by a semaphore;
//! callers beyond it wait asynchronously (backpressure), not on a thread.

use crate::error::{Result, StoreError};
use std::collections::VecDeque;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The jobs waiting for a device's threads. Each push wakes one idle thread; a mutex
/// around an mpsc receiver woke two per job (the taker, then the next thread queued on
/// the mutex), and spinning channels burn the two cores this runs on.
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
}

#[derive(Default)]
struct QueueState {
    jobs: VecDeque<Job>,
    closed: bool,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        // Jobs run outside the lock, so a poisoned lock only means a panic in VecDeque itself.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, job: Job) {
        self.lock().jobs.push_back(job);
        self.ready.notify_one();
    }

    /// The next job, or `None` once the pool is closed and drained.
    fn pop(&self) -> Option<Job> {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.jobs.pop_front() {
                return Some(job);
            }
            if state.closed {
                return None;
            }
            state = self.ready.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// Held by every pool handle: when the last one goes, the threads finish the queue and exit.
struct Closer(Arc<Queue>);

impl Drop for Closer {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.ready.notify_all();
    }
}

#[derive(Clone)]
pub struct DevicePool {
    name: Arc<str>,
    queue: Arc<Closer>,
    slots: Arc<Semaphore>,
}

impl std::fmt::Debug for DevicePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevicePool").field("name", &self.name).finish()
    }
}

/// A submitted job: await it for the result. The job runs whether or not this is polled.
pub struct JobHandle<T> {
    rx: oneshot::Receiver<T>,
    name: Arc<str>,
}

impl<T> Future for JobHandle<T> {
    type Output = Result<T>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let name = self.name.clone();
        Pin::new(&mut self.rx).poll(cx).map(|r| r.map_err(|_| StoreError::Internal(format!("job on {name} panicked"))))
    }
}

impl DevicePool {
    /// Starts `threads` workers named after the device; `queue` more jobs may wait for them.
    pub fn new(name: &str, threads: usize, queue: usize) -> std::io::Result<Self> {
        let jobs = Arc::new(Queue::default());
        let threads = threads.max(1);
        for i in 0..threads {
            let jobs = jobs.clone();
            std::thread::Builder::new().name(format!("obj-{name}-{i}")).spawn(move || worker(&jobs))?;
        }
        Ok(DevicePool {
            name: name.into(),
            queue: Arc::new(Closer(jobs)),
            slots: Arc::new(Semaphore::new(threads + queue)),
        })
    }

    /// Queues `f` (waiting asynchronously for a slot) and returns a handle to its result.
    pub async fn spawn<F, T>(&self, f: F) -> Result<JobHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit =
            self.slots.clone().acquire_owned().await.map_err(|_| StoreError::PoolClosed(self.name.to_string()))?;
        self.submit(permit, f)
    }

    fn submit<F, T>(&self, permit: OwnedSemaphorePermit, f: F) -> Result<JobHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (done, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _permit = permit;
            // The caller may have gone away; then nobody wants the result.
            let _ = done.send(f());
        });
        self.queue.0.push(job);
        Ok(JobHandle { rx, name: self.name.clone() })
    }

    /// Drops `value` on the device's threads (e.g. a writer whose drop deletes a temp file),
    /// so the caller's async task never blocks on file system calls.
    pub fn dispose<T: Send + 'static>(&self, value: T) {
        let pool = self.clone();
        tokio::spawn(async move {
            let _ = pool.run(move || drop(value)).await;
        });
    }

    /// Runs `f` on the device's threads and waits for its result.
    pub async fn run<F, T>(&self, f: F) -> Result<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.spawn(f).await?.await
    }

    /// Like [`run`](Self::run) for jobs that return a `Result` whose error a [`StoreError`]
    /// converts into (this crate's, or a caller's own that wraps it).
    pub async fn run_io<F, T, E>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce() -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.run(f).await?
    }
}

fn worker(queue: &Queue) {
    while let Some(job) = queue.pop() {
        // A panicking job drops its result sender (the caller sees an error); the thread lives on.
        if std::panic::catch_unwind(AssertUnwindSafe(job)).is_err() {
            tracing::error!("device pool job panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn runs_jobs_and_survives_panics() {
        let pool = DevicePool::new("t", 2, 4).unwrap();
        assert_eq!(pool.run(|| 6 * 7).await.unwrap(), 42);
        let err = pool.run(|| -> u32 { panic!("boom") }).await;
        assert!(matches!(err, Err(StoreError::Internal(_))));
        assert_eq!(pool.run(|| 1).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn one_slow_device_does_not_stall_another() {
        let slow = DevicePool::new("slow", 2, 2).unwrap();
        let fast = DevicePool::new("fast", 2, 2).unwrap();
        let started = Arc::new(AtomicUsize::new(0));
        let mut stuck = Vec::new();
        for _ in 0..4 {
            let started = started.clone();
            stuck.push(
                slow.spawn(move || {
                    started.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(400));
                })
                .await
                .unwrap(),
            );
        }
        while started.load(Ordering::SeqCst) < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The slow pool is full (2 running + 2 queued); the fast one answers at once.
        let t = Instant::now();
        for _ in 0..20 {
            fast.run(|| ()).await.unwrap();
        }
        assert!(t.elapsed() < Duration::from_millis(200), "{:?}", t.elapsed());
        assert_eq!(started.load(Ordering::SeqCst), 2);
        // And a fifth slow job waits for a slot instead of blocking the runtime.
        let waiting = tokio::time::timeout(Duration::from_millis(50), slow.spawn(|| ())).await;
        assert!(waiting.is_err());
        for h in stuck {
            h.await.unwrap();
        }
    }
}
