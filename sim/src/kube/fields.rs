//! Field ownership as kube-apiserver tracks it in `metadata.managedFields`
//! (Kubernetes docs, "Server-Side Apply"): field sets in the `FieldsV1`
//! encoding, the `Update` entries every non-apply write leaves, and
//! server-side apply itself (merge, conflicts, force, pruning of fields a
//! manager stopped applying).
//!
//! A field set holds the leaves of an object (scalars, atomic lists, empty
//! or null values) and the items of associative lists, which are also walked
//! into. Lists are associative only where Kubernetes declares them so for
//! the built-in types meshdeck writes ([`list_keys`]); every other list is
//! atomic, which is also what a CRD without `x-kubernetes-list-type` gets.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::error::{ApiError, ApiResult, Reason};
use super::resources::{APPS, CORE, ResourceType};

/// `operation` of an entry written by server-side apply.
pub const APPLY: &str = "Apply";
/// `operation` of an entry written by any other write.
pub const UPDATE: &str = "Update";
/// The only field set encoding Kubernetes has.
pub const FIELDS_V1: &str = "FieldsV1";

/// Metadata fields that belong to no field set.
const UNOWNED_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "deletionTimestamp",
    "selfLink",
];

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathElement {
    /// A field of an object: `f:<name>`.
    Field(String),
    /// An item of an associative list, by the JSON object of its key
    /// fields (sorted by name): `k:<json>`.
    Key(String),
}

impl PathElement {
    /// The `FieldsV1` key of this element.
    fn encode(&self) -> String {
        match self {
            PathElement::Field(f) => format!("f:{f}"),
            PathElement::Key(k) => format!("k:{k}"),
        }
    }

    /// The element a `FieldsV1` key names (`None` for `.`, value and index
    /// elements, which nothing here produces).
    fn decode(key: &str) -> Option<PathElement> {
        if let Some(f) = key.strip_prefix("f:") {
            return Some(PathElement::Field(f.to_owned()));
        }
        let k = key.strip_prefix("k:")?;
        let fields: Map<String, Value> = serde_json::from_str(k).ok()?;
        Some(PathElement::Key(key_json(fields.into_iter().collect())))
    }
}

/// A field path printed as kube-apiserver prints it in conflicts:
/// `.spec.template.spec.containers[name="proxy"].image`.
pub fn path_string(path: &[PathElement]) -> String {
    let mut out = String::new();
    for pe in path {
        match pe {
            PathElement::Field(f) => {
                out.push('.');
                out.push_str(f);
            }
            PathElement::Key(k) => {
                let fields: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(name, v)| match v {
                        Value::String(s) => format!("{name}={s:?}"),
                        other => format!("{name}={other}"),
                    })
                    .collect();
                out.push('[');
                out.push_str(&parts.join(","));
                out.push(']');
            }
        }
    }
    out
}

/// The canonical JSON of key fields, sorted by name.
fn key_json(mut fields: Vec<(String, Value)>) -> String {
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    let mut map = Map::new();
    for (k, v) in fields {
        map.insert(k, v);
    }
    Value::Object(map).to_string()
}

