//! What the wizard dialogs show of the server's answers, as plain
//! functions: the query of a preview or apply, diffs shortened to their
//! changes, the words for actions and Kubernetes' refusals, when Apply may
//! be pressed, and the fields a 422 names.

use crate::types::{DiffLine, ObjectAction, WizardKind, WizardObject, WizardOutcome};

use super::form::{FieldError, FieldErrors};

/// A stretch of a diff: lines to show, or unchanged lines folded away.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hunk {
    /// Shown as they are.
    Lines(Vec<DiffLine>),
    /// This many unchanged lines, not shown.
    Folded(usize),
}

/// `diff` with unchanged lines more than `context` lines away from a
/// change folded, so a long object shows what changes. A diff without a
/// change is one fold.
pub fn hunks(diff: &[DiffLine], context: usize) -> Vec<Hunk> {
    let changed: Vec<usize> = diff
        .iter()
        .enumerate()
        .filter(|(_, l)| l.op != ' ')
        .map(|(i, _)| i)
        .collect();
    let near = |i: usize| changed.iter().any(|&c| c.abs_diff(i) <= context);
    let mut out: Vec<Hunk> = Vec::new();
    for (i, line) in diff.iter().enumerate() {
        if near(i) {
            match out.last_mut() {
                Some(Hunk::Lines(lines)) => lines.push(line.clone()),
                _ => out.push(Hunk::Lines(vec![line.clone()])),
            }
        } else {
            match out.last_mut() {
                Some(Hunk::Folded(n)) => *n += 1,
                _ => out.push(Hunk::Folded(1)),
            }
        }
    }
    out
}

/// Lines added and removed.
pub fn diff_counts(diff: &[DiffLine]) -> (usize, usize) {
    let count = |op: char| diff.iter().filter(|l| l.op == op).count();
    (count('+'), count('-'))
}

/// What happens (preview) or happened to an object, in words, and the
/// badge class.
pub fn action_words(action: ObjectAction, dry_run: bool) -> (&'static str, &'static str) {
    let text = match (action, dry_run) {
        (ObjectAction::Create, true) => "will be created",
        (ObjectAction::Create, false) => "created",
        (ObjectAction::Update, true) => "will be updated",
        (ObjectAction::Update, false) => "updated",
        (ObjectAction::Unchanged, _) => "unchanged",
        (ObjectAction::Delete, true) => "will be deleted",
        (ObjectAction::Delete, false) => "deleted",
        (ObjectAction::Release, true) => "meshdeck's fields will be removed",
        (ObjectAction::Release, false) => "meshdeck's fields removed",
    };
    let class = match action {
        ObjectAction::Create => "badge badge-ok",
        ObjectAction::Update | ObjectAction::Release => "badge badge-warn",
        ObjectAction::Unchanged => "badge badge-muted",
        ObjectAction::Delete => "badge badge-bad",
    };
    (text, class)
}

/// `VirtualService bookinfo/reviews`.
pub fn object_title(o: &WizardObject) -> String {
    format!("{} {}/{}", o.kind.label(), o.namespace, o.name)
}

/// What Kubernetes' status means, for a refusal's heading.
pub fn status_words(status: u16) -> String {
    match status {
        400 => "Bad request (400)".into(),
        403 => "Forbidden by Kubernetes RBAC (403)".into(),
        404 => "Not found (404)".into(),
        409 => "Conflict with another field manager (409)".into(),
        422 => "Rejected by the schema or an admission webhook (422)".into(),
        s => format!("Refused (HTTP {s})"),
    }
}

/// Whether Apply may be pressed after a preview, and why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gate {
    /// Apply is enabled.
    pub can_apply: bool,
    /// Why not, when it is not.
    pub reason: Option<String>,
    /// "Take over these fields" is offered (a conflict, not yet forced).
    pub offer_takeover: bool,
}

/// The gate after `preview` (made with `force` or not).
pub fn gate(preview: &WizardOutcome, force: bool) -> Gate {
    let offer_takeover = preview.conflict && !force;
    let reason = if !preview.problems.is_empty() {
        Some(if offer_takeover {
            "Kubernetes refused the dry run: other field managers own fields this change sets. Take them over to go on, or cancel.".to_owned()
        } else {
            "Kubernetes refused the dry run (see above); nothing can be applied as it is."
                .to_owned()
        })
    } else if preview
        .objects
        .iter()
        .all(|o| o.action == ObjectAction::Unchanged)
    {
        Some("Nothing would change: the cluster already has exactly this.".to_owned())
    } else {
        None
    };
    Gate {
        can_apply: reason.is_none(),
        reason,
        offer_takeover,
    }
}

