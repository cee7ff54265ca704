//! Leader election: of several meshdeck replicas behind one Service, only
//! the one holding a `coordination.k8s.io/v1` Lease in meshdeck's namespace
//! runs the controllers (auto-injection today). The Lease is kept by
//! `kube-lease-manager` (server-side apply with one field manager per
//! replica, so two replicas cannot both take it); a replica that dies stops
//! renewing and another takes over once the lease has expired.

use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use kube_lease_manager::{DurationSeconds, LeaseManagerBuilder};
use tokio::task::JoinHandle;

/// Name of the Lease the controllers share.
pub const CONTROLLERS_LEASE: &str = "meshdeck-controllers";

/// How long a lease holds without renewal, and how early it is renewed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseTiming {
    /// Seconds a lease is valid after its last renewal.
    pub duration_s: DurationSeconds,
    /// Seconds before expiry the holder renews.
    pub grace_s: DurationSeconds,
}

impl Default for LeaseTiming {
    /// Kubernetes' own controllers use 15 s leases; meshdeck's controllers
    /// are not urgent, so a dead replica's successor takes over within 15 s.
    fn default() -> Self {
        LeaseTiming {
            duration_s: 15,
            grace_s: 5,
        }
    }
}

/// Pause before trying again when the Lease cannot be read or created.
const RETRY: Duration = Duration::from_secs(5);

/// This replica's identity in the Lease: the pod's name (`HOSTNAME` in a
/// pod) and a random part, so two processes never share one.
pub fn identity() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "meshdeck".to_owned());
    let random = RandomState::new().hash_one(std::process::id()) & 0xff_ffff;
    format!("{host}-{random:06x}")
}

/// Runs `task()` whenever this replica holds the Lease `name` in
/// `namespace`, and stops it when the lease is lost. Runs until aborted
/// (aborting it stops the task too).
pub async fn run_as_leader<F, Fut>(
    client: kube::Client,
    namespace: String,
    name: &'static str,
    identity: String,
    timing: LeaseTiming,
    task: F,
) where
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut running: Option<AbortOnDrop> = None;
    let mut warned = false;
    loop {
        let built = LeaseManagerBuilder::new(client.clone(), name)
            .with_namespace(namespace.clone())
            .with_identity(identity.clone())
            .with_duration(timing.duration_s)
            .with_grace(timing.grace_s)
            .with_field_manager(format!("meshdeck-lease-{identity}"))
            .build()
            .await;
        let manager = match built {
            Ok(m) => m,
            Err(err) => {
                // meshdeck's namespace may not exist yet (nothing saved):
                // then there is nothing for the controllers to do either.
                if warned {
                    tracing::debug!(error = %err, lease = name, "cannot use the lease yet");
                } else {
                    tracing::warn!(error = %err, lease = name, %namespace, "cannot use the lease yet; retrying");
                    warned = true;
                }
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        let (mut leading, handle) = manager.watch().await;
        loop {
            let is_leader = *leading.borrow_and_update();
            match (is_leader, running.is_some()) {
                (true, false) => {
                    tracing::info!(lease = name, %identity, "this replica leads: starting the controllers");
                    running = Some(AbortOnDrop(tokio::spawn(task())));
                }
                (false, true) => {
                    tracing::info!(lease = name, %identity, "lease lost: stopping the controllers");
                    running = None;
                }
                _ => {}
            }
            if leading.changed().await.is_err() {
                break;
            }
        }
        // The manager stopped (an error it could not get past): whatever
        // ran stops, and election starts again.
        running = None;
        match handle.await {
            Ok(Err(err)) => {
                tracing::warn!(error = %err, lease = name, "leader election failed; retrying")
            }
            Err(err) => {
                tracing::warn!(error = %err, lease = name, "leader election stopped; retrying")
            }
            Ok(Ok(_)) => {}
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// A task that is aborted when this handle is dropped.
pub(crate) struct AbortOnDrop(pub(crate) JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