/// A set of field paths, as a tree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet {
    /// Whether the path leading here is itself in the set.
    member: bool,
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no path is in the set.
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.is_empty()
    }

    /// Adds a path.
    pub fn insert(&mut self, path: &[PathElement]) {
        let mut node = self;
        for pe in path {
            node = node.children.entry(pe.clone()).or_default();
        }
        node.member = true;
    }

    /// Whether `path` is in the set.
    pub fn contains(&self, path: &[PathElement]) -> bool {
        self.node(path).is_some_and(|n| n.member)
    }

    fn node(&self, path: &[PathElement]) -> Option<&FieldSet> {
        let mut node = self;
        for pe in path {
            node = node.children.get(pe)?;
        }
        Some(node)
    }

    /// Whether `path` or a path below it is in the set.
    pub fn has_at_or_below(&self, path: &[PathElement]) -> bool {
        self.node(path).is_some_and(|n| !n.is_empty())
    }

    fn combine(&self, other: &FieldSet, op: fn(bool, bool) -> bool) -> FieldSet {
        let mut out = FieldSet {
            member: op(self.member, other.member),
            children: BTreeMap::new(),
        };
        let empty = FieldSet::new();
        let keys: BTreeSet<&PathElement> =
            self.children.keys().chain(other.children.keys()).collect();
        for k in keys {
            let a = self.children.get(k).unwrap_or(&empty);
            let b = other.children.get(k).unwrap_or(&empty);
            let child = a.combine(b, op);
            if !child.is_empty() {
                out.children.insert(k.clone(), child);
            }
        }
        out
    }

    /// Paths in either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        if other.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return other.clone();
        }
        self.combine(other, |a, b| a || b)
    }

    /// Paths in this set and not in `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        if other.is_empty() || self.is_empty() {
            return self.clone();
        }
        self.combine(other, |a, b| a && !b)
    }

    /// Paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        if other.is_empty() || self.is_empty() {
            return FieldSet::new();
        }
        self.combine(other, |a, b| a && b)
    }

    /// Every path, in kube-apiserver's order: the members of a level
    /// (sorted), then each child's paths.
    pub fn paths(&self) -> Vec<Vec<PathElement>> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Vec<PathElement>>) {
        for (pe, child) in &self.children {
            if child.member {
                let mut p = prefix.clone();
                p.push(pe.clone());
                out.push(p);
            }
        }
        for (pe, child) in &self.children {
            prefix.push(pe.clone());
            child.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    /// The `FieldsV1` JSON of the set.
    pub fn to_fields_v1(&self) -> Value {
        let mut map = Map::new();
        if self.member && !self.children.is_empty() {
            map.insert(".".into(), json!({}));
        }
        for (pe, child) in &self.children {
            map.insert(pe.encode(), child.to_fields_v1());
        }
        Value::Object(map)
    }

    /// The set a `FieldsV1` JSON encodes, if it is one.
    pub fn from_fields_v1(v: &Value) -> Option<FieldSet> {
        let mut set = FieldSet::new();
        for (key, child) in v.as_object()? {
            if key == "." {
                continue;
            }
            let pe = PathElement::decode(key)?;
            let obj = child.as_object()?;
            let mut node = FieldSet::from_fields_v1(child)?;
            node.member = obj.is_empty() || obj.contains_key(".");
            set.children.insert(pe, node);
        }
        Some(set)
    }
}

/// An associative list (`x-kubernetes-list-type: map`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListKeys {
    /// The key fields, each with its default value.
    pub keys: &'static [(&'static str, Option<&'static str>)],
    /// Whether each item is atomic (`x-kubernetes-map-type: atomic`): owned
    /// and replaced as a whole.
    pub atomic_items: bool,
}

const fn by(keys: &'static [(&'static str, Option<&'static str>)]) -> ListKeys {
    ListKeys {
        keys,
        atomic_items: false,
    }
}

const BY_NAME: ListKeys = by(&[("name", None)]);
const CONTAINER_PORT: ListKeys = by(&[("containerPort", None), ("protocol", Some("TCP"))]);
const SERVICE_PORT: ListKeys = by(&[("port", None), ("protocol", Some("TCP"))]);
const BY_MOUNT_PATH: ListKeys = by(&[("mountPath", None)]);
/// Owner references: by uid, each reference atomic.
const BY_UID: ListKeys = ListKeys {
    keys: &[("uid", None)],
    atomic_items: true,
};

/// Associative lists of a pod spec, by path below the spec.
fn pod_spec_list(path: &[&str]) -> Option<ListKeys> {
    match path {
        ["containers" | "initContainers"] | ["volumes"] => Some(BY_NAME),
        ["containers" | "initContainers", "ports"] => Some(CONTAINER_PORT),
        ["containers" | "initContainers", "env"] => Some(BY_NAME),
        ["containers" | "initContainers", "volumeMounts"] => Some(BY_MOUNT_PATH),
        _ => None,
    }
}

/// The keys of the list at `path` (field names, list items skipped) of an
/// object of type `rt`, if Kubernetes declares that list associative
/// (`x-kubernetes-list-type: map`); `None` for atomic lists.
pub fn list_keys(rt: &ResourceType, path: &[&str]) -> Option<ListKeys> {
    if path == ["metadata", "ownerReferences"] {
        return Some(BY_UID);
    }
    match (rt.group, rt.plural) {
        (CORE, "pods") => path.strip_prefix(&["spec"][..]).and_then(pod_spec_list),
        (APPS, "deployments" | "statefulsets" | "daemonsets" | "replicasets") => path
            .strip_prefix(&["spec", "template", "spec"][..])
            .and_then(pod_spec_list),
        (CORE, "services") if path == ["spec", "ports"] => Some(SERVICE_PORT),
        _ => None,
    }
}

