//! The object store: JSON objects keyed by group, version, resource,
//! namespace and name, a cluster-wide `resourceVersion` counter, an event log
//! for watches and a broadcast channel of changes.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

use super::error::{ApiError, ApiResult, Reason};
use super::fields::{self, ManagedEntry, Scope};
use super::meta;
use super::patch;
use super::resources::{self, ResourceType};
use super::schema::{self, FieldCheck, Part};
use super::selector::{FieldSelector, LabelSelector};

/// How many events the log keeps for watches that resume from a
/// `resourceVersion`; older ones answer 410 Gone, as after etcd compaction.
pub const EVENT_LOG_CAPACITY: usize = 20_000;
/// Buffer of the live change channel; a watcher further behind is ended and
/// resumes from the log.
const CHANNEL_CAPACITY: usize = 4096;

/// A receiver of committed changes.
pub type ChangeReceiver = broadcast::Receiver<Arc<Change>>;

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// Created.
    Added,
    /// Updated.
    Modified,
    /// Deleted.
    Deleted,
}

impl ChangeKind {
    /// The watch event `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "ADDED",
            ChangeKind::Modified => "MODIFIED",
            ChangeKind::Deleted => "DELETED",
        }
    }
}

/// One committed change of one object.
#[derive(Clone, Debug)]
pub struct Change {
    /// What happened.
    pub kind: ChangeKind,
    /// The object's resource type.
    pub resource: &'static ResourceType,
    /// The cluster `resourceVersion` of this change.
    pub resource_version: u64,
    /// The object after the change (for deletions: as it was, with the
    /// deletion's `resourceVersion`).
    pub object: Value,
    /// The object before the change, for modifications (watches with
    /// selectors turn a change out of the selection into DELETED).
    pub previous: Option<Value>,
}

/// Where an object lives.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// API group (`""` for core).
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// Plural resource.
    pub plural: &'static str,
    /// Namespace, `""` for cluster-scoped objects.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjectKey {
    /// The key of `name` in `namespace` of type `rt`.
    pub fn new(rt: &'static ResourceType, namespace: &str, name: &str) -> Self {
        ObjectKey {
            group: rt.group,
            version: rt.version,
            plural: rt.plural,
            namespace: if rt.namespaced {
                namespace.to_owned()
            } else {
                String::new()
            },
            name: name.to_owned(),
        }
    }
}

/// A user known to TokenReview.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    /// User name.
    pub username: String,
    /// Groups.
    pub groups: Vec<String>,
}

/// Field manager of the simulated controllers' writes.
pub const CONTROLLER_MANAGER: &str = "kube-controller-manager";
/// Field manager of objects the simulator itself writes (the seed,
/// [`InMemoryCluster::create`](super::InMemoryCluster::create)).
pub const SIM_MANAGER: &str = "meshdeck-sim";

/// Who makes a write, for `metadata.managedFields`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Writer<'a> {
    /// A request through the API by field manager `manager`; `status`:
    /// through the status subresource.
    Request {
        /// The field manager.
        manager: &'a str,
        /// Whether the write is to the status subresource.
        status: bool,
    },
    /// A writer inside the simulator (a controller, the seed): its changes
    /// to the main resource and to the status, as the two `Update` entries
    /// (the second with `subresource: status`) such writes leave.
    Internal(&'a str),
    /// The entries are final (server-side apply computed them).
    Applied(Vec<ManagedEntry>),
}

/// Records `writer`'s write of `new` over `old` (`None` for a creation) in
/// `new`'s `metadata.managedFields`.
fn manage(rt: &ResourceType, old: Option<&Value>, new: &mut Value, writer: &Writer<'_>) {
    let now = meta::now_rfc3339();
    let empty = json!({});
    let entries = match writer {
        Writer::Applied(entries) => entries.clone(),
        Writer::Request { manager, status } => {
            let mut entries = fields::base_entries(old, new);
            let scope = if *status { Scope::Status } else { Scope::Main };
            let old = old.unwrap_or(&empty);
            fields::record_update(rt, &mut entries, old, new, manager, scope, &now);
            entries
        }
        Writer::Internal(manager) => {
            let mut entries = fields::base_entries(old, new);
            let old = old.unwrap_or(&empty);
            for scope in [Scope::Main, Scope::Status] {
                fields::record_update(rt, &mut entries, old, new, manager, scope, &now);
            }
            entries
        }
    };
    fields::store_entries(new, entries);
}

