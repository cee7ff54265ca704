//! A simulated Istio mesh for meshdeck's demo mode, tests and benchmarks.
//!
//! - [`model`]: namespaces (grouped into projects), services, workloads with
//!   versions, and the call graph with rates, response-code mix and latency.
//! - [`scenario`]: the default demo mesh and a seeded generator of big meshes.
//! - [`traffic`]: what the mesh does at an instant (rates, error ratios and
//!   latencies varying over time, faults switching on and off).
//! - [`metrics`]: Istio's standard metrics from that traffic, as Prometheus
//!   text for scraping and as OpenMetrics history for backfilling.
//! - [`traces`]: traces along the same call graph, served in Jaeger's v1 and
//!   v3 (OTLP JSON) query formats.
//! - [`shaping`]: Istio traffic management (VirtualService,
//!   DestinationRule, PeerAuthentication) read from the in-memory cluster.
//! - [`live`]: the simulator's `/metrics` endpoint.
//! - [`kube`]: an in-memory Kubernetes API server behind a real `kube::Client`
//!   (objects, patches, watches, TokenReview, SubjectAccessReview with RBAC).
//! - [`prometheus`]: runs a real Prometheus server as a child process.

pub mod kube;
pub mod live;
pub mod metrics;
pub mod model;
pub mod prometheus;
pub mod rng;
pub mod scenario;
pub mod shaping;
pub mod traces;
pub mod traffic;
