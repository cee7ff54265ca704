//! The wizards' forms as people edit them: every field holds the text as
//! typed, so a half-typed value stays on screen. `request()` checks what a
//! browser can check (weights adding to 100, percentages, durations, ports,
//! required names) and builds the [`WizardRequest`] sent to the server; the
//! server checks everything again and its 422 is shown too. Errors name the
//! field by its path in the request (`weights[1].weight`), as the server's
//! 422 does, so both land next to the same input.

use std::collections::BTreeMap;

use crate::types::{
    AbortFault, ConnectionPoolSpec, CookieMatch, DelayFault, GatewayProtocol, HeaderMatch,
    IstioKind, LoadBalancerSpec, MirrorSpec, MtlsMode, OutlierSpec, PeerAuthScope, PeerAuthSpec,
    RetrySpec, RouteApi, RouteMatch, RouteRule, ServiceProtocol, ServiceTraffic, StringMatch,
    StringMatchKind, TlsMode, VersionWeight, WizardRequest,
};

// ---------------------------------------------------------------------------
// Field errors
// ---------------------------------------------------------------------------

/// One invalid field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Its path in the request, e.g. `rules[0].weights[1].weight`.
    pub field: String,
    /// What is wrong, in words.
    pub message: String,
}

/// Every invalid field of a form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Adds a problem with `field`.
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// What is wrong with `field` (several problems joined), if anything.
    pub fn get(&self, field: &str) -> Option<String> {
        let found: Vec<&str> = self
            .0
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
            .collect();
        (!found.is_empty()).then(|| found.join("; "))
    }

    /// No problem at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many problems.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// These and `other`'s.
    pub fn merged(&self, other: &FieldErrors) -> FieldErrors {
        FieldErrors(self.0.iter().chain(other.0.iter()).cloned().collect())
    }

    /// `Ok(value)` when empty.
    fn result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

// ---------------------------------------------------------------------------
// Values as typed
// ---------------------------------------------------------------------------

/// Duration units Istio accepts here, with their length in milliseconds.
/// A duration as Istio writes it (`250ms`, `5s`, `1.5s`, `1m`, `1h`,
/// `1m30s`), in milliseconds; `None` when it is not one.
pub fn parse_duration_ms(text: &str) -> Option<f64> {
    crate::types::TimeSpan::parse(text)
        .filter(|s| s.uses_only(&crate::types::ISTIO_UNITS))
        .map(|s| s.millis())
}

const DURATION_HINT: &str = "a duration such as 250ms, 5s, 1m or 1h";

/// Checks a duration field: must parse, and be positive unless `zero_ok`.
fn check_duration(text: &str, field: &str, zero_ok: bool, errors: &mut FieldErrors) -> String {
    let text = text.trim();
    match parse_duration_ms(text) {
        None if text.is_empty() => errors.push(field, format!("required: {DURATION_HINT}")),
        None => errors.push(field, format!("\"{text}\" is not {DURATION_HINT}")),
        Some(ms) if ms == 0.0 && !zero_ok => errors.push(field, "must be longer than 0"),
        Some(ms) if ms > 0.0 && ms < 1.0 => errors.push(field, "must be at least 1ms"),
        Some(_) => {}
    }
    text.to_owned()
}

/// A whole number in `min..=max`, or an error at `field`.
fn check_int(text: &str, field: &str, min: i64, max: i64, errors: &mut FieldErrors) -> i64 {
    let text = text.trim();
    match text.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => n,
        Ok(_) if max == i64::MAX => {
            errors.push(field, format!("must be {min} or more"));
            0
        }
        Ok(_) => {
            errors.push(field, format!("must be from {min} to {max}"));
            0
        }
        Err(_) if text.is_empty() => {
            errors.push(field, "required: a whole number");
            0
        }
        Err(_) => {
            errors.push(field, format!("\"{text}\" is not a whole number"));
            0
        }
    }
}

/// An optional whole number (empty: none) of at least `min`.
fn check_opt_int(text: &str, field: &str, min: i64, errors: &mut FieldErrors) -> Option<i64> {
    (!text.trim().is_empty()).then(|| check_int(text, field, min, i64::MAX, errors))
}

/// A percentage from 0 to 100 (decimals allowed).
fn check_percent(text: &str, field: &str, errors: &mut FieldErrors) -> f64 {
    let text = text.trim();
    match text.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => p,
        Ok(_) => {
            errors.push(field, "must be from 0 to 100 %");
            0.0
        }
        Err(_) if text.is_empty() => {
            errors.push(field, "required: a percentage from 0 to 100");
            0.0
        }
        Err(_) => {
            errors.push(field, format!("\"{text}\" is not a number"));
            0.0
        }
    }
}

/// Whether `name` is an HTTP header or cookie name (an RFC 9110 token).
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

// ---------------------------------------------------------------------------
// Weights (traffic shifting, TCP shifting, each routing rule)
// ---------------------------------------------------------------------------

/// One version's weight as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightRow {
    /// The version.
    pub version: String,
    /// Percent, as typed.
    pub weight: String,
}

/// Rows for `versions` holding `weights`.
fn rows(versions: &[String], weights: &[i64]) -> Vec<WeightRow> {
    versions
        .iter()
        .zip(weights)
        .map(|(v, w)| WeightRow {
            version: v.clone(),
            weight: w.to_string(),
        })
        .collect()
}

/// 100 split as evenly as whole numbers allow over `n` versions, the
/// remainder to the first ones (3 versions: 34, 33, 33).
pub fn even_weights(n: usize) -> Vec<i64> {
    if n == 0 {
        return Vec::new();
    }
    let base = 100 / n as i64;
    let extra = 100 % n as i64;
    (0..n as i64).map(|i| base + i64::from(i < extra)).collect()
}

/// The starting weights: those in force when they cover the service's
/// versions and add up to 100 (versions they leave out get 0); otherwise an
/// even split, which is roughly what Kubernetes does without a route.
pub fn initial_weights(versions: &[String], current: &[VersionWeight]) -> Vec<WeightRow> {
    let known = current.iter().all(|w| versions.contains(&w.version));
    let total: i64 = current.iter().map(|w| w.weight).sum();
    if !current.is_empty() && known && total == 100 {
        let weights: Vec<i64> = versions
            .iter()
            .map(|v| {
                current
                    .iter()
                    .find(|w| &w.version == v)
                    .map_or(0, |w| w.weight)
            })
            .collect();
        rows(versions, &weights)
    } else {
        rows(versions, &even_weights(versions.len()))
    }
}

/// The sum of the weights, or `None` while one is not a whole number.
pub fn weight_total(rows: &[WeightRow]) -> Option<i64> {
    rows.iter()
        .map(|r| r.weight.trim().parse::<i64>().ok())
        .sum()
}

/// Checks weights (each 0 to 100, together 100) at `prefix` (`weights`,
/// `rules[0].weights`).
fn check_weights(rows: &[WeightRow], prefix: &str, errors: &mut FieldErrors) -> Vec<VersionWeight> {
    if rows.is_empty() {
        errors.push(
            prefix,
            "the service has no versions: its pods carry no version label",
        );
        return Vec::new();
    }
    let before = errors.len();
    let weights: Vec<VersionWeight> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| VersionWeight {
            version: r.version.clone(),
            weight: check_int(&r.weight, &format!("{prefix}[{i}].weight"), 0, 100, errors),
        })
        .collect();
    if errors.len() == before {
        let total: i64 = weights.iter().map(|w| w.weight).sum();
        if total != 100 {
            errors.push(prefix, format!("add up to {total} %, not 100 %"));
        }
    }
    weights
}

/// Presets that set weights in one click.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightPreset {
    /// 90 % stay on the version most of the traffic goes to now, 10 % go
    /// to the newest other version.
    Canary,
    /// Everything to the version at this index (the blue/green switch).
    AllTo(usize),
    /// As even as whole numbers allow.
    Even,
}

