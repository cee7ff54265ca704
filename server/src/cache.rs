//! Coalescing and short-lived caching of expensive answers: identical
//! requests arriving together share one computation (one set of upstream
//! queries), and its result is reused for a configurable time. Failures are
//! not cached.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

/// Entries above which expired ones are swept on insert.
const SWEEP_ABOVE: usize = 256;

struct Entry<V> {
    cell: Arc<OnceCell<V>>,
    created: Instant,
}

/// A map from request key to a shared, briefly cached result.
pub struct Coalescer<V> {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry<V>>>,
}

impl<V: Clone> Coalescer<V> {
    /// Results live for `ttl` (zero: only concurrent requests share).
    pub fn new(ttl: Duration) -> Self {
        Coalescer {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cached value for `key`, or the result of `compute` shared with
    /// every caller asking for `key` while it runs.
    pub async fn get_or_try<E, F, Fut>(&self, key: String, compute: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let cell = {
            let mut entries = self
                .entries
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let now = Instant::now();
            let fresh =
                |e: &Entry<V>| e.cell.get().is_none() || now.duration_since(e.created) <= self.ttl;
            if entries.len() > SWEEP_ABOVE {
                entries.retain(|_, e| fresh(e));
            }
            match entries.get(&key) {
                Some(entry) if fresh(entry) => entry.cell.clone(),
                _ => {
                    let cell = Arc::new(OnceCell::new());
                    entries.insert(
                        key,
                        Entry {
                            cell: cell.clone(),
                            created: now,
                        },
                    );
                    cell
                }
            }
        };
        cell.get_or_try_init(compute).await.cloned()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn concurrent_identical_requests_compute_once() {
        let cache = Arc::new(Coalescer::<u32>::new(Duration::from_secs(10)));
        let runs = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (cache, runs) = (cache.clone(), runs.clone());
                tokio::spawn(async move {
                    cache
                        .get_or_try("k".into(), || async {
                            runs.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok::<_, ()>(7)
                        })
                        .await
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), Ok(7));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn failures_are_not_cached_and_entries_expire() {
        let cache = Coalescer::<u32>::new(Duration::from_millis(30));
        assert_eq!(
            cache
                .get_or_try("k".into(), || async { Err::<u32, _>("down") })
                .await,
            Err("down")
        );
        assert_eq!(
            cache
                .get_or_try("k".into(), || async { Ok::<_, &str>(1) })
                .await,
            Ok(1)
        );
        assert_eq!(
            cache
                .get_or_try("k".into(), || async { Ok::<_, &str>(2) })
                .await,
            Ok(1)
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(
            cache
                .get_or_try("k".into(), || async { Ok::<_, &str>(3) })
                .await,
            Ok(3)
        );
    }
}
