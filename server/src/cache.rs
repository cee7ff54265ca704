//! Coalescing and bounded caching of expensive answers (the traffic graph's
//! Prometheus vectors, metrics reports).
//!
//! - Identical requests arriving together share one computation. It runs
//!   in a task of its own, so a caller that goes away cancels nothing for
//!   the others, and every caller waiting for it gets its answer or its
//!   failure. A failure is handed to those waiters and then forgotten: the
//!   next request starts a fresh computation.
//! - Every computation is cut off at a deadline (the upstream timeout plus
//!   a margin, see [`CacheOptions::deadline`]). A caller that joins a
//!   running computation waits for that one, never for a queue of retries,
//!   so nobody waits longer than the deadline.
//! - Answers that will be asked for again ([`Keep::Retain`]: graphs and
//!   charts of "now") are kept for a time to live, within a budget of bytes
//!   estimated by a weigher; when the budget is exceeded the answers that
//!   expire soonest make room, and each answer is dropped when it expires,
//!   whether or not anyone asks again. Replays of an explicit past moment
//!   ([`Keep::Discard`]) are shared only with the requests arriving while
//!   they are computed.
//!
//! Written here rather than with the `moka` crate: README, "Caching", says
//! why.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use tokio::task::AbortHandle;
use tokio::time::Instant;
use tracing::Instrument;

/// Bytes a heap allocation of `len` bytes takes from the allocator: glibc's
/// malloc adds an 8-byte header and rounds chunks up to 16 bytes, at least
/// 32. Weighers add this for every `String` and `Vec` buffer.
pub fn heap_bytes(len: usize) -> usize {
    if len == 0 {
        0
    } else {
        (len + 8).next_multiple_of(16).max(32)
    }
}

/// How much a cache may keep, for how long, and how long one computation
/// may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheOptions {
    /// How long a kept answer is reused (zero: answers are only shared
    /// while they are computed).
    pub ttl: Duration,
    /// Most bytes of kept answers, by the weigher's estimate (zero: keep
    /// nothing).
    pub max_bytes: usize,
    /// How long one computation may run before it fails for every caller
    /// waiting for it.
    pub deadline: Duration,
}

/// Whether an answer is worth keeping once it has been handed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// It will be asked for again (a moment aligned to "now"): keep it for
    /// the time to live, budget permitting.
    Retain,
    /// It is a replay of an explicit moment, unlikely to be asked for
    /// again: share it with the requests arriving while it is computed,
    /// then drop it.
    Discard,
}

/// Why a shared computation ended without an answer of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unanswered {
    /// It was still running at the deadline, and was dropped.
    Deadline(Duration),
    /// Its task ended without a result: it panicked, or the runtime is
    /// shutting down.
    Aborted,
}

/// What a cache holds right now (for tests and benchmarks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Answers kept.
    pub entries: usize,
    /// Their estimated size in bytes.
    pub bytes: usize,
    /// Computations running.
    pub running: usize,
}

/// An answer as every waiter receives it: failures are shared, so they come
/// in an `Arc`.
pub type Answer<V, E> = Result<V, Arc<E>>;

type Pending<V, E> = Shared<BoxFuture<'static, Answer<V, E>>>;

enum Entry<V, E> {
    Running {
        id: u64,
        answer: Pending<V, E>,
    },
    Ready {
        id: u64,
        value: V,
        weight: usize,
        expires: Instant,
        /// The task dropping it when it expires; stopped when it goes
        /// earlier, so evictions leave no timers behind.
        timer: AbortHandle,
    },
}

struct Store<V, E> {
    slots: HashMap<String, Entry<V, E>>,
    /// Kept answers by expiry, soonest first: the order of eviction.
    by_expiry: BTreeMap<(Instant, u64), String>,
    /// Sum of the kept answers' weights.
    bytes: usize,
    /// Identifies a slot's occupant, so that a finishing computation or an
    /// expiry timer never removes a successor under the same key.
    next_id: u64,
}

impl<V, E> Store<V, E> {
    /// Removes the kept answer `id` under `key`, with its place in the
    /// expiry order (an expiry timer: nothing if the slot has a successor).
    fn remove(&mut self, key: &str, id: u64) {
        if let Some(Entry::Ready {
            id: kept, expires, ..
        }) = self.slots.get(key)
            && *kept == id
        {
            let expires = *expires;
            self.by_expiry.remove(&(expires, id));
            self.drop_ready(key, id);
        }
    }