/// Which versions a canary splits: `(stable, canary)` indices. Stable is
/// the version with the highest weight now (the first on a tie); the canary
/// the last other version in the list (versions are listed oldest first).
pub fn canary_pair(rows: &[WeightRow]) -> Option<(usize, usize)> {
    if rows.len() < 2 {
        return None;
    }
    let weight = |r: &WeightRow| r.weight.trim().parse::<i64>().unwrap_or(0);
    let stable = rows
        .iter()
        .enumerate()
        .rev()
        .max_by_key(|(_, r)| weight(r))
        .map(|(i, _)| i)?;
    let canary = (0..rows.len()).rev().find(|i| *i != stable)?;
    Some((stable, canary))
}

/// `rows` with `preset` applied (unchanged when it does not fit).
pub fn apply_preset(rows: &[WeightRow], preset: WeightPreset) -> Vec<WeightRow> {
    let versions: Vec<String> = rows.iter().map(|r| r.version.clone()).collect();
    let weights = match preset {
        WeightPreset::Even => even_weights(rows.len()),
        WeightPreset::AllTo(target) if target < rows.len() => (0..rows.len())
            .map(|i| if i == target { 100 } else { 0 })
            .collect(),
        WeightPreset::Canary => match canary_pair(rows) {
            Some((stable, canary)) => (0..rows.len())
                .map(|i| match i {
                    _ if i == stable => 90,
                    _ if i == canary => 10,
                    _ => 0,
                })
                .collect(),
            None => return rows.to_vec(),
        },
        WeightPreset::AllTo(_) => return rows.to_vec(),
    };
    self::rows(&versions, &weights)
}

/// The canary preset's button text for `rows`, e.g. `Canary 90/10 (v1 → v3)`.
pub fn canary_label(rows: &[WeightRow]) -> Option<String> {
    canary_pair(rows)
        .map(|(s, c)| format!("Canary 90/10 ({} → {})", rows[s].version, rows[c].version))
}

fn version_names(traffic: &ServiceTraffic) -> Vec<String> {
    traffic.versions.iter().map(|v| v.version.clone()).collect()
}

// ---------------------------------------------------------------------------
// Traffic shifting and TCP traffic shifting
// ---------------------------------------------------------------------------

/// Traffic shifting: weights and optional mirroring.
#[derive(Clone, Debug, PartialEq)]
pub struct ShiftingForm {
    /// One row per version.
    pub weights: Vec<WeightRow>,
    /// Mirror a share of the requests.
    pub mirror_on: bool,
    /// To this version.
    pub mirror_version: String,
    /// Percent copied, as typed.
    pub mirror_percent: String,
    /// Istio's VirtualService or the Gateway API's route.
    pub api: RouteApi,
}

/// The API a routing form starts with: the Gateway API where the service
/// is routed by an HTTPRoute or GRPCRoute already, else Istio's.
pub fn initial_api(traffic: &ServiceTraffic) -> RouteApi {
    let routed_by_gateway_api = traffic
        .objects
        .iter()
        .any(|o| matches!(o.kind, IstioKind::HttpRoute | IstioKind::GrpcRoute));
    if traffic.gateway_api && routed_by_gateway_api {
        RouteApi::GatewayApi
    } else {
        RouteApi::Istio
    }
}

impl ShiftingForm {
    /// Starts from the weights in force.
    pub fn new(traffic: &ServiceTraffic) -> Self {
        let versions = version_names(traffic);
        ShiftingForm {
            weights: initial_weights(&versions, &traffic.current_weights),
            mirror_on: false,
            mirror_version: versions.last().cloned().unwrap_or_default(),
            mirror_percent: "100".into(),
            api: initial_api(traffic),
        }
    }

    /// The request, or what is wrong.
    pub fn request(&self) -> Result<WizardRequest, FieldErrors> {
        let mut errors = FieldErrors::default();
        let weights = check_weights(&self.weights, "weights", &mut errors);
        let mirror = self.mirror_on.then(|| {
            if !self
                .weights
                .iter()
                .any(|r| r.version == self.mirror_version)
            {
                errors.push("mirror.version", "choose a version of the service");
            }
            MirrorSpec {
                version: self.mirror_version.clone(),
                percent: check_percent(&self.mirror_percent, "mirror.percent", &mut errors),
            }
        });
        errors.result(WizardRequest::TrafficShifting {
            weights,
            mirror,
            api: self.api,
        })
    }
}

/// TCP traffic shifting: weights only.
#[derive(Clone, Debug, PartialEq)]
pub struct TcpShiftingForm {
    /// One row per version.
    pub weights: Vec<WeightRow>,
}

impl TcpShiftingForm {
    /// Starts from the weights in force.
    pub fn new(traffic: &ServiceTraffic) -> Self {
        TcpShiftingForm {
            weights: initial_weights(&version_names(traffic), &traffic.current_weights),
        }
    }

    /// The request, or what is wrong.
    pub fn request(&self) -> Result<WizardRequest, FieldErrors> {
        let mut errors = FieldErrors::default();
        let weights = check_weights(&self.weights, "weights", &mut errors);
        errors.result(WizardRequest::TcpTrafficShifting { weights })
    }
}

// ---------------------------------------------------------------------------
// Request routing
// ---------------------------------------------------------------------------

/// A header condition as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderRow {
    /// Header name.
    pub name: String,
    /// How its value is matched.
    pub kind: StringMatchKind,
    /// The value.
    pub value: String,
}

/// A cookie condition as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieRow {
    /// Cookie name.
    pub name: String,
    /// Its exact value.
    pub value: String,
}

/// HTTP methods offered for a match (empty: any).
pub static METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// One routing rule as typed: conditions that must all hold, and weights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleForm {
    /// Header conditions.
    pub headers: Vec<HeaderRow>,
    /// Cookie conditions.
    pub cookies: Vec<CookieRow>,
    /// How the URI path is matched (`None`: any path).
    pub uri_kind: Option<StringMatchKind>,
    /// The path or pattern.
    pub uri: String,
    /// The method (empty: any).
    pub method: String,
    /// Labels of the calling workload, `app=productpage, version=v1`.
    pub source_labels: String,
    /// Where matching requests go.
    pub weights: Vec<WeightRow>,
}

impl RuleForm {
    /// A rule matching every request, all of it to `versions[target]`.
    pub fn catch_all(versions: &[String], target: usize) -> Self {
        let blank: Vec<WeightRow> = rows(versions, &vec![0; versions.len()]);
        RuleForm {
            headers: Vec::new(),
            cookies: Vec::new(),
            uri_kind: None,
            uri: String::new(),
            method: String::new(),
            source_labels: String::new(),
            weights: apply_preset(&blank, WeightPreset::AllTo(target)),
        }
    }

    /// Whether it has no condition, so it matches every request.
    pub fn is_catch_all(&self) -> bool {
        self.headers.is_empty()
            && self.cookies.is_empty()
            && self.uri_kind.is_none()
            && self.method.is_empty()
            && self.source_labels.trim().is_empty()
    }

