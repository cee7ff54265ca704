//! The `pattern`s and `x-kubernetes-validations` rules the schemas use,
//! written in Rust: each names the CRD text it stands for.

use serde_json::{Map, Value};

use super::{Pattern, Rule, Verdict};

/// Nanoseconds of a Go duration string (`time.ParseDuration`: an optional
/// sign, then decimal numbers with units `ns`, `us`, `µs`, `ms`, `s`, `m`,
/// `h`; `0` alone), or `None` when it is none or overflows.
pub fn go_duration_nanos(s: &str) -> Option<i128> {
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return None;
        }
        let value: f64 = number.parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale: f64 = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += value * scale;
    }
    // Go's durations are int64 nanoseconds.
    if total > i64::MAX as f64 {
        return None;
    }
    let n = total.round() as i128;
    Some(if neg { -n } else { n })
}

/// CEL's error when `duration()` is given a string that is no duration
/// (cel-go's string conversion).
const NOT_A_DURATION: &str = "type conversion error from 'string' to 'google.protobuf.Duration'";

fn duration_at_least_1ms(v: &Value) -> Verdict {
    match v.as_str().map(go_duration_nanos) {
        Some(Some(n)) if n >= 1_000_000 => Verdict::Holds,
        Some(Some(_)) => Verdict::Fails,
        _ => Verdict::Error(NOT_A_DURATION.to_owned()),
    }
}

/// Istio: `duration(self) >= duration('1ms')` on every duration field.
pub static DURATION: Rule = Rule {
    message: "must be a valid duration greater than 1ms",
    check: duration_at_least_1ms,
};

fn keys_hold(v: &Value, f: fn(&str) -> bool) -> Verdict {
    let ok = v.as_object().is_none_or(|m| m.keys().all(|k| f(k)));
    if ok { Verdict::Holds } else { Verdict::Fails }
}

fn str_holds(v: &Value, f: fn(&str) -> bool) -> Verdict {
    if v.as_str().is_none_or(f) {
        Verdict::Holds
    } else {
        Verdict::Fails
    }
}

/// Istio `matchLabels`: `self.all(key, !key.contains("*"))`.
pub static LABEL_KEY_NO_WILDCARD: Rule = Rule {
    message: "wildcard not allowed in label key match",
    check: |v| keys_hold(v, |k| !k.contains('*')),
};

/// Istio `matchLabels`: `self.all(key, key.size() != 0)`.
pub static LABEL_KEY_NOT_EMPTY: Rule = Rule {
    message: "key must not be empty",
    check: |v| keys_hold(v, |k| !k.is_empty()),
};

/// Istio `matchLabels` values: `!self.contains("*")`.
pub static LABEL_VALUE_NO_WILDCARD: Rule = Rule {
    message: "wildcard not allowed in label value match",
    check: |v| str_holds(v, |s| !s.contains('*')),
};

/// Istio `workloadSelector.labels` values: `!self.contains("*")`.
pub static SELECTOR_NO_WILDCARD: Rule = Rule {
    message: "wildcard is not supported in selector",
    check: |v| str_holds(v, |s| !s.contains('*')),
};

/// ServiceEntry `hosts[]`: `self != "*"`.
pub static HOST_NOT_WILDCARD: Rule = Rule {
    message: "hostname cannot be wildcard",
    check: |v| str_holds(v, |s| s != "*"),
};

/// ServiceEntry ports: `0 < self && self <= 65535`.
pub static PORT_NUMBER: Rule = Rule {
    message: "port must be between 1-65535",
    check: |v| match v.as_f64() {
        Some(n) if n > 0.0 && n <= 65535.0 => Verdict::Holds,
        _ => Verdict::Fails,
    },
};

/// ServiceEntry `ports`: `self.all(l1, self.exists_one(l2, l1.number ==
/// l2.number))`.
pub static PORT_NUMBERS_UNIQUE: Rule = Rule {
    message: "port number cannot be duplicated",
    check: |v| {
        let numbers: Vec<Option<&Value>> = v
            .as_array()
            .map(|a| a.iter().map(|p| p.get("number")).collect())
            .unwrap_or_default();
        let unique = numbers
            .iter()
            .all(|n| numbers.iter().filter(|m| *m == n).count() == 1);
        if unique {
            Verdict::Holds
        } else {
            Verdict::Fails
        }
    },
};

fn has(v: &Value, field: &str) -> bool {
    v.get(field).is_some()
}

