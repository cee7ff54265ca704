//! The most recent traces in a bounded ring, shared between the generator
//! (history, then live) and the query handlers.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use super::generate::TraceGenerator;
use super::query::TraceQuery;
use super::{SpanKind, Trace};
use crate::model::Mesh;
use crate::shaping::Schedule;

/// Traces kept by default.
pub const DEFAULT_CAPACITY: usize = 5_000;
/// Live traces per second of simulated time by default (one every 2 s).
pub const DEFAULT_LIVE_RATE: f64 = 0.5;

/// The ring and its index by trace ID.
#[derive(Debug, Default)]
struct Ring {
    /// Oldest first, ordered by start time.
    traces: VecDeque<Arc<Trace>>,
    by_id: HashMap<u128, Arc<Trace>>,
}

/// A thread-safe, bounded store of the most recent traces.
#[derive(Debug)]
pub struct TraceStore {
    capacity: usize,
    live_rate: f64,
    follow_clock: bool,
    /// The traffic management in force over time (none: the scenario's).
    schedule: Option<Schedule>,
    ring: RwLock<Ring>,
    /// Time (seconds) up to which traces have been generated; also
    /// serialises generation so concurrent callers do not duplicate slots.
    generated_until: Mutex<Option<f64>>,
}

impl Default for TraceStore {
    fn default() -> Self {
        TraceStore::new(DEFAULT_CAPACITY, DEFAULT_LIVE_RATE)
    }
}

impl TraceStore {
    /// A store keeping `capacity` traces (at least 1) that generates live
    /// traces at `live_traces_per_second` of simulated time.
    pub fn new(capacity: usize, live_traces_per_second: f64) -> Self {
        TraceStore {
            capacity: capacity.max(1),
            live_rate: if live_traces_per_second.is_finite() && live_traces_per_second > 0.0 {
                live_traces_per_second
            } else {
                DEFAULT_LIVE_RATE
            },
            follow_clock: false,
            schedule: None,
            ring: RwLock::new(Ring::default()),
            generated_until: Mutex::new(None),
        }
    }

    /// Makes the HTTP [`router`](super::router) continue live traces up to
    /// the wall clock before answering each request (for demo mode).
    pub fn following_clock(mut self, follow: bool) -> Self {
        self.follow_clock = follow;
        self
    }

