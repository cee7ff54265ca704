//! meshdeck's browser UI (Leptos, client-side rendered) and the wire types
//! shared with the server.
//!
//! Without the default `ui` feature only [`types`] and the plain, natively
//! tested helpers ([`nav`], [`session`]) are compiled; that is what the server uses.

pub mod diff;
pub mod format;
pub mod graph;
pub mod links;
pub mod monitoring;
pub mod nav;
pub mod session;
pub mod settings_form;
pub mod types;
pub mod wizards;
pub mod words;

#[cfg(feature = "ui")]
pub mod charts;

#[cfg(feature = "ui")]
mod api;
#[cfg(feature = "ui")]
mod components;
#[cfg(feature = "ui")]
mod pages;

#[cfg(feature = "ui")]
pub use ui::App;

#[cfg(feature = "ui")]
mod ui {
    use leptos::prelude::*;
    use leptos_router::components::{Route, Router, Routes};
    use leptos_router::path;

    use crate::components::layout::Shell;
    use crate::pages;

    /// The whole application: the router inside the shell (navigation, tool
    /// links, identity). Every view's state lives in its URL; the sign-in
    /// token lives in the tab's session storage (see `api`).
    #[component]
    pub fn App() -> impl IntoView {
        let status = LocalResource::new(crate::api::status);
        let me = LocalResource::new(crate::api::me_if_signed_in);
        provide_context(crate::components::layout::MeResource(me));
        view! {
            <Router>
                <Shell status=status me=me>
                    <Routes fallback=pages::not_found::NotFound>
                        <Route path=path!("/") view=pages::overview::Overview />
                        <Route path=path!("/graph") view=pages::graph::GraphPage />
                        <Route path=path!("/metrics") view=pages::metrics::MetricsPage />
                        <Route path=path!("/istio") view=pages::istio::IstioPage />
                        <Route path=path!("/rollouts") view=pages::rollouts::RolloutsPage />
                        <Route path=path!("/rollouts/:namespace/:service") view=pages::rollouts::RolloutPage />
                        <Route path=path!("/namespaces") view=pages::namespaces::NamespacesPage />
                        <Route path=path!("/services/:namespace/:name") view=pages::service::ServicePage />
                        <Route path=path!("/traces") view=pages::traces::TracesPage />
                        <Route path=path!("/prometheus") view=pages::prometheus::PrometheusPage />
                        <Route path=path!("/settings") view=pages::settings::SettingsPage />
                        <Route path=path!("/api-docs") view=pages::api_docs::ApiDocsPage />
                        <Route path=path!("/login") view=pages::login::LoginPage />
                    </Routes>
                </Shell>
            </Router>
        }
    }
}
