//! A wizard's preview on screen: Kubernetes' refusals as it worded them,
//! the warnings, and per object what happens to it, who else keeps fields
//! in it, its diff (changes with a little context) and the YAML meshdeck
//! applies. Takes the server's answer as a prop; fetches nothing.

use leptos::prelude::*;

use super::review::{
    Hunk, action_words, diff_counts, hunks, object_title, outcome_summary, status_words,
};
use crate::types::{DiffLine, WizardObject, WizardOutcome, WizardProblem};

/// Unchanged lines kept around each change in a diff.
const DIFF_CONTEXT: usize = 3;

/// The preview of a wizard or of removal.
#[component]
pub fn Preview(outcome: WizardOutcome) -> impl IntoView {
    let summary = outcome_summary(&outcome);
    let dry_run = outcome.dry_run;
    let problems = (!outcome.problems.is_empty())
        .then(|| view! { <Problems problems=outcome.problems.clone() /> });
    let warnings = (!outcome.warnings.is_empty()).then(|| {
        view! {
            <div class="wizard-warning" role="note" aria-label="Warnings">
                <h3>"Know this before you apply"</h3>
                <ul>{outcome.warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}</ul>
            </div>
        }
    });
    let objects = outcome
        .objects
        .into_iter()
        .map(|o| view! { <ObjectChange object=o dry_run=dry_run /> })
        .collect_view();
    view! {
        <section class="wizard-preview" aria-label="Preview">
            <p class="preview-summary">{summary}</p>
            {problems}
            {warnings}
            {objects}
        </section>
    }
}

/// Kubernetes' refusals, each with its status in words and its message
/// exactly as the API server wrote it.
#[component]
pub fn Problems(problems: Vec<WizardProblem>) -> impl IntoView {
    view! {
        <div class="wizard-problems" role="alert" aria-label="Kubernetes refused">
            <h3>"Kubernetes refused the dry run"</h3>
            <ul>
                {problems
                    .into_iter()
                    .map(|p| view! {
                        <li>
                            <strong>{status_words(p.status)}</strong>
                            ": " {p.object}
                            <pre class="k8s-message">{p.message}</pre>
                        </li>
                    })
                    .collect_view()}
            </ul>
        </div>
    }
}

#[component]
fn ObjectChange(object: WizardObject, dry_run: bool) -> impl IntoView {
    let title = object_title(&object);
    let (action, badge) = action_words(object.action, dry_run);
    let (added, removed) = diff_counts(&object.diff);
    let counts = (added + removed > 0).then(|| {
        view! {
            <span class="diff-counts">
                <span class="diff-count-add">{format!("+{added}")}</span>
                " "
                <span class="diff-count-del">{format!("−{removed}")}</span>
                " lines"
            </span>
        }
    });
    let others = (!object.other_managers.is_empty()).then(|| {
        view! {
            <p class="hint">
                "Fields owned by other managers are kept: "
                {object.other_managers.iter().map(|m| view! { <code class="manager">{m.clone()}</code> " " }).collect_view()}
            </p>
        }
    });
    let diff_label = format!("Changes to {title}");
    let diff = if object.diff.is_empty() {
        view! { <p class="hint">"No diff: the live object and the result are the same."</p> }
            .into_any()
    } else {
        view! { <LineDiff diff=object.diff.clone() label=diff_label /> }.into_any()
    };
    let yaml = (!object.yaml.is_empty()).then(|| {
        view! {
            <details class="yaml-details">
                <summary>"YAML meshdeck applies (server-side apply, field manager meshdeck)"</summary>
                <pre class="yaml" aria-label=format!("YAML of {title}")>{object.yaml.clone()}</pre>
            </details>
        }
    });
    view! {
        <article class="wizard-object" aria-label=title.clone()>
            <header class="wizard-object-head">
                <h3>{title.clone()}</h3>
                <span class=badge>{action}</span>
                {counts}
            </header>
            {others}
            {diff}
            {yaml}
        </article>
    }
}

/// A diff, live object against the result: added lines green, removed red,
/// long unchanged stretches folded.
#[component]
fn LineDiff(diff: Vec<DiffLine>, label: String) -> impl IntoView {
    let body = hunks(&diff, DIFF_CONTEXT)
        .into_iter()
        .map(|h| match h {
            Hunk::Lines(lines) => lines
                .into_iter()
                .map(|l| {
                    let (class, sign) = match l.op {
                        '+' => ("dl dl-add", "+"),
                        '-' => ("dl dl-del", "−"),
                        _ => ("dl", " "),
                    };
                    view! {
                        <div class=class>
                            <span class="dl-op" aria-hidden="true">{sign}</span>
                            <span class="visually-hidden">
                                {match l.op { '+' => "added: ", '-' => "removed: ", _ => "" }}
                            </span>
                            {l.text}
                        </div>
                    }
                })
                .collect_view()
                .into_any(),
            Hunk::Folded(n) => view! {
                <div class="dl dl-fold">
                    {format!("⋯ {n} unchanged line{}", if n == 1 { "" } else { "s" })}
                </div>
            }
            .into_any(),
        })
        .collect_view();
    view! { <div class="line-diff" role="group" aria-label=label>{body}</div> }
}