    /// Makes traces follow the routing in force at their time (see
    /// [`crate::live::LiveMetrics::follow`]).
    pub fn with_schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = Some(schedule);
        self
    }

    /// Whether the router advances this store to the wall clock.
    pub fn follows_clock(&self) -> bool {
        self.follow_clock
    }

    /// Most traces kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Live traces per second of simulated time.
    pub fn live_rate(&self) -> f64 {
        self.live_rate
    }

    /// Traces held now.
    pub fn len(&self) -> usize {
        self.read().traces.len()
    }

    /// Whether no trace is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Ring> {
        self.ring.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds traces, keeping the ring ordered by start time and dropping the
    /// oldest beyond capacity.
    pub fn insert(&self, traces: impl IntoIterator<Item = Trace>) {
        let mut ring = self.ring.write().unwrap_or_else(PoisonError::into_inner);
        let mut sorted = true;
        for trace in traces {
            let trace = Arc::new(trace);
            if ring.by_id.contains_key(&trace.trace_id) {
                continue;
            }
            if ring
                .traces
                .back()
                .is_some_and(|last| last.start_us() > trace.start_us())
            {
                sorted = false;
            }
            ring.by_id.insert(trace.trace_id, Arc::clone(&trace));
            ring.traces.push_back(trace);
        }
        if !sorted {
            ring.traces
                .make_contiguous()
                .sort_by_key(|t| (t.start_us(), t.trace_id));
        }
        while ring.traces.len() > self.capacity {
            if let Some(old) = ring.traces.pop_front() {
                ring.by_id.remove(&old.trace_id);
            }
        }
    }

    /// Generates `traces_per_second` traces per second of `[start_s, end_s)`
    /// (on a fixed grid of times, so the same call gives the same traces)
    /// and marks live generation to continue from `end_s`. Slots that the
    /// ring could not hold anyway are skipped.
    pub fn fill_history(&self, mesh: &Mesh, start_s: f64, end_s: f64, traces_per_second: f64) {
        let mut until = self
            .generated_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let traces = generate_grid(
            mesh,
            self.schedule.as_ref(),
            start_s,
            end_s,
            traces_per_second,
            self.capacity,
        );
        self.insert(traces);
        if end_s.is_finite() {
            *until = Some(until.map_or(end_s, |u| u.max(end_s)));
        }
    }

    /// Continues live traces at the store's live rate from where history or
    /// the previous call stopped, up to `now_s`. The first call without any
    /// history starts one interval before `now_s`.
    pub fn generate_until(&self, mesh: &Mesh, now_s: f64) {
        if !now_s.is_finite() {
            return;
        }
        let mut until = self
            .generated_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let from = until.unwrap_or(now_s - 1.0 / self.live_rate);
        if now_s <= from {
            return;
        }
        // Times strictly after `from`, up to and including `now_s`.
        let traces = generate_grid_after(
            mesh,
            self.schedule.as_ref(),
            from,
            now_s,
            self.live_rate,
            self.capacity,
        );
        self.insert(traces);
        *until = Some(now_s);
    }

    /// The trace with ID `id`, if still held.
    pub fn get(&self, id: u128) -> Option<Arc<Trace>> {
        self.read().by_id.get(&id).cloned()
    }

    /// Traces matching `query`, newest first, at most `query.limit` (0 means
    /// [`super::query::DEFAULT_LIMIT`]).
    pub fn find(&self, query: &TraceQuery) -> Vec<Arc<Trace>> {
        let limit = if query.limit == 0 {
            super::query::DEFAULT_LIMIT
        } else {
            query.limit
        };
        self.read()
            .traces
            .iter()
            .rev()
            .filter(|t| query.matches(t))
            .take(limit)
            .cloned()
            .collect()
    }

    /// Every service with spans in the store, sorted.
    pub fn services(&self) -> Vec<String> {
        let ring = self.read();
        let set: BTreeSet<&str> = ring
            .traces
            .iter()
            .flat_map(|t| t.processes.iter().map(|p| p.service.as_str()))
            .collect();
        set.into_iter().map(str::to_owned).collect()
    }

    /// The operations of `service` with the span kinds they occur with,
    /// sorted by name then kind; only those of `kind` if given.
    pub fn operations(&self, service: &str, kind: Option<SpanKind>) -> Vec<(String, SpanKind)> {
        let ring = self.read();
        let mut ops: BTreeMap<(&str, SpanKind), ()> = BTreeMap::new();
        for t in &ring.traces {
            for s in &t.spans {
                if t.service_of(s) == service && kind.is_none_or(|k| k == s.kind) {
                    ops.insert((s.operation.as_str(), s.kind), ());
                }
            }
        }
        ops.into_keys().map(|(o, k)| (o.to_owned(), k)).collect()
    }
}

/// Traces at times `k / rate` for every integer `k` with the time in
/// `[start_s, end_s)`, keeping only the newest `keep`.
fn generate_grid(
    mesh: &Mesh,
    schedule: Option<&Schedule>,
    start_s: f64,
    end_s: f64,
    rate: f64,
    keep: usize,
) -> Vec<Trace> {
    if !(rate.is_finite() && rate > 0.0 && start_s.is_finite() && end_s.is_finite()) {
        return Vec::new();
    }
    let first = (start_s * rate).ceil().max(0.0);
    let last_excl = (end_s * rate).ceil();
    grid(mesh, schedule, first, last_excl, rate, keep)
}