/// The part of an object a server-side apply of `scope` writes.
fn scope_part(scope: Scope) -> Part {
    match scope {
        Scope::Status => Part::Status,
        Scope::Main => Part::Main,
    }
}

/// Preconditions a delete may carry (`DeleteOptions.preconditions`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preconditions {
    /// Required current `resourceVersion`.
    pub resource_version: Option<String>,
    /// Required `uid`.
    pub uid: Option<String>,
}

/// The whole state of the in-memory cluster.
#[derive(Debug)]
pub struct Store {
    rv: u64,
    seq: u64,
    objects: BTreeMap<ObjectKey, Value>,
    log: VecDeque<Arc<Change>>,
    /// Every event with a `resourceVersion` at or below this has left the log.
    compacted: u64,
    tx: broadcast::Sender<Arc<Change>>,
    /// Bearer tokens TokenReview accepts.
    pub users: HashMap<String, UserInfo>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

fn namespaces_rt() -> &'static ResourceType {
    // The table always has namespaces; a miss would be a bug in the table.
    resources::find("", "v1", "namespaces").unwrap_or(&resources::RESOURCES[0])
}

/// Everything but `metadata` and `status`: what `metadata.generation` counts.
fn spec_part(obj: &Value) -> Map<String, Value> {
    obj.as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| {
                    !matches!(k.as_str(), "metadata" | "status" | "kind" | "apiVersion")
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Fields that must be JSON objects when present, as the typed decoding of
/// a real API server enforces; the controllers rely on it.
const OBJECT_FIELDS: &[&str] = &[
    "/metadata",
    "/spec",
    "/status",
    "/spec/selector",
    "/spec/template",
    "/spec/template/metadata",
    "/spec/template/spec",
];
/// Fields that must be maps of strings when present.
const STRING_MAPS: &[&str] = &[
    "/metadata/labels",
    "/metadata/annotations",
    "/spec/selector/matchLabels",
    "/spec/template/metadata/labels",
    "/spec/template/metadata/annotations",
];
/// Highest `spec.replicas` accepted: Kubernetes takes any int32, but every
/// replica here is a stored pod.
pub const MAX_REPLICAS: u64 = 1000;

/// Rejects bodies whose well-known fields have the wrong JSON type. For
/// kinds with a schema only `metadata` is checked here: the schema answers
/// for the rest (422), as a CRD's does.
fn check_shape(obj: &Value, has_schema: bool) -> ApiResult<()> {
    let bad = |path: &str, want: &str| {
        Err(ApiError::bad_request(format!(
            "error decoding request body: {} must be {want}",
            path.trim_start_matches('/').replace('/', ".")
        )))
    };
    let checked = |path: &&&str| !has_schema || path.starts_with("/metadata");
    for path in OBJECT_FIELDS.iter().filter(checked) {
        if let Some(v) = obj.pointer(path) {
            if !v.is_object() && !v.is_null() {
                return bad(path, "an object");
            }
        }
    }
    for path in STRING_MAPS.iter().filter(checked) {
        if let Some(v) = obj.pointer(path) {
            let ok = v.is_null()
                || v.as_object()
                    .is_some_and(|m| m.values().all(Value::is_string));
            if !ok {
                return bad(path, "a map of strings");
            }
        }
    }
    if let Some(r) = obj.pointer("/spec/replicas").filter(|_| !has_schema) {
        if !r.is_null() && r.as_u64().is_none_or(|n| n > MAX_REPLICAS) {
            return bad(
                "/spec/replicas",
                &format!("an integer from 0 to {MAX_REPLICAS}"),
            );
        }
    }
    Ok(())
}

impl Store {
    /// An empty store at `resourceVersion` 1.
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(CHANNEL_CAPACITY);
        Store {
            rv: 1,
            seq: 0,
            objects: BTreeMap::new(),
            log: VecDeque::new(),
            compacted: 1,
            tx,
            users: HashMap::new(),
        }
    }

    /// The latest committed `resourceVersion`.
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// A fresh number for names and uids.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// A receiver of every change committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.tx.subscribe()
    }

    /// The logged changes after `since`, and a receiver of the later ones, or
    /// 410 Expired when the log no longer reaches back that far.
    pub fn changes_since(&self, since: u64) -> ApiResult<(Vec<Arc<Change>>, ChangeReceiver)> {
        if since < self.compacted {
            return Err(ApiError::new(
                Reason::Expired,
                format!("too old resource version: {since} ({})", self.compacted + 1),
            ));
        }
        let replay = self
            .log
            .iter()
            .filter(|c| c.resource_version > since)
            .cloned()
            .collect();
        Ok((replay, self.tx.subscribe()))
    }

    /// The object, if it exists.
    pub fn peek(&self, rt: &'static ResourceType, namespace: &str, name: &str) -> Option<&Value> {
        self.objects.get(&ObjectKey::new(rt, namespace, name))
    }

    /// The object, or 404.
    pub fn get(&self, rt: &'static ResourceType, namespace: &str, name: &str) -> ApiResult<Value> {
        self.peek(rt, namespace, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(rt, name))
    }

    /// All objects of a type, in one namespace or (with `None`) everywhere,
    /// ordered by namespace and name.
    pub fn iter(
        &self,
        rt: &'static ResourceType,
        namespace: Option<&str>,
    ) -> impl Iterator<Item = &Value> {
        let start = ObjectKey::new(rt, namespace.unwrap_or(""), "");
        let ns = namespace.map(str::to_owned);
        self.objects
            .range(start..)
            .take_while(move |(k, _)| {
                k.group == rt.group
                    && k.version == rt.version
                    && k.plural == rt.plural
                    && ns
                        .as_ref()
                        .is_none_or(|ns| !rt.namespaced || &k.namespace == ns)
            })
            .map(|(_, v)| v)
    }

    /// The objects of a type matching the selectors.
    pub fn list(
        &self,
        rt: &'static ResourceType,
        namespace: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
    ) -> Vec<Value> {
        self.iter(rt, namespace)
            .filter(|o| labels.matches(o) && fields.matches(o))
            .cloned()
            .collect()
    }

    /// Commits a change: bumps the counter, stores or removes the object,
    /// logs and broadcasts the event. Returns the stored object.
    fn commit(
        &mut self,
        rt: &'static ResourceType,
        kind: ChangeKind,
        mut obj: Value,
        previous: Option<Value>,
    ) -> Value {
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        let key = ObjectKey::new(rt, meta::namespace(&obj), meta::name(&obj));
        match kind {
            ChangeKind::Deleted => {
                self.objects.remove(&key);
            }
            ChangeKind::Added | ChangeKind::Modified => {
                self.objects.insert(key, obj.clone());
            }
        }
        let change = Arc::new(Change {
            kind,
            resource: rt,
            resource_version: self.rv,
            object: obj.clone(),
            previous,
        });
        self.log.push_back(change.clone());
        while self.log.len() > EVENT_LOG_CAPACITY {
            if let Some(old) = self.log.pop_front() {
                self.compacted = old.resource_version;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(change);
        obj
    }

    /// Fills `apiVersion` and `kind`, rejecting a body of another type.
    fn set_type(rt: &ResourceType, obj: &mut Value) -> ApiResult<()> {
        let Some(map) = obj.as_object_mut() else {
            return Err(ApiError::bad_request(
                "the request body must be a JSON object",
            ));
        };
        let api_version = rt.api_version();
        if let Some(v) = map.get("apiVersion").and_then(Value::as_str) {
            if v != api_version {
                return Err(ApiError::bad_request(format!(
                    "the API version in the data ({v}) does not match the expected API version ({api_version})"
                )));
            }
        }
        if let Some(k) = map.get("kind").and_then(Value::as_str) {
            if k != rt.kind {
                return Err(ApiError::bad_request(format!(
                    "the kind in the data ({k}) does not match the expected kind ({})",
                    rt.kind
                )));
            }
        }
        map.insert("apiVersion".into(), json!(api_version));
        map.insert("kind".into(), json!(rt.kind));
        if map.get("metadata").is_none_or(Value::is_null) {
            map.insert("metadata".into(), json!({}));
        }
        check_shape(obj, schema::of(rt).is_some())
    }

    fn check_name(rt: &ResourceType, name: &str) -> ApiResult<()> {
        let ok = if rt.plural == "namespaces" {
            meta::valid_label(name)
        } else if rt.group == resources::RBAC {
            // RBAC names are path segments (`system:masters` is fine).
            !name.is_empty()
                && name != "."
                && name != ".."
                && !name.contains('/')
                && !name.contains('%')
        } else {
            meta::valid_subdomain(name)
        };
        if ok {
            Ok(())
        } else {
            Err(ApiError::invalid(
                rt,
                name,
                format!(
                    "metadata.name: Invalid value: {name:?}: a lowercase RFC 1123 name must consist of lower case alphanumeric characters, '-' or '.'"
                ),
            ))
        }
    }

    /// Creates an object (POST) written by `writer`. `namespace` is the one
    /// in the URL. Kinds with a schema are decoded (unknown fields pruned
    /// as `check` directs, its warnings left there) and validated.
    pub fn create(
        &mut self,
        rt: &'static ResourceType,
        namespace: &str,
        mut obj: Value,
        dry_run: bool,
        writer: &Writer<'_>,
        check: &mut FieldCheck,
    ) -> ApiResult<Value> {
        Self::set_type(rt, &mut obj)?;
        schema::decode(rt, &mut obj, Part::Main, check)?;
        let md = &mut obj["metadata"];
        let mut name = md
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if name.is_empty() {
            let prefix = md.get("generateName").and_then(Value::as_str).unwrap_or("");
            if prefix.is_empty() {
                return Err(ApiError::invalid(
                    rt,
                    "",
                    "metadata.name: Required value: name or generateName is required",
                ));
            }
            // Kubernetes retries on a clash; so do we.
            loop {
                let seq = self.next_seq();
                let candidate = format!("{prefix}{}", meta::suffix(seq, 5));
                if self.peek(rt, namespace, &candidate).is_none() {
                    name = candidate;
                    break;
                }
            }
        }
        Self::check_name(rt, &name)?;
        let md = &mut obj["metadata"];
        md["name"] = json!(name);
        if rt.namespaced {
            if namespace.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "{} is namespaced: create it under /namespaces/<namespace>/",
                    rt.qualified()
                )));
            }
            match md.get("namespace").and_then(Value::as_str) {
                Some(ns) if !ns.is_empty() && ns != namespace => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
                _ => md["namespace"] = json!(namespace),
            }
            if self.peek(namespaces_rt(), "", namespace).is_none() {
                return Err(ApiError::not_found(namespaces_rt(), namespace));
            }
        } else if let Some(m) = md.as_object_mut() {
            m.remove("namespace");
        }
        // Validation runs before storage, so an invalid object is 422
        // even when its name is taken.
        schema::validate(rt, &obj, Part::Main)?;
        if self.peek(rt, namespace, &name).is_some() {
            return Err(ApiError::already_exists(rt, &name));
        }
        let seq = self.next_seq();
        let md = &mut obj["metadata"];
        md["uid"] = json!(meta::uid(seq));
        md["creationTimestamp"] = json!(meta::now_rfc3339());
        if let Some(m) = md.as_object_mut() {
            m.remove("resourceVersion");
            m.remove("deletionTimestamp");
            if rt.generation {
                m.insert("generation".into(), json!(1));
            }
        }
        if rt.plural == "namespaces" {
            obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
            obj["spec"]["finalizers"] = json!(["kubernetes"]);
            obj["status"] = json!({ "phase": "Active" });
        }
        manage(rt, None, &mut obj, writer);
        if dry_run {
            return Ok(obj);
        }
        let stored = self.commit(rt, ChangeKind::Added, obj, None);
        self.after_write(rt, &stored, None);
        Ok(stored)
    }

    /// Replaces an object (PUT) for field manager `manager`. With
    /// `status_only`, only `status` is taken from the body (the `/status`
    /// subresource), and only it is decoded and validated.
    #[allow(clippy::too_many_arguments)]
    pub fn replace(
        &mut self,
        rt: &'static ResourceType,
        namespace: &str,
        name: &str,
        mut obj: Value,
        dry_run: bool,
        status_only: bool,
        manager: &str,
        check: &mut FieldCheck,
    ) -> ApiResult<Value> {
        let current = self.get(rt, namespace, name)?;
        Self::set_type(rt, &mut obj)?;
        let part = if status_only {
            Part::Status
        } else {
            Part::Main
        };
        schema::decode(rt, &mut obj, part, check)?;
        let body_name = meta::name(&obj);
        if body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        if rt.namespaced {
            let ns = meta::namespace(&obj);
            if !ns.is_empty() && ns != namespace {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            obj["metadata"]["namespace"] = json!(namespace);
        }
        let rv = meta::resource_version(&obj);
        if !rv.is_empty() && rv != meta::resource_version(&current) {
            return Err(ApiError::conflict(rt, name));
        }
        if status_only {
            let mut next = current.clone();
            next["status"] = obj.get("status").cloned().unwrap_or(Value::Null);
            obj = next;
        }
        schema::validate(rt, &obj, part)?;
        let writer = Writer::Request {
            manager,
            status: status_only,
        };
        self.update(rt, current, obj, dry_run, true, &writer)
    }

    /// Patches an object (PATCH) with a body of `content_type`, for field
    /// manager `manager`; the patched object is decoded and validated as a
    /// PUT of it would be.
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &mut self,
        rt: &'static ResourceType,
        namespace: &str,
        name: &str,
        content_type: &str,
        body: &[u8],
        dry_run: bool,
        status_only: bool,
        manager: &str,
        check: &mut FieldCheck,
    ) -> ApiResult<Value> {
        let current = self.get(rt, namespace, name)?;
        let mut patched = patch::apply(&current, content_type, body)?;
        if !patched.is_object() {
            return Err(ApiError::invalid(
                rt,
                name,
                "the patched object is not a JSON object",
            ));
        }
        // A resourceVersion written by the patch is a precondition.
        if meta::resource_version(&patched) != meta::resource_version(&current) {
            return Err(ApiError::conflict(rt, name));
        }
        if meta::name(&patched) != name || (rt.namespaced && meta::namespace(&patched) != namespace)
        {
            return Err(ApiError::invalid(
                rt,
                name,
                "metadata.name and metadata.namespace are immutable",
            ));
        }
        Self::set_type(rt, &mut patched)?;
        let part = if status_only {
            Part::Status
        } else {
            Part::Main
        };
        schema::decode(rt, &mut patched, part, check)?;
        if status_only {
            let mut next = current.clone();
            next["status"] = patched.get("status").cloned().unwrap_or(Value::Null);
            patched = next;
        }
        schema::validate(rt, &patched, part)?;
        let writer = Writer::Request {
            manager,
            status: status_only,
        };
        self.update(rt, current, patched, dry_run, true, &writer)
    }

    /// Server-side apply (a PATCH of `application/apply-patch+yaml`) of
    /// `config` by `manager`, creating the object when it does not exist:
    /// the stored object and whether it was created. With `status_only`, the
    /// status subresource is applied (the object must exist).
    #[allow(clippy::too_many_arguments)]
    pub fn apply(
        &mut self,
        rt: &'static ResourceType,
        namespace: &str,
        name: &str,
        config: Value,
        dry_run: bool,
        status_only: bool,
        manager: &str,
        force: bool,
    ) -> ApiResult<(Value, bool)> {
        let Some(map) = config.as_object() else {
            return Err(ApiError::bad_request(
                "the apply patch must be a JSON (or YAML) object",
            ));
        };
        let api_version = map.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        if api_version != rt.api_version() {
            return Err(ApiError::bad_request(format!(
                "Incorrect version specified in apply patch. Specified patch version: {api_version}, expected: {}",
                rt.api_version()
            )));
        }
        let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind != rt.kind {
            return Err(ApiError::bad_request(format!(
                "the kind in the apply patch ({kind}) does not match the expected kind ({})",
                rt.kind
            )));
        }
        if config
            .pointer("/metadata/managedFields")
            .is_some_and(|v| !v.is_null())
        {
            return Err(ApiError::bad_request("metadata.managedFields must be nil"));
        }
        // Typed before merging: undeclared fields and wrong scalars fail
        // the whole apply, as structured-merge-diff makes them.
        schema::check_apply_config(rt, &config)?;
        // Without a name, the configuration applies to the live object the
        // URL names (merged, it carries the live name); creating from it
        // fails like kube-apiserver's name check, since nothing names it.
        let body_name = meta::name(&config).to_owned();
        let exists = self.peek(rt, namespace, name).is_some();
        if body_name != name && !(body_name.is_empty() && exists) {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let body_ns = meta::namespace(&config);
        if rt.namespaced && !body_ns.is_empty() && body_ns != namespace {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let mut config = config;
        if body_name.is_empty() {
            if !config.get("metadata").is_some_and(Value::is_object) {
                config["metadata"] = json!({});
            }
            config["metadata"]["name"] = json!(name);
            if rt.namespaced {
                config["metadata"]["namespace"] = json!(namespace);
            }
        }
        let now = meta::now_rfc3339();
        let scope = if status_only {
            Scope::Status
        } else {
            Scope::Main
        };
        let req = fields::ApplyRequest {
            manager,
            force,
            scope,
            now: &now,
        };
        let rv = meta::resource_version(&config);
        match self.peek(rt, namespace, name).cloned() {
            None if status_only => Err(ApiError::not_found(rt, name)),
            None if !rv.is_empty() => Err(ApiError::conflict(rt, name)),
            None => {
                let (obj, entries) = fields::apply(rt, None, Vec::new(), &config, req)?;
                let writer = Writer::Applied(entries);
                let created = self.create(
                    rt,
                    namespace,
                    obj,
                    dry_run,
                    &writer,
                    &mut FieldCheck::default(),
                )?;
                Ok((created, true))
            }
            Some(current) => {
                if !rv.is_empty() && rv != meta::resource_version(&current) {
                    return Err(ApiError::conflict(rt, name));
                }
                let entries = fields::decode(&current).unwrap_or_default();
                let (mut merged, entries) =
                    fields::apply(rt, Some(&current), entries, &config, req)?;
                Self::set_type(rt, &mut merged)?;
                schema::decode(
                    rt,
                    &mut merged,
                    scope_part(scope),
                    &mut FieldCheck::default(),
                )?;
                schema::validate(rt, &merged, scope_part(scope))?;
                let writer = Writer::Applied(entries);
                let stored = self.update(rt, current, merged, dry_run, true, &writer)?;
                Ok((stored, false))
            }
        }
    }

    /// Writes a new version of an existing object by `writer`: keeps
    /// identity fields, counts generations, records managed fields, skips
    /// no-op writes, runs controllers.
    pub fn update(
        &mut self,
        rt: &'static ResourceType,
        current: Value,
        mut next: Value,
        dry_run: bool,
        run_controllers: bool,
        writer: &Writer<'_>,
    ) -> ApiResult<Value> {
        for field in ["uid", "creationTimestamp", "resourceVersion", "generation"] {
            match current["metadata"].get(field) {
                Some(v) => next["metadata"][field] = v.clone(),
                None => {
                    if let Some(m) = next["metadata"].as_object_mut() {
                        m.remove(field);
                    }
                }
            }
        }
        if rt.generation && spec_part(&current) != spec_part(&next) {
            let generation = current["metadata"]["generation"].as_i64().unwrap_or(1);
            next["metadata"]["generation"] = json!(generation + 1);
        }
        if rt.plural == "namespaces" {
            let name = meta::name(&current).to_owned();
            next["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
        }
        manage(rt, Some(&current), &mut next, writer);
        if next == current || dry_run {
            // Kubernetes does not bump resourceVersion for a no-op update.
            return Ok(next);
        }
        let stored = self.commit(rt, ChangeKind::Modified, next, Some(current.clone()));
        if run_controllers {
            self.after_write(rt, &stored, Some(&current));
        }
        Ok(stored)
    }

    /// Deletes an object (DELETE), and what depends on it: a namespace's
    /// contents, the objects it owns.
    pub fn delete(
        &mut self,
        rt: &'static ResourceType,
        namespace: &str,
        name: &str,
        dry_run: bool,
        preconditions: &Preconditions,
    ) -> ApiResult<Value> {
        let current = self.get(rt, namespace, name)?;
        if preconditions
            .resource_version
            .as_ref()
            .is_some_and(|rv| rv != meta::resource_version(&current))
            || preconditions
                .uid
                .as_ref()
                .is_some_and(|uid| uid != meta::uid_of(&current))
        {
            return Err(ApiError::conflict(rt, name));
        }
        if dry_run {
            return Ok(current);
        }
        let deleted = self.delete_cascade(rt, namespace, name).unwrap_or(current);
        self.after_delete(rt, &deleted);
        Ok(deleted)
    }

    /// Removes an object and its dependents, without controllers reacting.
    pub fn delete_cascade(
        &mut self,
        rt: &'static ResourceType,
        namespace: &str,
        name: &str,
    ) -> Option<Value> {
        let current = self.peek(rt, namespace, name)?.clone();
        let deleted = self.commit(rt, ChangeKind::Deleted, current.clone(), Some(current));
        let uid = meta::uid_of(&deleted).to_owned();
        let dependents: Vec<(&'static ResourceType, String, String)> = if rt.plural == "namespaces"
        {
            self.objects
                .iter()
                .filter(|(k, _)| k.namespace == name)
                .filter_map(|(k, _)| {
                    resources::find(k.group, k.version, k.plural)
                        .map(|t| (t, k.namespace.clone(), k.name.clone()))
                })
                .collect()
        } else if rt.namespaced && !uid.is_empty() {
            self.objects
                .iter()
                .filter(|(k, v)| k.namespace == namespace && meta::owned_by(v, &uid))
                .filter_map(|(k, _)| {
                    resources::find(k.group, k.version, k.plural)
                        .map(|t| (t, k.namespace.clone(), k.name.clone()))
                })
                .collect()
        } else {
            Vec::new()
        };
        for (t, ns, n) in dependents {
            self.delete_cascade(t, &ns, &n);
        }
        Some(deleted)
    }

    /// Creates an object in the namespace its metadata names; for seeding.
    pub fn seed(&mut self, rt: &'static ResourceType, obj: Value) -> ApiResult<Value> {
        let namespace = meta::namespace(&obj).to_owned();
        let writer = Writer::Internal(SIM_MANAGER);
        self.create(
            rt,
            &namespace,
            obj,
            false,
            &writer,
            &mut FieldCheck::default(),
        )
    }
}
