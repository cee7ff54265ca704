//! The simulated metrics land in a real Prometheus as the scenario says:
//! history written by the simulator, backfilled with promtool, queried over
//! Prometheus' HTTP API, compared with values derived from the scenario's
//! definition (edge rates and error shares), not from the simulator.

use std::collections::BTreeMap;
use std::sync::Arc;

use meshdeck_sim::live::{self, LiveMetrics};
use meshdeck_sim::metrics::{
    DURATION_BUCKETS_MS, HistoryOptions, MetricsOptions, Simulator, write_openmetrics_history,
};
use meshdeck_sim::model::{Caller, Fault, FaultKind, Latency, Mesh, Protocol, Variation};
use meshdeck_sim::prometheus::{PrometheusOptions, PrometheusServer};
use meshdeck_sim::scenario;

/// The demo with constant traffic and no faults: rates are exactly the edges'.
fn quiet_demo() -> Mesh {
    let mut mesh = scenario::demo();
    mesh.variation = Variation::NONE;
    mesh.faults.clear();
    mesh
}

/// An instant vector as `labels -> value`.
async fn query(prom: &PrometheusServer, promql: &str, time: f64) -> BTreeMap<String, f64> {
    let response: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/query", prom.url()))
        .query(&[("query", promql), ("time", &time.to_string())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["status"], "success", "{promql}: {response}");
    response["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let labels = r["metric"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
                .collect::<Vec<_>>()
                .join(",");
            (labels, r["value"][1].as_str().unwrap().parse().unwrap())
        })
        .collect()
}

async fn start_with_history(name: &str, mesh: &std::sync::Arc<Mesh>, end: f64) -> PrometheusServer {
    let path = std::env::temp_dir().join(format!(
        "meshdeck-sim-test-{}-{name}.om",
        std::process::id()
    ));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let history = HistoryOptions {
        start: end - 1800.0,
        end,
        step: 15.0,
    };
    write_openmetrics_history(mesh, &MetricsOptions::default(), &history, &mut file).unwrap();
    drop(file);
    let prom = PrometheusServer::start(&PrometheusOptions {
        history: Some(path.clone()),
        ..PrometheusOptions::default()
    })
    .await
    .unwrap();
    std::fs::remove_file(&path).unwrap();
    prom
}

fn aligned_now() -> f64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    (now / 15.0).floor() * 15.0 - 60.0
}

#[tokio::test]
async fn rates_and_error_ratios_match_the_scenario() {
    let mesh = std::sync::Arc::new(quiet_demo());
    let end = aligned_now();
    let prom = start_with_history("rates", &mesh, end).await;
    let at = end - 120.0;

    // Expected from the definition: destination-reported traffic per service
    // is the sum of the configured rates of the edges into it (every
    // in-mesh service of the demo has sidecars); services outside the mesh
    // have no destination reporter.
    let mut want_rate: BTreeMap<String, f64> = BTreeMap::new();
    let mut want_5xx: BTreeMap<String, f64> = BTreeMap::new();
    for edge in &mesh.edges {
        let svc = &mesh.services[edge.service];
        if svc.external_host.is_some() || svc.protocol == meshdeck_sim::model::Protocol::Tcp {
            continue;
        }
        let fqdn = format!(
            "{}.{}.svc.cluster.local",
            svc.name, mesh.namespaces[svc.namespace].name
        );
        *want_rate.entry(fqdn.clone()).or_default() += edge.rate;
        if svc.protocol == meshdeck_sim::model::Protocol::Http {
            *want_5xx.entry(fqdn).or_default() += edge.rate * edge.errors.server;
        }
    }

    let got = query(
        &prom,
        r#"sum(rate(istio_requests_total{reporter="destination"}[1m])) by (destination_service)"#,
        at,
    )
    .await;
    let got: BTreeMap<String, f64> = got
        .into_iter()
        .map(|(k, v)| (k.trim_start_matches("destination_service=").to_owned(), v))
        .collect();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want_rate.keys().collect::<Vec<_>>()
    );
    // Tolerance: counters are whole numbers, so a 1-minute rate can be off by
    // one request per minute (0.017/s) per series; plus 1 %.
    for (svc, want) in &want_rate {
        let got = got[svc];
        assert!(
            (got - want).abs() <= 0.05 + 0.01 * want,
            "{svc}: got {got}, want {want}"
        );
    }

    let ratio = query(
        &prom,
        r#"sum(rate(istio_requests_total{reporter="destination",response_code=~"5.."}[10m])) by (destination_service) / sum(rate(istio_requests_total{reporter="destination"}[10m])) by (destination_service)"#,
        at,
    )
    .await;
    for (svc, errors) in &want_5xx {
        let want = errors / want_rate[svc];
        let key = format!("destination_service={svc}");
        let got = ratio.get(&key).copied().unwrap_or(0.0);
        // 10-minute window: whole-number counters shift the ratio by at most
        // 1 / (requests in 10 min).
        assert!(
            (got - want).abs() <= 0.0005 + 0.05 * want,
            "{svc}: got {got}, want {want}"
        );
    }
    prom.stop().await;
}