    fn build(&self, i: usize, errors: &mut FieldErrors) -> RouteRule {
        let at = format!("rules[{i}].matches[0]");
        let headers = self
            .headers
            .iter()
            .enumerate()
            .map(|(j, h)| {
                let name = h.name.trim().to_ascii_lowercase();
                if !is_token(&name) {
                    errors.push(
                        format!("{at}.headers[{j}].name"),
                        "a header name: letters, digits and - (e.g. end-user)",
                    );
                }
                if h.value.is_empty() {
                    errors.push(format!("{at}.headers[{j}].match.value"), "required");
                }
                HeaderMatch {
                    name,
                    value: StringMatch {
                        kind: h.kind,
                        value: h.value.clone(),
                    },
                }
            })
            .collect();
        let cookies = self
            .cookies
            .iter()
            .enumerate()
            .map(|(j, c)| {
                let name = c.name.trim().to_owned();
                if !is_token(&name) {
                    errors.push(
                        format!("{at}.cookies[{j}].name"),
                        "a cookie name: letters, digits and - (e.g. group)",
                    );
                }
                if c.value.is_empty() || c.value.contains([';', ',', ' ', '"']) {
                    errors.push(
                        format!("{at}.cookies[{j}].value"),
                        "required, without ; , spaces or quotes",
                    );
                }
                CookieMatch {
                    name,
                    value: c.value.clone(),
                }
            })
            .collect();
        let uri = self.uri_kind.map(|kind| {
            let value = self.uri.trim().to_owned();
            if value.is_empty() {
                errors.push(format!("{at}.uri.value"), "required");
            } else if kind != StringMatchKind::Regex && !value.starts_with('/') {
                errors.push(
                    format!("{at}.uri.value"),
                    "a path starts with / (e.g. /api/v2)",
                );
            }
            StringMatch { kind, value }
        });
        let mut source_labels = BTreeMap::new();
        for entry in crate::settings_form::parse_list(&self.source_labels) {
            match entry.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
                    source_labels.insert(k.trim().to_owned(), v.trim().to_owned());
                }
                _ => errors.push(
                    format!("{at}.source_labels"),
                    format!("\"{entry}\" is not label=value"),
                ),
            }
        }
        let route_match = RouteMatch {
            headers,
            cookies,
            uri,
            method: (!self.method.is_empty()).then(|| self.method.clone()),
            source_labels,
        };
        RouteRule {
            matches: if self.is_catch_all() {
                Vec::new()
            } else {
                vec![route_match]
            },
            weights: check_weights(&self.weights, &format!("rules[{i}].weights"), errors),
        }
    }
}

/// Request routing: rules in order, the first that matches wins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutingForm {
    /// The rules.
    pub rules: Vec<RuleForm>,
    /// Istio's VirtualService or the Gateway API's route.
    pub api: RouteApi,
}

/// Which A/B preset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbPreset {
    /// Requests with header `end-user: jason` (what bookinfo's productpage
    /// sends for a signed-in user) to the newest version, the rest to the
    /// oldest.
    Header,
    /// Requests with cookie `group=b` to the newest version, the rest to the
    /// oldest.
    Cookie,
}

impl RoutingForm {
    /// One catch-all rule with the weights in force.
    pub fn new(traffic: &ServiceTraffic) -> Self {
        let versions = version_names(traffic);
        let mut rule = RuleForm::catch_all(&versions, 0);
        rule.weights = initial_weights(&versions, &traffic.current_weights);
        RoutingForm {
            rules: vec![rule],
            api: initial_api(traffic),
        }
    }

    /// The versions, in order.
    fn versions(&self) -> Vec<String> {
        self.rules
            .first()
            .map(|r| r.weights.iter().map(|w| w.version.clone()).collect())
            .unwrap_or_default()
    }

    /// An A/B test: one rule for group B, then a catch-all for the rest.
    pub fn ab(&self, preset: AbPreset) -> Self {
        let versions = self.versions();
        let newest = versions.len().saturating_sub(1);
        let mut b = RuleForm::catch_all(&versions, newest);
        match preset {
            AbPreset::Header => b.headers.push(HeaderRow {
                name: "end-user".into(),
                kind: StringMatchKind::Exact,
                value: "jason".into(),
            }),
            AbPreset::Cookie => b.cookies.push(CookieRow {
                name: "group".into(),
                value: "b".into(),
            }),
        }
        RoutingForm {
            rules: vec![b, RuleForm::catch_all(&versions, 0)],
            api: self.api,
        }
    }

    /// Adds a rule before the catch-all, if the last rule is one (so it
    /// stays last), else at the end.
    pub fn add_rule(&mut self) {
        let versions = self.versions();
        let mut rule = RuleForm::catch_all(&versions, versions.len().saturating_sub(1));
        rule.headers.push(HeaderRow {
            name: String::new(),
            kind: StringMatchKind::Exact,
            value: String::new(),
        });
        let at = match self.rules.last() {
            Some(last) if last.is_catch_all() => self.rules.len() - 1,
            _ => self.rules.len(),
        };
        self.rules.insert(at, rule);
    }

    /// Moves rule `i` one place up (`up`) or down.
    pub fn move_rule(&mut self, i: usize, up: bool) {
        let j = if up { i.checked_sub(1) } else { Some(i + 1) };
        if let Some(j) = j.filter(|j| *j < self.rules.len() && i < self.rules.len()) {
            self.rules.swap(i, j);
        }
    }

    /// Removes rule `i` (one rule always stays).
    pub fn remove_rule(&mut self, i: usize) {
        if self.rules.len() > 1 && i < self.rules.len() {
            self.rules.remove(i);
        }
    }

    /// The request, or what is wrong.
    pub fn request(&self) -> Result<WizardRequest, FieldErrors> {
        let mut errors = FieldErrors::default();
        if self.rules.is_empty() {
            errors.push("rules", "add at least one rule");
        }
        let last = self.rules.len().saturating_sub(1);
        for (i, rule) in self.rules.iter().enumerate() {
            if i < last && rule.is_catch_all() {
                errors.push(
                    format!("rules[{i}]"),
                    "matches every request, so the rules after it never apply: give it a condition or move it last",
                );
            }
        }
        let rules = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| r.build(i, &mut errors))
            .collect();
        errors.result(WizardRequest::RequestRouting {
            rules,
            api: self.api,
        })
    }
}

// ---------------------------------------------------------------------------
// Fault injection
// ---------------------------------------------------------------------------

/// gRPC status codes an abort may answer, with what they mean.
pub static GRPC_STATUSES: [(&str, &str); 8] = [
    ("UNAVAILABLE", "the service is unavailable (14)"),
    ("DEADLINE_EXCEEDED", "the deadline passed (4)"),
    ("INTERNAL", "internal error (13)"),
    ("RESOURCE_EXHAUSTED", "out of quota or capacity (8)"),
    ("CANCELLED", "cancelled (1)"),
    ("UNKNOWN", "unknown error (2)"),
    ("PERMISSION_DENIED", "permission denied (7)"),
    ("UNAUTHENTICATED", "not authenticated (16)"),
];

/// Fault injection as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultForm {
    /// Inject a delay.
    pub delay_on: bool,
    /// How long.
    pub delay: String,
    /// Percent of requests delayed.
    pub delay_percent: String,
    /// Inject aborts.
    pub abort_on: bool,
    /// Answer a gRPC status instead of an HTTP one.
    pub abort_grpc: bool,
    /// The HTTP status.
    pub http_status: String,
    /// The gRPC status.
    pub grpc_status: String,
    /// Percent of requests aborted.
    pub abort_percent: String,
}

impl FaultForm {
    /// A 5 s delay of 10 % and an abort of 10 % (gRPC services: `UNAVAILABLE`,
    /// others: HTTP 503), both off until ticked.
    pub fn new(traffic: &ServiceTraffic) -> Self {
        FaultForm {
            delay_on: true,
            delay: "5s".into(),
            delay_percent: "10".into(),
            abort_on: false,
            abort_grpc: traffic.protocol == ServiceProtocol::Grpc,
            http_status: "503".into(),
            grpc_status: GRPC_STATUSES[0].0.into(),
            abort_percent: "10".into(),
        }
    }