fn at_most_one(v: &Value, fields: &[&str]) -> Verdict {
    if fields.iter().filter(|f| has(v, f)).count() <= 1 {
        Verdict::Holds
    } else {
        Verdict::Fails
    }
}

/// ServiceEntry `spec`: `(has(self.workloadSelector) ? 1 : 0) +
/// (has(self.endpoints) ? 1 : 0) <= 1`.
pub static SE_SELECTOR_OR_ENDPOINTS: Rule = Rule {
    message: "only one of WorkloadSelector or Endpoints can be set",
    check: |v| at_most_one(v, &["workloadSelector", "endpoints"]),
};

fn resolution(v: &Value, absent: &'static str) -> String {
    v.get("resolution")
        .and_then(Value::as_str)
        .unwrap_or(absent)
        .to_owned()
}

/// ServiceEntry `spec`: CIDR `addresses` only with `NONE`/`STATIC`
/// resolution (an absent resolution is `NONE`).
pub static SE_CIDR_RESOLUTION: Rule = Rule {
    message: "CIDR addresses are allowed only for NONE/STATIC resolution types",
    check: |v| {
        let cidr = v
            .get("addresses")
            .and_then(Value::as_array)
            .is_some_and(|a| {
                a.iter()
                    .any(|x| x.as_str().is_some_and(|s| s.contains('/')))
            });
        let r = resolution(v, "NONE");
        if cidr && r != "STATIC" && r != "NONE" {
            Verdict::Fails
        } else {
            Verdict::Holds
        }
    },
};

/// ServiceEntry `spec`: `NONE` resolution (also when absent) takes no
/// `endpoints`.
pub static SE_NONE_NO_ENDPOINTS: Rule = Rule {
    message: "NONE mode cannot set endpoints",
    check: |v| {
        if resolution(v, "NONE") == "NONE" && has(v, "endpoints") {
            Verdict::Fails
        } else {
            Verdict::Holds
        }
    },
};

/// ServiceEntry `spec`: `DNS_ROUND_ROBIN` takes at most one endpoint.
pub static SE_ROUND_ROBIN_ONE_ENDPOINT: Rule = Rule {
    message: "DNS_ROUND_ROBIN mode cannot have multiple endpoints",
    check: |v| {
        let n = v
            .get("endpoints")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if resolution(v, "") == "DNS_ROUND_ROBIN" && n > 1 {
            Verdict::Fails
        } else {
            Verdict::Holds
        }
    },
};

/// PeerAuthentication `spec`: `portLevelMtls` needs a non-empty
/// `selector.matchLabels`.
pub static PA_PORTS_NEED_SELECTOR: Rule = Rule {
    message: "portLevelMtls requires selector",
    check: |v| {
        let labels = v
            .pointer("/selector/matchLabels")
            .and_then(Value::as_object)
            .map_or(0, Map::len);
        if has(v, "portLevelMtls") && labels == 0 {
            Verdict::Fails
        } else {
            Verdict::Holds
        }
    },
};

/// PeerAuthentication `portLevelMtls`: `self.all(key, 0 < int(key) &&
/// int(key) <= 65535)`; `int()` of a key that is no number is a CEL error.
pub static PA_PORT_KEYS: Rule = Rule {
    message: "port must be between 1-65535",
    check: |v| {
        let Some(m) = v.as_object() else {
            return Verdict::Holds;
        };
        for k in m.keys() {
            match k.parse::<i64>() {
                Ok(n) if n > 0 && n <= 65535 => {}
                Ok(_) => return Verdict::Fails,
                Err(_) => {
                    return Verdict::Error(
                        "type conversion error from 'string' to 'int'".to_owned(),
                    );
                }
            }
        }
        Verdict::Holds
    },
};

/// AuthorizationPolicy and RequestAuthentication `spec`: at most one of
/// `selector`, `targetRef`, `targetRefs`.
pub static ONE_TARGETING: Rule = Rule {
    message: "only one of targetRefs or selector can be set",
    check: |v| at_most_one(v, &["selector", "targetRef", "targetRefs"]),
};

/// `targetRef.namespace`: `self.size() == 0`.
pub static NO_CROSS_NAMESPACE: Rule = Rule {
    message: "cross namespace referencing is not currently supported",
    check: |v| str_holds(v, str::is_empty),
};