#[tokio::test]
async fn both_reporters_carry_istios_labels() {
    let mesh = std::sync::Arc::new(quiet_demo());
    let end = aligned_now();
    let prom = start_with_history("labels", &mesh, end).await;
    let reporters = query(&prom, "count by (reporter) (istio_requests_total)", end).await;
    assert_eq!(
        reporters.keys().collect::<Vec<_>>(),
        ["reporter=destination", "reporter=source"]
    );

    // Istio's standard labels (DESIGN.md "Reference facts"), on every
    // series of every family and from both reporters. Prometheus drops
    // empty labels, so plain HTTP series (Istio's `grpc_response_status=""`)
    // have no `grpc_response_status`; TCP series never have response codes
    // (Istio's TCP metrics carry no response_code / grpc_response_status).
    let mut common = vec!["reporter".to_owned()];
    for side in ["source", "destination"] {
        for label in [
            "workload",
            "workload_namespace",
            "principal",
            "app",
            "version",
            "canonical_service",
            "canonical_revision",
            "cluster",
        ] {
            common.push(format!("{side}_{label}"));
        }
    }
    for label in [
        "destination_service",
        "destination_service_name",
        "destination_service_namespace",
        "request_protocol",
        "response_flags",
        "connection_security_policy",
    ] {
        common.push(label.to_owned());
    }
    let families = [
        ("istio_requests_total", true),
        ("istio_request_duration_milliseconds", true),
        ("istio_request_bytes", true),
        ("istio_response_bytes", true),
        ("istio_tcp_sent_bytes_total", false),
        ("istio_tcp_received_bytes_total", false),
        ("istio_tcp_connections_opened_total", false),
        ("istio_tcp_connections_closed_total", false),
    ];
    let client = reqwest::Client::new();
    for (family, http) in families {
        let selector = if family.ends_with("_total") {
            format!("__name__=\"{family}\"")
        } else {
            format!("__name__=~\"{family}_(bucket|sum|count)\"")
        };
        for reporter in ["source", "destination"] {
            let response: serde_json::Value = client
                .get(format!("{}/api/v1/series", prom.url()))
                .query(&[
                    ("match[]", format!("{{{selector},reporter=\"{reporter}\"}}")),
                    ("start", (end - 600.0).to_string()),
                    ("end", end.to_string()),
                ])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let series = response["data"].as_array().unwrap();
            assert!(!series.is_empty(), "{family} {reporter}: {response}");
            let mut grpc_seen = false;
            for s in series {
                let labels = s.as_object().unwrap();
                let name = labels["__name__"].as_str().unwrap();
                assert_eq!(labels["reporter"], reporter);
                let protocol = labels["request_protocol"].as_str().unwrap();
                let mut want: Vec<String> = common.clone();
                if http {
                    want.push("response_code".into());
                    if protocol == "grpc" {
                        grpc_seen = true;
                        want.push("grpc_response_status".into());
                    }
                } else {
                    assert_eq!(protocol, "tcp", "{s}");
                }
                want.sort();
                let mut got: Vec<String> = labels
                    .keys()
                    .filter(|k| !["__name__", "job", "instance", "le"].contains(&k.as_str()))
                    .cloned()
                    .collect();
                got.sort();
                assert_eq!(got, want, "{family} {reporter}: {s}");
                assert_eq!(labels.contains_key("le"), name.ends_with("_bucket"), "{s}");
            }
            // The demo has gRPC services: their series carry the gRPC status.
            assert_eq!(grpc_seen, http, "{family} {reporter}");
        }
    }

    // mTLS: payments has PeerAuthentication off, bookinfo on.
    let policy = query(
        &prom,
        r#"count by (destination_service_namespace, connection_security_policy) (istio_requests_total{reporter="destination",source_workload!="unknown"})"#,
        end,
    )
    .await;
    assert!(
        policy.contains_key(
            "connection_security_policy=mutual_tls,destination_service_namespace=bookinfo"
        ),
        "{policy:?}"
    );
    assert!(
        policy
            .contains_key("connection_security_policy=none,destination_service_namespace=payments"),
        "{policy:?}"
    );
    assert!(
        !policy
            .contains_key("connection_security_policy=none,destination_service_namespace=bookinfo"),
        "{policy:?}"
    );

    // Callers outside the mesh appear as `unknown`, reported by the destination.
    let unknown = query(
        &prom,
        r#"count by (destination_workload) (istio_requests_total{source_workload="unknown"})"#,
        end,
    )
    .await;
    let outside_callers: Vec<&Caller> = mesh
        .edges
        .iter()
        .map(|e| &e.source)
        .filter(|c| **c == Caller::Unknown)
        .collect();
    assert!(!outside_callers.is_empty());
    assert!(
        unknown.contains_key("destination_workload=productpage-v1"),
        "{unknown:?}"
    );
    assert!(
        unknown.contains_key("destination_workload=payments-api-v1"),
        "{unknown:?}"
    );
    prom.stop().await;
}

