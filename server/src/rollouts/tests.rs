//! The judgement over every combination of what an interval can bring,
//! against a table of rules written out independently of [`decide`]'s
//! code, and worked examples with numbers; the spec checks; the analysis
//! queries as exact strings.

use app::types::{RolloutAnalysis, VersionMeasurement};

use super::analysis::queries;
use super::*;

fn spec() -> RolloutSpec {
    RolloutSpec {
        stable: "v1".into(),
        canary: "v3".into(),
        steps: vec![10, 50, 100],
        interval_s: 60,
        analysis: RolloutAnalysis {
            min_success_pct: 99.0,
            max_p99_ms: Some(500.0),
            max_p99_ratio: Some(1.5),
            min_requests: 20,
            failure_limit: 3,
        },
    }
}

fn versions() -> Vec<String> {
    ["v1", "v2", "v3"].map(String::from).to_vec()
}

fn at(step: usize, failures: u32) -> RolloutProgress {
    RolloutProgress {
        step,
        failures,
        skip_analysis: false,
    }
}

fn measured(
    canary: (Option<f64>, Option<f64>, Option<f64>),
    stable: (Option<f64>, Option<f64>, Option<f64>),
) -> IntervalMeasurement {
    let v = |(requests, success_pct, p99_ms)| VersionMeasurement {
        requests,
        success_pct,
        p99_ms,
    };
    IntervalMeasurement {
        canary: v(canary),
        stable: v(stable),
        unavailable: None,
    }
}

#[test]
fn worked_examples() {
    let s = spec();
    // 100 canary requests, 99.5 % success, p99 300 ms vs stable's 250 ms
    // (1.2×): every check holds; 10 % → 50 %.
    let healthy = measured(
        (Some(100.0), Some(99.5), Some(300.0)),
        (Some(900.0), Some(99.9), Some(250.0)),
    );
    let (d, p) = decide(&s, &at(0, 1), &healthy);
    assert_eq!((d.action, d.canary_weight), (RolloutAction::Advance, 50));
    assert_eq!(p, at(1, 0), "a pass forgets earlier failures");
    assert_eq!(d.reason, "the checks passed at 10 %: on to 50 %");
    let observed: Vec<(&str, Option<f64>, bool)> = d
        .checks
        .iter()
        .map(|c| (c.name.as_str(), c.observed, c.passed))
        .collect();
    assert_eq!(
        observed,
        [
            ("success rate", Some(99.5), true),
            ("p99", Some(300.0), true),
            ("p99 vs stable", Some(1.2), true),
        ]
    );
    // The last step passes: promoted to 100 %.
    let (d, _) = decide(&s, &at(2, 0), &healthy);
    assert_eq!((d.action, d.canary_weight), (RolloutAction::Promote, 100));
    // Limits are inclusive: exactly 99 % and exactly 500 ms pass.
    let edge = measured(
        (Some(20.0), Some(99.0), Some(375.0)),
        (Some(20.0), Some(100.0), Some(250.0)),
    );
    assert_eq!(
        decide(&s, &at(0, 0), &edge).0.action,
        RolloutAction::Advance
    );
    // 98.9 % fails once: held at 10 %, the reason names the numbers.
    let failing = measured(
        (Some(100.0), Some(98.9), Some(300.0)),
        (Some(900.0), Some(99.9), Some(250.0)),
    );
    let (d, p) = decide(&s, &at(0, 0), &failing);
    assert_eq!((d.action, d.canary_weight), (RolloutAction::Hold, 10));
    assert_eq!(p.failures, 1);
    assert_eq!(
        d.reason,
        "holding at 10 %: success rate 98.90 % < 99.00 % (1 of 3 failed judgements before a roll back)"
    );
    // The third failure in a row rolls back to 0 %.
    let (d, _) = decide(&s, &at(1, 2), &failing);
    assert_eq!((d.action, d.canary_weight), (RolloutAction::RollBack, 0));
    assert!(
        d.reason
            .starts_with("rolled back to 0 %: success rate 98.90 % < 99.00 %")
    );
    // Twice as slow as stable (600 vs 300 ms) fails both latency checks.
    let slow = measured(
        (Some(100.0), Some(100.0), Some(600.0)),
        (Some(900.0), Some(100.0), Some(300.0)),
    );
    let (d, _) = decide(&s, &at(0, 0), &slow);
    assert_eq!(d.action, RolloutAction::Hold);
    assert!(
        d.reason
            .contains("p99 600.00 ms > 500.00 ms; p99 2.00× the stable version's > 1.50×"),
        "{}",
        d.reason
    );
    // At 100 % the stable version has no traffic to compare with: the
    // relative check is not made, the others decide.
    let alone = measured(
        (Some(100.0), Some(100.0), Some(200.0)),
        (Some(0.0), None, None),
    );
    let (d, _) = decide(&s, &at(2, 0), &alone);
    assert_eq!(d.action, RolloutAction::Promote);
    assert_eq!(d.checks[2].observed, None);
    // Low traffic waits; missing data pauses; neither counts as a failure.
    let quiet = measured(
        (Some(19.0), Some(0.0), Some(9000.0)),
        (Some(900.0), None, None),
    );
    let (d, p) = decide(&s, &at(0, 2), &quiet);
    assert_eq!((d.action, p.failures), (RolloutAction::Wait, 2));
    assert!(d.reason.contains("received 19 requests"));
    let down = IntervalMeasurement {
        unavailable: Some("timed out after 5 s".into()),
        ..IntervalMeasurement::default()
    };
    let (d, p) = decide(&s, &at(1, 2), &down);
    assert_eq!(
        (d.action, d.canary_weight, p),
        (RolloutAction::Pause, 50, at(1, 2))
    );
    assert!(d.reason.contains("timed out after 5 s"));
    // Skipping analysis once advances whatever was measured.
    let skip = RolloutProgress {
        skip_analysis: true,
        ..at(0, 2)
    };
    let (d, p) = decide(&s, &skip, &failing);
    assert_eq!((d.action, d.canary_weight), (RolloutAction::Advance, 50));
    assert_eq!(p, at(1, 0));
}

