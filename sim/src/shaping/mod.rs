//! Istio traffic management in the simulated mesh: the simulator reads the
//! VirtualServices, DestinationRules and PeerAuthentications of its
//! in-memory cluster, and the Gateway API routes attached to Services, and
//! shapes its traffic as Istio's proxies would.
//!
//! - [`config`]: the objects' fields the simulator honours.
//! - [`gateway`]: HTTPRoutes and GRPCRoutes for mesh traffic, translated
//!   into VirtualServices as istiod translates them.
//! - [`plan`]: routing compiled from them, and the traffic it gives at an
//!   instant (the model of each feature is documented there).
//! - [`follow`]: recompiles on every committed change of those objects.

pub mod config;
pub mod gateway;
pub mod plan;

use std::sync::{Arc, PoisonError, RwLock};

use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

pub use config::Config;
pub use plan::Plan;

use crate::kube::InMemoryCluster;
use crate::kube::resources::{CORE, GATEWAY_API, ISTIO_NETWORKING, ISTIO_SECURITY};
use crate::kube::store::Change;

/// The resources whose changes reshape traffic (Services: the Gateway API
/// routes' backends are Services, resolved when the routes are read).
pub const FOLLOWED: [(&str, &str); 6] = [
    (ISTIO_NETWORKING, "virtualservices"),
    (ISTIO_NETWORKING, "destinationrules"),
    (ISTIO_SECURITY, "peerauthentications"),
    (GATEWAY_API, "httproutes"),
    (GATEWAY_API, "grpcroutes"),
    (CORE, "services"),
];

/// Whether a committed change can alter the configuration (deleting a
/// namespace removes the objects in it).
pub fn reshapes(change: &Change) -> bool {
    let rt = change.resource;
    FOLLOWED
        .iter()
        .any(|(g, p)| rt.group == *g && rt.plural == *p)
        || (rt.group == CORE && rt.plural == "namespaces")
}

/// Calls `apply` with the cluster's configuration now, and again after
/// every committed change that can alter it (all of it re-read after a
/// lagged broadcast), until the cluster is dropped or the task aborted.
pub fn follow<F>(cluster: InMemoryCluster, apply: F) -> JoinHandle<()>
where
    F: Fn(Arc<Config>) + Send + 'static,
{
    // Subscribe before the first read, so no change falls in between.
    let mut changes = cluster.subscribe();
    tokio::spawn(async move {
        let mut reported: Vec<String> = Vec::new();
        let mut read = |cluster: &InMemoryCluster| {
            let config = Config::from_cluster(cluster);
            for problem in config.problems.iter().filter(|p| !reported.contains(p)) {
                tracing::warn!(%problem, "simulator: Istio object ignored");
            }
            reported.clone_from(&config.problems);
            Arc::new(config)
        };
        apply(read(&cluster));
        loop {
            let reread = match changes.recv().await {
                Ok(change) => reshapes(&change),
                Err(RecvError::Lagged(_)) => true,
                Err(RecvError::Closed) => return,
            };
            if !reread {
                continue;
            }
            // Take every change already queued before reading once.
            loop {
                match changes.try_recv() {
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => continue,
                    Err(_) => break,
                }
            }
            apply(read(&cluster));
        }
    })
}

/// Plans a [`Schedule`] keeps.
pub const SCHEDULE_LENGTH: usize = 64;

/// Plans with the time each came into force, in time order.
type Timeline = Vec<(f64, Arc<Plan>)>;

/// The configurations in force over time (the scenario's own before the
/// first), for what is generated after the fact, such as traces.
#[derive(Clone, Debug, Default)]
pub struct Schedule {
    changes: Arc<RwLock<Timeline>>,
}

impl Schedule {
    /// An empty schedule: the scenario's traffic throughout.
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts `plan` in force from Unix time `t` (seconds) on. The newest
    /// [`SCHEDULE_LENGTH`] plans are kept (traces are generated forward in
    /// time, so older ones are no longer asked for).
    pub fn push(&self, t: f64, plan: Arc<Plan>) {
        let mut changes = self.changes.write().unwrap_or_else(PoisonError::into_inner);
        let at = changes.partition_point(|(s, _)| *s <= t);
        changes.insert(at, (t, plan));
        let extra = changes.len().saturating_sub(SCHEDULE_LENGTH);
        changes.drain(..extra);
    }

    /// How many plans were pushed.
    pub fn len(&self) -> usize {
        self.changes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no plan was pushed (the scenario's traffic throughout).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The plan in force at Unix time `t`, if any was pushed before.
    pub fn at(&self, t: f64) -> Option<Arc<Plan>> {
        let changes = self.changes.read().unwrap_or_else(PoisonError::into_inner);
        let at = changes.partition_point(|(s, _)| *s <= t);
        at.checked_sub(1).map(|i| changes[i].1.clone())
    }
}