/// AuthorizationPolicy `source`: `serviceAccounts` exclude `principals`
/// and `namespaces` (and their negations).
pub static AP_SERVICE_ACCOUNTS_ALONE: Rule = Rule {
    message: "Cannot set serviceAccounts with namespaces or principals",
    check: |v| {
        let accounts = has(v, "serviceAccounts") || has(v, "notServiceAccounts");
        let others = ["principals", "notPrincipals", "namespaces", "notNamespaces"]
            .iter()
            .any(|f| has(v, f));
        if accounts && others {
            Verdict::Fails
        } else {
            Verdict::Holds
        }
    },
};

/// Gateway and Sidecar `tls`: not both `tlsCertificates` and
/// `credentialNames`.
pub static TLS_NAMES_OR_CERTS: Rule = Rule {
    message: "only one of credentialNames or tlsCertificates can be set",
    check: |v| at_most_one(v, &["tlsCertificates", "credentialNames"]),
};

/// Gateway and Sidecar `tls`: not both `credentialName` and
/// `credentialNames`.
pub static TLS_NAME_OR_NAMES: Rule = Rule {
    message: "only one of credentialName or credentialNames can be set",
    check: |v| at_most_one(v, &["credentialName", "credentialNames"]),
};

/// Gateway and Sidecar `tls`: the CRD's third rule, whose message names
/// `credentialName` but whose expression tests `credentialNames` (kept as
/// written).
pub static TLS_NAME_OR_CERTS: Rule = Rule {
    message: "only one of credentialName or tlsCertificates can be set",
    check: |v| at_most_one(v, &["credentialNames", "tlsCertificates"]),
};

/// RequestAuthentication `jwtRules[]`: at most one of `jwksUri`,
/// `jwks_uri`, `jwks`.
pub static JWKS_ONCE: Rule = Rule {
    message: "only one of jwks or jwksUri can be set",
    check: |v| at_most_one(v, &["jwksUri", "jwks_uri", "jwks"]),
};

/// RequestAuthentication `jwksUri`: `url(self).getScheme() in ["http",
/// "https"]` (the scheme as written before `:`).
pub static HTTP_URL: Rule = Rule {
    message: "url must have scheme http:// or https://",
    check: |v| {
        str_holds(v, |s| {
            s.split_once(':')
                .is_some_and(|(scheme, _)| scheme == "http" || scheme == "https")
        })
    },
};

// --- Gateway API ----------------------------------------------------------

/// HTTPRoute/GRPCRoute `backendRefs[]`: `(size(self.group) == 0 &&
/// self.kind == 'Service') ? has(self.port) : true` (group and kind are
/// defaulted before).
pub static SERVICE_NEEDS_PORT: Rule = Rule {
    message: "Must have port for Service reference",
    check: |v| {
        let group = v.get("group").and_then(Value::as_str).unwrap_or("");
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
        if group.is_empty() && kind == "Service" && !has(v, "port") {
            Verdict::Fails
        } else {
            Verdict::Holds
        }
    },
};

/// HTTPRoute/GRPCRoute `rules`: the matches of all rules add up to at most
/// 128.
pub static AT_MOST_128_MATCHES: Rule = Rule {
    message: "While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128",
    check: |v| {
        let total: usize = v.as_array().map_or(0, |rules| {
            rules
                .iter()
                .take(16)
                .map(|r| {
                    r.get("matches")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len)
                })
                .sum()
        });
        if total <= 128 {
            Verdict::Holds
        } else {
            Verdict::Fails
        }
    },
};

fn path_check(v: &Value, bad: fn(&str) -> bool) -> Verdict {
    let ty = v.get("type").and_then(Value::as_str).unwrap_or("");
    let value = v.get("value").and_then(Value::as_str).unwrap_or("");
    if (ty == "Exact" || ty == "PathPrefix") && bad(value) {
        Verdict::Fails
    } else {
        Verdict::Holds
    }
}

/// Whether `s` matches `^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$`.
fn path_chars(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_alphanumeric() || b"-/._~!$&'()*+,;=:@".contains(&c) {
            i += 1;
        } else if c == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            i += 3;
        } else {
            return false;
        }
    }
    !b.is_empty()
}