/// The rules, in order of precedence, as the issue states them.
fn expected(
    s: &RolloutSpec,
    p: &RolloutProgress,
    m: &IntervalMeasurement,
) -> (RolloutAction, i64, u32) {
    let a = &s.analysis;
    let here = s.steps[p.step];
    let last = p.step == s.steps.len() - 1;
    let onwards = if last {
        (RolloutAction::Promote, 100, 0)
    } else {
        (RolloutAction::Advance, s.steps[p.step + 1], 0)
    };
    if p.skip_analysis {
        return onwards;
    }
    let pause = (RolloutAction::Pause, here, p.failures);
    if m.unavailable.is_some() {
        return pause;
    }
    let Some(n) = m.canary.requests else {
        return pause;
    };
    if n < a.min_requests as f64 {
        return (RolloutAction::Wait, here, p.failures);
    }
    let stable_enough = m.stable.requests.map(|n| n >= a.min_requests as f64);
    let missing = m.canary.success_pct.is_none()
        || (a.max_p99_ms.is_some() && m.canary.p99_ms.is_none())
        || (a.max_p99_ratio.is_some() && stable_enough.is_none())
        || (a.max_p99_ratio.is_some()
            && stable_enough == Some(true)
            && (m.canary.p99_ms.is_none() || m.stable.p99_ms.is_none()));
    if missing {
        return pause;
    }
    let success_ok = m.canary.success_pct.unwrap() >= a.min_success_pct;
    let p99_ok = a.max_p99_ms.is_none_or(|l| m.canary.p99_ms.unwrap() <= l);
    let ratio_ok = a.max_p99_ratio.is_none_or(|r| {
        stable_enough != Some(true) || m.canary.p99_ms.unwrap() <= r * m.stable.p99_ms.unwrap()
    });
    if success_ok && p99_ok && ratio_ok {
        return onwards;
    }
    if p.failures + 1 >= a.failure_limit {
        (RolloutAction::RollBack, 0, p.failures + 1)
    } else {
        (RolloutAction::Hold, here, p.failures + 1)
    }
}

