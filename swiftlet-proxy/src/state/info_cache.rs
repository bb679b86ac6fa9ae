//! A small time-bounded cache for the account and container facts requests need
//! (existence, metadata, ACLs), so each object request does not HEAD its account and
//! container. Swift keeps the same facts in memcache for `recheck_*_existence` seconds.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Bound the cache so a client walking many names cannot grow it without limit.
const MAX_ENTRIES: usize = 10_000;

pub struct InfoCache<K, V> {
    ttl: Duration,
    map: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> InfoCache<K, V> {
    pub fn new(ttl: Duration) -> Self {
        InfoCache { ttl, map: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (Instant, V)>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value stored less than the TTL ago.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.lock().get(key).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, v)| v.clone())
    }

    pub fn put(&self, key: K, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        let mut map = self.lock();
        if map.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            map.retain(|_, (at, _)| at.elapsed() < ttl);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(key, (Instant::now(), value));
    }

    /// Forgets an entry after this proxy changed what it describes.
    pub fn invalidate<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let cache: InfoCache<String, u32> = InfoCache::new(Duration::from_millis(50));
        cache.put("a".into(), 1);
        cache.put("b".into(), 2);
        assert_eq!(cache.get("a"), Some(1));
        cache.invalidate("a");
        assert_eq!(cache.get("a"), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("b"), None, "expired");
    }

    #[test]
    fn a_zero_ttl_caches_nothing_and_size_is_bounded() {
        let off: InfoCache<u32, u32> = InfoCache::new(Duration::ZERO);
        off.put(1, 1);
        assert_eq!(off.get(&1), None);
        let cache: InfoCache<usize, usize> = InfoCache::new(Duration::from_secs(60));
        for i in 0..MAX_ENTRIES + 5 {
            cache.put(i, i);
        }
        assert!(cache.lock().len() <= MAX_ENTRIES);
        assert_eq!(cache.get(&(MAX_ENTRIES + 4)), Some(MAX_ENTRIES + 4));
    }
}
