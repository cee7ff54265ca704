//! An in-memory Kubernetes API server that kube-rs talks to exactly as to a
//! real cluster: [`InMemoryCluster::client`] gives a `kube::Client` whose
//! requests are answered by an axum [`Router`] over an in-memory object store.
//!
//! - [`resources`]: the served resource types (one table entry per type).
//! - [`store`]: objects, `resourceVersion`s, the event log, change broadcast.
//! - [`api`]: the filter chain (authentication, impersonation, authorization,
//!   audit), REST paths, verbs and discovery; [`watch`]: watch streams.
//! - [`request`]: a request's RBAC attributes, as kube-apiserver derives them.
//! - [`auth`]: bearer tokens, impersonation, RBAC evaluation, TokenReview and
//!   SubjectAccessReview; [`audit`]: the audit log.
//! - [`patch`]: merge, strategic merge and JSON patches.
//! - [`fields`]: `managedFields` and server-side apply.
//! - [`schema`]: the CRD schemas of Istio's kinds, the Gateway API's
//!   routes and the Prometheus Operator's monitors, and kube-apiserver's pruning, defaulting and validation.
//! - [`selector`]: label and field selectors.
//! - [`workloads`]: pods for Deployments, StatefulSets and DaemonSets, with
//!   Istio sidecar injection.
//! - [`seed`]: a cluster matching a simulated [`Mesh`](crate::model::Mesh).
//!
//! What behaves as on a real kube-apiserver:
//! - Authentication by `Authorization: Bearer` tokens (the demo users', the
//!   admin's [`ADMIN_TOKEN`], meshdeck's ServiceAccount's, [`add_token`]
//!   ones): a missing or unknown token is 401 on every `/api...` and
//!   `/apis...` path, discovery included; `/version` is public.
//!   Authenticated users are also in `system:authenticated`.
//! - Impersonation (`Impersonate-User`, `-Group`, `-Uid`, `-Extra-*`), each
//!   checked with RBAC's `impersonate` verb in kube-apiserver's order and
//!   refused with its 403 wording.
//! - RBAC authorization of every resource request (reads, watches, writes,
//!   reviews) with the request attributes kube-apiserver derives, and its
//!   403 wording; `system:masters` may do anything.
//! - `metadata.managedFields` on every write, and server-side apply with
//!   conflicts, force, co-ownership, removal of fields an applier drops,
//!   creation (201, needing `create` as well) and dry runs.
//! - Leases (`coordination.k8s.io/v1`) for leader election.
//! - Custom resources with a schema ([`schema`]: Istio's VirtualService,
//!   DestinationRule, Gateway, ServiceEntry, Sidecar, PeerAuthentication,
//!   AuthorizationPolicy and RequestAuthentication, the Gateway API's
//!   HTTPRoute and GRPCRoute, the Prometheus Operator's ServiceMonitor and
//!   PodMonitor) are decoded and validated on create, update,
//!   patch and server-side apply, dry runs included: unknown fields are
//!   pruned (kept under `x-kubernetes-preserve-unknown-fields`) with a
//!   `Warning: 299 - "unknown field \"spec.foo\""` header, refused with
//!   `fieldValidation=Strict` (400 `strict decoding error: …`) or dropped
//!   silently with `Ignore`; `null`s of fields that are not nullable are
//!   dropped and defaults applied; violations of types, enums, bounds,
//!   patterns, lengths, `maxItems`, `required`, `oneOf` and the CEL rules
//!   written in Rust are 422 `Invalid` with kube-apiserver's wording, one
//!   cause each, joined as `[a, b]`, CEL rules skipped (and said to be)
//!   after blocking errors. A status write checks `status` only. An apply
//!   configuration with an undeclared field or a wrong scalar fails as
//!   structured-merge-diff makes it fail (500 `failed to create typed patch
//!   object (…)`).
//!
//! Differences worth knowing:
//! - Tokens are a fixed table: no ServiceAccount token issuing, no client
//!   certificates, no anonymous user (anonymous requests are 401, as with
//!   `--anonymous-auth=false`, except `/version`).
//! - RBAC evaluation only; no other authorizer, no admission (quota,
//!   webhooks), and built-in kinds get no validation beyond the shape of
//!   well-known fields and their names.
//! - CRD schemas are written by hand ([`schema`]) for the fields meshdeck
//!   writes; some subtrees are left open (see [`schema::istio`],
//!   [`schema::gateway`] and [`schema::monitoring`]). CEL rules are Rust functions, not a CEL
//!   interpreter; formats (`date-time`, `int32` ranges), `maxProperties`,
//!   list-type `map`/`set` uniqueness and validation ratcheting on update
//!   are not checked. kube-apiserver orders the errors of sibling fields as
//!   Go's map iteration falls; here they follow the schema (alphabetical).
//!   Apply configurations report their first undeclared field per object.
//!   Custom resources keep a `status` sent to the main resource (a real
//!   server drops it when the status subresource is on), and accept
//!   strategic merge patches (a real server answers 415 for them).
//! - `Impersonate-Group` without `Impersonate-User` answers 400 (a real API
//!   server answers an internal error).
//! - Managed fields know list types only from a small table
//!   ([`fields::list_keys`]: containers, ports, env, volume mounts and
//!   volumes of pods and pod templates, Service ports, owner references);
//!   every other list is atomic, as for a CRD without
//!   `x-kubernetes-list-type`, and the workloads' label selectors are the
//!   only atomic maps. Update entries own the leaves they changed but not
//!   the maps around them (a real server also records `.` for maps a write
//!   creates). An apply configuration is read as JSON and its `null`s are
//!   dropped.
//! - Audit: an in-memory list ([`InMemoryCluster::audit`]), not audit
//!   policies or backends; non-resource requests are not in it.
//! - Controllers run synchronously inside the write that triggers them, and
//!   deleting a namespace removes it and its contents at once.
//!
//! [`add_token`]: InMemoryCluster::add_token