/// Whether the object at `path` of an object of type `rt` is atomic (owned
/// and replaced as a whole): the workloads' label selectors.
pub fn atomic_map(rt: &ResourceType, path: &[&str]) -> bool {
    rt.group == APPS
        && matches!(
            rt.plural,
            "deployments" | "statefulsets" | "daemonsets" | "replicasets"
        )
        && path == ["spec", "selector"]
}

/// The key of one list item, or `None` when it lacks a key field.
fn item_key(keys: ListKeys, item: &Value) -> Option<String> {
    let obj = item.as_object()?;
    let mut fields = Vec::new();
    for (name, default) in keys.keys {
        let v = match (obj.get(*name), default) {
            (Some(v), _) if !v.is_null() => v.clone(),
            (_, Some(d)) => json!(d),
            _ => return None,
        };
        fields.push(((*name).to_owned(), v));
    }
    Some(key_json(fields))
}

/// The keys of a list's items when it is associative and every item has a
/// distinct key; `None` means the list is handled as atomic.
fn keyed(rt: &ResourceType, names: &[&str], items: &[Value]) -> Option<Vec<(String, usize)>> {
    let keys = list_keys(rt, names)?;
    let mut out = Vec::with_capacity(items.len());
    let mut seen = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let k = item_key(keys, item)?;
        if !seen.insert(k.clone()) {
            return None;
        }
        out.push((k, i));
    }
    Some(out)
}

/// Which part of an object a write manages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The main resource: everything but `status` and the identity fields.
    Main,
    /// The `/status` subresource: `status` only.
    Status,
}

impl Scope {
    /// The `subresource` of the entries of this scope.
    pub fn subresource(self) -> &'static str {
        match self {
            Scope::Main => "",
            Scope::Status => "status",
        }
    }
}

/// The part of `obj` a write in `scope` owns fields of.
pub fn scoped(obj: &Value, scope: Scope) -> Value {
    let Some(map) = obj.as_object() else {
        return json!({});
    };
    let mut out = Map::new();
    match scope {
        Scope::Status => {
            if let Some(s) = map.get("status") {
                out.insert("status".into(), s.clone());
            }
        }
        Scope::Main => {
            for (k, v) in map {
                match k.as_str() {
                    "apiVersion" | "kind" | "status" => {}
                    "metadata" => {
                        if let Some(md) = v.as_object() {
                            let kept: Map<String, Value> = md
                                .iter()
                                .filter(|(k, _)| !UNOWNED_METADATA.contains(&k.as_str()))
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect();
                            if !kept.is_empty() {
                                out.insert(k.clone(), Value::Object(kept));
                            }
                        }
                    }
                    _ => {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    Value::Object(out)
}

/// The top-level parts of `obj` a write in `scope` owns fields of, each
/// with its field names: `spec`, `data`, ..., and the owned fields of
/// `metadata` one by one (`metadata.labels`, ...). What [`scoped`] keeps,
/// without copying.
fn parts(obj: &Value, scope: Scope) -> Vec<([&str; 2], &Value)> {
    let Some(map) = obj.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in map {
        match (scope, k.as_str()) {
            (Scope::Status, "status") => out.push(([k.as_str(), ""], v)),
            (Scope::Status, _) | (Scope::Main, "apiVersion" | "kind" | "status") => {}
            (Scope::Main, "metadata") => {
                if let Some(md) = v.as_object() {
                    for (mk, mv) in md {
                        if !UNOWNED_METADATA.contains(&mk.as_str()) {
                            out.push(([k.as_str(), mk.as_str()], mv));
                        }
                    }
                }
            }
            (Scope::Main, _) => out.push(([k.as_str(), ""], v)),
        }
    }
    out
}

/// Every path of the field set of `obj` in `scope`, with the value of the
/// leaves (`None` for the items of associative lists).
fn flatten<'a>(
    rt: &ResourceType,
    obj: &'a Value,
    scope: Scope,
) -> BTreeMap<Vec<PathElement>, Option<&'a Value>> {
    fn walk<'a>(
        rt: &ResourceType,
        v: &'a Value,
        path: &mut Vec<PathElement>,
        names: &mut Vec<&'a str>,
        out: &mut BTreeMap<Vec<PathElement>, Option<&'a Value>>,
    ) {
        let fields =
            |m: &'a Map<String, Value>,
             path: &mut Vec<PathElement>,
             names: &mut Vec<&'a str>,
             out: &mut BTreeMap<Vec<PathElement>, Option<&'a Value>>| {
                for (k, child) in m {
                    path.push(PathElement::Field(k.clone()));
                    names.push(k);
                    walk(rt, child, path, names, out);
                    names.pop();
                    path.pop();
                }
            };
        match v {
            Value::Object(m) if !m.is_empty() && !atomic_map(rt, names) => {
                fields(m, path, names, out);
            }
            Value::Array(items) => match keyed(rt, names, items) {
                Some(keys) => {
                    let atomic_items = list_keys(rt, names).is_some_and(|l| l.atomic_items);
                    for (key, i) in keys {
                        path.push(PathElement::Key(key));
                        if atomic_items {
                            out.insert(path.clone(), Some(&items[i]));
                        } else {
                            out.insert(path.clone(), None);
                            if let Some(m) = items[i].as_object() {
                                fields(m, path, names, out);
                            }
                        }
                        path.pop();
                    }
                }
                None => {
                    out.insert(path.clone(), Some(v));
                }
            },
            _ => {
                out.insert(path.clone(), Some(v));
            }
        }
    }
    let mut out = BTreeMap::new();
    for (prefix, v) in parts(obj, scope) {
        let prefix: Vec<&str> = prefix.into_iter().filter(|p| !p.is_empty()).collect();
        let mut path: Vec<PathElement> = prefix
            .iter()
            .map(|p| PathElement::Field((*p).to_owned()))
            .collect();
        let mut names = prefix;
        walk(rt, v, &mut path, &mut names, &mut out);
    }
    out
}

/// The field set of `obj` in `scope`.
pub fn field_set(rt: &ResourceType, obj: &Value, scope: Scope) -> FieldSet {
    let mut set = FieldSet::new();
    for path in flatten(rt, obj, scope).keys() {
        set.insert(path);
    }
    set
}

/// How a write changed the fields of a scope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Paths only the new object has.
    pub added: FieldSet,
    /// Leaves both have, with different values.
    pub modified: FieldSet,
    /// Paths only the old object has.
    pub removed: FieldSet,
}

