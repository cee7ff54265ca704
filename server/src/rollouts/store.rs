//! Where a rollout lives: a ConfigMap `meshdeck-rollout-<service>` in the
//! service's namespace, labelled `meshdeck.io/rollout: <service>`, holding
//! the rollout (spec, phase, step, timeline) and who started it as JSON
//! under `rollout.json`.
//!
//! A ConfigMap rather than an annotation on the VirtualService: the
//! VirtualService is shared (other wizards and other field managers write
//! it, "remove traffic routing" deletes it), its annotations are limited
//! to 256 KiB, and the rollout must outlive edits to the very object it
//! watches for conflicting edits. The ConfigMap is meshdeck's bookkeeping,
//! written with meshdeck's own account (people need no rights on
//! ConfigMaps to run a rollout); every change is a `replace` carrying the
//! `resourceVersion` that was read, so two replicas, or a person's action
//! racing the controller, never overwrite each other: the loser sees 409
//! and reads again.

use std::collections::BTreeMap;

use app::types::{MAX_ROLLOUT_EVENTS, Rollout, RolloutEvent, RolloutPhase};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, ObjectMeta, PostParams};
use serde::{Deserialize, Serialize};

use crate::cluster::apply::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use crate::cluster::reviews::Identity;
use crate::cluster::{Acting, api_error};
use crate::error::{Error, Result};

/// Label on a rollout's ConfigMap naming its service.
pub const ROLLOUT_LABEL: &str = "meshdeck.io/rollout";
/// Label on a rollout's ConfigMap with its phase (`running`, `paused`,
/// `promoted`, `rolled_back`, `aborted`): the controller lists only the
/// running ones, whatever number of finished ones the cluster keeps.
pub const PHASE_LABEL: &str = "meshdeck.io/rollout-phase";
/// Key of the rollout's JSON in its ConfigMap.
pub const DATA_KEY: &str = "rollout.json";
/// Largest rollout document kept (a ConfigMap holds at most 1 MiB).
const MAX_BYTES: usize = 512 * 1024;

/// The ConfigMap's name for `service`.
pub fn object_name(service: &str) -> String {
    format!("meshdeck-rollout-{service}")
}

/// What the ConfigMap holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The rollout (its `may_control` fields are filled per caller when
    /// shown, not stored).
    pub rollout: Rollout,
    /// Who started it, as Kubernetes named them: whom the
    /// SubjectAccessReview before each step asks about.
    pub starter: Identity,
}

impl Record {
    /// Adds `event` to the timeline, dropping the oldest beyond
    /// [`MAX_ROLLOUT_EVENTS`]; the rollout's step, weight and update time
    /// follow it.
    pub fn push(&mut self, event: RolloutEvent) {
        let r = &mut self.rollout;
        r.updated_at = event.at;
        r.canary_weight = event.canary_weight;
        r.progress.step = event.step;
        r.events.push(event);
        let extra = r.events.len().saturating_sub(MAX_ROLLOUT_EVENTS);
        r.events.drain(..extra);
    }

    /// Stops the rollout in `phase` (paused, or over) with `event`, whose
    /// message becomes the status: nothing is judged until a person
    /// resumes it.
    pub fn halt(&mut self, phase: RolloutPhase, event: RolloutEvent) {
        self.rollout.phase = phase;
        self.rollout.next_judgement_at = None;
        self.rollout.status = event.message.clone();
        self.push(event);
    }
}

/// A record as read, with the version a replace must carry.
#[derive(Clone, Debug)]
pub struct Stored {
    /// The record.
    pub record: Record,
    /// The ConfigMap's `resourceVersion`.
    pub resource_version: Option<String>,
}

fn decode(cm: ConfigMap) -> Option<Stored> {
    let text = cm.data.as_ref()?.get(DATA_KEY)?;
    match serde_json::from_str::<Record>(text) {
        Ok(record) => Some(Stored {
            record,
            resource_version: cm.metadata.resource_version.clone(),
        }),
        Err(e) => {
            tracing::warn!(
                error = %e,
                configmap = %format!("{}/{}", cm.metadata.namespace.unwrap_or_default(), cm.metadata.name.unwrap_or_default()),
                "a rollout's ConfigMap cannot be read; it is ignored"
            );
            None
        }
    }
}