/// HTTPRoute `matches[].path`: the CRD's eleven rules on `value`, in order.
pub static PATH_RULES: [Rule; 11] = [
    Rule {
        message: "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']",
        check: |v| path_check(v, |p| !p.starts_with('/')),
    },
    Rule {
        message: "must not contain '//' when type one of ['Exact', 'PathPrefix']",
        check: |v| path_check(v, |p| p.contains("//")),
    },
    Rule {
        message: "must not contain '/./' when type one of ['Exact', 'PathPrefix']",
        check: |v| path_check(v, |p| p.contains("/./")),
    },
    Rule {
        message: "must not contain '/../' when type one of ['Exact', 'PathPrefix']",
        check: |v| path_check(v, |p| p.contains("/../")),
    },
    Rule {
        message: "must not contain '%2f' when type one of ['Exact', 'PathPrefix']",
        check: |v| path_check(v, |p| p.contains("%2f")),
    },
    Rule {
        message: "must not contain '%2F' when type one of ['Exact', 'PathPrefix']",
        check: |v| path_check(v, |p| p.contains("%2F")),
    },
    Rule {
        message: "must not contain '#' when type one of ['Exact', 'PathPrefix']",
        check: |v| path_check(v, |p| p.contains('#')),
    },
    Rule {
        message: "must not end with '/..' when type one of ['Exact', 'PathPrefix']",
        check: |v| path_check(v, |p| p.ends_with("/..")),
    },
    Rule {
        message: "must not end with '/.' when type one of ['Exact', 'PathPrefix']",
        check: |v| path_check(v, |p| p.ends_with("/.")),
    },
    Rule {
        message: "type must be one of ['Exact', 'PathPrefix', 'RegularExpression']",
        check: |v| {
            let ty = v.get("type").and_then(Value::as_str).unwrap_or("");
            if ["Exact", "PathPrefix", "RegularExpression"].contains(&ty) {
                Verdict::Holds
            } else {
                Verdict::Fails
            }
        },
    },
    Rule {
        message: "must only contain valid characters (matching ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types ['Exact', 'PathPrefix']",
        check: |v| path_check(v, |p| !path_chars(p)),
    },
];

/// Whether `s` matches the Gateway API's duration pattern
/// `^([0-9]{1,5}(h|m|s|ms)){1,4}$`.
fn gateway_duration(s: &str) -> bool {
    let b = s.as_bytes();
    let (mut i, mut parts) = (0, 0);
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || i - start > 5 {
            return false;
        }
        if b[i..].starts_with(b"ms") {
            i += 2;
        } else if i < b.len() && matches!(b[i], b'h' | b'm' | b's') {
            i += 1;
        } else {
            return false;
        }
        parts += 1;
    }
    (1..=4).contains(&parts)
}

/// HTTPRoute `timeouts`: `backendRequest` no longer than a non-zero
/// `request`.
pub static BACKEND_TIMEOUT_WITHIN_REQUEST: Rule = Rule {
    message: "backendRequest timeout cannot be longer than request timeout",
    check: |v| {
        let nanos = |f: &str| v.get(f).and_then(Value::as_str).map(go_duration_nanos);
        match (nanos("request"), nanos("backendRequest")) {
            (Some(Some(req)), Some(Some(backend))) if req != 0 && backend > req => Verdict::Fails,
            (Some(None), _) | (_, Some(None)) => Verdict::Error(NOT_A_DURATION.to_owned()),
            _ => Verdict::Holds,
        }
    },
};

/// GRPCRoute `matches[].method`: a `type` needs a `service` or a `method`.
pub static GRPC_SERVICE_OR_METHOD: Rule = Rule {
    message: "One or both of 'service' or 'method' must be specified",
    check: |v| {
        if has(v, "type") && !has(v, "service") && !has(v, "method") {
            Verdict::Fails
        } else {
            Verdict::Holds
        }
    },
};

fn exact_grpc(v: &Value, field: &str, ok: fn(&str) -> bool) -> Verdict {
    let ty = v.get("type").and_then(Value::as_str);
    let exact = ty.is_none_or(|t| t == "Exact");
    match v.get(field).and_then(Value::as_str) {
        Some(s) if exact && !ok(s) => Verdict::Fails,
        _ => Verdict::Holds,
    }
}

