//! Enable and disable. Each is prepared first (settings read and checked,
//! control plane found, objects planned, and the exact writes listed), so
//! the route can ask Kubernetes with SubjectAccessReviews whether the owner
//! asking may make every one of those writes themselves; only then does
//! meshdeck's account write, with server-side apply ([`apply_owned`]):
//! fields other managers own stay theirs, every object is dry-run first,
//! and objects of meshdeck's set that the settings no longer want are
//! pruned by label.

use app::types::{ControlPlaneKind, MeshChange};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::jiff::{RoundMode, Timestamp, TimestampRound, Unit};
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

use super::plan::{self, Plan, gateway_refs, operator_ref, sail_ref};
use super::status::{detect_control_plane, status_of};
use super::{Context, MESH_SET, MeshState, STATE_CONFIGMAP, load_state, monitoring, save_state};
use crate::cluster::apply::{self, ApplyOptions, ObjectRef, apply_owned, list_owned};
use crate::cluster::ops::{self, Decision};
use crate::cluster::reviews::Attributes;
use crate::cluster::{Acting, api_error};
use crate::enablement::{AUTO_INJECTED_ANNOTATION, INJECTION_LABEL, settings};
use crate::error::{Error, Result};

/// The types of objects the mesh set may hold (for pruning and
/// disabling): the Prometheus Operator's monitors only where its API is
/// served, the Grafana dashboards' ConfigMap in meshdeck's `namespace`.
fn set_kinds(namespace: &str, operator_api: bool) -> Vec<ObjectRef> {
    let [deployment, service] = gateway_refs();
    let mut kinds = vec![sail_ref(), operator_ref(), deployment, service];
    kinds.extend(monitoring::kinds(namespace, operator_api));
    kinds
}

/// `verb` on the object `r`, as a SubjectAccessReview asks it (a
/// server-side apply that creates is authorised as `create` with the name).
fn write(verb: &str, r: &ObjectRef) -> Attributes {
    Attributes::new(
        verb,
        &r.group,
        &r.plural,
        r.namespace.as_deref(),
        Some(&r.name),
    )
}

/// The write of the state ConfigMap: an update names it; a create (a POST)
/// is authorised without a name, as the API server does.
fn state_write(namespace: &str, exists: bool) -> Attributes {
    if exists {
        Attributes::new(
            "update",
            "",
            "configmaps",
            Some(namespace),
            Some(STATE_CONFIGMAP),
        )
    } else {
        Attributes::new("create", "", "configmaps", Some(namespace), None)
    }
}

/// Everything enabling will do, checked and planned, not yet written.
#[derive(Debug)]
pub struct PreparedEnable {
    state: MeshState,
    state_rv: Option<String>,
    plan: Plan,
    kinds: Vec<ObjectRef>,
    /// Every write the owner must be allowed to make themselves.
    pub writes: Vec<Attributes>,
}

/// Reads and checks the settings, finds the control plane and the
/// monitoring, plans the objects and lists the writes (422 for unreadable
/// or invalid settings, a plan that does not fit, or no control plane at
/// all).
pub async fn prepare_enable(own: &kube::Client, ctx: &Context) -> Result<PreparedEnable> {
    let namespace = ctx.namespace.as_str();
    let stored = settings::load(own, namespace).await?;
    if let Some(problem) = stored.parsed.problem {
        return Err(Error::Invalid(format!(
            "the stored settings cannot be read ({problem}); reset them on the Settings page first"
        )));
    }
    let settings = stored.parsed.settings;
    let errors = settings::validate(&settings);
    if !errors.is_empty() {
        return Err(Error::Invalid(format!(
            "the stored settings are invalid: {}",
            errors.join("; ")
        )));
    }
    let preflight = settings::preflight(own, &settings).await?;
    if !preflight.fits {
        return Err(Error::Invalid(format!(
            "the plan does not fit the schedulable nodes: {}",
            preflight.shortfalls.join("; ")
        )));
    }
    let (state, state_rv) = load_state(own, namespace).await?;
    let (control_plane, decision) = detect_control_plane(own, &state).await?;
    if control_plane.kind == ControlPlaneKind::None {
        return Err(Error::Invalid(
            "no control plane: neither the Sail operator (sailoperator.io/v1 istios) nor IstioOperator is served, and no istiod runs; install one of them first".into(),
        ));
    }
    let survey = monitoring::survey(own, namespace, ctx.grafana_url(&settings)).await?;
    let plan = plan::plan(&settings, &decision, &monitoring::plan(&survey));
    let kinds = set_kinds(namespace, survey.operator_api);
    let existing = list_owned(own, &MESH_SET, &kinds, Acting::Meshdeck).await?;
    let mut writes = Vec::new();
    for (r, _) in &plan.objects {
        writes.push(write("patch", r));
        if !existing.contains(r) {
            writes.push(write("create", r));
        }
    }
    for r in existing
        .iter()
        .filter(|r| !plan.objects.iter().any(|(p, _)| p == *r))
    {
        writes.push(write("delete", r));
    }
    writes.push(state_write(namespace, state_rv.is_some()));
    Ok(PreparedEnable {
        state,
        state_rv,
        plan,
        kinds,
        writes,
    })
}