/// A query's raw `data.result`.
async fn query_result(prom: &PrometheusServer, promql: &str, time: f64) -> serde_json::Value {
    let response: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/query", prom.url()))
        .query(&[("query", promql), ("time", &format!("{time:.3}"))])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["status"], "success", "{promql}: {response}");
    response["data"]["result"].clone()
}

/// The one value of a query that must return one sample.
async fn scalar(prom: &PrometheusServer, promql: &str, time: f64) -> f64 {
    let got = query(prom, promql, time).await;
    assert_eq!(got.len(), 1, "{promql}: {got:?}");
    got.into_values().next().unwrap()
}

/// Requests per second each in-mesh HTTP/gRPC service receives, as its
/// destination proxies report them, by `destination_service`: the scenario's
/// edge rates split over the backends with a sidecar.
fn configured_destination_rates(mesh: &Mesh) -> BTreeMap<String, f64> {
    let mut want: BTreeMap<String, f64> = BTreeMap::new();
    for edge in &mesh.edges {
        let svc = &mesh.services[edge.service];
        if svc.protocol == Protocol::Tcp || svc.backends.is_empty() {
            continue;
        }
        let total: f64 = svc.backends.iter().map(|(_, w)| w).sum();
        let reported: f64 = svc
            .backends
            .iter()
            .filter(|(wl, _)| mesh.has_sidecar(*wl))
            .map(|(_, w)| w / total)
            .sum();
        *want.entry(mesh.service_fqdn(edge.service)).or_default() += edge.rate * reported;
    }
    want
}