fn encode(record: &Record, resource_version: Option<String>) -> Result<ConfigMap> {
    let mut record = record.clone();
    record.rollout.may_control = false;
    record.rollout.control_problem = None;
    let mut text = serde_json::to_string(&record)
        .map_err(|e| Error::internal_caused("encoding a rollout", e))?;
    // Bounded whatever the messages hold: the oldest entries go first.
    while text.len() > MAX_BYTES && record.rollout.events.len() > 1 {
        let half = record.rollout.events.len() / 2;
        record.rollout.events.drain(..half);
        text = serde_json::to_string(&record).unwrap_or_default();
    }
    let r = &record.rollout;
    Ok(ConfigMap {
        metadata: ObjectMeta {
            name: Some(object_name(&r.service)),
            namespace: Some(r.namespace.clone()),
            labels: Some(BTreeMap::from([
                (MANAGED_BY_LABEL.to_owned(), MANAGED_BY_VALUE.to_owned()),
                (ROLLOUT_LABEL.to_owned(), r.service.clone()),
                (PHASE_LABEL.to_owned(), phase_value(r.phase).to_owned()),
            ])),
            resource_version,
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(DATA_KEY.to_owned(), text)])),
        ..ConfigMap::default()
    })
}

/// The rollout of `namespace/service`, if there is one.
pub async fn get(client: &kube::Client, namespace: &str, service: &str) -> Result<Option<Stored>> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let name = object_name(service);
    match api.get_opt(&name).await {
        Ok(cm) => Ok(cm.and_then(decode)),
        Err(e) => Err(api_error(
            &format!("read ConfigMap {namespace}/{name}"),
            Acting::Meshdeck,
            e,
        )),
    }
}

/// A phase as its label value (its name on the wire).
fn phase_value(phase: RolloutPhase) -> &'static str {
    match phase {
        RolloutPhase::Running => "running",
        RolloutPhase::Paused => "paused",
        RolloutPhase::Promoted => "promoted",
        RolloutPhase::RolledBack => "rolled_back",
        RolloutPhase::Aborted => "aborted",
    }
}

/// Every rollout in the cluster.
pub async fn list(client: &kube::Client) -> Result<Vec<Stored>> {
    list_selected(client, ROLLOUT_LABEL).await
}

/// The running rollouts in the cluster (what the controller judges).
pub async fn list_running(client: &kube::Client) -> Result<Vec<Stored>> {
    list_selected(client, &format!("{ROLLOUT_LABEL},{PHASE_LABEL}=running")).await
}

async fn list_selected(client: &kube::Client, selector: &str) -> Result<Vec<Stored>> {
    let api: Api<ConfigMap> = Api::all(client.clone());
    let params = ListParams::default().labels(selector);
    match api.list(&params).await {
        Ok(list) => Ok(list.items.into_iter().filter_map(decode).collect()),
        Err(e) => Err(api_error(
            "list the rollouts' ConfigMaps",
            Acting::Meshdeck,
            e,
        )),
    }
}

/// Writes `record`: a create without a version, else a replace that fails
/// with 409 ([`Error::Conflict`]) if the ConfigMap changed since it was
/// read at `resource_version`.
pub async fn save(
    client: &kube::Client,
    record: &Record,
    resource_version: Option<String>,
) -> Result<Stored> {
    let r = &record.rollout;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &r.namespace);
    let name = object_name(&r.service);
    let create = resource_version.is_none();
    let body = encode(record, resource_version)?;
    let params = PostParams {
        field_manager: Some(crate::cluster::FIELD_MANAGER.to_owned()),
        ..PostParams::default()
    };
    let answer = if create {
        api.create(&params, &body).await
    } else {
        api.replace(&name, &params, &body).await
    };
    match answer {
        Ok(cm) => Ok(Stored {
            record: record.clone(),
            resource_version: cm.metadata.resource_version,
        }),
        Err(kube::Error::Api(s)) if s.code == 409 => Err(Error::Conflict(format!(
            "the rollout of {}/{} changed meanwhile (another replica or person acted on it); read it again",
            r.namespace, r.service
        ))),
        Err(e) => Err(api_error(
            &format!("write ConfigMap {}/{name}", r.namespace),
            Acting::Meshdeck,
            e,
        )),
    }
}