/// Now, truncated to the second like Kubernetes' creationTimestamps, so a
/// namespace created right after enabling never looks older than the enable.
fn now_rfc3339() -> String {
    let now = Timestamp::now();
    now.round(
        TimestampRound::new()
            .smallest(Unit::Second)
            .mode(RoundMode::Trunc),
    )
    .unwrap_or(now)
    .to_string()
}

/// Enables the mesh as prepared (or, with `options.dry_run`, has the API
/// server check every object and says what would happen).
pub async fn enable(
    own: &kube::Client,
    ctx: &Context,
    prepared: PreparedEnable,
    options: ApplyOptions,
) -> Result<MeshChange> {
    let namespace = ctx.namespace.as_str();
    let PreparedEnable {
        state,
        state_rv,
        plan,
        kinds,
        writes: _,
    } = prepared;
    let applied = apply_owned(
        own,
        &MESH_SET,
        &plan.objects,
        &kinds,
        Acting::Meshdeck,
        options,
    )
    .await?;
    let mut steps: Vec<String> = plan
        .uses
        .iter()
        .map(|what| format!("use {what}; meshdeck manages only what it creates"))
        .collect();
    for (r, _) in &plan.objects {
        let verb = if applied.created.contains(r) {
            "create"
        } else {
            "update"
        };
        steps.push(format!(
            "{verb} {} (server-side apply, field manager meshdeck)",
            r.describe()
        ));
    }
    for r in &applied.pruned {
        steps.push(format!("delete {} (no longer wanted)", r.describe()));
    }
    steps.extend(plan.notes.iter().cloned());
    steps.push(format!("record the state in {namespace}/{STATE_CONFIGMAP}"));
    if options.dry_run {
        let status = status_of(own, ctx, &state).await?;
        return Ok(MeshChange {
            dry_run: true,
            steps,
            status,
        });
    }
    let new_state = MeshState {
        enabled: true,
        enabled_at: if state.enabled {
            state.enabled_at.clone()
        } else {
            Some(now_rfc3339())
        },
        created: plan.objects.iter().map(|(r, _)| r.clone()).collect(),
    };
    save_state(own, namespace, &new_state, state_rv).await?;
    tracing::info!(steps = ?steps, "mesh enabled");
    let status = status_of(own, ctx, &new_state).await?;
    Ok(MeshChange {
        dry_run: false,
        steps,
        status,
    })
}

/// A namespace auto-injection labelled, and the label it set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutoLabel {
    /// Namespace name.
    pub namespace: String,
    /// Label key.
    pub key: String,
    /// Label value.
    pub value: String,
}

/// The label an [`AUTO_INJECTED_ANNOTATION`] value records (`key=value`;
/// an older mark holding a timestamp stands for `istio-injection=enabled`).
pub fn recorded_label(mark: &str) -> (String, String) {
    match mark.split_once('=') {
        Some((k, v)) if !k.is_empty() && !k.contains(':') => (k.to_owned(), v.to_owned()),
        _ => (INJECTION_LABEL.to_owned(), "enabled".to_owned()),
    }
}

/// Namespaces whose injection label auto-injection set and nobody changed
/// since: marked with [`AUTO_INJECTED_ANNOTATION`], label still as recorded.
async fn auto_labelled(own: &kube::Client) -> Result<Vec<AutoLabel>> {
    let list = Api::<Namespace>::all(own.clone())
        .list(&ListParams::default())
        .await
        .map_err(|e| api_error("list namespaces", Acting::Meshdeck, e))?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|ns| {
            let mark = ns
                .metadata
                .annotations
                .as_ref()?
                .get(AUTO_INJECTED_ANNOTATION)?;
            let (key, value) = recorded_label(mark);
            let labelled = ns.metadata.labels.as_ref()?.get(&key) == Some(&value);
            let namespace = ns.metadata.name.clone()?;
            labelled.then_some(AutoLabel {
                namespace,
                key,
                value,
            })
        })
        .collect())
}

/// Everything disabling will do, not yet done.
#[derive(Debug)]
pub struct PreparedDisable {
    state: MeshState,
    state_rv: Option<String>,
    remove: Vec<ObjectRef>,
    unlabel: Vec<AutoLabel>,
    /// Every write the owner must be allowed to make themselves.
    pub writes: Vec<Attributes>,
}

/// Finds what enabling created (by meshdeck's labels) and the namespaces
/// auto-injection labelled, and lists the writes.
pub async fn prepare_disable(own: &kube::Client, ctx: &Context) -> Result<PreparedDisable> {
    let namespace = ctx.namespace.as_str();
    let (state, state_rv) = load_state(own, namespace).await?;
    let kinds = set_kinds(namespace, monitoring::operator_api(own).await?);
    let remove = list_owned(own, &MESH_SET, &kinds, Acting::Meshdeck).await?;
    let unlabel = auto_labelled(own).await?;
    let mut writes: Vec<Attributes> = remove.iter().map(|r| write("delete", r)).collect();
    for a in &unlabel {
        writes.push(Attributes::new(
            "patch",
            "",
            "namespaces",
            Some(&a.namespace),
            Some(&a.namespace),
        ));
    }
    if state_rv.is_some() {
        writes.push(state_write(namespace, true));
    }
    Ok(PreparedDisable {
        state,
        state_rv,
        remove,
        unlabel,
        writes,
    })
}

