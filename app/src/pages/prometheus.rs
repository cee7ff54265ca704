//! Prometheus console and dashboards section.

use leptos::prelude::*;

use crate::nav::PROMETHEUS;
use crate::pages::upcoming::Upcoming;
use crate::types::UpstreamKind;

/// `PROMETHEUS.path`: placeholder until the section's view lands.
#[component]
pub fn PrometheusPage() -> impl IntoView {
    view! { <Upcoming item=PROMETHEUS needs=&[UpstreamKind::Prometheus, UpstreamKind::Grafana] /> }
}
