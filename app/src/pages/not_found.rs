//! Fallback for paths that are not a page of the console.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// Unknown UI path: says so and links home.
#[component]
pub fn NotFound() -> impl IntoView {
    let location = use_location();
    view! {
        <header class="page-header">
            <h1>"Page not found"</h1>
        </header>
        <section class="card" role="alert">
            <p>
                "There is no page at " <code>{move || location.pathname.get()}</code> "."
            </p>
            <p>
                <a href="/">"Go to the overview"</a>
            </p>
        </section>
    }
}
