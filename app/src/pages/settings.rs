//! Mesh settings and enablement section.

use leptos::prelude::*;

use crate::nav::SETTINGS;
use crate::pages::upcoming::Upcoming;
use crate::types::UpstreamKind;

/// `SETTINGS.path`: placeholder until the section's view lands.
#[component]
pub fn SettingsPage() -> impl IntoView {
    view! { <Upcoming item=SETTINGS needs=&[UpstreamKind::Kubernetes] /> }
}
