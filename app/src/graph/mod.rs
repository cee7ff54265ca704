//! The Traffic Graph's pure logic, tested natively: a layered left-to-right
//! layout (Sugiyama-style: cycle breaking, longest-path layers, barycenter
//! ordering within namespace bands), edge geometry (ends on the target's
//! near side, bulk arrows, band-to-band trunks), which names are readable
//! in the pane ([`Viewport`], [`bulk_labels`]), Kiali-style find/hide
//! expressions, edge labels and accessible names.
//!
//! No layout crate: `layout-rs` (0.1) is a Graphviz-style renderer without
//! grouping, and the bands used here (one horizontal band per namespace, so
//! namespace boxes never overlap) are a few lines on top of plain layering.
//!
//! One submodule per concern; everything public is re-exported here, so
//! callers name it `graph::Foo`.

mod edges;
mod expr;
#[cfg(test)]
mod fixtures;
mod labels;
mod layout;
mod scene;
mod viewport;
mod visible;

pub use edges::*;
pub use expr::*;
pub use labels::*;
pub use layout::*;
pub use scene::*;
pub use viewport::*;
pub use visible::*;
