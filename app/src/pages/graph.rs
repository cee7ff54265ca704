//! Traffic Graph section (Kiali-style).

use leptos::prelude::*;

use crate::nav::GRAPH;
use crate::pages::upcoming::Upcoming;
use crate::types::UpstreamKind;

/// `GRAPH.path`: placeholder until the section's view lands.
#[component]
pub fn GraphPage() -> impl IntoView {
    view! { <Upcoming item=GRAPH needs=&[UpstreamKind::Kubernetes, UpstreamKind::Prometheus] /> }
}