    /// Removes the kept answer `id` under `key` whose place in the expiry
    /// order the caller took out already.
    fn drop_ready(&mut self, key: &str, id: u64) {
        if matches!(self.slots.get(key), Some(Entry::Ready { id: kept, .. }) if *kept == id) {
            if let Some(Entry::Ready { weight, timer, .. }) = self.slots.remove(key) {
                self.bytes -= weight;
                timer.abort();
            }
        }
    }

    /// Drops the kept answers that expire first until `room` more bytes fit
    /// within `max_bytes`.
    fn make_room(&mut self, room: usize, max_bytes: usize) {
        while self.bytes + room > max_bytes {
            let Some(((_, id), key)) = self.by_expiry.pop_first() else {
                break;
            };
            self.drop_ready(&key, id);
        }
    }

    /// Drops the answers that have expired by `now` (their timers normally
    /// have already; this covers a timer that has not run yet).
    fn expire(&mut self, now: Instant) {
        while let Some(entry) = self.by_expiry.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((_, id), key) = entry.remove_entry();
            self.drop_ready(&key, id);
        }
    }
}

struct Inner<V, E> {
    options: CacheOptions,
    weigh: fn(&V) -> usize,
    unanswered: fn(Unanswered) -> E,
    store: Mutex<Store<V, E>>,
}

