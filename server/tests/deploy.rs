//! The Helm chart (`deploy/helm/meshdeck`), the plain manifests rendered
//! from it (`deploy/manifests/meshdeck.yaml`) and the Dockerfile.
//!
//! Helm cannot be installed on the machines this runs on, so the chart's
//! templates keep to a subset of Go's template language that this test
//! renders itself: `{{ .Values.a.b }}`, `{{ .Release.Namespace }}`,
//! `{{ .Release.Name }}`, `{{ .Chart.AppVersion }}`, each optionally
//! `| quote`, and `{{ if ... }}` / `{{ end }}` blocks on a value's
//! truthiness, with `{{-` and `-}}` trimming whitespace as Go does. Any
//! other action fails the test, so the chart cannot drift out of what is
//! checked here. (Helm itself has not rendered this chart yet: no
//! machine it was developed on could install Helm.)
//!
//! Checked: the manifests are the chart rendered with its default values
//! (regenerate with `MESHDECK_REGENERATE=1 cargo test -p meshdeck --test
//! deploy`); every object fits the Kubernetes OpenAPI types of the
//! k8s-openapi version in use (no unknown or mistyped field); the
//! manifests pass a server-side dry run on the in-memory API; the chart's
//! RBAC, with every use switched on, is exactly `deploy/rbac/*.yaml`
//! (less the Namespace objects); the Deployment runs as the issue asks
//! (2 replicas, probes on `/api/ready` and `/api/health`, non-root,
//! read-only root filesystem, no privilege escalation, seccomp
//! `RuntimeDefault`, requests and limits); and the Dockerfile copies the
//! binary `scripts/build.sh` makes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// What the templates may refer to.
struct Scope {
    values: Value,
    namespace: String,
    release: String,
    app_version: String,
}

impl Scope {
    fn lookup(&self, path: &str) -> Value {
        let path = path.trim();
        if let Some(rest) = path.strip_prefix(".Values.") {
            let mut v = &self.values;
            for key in rest.split('.') {
                v = v.get(key).unwrap_or(&Value::Null);
            }
            return v.clone();
        }
        match path {
            ".Release.Namespace" => json!(self.namespace),
            ".Release.Name" => json!(self.release),
            ".Chart.AppVersion" => json!(self.app_version),
            other => panic!("the chart uses {other:?}, which this test does not render"),
        }
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Renders `template` in `scope`.
fn render(template: &str, scope: &Scope) -> String {
    // Split into text and actions, applying the trim markers.
    enum Piece {
        Text(String),
        Action(String),
    }
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let mut text = rest[..open].to_owned();
        let after = &rest[open + 2..];
        let close = after.find("}}").expect("an unclosed {{");
        let mut action = &after[..close];
        if let Some(a) = action.strip_prefix('-') {
            text = text.trim_end().to_owned();
            action = a;
        }
        let mut trim_next = false;
        if let Some(a) = action.strip_suffix('-') {
            trim_next = true;
            action = a;
        }
        pieces.push(Piece::Text(text));
        pieces.push(Piece::Action(action.trim().to_owned()));
        rest = &after[close + 2..];
        if trim_next {
            rest = rest.trim_start();
        }
    }
    pieces.push(Piece::Text(rest.to_owned()));

    let mut out = String::new();
    // One entry per open `if`: whether its body is emitted.
    let mut stack: Vec<bool> = Vec::new();
    for piece in pieces {
        let on = stack.iter().all(|b| *b);
        match piece {
            Piece::Text(t) if on => out.push_str(&t),
            Piece::Text(_) => {}
            Piece::Action(a) => {
                if let Some(cond) = a.strip_prefix("if ") {
                    stack.push(truthy(&scope.lookup(cond)));
                } else if a == "end" {
                    stack.pop().expect("an end without an if");
                } else if on {
                    let (path, filter) = match a.split_once('|') {
                        Some((p, f)) => (p, Some(f.trim())),
                        None => (a.as_str(), None),
                    };
                    let v = text_of(&scope.lookup(path));
                    match filter {
                        None => out.push_str(&v),
                        Some("quote") => out.push_str(&format!("{v:?}")),
                        Some(other) => panic!("the chart uses the filter {other:?}"),
                    }
                }
            }
        }
    }
    assert!(stack.is_empty(), "an if without an end");
    out
}

fn yaml_docs(text: &str) -> Vec<Value> {
    meshdeck_server::demo::yaml_objects(text).unwrap()
}

/// The chart rendered with its default values, `overrides` merged in:
/// (template file, its objects).
fn render_chart(overrides: Value) -> Vec<(String, Value)> {
    let mut values: Value =
        serde_yaml_ng::from_str(&read("deploy/helm/meshdeck/values.yaml")).unwrap();
    merge(&mut values, overrides);
    let chart: Value = serde_yaml_ng::from_str(&read("deploy/helm/meshdeck/Chart.yaml")).unwrap();
    let scope = Scope {
        values,
        namespace: "meshdeck".into(),
        release: "meshdeck".into(),
        app_version: text_of(&chart["appVersion"]),
    };
    let dir = root().join("deploy/helm/meshdeck/templates");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let text = render(&std::fs::read_to_string(&f).unwrap(), &scope);
        for doc in yaml_docs(&text) {
            out.push((name.clone(), doc));
        }
    }
    out
}

fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

fn manifests_text() -> String {
    let objects: Vec<Value> = render_chart(json!({}))
        .into_iter()
        .map(|(_, o)| o)
        .collect();
    let mut text = String::from(
        "# meshdeck as plain manifests: the Helm chart deploy/helm/meshdeck rendered\n\
         # with its default values into namespace `meshdeck` (kubectl create\n\
         # namespace meshdeck; the enablement Role needs istio-system to exist).\n\
         # Generated: MESHDECK_REGENERATE=1 cargo test -p meshdeck --test deploy\n",
    );
    for o in objects {
        text.push_str("---\n");
        text.push_str(&serde_yaml_ng::to_string(&o).unwrap());
    }
    text
}

#[test]
fn the_manifests_are_the_chart_rendered_with_its_defaults() {
    let want = manifests_text();
    let path = root().join("deploy/manifests/meshdeck.yaml");
    if std::env::var_os("MESHDECK_REGENERATE").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let got = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        got == want,
        "deploy/manifests/meshdeck.yaml differs from the chart; regenerate it with MESHDECK_REGENERATE=1 cargo test -p meshdeck --test deploy"
    );
}

/// `object` as the k8s-openapi type of its kind, and back: a field the
/// type does not know is dropped (so the round trip differs), a value of
/// the wrong type does not parse.
fn typed_round_trip(object: &Value) -> Result<Value, String> {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{Service, ServiceAccount};
    use k8s_openapi::api::networking::v1::Ingress;
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
    fn via<T: serde::de::DeserializeOwned + serde::Serialize>(o: &Value) -> Result<Value, String> {
        let typed: T = serde_json::from_value(o.clone()).map_err(|e| e.to_string())?;
        serde_json::to_value(typed).map_err(|e| e.to_string())
    }
    match object["kind"].as_str().unwrap_or("") {
        "Deployment" => via::<Deployment>(object),
        "Service" => via::<Service>(object),
        "ServiceAccount" => via::<ServiceAccount>(object),
        "Ingress" => via::<Ingress>(object),
        "ClusterRole" => via::<ClusterRole>(object),
        "ClusterRoleBinding" => via::<ClusterRoleBinding>(object),
        "Role" => via::<Role>(object),
        "RoleBinding" => via::<RoleBinding>(object),
        other => Err(format!("no schema checked for kind {other}")),
    }
}

/// Drops what serializing a typed object adds or normalises (nothing, for
/// these kinds, but empty maps a template might write).
fn comparable(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), comparable(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(comparable).collect()),
        other => other.clone(),
    }
}

