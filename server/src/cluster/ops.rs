//! The targeted writes meshdeck makes to objects others own: a JSON merge
//! patch of only the keys meshdeck changes, carrying the object's
//! `resourceVersion` as a precondition, recomputed from a fresh read when
//! someone else wrote in between (409); and the rollout restart, which
//! always restarts (a timestamp to the nanosecond, checked by the
//! workload's `generation`).

use k8s_openapi::jiff::Timestamp;
use kube::Resource;
use kube::api::{Api, Patch, PatchParams};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::FIELD_MANAGER;
use super::error::{Acting, api_error};
use crate::error::{Error, Result};

/// Attempts of a read-compute-patch cycle before a conflict is reported.
pub const CONFLICT_ATTEMPTS: usize = 3;

/// Pod template annotation `kubectl rollout restart` sets.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// What a read-modify-write decided after reading the current object.
pub enum Decision<T> {
    /// Nothing to change; `T` says so.
    Unchanged(T),
    /// Send `patch` (a JSON merge patch; the `resourceVersion` precondition
    /// is added), then describe the result with `T`.
    Patch(Value, T),
}

/// The outcome of [`patch_fresh`].
pub struct Patched<K, T> {
    /// What the decision said.
    pub outcome: T,
    /// The patch sent, with its precondition (`None`: nothing sent).
    pub patch: Option<Value>,
    /// The object before the patch.
    pub before: K,
    /// The object as the API server returned it after the patch (the
    /// would-be object for a dry run); `None` when nothing was sent.
    pub after: Option<K>,
}

/// Patch parameters of every merge patch meshdeck sends.
pub fn patch_params(dry_run: bool) -> PatchParams {
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..PatchParams::default()
    };
    if dry_run { params.dry_run() } else { params }
}

/// Reads `name` through `read` (meshdeck's account), lets `decide` compute
/// a merge patch from it, and sends it through `write` (the caller's
/// client, or meshdeck's for its own writes: `acting` says which) with the
/// object's `resourceVersion` as a precondition; on a
/// conflict (someone wrote in between), reads and decides again, up to
/// [`CONFLICT_ATTEMPTS`] times. `what` names the object in errors (e.g.
/// `namespace "shop"`).
pub async fn patch_fresh<K, T>(
    read: &Api<K>,
    write: &Api<K>,
    acting: Acting,
    name: &str,
    what: &str,
    dry_run: bool,
    mut decide: impl FnMut(&K) -> Result<Decision<T>>,
) -> Result<Patched<K, T>>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let current = read
            .get(name)
            .await
            .map_err(|e| api_error(&format!("get {what}"), Acting::Meshdeck, e))?;
        let (mut patch, outcome) = match decide(&current)? {
            Decision::Unchanged(outcome) => {
                return Ok(Patched {
                    outcome,
                    patch: None,
                    before: current,
                    after: None,
                });
            }
            Decision::Patch(patch, outcome) => (patch, outcome),
        };
        patch["metadata"]["resourceVersion"] = json!(current.meta().resource_version);
        match write
            .patch(name, &patch_params(dry_run), &Patch::Merge(&patch))
            .await
        {
            Ok(after) => {
                return Ok(Patched {
                    outcome,
                    patch: Some(patch),
                    before: current,
                    after: Some(after),
                });
            }
            Err(kube::Error::Api(s)) if s.code == 409 && attempt < CONFLICT_ATTEMPTS => continue,
            Err(e) => return Err(api_error(&format!("patch {what}"), acting, e)),
        }
    }
}

/// The value of [`RESTARTED_AT`] for a restart now: RFC 3339 to the
/// nanosecond, so that two restarts within one second still differ (with
/// whole seconds, as `kubectl` writes it, the second patch changes nothing
/// and nothing restarts).
pub fn restart_stamp() -> String {
    Timestamp::now().to_string()
}

/// Checks that a restart patch took effect: the workload's `generation`
/// went up, so its controller rolls out new pods. A dry run is not checked.
pub fn check_restarted<K: Resource>(
    what: &str,
    before: &K,
    after: &K,
    dry_run: bool,
) -> Result<()> {
    if dry_run {
        return Ok(());
    }
    let (was, now) = (before.meta().generation, after.meta().generation);
    if now > was {
        Ok(())
    } else {
        Err(Error::Conflict(format!(
            "the restart of {what} did not change its pod template (generation stays {}); \
             nothing was restarted, try again",
            now.unwrap_or_default()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_stamps_differ_within_a_second() {
        let a = restart_stamp();
        let b = restart_stamp();
        assert_ne!(a, b);
        assert!(a.parse::<Timestamp>().is_ok(), "{a}");
    }
}