/// Compares the fields of two versions of an object in `scope`.
pub fn compare(rt: &ResourceType, old: &Value, new: &Value, scope: Scope) -> Comparison {
    let mut c = Comparison::default();
    if parts(old, scope) == parts(new, scope) {
        return c;
    }
    let a = flatten(rt, old, scope);
    let b = flatten(rt, new, scope);
    for (path, value) in &b {
        match a.get(path) {
            None => c.added.insert(path),
            Some(old) if value.is_some() && old != value => c.modified.insert(path),
            Some(_) => {}
        }
    }
    for path in a.keys() {
        if !b.contains_key(path) {
            c.removed.insert(path);
        }
    }
    c
}

/// One `metadata.managedFields` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagedEntry {
    /// The field manager.
    pub manager: String,
    /// [`APPLY`] or [`UPDATE`].
    pub operation: String,
    /// The API version the fields were written in.
    pub api_version: String,
    /// When the entry's field set last changed (RFC 3339).
    pub time: String,
    /// `status` for the status subresource, else empty.
    pub subresource: String,
    /// The fields the manager owns.
    pub fields: FieldSet,
}

impl ManagedEntry {
    /// Whether this entry is `manager`'s for `operation` on `subresource`
    /// (kube-apiserver tells managers apart by all three).
    fn is(&self, manager: &str, operation: &str, subresource: &str) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
    }

    /// How conflicts name this manager: `"m"` for an applier, `"m" using
    /// apps/v1` for an updater.
    pub fn display(&self) -> String {
        let mut s = format!("{:?}", self.manager);
        if !self.subresource.is_empty() {
            s = format!("{s} with subresource {:?}", self.subresource);
        }
        if self.operation == UPDATE {
            s = format!("{s} using {}", self.api_version);
        }
        s
    }

    fn to_json(&self) -> Value {
        let mut v = json!({
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "fieldsType": FIELDS_V1,
            "fieldsV1": self.fields.to_fields_v1(),
        });
        if !self.time.is_empty() {
            v["time"] = json!(self.time);
        }
        if !self.subresource.is_empty() {
            v["subresource"] = json!(self.subresource);
        }
        v
    }

    fn from_json(v: &Value) -> Option<ManagedEntry> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let operation = s("operation");
        if operation != APPLY && operation != UPDATE {
            return None;
        }
        if s("apiVersion").is_empty() || s("fieldsType") != FIELDS_V1 {
            return None;
        }
        let fields = match v.get("fieldsV1") {
            None | Some(Value::Null) => FieldSet::new(),
            Some(f) => FieldSet::from_fields_v1(f)?,
        };
        Some(ManagedEntry {
            manager: s("manager"),
            operation,
            api_version: s("apiVersion"),
            time: s("time"),
            subresource: s("subresource"),
            fields,
        })
    }
}

