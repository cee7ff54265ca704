//! `/login`: sign in with a Kubernetes bearer token, or, in demo mode, pick
//! one of the demo identities.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;

use crate::api::{self, ApiError};
use crate::components::state::loaded;
use crate::session::{self, demo_identity_label};
use crate::types::{AuthMode, DemoIdentity, Status};

/// The sign-in page; after signing in it returns to `?next=`.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = Memo::new(move |_| session::safe_next(query.get().get("next").as_deref()));
    let status = LocalResource::new(api::status);
    view! {
        <header class="page-header">
            <h1>"Sign in"</h1>
            <p class="summary">
                "meshdeck shows what your Kubernetes account may see: sign in with a bearer token."
            </p>
        </header>
        {loaded(
            "sign-in options",
            status,
            move |s: Status| view! { <SignInOptions status=s next=next /> },
        )}
    }
}

#[component]
fn SignInOptions(status: Status, next: Memo<String>) -> impl IntoView {
    if status.auth_mode == AuthMode::Proxy {
        return view! {
            <section class="card" aria-labelledby="proxy-heading">
                <h2 id="proxy-heading">"Signed in by your organisation's proxy"</h2>
                <p>
                    "This console sits behind an authenticating proxy, which tells it who you are. "
                    "Your session there has ended or did not reach meshdeck: "
                    <a href=next.get_untracked()>"reload the page"</a>
                    " to sign in through the proxy again."
                </p>
            </section>
        }
        .into_any();
    }
    let demo = (status.auth_mode == AuthMode::Demo).then_some(status.demo_identities);
    view! {
        {demo.map(|identities| view! { <DemoIdentities identities next=next /> })}
        <TokenForm next=next />
    }
    .into_any()
}

/// Demo mode: one button per identity.
#[component]
fn DemoIdentities(identities: Vec<DemoIdentity>, next: Memo<String>) -> impl IntoView {
    let buttons = identities
        .into_iter()
        .map(|identity| {
            let label = demo_identity_label(&identity);
            let name = identity.name.clone();
            view! {
                <li>
                    <button
                        type="button"
                        class="identity-choice"
                        aria-label=format!("Continue as {name}")
                        on:click=move |_| {
                            api::switch_identity_to(&identity.token, &next.get_untracked());
                        }
                    >
                        {label}
                    </button>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="demo-identities-heading">
            <h2 id="demo-identities-heading">"Demo identities"</h2>
            <p>
                "This is the demo mesh. Pick who to be; the in-memory cluster checks each identity's token and RBAC like a real one."
            </p>
            <ul class="identity-choices">{buttons}</ul>
        </section>
    }
}

/// The token field.
#[component]
fn TokenForm(next: Memo<String>) -> impl IntoView {
    let token = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value = token.get_untracked().trim().to_owned();
        if value.is_empty() {
            error.set(Some("Paste a token first.".into()));
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::sign_in(&value).await {
                Ok(_) => api::go_to(&next.get_untracked()),
                Err(err) => {
                    busy.set(false);
                    error.set(Some(sign_in_error(&err)));
                }
            }
        });
    };
    view! {
        <section class="card login-card" aria-labelledby="token-heading">
            <h2 id="token-heading">"Kubernetes token"</h2>
            <form class="login-form" on:submit=submit>
                <label for="token">"Bearer token"</label>
                <input
                    id="token"
                    name="token"
                    type="password"
                    autocomplete="off"
                    spellcheck="false"
                    placeholder="eyJhbGciOi…"
                    bind:value=token
                />
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
            {move || {
                error.get().map(|message| view! { <p class="form-error" role="alert">{message}</p> })
            }}
            <div class="hint">
                <p>
                    "Any token the cluster accepts works: meshdeck checks it with a TokenReview and shows what its RBAC allows. For a service account:"
                </p>
                <pre><code>"kubectl create token <serviceaccount> -n <namespace>"</code></pre>
                <p>
                    "If an auth proxy in front of meshdeck signs you in, it sends the token for you and this page is not needed."
                </p>
                <p>
                    "The token stays in this browser tab (session storage) and is sent only to meshdeck, in the Authorization header. Closing the tab or signing out forgets it."
                </p>
            </div>
        </section>
    }
}

fn sign_in_error(err: &ApiError) -> String {
    if err.is_unauthenticated() {
        "Kubernetes did not accept this token. Check that it is complete and not expired.".into()
    } else {
        format!("Could not sign in: {err}")
    }
}
