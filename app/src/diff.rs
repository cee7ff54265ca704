//! Before/after views of a label or annotation map, for the dry-run
//! previews of enablement changes (plain functions, tested natively).

use std::collections::BTreeMap;

/// How one key fares in a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyChange {
    /// Set by the change.
    Added,
    /// Value replaced.
    Changed,
    /// Removed by the change.
    Removed,
    /// Left as it was.
    Kept,
}

impl KeyChange {
    /// Word shown in the preview.
    pub fn label(self) -> &'static str {
        match self {
            KeyChange::Added => "added",
            KeyChange::Changed => "changed",
            KeyChange::Removed => "removed",
            KeyChange::Kept => "kept",
        }
    }
}

/// One row of a preview: key, value before, value after, what happens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffRow {
    /// Label or annotation key.
    pub key: String,
    /// Value before the change.
    pub before: Option<String>,
    /// Value after the change.
    pub after: Option<String>,
    /// Added, changed, removed or kept.
    pub change: KeyChange,
}

/// Every key of either map: changes first, then what is kept, each by key.
pub fn diff_rows(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<DiffRow> {
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut rows: Vec<DiffRow> = keys
        .into_iter()
        .map(|k| {
            let (b, a) = (before.get(k).cloned(), after.get(k).cloned());
            let change = match (&b, &a) {
                (None, Some(_)) => KeyChange::Added,
                (Some(_), None) => KeyChange::Removed,
                (Some(x), Some(y)) if x != y => KeyChange::Changed,
                _ => KeyChange::Kept,
            };
            DiffRow {
                key: k.clone(),
                before: b,
                after: a,
                change,
            }
        })
        .collect();
    rows.sort_by(|x, y| {
        (x.change == KeyChange::Kept, &x.key).cmp(&(y.change == KeyChange::Kept, &y.key))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn changes_come_first_and_foreign_keys_are_kept() {
        let before = map(&[("team", "a"), ("istio-injection", "disabled"), ("old", "x")]);
        let after = map(&[("team", "a"), ("istio-injection", "enabled"), ("new", "y")]);
        let rows = diff_rows(&before, &after);
        let summary: Vec<(&str, KeyChange)> =
            rows.iter().map(|r| (r.key.as_str(), r.change)).collect();
        assert_eq!(
            summary,
            [
                ("istio-injection", KeyChange::Changed),
                ("new", KeyChange::Added),
                ("old", KeyChange::Removed),
                ("team", KeyChange::Kept),
            ]
        );
    }
}