#[tokio::test]
async fn live_scrapes_continue_the_backfilled_history() {
    const JOB: &str = "istio-mesh";
    const INSTANCE: &str = "meshdeck-sim";
    let mesh = Arc::new(quiet_demo());
    // As the demo does: history up to a sample boundary, the live simulator
    // continuing from there. The history ends 30 to 45 s back so that the
    // join spans a measurable stretch of time.
    let end = aligned_now() + 30.0;
    let start = end - 600.0;
    let options = MetricsOptions {
        extra_labels: vec![
            ("job".into(), JOB.into()),
            ("instance".into(), INSTANCE.into()),
        ],
        ..MetricsOptions::default()
    };
    let path =
        std::env::temp_dir().join(format!("meshdeck-sim-test-{}-live.om", std::process::id()));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let history = HistoryOptions {
        start,
        end,
        step: 15.0,
    };
    write_openmetrics_history(&mesh, &options, &history, &mut file).unwrap();
    drop(file);
    let mut sim = Simulator::new(mesh.clone(), MetricsOptions::default(), start);
    sim.advance_to(end);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, live::router(LiveMetrics::new(sim)))
            .await
            .unwrap();
    });
    let prom = PrometheusServer::start(&PrometheusOptions {
        history: Some(path.clone()),
        scrape_targets: vec![addr.to_string()],
        scrape_interval_s: 1,
        job: JOB.into(),
        instance: Some(INSTANCE.into()),
        ..PrometheusOptions::default()
    })
    .await
    .unwrap();
    std::fs::remove_file(&path).unwrap();

    // Wait for the scrapes: two at least, and 20 s of them for the rate.
    let scrapes = |result: serde_json::Value| -> Vec<(f64, f64)> {
        result
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|series| series["values"].as_array().unwrap().clone())
            .map(|v| {
                (
                    v[0].as_f64().unwrap(),
                    v[1].as_str().unwrap().parse().unwrap(),
                )
            })
            .collect()
    };
    let up_query = format!("up{{job=\"{JOB}\",instance=\"{INSTANCE}\"}}[5m]");
    let waited = std::time::Instant::now();
    let up = loop {
        let up = scrapes(query_result(&prom, &up_query, live::now_s()).await);
        if up.len() >= 2 && up[up.len() - 1].0 - up[0].0 >= 20.0 {
            break up;
        }
        assert!(waited.elapsed().as_secs() < 90, "scrapes: {up:?}");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    assert!(up.iter().all(|(_, v)| *v == 1.0), "{up:?}");
    let (first, last) = (up[0].0, up[up.len() - 1].0);
    assert!(
        first > end,
        "first scrape {first} before the history's end {end}"
    );

    let want = configured_destination_rates(&mesh);
    let total_want: f64 = want.values().sum();
    let series = scalar(
        &prom,
        r#"count(istio_requests_total{reporter="destination"})"#,
        last,
    )
    .await;

    // The join: no counter goes back between the last backfilled sample and
    // the live ones, and the increase across it is the configured traffic.
    let resets = scalar(
        &prom,
        &format!(
            "sum(resets(istio_requests_total[{}ms]))",
            ((last - end + 1.0) * 1000.0).round()
        ),
        last,
    )
    .await;
    assert_eq!(resets, 0.0);
    let total = r#"sum(istio_requests_total{reporter="destination"})"#;
    let at_end = scalar(&prom, total, end).await;
    let at_first = scalar(&prom, total, first).await;
    let gap = first - end;
    let joined = (at_first - at_end) / gap;
    eprintln!(
        "join: {joined:.2} req/s over {gap:.1} s (configured {total_want:.2}), {series} series"
    );
    // Whole-number counters: each series may be one request off at either
    // sample, so `series / gap` requests per second, plus 1 %.
    assert!(
        (joined - total_want).abs() <= series / gap + 0.01 * total_want,
        "across the join: {joined} req/s over {gap} s, want {total_want}"
    );

    // The live rate, over live samples only, matches the scenario per service.
    let span = last - first;
    let live_rates = query(
        &prom,
        &format!(
            r#"sum by (destination_service) (rate(istio_requests_total{{reporter="destination"}}[{}ms]))"#,
            ((span + 0.5) * 1000.0).round()
        ),
        last,
    )
    .await;
    let per_service = query(
        &prom,
        r#"count by (destination_service) (istio_requests_total{reporter="destination"})"#,
        last,
    )
    .await;
    assert_eq!(live_rates.len(), want.len(), "{live_rates:?}");
    for (svc, want) in &want {
        let key = format!("destination_service={svc}");
        let got = live_rates[&key];
        // Each of the service's series may be one request off at either end
        // of the span, plus 2 % for rate()'s extrapolation to the window.
        let tolerance = per_service[&key] / span + 0.02 * want;
        eprintln!("live {svc}: {got:.3} req/s (configured {want:.3} ± {tolerance:.3})");
        assert!(
            (got - want).abs() <= tolerance,
            "{svc}: live {got} req/s, want {want} ± {tolerance}"
        );
    }
    prom.stop().await;
    server.abort();
}

