//! Traffic Metrics section (the five charts).

use leptos::prelude::*;

use crate::nav::METRICS;
use crate::pages::upcoming::Upcoming;
use crate::types::UpstreamKind;

/// `METRICS.path`: placeholder until the section's view lands.
#[component]
pub fn MetricsPage() -> impl IntoView {
    view! { <Upcoming item=METRICS needs=&[UpstreamKind::Prometheus] /> }
}
