//! The one loading state and the one error state every page uses, and the
//! `Transition -> ErrorBoundary -> content` wrapper that applies them.

use leptos::prelude::*;

use crate::api::ApiError;

/// Shown while a page's data is on its way.
#[component]
pub fn LoadingState(
    /// What is loading, e.g. "status".
    #[prop(into)]
    what: String,
) -> impl IntoView {
    view! {
        <div class="state state-loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            {format!("Loading {what}…")}
        </div>
    }
}

/// Shown when a page's data could not be loaded: what failed, in words.
#[component]
pub fn ErrorState(
    /// The errors caught by the page's error boundary.
    errors: ArcRwSignal<Errors>,
) -> impl IntoView {
    view! {
        <div class="state state-error" role="alert">
            <h2>"Could not load this view"</h2>
            <ul>
                {move || {
                    errors
                        .get()
                        .into_iter()
                        .map(|(_, err)| view! { <li>{err.to_string()}</li> })
                        .collect_view()
                }}
            </ul>
            <p class="hint">"The rest of the console still works; try again in a moment."</p>
        </div>
    }
}

/// Renders `resource` with `render` once loaded, with the shared loading and
/// error states. Refetches keep the old content visible (Transition).
pub fn loaded<T, V, F>(
    what: &'static str,
    resource: LocalResource<Result<T, ApiError>>,
    render: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + Send + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
{
    view! {
        <Transition fallback=move || view! { <LoadingState what=what /> }>
            <ErrorBoundary fallback=|errors| view! { <ErrorState errors /> }>
                {move || {
                    let render = render.clone();
                    Suspend::new(async move { resource.await.map(render) })
                }}
            </ErrorBoundary>
        </Transition>
    }
}
