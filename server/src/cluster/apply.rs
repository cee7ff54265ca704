//! Server-side apply with field manager `meshdeck`, and pruning.
//!
//! meshdeck states only the fields it has an opinion on; the API server
//! merges them into the live object and keeps every field other managers
//! own (an HPA's `replicas`, an operator's defaults). Where another manager
//! owns a field meshdeck sets to a different value, the API server refuses
//! with a conflict naming the fields and their managers, which meshdeck
//! passes on as a 409; taking the fields over (`force`) is always an
//! explicit second step of the person asking.
//!
//! Objects meshdeck writes carry its labels ([`OwnedSet`]); pruning deletes
//! objects of the set that the new desired state no longer has, and never
//! touches objects without the labels.

use std::collections::BTreeMap;

use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::FIELD_MANAGER;
use super::error::{Acting, api_error};
use crate::error::{Error, Result};

/// Label meshdeck puts on everything it creates.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`] on meshdeck's objects.
pub const MANAGED_BY_VALUE: &str = "meshdeck";

/// One Kubernetes object by type and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    /// API group (`""` for core).
    pub group: String,
    /// API version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Plural resource name.
    pub plural: String,
    /// Namespace, if namespaced.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl ObjectRef {
    /// The object `name` of type `ar` in `namespace`.
    pub fn new(ar: &ApiResource, namespace: Option<&str>, name: &str) -> Self {
        ObjectRef {
            group: ar.group.clone(),
            version: ar.version.clone(),
            kind: ar.kind.clone(),
            plural: ar.plural.clone(),
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
        }
    }

    /// The type, for kube-rs.
    pub fn api_resource(&self) -> ApiResource {
        ApiResource {
            group: self.group.clone(),
            version: self.version.clone(),
            api_version: if self.group.is_empty() {
                self.version.clone()
            } else {
                format!("{}/{}", self.group, self.version)
            },
            kind: self.kind.clone(),
            plural: self.plural.clone(),
        }
    }

    /// An `Api` for this object's type and namespace.
    pub fn api(&self, client: &kube::Client) -> Api<DynamicObject> {
        let ar = self.api_resource();
        match &self.namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
            None => Api::all_with(client.clone(), &ar),
        }
    }

    /// `Kind namespace/name`.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }

    /// The plural with its group as RBAC and messages write it, e.g.
    /// `deployments.apps` or `services`.
    pub fn qualified_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

/// A set of objects meshdeck owns, recognised by labels: everything it
/// applies for the set carries them, and pruning looks for them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedSet {
    /// The labels every object of the set carries (with
    /// [`MANAGED_BY_LABEL`]).
    pub labels: BTreeMap<String, String>,
}

impl OwnedSet {
    /// The set marked by `key=value` besides meshdeck's managed-by label.
    pub fn new(key: &str, value: &str) -> Self {
        OwnedSet {
            labels: BTreeMap::from([
                (MANAGED_BY_LABEL.to_owned(), MANAGED_BY_VALUE.to_owned()),
                (key.to_owned(), value.to_owned()),
            ]),
        }
    }

    /// The label selector matching the set.
    pub fn selector(&self) -> String {
        self.labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Whether an object with `labels` belongs to the set.
    pub fn contains(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        labels.is_some_and(|l| self.labels.iter().all(|(k, v)| l.get(k) == Some(v)))
    }

    /// `body` with the set's labels added to `metadata.labels`.
    pub fn label(&self, mut body: Value) -> Value {
        for (k, v) in &self.labels {
            body["metadata"]["labels"][k] = Value::String(v.clone());
        }
        body
    }
}

/// How an apply is made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Only validate (the API server's `dryRun=All`), store nothing.
    pub dry_run: bool,
    /// Take over fields other managers own (an explicit user step).
    pub force: bool,
}

impl ApplyOptions {
    fn params(self) -> PatchParams {
        let mut params = PatchParams::apply(FIELD_MANAGER);
        params.dry_run = self.dry_run;
        params.force = self.force;
        params
    }
}

/// Applies `body` (the fields meshdeck has an opinion on) as `r` with
/// field manager `meshdeck`; answers the object as the API server stored
/// it (or would, for a dry run). A conflict is a 409 with the API server's
/// words, which name each field and its manager.
pub async fn apply(
    client: &kube::Client,
    r: &ObjectRef,
    body: &Value,
    acting: Acting,
    options: ApplyOptions,
) -> Result<DynamicObject> {
    r.api(client)
        .patch(&r.name, &options.params(), &Patch::Apply(body))
        .await
        .map_err(|e| match e {
            kube::Error::Api(s) if s.code == 409 => Error::Conflict(format!(
                "{}; meshdeck changed nothing. Leave those fields to their managers, or take them over explicitly (force)",
                s.message.trim()
            )),
            other => api_error(&format!("apply {}", r.describe()), acting, other),
        })
}

/// The object `r`, or `None` when it does not exist.
pub async fn get(
    client: &kube::Client,
    r: &ObjectRef,
    acting: Acting,
) -> Result<Option<DynamicObject>> {
    r.api(client)
        .get_opt(&r.name)
        .await
        .map_err(|e| api_error(&format!("get {}", r.describe()), acting, e))
}