/// The entries `managedFields` of `obj` encodes, if it is a valid list.
pub fn decode(obj: &Value) -> Option<Vec<ManagedEntry>> {
    obj.pointer("/metadata/managedFields")?
        .as_array()?
        .iter()
        .map(ManagedEntry::from_json)
        .collect()
}

/// The entries a write starts from: those the written object carries when
/// it carries a valid non-empty list (a client editing managedFields; a
/// list of one empty entry, `[{}]`, clears them), else the live object's.
pub fn base_entries(live: Option<&Value>, new: &Value) -> Vec<ManagedEntry> {
    if let Some(list) = new
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    {
        if !list.is_empty()
            && list
                .iter()
                .all(|e| e.as_object().is_some_and(Map::is_empty))
        {
            return Vec::new();
        }
        if let Some(entries) = decode(new).filter(|e| !e.is_empty()) {
            return entries;
        }
    }
    live.and_then(decode).unwrap_or_default()
}

/// Writes `entries` into `obj`'s `metadata.managedFields` in
/// kube-apiserver's order (operation, time, manager, apiVersion,
/// subresource), dropping empty ones; no entries leave no field.
pub fn store_entries(obj: &mut Value, mut entries: Vec<ManagedEntry>) {
    entries.retain(|e| !e.fields.is_empty());
    entries.sort_by(|a, b| {
        (
            &a.operation,
            &a.time,
            &a.manager,
            &a.api_version,
            &a.subresource,
        )
            .cmp(&(
                &b.operation,
                &b.time,
                &b.manager,
                &b.api_version,
                &b.subresource,
            ))
    });
    let Some(md) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    if entries.is_empty() {
        md.remove("managedFields");
    } else {
        md.insert(
            "managedFields".into(),
            Value::Array(entries.iter().map(ManagedEntry::to_json).collect()),
        );
    }
}

/// Records a non-apply write by `manager` in `scope` that turned `old`
/// into `new`: the manager's `Update` entry gains every field the write
/// added or changed, every other entry loses them, and fields the write
/// removed leave every entry.
pub fn record_update(
    rt: &ResourceType,
    entries: &mut Vec<ManagedEntry>,
    old: &Value,
    new: &Value,
    manager: &str,
    scope: Scope,
    now: &str,
) {
    let c = compare(rt, old, new, scope);
    if c == Comparison::default() {
        return;
    }
    let changed = c.added.union(&c.modified);
    let sub = scope.subresource();
    for e in entries.iter_mut() {
        if !e.is(manager, UPDATE, sub) {
            e.fields = e.fields.difference(&changed).difference(&c.removed);
        }
    }
    match entries.iter_mut().find(|e| e.is(manager, UPDATE, sub)) {
        Some(e) => {
            let next = e.fields.difference(&c.removed).union(&changed);
            if next != e.fields {
                e.fields = next;
                e.time = now.to_owned();
                e.api_version = rt.api_version();
            }
        }
        None if !changed.is_empty() => entries.push(ManagedEntry {
            manager: manager.to_owned(),
            operation: UPDATE.to_owned(),
            api_version: rt.api_version(),
            time: now.to_owned(),
            subresource: sub.to_owned(),
            fields: changed,
        }),
        None => {}
    }
    entries.retain(|e| !e.fields.is_empty());
}