/// Removes the auto-injection label and its mark from a namespace, if they
/// are still as auto-injection left them (re-read on a conflict).
async fn unlabel(own: &kube::Client, a: &AutoLabel, dry_run: bool) -> Result<()> {
    let api = Api::<Namespace>::all(own.clone());
    let outcome = ops::patch_fresh(
        &api,
        &api,
        Acting::Meshdeck,
        &a.namespace,
        &format!("namespace {:?}", a.namespace),
        dry_run,
        |ns: &Namespace| {
            let marked = ns
                .metadata
                .annotations
                .as_ref()
                .is_some_and(|m| m.contains_key(AUTO_INJECTED_ANNOTATION));
            let labelled =
                ns.metadata.labels.as_ref().and_then(|l| l.get(&a.key)) == Some(&a.value);
            if !marked || !labelled {
                return Ok(Decision::Unchanged(()));
            }
            let patch: Value = json!({"metadata": {
                "labels": {a.key.as_str(): null},
                "annotations": {AUTO_INJECTED_ANNOTATION: null},
            }});
            Ok(Decision::Patch(patch, ()))
        },
    )
    .await;
    match outcome {
        Ok(_) => Ok(()),
        Err(Error::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Disables the mesh as prepared: removes exactly what enabling created
/// and the injection labels auto-injection set (running pods keep their
/// sidecars until restarted), then records the mesh as off.
pub async fn disable(
    own: &kube::Client,
    ctx: &Context,
    prepared: PreparedDisable,
    dry_run: bool,
) -> Result<MeshChange> {
    let namespace = ctx.namespace.as_str();
    let PreparedDisable {
        state,
        state_rv,
        remove,
        unlabel: labels,
        writes: _,
    } = prepared;
    let mut steps: Vec<String> = remove
        .iter()
        .map(|r| format!("delete {}", r.describe()))
        .collect();
    for a in &labels {
        steps.push(format!(
            "remove {}={} from namespace {} (set automatically while the mesh was enabled; running pods keep their sidecars until restarted)",
            a.key, a.value, a.namespace
        ));
    }
    if !state.enabled && remove.is_empty() && labels.is_empty() {
        steps.push("the mesh is not enabled through meshdeck; nothing to do".into());
        let status = status_of(own, ctx, &state).await?;
        return Ok(MeshChange {
            dry_run,
            steps,
            status,
        });
    }
    steps.push(format!("record the state in {namespace}/{STATE_CONFIGMAP}"));
    // The API server checks every delete and label change first.
    for r in &remove {
        apply::delete(own, r, Acting::Meshdeck, true).await?;
    }
    for a in &labels {
        unlabel(own, a, true).await?;
    }
    if dry_run {
        let status = status_of(own, ctx, &state).await?;
        return Ok(MeshChange {
            dry_run,
            steps,
            status,
        });
    }
    // Recorded as off before anything goes: the auto-injection controller
    // then stops labelling namespaces first (else it could put a label
    // back between its removal and the record). What is left after a
    // failure still carries meshdeck's labels and marks, which is what a
    // retry finds, so the record needs no list of it.
    let new_state = MeshState::default();
    if state_rv.is_some() {
        save_state(own, namespace, &new_state, state_rv).await?;
    }
    let mut failed = Vec::new();
    for r in &remove {
        if let Err(err) = apply::delete(own, r, Acting::Meshdeck, false).await {
            failed.push(format!("{}: {err}", r.describe()));
        }
    }
    for a in &labels {
        if let Err(err) = unlabel(own, a, false).await {
            failed.push(format!(
                "the injection label of namespace {}: {err}",
                a.namespace
            ));
        }
    }
    if !failed.is_empty() {
        return Err(Error::upstream(
            app::types::UpstreamKind::Kubernetes,
            format!(
                "could not remove {}; the mesh is recorded as off and what is left still carries meshdeck's labels: disable again to remove it",
                failed.join("; ")
            ),
        ));
    }
    tracing::info!(steps = ?steps, "mesh disabled");
    let status = status_of(own, ctx, &new_state).await?;
    Ok(MeshChange {
        dry_run: false,
        steps,
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_record_the_label_they_set() {
        assert_eq!(
            recorded_label("istio.io/rev=canary"),
            ("istio.io/rev".to_owned(), "canary".to_owned())
        );
        assert_eq!(
            recorded_label("istio-injection=enabled"),
            (INJECTION_LABEL.to_owned(), "enabled".to_owned())
        );
        // Marks written before the label was recorded hold a timestamp.
        assert_eq!(
            recorded_label("2026-11-01T10:00:00Z"),
            (INJECTION_LABEL.to_owned(), "enabled".to_owned())
        );
    }
}