/// The demo with its faults, without waves or noise.
fn faulty_demo() -> Mesh {
    let mut mesh = scenario::demo();
    mesh.variation = Variation::NONE;
    mesh
}

/// The first whole stretch `[a, b]` inside `[from, to]` in which `fault`
/// is active (`active`) or inactive (`!active`), from its definition: it
/// is active from `k * period - offset` for `active_s` seconds.
fn fault_window(fault: &Fault, active: bool, from: f64, to: f64) -> (f64, f64) {
    let mut k = ((from + fault.offset_s) / fault.period_s).floor() - 1.0;
    loop {
        let on = k * fault.period_s - fault.offset_s;
        let (a, b) = if active {
            (on, on + fault.active_s)
        } else {
            (on + fault.active_s, on + fault.period_s)
        };
        if a >= from && b <= to {
            return (a, b);
        }
        assert!(a < to, "no {active} window of {fault:?} in [{from}, {to}]");
        k += 1.0;
    }
}

/// The flows reaching workload `wl`: `(edge index, requests per second)`.
/// The scenario's fault on workload `wl` of the kind `kind` matches.
fn fault_on(mesh: &Mesh, wl: usize, kind: fn(&FaultKind) -> bool) -> &Fault {
    mesh.faults
        .iter()
        .find(|f| f.workload == wl && kind(&f.kind))
        .expect("the scenario defines this fault")
}

fn flows_into(mesh: &Mesh, wl: usize) -> Vec<(usize, f64)> {
    mesh.edges
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let svc = &mesh.services[e.service];
            let total: f64 = svc.backends.iter().map(|(_, w)| w).sum();
            let weight = svc.backends.iter().find(|(b, _)| *b == wl)?.1;
            Some((i, e.rate * weight / total))
        })
        .collect()
}

/// What `histogram_quantile(q, ...)` gives for a mixture of log-normal
/// latencies `(weight, latency)` observed into Istio's duration buckets:
/// Prometheus interpolates linearly inside the bucket holding the rank.
fn bucketed_quantile(q: f64, mix: &[(f64, Latency)]) -> f64 {
    let total: f64 = mix.iter().map(|(w, _)| w).sum();
    let cdf = |x: f64| mix.iter().map(|(w, l)| w * l.cdf(x)).sum::<f64>() / total;
    let mut lower = 0.0;
    for upper in DURATION_BUCKETS_MS {
        if cdf(upper) >= q {
            let (lo, hi) = (cdf(lower), cdf(upper));
            return lower + (upper - lower) * (q - lo) / (hi - lo);
        }
        lower = upper;
    }
    panic!("quantile {q} beyond the last bucket");
}