    /// The request, or what is wrong. Neither delay nor abort removes the
    /// faults the wizard wrote before.
    pub fn request(&self) -> Result<WizardRequest, FieldErrors> {
        let mut errors = FieldErrors::default();
        let delay = self.delay_on.then(|| DelayFault {
            fixed_delay: check_duration(&self.delay, "delay.fixed_delay", false, &mut errors),
            percent: check_percent(&self.delay_percent, "delay.percent", &mut errors),
        });
        let abort = self.abort_on.then(|| {
            let (http_status, grpc_status) = if self.abort_grpc {
                if !GRPC_STATUSES.iter().any(|(s, _)| *s == self.grpc_status) {
                    errors.push("abort.grpc_status", "choose a gRPC status");
                }
                (None, Some(self.grpc_status.clone()))
            } else {
                (
                    Some(check_int(
                        &self.http_status,
                        "abort.http_status",
                        200,
                        599,
                        &mut errors,
                    )),
                    None,
                )
            };
            AbortFault {
                http_status,
                grpc_status,
                percent: check_percent(&self.abort_percent, "abort.percent", &mut errors),
            }
        });
        errors.result(WizardRequest::FaultInjection { delay, abort })
    }
}

// ---------------------------------------------------------------------------
// Timeouts and retries
// ---------------------------------------------------------------------------

/// `retryOn` conditions for HTTP, with what each means.
pub static RETRY_ON_HTTP: [(&str, &str); 7] = [
    ("5xx", "the service answered 5xx, or did not answer"),
    ("gateway-error", "502, 503 or 504 only"),
    ("reset", "the connection was reset before an answer"),
    ("connect-failure", "no connection could be made"),
    ("retriable-4xx", "409 Conflict"),
    ("refused-stream", "the service refused the HTTP/2 stream"),
    (
        "retriable-status-codes",
        "the status codes Envoy is told to retry",
    ),
];

/// `retryOn` conditions for gRPC status codes.
pub static RETRY_ON_GRPC: [(&str, &str); 5] = [
    ("cancelled", "gRPC CANCELLED"),
    ("deadline-exceeded", "gRPC DEADLINE_EXCEEDED"),
    ("internal", "gRPC INTERNAL"),
    ("resource-exhausted", "gRPC RESOURCE_EXHAUSTED"),
    ("unavailable", "gRPC UNAVAILABLE"),
];

/// Timeouts and retries as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeoutsForm {
    /// Set a request timeout.
    pub timeout_on: bool,
    /// The timeout.
    pub timeout: String,
    /// Retry failed requests.
    pub retries_on: bool,
    /// Retries per request.
    pub attempts: String,
    /// Timeout of each try (empty: the request's).
    pub per_try_timeout: String,
    /// Conditions ticked (empty: Istio's default).
    pub retry_on: Vec<String>,
}

impl TimeoutsForm {
    /// A 10 s timeout and 3 retries of 2 s each on connection failures and
    /// 5xx (gRPC services: on `unavailable`).
    pub fn new(traffic: &ServiceTraffic) -> Self {
        let retry_on = if traffic.protocol == ServiceProtocol::Grpc {
            vec!["unavailable".to_owned()]
        } else {
            vec!["5xx".to_owned(), "connect-failure".to_owned()]
        };
        TimeoutsForm {
            timeout_on: true,
            timeout: "10s".into(),
            retries_on: true,
            attempts: "3".into(),
            per_try_timeout: "2s".into(),
            retry_on,
        }
    }

    /// Ticks or unticks condition `name`, keeping the list in menu order.
    pub fn toggle_retry_on(&mut self, name: &str, on: bool) {
        self.retry_on.retain(|c| c != name);
        if on {
            self.retry_on.push(name.to_owned());
        }
        let order = |c: &String| {
            RETRY_ON_HTTP
                .iter()
                .chain(RETRY_ON_GRPC.iter())
                .position(|(n, _)| n == c)
                .unwrap_or(usize::MAX)
        };
        self.retry_on.sort_by_key(order);
    }

    /// The request, or what is wrong.
    pub fn request(&self) -> Result<WizardRequest, FieldErrors> {
        let mut errors = FieldErrors::default();
        let timeout = self
            .timeout_on
            .then(|| check_duration(&self.timeout, "timeout", false, &mut errors));
        let retries = self.retries_on.then(|| {
            let attempts = check_int(&self.attempts, "retries.attempts", 0, i64::MAX, &mut errors);
            let per_try_timeout = (!self.per_try_timeout.trim().is_empty()).then(|| {
                check_duration(
                    &self.per_try_timeout,
                    "retries.per_try_timeout",
                    false,
                    &mut errors,
                )
            });
            RetrySpec {
                attempts,
                per_try_timeout,
                retry_on: self.retry_on.clone(),
            }
        });
        errors.result(WizardRequest::TimeoutsRetries { timeout, retries })
    }
}

// ---------------------------------------------------------------------------
// Circuit breaking and load balancing
// ---------------------------------------------------------------------------

/// The load balancer choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LbChoice {
    /// None written: Istio's default (least request).
    Default,
    /// In turn.
    RoundRobin,
    /// Fewest requests in flight.
    LeastRequest,
    /// At random.
    Random,
    /// Consistent hash of a header.
    HashHeader,
    /// Consistent hash of a cookie.
    HashCookie,
    /// Consistent hash of the caller's address.
    HashSourceIp,
}

impl LbChoice {
    /// Every choice, in menu order.
    pub const ALL: [LbChoice; 7] = [
        LbChoice::Default,
        LbChoice::RoundRobin,
        LbChoice::LeastRequest,
        LbChoice::Random,
        LbChoice::HashHeader,
        LbChoice::HashCookie,
        LbChoice::HashSourceIp,
    ];

    /// The `<option>` value.
    pub fn as_str(self) -> &'static str {
        match self {
            LbChoice::Default => "",
            LbChoice::RoundRobin => "round_robin",
            LbChoice::LeastRequest => "least_request",
            LbChoice::Random => "random",
            LbChoice::HashHeader => "hash_header",
            LbChoice::HashCookie => "hash_cookie",
            LbChoice::HashSourceIp => "hash_source_ip",
        }
    }

    /// Parses [`LbChoice::as_str`].
    pub fn parse(text: &str) -> Self {
        LbChoice::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
            .unwrap_or(LbChoice::Default)
    }

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            LbChoice::Default => "Istio's default (least request)",
            LbChoice::RoundRobin => "Round robin: each instance in turn",
            LbChoice::LeastRequest => {
                "Least request: the instance with the fewest requests in flight"
            }
            LbChoice::Random => "Random",
            LbChoice::HashHeader => "Sticky by header: the same header value to the same instance",
            LbChoice::HashCookie => "Sticky by cookie: the same cookie to the same instance",
            LbChoice::HashSourceIp => {
                "Sticky by caller: the same caller address to the same instance"
            }
        }
    }
}

/// Circuit breaking and load balancing as typed (empty limits: none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircuitForm {
    /// Write connection pool limits.
    pub pool_on: bool,
    /// Most TCP connections.
    pub max_connections: String,
    /// TCP connect timeout.
    pub connect_timeout: String,
    /// Most requests waiting for a connection.
    pub http1_max_pending_requests: String,
    /// Most requests in flight.
    pub http2_max_requests: String,
    /// Most requests per connection.
    pub max_requests_per_connection: String,
    /// Most retries in flight.
    pub max_retries: String,
    /// Write outlier detection.
    pub outlier_on: bool,
    /// Consecutive 5xx that eject.
    pub consecutive_errors: String,
    /// How often instances are checked.
    pub interval: String,
    /// First ejection's length.
    pub base_ejection_time: String,
    /// Most instances ejected, percent.
    pub max_ejection_percent: String,
    /// Load balancer.
    pub lb: LbChoice,
    /// Header hashed (sticky by header).
    pub hash_header: String,
    /// Cookie hashed (sticky by cookie).
    pub hash_cookie: String,
    /// That cookie's lifetime.
    pub cookie_ttl: String,
}