#[test]
fn every_object_fits_the_kubernetes_schema_with_every_option_on() {
    let all_on = json!({
        "rbac": {"enablement": true, "rollouts": true, "impersonate": true},
        "ingress": {"enabled": true, "className": "nginx"},
        "grafanaUrl": "http://grafana.monitoring:3000",
        "kialiUrl": "http://kiali.istio-system:20001",
        "otlpEndpoint": "http://otel-collector.observability:4318",
    });
    // Every option's variable reaches the container, and the binary reads it.
    let config = read("server/src/config.rs");
    let deployment = render_chart(all_on.clone())
        .into_iter()
        .find(|(_, o)| o["kind"] == "Deployment")
        .map(|(_, o)| o)
        .expect("a Deployment");
    let env = &deployment["spec"]["template"]["spec"]["containers"][0]["env"];
    for (name, value) in [
        ("MESHDECK_GRAFANA_URL", "http://grafana.monitoring:3000"),
        ("MESHDECK_KIALI_URL", "http://kiali.istio-system:20001"),
        (
            "MESHDECK_OTLP_ENDPOINT",
            "http://otel-collector.observability:4318",
        ),
    ] {
        assert!(
            env.as_array()
                .unwrap()
                .contains(&json!({"name": name, "value": value})),
            "{name} not set: {env}"
        );
        assert!(config.contains(&format!("env = \"{name}\"")), "{name}");
    }
    for overrides in [json!({}), all_on, json!({"metrics": {"enabled": false}})] {
        for (file, object) in render_chart(overrides.clone()) {
            let back = typed_round_trip(&object)
                .unwrap_or_else(|e| panic!("{file} ({overrides}): {e}\n{object:#}"));
            assert_eq!(
                comparable(&back),
                comparable(&object),
                "{file}: a field the Kubernetes type does not know"
            );
        }
    }
    // The ServiceMonitor (a CRD, not in k8s-openapi): its shape, by hand.
    let with_monitor = render_chart(json!({"metrics": {"serviceMonitor": true}}));
    let monitor = with_monitor
        .iter()
        .find(|(_, o)| o["kind"] == "ServiceMonitor")
        .map(|(_, o)| o.clone())
        .expect("a ServiceMonitor when asked");
    assert_eq!(monitor["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "metrics");
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/metrics");
    // The HTTPRoute (Gateway API, not in k8s-openapi): its shape, by hand.
    let with_route = render_chart(json!({"httpRoute": {"enabled": true}}));
    let route = with_route
        .iter()
        .find(|(_, o)| o["kind"] == "HTTPRoute")
        .map(|(_, o)| o.clone())
        .expect("an HTTPRoute when asked");
    assert_eq!(route["apiVersion"], "gateway.networking.k8s.io/v1");
    assert_eq!(
        route["spec"]["parentRefs"],
        json!([{"name": "gateway", "namespace": "istio-system"}])
    );
    assert_eq!(route["spec"]["hostnames"], json!(["meshdeck.example.com"]));
    assert_eq!(
        route["spec"]["rules"][0]["backendRefs"],
        json!([{"name": "meshdeck", "port": 80}])
    );
    assert!(
        !render_chart(json!({})).iter().any(|(_, o)| matches!(
            o["kind"].as_str(),
            Some("ServiceMonitor" | "Ingress" | "HTTPRoute")
        )),
        "off by default"
    );
}

#[test]
fn the_deployment_runs_as_asked() {
    let objects = render_chart(json!({}));
    let d = &objects
        .iter()
        .find(|(_, o)| o["kind"] == "Deployment")
        .unwrap()
        .1;
    assert_eq!(d["spec"]["replicas"], 2);
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "meshdeck");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let c = &pod["containers"][0];
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/api/ready");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/api/health");
    for part in ["requests", "limits"] {
        for r in ["cpu", "memory"] {
            assert!(c["resources"][part][r].is_string(), "{part}.{r}");
        }
    }
    let env: BTreeMap<String, String> = c["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                e["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(env["MESHDECK_NAMESPACE"], "meshdeck");
    assert_eq!(env["MESHDECK_METRICS_BIND"], "0.0.0.0:9090");
    assert_eq!(
        env["MESHDECK_PROMETHEUS_URL"],
        "http://prometheus.istio-system:9090"
    );
    assert!(
        !env.contains_key("MESHDECK_GRAFANA_URL"),
        "empty values are left out"
    );
    // Every variable is one the binary reads.
    let config = read("server/src/config.rs");
    for name in env.keys() {
        assert!(
            config.contains(&format!("env = \"{name}\"")),
            "{name} is not a flag's variable"
        );
    }
    assert_eq!(c["args"], json!(["serve", "--in-cluster"]));
}

/// The RBAC objects of `objects`, by kind and name (namespaced ones with
/// their namespace), without comments' or metadata's extras.
fn rbac(objects: impl IntoIterator<Item = Value>) -> BTreeMap<String, Value> {
    objects
        .into_iter()
        .filter(|o| {
            o["apiVersion"]
                .as_str()
                .is_some_and(|v| v.starts_with("rbac.authorization.k8s.io/"))
        })
        .map(|o| {
            let key = format!(
                "{} {}/{}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["namespace"].as_str().unwrap_or(""),
                o["metadata"]["name"].as_str().unwrap()
            );
            (key, comparable(&o))
        })
        .collect()
}

#[test]
fn the_charts_rbac_is_the_documented_least_privilege() {
    let documented = rbac(
        meshdeck_server::demo::DOCUMENTED_RBAC
            .iter()
            .flat_map(|(_, text)| yaml_docs(text)),
    );
    let all_on = json!({"rbac": {"enablement": true, "rollouts": true, "impersonate": true}});
    let chart = rbac(render_chart(all_on).into_iter().map(|(_, o)| o));
    assert_eq!(
        chart.keys().collect::<Vec<_>>(),
        documented.keys().collect::<Vec<_>>()
    );
    assert_eq!(chart, documented);
    // Switched off, a use's objects are gone.
    let off = json!({"rbac": {"enablement": false, "rollouts": false, "impersonate": false}});
    let console_only = rbac(render_chart(off).into_iter().map(|(_, o)| o));
    assert!(
        console_only.keys().all(|k| k.contains("meshdeck-console")),
        "{console_only:?}"
    );
}

#[tokio::test]
async fn the_manifests_pass_a_server_side_dry_run() {
    use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
    use kube::core::GroupVersionKind;
    let cluster = meshdeck_sim::kube::InMemoryCluster::from_mesh(&meshdeck_sim::scenario::demo());
    let client = cluster.client();
    let mut params = PatchParams::apply("meshdeck-test");
    params.dry_run = true;
    let objects = yaml_docs(&read("deploy/manifests/meshdeck.yaml"));
    assert!(objects.len() >= 10, "{} objects", objects.len());
    for o in objects {
        let (group, version) = match o["apiVersion"].as_str().unwrap().split_once('/') {
            Some((g, v)) => (g.to_owned(), v.to_owned()),
            None => (String::new(), o["apiVersion"].as_str().unwrap().to_owned()),
        };
        let kind = o["kind"].as_str().unwrap();
        let plural = format!("{}s", kind.to_lowercase());
        let ar = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(&group, &version, kind),
            &plural,
        );
        let name = o["metadata"]["name"].as_str().unwrap().to_owned();
        let api: Api<DynamicObject> = match o["metadata"]["namespace"].as_str() {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
            None => Api::all_with(client.clone(), &ar),
        };
        api.patch(&name, &params, &Patch::Apply(&o))
            .await
            .unwrap_or_else(|e| panic!("{kind} {name}: {e}"));
    }
}

