//! A small time-bounded cache for review results: entries expire after a
//! fixed time-to-live, and the map never grows past a bound (expired
//! entries are dropped first, then everything), so a flood of distinct
//! keys cannot exhaust memory.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Duration;

// Tokio's clock, so tests can move time instead of sleeping.
use tokio::time::Instant;

/// A map whose entries live for `ttl`.
#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    max_entries: usize,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// A cache keeping each entry for `ttl`, holding at most `max_entries`.
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        TtlCache {
            ttl,
            max_entries: max_entries.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The value stored for `key`, unless it has expired.
    pub fn get(&self, key: &K) -> Option<V> {
        self.get_at(key, Instant::now())
    }

    /// Stores `value` for `key` from now on.
    pub fn insert(&self, key: K, value: V) {
        self.insert_at(key, value, Instant::now());
    }

    /// Number of entries held (expired ones included until they are purged).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn get_at(&self, key: &K, now: Instant) -> Option<V> {
        let entries = self.lock();
        let (stored, value) = entries.get(key)?;
        (now.saturating_duration_since(*stored) < self.ttl).then(|| value.clone())
    }

    fn insert_at(&self, key: K, value: V, now: Instant) {
        let mut entries = self.lock();
        if entries.len() >= self.max_entries && !entries.contains_key(&key) {
            let ttl = self.ttl;
            entries.retain(|_, (stored, _)| now.saturating_duration_since(*stored) < ttl);
            if entries.len() >= self.max_entries {
                entries.clear();
            }
        }
        entries.insert(key, (now, value));
    }

    /// A poisoned lock is taken over: no write leaves the map inconsistent.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (Instant, V)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_the_ttl() {
        let cache = TtlCache::new(Duration::from_secs(30), 10);
        let t0 = Instant::now();
        cache.insert_at("a", 1, t0);
        assert_eq!(cache.get_at(&"a", t0), Some(1));
        assert_eq!(cache.get_at(&"a", t0 + Duration::from_secs(29)), Some(1));
        assert_eq!(cache.get_at(&"a", t0 + Duration::from_secs(30)), None);
        assert_eq!(cache.get_at(&"b", t0), None);
    }

    #[test]
    fn the_size_stays_bounded() {
        let cache = TtlCache::new(Duration::from_secs(30), 3);
        let t0 = Instant::now();
        for i in 0..3 {
            cache.insert_at(i, i, t0);
        }
        assert_eq!(cache.len(), 3);
        // Full of live entries: everything goes, the new one stays.
        cache.insert_at(3, 3, t0);
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get_at(&3, t0), Some(3));
        // Expired entries are dropped first, live ones survive.
        cache.insert_at(4, 4, t0 + Duration::from_secs(20));
        cache.insert_at(5, 5, t0 + Duration::from_secs(20));
        cache.insert_at(6, 6, t0 + Duration::from_secs(40));
        let later = t0 + Duration::from_secs(40);
        assert_eq!(cache.get_at(&3, later), None);
        assert_eq!(cache.get_at(&4, later), Some(4));
        assert_eq!(cache.get_at(&6, later), Some(6));
        // Replacing an existing key never evicts.
        cache.insert_at(6, 60, later);
        assert_eq!(cache.get_at(&4, later), Some(4));
        assert_eq!(cache.get_at(&6, later), Some(60));
        cache.clear();
        assert!(cache.is_empty());
    }
}