impl CircuitForm {
    /// A modest pool (100 connections, 10 pending requests) and ejection
    /// after 5 consecutive errors, checked every 10 s, for 30 s, at most half
    /// of the instances.
    pub fn new(_traffic: &ServiceTraffic) -> Self {
        CircuitForm {
            pool_on: true,
            max_connections: "100".into(),
            connect_timeout: String::new(),
            http1_max_pending_requests: "10".into(),
            http2_max_requests: String::new(),
            max_requests_per_connection: String::new(),
            max_retries: String::new(),
            outlier_on: true,
            consecutive_errors: "5".into(),
            interval: "10s".into(),
            base_ejection_time: "30s".into(),
            max_ejection_percent: "50".into(),
            lb: LbChoice::Default,
            hash_header: "x-user".into(),
            hash_cookie: "session".into(),
            cookie_ttl: "1h".into(),
        }
    }

    /// The request, or what is wrong.
    pub fn request(&self) -> Result<WizardRequest, FieldErrors> {
        let mut errors = FieldErrors::default();
        let e = &mut errors;
        let connection_pool = self.pool_on.then(|| {
            let f = |name: &str| format!("connection_pool.{name}");
            let pool = ConnectionPoolSpec {
                max_connections: check_opt_int(&self.max_connections, &f("max_connections"), 1, e),
                connect_timeout: (!self.connect_timeout.trim().is_empty()).then(|| {
                    check_duration(&self.connect_timeout, &f("connect_timeout"), false, e)
                }),
                http1_max_pending_requests: check_opt_int(
                    &self.http1_max_pending_requests,
                    &f("http1_max_pending_requests"),
                    1,
                    e,
                ),
                http2_max_requests: check_opt_int(
                    &self.http2_max_requests,
                    &f("http2_max_requests"),
                    1,
                    e,
                ),
                max_requests_per_connection: check_opt_int(
                    &self.max_requests_per_connection,
                    &f("max_requests_per_connection"),
                    1,
                    e,
                ),
                max_retries: check_opt_int(&self.max_retries, &f("max_retries"), 0, e),
            };
            if pool == ConnectionPoolSpec::default() {
                e.push(
                    "connection_pool",
                    "set at least one limit, or untick the pool",
                );
            }
            pool
        });
        let outlier_detection = self.outlier_on.then(|| OutlierSpec {
            consecutive_errors: check_int(
                &self.consecutive_errors,
                "outlier_detection.consecutive_errors",
                1,
                i64::MAX,
                e,
            ),
            interval: check_duration(&self.interval, "outlier_detection.interval", false, e),
            base_ejection_time: check_duration(
                &self.base_ejection_time,
                "outlier_detection.base_ejection_time",
                false,
                e,
            ),
            max_ejection_percent: check_int(
                &self.max_ejection_percent,
                "outlier_detection.max_ejection_percent",
                0,
                100,
                e,
            ),
        });
        let load_balancer = match self.lb {
            LbChoice::Default => None,
            LbChoice::RoundRobin => Some(LoadBalancerSpec::RoundRobin),
            LbChoice::LeastRequest => Some(LoadBalancerSpec::LeastRequest),
            LbChoice::Random => Some(LoadBalancerSpec::Random),
            LbChoice::HashSourceIp => Some(LoadBalancerSpec::HashSourceIp),
            LbChoice::HashHeader => {
                let name = self.hash_header.trim().to_ascii_lowercase();
                if !is_token(&name) {
                    e.push("load_balancer.name", "a header name (e.g. x-user)");
                }
                Some(LoadBalancerSpec::HashHeader { name })
            }
            LbChoice::HashCookie => {
                let name = self.hash_cookie.trim().to_owned();
                if !is_token(&name) {
                    e.push("load_balancer.name", "a cookie name (e.g. session)");
                }
                let ttl = check_duration(&self.cookie_ttl, "load_balancer.ttl", true, e);
                Some(LoadBalancerSpec::HashCookie { name, ttl })
            }
        };
        errors.result(WizardRequest::CircuitBreaking {
            connection_pool,
            outlier_detection,
            load_balancer,
        })
    }
}

// ---------------------------------------------------------------------------
// mTLS
// ---------------------------------------------------------------------------

/// mTLS as chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MtlsForm {
    /// What callers use (DestinationRule).
    pub tls_mode: TlsMode,
    /// Which workloads a PeerAuthentication covers (`None`: none written).
    pub scope: Option<PeerAuthScope>,
    /// What they accept.
    pub mode: MtlsMode,
}

impl MtlsForm {
    /// Istio mutual TLS, and a PERMISSIVE PeerAuthentication on the
    /// service's workloads (mTLS and plaintext both accepted: nothing breaks).
    pub fn new(_traffic: &ServiceTraffic) -> Self {
        MtlsForm {
            tls_mode: TlsMode::IstioMutual,
            scope: Some(PeerAuthScope::Workload),
            mode: MtlsMode::Permissive,
        }
    }

    /// Whether STRICT is chosen.
    pub fn strict(&self) -> bool {
        self.scope.is_some() && self.mode == MtlsMode::Strict
    }

    /// What the choice would break, in words (warnings, not errors: the
    /// server and Kubernetes decide).
    pub fn warnings(&self, plaintext_callers: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        if self.strict() && !plaintext_callers.is_empty() {
            out.push(format!(
                "STRICT refuses callers without a sidecar. In the last hour these reached the service without mTLS and would be refused: {}.",
                plaintext_callers.join(", ")
            ));
        }
        if self.strict() && self.tls_mode == TlsMode::Disable {
            out.push(
                "Callers are told to use plaintext (TLS mode DISABLE) while the workloads accept mTLS only (STRICT): every request through the mesh would fail.".to_owned(),
            );
        }
        if self.scope == Some(PeerAuthScope::Namespace) {
            out.push(
                "A namespace-wide PeerAuthentication applies to every workload of the namespace, not only this service's.".to_owned(),
            );
        }
        out
    }

    /// The request (nothing here can be invalid).
    pub fn request(&self) -> Result<WizardRequest, FieldErrors> {
        Ok(WizardRequest::Mtls {
            tls_mode: self.tls_mode,
            peer_authentication: self.scope.map(|scope| PeerAuthSpec {
                scope,
                mode: self.mode,
            }),
        })
    }
}

// ---------------------------------------------------------------------------
// Gateway
// ---------------------------------------------------------------------------

/// Exposure through the ingress gateway as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayForm {
    /// Host names, comma-separated.
    pub hosts: String,
    /// Port.
    pub port: String,
    /// Protocol.
    pub protocol: GatewayProtocol,
    /// Certificate Secret (HTTPS).
    pub credential_name: String,
}