#[tokio::test]
async fn faults_show_in_prometheus_as_defined() {
    let mesh = Arc::new(faulty_demo());
    let end = aligned_now();
    let prom = start_with_history("faults", &mesh, end).await;
    let start = end - 1800.0;
    // Stay 30 s away from every switch: samples are 15 s apart.
    let margin = 30.0;

    // reviews-v3 returns extra 503s while its fault is active.
    let v3 = mesh.workload_id("bookinfo", "reviews-v3").unwrap();
    let fault = fault_on(&mesh, v3, |k| matches!(k, FaultKind::ServerErrors(_)));
    let FaultKind::ServerErrors(extra) = fault.kind else {
        unreachable!()
    };
    let flows = flows_into(&mesh, v3);
    let requests: f64 = flows.iter().map(|(_, r)| r).sum();
    let want_ratio = |active: bool| {
        flows
            .iter()
            .map(|(e, rate)| {
                let errors = mesh.edges[*e].errors;
                let server = if active {
                    (errors.server + extra).min(1.0 - errors.client)
                } else {
                    errors.server
                };
                rate * server
            })
            .sum::<f64>()
            / requests
    };
    for active in [true, false] {
        let (a, b) = fault_window(fault, active, start + margin, end);
        let (a, b) = (a + margin, b - margin);
        let promql = format!(
            r#"sum(increase(istio_requests_total{{reporter="destination",destination_workload="reviews-v3",response_code=~"5.."}}[{w}s])) / sum(increase(istio_requests_total{{reporter="destination",destination_workload="reviews-v3"}}[{w}s]))"#,
            w = b - a
        );
        let got = scalar(&prom, &promql, b).await;
        let want = want_ratio(active);
        // Whole-number counters: each count may be one off at either end
        // of the window; 3 requests in the window's expected total, plus 0.001.
        let tolerance = 3.0 / (requests * (b - a)) + 0.001;
        eprintln!(
            "reviews-v3 5xx ratio, fault active={active}: {got:.4} (want {want:.4} ± {tolerance:.4})"
        );
        assert!(
            (got - want).abs() <= tolerance,
            "active={active} [{a}, {b}]: 5xx ratio {got}, want {want} ± {tolerance}"
        );
    }

    // ratings is slower while its fault is active.
    let ratings = mesh.workload_id("bookinfo", "ratings-v1").unwrap();
    let fault = fault_on(&mesh, ratings, |k| matches!(k, FaultKind::Slow(_)));
    let FaultKind::Slow(factor) = fault.kind else {
        unreachable!()
    };
    let latency_factor = mesh.workloads[ratings].latency_factor;
    let mix = |active: bool| -> Vec<(f64, Latency)> {
        flows_into(&mesh, ratings)
            .into_iter()
            .map(|(e, rate)| {
                let l = mesh.edges[e].latency.scaled(latency_factor);
                (rate, if active { l.scaled(factor) } else { l })
            })
            .collect()
    };
    let selector = r#"reporter="destination",destination_workload="ratings-v1""#;
    let mut means = Vec::new();
    for active in [true, false] {
        let (a, b) = fault_window(fault, active, start + margin, end);
        let (a, b) = (a + margin, b - margin);
        let w = b - a;
        let mix = mix(active);
        let total: f64 = mix.iter().map(|(r, _)| r).sum();
        let want_mean = mix.iter().map(|(r, l)| r * l.mean_ms()).sum::<f64>() / total;
        let mean = scalar(
            &prom,
            &format!(
                "sum(rate(istio_request_duration_milliseconds_sum{{{selector}}}[{w}s])) / sum(rate(istio_request_duration_milliseconds_count{{{selector}}}[{w}s]))"
            ),
            b,
        )
        .await;
        // The sum is exact, the count whole: 2 %.
        eprintln!(
            "ratings mean latency, fault active={active}: {mean:.2} ms (want {want_mean:.2})"
        );
        assert!(
            (mean - want_mean).abs() <= 0.02 * want_mean,
            "active={active}: mean {mean} ms, want {want_mean}"
        );
        let want_p50 = bucketed_quantile(0.5, &mix);
        let p50 = scalar(
            &prom,
            &format!(
                "histogram_quantile(0.5, sum by (le) (rate(istio_request_duration_milliseconds_bucket{{{selector}}}[{w}s])))"
            ),
            b,
        )
        .await;
        // Bucket counts are whole numbers: 5 %.
        eprintln!("ratings p50, fault active={active}: {p50:.2} ms (want {want_p50:.2})");
        assert!(
            (p50 - want_p50).abs() <= 0.05 * want_p50,
            "active={active}: p50 {p50} ms, want {want_p50}"
        );
        means.push(mean);
    }
    // The slow dependency is `factor` times slower, as defined.
    assert!(
        (means[0] / means[1] - factor).abs() <= 0.04 * factor,
        "{means:?}, factor {factor}"
    );
    prom.stop().await;
}