impl<V, E> Inner<V, E> {
    fn lock(&self) -> MutexGuard<'_, Store<V, E>> {
        // Nothing panics while the lock is held; a poisoned store is still
        // consistent.
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A map from request key to a shared computation or a kept answer.
pub struct Coalescer<V, E> {
    inner: Arc<Inner<V, E>>,
    /// Its name in meshdeck's own metrics.
    name: &'static str,
}

impl<V, E> Coalescer<V, E>
where
    V: Clone + Send + Sync + 'static,
    E: Send + Sync + 'static,
{
    /// A cache within `options`; `weigh` estimates the bytes an answer
    /// holds, `unanswered` makes the error of a computation that ended
    /// without one.
    pub fn new(
        options: CacheOptions,
        weigh: fn(&V) -> usize,
        unanswered: fn(Unanswered) -> E,
    ) -> Self {
        Coalescer {
            inner: Arc::new(Inner {
                options,
                weigh,
                unanswered,
                store: Mutex::new(Store {
                    slots: HashMap::new(),
                    by_expiry: BTreeMap::new(),
                    bytes: 0,
                    next_id: 0,
                }),
            }),
            name: "cache",
        }
    }

    /// The same cache, named `name` in meshdeck's own metrics.
    pub fn named(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    /// The options it was built with.
    pub fn options(&self) -> CacheOptions {
        self.inner.options
    }

    /// The kept answer for `key`, or the answer of the computation running
    /// for it, or the answer of `compute` started now (in a task of its
    /// own, cut off at the deadline) and shared with every caller asking
    /// for `key` until it ends. `keep` says whether to keep it afterwards.
    pub async fn get_or_try<F, Fut>(&self, key: String, keep: Keep, compute: F) -> Answer<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
    {
        let pending = {
            let mut store = self.inner.lock();
            store.expire(Instant::now());
            let metrics = crate::selfmetrics::global();
            match store.slots.get(&key) {
                Some(Entry::Ready { value, .. }) => {
                    metrics.cache(self.name, "hit");
                    return Ok(value.clone());
                }
                Some(Entry::Running { answer, .. }) => {
                    metrics.cache(self.name, "coalesced");
                    answer.clone()
                }
                None => {
                    metrics.cache(self.name, "miss");
                    self.start(&mut store, key, keep, compute())
                }
            }
        };
        pending.await
    }

    /// Spawns `work` for `key` and records it as running; the caller holds
    /// the lock, so the task cannot finish before the record exists.
    fn start<Fut>(
        &self,
        store: &mut Store<V, E>,
        key: String,
        keep: Keep,
        work: Fut,
    ) -> Pending<V, E>
    where
        Fut: Future<Output = Result<V, E>> + Send + 'static,
    {
        let id = store.next_id;
        store.next_id += 1;
        let (deadline, unanswered) = (self.inner.options.deadline, self.inner.unanswered);
        let mut finish = Finish {
            inner: Arc::downgrade(&self.inner),
            key: key.clone(),
            id,
        };
        // In the span of the request that started it, so its upstream
        // calls are that request's children in a trace.
        let task = tokio::spawn(
            async move {
                let answer = match tokio::time::timeout(deadline, work).await {
                    Ok(Ok(value)) => Ok(value),
                    Ok(Err(err)) => Err(Arc::new(err)),
                    Err(_) => Err(Arc::new(unanswered(Unanswered::Deadline(deadline)))),
                };
                finish.done(&answer, keep);
                answer
            }
            .in_current_span(),
        );
        let answer = async move {
            task.await
                .unwrap_or_else(|_| Err(Arc::new(unanswered(Unanswered::Aborted))))
        }
        .boxed()
        .shared();
        store.slots.insert(
            key,
            Entry::Running {
                id,
                answer: answer.clone(),
            },
        );
        answer
    }

    /// What it holds right now.
    pub fn stats(&self) -> CacheStats {
        let store = self.inner.lock();
        let running = store
            .slots
            .values()
            .filter(|s| matches!(s, Entry::Running { .. }))
            .count();
        CacheStats {
            entries: store.slots.len() - running,
            bytes: store.bytes,
            running,
        }
    }
}

/// Clears a computation's slot when its task ends: replaced by the answer
/// if that is kept, removed otherwise. Its `Drop` covers a task that
/// panicked, so no slot stays "running" for ever.
struct Finish<V, E> {
    inner: Weak<Inner<V, E>>,
    key: String,
    id: u64,
}

impl<V, E> Finish<V, E>
where
    V: Clone + Send + Sync + 'static,
    E: Send + Sync + 'static,
{
    fn done(&mut self, answer: &Answer<V, E>, keep: Keep) {
        let Some(inner) = self.inner.upgrade() else {
            return;
        };
        let options = inner.options;
        // Weighed before taking the lock: a large answer takes a while. The
        // key counts too, held twice (the map and the expiry order): a
        // metrics key carries eleven queries.
        let kept = match answer {
            Ok(value)
                if keep == Keep::Retain && !options.ttl.is_zero() && options.max_bytes > 0 =>
            {
                let weight = (inner.weigh)(value) + 2 * heap_bytes(self.key.len());
                (weight <= options.max_bytes).then(|| (value.clone(), weight))
            }
            _ => None,
        };
        let mut store = inner.lock();
        let ours =
            matches!(store.slots.get(&self.key), Some(Entry::Running { id, .. }) if *id == self.id);
        if !ours {
            return;
        }
        store.slots.remove(&self.key);
        let Some((value, weight)) = kept else {
            return;
        };
        let now = Instant::now();
        store.expire(now);
        store.make_room(weight, options.max_bytes);
        let expires = now + options.ttl;
        // Dropped when it expires, even if nobody asks for anything again
        // (the timer waits for the lock held here before it can look).
        let (weak, key, id) = (self.inner.clone(), self.key.clone(), self.id);
        let timer = tokio::spawn(async move {
            tokio::time::sleep_until(expires).await;
            if let Some(inner) = weak.upgrade() {
                inner.lock().remove(&key, id);
            }
        })
        .abort_handle();
        store.bytes += weight;
        store.by_expiry.insert((expires, self.id), self.key.clone());
        store.slots.insert(
            self.key.clone(),
            Entry::Ready {
                id: self.id,
                value,
                weight,
                expires,
                timer,
            },
        );
    }
}

impl<V, E> Drop for Finish<V, E> {
    fn drop(&mut self) {
        // After `done` the slot holds a kept answer (left alone: only a
        // running slot is ours to clear) or a successor.
        if let Some(inner) = self.inner.upgrade() {
            let mut store = inner.lock();
            if matches!(store.slots.get(&self.key), Some(Entry::Running { id, .. }) if *id == self.id)
            {
                store.slots.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    type Cache = Coalescer<usize, &'static str>;

    /// A cache whose answers weigh what they are.
    fn cache(ttl: Duration, max_bytes: usize, deadline: Duration) -> Arc<Cache> {
        Arc::new(Coalescer::new(
            CacheOptions {
                ttl,
                max_bytes,
                deadline,
            },
            |v| *v,
            |why| match why {
                Unanswered::Deadline(_) => "deadline",
                Unanswered::Aborted => "aborted",
            },
        ))
    }

    const MINUTE: Duration = Duration::from_secs(60);

    /// `n` concurrent requests for `key`, each counting a run in `runs`
    /// and answering `answer` after `delay`.
    async fn together(
        cache: &Arc<Cache>,
        n: usize,
        key: &str,
        keep: Keep,
        runs: &Arc<AtomicUsize>,
        delay: Duration,
        answer: Result<usize, &'static str>,
    ) -> Vec<Result<usize, &'static str>> {
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (cache, runs, key) = (cache.clone(), runs.clone(), key.to_owned());
                tokio::spawn(async move {
                    cache
                        .get_or_try(key, keep, || async move {
                            runs.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(delay).await;
                            answer
                        })
                        .await
                        .map_err(|e| *e)
                })
            })
            .collect();
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap());
        }
        answers
    }