#[test]
fn every_combination_follows_the_rules() {
    let opt = |v: f64| [None, Some(v)];
    let mut seen = std::collections::BTreeSet::new();
    let mut cases = 0;
    for p99_check in [None, Some(500.0)] {
        for ratio_check in [None, Some(1.5)] {
            let mut s = spec();
            s.analysis.max_p99_ms = p99_check;
            s.analysis.max_p99_ratio = ratio_check;
            for step in 0..s.steps.len() {
                for failures in [0, 1, 2] {
                    for skip in [false, true] {
                        for unavailable in [None, Some("down".to_owned())] {
                            for canary_n in [None, Some(5.0), Some(20.0), Some(500.0)] {
                                for success in [None, Some(98.0), Some(99.0), Some(100.0)] {
                                    for canary_p99 in [None, Some(200.0), Some(400.0), Some(700.0)]
                                    {
                                        for stable_n in [None, Some(0.0), Some(500.0)] {
                                            for stable_p99 in opt(250.0) {
                                                let progress = RolloutProgress {
                                                    step,
                                                    failures,
                                                    skip_analysis: skip,
                                                };
                                                let mut m = measured(
                                                    (canary_n, success, canary_p99),
                                                    (stable_n, Some(100.0), stable_p99),
                                                );
                                                m.unavailable = unavailable.clone();
                                                let (d, after) = decide(&s, &progress, &m);
                                                let want = expected(&s, &progress, &m);
                                                assert_eq!(
                                                    (d.action, d.canary_weight, after.failures),
                                                    want,
                                                    "{progress:?} {m:?} {:?}",
                                                    s.analysis
                                                );
                                                // The step moves only on
                                                // Advance; skipping is used up
                                                // only by moving on.
                                                let moved = d.action == RolloutAction::Advance;
                                                assert_eq!(after.step, step + usize::from(moved));
                                                assert_eq!(
                                                    after.skip_analysis,
                                                    skip && !matches!(
                                                        d.action,
                                                        RolloutAction::Advance
                                                            | RolloutAction::Promote
                                                    )
                                                );
                                                // Checks are reported exactly
                                                // when a judgement was made.
                                                let judged = matches!(
                                                    d.action,
                                                    RolloutAction::Advance
                                                        | RolloutAction::Promote
                                                        | RolloutAction::Hold
                                                        | RolloutAction::RollBack
                                                ) && !skip;
                                                assert_eq!(!d.checks.is_empty(), judged);
                                                seen.insert(format!("{:?}", d.action));
                                                cases += 1;
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(cases, 4 * 3 * 3 * 2 * 2 * 4 * 4 * 4 * 3 * 2);
    assert_eq!(seen.len(), 6, "every action occurs: {seen:?}");
}

#[test]
fn bad_specs_name_every_problem() {
    assert!(validate(&spec(), &versions(), 15).is_empty());
    let mut s = spec();
    s.stable = "v9".into();
    s.canary = "v9".into();
    s.steps = vec![0, 50, 50, 101];
    s.interval_s = 10;
    s.analysis = RolloutAnalysis {
        min_success_pct: 101.0,
        max_p99_ms: Some(-1.0),
        max_p99_ratio: Some(0.5),
        min_requests: u64::MAX,
        failure_limit: 0,
    };
    let problems = validate(&s, &versions(), 15);
    let fields: Vec<&str> = problems
        .iter()
        .map(|p| p.split_once(": ").unwrap().0)
        .collect();
    assert_eq!(
        fields,
        [
            "stable",
            "canary",
            "canary",
            "steps[0]",
            "steps[2]",
            "steps[3]",
            "interval_s",
            "analysis.min_success_pct",
            "analysis.max_p99_ms",
            "analysis.max_p99_ratio",
            "analysis.min_requests",
            "analysis.failure_limit",
        ],
        "{problems:#?}"
    );
    assert_eq!(
        problems[6],
        "interval_s: 10 s is shorter than Prometheus' scrape interval (15 s): an interval would hold no new sample"
    );
    assert!(problems[0].contains("(versions: v1, v2, v3)"));
    let mut s = spec();
    s.steps.clear();
    assert_eq!(
        validate(&s, &versions(), 15),
        ["steps: add at least one weight"]
    );
}

#[test]
fn the_analysis_queries() {
    let q = queries("bookinfo", "reviews", &spec());
    let s = r#"reporter="destination",destination_service_namespace="bookinfo",destination_service_name="reviews",destination_version=~"v1|v3""#;
    assert_eq!(
        q.requests,
        format!("sum by (destination_version) (increase(istio_requests_total{{{s}}}[60s]))")
    );
    let all = format!("sum by (destination_version) (rate(istio_requests_total{{{s}}}[60s]))");
    assert_eq!(
        q.error_share,
        format!(
            r#"(sum by (destination_version) (rate(istio_requests_total{{{s},response_code=~"5.*"}}[60s]) or rate(istio_requests_total{{{s},grpc_response_status=~"2|4|12|13|14|15"}}[60s])) or 0 * {all}) / {all}"#
        )
    );
    assert_eq!(
        q.p99,
        format!(
            "histogram_quantile(0.99, sum by (le, destination_version) (rate(istio_request_duration_milliseconds_bucket{{{s}}}[60s])))"
        )
    );
    // Versions are matched literally.
    let mut odd = spec();
    odd.canary = "v1.1+beta".into();
    assert!(
        queries("ns", "svc", &odd)
            .requests
            .contains(r#"destination_version=~"v1|v1\\.1\\+beta""#)
    );
}
