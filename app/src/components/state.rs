//! The one loading state and the one error state every page uses, and the
//! `Transition -> content or error` wrapper that applies them.
//!
//! Errors are matched by hand rather than thrown into an `ErrorBoundary`:
//! with a `LocalResource` that fails fast, the boundary inside a
//! `Transition` sometimes rendered neither the content nor its fallback
//! (seen in about one page load in eight under Playwright).

use leptos::either::Either;
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

/// Shown when a page's data could not be loaded: what failed, in words,
/// and what to do about it, by the answer's HTTP status.
#[component]
pub fn ErrorState(
    /// What went wrong, one line per failure.
    errors: Vec<String>,
    /// The HTTP status of the failed answer (0: none arrived).
    status: u16,
) -> impl IntoView {
    view! {
        <div class="state state-error" role="alert">
            <h2>"Could not load this view"</h2>
            <ul>{errors.into_iter().map(|err| view! { <li>{err}</li> }).collect_view()}</ul>
            <p class="hint">{hint(status)}</p>
        </div>
    }
}

/// What a person can do about a failed answer of HTTP `status`: waiting
/// helps only when the server or an upstream failed (5xx, or no answer).
pub fn hint(status: u16) -> &'static str {
    match status {
        401 => "Your sign-in has expired or was refused; sign in again.",
        403 => "Your account may not see this; a cluster owner can grant it.",
        404 => "It does not exist (any more); check the address.",
        400..=499 => "The request itself is wrong (see above); waiting will not fix it.",
        _ => "The rest of the console still works; try again in a moment.",
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
            {move || {
                let render = render.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(value) => Either::Left(render(value)),
                        Err(err) => Either::Right(view! { <ErrorState errors=vec![err.to_string()] status=err.status /> }),
                    }
                })
            }}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::hint;

    #[test]
    fn only_server_side_failures_say_to_try_again() {
        for status in [0, 500, 502, 503, 504] {
            assert!(hint(status).contains("try again"), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 422] {
            assert!(!hint(status).contains("try again"), "{status}");
        }
        assert!(hint(400).contains("waiting will not fix it"));
        assert!(hint(401).contains("sign in again"));
    }
}