    #[tokio::test]
    async fn concurrent_identical_requests_compute_once() {
        let cache = cache(MINUTE, 1000, MINUTE);
        let runs = Arc::new(AtomicUsize::new(0));
        let ms50 = Duration::from_millis(50);
        let answers = together(&cache, 8, "k", Keep::Retain, &runs, ms50, Ok(7)).await;
        assert_eq!(answers, vec![Ok(7); 8]);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Kept: a later request is answered without a run.
        let later = together(&cache, 1, "k", Keep::Retain, &runs, ms50, Ok(8)).await;
        assert_eq!(later, vec![Ok(7)]);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn waiters_of_a_failure_share_it_and_the_next_request_computes_again() {
        let cache = cache(MINUTE, 1000, MINUTE);
        let runs = Arc::new(AtomicUsize::new(0));
        let ms50 = Duration::from_millis(50);
        let answers = together(&cache, 8, "k", Keep::Retain, &runs, ms50, Err("down")).await;
        assert_eq!(answers, vec![Err("down"); 8]);
        // One computation, its failure handed to all eight (not re-run by
        // each waiter in turn).
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(
            cache.stats(),
            CacheStats::default(),
            "failures are not kept"
        );
        let next = together(&cache, 1, "k", Keep::Retain, &runs, ms50, Ok(1)).await;
        assert_eq!(next, vec![Ok(1)]);
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_computation_ends_every_waiter_by_the_deadline() {
        let deadline = Duration::from_millis(200);
        let cache = cache(MINUTE, 1000, deadline);
        let runs = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        // Four callers joining 0, 50, 100 and 150 ms into a computation
        // that never ends.
        let tasks: Vec<_> = (0..4u64)
            .map(|i| {
                let (cache, runs) = (cache.clone(), runs.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(50 * i)).await;
                    let answer = cache
                        .get_or_try("k".into(), Keep::Retain, || async move {
                            runs.fetch_add(1, Ordering::SeqCst);
                            std::future::pending::<Result<usize, &str>>().await
                        })
                        .await
                        .map_err(|e| *e);
                    (answer, started.elapsed())
                })
            })
            .collect();
        // A guard, so that a caller left waiting fails the test instead of
        // hanging it (time is paused: it advances whenever all tasks wait).
        let all = tokio::time::timeout(MINUTE, futures::future::join_all(tasks))
            .await
            .expect("every caller ends");
        for ended in all {
            let (answer, elapsed) = ended.unwrap();
            assert_eq!(answer, Err("deadline"));
            assert!(elapsed <= deadline, "{elapsed:?}");
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(cache.stats(), CacheStats::default());
        // The next request starts afresh.
        let ms1 = Duration::from_millis(1);
        let next = together(&cache, 1, "k", Keep::Retain, &runs, ms1, Ok(3)).await;
        assert_eq!(next, vec![Ok(3)]);
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn kept_answers_stay_within_the_byte_budget() {
        // An answer of 40 under a one-letter key weighs 40 + 2 x 32: the key
        // is held twice, each copy a 32-byte chunk.
        let entry = 40 + 2 * 32;
        let cache = cache(MINUTE, 250, MINUTE);
        let runs = Arc::new(AtomicUsize::new(0));
        let ms1 = Duration::from_millis(1);
        for key in ["a", "b", "c"] {
            together(&cache, 1, key, Keep::Retain, &runs, ms1, Ok(40)).await;
            assert!(cache.stats().bytes <= 250, "{:?}", cache.stats());
        }
        // 3 x 104 > 250: the oldest went.
        assert_eq!(
            cache.stats(),
            CacheStats {
                entries: 2,
                bytes: 2 * entry,
                running: 0
            }
        );
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        together(&cache, 1, "c", Keep::Retain, &runs, ms1, Ok(40)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3, "c is kept");
        together(&cache, 1, "a", Keep::Retain, &runs, ms1, Ok(40)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 4, "a was evicted");
        // An answer heavier than the whole budget (200 + 64) is handed out,
        // not kept, and evicts nothing.
        let big = together(&cache, 1, "big", Keep::Retain, &runs, ms1, Ok(200)).await;
        assert_eq!(big, vec![Ok(200)]);
        assert_eq!(cache.stats().entries, 2);
        assert_eq!(cache.stats().bytes, 2 * entry);
    }

    #[tokio::test]
    async fn evicted_answers_leave_no_timers_behind() {
        let cache = cache(MINUTE, 250, MINUTE);
        let runs = Arc::new(AtomicUsize::new(0));
        let ms1 = Duration::from_millis(1);
        let tasks = || {
            tokio::runtime::Handle::current()
                .metrics()
                .num_alive_tasks()
        };
        let before = tasks();
        for i in 0..100 {
            let key = format!("{}", (b'a' + i % 26) as char).repeat(1 + usize::from(i / 26));
            together(&cache, 1, &key, Keep::Retain, &runs, ms1, Ok(40)).await;
        }
        // Two answers fit; each has its expiry timer. The 98 evicted ones'
        // timers (a minute each) are gone.
        assert_eq!(cache.stats().entries, 2);
        assert_eq!(tasks() - before, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn answers_expire_even_without_requests() {
        let cache = cache(Duration::from_secs(1), 1000, MINUTE);
        let runs = Arc::new(AtomicUsize::new(0));
        let ms1 = Duration::from_millis(1);
        together(&cache, 1, "k", Keep::Retain, &runs, ms1, Ok(10)).await;
        assert_eq!(cache.stats().entries, 1);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        // No request in between: the expiry timer dropped it.
        assert_eq!(cache.stats(), CacheStats::default());
        together(&cache, 1, "k", Keep::Retain, &runs, ms1, Ok(11)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn discarded_answers_are_shared_but_not_kept() {
        let cache = cache(MINUTE, 1000, MINUTE);
        let runs = Arc::new(AtomicUsize::new(0));
        let ms50 = Duration::from_millis(50);
        let answers = together(&cache, 4, "k", Keep::Discard, &runs, ms50, Ok(5)).await;
        assert_eq!(answers, vec![Ok(5); 4]);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(cache.stats(), CacheStats::default());
        together(&cache, 1, "k", Keep::Discard, &runs, ms50, Ok(5)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_zero_ttl_or_budget_keeps_nothing() {
        let runs = Arc::new(AtomicUsize::new(0));
        let ms1 = Duration::from_millis(1);
        for cache in [
            cache(Duration::ZERO, 1000, MINUTE),
            cache(MINUTE, 0, MINUTE),
        ] {
            together(&cache, 1, "k", Keep::Retain, &runs, ms1, Ok(0)).await;
            assert_eq!(cache.stats(), CacheStats::default());
        }
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_caller_going_away_cancels_nothing_for_the_others() {
        let cache = cache(MINUTE, 1000, MINUTE);
        let runs = Arc::new(AtomicUsize::new(0));
        let first = {
            let (cache, runs) = (cache.clone(), runs.clone());
            tokio::spawn(async move {
                cache
                    .get_or_try("k".into(), Keep::Retain, || async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        Ok(9)
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let ms1 = Duration::from_millis(1);
        let second = tokio::spawn({
            let (cache, runs) = (cache.clone(), runs.clone());
            async move { together(&cache, 1, "k", Keep::Retain, &runs, ms1, Ok(10)).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        first.abort();
        assert_eq!(second.await.unwrap(), vec![Ok(9)]);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_panicking_computation_fails_its_waiters_and_frees_the_key() {
        let cache = cache(MINUTE, 1000, MINUTE);
        let answer = cache
            .get_or_try("k".into(), Keep::Retain, || async {
                tokio::time::sleep(Duration::from_millis(1)).await;
                panic!("a bug");
            })
            .await
            .map_err(|e| *e);
        assert_eq!(answer, Err("aborted"));
        assert_eq!(cache.stats(), CacheStats::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let ms1 = Duration::from_millis(1);
        let next = together(&cache, 1, "k", Keep::Retain, &runs, ms1, Ok(2)).await;
        assert_eq!(next, vec![Ok(2)]);
    }

    #[test]
    fn heap_bytes_follow_the_allocator_s_chunks() {
        assert_eq!(heap_bytes(0), 0);
        assert_eq!(heap_bytes(1), 32);
        assert_eq!(heap_bytes(24), 32);
        assert_eq!(heap_bytes(25), 48);
        assert_eq!(heap_bytes(1000), 1008);
    }
}
