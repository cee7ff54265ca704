//! The client-side policies of an HTTP route (fault injection, timeout,
//! retries) and the outcomes they give, per request the caller sends.

use super::{Code, flags};
use crate::model::{Dist, ErrorMix, Latency, Protocol};

/// Envoy's base retry back-off interval, in milliseconds.
pub const RETRY_BACKOFF_MS: f64 = 25.0;
/// Most retries followed one by one (later ones are vanishingly rare).
pub(super) const MAX_RETRIES: u32 = 10;

/// Which conditions a route retries.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct RetryOn {
    /// The application's server errors (503 / gRPC UNAVAILABLE).
    pub(super) server: bool,
    /// Tries cut by the per-try timeout.
    pub(super) timeout: bool,
    /// Connections reset by the server (`UC`).
    pub(super) reset: bool,
    /// Connections that failed (`UF`).
    pub(super) connect: bool,
}

impl RetryOn {
    pub(super) fn parse(text: &str, protocol: Protocol) -> RetryOn {
        let mut on = RetryOn::default();
        for cond in text.split(',').map(str::trim) {
            match cond {
                "5xx" => {
                    on.server |= protocol != Protocol::Grpc;
                    on.timeout = true;
                    on.reset = true;
                    on.connect = true;
                }
                "gateway-error" => {
                    on.server |= protocol != Protocol::Grpc;
                    on.timeout = true;
                    on.connect = true;
                }
                "503" => on.server |= protocol != Protocol::Grpc,
                "unavailable" => on.server |= protocol == Protocol::Grpc,
                "reset" => {
                    on.reset = true;
                    on.connect = true;
                }
                "connect-failure" => on.connect = true,
                _ => {}
            }
        }
        on
    }
}

/// The retries of a route.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct RetryPolicy {
    pub(super) attempts: u32,
    pub(super) per_try_s: Option<f64>,
    pub(super) on: RetryOn,
    pub(super) backoff_ms: f64,
}

/// The client-side policies of one HTTP route.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct RoutePolicy {
    /// Share delayed and the delay in milliseconds.
    pub(super) delay: Option<(f64, f64)>,
    /// Share aborted and the answer.
    pub(super) abort: Option<(f64, Code)>,
    /// The request timeout in seconds.
    pub(super) timeout_s: Option<f64>,
    pub(super) retry: Option<RetryPolicy>,
}

impl RoutePolicy {
    pub(super) fn faulty(&self) -> bool {
        self.delay.is_some() || self.abort.is_some()
    }

    /// Needs the routed outcome model rather than the plain one.
    pub(super) fn shapes(&self) -> bool {
        self.delay.is_some() || self.timeout_s.is_some() || self.retry.is_some()
    }

    /// The per-try cut in milliseconds.
    pub(super) fn per_try_ms(&self) -> Option<f64> {
        self.retry
            .and_then(|r| r.per_try_s)
            .or(self.timeout_s)
            .map(|s| s * 1000.0)
    }

    pub(super) fn attempts(&self) -> u32 {
        self.retry.map_or(0, |r| r.attempts.min(MAX_RETRIES))
    }

    pub(super) fn on(&self) -> RetryOn {
        self.retry.map(|r| r.on).unwrap_or_default()
    }

    /// Mean total back-off before the `k`-th retry is sent, in ms: Envoy
    /// waits a random time up to `(2^j - 1) * base` (at most `10 * base`)
    /// before retry `j`.
    pub(super) fn backoff_ms(&self, k: u32) -> f64 {
        let base = self.retry.map_or(RETRY_BACKOFF_MS, |r| r.backoff_ms);
        (1..=k)
            .map(|j| ((2f64.powi(j as i32) - 1.0) * base).min(10.0 * base) / 2.0)
            .sum()
    }
}

/// Retries a refused connection gets under `policy`.
pub(super) fn refused_retries(policy: &RoutePolicy, reason: u32) -> u32 {
    let on = policy.on();
    let retried = if reason == flags::UC {
        on.reset
    } else {
        on.connect
    };
    if retried { policy.attempts() } else { 0 }
}

/// Tries per request and the failing share of tries under a route.
pub(super) struct TryModel {
    pub(super) expected: f64,
    pub(super) failing: f64,
}

