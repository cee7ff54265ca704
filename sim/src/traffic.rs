//! What the mesh does at an instant: for every (edge, backend workload) pair
//! a [`Flow`] with its request rate, error shares and latency, after the
//! slow wave, the noise and the faults active at that time.

use crate::model::{Caller, ErrorMix, FaultKind, Latency, Mesh, WlId};
use crate::rng::unit;

/// Seconds per noise interval: noise changes every 15 s, like a scrape.
pub const NOISE_INTERVAL_S: f64 = 15.0;

/// The static part of a flow: which edge reaches which backend, with what share.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlowKey {
    /// Index into [`Mesh::edges`].
    pub edge: usize,
    /// The workload serving the calls; `None` for services outside the mesh.
    pub backend: Option<WlId>,
    /// Share of the edge's calls that reach this backend.
    pub weight: f64,
}

/// One flow's traffic at an instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Flow {
    /// Which flow.
    pub key: FlowKey,
    /// Requests (or TCP connections) per second.
    pub rate: f64,
    /// Error shares, faults included.
    pub errors: ErrorMix,
    /// Latency, faults included.
    pub latency: Latency,
}

/// Every flow of the mesh, in a stable order (edges, then backends).
pub fn flow_keys(mesh: &Mesh) -> Vec<FlowKey> {
    let mut keys = Vec::new();
    for (i, edge) in mesh.edges.iter().enumerate() {
        let svc = &mesh.services[edge.service];
        if svc.backends.is_empty() {
            keys.push(FlowKey {
                edge: i,
                backend: None,
                weight: 1.0,
            });
            continue;
        }
        let total: f64 = svc.backends.iter().map(|(_, w)| w).sum();
        for (wl, w) in &svc.backends {
            keys.push(FlowKey {
                edge: i,
                backend: Some(*wl),
                weight: if total > 0.0 { w / total } else { 0.0 },
            });
        }
    }
    keys
}

/// The multiplier of the slow wave at Unix time `t` (the same for every
/// edge, so callers and callees rise and fall together).
pub fn wave(mesh: &Mesh, t: f64) -> f64 {
    let v = mesh.variation;
    1.0 + v.wave_amplitude * (std::f64::consts::TAU * t / v.wave_period_s).sin()
}

/// Noise multiplier in `[1 - noise, 1 + noise]` for one flow and interval.
pub fn noise(mesh: &Mesh, flow: usize, salt: u64, t: f64) -> f64 {
    if mesh.variation.noise == 0.0 {
        return 1.0;
    }
    let interval = (t / NOISE_INTERVAL_S).floor() as i64 as u64;
    1.0 + mesh.variation.noise * (2.0 * unit(&[mesh.seed, flow as u64, salt, interval]) - 1.0)
}

/// The traffic of flow `index` (with static part `key`) at Unix time `t`.
pub fn flow_at(mesh: &Mesh, index: usize, key: FlowKey, t: f64) -> Flow {
    let edge = &mesh.edges[key.edge];
    let rate = edge.rate * key.weight * wave(mesh, t) * noise(mesh, index, 1, t);
    let (errors, latency) = served_at(mesh, key.edge, key.backend, index, t);
    Flow {
        key,
        rate: rate.max(0.0),
        errors,
        latency,
    }
}

/// How `backend` answers the requests of edge `edge` at Unix time `t`:
/// error shares (with the noise of flow `index` and the faults active) and
/// latency (with the workload's factor and slow faults).
pub fn served_at(
    mesh: &Mesh,
    edge: usize,
    backend: Option<WlId>,
    index: usize,
    t: f64,
) -> (ErrorMix, Latency) {
    let edge = &mesh.edges[edge];
    let mut server = edge.errors.server * noise(mesh, index, 2, t);
    let mut latency = edge.latency;
    if let Some(wl) = backend {
        latency = latency.scaled(mesh.workloads[wl].latency_factor);
        for fault in mesh
            .faults
            .iter()
            .filter(|f| f.workload == wl && f.active_at(t))
        {
            match fault.kind {
                FaultKind::ServerErrors(share) => server += share,
                FaultKind::Slow(factor) => latency = latency.scaled(factor),
            }
        }
    }
    let client = edge.errors.client.min(1.0);
    let server = server.clamp(0.0, 1.0 - client);
    (ErrorMix { client, server }, latency)
}

/// Whether calls of `caller` are reported by a source proxy.
pub fn source_reports(mesh: &Mesh, caller: Caller) -> bool {
    match caller {
        Caller::Workload(wl) => mesh.has_sidecar(wl),
        Caller::Unknown => false,
    }
}

/// Whether calls to `backend` are reported by a destination proxy.
pub fn destination_reports(mesh: &Mesh, backend: Option<WlId>) -> bool {
    backend.is_some_and(|wl| mesh.has_sidecar(wl))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    #[test]
    fn backend_weights_split_each_edge() {
        let mesh = scenario::demo();
        let keys = flow_keys(&mesh);
        for (i, _) in mesh.edges.iter().enumerate() {
            let sum: f64 = keys.iter().filter(|k| k.edge == i).map(|k| k.weight).sum();
            assert!((sum - 1.0).abs() < 1e-9, "edge {i}: {sum}");
        }
    }

    #[test]
    fn without_variation_rates_are_as_configured() {
        let mut mesh = scenario::demo();
        mesh.variation = crate::model::Variation::NONE;
        mesh.faults.clear();
        for (i, key) in flow_keys(&mesh).into_iter().enumerate() {
            let flow = flow_at(&mesh, i, key, 1_700_000_000.0);
            let want = mesh.edges[key.edge].rate * key.weight;
            assert!((flow.rate - want).abs() < 1e-9);
            assert_eq!(flow.errors, mesh.edges[key.edge].errors);
        }
    }

    #[test]
    fn the_demo_fault_comes_and_goes() {
        let mesh = scenario::demo();
        let v3 = mesh.workload_id("bookinfo", "reviews-v3").unwrap();
        let (index, key) = flow_keys(&mesh)
            .into_iter()
            .enumerate()
            .find(|(_, k)| k.backend == Some(v3))
            .unwrap();
        let shares: Vec<f64> = (0..3600)
            .step_by(30)
            .map(|s| {
                flow_at(&mesh, index, key, 1_700_000_000.0 + s as f64)
                    .errors
                    .server
            })
            .collect();
        let max = shares.iter().cloned().fold(0.0, f64::max);
        let min = shares.iter().cloned().fold(1.0, f64::min);
        assert!(max > 0.2, "fault never visible: {max}");
        assert!(min < 0.05, "fault never clears: {min}");
    }
}