/// One line on an outcome: `Traffic shifting, preview: VirtualService
/// bookinfo/reviews will be created; …` or `Traffic shifting applied:
/// VirtualService bookinfo/reviews created; …`.
pub fn outcome_summary(outcome: &WizardOutcome) -> String {
    let head = match (outcome.wizard, outcome.dry_run) {
        (Some(kind), true) => format!("{}, preview", kind.label()),
        (Some(kind), false) => format!("{} applied", kind.label()),
        (None, true) => "Remove traffic routing, preview".to_owned(),
        (None, false) => "Traffic routing removed".to_owned(),
    };
    if outcome.objects.is_empty() {
        return format!(
            "{head}: no object of {}/{} to write.",
            outcome.service.namespace, outcome.service.name
        );
    }
    let parts: Vec<String> = outcome
        .objects
        .iter()
        .map(|o| {
            format!(
                "{} {}",
                object_title(o),
                action_words(o.action, outcome.dry_run).0
            )
        })
        .collect();
    format!("{head}: {}.", parts.join("; "))
}

/// The fields of the server's 422 message (`2 invalid fields: weights:
/// add up to 90; port: must be from 1 to 65535`; `1 invalid field: …`), or
/// `None` when the message is not of that form.
pub fn invalid_fields(message: &str) -> Option<FieldErrors> {
    let (head, list) = message.split_once(": ")?;
    let count: usize = [" invalid field(s)", " invalid fields", " invalid field"]
        .iter()
        .find_map(|suffix| head.strip_suffix(suffix))?
        .trim()
        .parse()
        .ok()?;
    let mut errors = FieldErrors::default();
    for entry in list.split("; ") {
        let (field, problem) = entry.split_once(": ")?;
        errors.0.push(FieldError {
            field: field.trim().to_owned(),
            message: problem.trim().to_owned(),
        });
    }
    (errors.len() == count).then_some(errors)
}