/// Drops `null`s from an applied configuration (a `null` there sets
/// nothing and owns nothing).
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Sets `config` over `live` as server-side apply merges: objects merge
/// field by field, associative lists item by item (by key, in
/// kube-apiserver's order: the applied items where they share positions
/// with live ones, live-only items kept in place), anything else is
/// replaced.
fn merge<'a>(
    rt: &ResourceType,
    live: &Value,
    config: &'a Value,
    names: &mut Vec<&'a str>,
) -> Value {
    match (live, config) {
        (Value::Object(l), Value::Object(c)) if !atomic_map(rt, names) => {
            let mut out = l.clone();
            for (k, cv) in c {
                names.push(k);
                let merged = match l.get(k) {
                    Some(lv) => merge(rt, lv, cv, names),
                    None => cv.clone(),
                };
                names.pop();
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(c)) => match (keyed(rt, names, l), keyed(rt, names, c)) {
            (Some(lk), Some(ck)) => Value::Array(merge_items(rt, l, &lk, c, &ck, names)),
            _ => config.clone(),
        },
        _ => config.clone(),
    }
}

fn merge_items<'a>(
    rt: &ResourceType,
    l: &[Value],
    lk: &[(String, usize)],
    c: &'a [Value],
    ck: &[(String, usize)],
    names: &mut Vec<&'a str>,
) -> Vec<Value> {
    let live_by_key: BTreeMap<&str, &Value> =
        lk.iter().map(|(k, i)| (k.as_str(), &l[*i])).collect();
    let applied: BTreeSet<&str> = ck.iter().map(|(k, _)| k.as_str()).collect();
    // Items both have, in applied order: the next one is due first.
    let mut shared = ck
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| live_by_key.contains_key(k));
    let mut next_shared = shared.next();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::with_capacity(l.len().max(c.len()));
    let (mut li, mut ci) = (0, 0);
    let atomic_items = list_keys(rt, names).is_some_and(|k| k.atomic_items);
    let merge_one =
        |names: &mut Vec<&'a str>, key: &str, item: &'a Value| match live_by_key.get(key) {
            Some(live) if !atomic_items => merge(rt, live, item, names),
            _ => item.clone(),
        };
    while li < lk.len() || ci < ck.len() {
        if li < lk.len() && ci < ck.len() {
            let lkey = lk[li].0.as_str();
            if lkey == ck[ci].0 {
                out.push(merge_one(names, lkey, &c[ck[ci].1]));
                done.insert(lkey);
                li += 1;
                ci += 1;
                next_shared = shared.next();
                continue;
            }
            if applied.contains(lkey) && next_shared.is_some_and(|n| n != lkey) {
                li += 1;
                continue;
            }
        }
        if li < lk.len() {
            let lkey = lk[li].0.as_str();
            if !applied.contains(lkey) {
                out.push(l[lk[li].1].clone());
                li += 1;
                continue;
            }
            if done.contains(lkey) {
                li += 1;
                continue;
            }
        }
        if ci < ck.len() {
            let ckey = ck[ci].0.as_str();
            done.insert(ckey);
            out.push(merge_one(names, ckey, &c[ck[ci].1]));
            ci += 1;
            if next_shared == Some(ckey) {
                next_shared = shared.next();
            }
        } else {
            // Only shared live items already merged remain.
            li += 1;
        }
    }
    out
}

/// Removes the field or list item at `path` from `obj`; a map or list left
/// empty by the removal goes too.
fn remove_path(rt: &ResourceType, obj: &mut Value, path: &[PathElement]) {
    fn go(rt: &ResourceType, v: &mut Value, path: &[PathElement], names: &mut Vec<String>) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        match (first, v) {
            (PathElement::Field(f), Value::Object(m)) => {
                if rest.is_empty() {
                    m.remove(f);
                    return;
                }
                names.push(f.clone());
                if let Some(child) = m.get_mut(f) {
                    go(rt, child, rest, names);
                    let empty = match child {
                        Value::Object(c) => c.is_empty(),
                        Value::Array(a) => a.is_empty(),
                        _ => false,
                    };
                    if empty && rest.len() == 1 {
                        m.remove(f);
                    }
                }
                names.pop();
            }
            (PathElement::Key(k), Value::Array(items)) => {
                let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
                let Some(pos) = list_keys(rt, &name_refs).and_then(|keys| {
                    items
                        .iter()
                        .position(|i| item_key(keys, i).as_ref() == Some(k))
                }) else {
                    return;
                };
                if rest.is_empty() {
                    items.remove(pos);
                } else {
                    go(rt, &mut items[pos], rest, names);
                }
            }
            _ => {}
        }
    }
    go(rt, obj, path, &mut Vec::new());
}