/// Per-try shares: ok, client error, server error, cut by the per-try timeout.
pub(super) fn try_shares(policy: &RoutePolicy, errors: ErrorMix, latency: Latency) -> [f64; 4] {
    let cut = policy
        .per_try_ms()
        .map_or(0.0, |ms| (1.0 - latency.cdf(ms)).max(0.0));
    let (c, s) = (errors.client, errors.server);
    [
        (1.0 - c - s) * (1.0 - cut),
        c * (1.0 - cut),
        s * (1.0 - cut),
        cut,
    ]
}

pub(super) fn try_model(policy: &RoutePolicy, errors: ErrorMix, latency: Latency) -> TryModel {
    if policy.faulty() {
        return TryModel {
            expected: 1.0,
            failing: errors.server,
        };
    }
    let [_, _, s, cut] = try_shares(policy, errors, latency);
    let on = policy.on();
    let r = if on.server { s } else { 0.0 } + if on.timeout { cut } else { 0.0 };
    let expected: f64 = (0..=policy.attempts()).map(|k| r.powi(k as i32)).sum();
    TryModel {
        expected,
        failing: s + cut,
    }
}

/// Which series of a routed flow a share goes to.
#[derive(Clone, Copy, Debug)]
pub(super) enum RoutedSeries {
    /// ok, client, server, server URX, UT, UT URX, ok DI, client DI, server DI.
    Src(usize),
    /// ok, client, server, cut.
    Dst(usize),
}

/// Body of Envoy's timeout answer ("upstream request timeout"), in bytes.
const TIMEOUT_BODY: f64 = 24.0;

