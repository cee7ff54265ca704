//! Projects: sets of namespaces sharing a label or annotation (by default
//! Rancher's `field.cattle.io/projectId`). A namespace without the key is a
//! project of its own. Pure functions over namespace metadata.

use std::collections::BTreeMap;

use app::types::VisibleProject;

/// The default project key: Rancher's, so Rancher clusters work as they are.
pub const DEFAULT_PROJECT_KEY: &str = "field.cattle.io/projectId";
/// Label or annotation carrying a project's name for people.
pub const PROJECT_NAME_KEY: &str = "field.cattle.io/projectName";

/// One namespace and the project it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamespaceInfo {
    /// Namespace name.
    pub name: String,
    /// Project id: the project key's value, or the namespace's own name.
    pub project: String,
    /// Project name for people: [`PROJECT_NAME_KEY`] if set, else the id.
    pub project_name: String,
    /// True when the namespace carries no project key (a project of its own).
    pub standalone: bool,
}

/// Reads a namespace's project from its labels and annotations. The label
/// wins over the annotation; Rancher's annotation form `c-xxxxx:p-yyyyy`
/// (cluster id, project id) is reduced to the project id.
pub fn namespace_info(
    name: &str,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
    project_key: &str,
) -> NamespaceInfo {
    let non_empty = |map: &BTreeMap<String, String>, key: &str| {
        map.get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let project = non_empty(labels, project_key).or_else(|| {
        non_empty(annotations, project_key).map(|v| match v.rsplit_once(':') {
            Some((_, id)) if !id.is_empty() => id.to_owned(),
            _ => v,
        })
    });
    match project {
        Some(id) => NamespaceInfo {
            name: name.to_owned(),
            project_name: non_empty(annotations, PROJECT_NAME_KEY)
                .or_else(|| non_empty(labels, PROJECT_NAME_KEY))
                .unwrap_or_else(|| id.clone()),
            project: id,
            standalone: false,
        },
        None => NamespaceInfo {
            name: name.to_owned(),
            project: name.to_owned(),
            project_name: name.to_owned(),
            standalone: true,
        },
    }
}

/// Groups namespaces into projects, sorted by project name then id; each
/// project lists its namespaces sorted by name.
pub fn group_projects<'a>(
    namespaces: impl IntoIterator<Item = &'a NamespaceInfo>,
) -> Vec<VisibleProject> {
    let mut by_id: BTreeMap<&str, VisibleProject> = BTreeMap::new();
    for ns in namespaces {
        let project = by_id.entry(&ns.project).or_insert_with(|| VisibleProject {
            id: ns.project.clone(),
            display_name: ns.project_name.clone(),
            namespaces: Vec::new(),
        });
        // A later namespace may carry the name the first one lacked.
        if project.display_name == project.id && ns.project_name != ns.project {
            project.display_name = ns.project_name.clone();
        }
        project.namespaces.push(ns.name.clone());
    }
    let mut projects: Vec<VisibleProject> = by_id.into_values().collect();
    for p in &mut projects {
        p.namespaces.sort();
        p.namespaces.dedup();
    }
    projects.sort_by(|a, b| {
        a.display_name
            .to_lowercase()
            .cmp(&b.display_name.to_lowercase())
            .then_with(|| a.id.cmp(&b.id))
    });
    projects
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_label_names_the_project() {
        let ns = namespace_info(
            "bookinfo",
            &map(&[(DEFAULT_PROJECT_KEY, "p-shop")]),
            &map(&[(PROJECT_NAME_KEY, "Shop")]),
            DEFAULT_PROJECT_KEY,
        );
        assert_eq!(ns.project, "p-shop");
        assert_eq!(ns.project_name, "Shop");
        assert!(!ns.standalone);
    }

    #[test]
    fn rancher_annotations_are_reduced_to_the_project_id() {
        let ns = namespace_info(
            "web",
            &map(&[]),
            &map(&[(DEFAULT_PROJECT_KEY, "c-m-abc12:p-xyz89")]),
            DEFAULT_PROJECT_KEY,
        );
        assert_eq!(ns.project, "p-xyz89");
        assert_eq!(ns.project_name, "p-xyz89");
    }

    #[test]
    fn a_namespace_without_the_key_is_its_own_project() {
        let ns = namespace_info(
            "tools",
            &map(&[("team", "x"), (DEFAULT_PROJECT_KEY, "  ")]),
            &map(&[]),
            DEFAULT_PROJECT_KEY,
        );
        assert_eq!(ns.project, "tools");
        assert!(ns.standalone);
    }

    #[test]
    fn the_key_is_configurable() {
        let labels = map(&[
            ("example.com/team", "payments"),
            (DEFAULT_PROJECT_KEY, "p-1"),
        ]);
        let ns = namespace_info("ledger", &labels, &map(&[]), "example.com/team");
        assert_eq!(ns.project, "payments");
    }

    #[test]
    fn projects_group_their_namespaces() {
        let key = DEFAULT_PROJECT_KEY;
        let infos = [
            namespace_info("payments", &map(&[(key, "p-pay")]), &map(&[]), key),
            namespace_info(
                "legacy",
                &map(&[(key, "p-pay")]),
                &map(&[(PROJECT_NAME_KEY, "Payments")]),
                key,
            ),
            namespace_info("default", &map(&[]), &map(&[]), key),
        ];
        let projects = group_projects(&infos);
        assert_eq!(projects.len(), 2);
        assert_eq!(projects[0].id, "default");
        assert_eq!(projects[1].id, "p-pay");
        assert_eq!(projects[1].display_name, "Payments");
        assert_eq!(projects[1].namespaces, vec!["legacy", "payments"]);
    }
}
