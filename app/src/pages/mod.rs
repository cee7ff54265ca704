//! One module per section; pages fetch their data and hand it to components.

pub mod api_docs;
pub mod graph;
pub mod istio;
pub mod login;
pub mod metrics;
pub mod namespaces;
pub mod not_found;
pub mod overview;
pub mod prometheus;
pub mod rollouts;
pub mod service;
pub mod settings;
pub mod traces;