/// Deletes `r`; an object already gone is fine.
pub async fn delete(
    client: &kube::Client,
    r: &ObjectRef,
    acting: Acting,
    dry_run: bool,
) -> Result<()> {
    let params = if dry_run {
        DeleteParams::default().dry_run()
    } else {
        DeleteParams::default()
    };
    match r.api(client).delete(&r.name, &params).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(api_error(&format!("delete {}", r.describe()), acting, e)),
    }
}

/// The objects of `set` among the types `kinds` (each in its namespace, or
/// cluster-wide), found by the set's labels; types the cluster does not
/// serve are skipped.
pub async fn list_owned(
    client: &kube::Client,
    set: &OwnedSet,
    kinds: &[ObjectRef],
    acting: Acting,
) -> Result<Vec<ObjectRef>> {
    let mut out = Vec::new();
    for kind in kinds {
        let list = match kind
            .api(client)
            .list(&ListParams::default().labels(&set.selector()))
            .await
        {
            Ok(list) => list,
            // A type the cluster does not serve (an operator's CRD that is
            // not installed) holds nothing of the set.
            Err(kube::Error::Api(s)) if s.code == 404 => continue,
            Err(e) => {
                return Err(api_error(
                    &format!("list {}", kind.qualified_resource()),
                    acting,
                    e,
                ));
            }
        };
        for obj in list.items {
            if !set.contains(obj.metadata.labels.as_ref()) {
                continue;
            }
            if let Some(name) = obj.metadata.name.as_deref() {
                out.push(ObjectRef::new(
                    &kind.api_resource(),
                    obj.metadata.namespace.as_deref(),
                    name,
                ));
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// What [`apply_owned`] did (or would do, for a dry run).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Objects that did not exist and were created, in order.
    pub created: Vec<ObjectRef>,
    /// Objects that existed and were updated, in order.
    pub updated: Vec<ObjectRef>,
    /// Objects of the set that were not desired any more and were deleted.
    pub pruned: Vec<ObjectRef>,
}

/// Applies every desired object of `set` (labelled as the set's) and
/// deletes the set's objects of the types `kinds` that are no longer
/// desired. Nothing is written unless everything can be: an existing
/// object that is not the set's (someone else's of the same name) is a 409,
/// and every object is applied as a dry run first, so a rejected one stops
/// everything before the first write. Should a write still fail, the
/// objects this call created are deleted again.
pub async fn apply_owned(
    client: &kube::Client,
    set: &OwnedSet,
    desired: &[(ObjectRef, Value)],
    kinds: &[ObjectRef],
    acting: Acting,
    options: ApplyOptions,
) -> Result<Applied> {
    let mut outcome = Applied::default();
    for (r, _) in desired {
        match get(client, r, acting).await? {
            Some(obj) if !set.contains(obj.metadata.labels.as_ref()) => {
                return Err(Error::Conflict(format!(
                    "{} exists and was not created by meshdeck; meshdeck leaves it alone (remove or rename it first)",
                    r.describe()
                )));
            }
            Some(_) => outcome.updated.push(r.clone()),
            None => outcome.created.push(r.clone()),
        }
    }
    let labelled: Vec<(&ObjectRef, Value)> = desired
        .iter()
        .map(|(r, body)| (r, set.label(body.clone())))
        .collect();
    let check = ApplyOptions {
        dry_run: true,
        ..options
    };
    for (r, body) in &labelled {
        apply(client, r, body, acting, check).await?;
    }
    outcome.pruned = list_owned(client, set, kinds, acting)
        .await?
        .into_iter()
        .filter(|r| !desired.iter().any(|(d, _)| d == r))
        .collect();
    if options.dry_run {
        return Ok(outcome);
    }
    let mut created_now: Vec<&ObjectRef> = Vec::new();
    for (r, body) in &labelled {
        if let Err(err) = apply(client, r, body, acting, options).await {
            for done in created_now.iter().rev() {
                if let Err(undo) = delete(client, done, acting, false).await {
                    tracing::error!(error = %undo, object = %done.describe(), "could not remove an object after a failed apply");
                }
            }
            return Err(err);
        }
        if outcome.created.contains(r) {
            created_now.push(r);
        }
    }
    for r in &outcome.pruned {
        delete(client, r, acting, false).await?;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sets_are_labels() {
        let set = OwnedSet::new("meshdeck.io/part-of", "mesh");
        assert_eq!(
            set.selector(),
            "app.kubernetes.io/managed-by=meshdeck,meshdeck.io/part-of=mesh"
        );
        let body = set.label(json!({"metadata": {"name": "x", "labels": {"app": "y"}}}));
        let labels: BTreeMap<String, String> =
            serde_json::from_value(body["metadata"]["labels"].clone()).unwrap();
        assert!(set.contains(Some(&labels)));
        assert_eq!(labels["app"], "y");
        assert!(!set.contains(None));
        let other = BTreeMap::from([(MANAGED_BY_LABEL.to_owned(), MANAGED_BY_VALUE.to_owned())]);
        assert!(!set.contains(Some(&other)));
    }
}
