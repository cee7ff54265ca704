//! Enabling and disabling the mesh for the cluster, in three parts:
//!
//! - [`plan`]: the objects enabling writes, from the settings (pure).
//! - [`status`](mod@status): what runs: the control plane, the ingresses.
//! - [`apply`]: enable and disable, written with server-side apply by
//!   meshdeck's account after a SubjectAccessReview of the owner asking.
//! - [`monitoring`]: the Prometheus Operator's monitors for istiod and the
//!   sidecars (or, without the operator, the scrape jobs to add), and the
//!   Grafana dashboards' ConfigMap.
//!
//! What enabling did is recorded in a ConfigMap beside the settings; the
//! objects themselves carry meshdeck's labels ([`MESH_SET`]), by which
//! disabling and re-enabling with other settings find and prune them.

pub mod apply;
pub mod monitoring;
pub mod plan;
pub mod status;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ObjectMeta, PostParams};
use serde::{Deserialize, Serialize};

use crate::cluster::apply::{ObjectRef, OwnedSet};
use crate::cluster::{Acting, api_error};
use crate::error::{Error, Result};

pub use self::apply::{disable, enable, prepare_disable, prepare_enable};
pub use self::status::status;

/// ConfigMap recording what enabling created.
pub const STATE_CONFIGMAP: &str = "meshdeck-mesh";
/// Key of the state JSON in it.
pub const STATE_KEY: &str = "state.json";
/// Name of the gateway Deployment and Service meshdeck creates.
pub const GATEWAY_NAME: &str = "meshdeck-ingressgateway";
/// Name of the control-plane resource meshdeck writes.
pub const CONTROL_PLANE_NAME: &str = "meshdeck";
/// Label marking the objects of a set meshdeck owns.
pub const PART_OF_LABEL: &str = "meshdeck.io/part-of";

/// What enabling needs to know besides the cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// meshdeck's namespace: the settings, the record of what enabling
    /// created, the Grafana dashboards' ConfigMap.
    pub namespace: String,
    /// A Grafana URL was configured as a flag (`--grafana-url`); one saved
    /// in the settings counts as well.
    pub grafana_flag: bool,
}

impl Context {
    /// Whether a Grafana URL is configured, by the flag or in `settings`.
    pub fn grafana_url(&self, settings: &app::types::MeshSettings) -> bool {
        self.grafana_flag || !settings.tool_urls.grafana.trim().is_empty()
    }
}

/// The objects enabling the mesh writes: labelled
/// `app.kubernetes.io/managed-by=meshdeck,meshdeck.io/part-of=mesh`.
pub static MESH_SET: LazyLock<OwnedSet> = LazyLock::new(|| OwnedSet::new(PART_OF_LABEL, "mesh"));

/// What the state ConfigMap holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeshState {
    /// Enabled through meshdeck.
    pub enabled: bool,
    /// When (RFC 3339).
    pub enabled_at: Option<String>,
    /// Objects meshdeck wrote, in order.
    pub created: Vec<ObjectRef>,
}

/// The state a ConfigMap holds; an error when it holds something else.
pub fn parse_state(cm: &ConfigMap) -> std::result::Result<MeshState, serde_json::Error> {
    match cm.data.as_ref().and_then(|d| d.get(STATE_KEY)) {
        Some(text) => serde_json::from_str(text),
        None => Ok(MeshState::default()),
    }
}

/// The stored state and its ConfigMap's resourceVersion.
pub async fn load_state(
    client: &kube::Client,
    namespace: &str,
) -> Result<(MeshState, Option<String>)> {
    let api = Api::<ConfigMap>::namespaced(client.clone(), namespace);
    let Some(cm) = api.get_opt(STATE_CONFIGMAP).await.map_err(|e| {
        api_error(
            &format!("get configmaps {STATE_CONFIGMAP:?} in namespace {namespace:?}"),
            Acting::Meshdeck,
            e,
        )
    })?
    else {
        return Ok((MeshState::default(), None));
    };
    let state = parse_state(&cm).map_err(|e| {
        Error::Invalid(format!(
            "{namespace}/{STATE_CONFIGMAP} holds a mesh state meshdeck cannot read ({e}); \
             fix or delete that ConfigMap"
        ))
    })?;
    Ok((state, cm.metadata.resource_version))
}

/// Writes the state if its ConfigMap is still at `rv` (`None`: create it).
async fn save_state(
    client: &kube::Client,
    namespace: &str,
    state: &MeshState,
    rv: Option<String>,
) -> Result<()> {
    let api = Api::<ConfigMap>::namespaced(client.clone(), namespace);
    let text = serde_json::to_string_pretty(state)
        .map_err(|e| Error::internal(format!("serialising the mesh state: {e}")))?;
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some(STATE_CONFIGMAP.into()),
            namespace: Some(namespace.into()),
            labels: Some(BTreeMap::from([(
                crate::cluster::apply::MANAGED_BY_LABEL.into(),
                crate::cluster::apply::MANAGED_BY_VALUE.into(),
            )])),
            resource_version: rv.clone(),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(STATE_KEY.into(), text)])),
        ..ConfigMap::default()
    };
    let what = format!("configmaps {STATE_CONFIGMAP:?} in namespace {namespace:?}");
    let result = match rv {
        None => api.create(&PostParams::default(), &cm).await,
        Some(_) => {
            api.replace(STATE_CONFIGMAP, &PostParams::default(), &cm)
                .await
        }
    };
    result.map(|_| ()).map_err(|e| match e {
        kube::Error::Api(s) if s.code == 409 => Error::Conflict(format!(
            "the mesh state in {namespace}/{STATE_CONFIGMAP} changed meanwhile (another enable or disable?); reload and try again"
        )),
        other => api_error(&format!("write {what}"), Acting::Meshdeck, other),
    })
}
