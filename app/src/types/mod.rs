//! Wire types: every value that crosses the HTTP boundary between the server
//! and the browser (or a script) is defined here, once. Only serde is needed,
//! so the server uses this module without compiling the UI.
//!
//! One submodule per area; everything is re-exported here, so every type is
//! named `types::Foo`.

mod common;
mod console;
mod dashboards;
mod enablement;
mod graph;
mod identity;
mod istio;
mod metrics;
mod query;
mod rollouts;
mod settings;
mod telemetry;
mod time;
mod traces;
mod wizards;

pub use common::*;
pub use console::*;
pub use dashboards::*;
pub use enablement::*;
pub use graph::*;
pub use identity::*;
pub use istio::*;
pub use metrics::*;
pub use query::*;
pub use rollouts::*;
pub use settings::*;
pub use telemetry::*;
pub use time::*;
pub use traces::*;
pub use wizards::*;