pub mod api;
pub mod audit;
pub mod auth;
pub mod error;
pub mod fields;
pub mod meta;
pub mod patch;
pub mod request;
pub mod resources;
pub mod schema;
pub mod seed;
pub mod selector;
pub mod store;
pub mod watch;
pub mod workloads;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, header};
use serde_json::Value;
use tokio::sync::broadcast;

use crate::model::Mesh;
pub use audit::AuditEntry;
pub use auth::Identity;
pub use error::{ApiError, ApiResult, Reason};
pub use resources::ResourceType;
pub use store::{Change, ChangeKind, Store, UserInfo};

/// Default interval of BOOKMARK events on watches that allow them.
pub const DEFAULT_BOOKMARK_INTERVAL: Duration = Duration::from_secs(30);

/// Bearer token of the cluster admin every cluster knows: user
/// [`ADMIN_USER`] in group `system:masters`. [`InMemoryCluster::client`]
/// sends it.
pub const ADMIN_TOKEN: &str = "in-memory-cluster-admin";
/// User name of [`ADMIN_TOKEN`].
pub const ADMIN_USER: &str = "system:admin";

/// The in-memory API as a service of `kube` requests, each sent with
/// headers fixed when it was made
/// ([`InMemoryCluster::service_with_headers`]).
pub type HeaderService = tower::util::BoxCloneService<
    axum::http::Request<::kube::client::Body>,
    axum::http::Response<axum::body::Body>,
    std::convert::Infallible,
>;

/// State shared by the handle and the router.
#[derive(Debug)]
pub struct Shared {
    store: Mutex<Store>,
    bookmark_ms: AtomicU64,
    /// Optional CRDs installed (see [`resources::OPTIONAL_CRDS`]).
    crds: Mutex<Vec<&'static ResourceType>>,
    /// Every resource request, with who made it and how it was answered.
    audit: audit::AuditLog,
}

impl Shared {
    /// Locks the store. A poisoned lock is taken over: every write leaves
    /// the store consistent before anything that could panic.
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The optional CRDs installed in this cluster.
    pub fn installed_crds(&self) -> Vec<&'static ResourceType> {
        self.crds.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Whether requests for `rt` are served (built in, or an installed CRD).
    pub fn serves(&self, rt: &ResourceType) -> bool {
        !resources::is_optional(rt)
            || self
                .crds
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(&rt)
    }

    /// Interval between BOOKMARK events.
    pub fn bookmark_interval(&self) -> Duration {
        Duration::from_millis(self.bookmark_ms.load(Ordering::Relaxed).max(1))
    }
}

/// A handle on an in-memory cluster; clones share the same cluster.
#[derive(Clone, Debug)]
pub struct InMemoryCluster {
    shared: Arc<Shared>,
}

impl Default for InMemoryCluster {
    fn default() -> Self {
        Self::new()
    }
}

impl InMemoryCluster {
    /// An empty cluster: no namespaces or nodes; one user, the admin of
    /// [`ADMIN_TOKEN`].
    pub fn new() -> Self {
        let cluster = InMemoryCluster {
            shared: Arc::new(Shared {
                store: Mutex::new(Store::new()),
                bookmark_ms: AtomicU64::new(DEFAULT_BOOKMARK_INTERVAL.as_millis() as u64),
                crds: Mutex::new(Vec::new()),
                audit: audit::AuditLog::default(),
            }),
        };
        cluster.add_token(ADMIN_TOKEN, ADMIN_USER, &[auth::MASTERS_GROUP.to_owned()]);
        cluster
    }

    /// A cluster seeded from a simulated mesh (see [`seed`]).
    pub fn from_mesh(mesh: &Mesh) -> Self {
        let cluster = Self::new();
        seed::seed(&mut cluster.shared.lock(), mesh);
        cluster
    }

    /// The Kubernetes API as an axum router (serve it to let `kubectl` in).
    pub fn router(&self) -> Router {
        api::router(self.shared.clone())
    }

    /// A `kube::Client` whose requests this cluster answers as the cluster
    /// admin ([`ADMIN_TOKEN`]), with default namespace `default`. Must be
    /// called inside a Tokio runtime (the client spawns its request buffer
    /// there).
    pub fn client(&self) -> ::kube::Client {
        self.client_with_token(ADMIN_TOKEN)
    }