/// Traces at times `k / rate` in `(from_s, to_s]`, keeping only the newest `keep`.
fn generate_grid_after(
    mesh: &Mesh,
    schedule: Option<&Schedule>,
    from_s: f64,
    to_s: f64,
    rate: f64,
    keep: usize,
) -> Vec<Trace> {
    let first = ((from_s * rate).floor() + 1.0).max(0.0);
    let last_excl = (to_s * rate).floor() + 1.0;
    grid(mesh, schedule, first, last_excl, rate, keep)
}

/// Traces for grid slots `first..last_excl` (slot `k` at time `k / rate`),
/// each routed by the plan in force at its time.
fn grid(
    mesh: &Mesh,
    schedule: Option<&Schedule>,
    first: f64,
    last_excl: f64,
    rate: f64,
    keep: usize,
) -> Vec<Trace> {
    if !(first.is_finite() && last_excl.is_finite()) || last_excl <= first {
        return Vec::new();
    }
    let first = first.max(last_excl - keep as f64);
    let scenario = TraceGenerator::new(mesh);
    // One generator per plan, built when a slot first needs it.
    let mut routed: Vec<(Arc<crate::shaping::Plan>, TraceGenerator<'_>)> = Vec::new();
    let (first, last) = (first as u64, last_excl as u64);
    (first..last)
        .filter_map(|k| {
            let time_s = k as f64 / rate;
            let time_us = (time_s * 1e6).round() as u64;
            match schedule.and_then(|s| s.at(time_s)) {
                None => scenario.trace_at(time_us, k),
                Some(plan) => {
                    let i = match routed.iter().position(|(p, _)| Arc::ptr_eq(p, &plan)) {
                        Some(i) => i,
                        None => {
                            let generator = TraceGenerator::with_plan(mesh, &plan);
                            routed.push((plan, generator));
                            routed.len() - 1
                        }
                    };
                    routed[i].1.trace_at(time_us, k)
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    const T0: f64 = 1_700_000_000.0;

    #[test]
    fn history_is_reproducible_and_bounded() {
        let mesh = scenario::demo();
        let a = TraceStore::new(100, 0.5);
        a.fill_history(&mesh, T0, T0 + 300.0, 1.0);
        assert_eq!(a.len(), 100);
        let b = TraceStore::new(100, 0.5);
        b.fill_history(&mesh, T0, T0 + 300.0, 1.0);
        let ids = |s: &TraceStore| {
            s.find(&TraceQuery {
                limit: 1000,
                ..TraceQuery::default()
            })
            .iter()
            .map(|t| t.trace_id)
            .collect::<Vec<_>>()
        };
        assert_eq!(ids(&a), ids(&b));
        // The newest 100 of 300 slots: starts from T0 + 200 on.
        let oldest = a.read().traces.front().map(|t| t.start_us()).unwrap();
        assert_eq!(oldest, (T0 as u64 + 200) * 1_000_000);
    }

    #[test]
    fn live_generation_keeps_its_cadence() {
        let mesh = scenario::demo();
        let s = TraceStore::new(1000, 0.5);
        s.fill_history(&mesh, T0, T0 + 10.0, 1.0);
        assert_eq!(s.len(), 10);
        s.generate_until(&mesh, T0 + 15.0);
        s.generate_until(&mesh, T0 + 15.5);
        s.generate_until(&mesh, T0 + 21.0);
        // Live slots every 2 s in (T0+10, T0+21]: 12, 14, ..., 20.
        assert_eq!(s.len(), 15);
        let starts: Vec<u64> = s.read().traces.iter().map(|t| t.start_us()).collect();
        assert!(starts.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(starts.last(), Some(&((T0 as u64 + 20) * 1_000_000)));
    }

    #[test]
    fn first_live_call_without_history_makes_one_trace() {
        let mesh = scenario::demo();
        let s = TraceStore::default();
        s.generate_until(&mesh, T0);
        assert_eq!(s.len(), 1);
        s.generate_until(&mesh, f64::NAN);
        s.fill_history(&mesh, f64::NEG_INFINITY, T0, 1.0);
        assert_eq!(s.len(), 1);
    }
}