fn ident(s: &str, dots: bool) -> bool {
    let parts: Vec<&str> = if dots {
        s.strip_prefix('.').unwrap_or(s).split('.').collect()
    } else {
        vec![s]
    };
    parts.iter().all(|p| {
        let mut chars = p.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// GRPCRoute `method.service` (exact): `^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$`.
pub static GRPC_SERVICE_CHARS: Rule = Rule {
    message: "service must only contain valid characters (matching ^(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$)",
    check: |v| exact_grpc(v, "service", |s| ident(s, true)),
};

/// GRPCRoute `method.method` (exact): `^[A-Za-z_][A-Za-z_0-9]*$`.
pub static GRPC_METHOD_CHARS: Rule = Rule {
    message: "method must only contain valid characters (matching ^[A-Za-z_][A-Za-z_0-9]*$)",
    check: |v| exact_grpc(v, "method", |s| ident(s, false)),
};

// --- Patterns ---------------------------------------------------------------

/// Whether `s` is lowercase DNS labels joined by dots (the subdomain
/// pattern without its length limit).
fn dns_labels(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`.
pub static SUBDOMAIN: Pattern = Pattern {
    source: r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
    matches: dns_labels,
};

/// `^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`.
pub static HOSTNAME: Pattern = Pattern {
    source: r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
    matches: |s| dns_labels(s.strip_prefix("*.").unwrap_or(s)),
};

/// `^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`.
pub static GROUP: Pattern = Pattern {
    source: r"^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
    matches: |s| s.is_empty() || dns_labels(s),
};

/// `^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$`.
pub static KIND: Pattern = Pattern {
    source: r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$",
    matches: |s| {
        s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !s.ends_with('-')
    },
};

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`.
pub static NAMESPACE: Pattern = Pattern {
    source: r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
    matches: |s| !s.contains('.') && dns_labels(s),
};

/// `^[A-Za-z0-9!#$%&'*+\-.^_\x60|~]+$` (HTTP header names).
pub static HEADER_NAME: Pattern = Pattern {
    source: r"^[A-Za-z0-9!#$%&'*+\-.^_\x60|~]+$",
    matches: |s| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    },
};

/// `^([0-9]{1,5}(h|m|s|ms)){1,4}$` (Gateway API durations).
pub static GATEWAY_DURATION: Pattern = Pattern {
    source: r"^([0-9]{1,5}(h|m|s|ms)){1,4}$",
    matches: gateway_duration,
};

/// `^[-_A-Za-z0-9]+$` (RequestAuthentication claim headers).
pub static CLAIM_HEADER: Pattern = Pattern {
    source: "^[-_A-Za-z0-9]+$",
    matches: |s| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse_like_time_parse_duration() {
        assert_eq!(go_duration_nanos("1ms"), Some(1_000_000));
        assert_eq!(go_duration_nanos("1.5s"), Some(1_500_000_000));
        assert_eq!(go_duration_nanos("1h30m"), Some(5_400_000_000_000));
        assert_eq!(go_duration_nanos("0"), Some(0));
        assert_eq!(go_duration_nanos("-2us"), Some(-2_000));
        assert_eq!(go_duration_nanos("3\u{b5}s"), Some(3_000));
        for bad in ["", "5", "1d", "s", ".s", "1..2s", "ms", "1 s"] {
            assert_eq!(go_duration_nanos(bad), None, "{bad}");
        }
        assert_eq!(duration_at_least_1ms(&Value::from("999us")), Verdict::Fails);
        assert_eq!(duration_at_least_1ms(&Value::from("10s")), Verdict::Holds);
        assert!(matches!(
            duration_at_least_1ms(&Value::from("soon")),
            Verdict::Error(_)
        ));
    }

    #[test]
    fn patterns_match_their_sources() {
        assert!((HOSTNAME.matches)("*.example.com"));
        assert!(!(HOSTNAME.matches)("Example.com"));
        assert!(!(HOSTNAME.matches)("-a.b"));
        assert!((GROUP.matches)("") && (GROUP.matches)("gateway.networking.k8s.io"));
        assert!((KIND.matches)("Service") && !(KIND.matches)("9x") && !(KIND.matches)("a-"));
        assert!((NAMESPACE.matches)("bookinfo") && !(NAMESPACE.matches)("a.b"));
        assert!((HEADER_NAME.matches)("x-user`id") && !(HEADER_NAME.matches)("a b"));
        assert!((GATEWAY_DURATION.matches)("1h30m10s5ms"));
        assert!(!(GATEWAY_DURATION.matches)("1h1h1h1h1h"));
        assert!(!(GATEWAY_DURATION.matches)("123456s") && !(GATEWAY_DURATION.matches)("1.5s"));
        assert!(path_chars("/a%2Fb") && !path_chars("/a b") && !path_chars("/%zz"));
        assert!(ident(".pkg.Service_1", true) && !ident("pkg..x", true));
        assert!(ident("Get", false) && !ident("9x", false));
    }
}
