//! Per-key locks of one proxy: conditional writers of a key take turns, from their check to
//! their write's answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OwnedMutexGuard;

/// One lock per key with a conditional write in flight on this proxy.
#[derive(Default)]
pub(crate) struct KeyLocks {
    pub(crate) held: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl KeyLocks {
    /// Waits for the key's lock; the entry goes when its last holder or waiter does.
    pub(crate) async fn lock(&self, key: String) -> KeyGuard {
        let entry = {
            let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
            held.entry(key.clone()).or_default().clone()
        };
        let guard = entry.lock_owned().await;
        KeyGuard { held: self.held.clone(), key, guard: Some(guard) }
    }
}

/// A held key lock; dropping it lets the next writer of the key check.
pub(crate) struct KeyGuard {
    held: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    key: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Drop for KeyGuard {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        // The map's Arc and the one in our guard: nobody else waits for this key.
        if held.get(&self.key).is_some_and(|m| Arc::strong_count(m) <= 2) {
            held.remove(&self.key);
        }
        self.guard.take();
    }
}