/// Whether `path` is a key field of a list item (`...[name="x"].name`):
/// an item that stays keeps its key (a removed item goes as a whole).
fn is_key_field(path: &[PathElement]) -> bool {
    match path {
        [.., PathElement::Key(k), PathElement::Field(f)] => {
            serde_json::from_str::<Map<String, Value>>(k).is_ok_and(|key| key.contains_key(f))
        }
        _ => false,
    }
}

/// What a server-side apply asks.
#[derive(Clone, Copy, Debug)]
pub struct ApplyRequest<'a> {
    /// The applying field manager.
    pub manager: &'a str,
    /// Whether conflicting fields are taken over rather than refused.
    pub force: bool,
    /// Main resource or status subresource.
    pub scope: Scope,
    /// Now, as RFC 3339.
    pub now: &'a str,
}

/// The 409 of an apply whose `conflicts` (manager, path) were not forced,
/// worded as kube-apiserver words it.
fn conflict_error(conflicts: &[(&ManagedEntry, Vec<PathElement>)]) -> ApiError {
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|(e, p)| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", e.display()),
                "field": path_string(p),
            })
        })
        .collect();
    let message = if let [(e, p)] = conflicts {
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            e.display(),
            path_string(p)
        )
    } else {
        let mut lines = Vec::new();
        let mut last: Option<String> = None;
        for (e, p) in conflicts {
            let who = e.display();
            if last.as_ref() != Some(&who) {
                lines.push(format!("conflicts with {who}:"));
                last = Some(who);
            }
            lines.push(format!("- {}", path_string(p)));
        }
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    let mut e = ApiError::new(Reason::Conflict, message);
    e.details = Some(json!({ "causes": causes }));
    e
}