    /// A `kube::Client` whose every request carries `Authorization: Bearer
    /// <token>` (an unknown token is answered 401).
    pub fn client_with_token(&self, token: &str) -> ::kube::Client {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) {
            headers.insert(header::AUTHORIZATION, value);
        }
        self.client_with_headers(headers)
    }

    /// A `kube::Client` whose every request carries exactly `headers`: each
    /// name among them replaces what the client set under that name, and
    /// every value of a repeated name (several `Impersonate-Group`) is
    /// kept. Without an `Authorization` header the requests are anonymous
    /// (and answered 401).
    pub fn client_with_headers(&self, headers: HeaderMap) -> ::kube::Client {
        ::kube::Client::new(self.service_with_headers(headers), "default")
    }

    /// The service behind [`client_with_headers`](Self::client_with_headers),
    /// for a client with layers of its own around it.
    pub fn service_with_headers(&self, headers: HeaderMap) -> HeaderService {
        let headers = Arc::new(headers);
        let service = tower::ServiceBuilder::new()
            .map_request(move |mut req: axum::http::Request<::kube::client::Body>| {
                let target = req.headers_mut();
                for name in headers.keys() {
                    target.remove(name);
                }
                for (name, value) in headers.iter() {
                    target.append(name, value.clone());
                }
                req
            })
            .service(self.router());
        tower::util::BoxCloneService::new(service)
    }

    /// Every resource request answered so far (after authentication), oldest
    /// first, with the identity it acted as and its HTTP status; the newest
    /// [`audit::AUDIT_CAPACITY`] are kept.
    pub fn audit(&self) -> Vec<AuditEntry> {
        self.shared.audit.entries()
    }

    /// Forgets the audit log.
    pub fn clear_audit(&self) {
        self.shared.audit.clear();
    }

    /// A receiver of every change committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.shared.lock().subscribe()
    }

    /// Sets how often watches that allow bookmarks get a BOOKMARK event.
    pub fn set_bookmark_interval(&self, every: Duration) {
        self.shared
            .bookmark_ms
            .store(every.as_millis().max(1) as u64, Ordering::Relaxed);
    }

    /// Installs one of the [`resources::OPTIONAL_CRDS`] (e.g.
    /// `sailoperator.io`, `istios`), as an operator's chart would: from now
    /// on discovery lists it and its objects are served. `false` when no
    /// such optional CRD exists.
    pub fn install_crd(&self, group: &str, plural: &str) -> bool {
        let Some(rt) = resources::OPTIONAL_CRDS
            .iter()
            .find(|r| r.group == group && r.plural == plural)
        else {
            return false;
        };
        let mut crds = self.shared.crds.lock().unwrap_or_else(|e| e.into_inner());
        if !crds.contains(&rt) {
            crds.push(rt);
        }
        true
    }

    /// Lets requests (and TokenReview) authenticate with `token` as
    /// `username` in `groups` (plus `system:authenticated`).
    pub fn add_token(&self, token: &str, username: &str, groups: &[String]) {
        self.shared.lock().users.insert(
            token.to_owned(),
            UserInfo {
                username: username.to_owned(),
                groups: groups.to_vec(),
            },
        );
    }

    /// The latest committed `resourceVersion`.
    pub fn resource_version(&self) -> u64 {
        self.shared.lock().resource_version()
    }

    /// An object by group, version, plural resource, namespace (`""` for
    /// cluster-scoped) and name, if the type is served and the object exists.
    pub fn get(
        &self,
        group: &str,
        version: &str,
        plural: &str,
        namespace: &str,
        name: &str,
    ) -> Option<Value> {
        let rt = resources::find(group, version, plural)?;
        self.shared.lock().peek(rt, namespace, name).cloned()
    }

    /// All objects of a type, in one namespace or everywhere.
    pub fn list(
        &self,
        group: &str,
        version: &str,
        plural: &str,
        namespace: Option<&str>,
    ) -> Vec<Value> {
        let Some(rt) = resources::find(group, version, plural) else {
            return Vec::new();
        };
        self.shared.lock().iter(rt, namespace).cloned().collect()
    }

    /// Creates an object of the type named by its `apiVersion` and `kind`,
    /// as a POST would (controllers run).
    pub fn create(&self, obj: Value) -> ApiResult<Value> {
        let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
        let rt = resources::by_kind(api_version, kind).ok_or_else(|| {
            ApiError::bad_request(format!("no resource type for {api_version} {kind}"))
        })?;
        let ns = meta::namespace(&obj).to_owned();
        let writer = store::Writer::Internal(store::SIM_MANAGER);
        let mut check = schema::FieldCheck::default();
        self.shared
            .lock()
            .create(rt, &ns, obj, false, &writer, &mut check)
    }
}

/// Same as [`InMemoryCluster::from_mesh`].
pub fn from_mesh(mesh: &Mesh) -> InMemoryCluster {
    InMemoryCluster::from_mesh(mesh)
}
