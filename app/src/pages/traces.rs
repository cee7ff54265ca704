//! Traces section (Jaeger-style).

use leptos::prelude::*;

use crate::nav::TRACES;
use crate::pages::upcoming::Upcoming;
use crate::types::UpstreamKind;

/// `TRACES.path`: placeholder until the section's view lands.
#[component]
pub fn TracesPage() -> impl IntoView {
    view! { <Upcoming item=TRACES needs=&[UpstreamKind::Jaeger] /> }
}