/// The wizards listed first on the service page: those in force.
pub fn applied_labels(applied: &[WizardKind]) -> Vec<&'static str> {
    WizardKind::ALL
        .into_iter()
        .filter(|k| applied.contains(k))
        .map(WizardKind::label)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{IstioKind, ServiceName, WizardProblem};

    fn line(op: char, text: &str) -> DiffLine {
        DiffLine {
            op,
            text: text.into(),
        }
    }

    fn object(action: ObjectAction) -> WizardObject {
        WizardObject {
            kind: IstioKind::VirtualService,
            namespace: "bookinfo".into(),
            name: "reviews".into(),
            action,
            yaml: String::new(),
            diff: vec![],
            other_managers: vec![],
        }
    }

    fn outcome(
        objects: Vec<WizardObject>,
        problems: Vec<WizardProblem>,
        conflict: bool,
    ) -> WizardOutcome {
        WizardOutcome {
            wizard: Some(WizardKind::TrafficShifting),
            service: ServiceName {
                namespace: "bookinfo".into(),
                name: "reviews".into(),
            },
            dry_run: true,
            objects,
            problems,
            conflict,
            warnings: vec![],
        }
    }

    #[test]
    fn queries() {
        use crate::format::query_of;
        use crate::types::{ApplyQuery, DryRunQuery};
        let apply = |dry_run, force| query_of(&ApplyQuery { dry_run, force });
        assert_eq!(apply(true, false), "dryRun=true");
        assert_eq!(apply(true, true), "dryRun=true&force=true");
        assert_eq!(apply(false, true), "force=true");
        assert_eq!(apply(false, false), "");
        assert_eq!(query_of(&DryRunQuery { dry_run: true }), "dryRun=true");
    }

    #[test]
    fn diffs_fold_far_from_changes() {
        // l5 replaced by two lines (indices 5 and 6), context 2: indices 3..=8 shown.
        let mut diff: Vec<DiffLine> = (0..10).map(|i| line(' ', &format!("l{i}"))).collect();
        diff[5] = line('-', "weight: 100");
        diff.insert(6, line('+', "weight: 90"));
        let h = hunks(&diff, 2);
        assert_eq!(h.len(), 3);
        assert_eq!(h[0], Hunk::Folded(3));
        let Hunk::Lines(shown) = &h[1] else {
            panic!("lines")
        };
        let texts: Vec<&str> = shown.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["l3", "l4", "weight: 100", "weight: 90", "l6", "l7"]);
        assert_eq!(h[2], Hunk::Folded(2));
        // Every line is accounted for.
        let total: usize = h
            .iter()
            .map(|h| match h {
                Hunk::Lines(l) => l.len(),
                Hunk::Folded(n) => *n,
            })
            .sum();
        assert_eq!(total, diff.len());
        assert_eq!(diff_counts(&diff), (1, 1));
        // A new object: all added, nothing folded.
        let added = vec![line('+', "a"), line('+', "b")];
        assert_eq!(hunks(&added, 3), [Hunk::Lines(added.clone())]);
        // No change at all: one fold.
        assert_eq!(
            hunks(&[line(' ', "a"), line(' ', "b")], 3),
            [Hunk::Folded(2)]
        );
        assert_eq!(hunks(&[], 3), []);
    }

    #[test]
    fn apply_waits_for_a_clean_preview() {
        let clean = outcome(vec![object(ObjectAction::Create)], vec![], false);
        assert_eq!(
            gate(&clean, false),
            Gate {
                can_apply: true,
                reason: None,
                offer_takeover: false
            }
        );
        let conflict = outcome(
            vec![object(ObjectAction::Update)],
            vec![WizardProblem {
                object: "VirtualService bookinfo/reviews".into(),
                status: 409,
                message: "Apply failed with 1 conflict: conflict with \"meshdeck-sim\": .spec.http"
                    .into(),
            }],
            true,
        );
        let g = gate(&conflict, false);
        assert!(!g.can_apply);
        assert!(g.offer_takeover);
        assert!(g.reason.unwrap().contains("Take them over"));
        // Forced and still refused: no second offer.
        let g = gate(&conflict, true);
        assert!(!g.can_apply && !g.offer_takeover);
        // Forced and clean: apply.
        let forced = outcome(vec![object(ObjectAction::Update)], vec![], false);
        assert!(gate(&forced, true).can_apply);
        // Nothing to change.
        let same = outcome(vec![object(ObjectAction::Unchanged)], vec![], false);
        assert!(!gate(&same, false).can_apply);
    }

    #[test]
    fn outcomes_in_words() {
        let mut o = outcome(
            vec![object(ObjectAction::Create), {
                let mut dr = object(ObjectAction::Update);
                dr.kind = IstioKind::DestinationRule;
                dr
            }],
            vec![],
            false,
        );
        assert_eq!(
            outcome_summary(&o),
            "Traffic shifting, preview: VirtualService bookinfo/reviews will be created; DestinationRule bookinfo/reviews will be updated."
        );
        o.dry_run = false;
        o.wizard = None;
        o.objects[0].action = ObjectAction::Delete;
        o.objects[1].action = ObjectAction::Release;
        assert_eq!(
            outcome_summary(&o),
            "Traffic routing removed: VirtualService bookinfo/reviews deleted; DestinationRule bookinfo/reviews meshdeck's fields removed."
        );
        o.objects.clear();
        assert_eq!(
            outcome_summary(&o),
            "Traffic routing removed: no object of bookinfo/reviews to write."
        );
        assert_eq!(status_words(403), "Forbidden by Kubernetes RBAC (403)");
        assert_eq!(status_words(500), "Refused (HTTP 500)");
        assert_eq!(
            applied_labels(&[WizardKind::Mtls, WizardKind::TrafficShifting]),
            ["Traffic shifting", "mTLS"]
        );
    }

    #[test]
    fn the_servers_422_names_fields() {
        let e = invalid_fields(
            "2 invalid field(s): weights: add up to 90, not 100; port: must be from 1 to 65535",
        )
        .unwrap();
        assert_eq!(e.get("weights").unwrap(), "add up to 90, not 100");
        assert_eq!(e.get("port").unwrap(), "must be from 1 to 65535");
        assert_eq!(
            invalid_fields("1 invalid field(s): rules[0].matches[0].headers[0].match.value: regex does not compile: missing )")
                .unwrap()
                .get("rules[0].matches[0].headers[0].match.value")
                .unwrap(),
            "regex does not compile: missing )"
        );
        // As the server words it: singular and plural.
        let e = invalid_fields(
            "3 invalid fields: weights: the weights add up to 90, not 100; mirror.version: no workload of service reviews has version \"v9\" (versions: v1, v2, v3); mirror.percent: 120 is not a percentage from 0 to 100",
        )
        .unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(
            e.get("mirror.percent").unwrap(),
            "120 is not a percentage from 0 to 100"
        );
        assert_eq!(
            invalid_fields("1 invalid field: port: must be from 1 to 65535")
                .unwrap()
                .get("port")
                .unwrap(),
            "must be from 1 to 65535"
        );
        // Not of that form, or a count that does not fit (a message with "; "
        // inside): shown as the server wrote it only.
        assert_eq!(invalid_fields("subset v9 has no workload"), None);
        assert_eq!(invalid_fields("1 invalid field(s): a: x; y"), None);
        assert_eq!(invalid_fields("2 invalid field(s): a: x"), None);
    }
}