/// Server-side apply of `config` (validated: type, name, namespace) over
/// `live` (`None`: the object does not exist yet) with the live `entries`:
/// the merged object (managedFields not yet written) and the new entries,
/// or a 409 listing the conflicts.
pub fn apply(
    rt: &ResourceType,
    live: Option<&Value>,
    entries: Vec<ManagedEntry>,
    config: &Value,
    req: ApplyRequest<'_>,
) -> ApiResult<(Value, Vec<ManagedEntry>)> {
    let sub = req.scope.subresource();
    let config = without_nulls(config);
    let applied = scoped(&config, req.scope);
    let set = field_set(rt, &config, req.scope);
    let empty = json!({});
    let base = live.unwrap_or(&empty);
    // What is merged: the scope's part of the configuration, plus the
    // identity of the object when it is created.
    let mut to_merge = applied.clone();
    if live.is_none() {
        for k in ["apiVersion", "kind"] {
            if let Some(v) = config.get(k) {
                to_merge[k] = v.clone();
            }
        }
        for k in ["name", "namespace"] {
            if let Some(v) = config.pointer(&format!("/metadata/{k}")) {
                to_merge["metadata"][k] = v.clone();
            }
        }
    }
    let mut merged = merge(rt, base, &to_merge, &mut Vec::new());

    let mut entries = entries;
    let last = entries
        .iter()
        .position(|e| e.is(req.manager, APPLY, sub))
        .map(|i| entries.remove(i));
    let last_set = last.as_ref().map(|e| e.fields.clone()).unwrap_or_default();
    // Fields the manager applied before and applies no more leave the
    // object when nobody else owns them.
    let owned = entries
        .iter()
        .fold(set.clone(), |acc, e| acc.union(&e.fields));
    for path in last_set.difference(&set).paths() {
        if !owned.has_at_or_below(&path) && !is_key_field(&path) {
            remove_path(rt, &mut merged, &path);
        }
    }

    let c = compare(rt, base, &merged, req.scope);
    let changed = c.added.union(&c.modified);
    let mut conflicts: Vec<(usize, Vec<PathElement>)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        for path in e.fields.intersection(&changed).paths() {
            conflicts.push((i, path));
        }
    }
    if !conflicts.is_empty() && !req.force {
        let mut listed: Vec<(&ManagedEntry, Vec<PathElement>)> = conflicts
            .into_iter()
            .map(|(i, p)| (&entries[i], p))
            .collect();
        listed.sort_by_key(|(e, _)| {
            (
                e.manager.clone(),
                e.operation.clone(),
                e.subresource.clone(),
            )
        });
        return Err(conflict_error(&listed));
    }
    for e in entries.iter_mut() {
        e.fields = e.fields.difference(&changed).difference(&c.removed);
    }
    let time = match &last {
        Some(prev) if prev.fields == set => prev.time.clone(),
        _ => req.now.to_owned(),
    };
    entries.push(ManagedEntry {
        manager: req.manager.to_owned(),
        operation: APPLY.to_owned(),
        api_version: rt.api_version(),
        time,
        subresource: sub.to_owned(),
        fields: set,
    });
    entries.retain(|e| !e.fields.is_empty());
    Ok((merged, entries))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::resources;

    fn deployments() -> &'static ResourceType {
        resources::find(APPS, "v1", "deployments").expect("deployments")
    }

    #[test]
    fn field_sets_encode_as_fields_v1() {
        let obj = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}, "resourceVersion": "3",
                         "ownerReferences": [{"uid": "u1", "kind": "X", "name": "x"}]},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"spec": {"containers": [
                    {"name": "web", "image": "web:1", "args": ["a"], "ports": [{"containerPort": 80}]}
                ]}},
            },
            "status": {"replicas": 2},
        });
        let set = field_set(deployments(), &obj, Scope::Main);
        assert_eq!(
            set.to_fields_v1(),
            json!({
                "f:metadata": {
                    "f:labels": {"f:app": {}},
                    "f:ownerReferences": {"k:{\"uid\":\"u1\"}": {}},
                },
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {"f:spec": {"f:containers": {
                        "k:{\"name\":\"web\"}": {
                            ".": {},
                            "f:args": {},
                            "f:image": {},
                            "f:name": {},
                            "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                                ".": {}, "f:containerPort": {}
                            }},
                        }
                    }}},
                },
            })
        );
        assert_eq!(
            FieldSet::from_fields_v1(&set.to_fields_v1()),
            Some(set.clone())
        );
        let status = field_set(deployments(), &obj, Scope::Status);
        assert_eq!(
            status.to_fields_v1(),
            json!({"f:status": {"f:replicas": {}}})
        );
        let paths: Vec<String> = set.paths().iter().map(|p| path_string(p)).collect();
        assert_eq!(paths[0], ".metadata.labels.app");
        assert!(paths.contains(&".spec.template.spec.containers[name=\"web\"].ports[containerPort=80,protocol=\"TCP\"].containerPort".to_owned()));
    }

    #[test]
    fn set_algebra() {
        let p = |s: &[&str]| -> Vec<PathElement> {
            s.iter()
                .map(|f| PathElement::Field((*f).to_owned()))
                .collect()
        };
        let mut a = FieldSet::new();
        a.insert(&p(&["spec", "replicas"]));
        a.insert(&p(&["spec", "paused"]));
        let mut b = FieldSet::new();
        b.insert(&p(&["spec", "replicas"]));
        b.insert(&p(&["metadata", "labels", "x"]));
        assert_eq!(a.intersection(&b).paths(), vec![p(&["spec", "replicas"])]);
        assert_eq!(a.difference(&b).paths(), vec![p(&["spec", "paused"])]);
        assert_eq!(a.union(&b).paths().len(), 3);
        assert!(a.difference(&a).is_empty());
        assert!(b.has_at_or_below(&p(&["metadata"])));
        assert!(!b.contains(&p(&["metadata"])));
    }

    #[test]
    fn associative_lists_merge_in_kube_apiservers_order() {
        let rt = deployments();
        let list = |names: &[&str]| -> Value {
            Value::Array(names.iter().map(|n| json!({"name": n})).collect())
        };
        let names: Vec<&str> = vec!["spec", "template", "spec", "containers"];
        let merged = |live: &[&str], applied: &[&str]| -> Vec<String> {
            let mut ns = names.clone();
            merge(rt, &list(live), &list(applied), &mut ns)
                .as_array()
                .expect("list")
                .iter()
                .map(|i| i["name"].as_str().unwrap_or("").to_owned())
                .collect()
        };
        assert_eq!(merged(&["a", "b"], &["a"]), ["a", "b"]);
        assert_eq!(merged(&["a", "b"], &["a", "c"]), ["a", "b", "c"]);
        assert_eq!(merged(&["a", "b"], &["c", "a"]), ["c", "a", "b"]);
        assert_eq!(merged(&["a", "b", "c"], &["c", "a"]), ["b", "c", "a"]);
        assert_eq!(merged(&[], &["x"]), ["x"]);
    }
}
