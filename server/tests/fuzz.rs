//! Property tests of every parser that takes a caller's input: Kubernetes
//! names (an accepted name never changes the request path), duration and
//! range parsing, PromQL escaping, the graph's find/hide expressions, the
//! Jaeger decoders and the settings. A fixed number of cases runs in the
//! test command (`PROPTEST_CASES`, 256 by default here); `scripts/fuzz.sh`
//! runs many more.

use meshdeck_server::cluster::names;
use meshdeck_server::enablement::settings;
use meshdeck_server::promql::{escape_regex, escape_string};
use meshdeck_server::traces::parse_duration_us;
use meshdeck_server::upstream::jaeger::{v1, v3};
use proptest::prelude::*;
use serde_json::Value;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        // Failures are reported with their minimal input; no files are written.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Names made of what path injection needs (`/`, `%`, `?`, `.`, `#`) and of
/// what names are made of, so both accepted and refused ones come up often.
fn name_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9.\\-/%?#&=_A-Z ]{0,80}",
        "[a-z0-9]([a-z0-9\\-]{0,20}[a-z0-9])?",
        "[a-z0-9]{1,10}(\\.[a-z0-9]{1,10}){0,3}",
        any::<String>(),
    ]
}

/// The request kube-rs would send for `verb` on object `name` in `ns`.
fn request_uri(ns: &str, name: &str) -> http::Uri {
    let request = kube::core::Request::new(format!("/apis/apps/v1/namespaces/{ns}/deployments"));
    let patch = kube::api::Patch::Merge(serde_json::json!({}));
    let params = kube::api::PatchParams {
        field_manager: Some("meshdeck".into()),
        ..kube::api::PatchParams::default()
    };
    request.patch(name, &params, &patch).unwrap().uri().clone()
}

/// `escape_string`'s output read back as PromQL reads a double-quoted string.
fn unescape(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(match chars.next()? {
                '\\' => '\\',
                '"' => '"',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                _ => return None,
            }),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// Any JSON value, a few levels deep, with the keys Jaeger answers use.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-z0-9 ]{0,12}".prop_map(Value::String),
    ];
    let keys = prop_oneof![
        Just("data".to_owned()),
        Just("traceID".to_owned()),
        Just("spans".to_owned()),
        Just("spanID".to_owned()),
        Just("references".to_owned()),
        Just("processes".to_owned()),
        Just("startTime".to_owned()),
        Just("duration".to_owned()),
        Just("tags".to_owned()),
        Just("result".to_owned()),
        Just("resourceSpans".to_owned()),
        Just("scopeSpans".to_owned()),
        Just("attributes".to_owned()),
        Just("traceId".to_owned()),
        Just("parentSpanId".to_owned()),
        Just("startTimeUnixNano".to_owned()),
        Just("spanId".to_owned()),
        Just("processID".to_owned()),
        Just("serviceName".to_owned()),
        Just("refType".to_owned()),
        Just("key".to_owned()),
        Just("value".to_owned()),
        Just("logs".to_owned()),
        Just("events".to_owned()),
        Just("status".to_owned()),
        Just("code".to_owned()),
        Just("kind".to_owned()),
        Just("name".to_owned()),
        Just("services".to_owned()),
        Just("operations".to_owned()),
        "[a-z]{1,6}",
    ];
    leaf.prop_recursive(4, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn accepted_names_never_change_the_request_path(ns in name_like(), name in name_like()) {
        let ns_ok = names::namespace(&ns).is_ok();
        let name_ok = names::object("Deployment", &name).is_ok();
        if ns_ok && name_ok {
            let uri = request_uri(&ns, &name);
            prop_assert_eq!(uri.path(), format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}"));
            let query = uri.query().unwrap_or("");
            prop_assert!(query.split('&').all(|p| p.is_empty() || p == "fieldManager=meshdeck"), "{}", query);
            // Nothing in an accepted name is special in a path.
            prop_assert!(!ns.contains(['/', '%', '?', '#']) && !name.contains(['/', '%', '?', '#']));
            prop_assert!(name != "." && name != "..");
        }
    }

    #[test]
    fn durations_parse_or_refuse_without_panicking(text in "\\PC{0,12}|[0-9]{1,25}[smhdw]") {
        if let Some(span) = app::types::TimeSpan::parse_range(&text) {
            let seconds = span.seconds();
            prop_assert!(seconds.is_finite() && seconds > 0.0, "{}: {}", text, seconds);
        }
        if let Some(span) = app::types::TimeSpan::parse(&text) {
            prop_assert!(span.seconds().is_finite() && span.seconds() >= 0.0, "{}", text);
        }
        let _ = parse_duration_us(&text);
    }

    #[test]
    fn promql_strings_read_back_as_written(value in any::<String>()) {
        let escaped = escape_string(&value);
        prop_assert_eq!(unescape(&escaped), Some(value.clone()));
        // In a regex, every metacharacter is escaped.
        let regex = escape_regex(&value);
        let mut chars = regex.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                prop_assert!(chars.next().is_some());
            } else {
                prop_assert!(!"\\.+*?()|[]{}^$".contains(c), "{:?} in {:?}", c, regex);
            }
        }
    }

    #[test]
    fn graph_expressions_parse_or_refuse_without_panicking(
        text in "[a-z %<>=!.,0-9A-Z]{0,40}|\\PC{0,40}"
    ) {
        let _ = app::graph::parse_expr(&text);
    }

    #[test]
    fn jaeger_answers_of_any_shape_decode_without_panicking(body in json()) {
        let _ = v1::decode(&body);
        let _ = v1::decode_names(&body);
        let _ = v3::decode(&body);
        let _ = v3::decode_services(&body);
        let _ = v3::decode_operations(&body);
    }

    #[test]
    fn settings_of_any_text_parse_or_name_the_problem(text in "\\PC{0,200}", cut in 0usize..2000) {
        let _ = settings::parse_text(&text);
        // A cut-off real document: an error that names where, never a panic.
        let full = serde_json::to_string(&app::types::MeshSettings::default()).unwrap();
        let prefix = &full[..cut.min(full.len())];
        if let Err(problem) = settings::parse_text(prefix) {
            prop_assert!(!problem.is_empty());
        }
    }

    #[test]
    fn settings_with_any_field_values_validate_without_panicking(
        values in prop::collection::vec("\\PC{0,16}", 16)
    ) {
        let mut doc = serde_json::to_value(app::types::MeshSettings::default()).unwrap();
        let mut strings = Vec::new();
        collect_string_paths(&doc, String::new(), &mut strings);
        for (path, value) in strings.iter().zip(values.iter()) {
            if let Some(slot) = doc.pointer_mut(path) {
                *slot = Value::String(value.clone());
            }
        }
        if let Ok(parsed) = serde_json::from_value::<app::types::MeshSettings>(doc) {
            let _ = settings::validate(&parsed);
        }
    }
}

/// JSON pointers of every string in `value`.
fn collect_string_paths(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::String(_) => out.push(at),
        Value::Object(map) => {
            for (k, v) in map {
                collect_string_paths(v, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_string_paths(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}