#[tokio::test]
async fn a_weight_change_on_a_running_simulator_reaches_prometheus() {
    use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
    use meshdeck_sim::kube::InMemoryCluster;

    let mesh = Arc::new(quiet_demo());
    let now = live::now_s();
    let mut sim = Simulator::new(mesh.clone(), MetricsOptions::default(), now - 60.0);
    sim.advance_to(now);
    let metrics = LiveMetrics::new(sim);
    // The simulator follows the cluster's Istio objects, as in the demo.
    let cluster = InMemoryCluster::from_mesh(&mesh);
    let follower = metrics.follow(cluster.clone(), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, live::router(metrics)).await.unwrap();
    });
    let prom = PrometheusServer::start(&PrometheusOptions {
        scrape_targets: vec![addr.to_string()],
        scrape_interval_s: 1,
        ..PrometheusOptions::default()
    })
    .await
    .unwrap();
    let scrape_times = |result: serde_json::Value| -> Vec<f64> {
        result
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|series| series["values"].as_array().unwrap().clone())
            .map(|v| v[0].as_f64().unwrap())
            .collect()
    };
    let up = |prom: &PrometheusServer| {
        let prom_url = prom.url().to_owned();
        async move {
            let response: serde_json::Value = reqwest::Client::new()
                .get(format!("{prom_url}/api/v1/query"))
                .query(&[
                    ("query", "up[5m]"),
                    ("time", &format!("{:.3}", live::now_s())),
                ])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            response["data"]["result"].clone()
        }
    };
    let waited = std::time::Instant::now();
    while scrape_times(up(&prom).await).len() < 3 {
        assert!(waited.elapsed().as_secs() < 60, "no scrapes");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // Commit a 90/10 split of reviews between v1 and v3.
    let vs = serde_json::json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "reviews", "namespace": "bookinfo"},
        "spec": {"hosts": ["reviews"], "http": [{"route": [
            {"destination": {"host": "reviews", "subset": "v1"}, "weight": 90},
            {"destination": {"host": "reviews", "subset": "v3"}, "weight": 10},
        ]}]},
    });
    let api: Api<DynamicObject> = Api::namespaced_with(
        cluster.client(),
        "bookinfo",
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("networking.istio.io", "v1", "VirtualService"),
            "virtualservices",
        ),
    );
    let committed = live::now_s();
    api.patch(
        "reviews",
        &PatchParams::apply("test").force(),
        &Patch::Apply(&vs),
    )
    .await
    .unwrap();

    // Scrapes after the commit: the first one and 15 s more.
    let (first, last) = loop {
        let after: Vec<f64> = scrape_times(up(&prom).await)
            .into_iter()
            .filter(|t| *t > committed)
            .collect();
        if let (Some(first), Some(last)) = (after.first(), after.last())
            && last - first >= 15.0
        {
            break (*first, *last);
        }
        assert!(
            waited.elapsed().as_secs() < 120,
            "scrapes after the commit: {after:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    eprintln!(
        "commit to first scrape: {:.2} s; measuring over {:.1} s of scrapes",
        first - committed,
        last - first
    );
    // Every sample from the first scrape after the commit on carries only
    // the new split's increments.
    let window_ms = ((last - first + 0.5) * 1000.0).round();
    let by_workload = query(
        &prom,
        &format!(
            r#"sum by (destination_workload) (rate(istio_requests_total{{reporter="destination",destination_service_name="reviews"}}[{window_ms}ms]))"#
        ),
        last,
    )
    .await;
    let series = query(
        &prom,
        r#"count by (destination_workload) (istio_requests_total{reporter="destination",destination_service_name="reviews"})"#,
        last,
    )
    .await;
    let total: f64 = mesh
        .edges
        .iter()
        .filter(|e| mesh.services[e.service].name == "reviews")
        .map(|e| e.rate)
        .sum();
    let span = last - first;
    for (workload, share) in [
        ("reviews-v1", 0.9),
        ("reviews-v2", 0.0),
        ("reviews-v3", 0.1),
    ] {
        let key = format!("destination_workload={workload}");
        let got = by_workload.get(&key).copied().unwrap_or(0.0);
        let want = total * share;
        // Whole-number counters: one request per series at either end of
        // the span, plus 2 % for rate()'s extrapolation.
        let tolerance = series.get(&key).copied().unwrap_or(1.0) / span + 0.02 * want;
        eprintln!("{workload}: {got:.3} req/s after the change (want {want:.3} ± {tolerance:.3})");
        assert!(
            (got - want).abs() <= tolerance,
            "{workload}: {got} req/s, want {want} ± {tolerance}"
        );
    }
    follower.abort();
    prom.stop().await;
    server.abort();
}