#[test]
fn the_dockerfile_copies_the_binary_build_sh_makes() {
    let docker = read("Dockerfile");
    let build = read("scripts/build.sh");
    let server = read("server/Cargo.toml");
    // build.sh: the release server with the UI embedded, into the target
    // directory's release/ (no CARGO_TARGET_DIR in the image).
    assert!(build.contains("MESHDECK_EMBED_DIST=\"$PWD/dist\" cargo build --release -p meshdeck"));
    assert!(server.contains("[[bin]]\nname = \"meshdeck\""));
    assert!(!docker.contains("CARGO_TARGET_DIR"));
    let workdir = docker
        .lines()
        .find_map(|l| l.strip_prefix("WORKDIR "))
        .expect("a WORKDIR")
        .trim();
    assert!(docker.contains("RUN scripts/setup.sh && scripts/build.sh"));
    let copy = docker
        .lines()
        .find_map(|l| l.strip_prefix("COPY --from=build "))
        .expect("the binary copied from the build stage");
    let source = copy.split_whitespace().next().unwrap();
    assert_eq!(source, format!("{workdir}/target/release/meshdeck"));
    // The final stage: distroless, a non-root user.
    let last = docker.rsplit("\nFROM ").next().unwrap();
    assert!(last.contains(":nonroot"), "{last}");
    assert!(last.contains("USER 65532:65532"));
}