/// Whether `host` is a host name a Gateway may list: `*`, `*.example.com`
/// or a DNS name.
fn is_gateway_host(host: &str) -> bool {
    if host == "*" {
        return true;
    }
    let name = host.strip_prefix("*.").unwrap_or(host);
    name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

impl GatewayForm {
    /// Plain HTTP on port 80, no host yet.
    pub fn new(_traffic: &ServiceTraffic) -> Self {
        GatewayForm {
            hosts: String::new(),
            port: "80".into(),
            protocol: GatewayProtocol::Http,
            credential_name: String::new(),
        }
    }

    /// Switches the protocol, moving the port along when it is the other
    /// protocol's usual one (80 ⇄ 443).
    pub fn set_protocol(&mut self, protocol: GatewayProtocol) {
        let port = self.port.trim();
        match protocol {
            GatewayProtocol::Https if port == "80" => self.port = "443".into(),
            GatewayProtocol::Http if port == "443" => self.port = "80".into(),
            _ => {}
        }
        self.protocol = protocol;
    }

    /// The request, or what is wrong.
    pub fn request(&self) -> Result<WizardRequest, FieldErrors> {
        let mut errors = FieldErrors::default();
        let hosts: Vec<String> = crate::settings_form::parse_list(&self.hosts)
            .into_iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        if hosts.is_empty() {
            errors.push(
                "hosts",
                "required: at least one host name (e.g. shop.example.com)",
            );
        }
        for (i, host) in hosts.iter().enumerate() {
            if !is_gateway_host(host) {
                errors.push(
                    format!("hosts[{i}]"),
                    format!(
                        "\"{host}\" is not a host name (e.g. shop.example.com, *.example.com or *)"
                    ),
                );
            }
        }
        let port = check_int(&self.port, "port", 1, 65535, &mut errors);
        let credential = self.credential_name.trim().to_owned();
        let credential_name = match self.protocol {
            GatewayProtocol::Https if credential.is_empty() => {
                errors.push(
                    "credential_name",
                    "required for HTTPS: the Secret holding the certificate",
                );
                None
            }
            GatewayProtocol::Https => Some(credential),
            GatewayProtocol::Http => None,
        };
        errors.result(WizardRequest::Gateway {
            hosts,
            port,
            protocol: self.protocol,
            credential_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ServiceName, ServiceVersion};

    fn traffic(versions: &[&str], current: &[(&str, i64)]) -> ServiceTraffic {
        ServiceTraffic {
            service: ServiceName {
                namespace: "bookinfo".into(),
                name: "reviews".into(),
            },
            protocol: ServiceProtocol::Http,
            port: Some(9080),
            versions: versions
                .iter()
                .map(|v| ServiceVersion {
                    version: (*v).into(),
                    workloads: vec![format!("reviews-{v}")],
                    pods: 1,
                })
                .collect(),
            current_weights: current
                .iter()
                .map(|(v, w)| VersionWeight {
                    version: (*v).into(),
                    weight: *w,
                })
                .collect(),
            objects: vec![],
            applied: vec![],
            gateway_api: false,
            version_services: BTreeMap::new(),
            plaintext_callers: vec![],
            gateway_selector: BTreeMap::new(),
            may_write: true,
            write_problem: None,
        }
    }

    fn reviews() -> ServiceTraffic {
        traffic(&["v1", "v2", "v3"], &[])
    }

    fn weights(rows: &[WeightRow]) -> Vec<&str> {
        rows.iter().map(|r| r.weight.as_str()).collect()
    }

    fn fields(errors: &FieldErrors) -> Vec<&str> {
        errors.0.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn durations_as_istio_writes_them() {
        assert_eq!(parse_duration_ms("250ms"), Some(250.0));
        assert_eq!(parse_duration_ms("5s"), Some(5_000.0));
        assert_eq!(parse_duration_ms("1.5s"), Some(1_500.0));
        assert_eq!(parse_duration_ms("1m"), Some(60_000.0));
        assert_eq!(parse_duration_ms("1h"), Some(3_600_000.0));
        assert_eq!(parse_duration_ms("1m30s"), Some(90_000.0));
        assert_eq!(parse_duration_ms(" 2s "), Some(2_000.0));
        assert_eq!(parse_duration_ms("0s"), Some(0.0));
        for bad in [
            "", "5", "s", "5 s", "-5s", "5sec", "1d", ".5s", "5.s", "5s5",
        ] {
            assert_eq!(parse_duration_ms(bad), None, "{bad}");
        }
        let mut errors = FieldErrors::default();
        check_duration("0s", "timeout", false, &mut errors);
        check_duration("0s", "ttl", true, &mut errors);
        check_duration("0.5ms", "x", false, &mut errors);
        check_duration("soon", "y", false, &mut errors);
        assert_eq!(fields(&errors), ["timeout", "x", "y"]);
        assert_eq!(errors.get("timeout").unwrap(), "must be longer than 0");
        assert_eq!(
            errors.get("y").unwrap(),
            "\"soon\" is not a duration such as 250ms, 5s, 1m or 1h"
        );
    }

    #[test]
    fn weights_start_from_what_is_in_force() {
        // 100 + 0 + 0 in force (v3 left out gets 0).
        let rows = initial_weights(
            &["v1".into(), "v2".into(), "v3".into()],
            &[
                VersionWeight {
                    version: "v1".into(),
                    weight: 80,
                },
                VersionWeight {
                    version: "v2".into(),
                    weight: 20,
                },
            ],
        );
        assert_eq!(weights(&rows), ["80", "20", "0"]);
        // Nothing in force, or weights naming a version that is gone: an even split.
        assert_eq!(
            weights(&ShiftingForm::new(&reviews()).weights),
            ["34", "33", "33"]
        );
        let gone = traffic(&["v1", "v2"], &[("v1", 50), ("v9", 50)]);
        assert_eq!(weights(&ShiftingForm::new(&gone).weights), ["50", "50"]);
        assert_eq!(even_weights(0), Vec::<i64>::new());
        assert_eq!(even_weights(7).iter().sum::<i64>(), 100);
    }

    #[test]
    fn presets_set_the_weights() {
        let in_force = traffic(&["v1", "v2", "v3"], &[("v1", 100)]);
        let rows = ShiftingForm::new(&in_force).weights;
        assert_eq!(weights(&rows), ["100", "0", "0"]);
        // The canary takes 10 % from the version carrying the traffic, for the newest.
        assert_eq!(canary_label(&rows).unwrap(), "Canary 90/10 (v1 → v3)");
        assert_eq!(
            weights(&apply_preset(&rows, WeightPreset::Canary)),
            ["90", "0", "10"]
        );
        // When the newest carries the traffic, the canary is the one before it.
        let on_v3 = apply_preset(&rows, WeightPreset::AllTo(2));
        assert_eq!(weights(&on_v3), ["0", "0", "100"]);
        assert_eq!(
            weights(&apply_preset(&on_v3, WeightPreset::Canary)),
            ["0", "10", "90"]
        );
        // Blue/green and back.
        let back = apply_preset(&on_v3, WeightPreset::AllTo(0));
        assert_eq!(weights(&back), ["100", "0", "0"]);
        assert_eq!(
            weights(&apply_preset(&back, WeightPreset::Even)),
            ["34", "33", "33"]
        );
        // Presets that do not fit change nothing.
        assert_eq!(apply_preset(&rows, WeightPreset::AllTo(3)), rows);
        let single = ShiftingForm::new(&traffic(&["v1"], &[])).weights;
        assert_eq!(apply_preset(&single, WeightPreset::Canary), single);
        assert_eq!(canary_label(&single), None);
    }

    #[test]
    fn traffic_shifting_builds_its_request() {
        let mut form = ShiftingForm::new(&reviews());
        form.weights = apply_preset(&form.weights, WeightPreset::AllTo(1));
        form.mirror_on = true;
        form.mirror_version = "v3".into();
        form.mirror_percent = "12.5".into();
        let request = form.request().unwrap();
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            serde_json::json!({
                "wizard": "traffic-shifting",
                "api": "istio",
                "weights": [
                    {"version": "v1", "weight": 0},
                    {"version": "v2", "weight": 100},
                    {"version": "v3", "weight": 0}
                ],
                "mirror": {"version": "v3", "percent": 12.5}
            })
        );
        form.mirror_on = false;
        assert!(matches!(
            form.request().unwrap(),
            WizardRequest::TrafficShifting { mirror: None, .. }
        ));
    }

    #[test]
    fn traffic_shifting_names_every_invalid_field() {
        let mut form = ShiftingForm::new(&reviews());
        form.weights[0].weight = "90".into();
        form.weights[1].weight = "10".into();
        form.weights[2].weight = "5".into();
        form.mirror_on = true;
        form.mirror_percent = "101".into();
        let errors = form.request().unwrap_err();
        assert_eq!(fields(&errors), ["weights", "mirror.percent"]);
        assert_eq!(errors.get("weights").unwrap(), "add up to 105 %, not 100 %");
        assert_eq!(
            errors.get("mirror.percent").unwrap(),
            "must be from 0 to 100 %"
        );
        // A weight that is not a number is named; no total is claimed then.
        form.weights[2].weight = "ten".into();
        form.weights[1].weight = "-1".into();
        form.mirror_percent = "5".into();
        form.mirror_version = "v7".into();
        let errors = form.request().unwrap_err();
        assert_eq!(
            fields(&errors),
            ["weights[1].weight", "weights[2].weight", "mirror.version"]
        );
        assert_eq!(
            errors.get("weights[2].weight").unwrap(),
            "\"ten\" is not a whole number"
        );
        assert_eq!(weight_total(&form.weights), None);
        // A service without versions cannot be shifted.
        let none = ShiftingForm::new(&traffic(&[], &[]));
        assert_eq!(fields(&none.request().unwrap_err()), ["weights"]);
    }

    #[test]
    fn tcp_shifting_builds_its_request() {
        let form = TcpShiftingForm::new(&traffic(&["v1", "v2"], &[("v1", 100)]));
        assert_eq!(
            serde_json::to_value(form.request().unwrap()).unwrap(),
            serde_json::json!({
                "wizard": "tcp-traffic-shifting",
                "weights": [{"version": "v1", "weight": 100}, {"version": "v2", "weight": 0}]
            })
        );
    }

    #[test]
    fn ab_presets_route_group_b_to_the_newest_version() {
        let form = RoutingForm::new(&reviews()).ab(AbPreset::Header);
        let json = serde_json::to_value(form.request().unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "wizard": "request-routing",
                "api": "istio",
                "rules": [
                    {
                        "matches": [{
                            "headers": [{"name": "end-user", "match": {"kind": "exact", "value": "jason"}}],
                            "cookies": [],
                            "uri": null,
                            "method": null,
                            "source_labels": {}
                        }],
                        "weights": [
                            {"version": "v1", "weight": 0},
                            {"version": "v2", "weight": 0},
                            {"version": "v3", "weight": 100}
                        ]
                    },
                    {
                        "matches": [],
                        "weights": [
                            {"version": "v1", "weight": 100},
                            {"version": "v2", "weight": 0},
                            {"version": "v3", "weight": 0}
                        ]
                    }
                ]
            })
        );
        let cookie = RoutingForm::new(&reviews()).ab(AbPreset::Cookie);
        let WizardRequest::RequestRouting { rules, .. } = cookie.request().unwrap() else {
            panic!("request routing");
        };
        assert_eq!(
            rules[0].matches[0].cookies,
            [CookieMatch {
                name: "group".into(),
                value: "b".into()
            }]
        );
        assert!(rules[1].matches.is_empty());
    }

    #[test]
    fn rules_are_added_before_the_catch_all_and_move() {
        let mut form = RoutingForm::new(&reviews());
        assert_eq!(form.rules.len(), 1);
        assert!(form.rules[0].is_catch_all());
        form.add_rule();
        assert_eq!(form.rules.len(), 2);
        assert!(!form.rules[0].is_catch_all(), "the new rule comes first");
        assert!(form.rules[1].is_catch_all(), "the catch-all stays last");
        // The new rule's header is still blank: named, and nothing is sent.
        let errors = form.request().unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "rules[0].matches[0].headers[0].name",
                "rules[0].matches[0].headers[0].match.value"
            ]
        );
        // Moving the catch-all up makes the rule after it unreachable.
        form.rules[0].headers[0].name = "X-Canary".into();
        form.rules[0].headers[0].value = "1".into();
        form.move_rule(1, true);
        let errors = form.request().unwrap_err();
        assert_eq!(fields(&errors), ["rules[0]"]);
        form.move_rule(0, false);
        let WizardRequest::RequestRouting { rules, .. } = form.request().unwrap() else {
            panic!("request routing");
        };
        // Header names are sent in lower case.
        assert_eq!(rules[0].matches[0].headers[0].name, "x-canary");
        // Out of range moves and removing the last rule do nothing.
        let before = form.clone();
        form.move_rule(0, true);
        form.move_rule(1, false);
        form.move_rule(7, false);
        assert_eq!(form, before);
        form.remove_rule(0);
        form.remove_rule(0);
        assert_eq!(form.rules.len(), 1);
    }

    #[test]
    fn routing_conditions_are_checked() {
        let mut form = RoutingForm::new(&reviews());
        form.add_rule();
        let rule = &mut form.rules[0];
        rule.headers[0] = HeaderRow {
            name: "end user".into(),
            kind: StringMatchKind::Prefix,
            value: "ja".into(),
        };
        rule.cookies.push(CookieRow {
            name: "group".into(),
            value: "a;b".into(),
        });
        rule.uri_kind = Some(StringMatchKind::Prefix);
        rule.uri = "api".into();
        rule.method = "GET".into();
        rule.source_labels = "app=productpage, version".into();
        rule.weights[2].weight = "90".into();
        let errors = form.request().unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "rules[0].matches[0].headers[0].name",
                "rules[0].matches[0].cookies[0].value",
                "rules[0].matches[0].uri.value",
                "rules[0].matches[0].source_labels",
                "rules[0].weights"
            ]
        );
        assert_eq!(
            errors.get("rules[0].matches[0].source_labels").unwrap(),
            "\"version\" is not label=value"
        );
        let rule = &mut form.rules[0];
        rule.headers[0].name = "end-user".into();
        rule.cookies[0].value = "b".into();
        rule.uri = "/api".into();
        rule.source_labels = "app=productpage, version=v1".into();
        rule.weights[2].weight = "100".into();
        let WizardRequest::RequestRouting { rules, .. } = form.request().unwrap() else {
            panic!("request routing");
        };
        let m = &rules[0].matches[0];
        assert_eq!(
            m.uri,
            Some(StringMatch {
                kind: StringMatchKind::Prefix,
                value: "/api".into()
            })
        );
        assert_eq!(m.method.as_deref(), Some("GET"));
        assert_eq!(
            m.source_labels,
            BTreeMap::from([
                ("app".to_owned(), "productpage".to_owned()),
                ("version".to_owned(), "v1".to_owned())
            ])
        );
        // A regex URI need not start with a slash.
        form.rules[0].uri_kind = Some(StringMatchKind::Regex);
        form.rules[0].uri = ".*/v2/.*".into();
        assert!(form.request().is_ok());
    }

    #[test]
    fn faults_build_http_or_grpc_aborts() {
        let mut form = FaultForm::new(&reviews());
        assert!(!form.abort_grpc);
        form.abort_on = true;
        assert_eq!(
            serde_json::to_value(form.request().unwrap()).unwrap(),
            serde_json::json!({
                "wizard": "fault-injection",
                "delay": {"fixed_delay": "5s", "percent": 10.0},
                "abort": {"http_status": 503, "grpc_status": null, "percent": 10.0}
            })
        );
        form.abort_grpc = true;
        form.delay_on = false;
        let WizardRequest::FaultInjection { delay, abort } = form.request().unwrap() else {
            panic!("faults");
        };
        assert_eq!(delay, None);
        let abort = abort.unwrap();
        assert_eq!(abort.http_status, None);
        assert_eq!(abort.grpc_status.as_deref(), Some("UNAVAILABLE"));
        // A gRPC service starts with a gRPC status.
        let mut grpc = reviews();
        grpc.protocol = ServiceProtocol::Grpc;
        assert!(FaultForm::new(&grpc).abort_grpc);
        // Neither: the faults are removed.
        form.abort_on = false;
        assert!(matches!(
            form.request().unwrap(),
            WizardRequest::FaultInjection {
                delay: None,
                abort: None
            }
        ));
    }

    #[test]
    fn fault_fields_are_checked() {
        let mut form = FaultForm::new(&reviews());
        form.abort_on = true;
        form.delay = "-1s".into();
        form.delay_percent = "150".into();
        form.http_status = "99".into();
        form.abort_percent = "".into();
        let errors = form.request().unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "delay.fixed_delay",
                "delay.percent",
                "abort.http_status",
                "abort.percent"
            ]
        );
        assert_eq!(
            errors.get("abort.http_status").unwrap(),
            "must be from 200 to 599"
        );
        assert_eq!(
            errors.get("abort.percent").unwrap(),
            "required: a percentage from 0 to 100"
        );
    }

    #[test]
    fn timeouts_and_retries() {
        let mut form = TimeoutsForm::new(&reviews());
        form.toggle_retry_on("reset", true);
        form.toggle_retry_on("unavailable", true);
        form.toggle_retry_on("connect-failure", false);
        assert_eq!(form.retry_on, ["5xx", "reset", "unavailable"]);
        assert_eq!(
            serde_json::to_value(form.request().unwrap()).unwrap(),
            serde_json::json!({
                "wizard": "timeouts-retries",
                "timeout": "10s",
                "retries": {"attempts": 3, "per_try_timeout": "2s", "retry_on": ["5xx", "reset", "unavailable"]}
            })
        );
        form.per_try_timeout = " ".into();
        form.timeout_on = false;
        let WizardRequest::TimeoutsRetries { timeout, retries } = form.request().unwrap() else {
            panic!("timeouts");
        };
        assert_eq!(timeout, None);
        assert_eq!(retries.unwrap().per_try_timeout, None);
        form.timeout_on = true;
        form.timeout = "10".into();
        form.attempts = "three".into();
        form.per_try_timeout = "0s".into();
        assert_eq!(
            fields(&form.request().unwrap_err()),
            ["timeout", "retries.attempts", "retries.per_try_timeout"]
        );
    }

    #[test]
    fn circuit_breaking_and_load_balancing() {
        let mut form = CircuitForm::new(&reviews());
        form.lb = LbChoice::HashCookie;
        form.cookie_ttl = "0s".into();
        assert_eq!(
            serde_json::to_value(form.request().unwrap()).unwrap(),
            serde_json::json!({
                "wizard": "circuit-breaking",
                "connection_pool": {
                    "max_connections": 100,
                    "connect_timeout": null,
                    "http1_max_pending_requests": 10,
                    "http2_max_requests": null,
                    "max_requests_per_connection": null,
                    "max_retries": null
                },
                "outlier_detection": {
                    "consecutive_errors": 5,
                    "interval": "10s",
                    "base_ejection_time": "30s",
                    "max_ejection_percent": 50
                },
                "load_balancer": {"type": "hash_cookie", "name": "session", "ttl": "0s"}
            })
        );
        form.pool_on = false;
        form.outlier_on = false;
        form.lb = LbChoice::HashSourceIp;
        assert_eq!(
            form.request().unwrap(),
            WizardRequest::CircuitBreaking {
                connection_pool: None,
                outlier_detection: None,
                load_balancer: Some(LoadBalancerSpec::HashSourceIp)
            }
        );
        for choice in LbChoice::ALL {
            assert_eq!(LbChoice::parse(choice.as_str()), choice);
        }
    }

    #[test]
    fn circuit_breaking_fields_are_checked() {
        let mut form = CircuitForm::new(&reviews());
        form.max_connections = "0".into();
        form.connect_timeout = "fast".into();
        form.max_ejection_percent = "120".into();
        form.interval = "".into();
        form.lb = LbChoice::HashHeader;
        form.hash_header = "".into();
        let errors = form.request().unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "connection_pool.max_connections",
                "connection_pool.connect_timeout",
                "outlier_detection.interval",
                "outlier_detection.max_ejection_percent",
                "load_balancer.name"
            ]
        );
        assert_eq!(
            errors.get("connection_pool.max_connections").unwrap(),
            "must be 1 or more"
        );
        // A pool with no limit at all says so.
        let mut empty = CircuitForm::new(&reviews());
        for field in [
            &mut empty.max_connections,
            &mut empty.http1_max_pending_requests,
        ] {
            field.clear();
        }
        assert_eq!(fields(&empty.request().unwrap_err()), ["connection_pool"]);
    }

    #[test]
    fn mtls_warns_before_strict_breaks_callers() {
        let mut form = MtlsForm::new(&reviews());
        assert_eq!(
            serde_json::to_value(form.request().unwrap()).unwrap(),
            serde_json::json!({
                "wizard": "mtls",
                "tls_mode": "ISTIO_MUTUAL",
                "peer_authentication": {"scope": "workload", "mode": "PERMISSIVE"}
            })
        );
        let callers = vec!["legacy/curl: 120 requests".to_owned()];
        assert!(form.warnings(&callers).is_empty());
        form.mode = MtlsMode::Strict;
        let warnings = form.warnings(&callers);
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("legacy/curl: 120 requests"),
            "{warnings:?}"
        );
        assert!(form.warnings(&[]).is_empty());
        form.tls_mode = TlsMode::Disable;
        form.scope = Some(PeerAuthScope::Namespace);
        assert_eq!(form.warnings(&[]).len(), 2);
        // No PeerAuthentication: nothing is strict.
        form.scope = None;
        assert!(form.warnings(&callers).is_empty());
        assert!(matches!(
            form.request().unwrap(),
            WizardRequest::Mtls {
                tls_mode: TlsMode::Disable,
                peer_authentication: None
            }
        ));
    }

    #[test]
    fn gateway_hosts_port_and_certificate() {
        let mut form = GatewayForm::new(&reviews());
        let errors = form.request().unwrap_err();
        assert_eq!(fields(&errors), ["hosts"]);
        form.hosts = "Shop.example.com, *.example.org".into();
        assert_eq!(
            serde_json::to_value(form.request().unwrap()).unwrap(),
            serde_json::json!({
                "wizard": "gateway",
                "hosts": ["shop.example.com", "*.example.org"],
                "port": 80,
                "protocol": "HTTP",
                "credential_name": null
            })
        );
        form.set_protocol(GatewayProtocol::Https);
        assert_eq!(form.port, "443");
        assert_eq!(fields(&form.request().unwrap_err()), ["credential_name"]);
        form.credential_name = "shop-cert".into();
        assert!(matches!(
            form.request().unwrap(),
            WizardRequest::Gateway { port: 443, credential_name: Some(ref c), .. } if c == "shop-cert"
        ));
        form.set_protocol(GatewayProtocol::Http);
        assert_eq!(form.port, "80");
        form.port = "8080".into();
        form.set_protocol(GatewayProtocol::Https);
        assert_eq!(form.port, "8080", "a port chosen by hand stays");
        form.port = "70000".into();
        form.hosts = "shop_example.com, *".into();
        let errors = form.request().unwrap_err();
        assert_eq!(fields(&errors), ["hosts[0]", "port"]);
        assert_eq!(errors.get("port").unwrap(), "must be from 1 to 65535");
    }

    #[test]
    fn routing_forms_start_with_the_api_the_service_is_routed_by() {
        let mut t = reviews();
        assert_eq!(ShiftingForm::new(&t).api, RouteApi::Istio);
        // Served, but nothing routes the service through it yet.
        t.gateway_api = true;
        assert_eq!(RoutingForm::new(&t).api, RouteApi::Istio);
        t.objects.push(crate::types::IstioObjectSummary {
            kind: IstioKind::HttpRoute,
            namespace: "bookinfo".into(),
            name: "reviews".into(),
            hosts: vec![],
            services: vec![],
            managed_by_meshdeck: true,
            created: None,
            errors: 0,
            warnings: 0,
        });
        let mut form = ShiftingForm::new(&t);
        assert_eq!(form.api, RouteApi::GatewayApi);
        form.weights = apply_preset(&form.weights, WeightPreset::AllTo(0));
        let request = serde_json::to_value(form.request().unwrap()).unwrap();
        assert_eq!(request["api"], "gateway-api");
        // The A/B preset keeps the API chosen.
        let ab = RoutingForm::new(&t).ab(AbPreset::Header);
        assert_eq!(ab.api, RouteApi::GatewayApi);
    }
}
