//! Switching the mesh on and off: sidecar injection for namespaces and
//! workloads (written as the caller), the mesh settings stored in the
//! cluster, the preflight of a plan against the nodes, the cluster-level
//! enablement (planned, then applied with meshdeck's account after a
//! SubjectAccessReview of the owner who asked), and auto-injection of new
//! namespaces. Handlers in `routes/` call these functions; the Kubernetes
//! calls go through [`crate::cluster`].

pub mod autoinject;
pub mod injection;
pub mod mesh;
pub mod quantity;
pub mod settings;

pub use crate::cluster::apply::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
pub use crate::cluster::ops::RESTARTED_AT;
pub use crate::cluster::pods::PROXY_CONTAINER;

/// Namespace label that turns injection on.
pub const INJECTION_LABEL: &str = "istio-injection";
/// Namespace label selecting a control-plane revision (turns injection on too).
pub const REVISION_LABEL: &str = "istio.io/rev";
/// Pod template annotation (or label) overriding injection per workload.
pub const INJECT_ANNOTATION: &str = "sidecar.istio.io/inject";
/// Istio's control-plane namespace.
pub const ISTIO_SYSTEM: &str = "istio-system";
/// Namespace annotation marking an injection label meshdeck's auto-injection
/// set; its value is the label as set (`istio-injection=enabled` or
/// `istio.io/rev=<revision>`). Disabling the mesh removes such labels while
/// they are unchanged, and an explicit switch of the namespace drops the mark.
pub const AUTO_INJECTED_ANNOTATION: &str = "meshdeck.io/auto-injected";