/// The shares of a routed flow's requests (per request the caller sends)
/// by series, with their latencies and, where the proxy answers, response
/// sizes. See the module documentation for the model.
pub(super) fn routed_outcomes(
    policy: &RoutePolicy,
    errors: ErrorMix,
    latency: Latency,
) -> Vec<(RoutedSeries, f64, Dist, Option<f64>)> {
    use RoutedSeries::{Dst, Src};
    let mut out = Vec::new();
    let (c, s) = (errors.client, errors.server);
    let ok = 1.0 - c - s;
    let natural = Dist::of(latency);
    if policy.faulty() {
        // No timeout, no retries: the destination sees every request as
        // it is; the caller sees the delayed ones later.
        let (pd, delay) = policy.delay.unwrap_or((0.0, 0.0));
        for (i, share) in [ok, c, s].into_iter().enumerate() {
            out.push((Dst(i), share, natural, None));
            out.push((Src(i), share * (1.0 - pd), natural, None));
            if pd > 0.0 {
                out.push((Src(6 + i), share * pd, natural.shifted(delay), None));
            }
        }
        return out;
    }
    let per_try = policy.per_try_ms();
    let answered = match per_try {
        Some(ms) => Dist::LogNormal {
            base: latency,
            shift: 0.0,
            upper: ms,
        },
        None => natural,
    };
    let [o, cl, sv, cut] = try_shares(policy, errors, latency);
    let on = policy.on();
    let attempts = policy.attempts();
    let r_server = if on.server { sv } else { 0.0 };
    let r_cut = if on.timeout { cut } else { 0.0 };
    let r = r_server + r_cut;
    let tries: f64 = (0..=attempts).map(|k| r.powi(k as i32)).sum();
    // The destination sees every try.
    out.push((Dst(0), o * tries, answered, None));
    out.push((Dst(1), cl * tries, answered, None));
    out.push((Dst(2), sv * tries, answered, None));
    if let Some(ms) = per_try {
        out.push((Dst(3), cut * tries, Dist::Point(ms), Some(0.0)));
    }
    // Mean length of a failed try that is retried.
    let failed_ms = if r > 0.0 {
        let answered_mean = if sv > 0.0 { answered.mean() } else { 0.0 };
        (r_server * answered_mean + r_cut * per_try.unwrap_or(0.0)) / r
    } else {
        0.0
    };
    let timeout_ms = policy.timeout_s.map(|s| s * 1000.0);
    // `share` of requests end after `k` retries with an answer distributed
    // as `dist` (before the shift): split by the request timeout.
    let mut finish = |series: RoutedSeries, share: f64, k: u32, answer: Option<Dist>| {
        if share <= 0.0 {
            return;
        }
        let shift = f64::from(k) * failed_ms + policy.backoff_ms(k);
        let ut = Src(4);
        match (answer, timeout_ms) {
            (Some(Dist::LogNormal { base, upper, .. }), Some(t)) => {
                let room = t - shift;
                if room <= 0.0 {
                    out.push((ut, share, Dist::Point(t), Some(TIMEOUT_BODY)));
                    return;
                }
                let whole = base.cdf(upper);
                let within = if whole > 0.0 {
                    (base.cdf(room.min(upper)) / whole).min(1.0)
                } else {
                    1.0
                };
                let dist = Dist::LogNormal {
                    base,
                    shift,
                    upper: room.min(upper),
                };
                out.push((series, share * within, dist, None));
                if within < 1.0 {
                    out.push((
                        ut,
                        share * (1.0 - within),
                        Dist::Point(t),
                        Some(TIMEOUT_BODY),
                    ));
                }
            }
            (Some(dist), _) => out.push((series, share, dist.shifted(shift), None)),
            (None, t) => {
                let at = per_try.unwrap_or(0.0) + shift;
                let at = t.map_or(at, |t| at.min(t));
                out.push((series, share, Dist::Point(at), Some(TIMEOUT_BODY)));
            }
        }
    };
    for k in 0..=attempts {
        let reach = r.powi(k as i32);
        finish(Src(0), o * reach, k, Some(answered));
        finish(Src(1), cl * reach, k, Some(answered));
        if !on.server {
            finish(Src(2), sv * reach, k, Some(answered));
        }
        if !on.timeout {
            finish(Src(4), cut * reach, k, None);
        }
    }
    // Still failing after every retry.
    let last = r.powi(attempts as i32);
    let (server_series, cut_series) = if attempts > 0 {
        (Src(3), Src(5))
    } else {
        (Src(2), Src(4))
    };
    finish(server_series, r_server * last, attempts, Some(answered));
    finish(cut_series, r_cut * last, attempts, None);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shaping::config::DEFAULT_RETRY_ON;

    #[test]
    fn retries_and_timeouts_account_for_every_request() {
        let latency = Latency {
            median_ms: 30.0,
            sigma: 0.6,
        };
        let errors = ErrorMix {
            client: 0.05,
            server: 0.3,
        };
        for (attempts, per_try, timeout, retry_on) in [
            (0, None, Some(0.04), "5xx"),
            (2, None, None, "5xx"),
            (3, Some(0.05), Some(0.1), "gateway-error"),
            (2, Some(0.02), None, "reset"),
        ] {
            let policy = RoutePolicy {
                timeout_s: timeout,
                retry: (attempts > 0).then_some(RetryPolicy {
                    attempts,
                    per_try_s: per_try,
                    on: RetryOn::parse(retry_on, Protocol::Http),
                    backoff_ms: RETRY_BACKOFF_MS,
                }),
                ..RoutePolicy::default()
            };
            let out = routed_outcomes(&policy, errors, latency);
            let source: f64 = out
                .iter()
                .filter(|o| matches!(o.0, RoutedSeries::Src(_)))
                .map(|o| o.1)
                .sum();
            let destination: f64 = out
                .iter()
                .filter(|o| matches!(o.0, RoutedSeries::Dst(_)))
                .map(|o| o.1)
                .sum();
            let tries = try_model(&policy, errors, latency).expected;
            assert!(
                (source - 1.0).abs() < 1e-9,
                "{attempts} {retry_on}: {source}"
            );
            assert!((destination - tries).abs() < 1e-9, "{attempts} {retry_on}");
            // Nothing the caller sees outlasts the request timeout.
            if let Some(t) = timeout {
                for (series, share, dist, _) in &out {
                    if matches!(series, RoutedSeries::Src(_)) && *share > 0.0 {
                        assert!(
                            dist.cdf(t * 1000.0 + 1e-6) > 1.0 - 1e-9,
                            "{series:?} {dist:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn retry_conditions_follow_envoy_s_names() {
        let http = RetryOn::parse("5xx", Protocol::Http);
        assert!(http.server && http.timeout && http.reset && http.connect);
        // gRPC errors come in 200s: 5xx does not see them, `unavailable` does.
        assert!(!RetryOn::parse("5xx", Protocol::Grpc).server);
        assert!(RetryOn::parse("unavailable", Protocol::Grpc).server);
        assert!(!RetryOn::parse(DEFAULT_RETRY_ON, Protocol::Http).server);
        assert!(RetryOn::parse("connect-failure, 503", Protocol::Http).server);
        let gw = RetryOn::parse("gateway-error", Protocol::Http);
        assert!(gw.server && gw.timeout && !gw.reset);
    }
}
