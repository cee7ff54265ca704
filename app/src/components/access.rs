//! What the signed-in caller may see: role, projects and namespaces.

use leptos::prelude::*;

use crate::types::{Me, Role};

/// The caller's scope as `/api/me` reported it.
#[component]
pub fn AccessSummary(
    /// The signed-in caller.
    me: Me,
) -> impl IntoView {
    let role = match me.role {
        Role::Owner => "Cluster owner: every namespace, including ones created later.".to_owned(),
        Role::Member if me.namespaces.is_empty() => {
            "Project member without access to any namespace yet (no permission to list pods anywhere)."
                .to_owned()
        }
        Role::Member => format!(
            "Project member: {} namespace{} where you may list pods.",
            me.namespaces.len(),
            if me.namespaces.len() == 1 { "" } else { "s" }
        ),
    };
    let rows = me
        .projects
        .into_iter()
        .map(|project| {
            let id = (project.id != project.display_name).then(|| format!(" ({})", project.id));
            view! {
                <tr>
                    <th scope="row">{project.display_name}<span class="muted">{id}</span></th>
                    <td>
                        {project
                            .namespaces
                            .into_iter()
                            .map(|ns| view! { <code class="param">{ns}</code> " " })
                            .collect_view()}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p>
            <strong>{me.user}</strong>
            " "
            <span class="role-badge role-badge-light">{me.role.label()}</span>
            " – "
            {role}
        </p>
        <table class="data-table" aria-label="Visible projects and namespaces">
            <thead>
                <tr>
                    <th scope="col">"Project"</th>
                    <th scope="col">"Namespaces"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
